import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import {
  App,
  HTTPReceiver,
  LogLevel,
  SocketModeReceiver,
  type BlockAction,
  type ButtonAction,
  type Logger as BoltLogger,
  type SlashCommand,
  type KnownEventFromType,
  type types,
  type webApi,
} from '@slack/bolt';
import type { Config } from '../../src/config.js';
import type { CommandOutcome, Core, IncomingCommand } from '../../src/core/ports.js';
import { errorMessage, textMessage } from '../../src/messages/model.js';
import { ChatOpsError, isChatOpsError } from '../../src/errors.js';
import { listenError } from '../../src/listen-error.js';
import { createLogger, type Logger } from '../../src/log.js';
import { buttonCommand, commandLine, messageText, parseSlackChannel, slackChannel } from './commands.js';
import { DisplayNames } from './display-names.js';
import { ReplayGuard } from './replay-guard.js';
import { DEFAULT_RENDER_OPTIONS, withoutButton, type RenderOptions } from './render.js';
import {
  cannotPostText,
  decodeHandle,
  describe,
  encodeHandle,
  sendStatusEdit,
  SlackChatSink,
  type RespondFn,
  type StatusEdit,
} from './sink.js';
import { ChannelAccess } from './channel-access.js';
import { UpdateCoalescer } from './update-coalescer.js';
import { freshScope, PROMPT_ENDED_NOTE, PromptThreads, threadLine, type PromptThread } from '../prompt-threads.js';

export { renderMessage, SLACK_LIMITS } from './render.js';
export { escapeCode, escapeMrkdwn } from './escape.js';

export interface SlackAdapterHost {
  core: Core;
  config: Config;
  log?: Logger;
}

export interface SlackAdapterOptions {
  log?: Logger;
  /** Overrides config.slack.host (HTTP mode: the address to bind, SLACK_LISTEN's host). */
  host?: string;
  /** Overrides config.slack.port (HTTP mode); 0 picks a free port, see `port` on the result. */
  port?: number;
  /**
   * Web API retries for 429 (after Retry-After), 5xx and network errors. Default: 5 retries,
   * backing off from 0.5 s to 10 s: a chat user is waiting, so give up within about half a minute.
   */
  retryConfig?: webApi.RetryOptions;
  /** Per-request timeout of Web API calls (ms), so a hung connection counts as a network error. */
  requestTimeoutMs?: number;
  /** Minimum time between two edits of one message (ms). Default 1000, Slack's per-message pace. */
  updateIntervalMs?: number;
  render?: Partial<RenderOptions>;
  /**
   * Socket Mode: how long to wait for a pong, and the unit of the reconnect back-off after Slack
   * closes the connection (it does so routinely with a `disconnect` message). Default 5000.
   */
  socketPingTimeoutMs?: number;
  /** How long `stop` waits for commands still running before it returns (ms). Default 5000. */
  stopTimeoutMs?: number;
}

