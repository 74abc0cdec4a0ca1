import { once } from 'node:events';
import {
  ApplicationCommandOptionType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  GuildMember,
  MessageFlags,
  Routes,
  type AutocompleteInteraction,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
  type Interaction,
  type Message,
  type RESTOptions,
  type User,
} from 'discord.js';
import type { Config } from '../../src/config.js';
import type { CommandOutcome, Core, IncomingCommand, Invoker, MessageHandle } from '../../src/core/ports.js';
import { ChatOpsError, isChatOpsError } from '../../src/errors.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { errorMessage, textMessage } from '../../src/messages/model.js';
import { freshScope, PROMPT_ENDED_NOTE, PromptThreads, threadLine, threadTitle, type PromptThread } from '../prompt-threads.js';
import { commandToLine, registerCommands, type OptionValues } from './commands.js';
import { MessageUpdater } from './message-updater.js';
import { parseButtonId, renderStopConfirmation, type DiscordPayload } from './render.js';
import { DiscordSink, handleId, parseHandle, remember, sendEdit, type SinkContext } from './sink.js';

export interface DiscordAdapterOptions {
  /** Passed to @discordjs/rest (e.g. `retries`, `timeout`, `offset` for fast tests). */
  rest?: Partial<RESTOptions>;
  /** Least time between two edits of one status message; default 1000 ms. */
  minEditIntervalMs?: number;
  /** Auto-archive of result threads in minutes (60, 1440, 4320, 10080); default 1440. */
  threadArchiveMinutes?: 60 | 1440 | 4320 | 10080;
  /** How long to wait for the gateway's READY and guilds at start; default 30 s. */
  readyTimeoutMs?: number;
  /**
   * How long `stop` lets started commands finish (a synchronous Invoke-Command runs as long as
   * its job; a restarted bot follows on its status); default 5 s.
   */
  stopGraceMs?: number;
}

export interface DiscordAdapter {
  /** The logged-in discord.js client (for diagnostics and tests). */
  readonly client: Client;
  stop(): Promise<void>;
}

/** `discord:GUILD/CHANNEL`, the platform-qualified channel id the core and the policy use. */
export function discordChannelId(guildId: string, channelId: string): string {
  return `discord:${guildId}/${channelId}`;
}

/** The parts of a channel id made by `discordChannelId`; undefined for any other channel. */
export function parseDiscordChannelId(channel: string): { guildId: string; channelId: string } | undefined {
  const m = /^discord:(\d+)\/(\d+)$/.exec(channel);
  return m ? { guildId: m[1]!, channelId: m[2]! } : undefined;
}

/**
 * Starts the Discord adapter: registers the application commands (guild commands when a guild
 * id is configured, else global), logs in to the gateway, and turns slash commands, button
 * presses and autocomplete requests into calls to the core. Once the bot is ready it has the core
 * follow on the status messages a previous bot process left unfinished in Discord channels
 * (`Core.reattach`). Resolves then.
 */