export interface SlackAdapter {
  mode: 'http' | 'socket';
  /** The bound HTTP port (HTTP mode), useful with port 0. */
  port?: number;
  /** Resolves when every command received so far has been handled and every status edit sent. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_RETRY: webApi.RetryOptions = { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 10_000, randomize: true };

/**
 * Starts the Slack adapter on @slack/bolt: HTTP mode (`/slack/events`, every request checked
 * against the signing secret by bolt's HTTPReceiver: a bad signature or a timestamp older than
 * five minutes gets 401) or Socket Mode when an app token is configured.
 */
export async function startSlackAdapter(host: SlackAdapterHost, options: SlackAdapterOptions = {}): Promise<SlackAdapter> {
  const cfg = host.config.slack;
  if (!cfg) throw new ChatOpsError('InvalidConfig', 'The Slack adapter needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET');
  const log = options.log ?? host.log ?? createLogger(host.config.logLevel);
  log.addSecret(cfg.botToken);
  if (cfg.signingSecret) log.addSecret(cfg.signingSecret);
  if (cfg.appToken) log.addSecret(cfg.appToken);

  const clientOptions: webApi.WebClientOptions = {
    retryConfig: options.retryConfig ?? DEFAULT_RETRY,
    timeout: options.requestTimeoutMs ?? 15_000,
    ...(cfg.apiUrl ? { slackApiUrl: cfg.apiUrl } : {}),
  };
  const logger = boltLogger(log, host.config.logLevel);
  const socketMode = cfg.appToken !== undefined;

  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (socketMode) {
    const socketReceiver = new SocketModeReceiver({
      appToken: cfg.appToken!,
      logger,
      // apps.connections.open is called by the Socket Mode client, which takes its Web API
      // options (slackApiUrl, retries) from here. A copy: that client fills in defaults in place.
      installerOptions: { clientOptions: { ...clientOptions } },
      ...(options.socketPingTimeoutMs !== undefined ? { clientPingTimeout: options.socketPingTimeoutMs } : {}),
    });
    app = new App({ token: cfg.botToken, receiver: socketReceiver, clientOptions, logger, deferInitialization: true });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: cfg.signingSecret,
      endpoints: '/slack/events',
      logger,
      processBeforeResponse: false,
    });
    app = new App({ token: cfg.botToken, receiver, clientOptions, logger, deferInitialization: true });
  }

  const client = app.client;
  const names = new DisplayNames(client, log);
  const access = new ChannelAccess(client, log);
  const coalescer = new UpdateCoalescer<StatusEdit>((_key, edit) => sendStatusEdit(client, edit), options.updateIntervalMs ?? 1000);
  const render: RenderOptions = { ...DEFAULT_RENDER_OPTIONS, ...options.render };
  const inFlight = new Set<Promise<void>>();

  /** Everything a request starts after its ack is tracked, so `settled` and `stop` can wait for it. */
  const track = (work: () => Promise<void>): Promise<void> => {
    const p: Promise<void> = work()
      .catch((err: unknown) => log.error('Slack request handling failed', { error: describe(err) }))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    return p;
  };

  const runOutcome = async (command: IncomingCommand, sink: SlackChatSink): Promise<CommandOutcome> => {
    try {
      return await host.core.handle(command, sink);
    } catch (err) {
      // The core reports user errors itself; reaching here is a bug or an outage.
      log.error('Slack command failed unexpectedly', { channel: command.channel, error: describe(err) });
      const text = isChatOpsError(err) ? err.message : 'The command failed with an internal error; it has been logged.';
      await sink.replyPrivately(errorMessage(text)).catch(() => undefined);
      return { ok: false, jobIds: [] };
    }
  };
  /** True when the command succeeded. */
  const run = async (command: IncomingCommand, sink: SlackChatSink): Promise<boolean> => (await runOutcome(command, sink)).ok;

  // Remote prompts (Enter-PSSession): each lives in the thread of the channel message that
  // announced it (`CHANNEL|THREAD_TS`). Slash commands do not say which thread they were typed
  // in, so lines reach a prompt as plain replies in its thread (message events).
  const prompts = new PromptThreads();
  const threadKey = (channelId: string, ts: string): string => `${channelId}|${ts}`;

  /** After a command typed outside a prompt thread: if it entered a remote prompt, give it its thread. */
  const openPromptThread = async (command: IncomingCommand, outcome: CommandOutcome, sink: SlackChatSink, channelId: string) => {
    if (outcome.prompt === undefined || command.scope === undefined) return;
    const prompt: PromptThread = { channel: command.channel, scope: command.scope, prompt: outcome.prompt };
    try {
      // The core's "[web1]: PS> every line here now runs in ..." is the thread's first message.
      const announced = sink.posts.at(-1) ?? (await sink.post(textMessage(`${outcome.prompt} remote prompt`)));
      const { ts } = decodeHandle(announced);
      prompts.open(threadKey(channelId, ts), prompt);
      await sink.postInThread(
        announced,
        textMessage(
          `${outcome.prompt} Reply in this thread: each message runs in the session, until exit or Exit-PSSession. ` +
            '(Type lines here as plain replies: Slack does not tell the bot which thread a slash command was typed in.)',
        ),
      );
    } catch (err) {
      // Without a thread nobody could reach the prompt: leave it, so its session does not linger.
      log.warn('Slack: could not open the remote prompt thread; leaving the prompt', { channel: channelId, error: describe(err) });
      await runOutcome({ ...command, text: 'Exit-PSSession', source: 'command' }, sink);
    }
  };

  /** A user's reply in a remote prompt's thread: one line run in the session, answered in the thread. */
  const handleThreadMessage = async (teamId: string, message: ThreadMessage, thread: PromptThread): Promise<void> => {
    const key = threadKey(message.channel, message.thread_ts);
    if (prompts.get(key) !== thread) return; // the prompt ended while this line waited its turn
    const sink = sinkFor(message.channel, message.user, undefined, message.thread_ts);
    const displayName = await names.get(message.user);
    const outcome = await runOutcome(
      {
        channel: slackChannel(teamId, message.channel),
        user: { platform: 'slack', userId: message.user, displayName },
        text: threadLine(messageText(message.text)),
        source: 'command',
        scope: thread.scope,
      },
      sink,
    );
    if (outcome.prompt === undefined) {
      prompts.close(key);
      await sink
        .post(textMessage(`The remote prompt ${thread.prompt} has ended: messages in this thread are no longer run.`))
        .catch((err: unknown) => log.warn('Slack: could not say the remote prompt ended', { error: describe(err) }));
    }
  };

  const sinkFor = (channelId: string, userId: string | undefined, respond: RespondFn | undefined, threadTs?: string): SlackChatSink =>
    new SlackChatSink({
      client,
      channelId,
      ...(userId !== undefined ? { userId } : {}),
      ...(respond ? { respond } : {}),
      ...(threadTs ? { threadTs } : {}),
      coalescer,
      render,
      log,
      access,
    });

  const handleSlash = async (kind: 'ps' | 'icm', command: SlashCommand, respond: RespondFn): Promise<void> => {
    const sink = sinkFor(command.channel_id, command.user_id, respond);
    const line = commandLine(kind, command.text ?? '');
    if (line === '') {
      const usage =
        kind === 'ps'
          ? `${cfg.psCommand} <command line>, for example ${cfg.psCommand} Get-Job`
          : `${cfg.icmCommand} -ComputerName web1 { uptime }`;
      await sink.replyPrivately(textMessage(`Usage: ${usage}`));
      return;
    }
    // A job whose status and results the channel cannot see must not start: checked first.
    const blocked = await access.cannotPost(command.channel_id);
    if (blocked !== undefined) {
      log.warn('Slack: command not run, the bot cannot post in the channel', { channel: command.channel_id, error: blocked });
      await sink.replyPrivately(errorMessage(cannotPostText(blocked)));
      return;
    }
    const displayName = await names.get(command.user_id, command.user_name);
    const incoming: IncomingCommand = {
      channel: slackChannel(command.team_id, command.channel_id),
      user: { platform: 'slack', userId: command.user_id, displayName },
      text: line,
      source: 'command',
      // A scope of its own: an Enter-PSSession here enters a prompt that only its thread reaches.
      scope: freshScope(),
    };
    const outcome = await runOutcome(incoming, sink);
    await openPromptThread(incoming, outcome, sink, command.channel_id);
  };

  const handlePress = async (body: BlockAction<ButtonAction>, action: ButtonAction, respond: RespondFn): Promise<void> => {
    const channelId = body.channel?.id;
    const teamId = body.team?.id ?? body.user.team_id;
    if (!channelId || !teamId) {
      log.warn('Slack button press without channel or team ignored', { action: action.action_id });
      return;
    }
    // Whatever the press shows goes in the thread of the message that carried the button.
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    const threadTs = (body.message?.thread_ts as string | undefined) ?? messageTs;
    const sink = sinkFor(channelId, body.user.id, respond, threadTs);
    let command: IncomingCommand;
    try {
      const displayName = await names.get(body.user.id, body.user.name ?? body.user.username);
      command = buttonCommand(teamId, channelId, body.user.id, displayName, action.action_id, action.value);
    } catch (err) {
      log.warn('Slack button press refused', { user: body.user.id, action: action.action_id, error: describe(err) });
      await sink.replyPrivately(errorMessage(describe(err)));
      return;
    }
    const ok = await run(command, sink);
    // Receive-Job (without -Keep) leaves nothing unread: its button has done its work. The
    // press carries the message as the channel shows it; the same message without the button
    // goes through the coalescer, behind any status edit still pending for it.
    const shown = body.message as { text?: string; blocks?: types.KnownBlock[]; thread_ts?: string } | undefined;
    if (ok && action.action_id.startsWith('receive-job') && messageTs && shown?.blocks) {
      const parent = shown.thread_ts && shown.thread_ts !== messageTs ? shown.thread_ts : undefined;
      const edit: StatusEdit = {
        channel: channelId,
        ts: messageTs,
        message: { text: shown.text ?? '', blocks: withoutButton(shown.blocks, action.action_id) },
      };
      await coalescer
        .update(encodeHandle(channelId, messageTs, parent).id, edit)
        .catch((err: unknown) => log.warn('Slack: could not remove the Receive-Job button', { error: describe(err) }));
    }
  };

  const replays = new ReplayGuard();
  app.use(async (args) => {
    const { body, next } = args;
    const trigger = (body as { trigger_id?: unknown }).trigger_id;
    if (typeof trigger === 'string' && !replays.firstSeen(trigger)) {
      log.warn('Slack request refused: replay of an earlier request (same trigger_id)', { trigger });
      const ack = (args as { ack?: () => Promise<void> }).ack;
      if (ack) await ack();
      return;
    }
    await next();
  });

  for (const [name, kind] of [
    [cfg.psCommand, 'ps'],
    [cfg.icmCommand, 'icm'],
  ] as const) {
    app.command(name, async ({ command, ack, respond }) => {
      // Slack wants the ack within 3 s: ack first, then do the work outside the listener.
      await ack();
      void track(() => handleSlash(kind, command, respond as RespondFn));
    });
  }

  app.action<BlockAction<ButtonAction>>(
    { type: 'block_actions', action_id: /^(stop-job|receive-job)(:\d+)?$/ },
    async ({ ack, body, action, respond }) => {
      await ack();
      void track(() => handlePress(body, action, respond as RespondFn));
    },
  );

  // Replies in a remote prompt's thread (message.channels / message.groups events). Everything
  // else (the bot's own posts, edits, other threads, the channel itself) is ignored.
  app.event('message', async ({ event, body }) => {
    const message = threadMessageOf(event);
    if (!message) return;
    const key = threadKey(message.channel, message.thread_ts);
    const thread = prompts.get(key);
    const teamId = (body as { team_id?: string }).team_id ?? message.team;
    if (!thread || !teamId) return;
    void track(() => prompts.run(key, () => handleThreadMessage(teamId, message, thread)));
  });

  app.error(async (err) => {
    log.error('Slack listener error', { error: describe(err) });
  });

  // auth.test: a wrong token or API URL fails here, at start, not at the first command.
  try {
    await app.init();
  } catch (err) {
    throw new ChatOpsError('SlackStartFailed', `Slack refused SLACK_BOT_TOKEN (auth.test: ${describe(err)})`, { cause: err });
  }

  let port: number | undefined;
  // Where SLACK_LISTEN says (127.0.0.1 by default, like the hub): never every interface unasked.
  const listen = { host: options.host ?? cfg.host, port: options.port ?? cfg.port };
  try {
    if (receiver) {
      const server = (await app.start(listen)) as Server;
      port = (server.address() as AddressInfo).port;
      const shown = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
      log.info(`Slack adapter listening on http://${shown}:${port}/slack/events`);
    } else {
      await app.start();
      log.info('Slack adapter connected in Socket Mode');
    }
  } catch (err) {
    await app.stop().catch(() => undefined);
    if (receiver) throw listenError(err, listen.host, listen.port, 'SLACK_LISTEN');
    throw new ChatOpsError(
      'SlackStartFailed',
      `Slack adapter could not open a Socket Mode connection (check SLACK_APP_TOKEN): ${describe(err)}`,
      { cause: err },
    );
  }

  // Status messages an earlier bot process posted in Slack and left unfinished: the core edits
  // them on, and posts the -AsJob note / a synchronous call's results in their threads, through
  // sinks that work from the stored handle (`CHANNEL|TS|THREAD_TS`) and the bot token alone.
  try {
    const picked = host.core.reattach((channel) => {
      const slack = parseSlackChannel(channel);
      return slack ? sinkFor(slack.channelId, undefined, undefined) : undefined;
    });
    log.info(`Slack adapter follows ${picked} status message${picked === 1 ? '' : 's'} left unfinished by an earlier bot process`);
  } catch (err) {
    // A bug, not a reason to refuse commands: those messages stay as last drawn (Get-Job and
    // Receive-Job still show everything).
    log.error('Slack: could not follow the status messages left by an earlier bot process', { error: describe(err) });
  }

  let stopped = false;
  // What the core says unasked (a session its agent closed): in the prompt's thread when it ended
  // a remote prompt, else in the channel.
  const stopNotices = host.core.onNotice((n) => {
    const slack = parseSlackChannel(n.channel);
    if (!slack || stopped) return false;
    let sink: SlackChatSink;
    let message = n.message;
    if (n.scope !== undefined) {
      const found = prompts.byScope(n.scope);
      if (!found) return false;
      const [key, thread] = found;
      if (n.endedPrompt !== undefined) {
        prompts.close(key);
        message = { blocks: [...message.blocks, { kind: 'text', text: PROMPT_ENDED_NOTE }] };
      }
      sink = sinkFor(slack.channelId, undefined, undefined, key.slice(key.indexOf('|') + 1));
      log.info('Slack: a remote prompt ended by itself', { channel: slack.channelId, prompt: thread.prompt });
    } else sink = sinkFor(slack.channelId, undefined, undefined);
    void track(() =>
      sink.post(message).then(
        () => undefined,
        (err: unknown) => log.warn('Slack: could not post a notice', { error: describe(err) }),
      ),
    );
    return true;
  });

  const settled = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
    await coalescer.flush();
  };

  return {
    mode: socketMode ? 'socket' : 'http',
    ...(port !== undefined ? { port } : {}),
    settled,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopNotices();
      await app.stop().catch((err: unknown) => log.warn('Slack receiver stop failed', { error: describe(err) }));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.stopTimeoutMs ?? 5000);
      });
      // Let running commands finish and the last status edits go out, but never hang shutdown
      // on a Slack that does not answer.
      const drained = Promise.all([...inFlight]).then(() => coalescer.flush());
      await Promise.race([drained.catch(() => undefined), timeout]);
      clearTimeout(timer);
    },
  };
}

/** A person's plain message in a thread: the only message events the adapter acts on. */
interface ThreadMessage {
  channel: string;
  user: string;
  text: string;
  thread_ts: string;
  team?: string;
}

function threadMessageOf(event: KnownEventFromType<'message'>): ThreadMessage | undefined {
  // Edits, deletions, joins, files and bot posts carry a subtype (bot_message) or a bot_id; a
  // reply also sent to the channel (thread_broadcast) is still a line typed in the thread.
  if (event.subtype !== undefined && event.subtype !== 'thread_broadcast') return undefined;
  const e = event as { bot_id?: string; user?: string; text?: string; thread_ts?: string; ts: string; channel: string; team?: string };
  if (e.bot_id || !e.user || !e.text || !e.thread_ts || e.thread_ts === e.ts) return undefined;
  return { channel: e.channel, user: e.user, text: e.text, thread_ts: e.thread_ts, ...(e.team ? { team: e.team } : {}) };
}

const LEVELS: Record<Config['logLevel'], LogLevel> = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
};

/** Bolt's logger interface over ours, so bolt's lines are masked and levelled like the rest. */
function boltLogger(log: Logger, level: Config['logLevel']): BoltLogger {
  let current = LEVELS[level];
  const text = (msg: unknown[]): string =>
    msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...m: unknown[]) => log.debug(`slack: ${text(m)}`),
    info: (...m: unknown[]) => log.info(`slack: ${text(m)}`),
    warn: (...m: unknown[]) => log.warn(`slack: ${text(m)}`),
    error: (...m: unknown[]) => log.error(`slack: ${text(m)}`),
    setLevel: (l: LogLevel) => {
      current = l;
    },
    getLevel: () => current,
    setName: () => undefined,
  };
}