export async function startDiscordAdapter(
  app: { core: Core; config: Config; log?: Logger },
  options: DiscordAdapterOptions = {},
): Promise<DiscordAdapter> {
  const settings = app.config.discord;
  if (!settings) throw new Error('startDiscordAdapter: config.discord is not set');
  const log = app.log ?? silentLogger;
  log.addSecret(settings.token);
  const { core } = app;

  const client = new Client({
    // GuildMessages and MessageContent (privileged): the lines people type in a remote prompt's
    // thread (Enter-PSSession) are plain messages; without them the bot gets none, or empty ones.
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
    rest: {
      ...(settings.apiUrl ? { api: settings.apiUrl.replace(/\/+$/, '') } : {}),
      ...options.rest,
    },
    allowedMentions: { parse: [] },
  });
  const rest = client.rest;
  rest.setToken(settings.token);

  const updater = new MessageUpdater<DiscordPayload>((key, p) => sendEdit(rest, key, p), {
    minIntervalMs: options.minEditIntervalMs ?? 1000,
  });
  const ctx: SinkContext = {
    rest,
    applicationId: settings.applicationId,
    updater,
    log,
    threadNames: new Map(),
    threads: new Map(),
    threadQueues: new Map(),
    threadChannels: new Map(),
    threadArchiveMinutes: options.threadArchiveMinutes ?? 1440,
  };

  rest.on('rateLimited', (info) =>
    log.warn('discord: rate limited', { route: info.route, retryAfterMs: info.retryAfter, global: info.global }),
  );
  client.on(Events.Warn, (m) => log.warn(`discord: ${m}`));
  client.on(Events.Error, (e) => log.error('discord: client error', { error: String(e) }));
  client.on(Events.ShardResume, (id, replayed) => log.info('discord: gateway session resumed', { shard: id, replayed }));
  client.on(Events.ShardReconnecting, (id) => log.info('discord: gateway reconnecting', { shard: id }));

  const inflight = new Set<Promise<void>>();
  let stopping = false;
  client.on(Events.InteractionCreate, (interaction) => {
    if (stopping) return;
    const p = onInteraction(interaction).catch((e) =>
      log.error('discord: interaction failed', { error: e instanceof Error ? e.message : String(e) }),
    );
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  });

  // Remote prompts (Enter-PSSession), by thread id: every message typed there runs in the session.
  const prompts = new PromptThreads();
  client.on(Events.MessageCreate, (m) => {
    if (stopping || m.author.bot || m.author.id === client.user?.id || m.webhookId) return;
    const thread = prompts.get(m.channelId);
    if (!thread || !m.guildId) return;
    const p = prompts
      .run(m.channelId, () => threadMessage(m, thread))
      .catch((e) => log.error('discord: a remote prompt line failed', { error: e instanceof Error ? e.message : String(e) }));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  });

  /** A message typed in a remote prompt's thread: one line run in the session, answered there. */
  async function threadMessage(m: Message, thread: PromptThread): Promise<void> {
    if (prompts.get(m.channelId) !== thread) return; // the prompt ended while this line waited
    const sink = DiscordSink.forThreadMessage(ctx, m.channelId);
    const user = invokerOf(m.author, m.member, m.guildId);
    const outcome = await handle(
      { channel: thread.channel, user, text: threadLine(m.content), source: 'command', scope: thread.scope },
      sink,
    );
    await afterPromptLine(m.channelId, thread, outcome, sink);
  }

  /** Runs a command; an unexpected failure is logged and told to the invoker. */
  async function handle(command: IncomingCommand, sink: DiscordSink): Promise<CommandOutcome> {
    try {
      return await core.handle(command, sink);
    } catch (e) {
      log.error('discord: core.handle failed', { error: e instanceof Error ? e.message : String(e) });
      await sink.replyPrivately(errorMessage('The command failed inside the bot; the log has the details.')).catch(() => undefined);
      return { ok: false, jobIds: [] };
    }
  }

  /** After a line in a prompt thread: if the prompt ended there, the thread says so and is let go. */
  async function afterPromptLine(threadId: string, thread: PromptThread, outcome: CommandOutcome, sink: DiscordSink): Promise<void> {
    if (outcome.prompt !== undefined) return;
    prompts.close(threadId);
    await sink
      .post(textMessage(`The remote prompt ${thread.prompt} has ended: messages in this thread are no longer run.`))
      .catch((e) => log.warn('discord: could not say the remote prompt ended', { error: String(e) }));
  }

  /**
   * After a command typed outside a prompt thread: if it entered a remote prompt, the thread
   * started from its announcement (`[web1]: PS> every line here now runs in ...`), named
   * `[web1]: PS`, is the prompt. Typed in a thread already, that thread is.
   */
  async function openPromptThread(command: IncomingCommand, outcome: CommandOutcome, sink: DiscordSink): Promise<void> {
    if (outcome.prompt === undefined || command.scope === undefined) return;
    const thread: PromptThread = { channel: command.channel, scope: command.scope, prompt: outcome.prompt };
    try {
      const announced = sink.posts.at(-1) ?? (await sink.post(textMessage(`${outcome.prompt} remote prompt`)));
      const { channelId, messageId } = parseHandle(announced);
      let threadId = channelId;
      if (!ctx.threadChannels.has(channelId)) {
        const created = (await rest.post(Routes.threads(channelId, messageId), {
          body: { name: threadTitle(outcome.prompt), auto_archive_duration: ctx.threadArchiveMinutes },
        })) as { id: string };
        threadId = created.id;
        remember(ctx.threads, messageId, Promise.resolve(threadId));
      }
      remember(ctx.threadChannels, threadId, true);
      prompts.open(threadId, thread);
      await DiscordSink.forThreadMessage(ctx, threadId).post(
        textMessage(`${outcome.prompt} Every message in this thread runs in the session (/ps too), until exit or Exit-PSSession.`),
      );
    } catch (e) {
      // Without a thread nobody could reach the prompt: leave it, so its session does not linger.
      log.warn('discord: could not open the remote prompt thread; leaving the prompt', { error: String(e) });
      await handle({ ...command, text: 'Exit-PSSession' }, sink);
    }
  }

  async function onInteraction(i: Interaction): Promise<void> {
    if (i.isAutocomplete()) return autocomplete(i);
    if (i.isChatInputCommand()) return command(i);
    if (i.isButton()) return button(i);
  }

  /**
   * The core's channel: `discord:GUILD/CHANNEL`. A thread belongs to its parent channel's
   * session (a command typed in a results thread sees the channel's jobs and rules); its
   * messages still go to the thread itself.
   */
  function channelOf(i: Interaction): string | undefined {
    if (!i.guildId || !i.channelId) return undefined;
    const ch = i.channel;
    if (ch?.isThread() && ch.parentId) {
      remember(ctx.threadChannels, ch.id, true);
      return discordChannelId(i.guildId, ch.parentId);
    }
    return discordChannelId(i.guildId, i.channelId);
  }

  function invoker(i: Interaction): Invoker {
    return invokerOf(i.user, i.member, i.guildId);
  }

  function invokerOf(user: User, m: Interaction['member'], guildId: string | null): Invoker {
    let roles: string[] = [];
    let displayName = user.globalName ?? user.username;
    if (m instanceof GuildMember) {
      roles = [...m.roles.cache.keys()].filter((r) => r !== guildId);
      displayName = m.displayName;
    } else if (m) {
      roles = [...m.roles];
      displayName = m.nick ?? displayName;
    }
    return { platform: 'discord', userId: user.id, displayName, roles };
  }

  async function autocomplete(i: AutocompleteInteraction): Promise<void> {
    const channel = channelOf(i);
    const focused = i.options.getFocused(true);
    let choices: Array<{ name: string; value: string | number }> = [];
    try {
      if (channel && focused.name === 'computername') {
        // A list is completed item by item: `web1, we` offers `web1, web2`.
        const typed = String(focused.value);
        const cut = typed.lastIndexOf(',');
        const before = cut < 0 ? '' : `${typed.slice(0, cut + 1)} `;
        const prefix = typed.slice(cut + 1).trim();
        const already = new Set(
          typed
            .slice(0, cut + 1)
            .split(',')
            .map((x) => x.trim().toLowerCase()),
        );
        const names = await core.complete(channel, invoker(i), 'computer', prefix);
        choices = names
          .filter((n) => !already.has(n.toLowerCase()))
          .map((n) => before + n)
          .filter((v) => v.length <= 100)
          .map((v) => ({ name: v, value: v }));
      } else if (channel && focused.name === 'id') {
        const ids = await core.complete(channel, invoker(i), 'job', String(focused.value ?? '').trim());
        choices = ids.filter((id) => /^\d+$/.test(id)).map((id) => ({ name: `Job ${id}`, value: Number(id) }));
      }
    } catch (e) {
      log.warn('discord: autocomplete failed', { error: String(e) });
    }
    await i.respond(choices.slice(0, 25));
  }

  /**
   * Runs one line for an interaction. `under`: a press answers in the thread of the status
   * message that carried the button (as on Slack). `updateMessage`: the interaction came from the
   * private Stop/Cancel question, so it is acknowledged by updating that message, which then
   * gives way to the answer (or "Done.") instead of a new "thinking…" under it.
   */
  async function run(
    i: ChatInputCommandInteraction | ButtonInteraction,
    channel: string,
    source: IncomingCommand['source'],
    line: () => string,
    options: { under?: MessageHandle; updateMessage?: boolean } = {},
  ): Promise<boolean> {
    // Acknowledge first: Discord drops an interaction that is not answered within 3 s.
    if (options.updateMessage && i.isButton()) await i.deferUpdate();
    else await i.deferReply({ flags: MessageFlags.Ephemeral });
    const sink = new DiscordSink(ctx, i.channelId!, { id: i.id, token: i.token }, options.under);
    let text: string;
    try {
      text = line();
    } catch (e) {
      if (!isChatOpsError(e)) throw e;
      await sink.replyPrivately(errorMessage(e.message));
      return false;
    }
    // A command typed in a remote prompt's thread runs at that prompt; any other gets a scope of
    // its own, so an Enter-PSSession there enters a prompt only its new thread reaches.
    const thread = source === 'command' ? prompts.get(i.channelId!) : undefined;
    const command: IncomingCommand = { channel, user: invoker(i), text, source, scope: thread?.scope ?? freshScope() };
    const outcome = thread
      ? await prompts.run(i.channelId!, async () => {
          const o = await handle(command, sink);
          await afterPromptLine(i.channelId!, thread, o, sink);
          return o;
        })
      : await handle(command, sink);
    if (!thread) await openPromptThread(command, outcome, sink);
    await sink.finish();
    return outcome.ok;
  }

  async function command(i: ChatInputCommandInteraction): Promise<void> {
    const channel = channelOf(i);
    if (!channel) {
      await i.reply({
        content: 'Use the commands in a server channel.',
        flags: MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds,
        allowedMentions: { parse: [] },
      });
      return;
    }
    await run(i, channel, 'command', () => {
      const sub = i.options.getSubcommand(false);
      return commandToLine(i.commandName, sub, optionValues(i.options.data));
    });
  }

  async function button(i: ButtonInteraction): Promise<void> {
    const channel = channelOf(i);
    const press = parseButtonId(i.customId);
    if (!channel || !press) {
      await i.reply({
        content: 'This button is not one of ours.',
        flags: MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds,
        allowedMentions: { parse: [] },
      });
      return;
    }
    const pressed = { id: handleId(i.message.channelId, i.message.id) };
    switch (press.action) {
      case 'stop-job': {
        // Stopping cannot be undone: the press only asks, privately (only the presser sees it).
        const ask = renderStopConfirmation(press.jobId, i.message.id);
        await i.reply({
          content: ask.content,
          components: ask.components,
          flags: MessageFlags.Ephemeral | MessageFlags.SuppressEmbeds,
          allowedMentions: { parse: [] },
        });
        return;
      }
      case 'cancel-stop-job':
        await i.update({
          content: `Cancelled: job ${press.jobId} was not stopped.`,
          components: [],
          flags: MessageFlags.SuppressEmbeds,
          allowedMentions: { parse: [] },
        });
        return;
      case 'confirm-stop-job':
        // The question is in the channel of the status message it asks about (both answer the
        // same press), so the status is that channel's message with the id the question carries.
        await run(i, channel, 'button', () => `Stop-Job -Id ${press.jobId}`, {
          under: { id: handleId(i.message.channelId, press.statusMessageId) },
          updateMessage: true,
        });
        return;
      case 'receive-job': {
        const ok = await run(i, channel, 'button', () => `Receive-Job -Id ${press.jobId}`, { under: pressed });
        // Receive-Job (without -Keep) leaves nothing unread: its button has done its work. The core
        // drew the status before the output was received, so the button is taken off here.
        if (ok && i.message.author.id === client.user?.id) {
          try {
            await rest.patch(Routes.channelMessage(i.message.channelId, i.message.id), {
              body: { components: [], allowed_mentions: { parse: [] } },
            });
          } catch (e) {
            log.warn('discord: could not remove the Receive-Job button', { error: String(e) });
          }
        }
        return;
      }
    }
  }

  log.info('discord: registering application commands', {
    scope: settings.guildId ? `guild ${settings.guildId}` : 'global',
  });
  try {
    await registerCommands(rest, settings.applicationId, settings.guildId);
  } catch (e) {
    throw explainStartError(e, settings.guildId);
  }

  const ready = once(client, Events.ClientReady);
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  // A gateway that closes for good while starting (a privileged intent not turned on) says why.
  let onClosed: ((event: { code: number }) => void) | undefined;
  const closed = new Promise<never>((_r, reject) => {
    onClosed = (event) => reject(gatewayClosedError(event.code));
    client.once(Events.ShardDisconnect, onClosed);
  });
  try {
    await Promise.race([client.login(settings.token), closed]);
    await Promise.race([
      ready,
      closed,
      new Promise((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`Discord gateway not ready after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    await client.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
    if (onClosed) client.off(Events.ShardDisconnect, onClosed);
  }
  client.on(Events.ShardDisconnect, (event) => log.error('discord: the gateway closed for good', { code: event.code }));
  log.info('discord: connected', { user: client.user?.tag });

  // Handles are `channelId/messageId` and edits and threads need only the bot token, so the
  // statuses an earlier process posted are followed on from here; other adapters' channels are not ours.
  try {
    const picked = core.reattach((channel) => {
      const parts = parseDiscordChannelId(channel);
      return parts ? DiscordSink.reattach(ctx, parts.channelId) : undefined;
    });
    log.info('discord: following on status messages left unfinished by the previous bot process', { count: picked });
  } catch (e) {
    // Commands work without it; those statuses stay as last drawn (Receive-Job still shows all).
    log.error('discord: could not follow on earlier status messages', { error: e instanceof Error ? e.message : String(e) });
  }

  // What the core says unasked (a session its agent closed): in the prompt's thread when it ended
  // a remote prompt, else in the channel.
  const stopNotices = core.onNotice((n) => {
    const parts = parseDiscordChannelId(n.channel);
    if (!parts || stopping) return false;
    let sink: DiscordSink;
    let message = n.message;
    if (n.scope !== undefined) {
      const found = prompts.byScope(n.scope);
      if (!found) return false;
      const [threadId] = found;
      if (n.endedPrompt !== undefined) {
        prompts.close(threadId);
        message = { blocks: [...message.blocks, { kind: 'text', text: PROMPT_ENDED_NOTE }] };
      }
      sink = DiscordSink.forThreadMessage(ctx, threadId);
    } else sink = DiscordSink.forNotices(ctx, parts.channelId);
    const p = sink
      .post(message)
      .then(() => undefined)
      .catch((e) => log.warn('discord: could not post a notice', { error: e instanceof Error ? e.message : String(e) }));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    return true;
  });

  return {
    client,
    async stop() {
      stopping = true;
      stopNotices();
      // Let started commands and pending status edits finish, but never hang shutdown.
      await Promise.race([
        Promise.allSettled([...inflight, updater.flush()]),
        new Promise((r) => setTimeout(r, options.stopGraceMs ?? 5000).unref()),
      ]);
      await client.destroy();
    },
  };
}

/** Close code 4014: an intent the application may not use (a privileged one not turned on). */
const DISALLOWED_INTENTS = 4014;

/** Why the gateway closed for good while the bot started, in words an operator can act on. */
function gatewayClosedError(code: number): ChatOpsError {
  if (code === DISALLOWED_INTENTS) {
    return new ChatOpsError(
      'DiscordIntentsRefused',
      'Discord refused the Message Content intent (gateway close 4014): turn on Bot → Privileged Gateway Intents → ' +
        'Message Content Intent for this application in the Developer Portal, then start again. The bot reads the ' +
        'messages typed in a remote prompt thread (Enter-PSSession) and no others.',
    );
  }
  return new ChatOpsError('DiscordGatewayClosed', `Discord closed the gateway connection for good (close code ${code}).`);
}

/** Start-up failures in words an operator can act on. */
function explainStartError(e: unknown, guildId: string | undefined): unknown {
  if (!(e instanceof DiscordAPIError)) return e;
  if (e.status === 401) {
    return new ChatOpsError('DiscordUnauthorized', 'Discord refused DISCORD_TOKEN (401 Unauthorized): copy the bot token again.', {
      cause: e,
    });
  }
  if (e.status === 403 || e.status === 404) {
    return new ChatOpsError(
      'DiscordCommandsRefused',
      `Discord refused to register the commands (${e.status} ${e.message}): check DISCORD_APPLICATION_ID` +
        (guildId ? ' and that the bot was invited to DISCORD_GUILD_ID with the applications.commands scope.' : '.'),
      { cause: e },
    );
  }
  return e;
}

/** Flattens option data (a subcommand's options included) into name → value. */
function optionValues(data: readonly CommandInteractionOption[]): OptionValues {
  const out: OptionValues = {};
  for (const o of data) {
    if (o.type === ApplicationCommandOptionType.Subcommand || o.type === ApplicationCommandOptionType.SubcommandGroup) {
      Object.assign(out, optionValues(o.options ?? []));
    } else if (typeof o.value === 'string' || typeof o.value === 'number' || typeof o.value === 'boolean') {
      out[o.name] = o.value;
    }
  }
  return out;
}
