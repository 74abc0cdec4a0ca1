import { MessageFlags, RESTJSONErrorCodes, Routes, DiscordAPIError, type REST, type RawFile } from 'discord.js';
import type { ChatSink, MessageHandle } from '../../src/core/ports.js';
import { ChatOpsError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { JobStatusView, NeutralMessage } from '../../src/messages/model.js';
import type { MessageUpdater } from './message-updater.js';
import { renderForEdit, renderMessage, toBody, type DiscordPayload } from './render.js';

/**
 * How one command's output reaches Discord.
 *
 * The interaction is deferred *ephemerally* at once (within Discord's 3 s), so anything the core
 * says privately (a parse error, a refusal) replaces the invoker's "thinking…" and nobody else
 * sees it. Everything public (status, results) is posted as ordinary channel messages with the
 * bot token: they can be edited for as long as the job runs (an interaction token dies after
 * 15 minutes), threads can be started from them, and any later command (a button press, a
 * Receive-Job) can edit them through the handle alone. When the first public message is up, the
 * private "thinking…" is deleted; if the command showed nothing at all, it says "Done".
 *
 * A handle id is `channelId/messageId`, so the core may keep it (in SQLite) and hand it back to
 * any later sink. A thread started from a message has that message's id (a Discord rule).
 *
 * After a restart the core follows on the status messages the previous process left unfinished
 * (`Core.reattach`) through `DiscordSink.reattach(ctx, channelId)`: a sink with no interaction,
 * which edits and posts in threads from the stored handle alone, with the same rendering,
 * updater, thread creation and queues as any other.
 */
export interface SinkContext {
  rest: REST;
  applicationId: string;
  updater: MessageUpdater<DiscordPayload>;
  log: Logger;
  /** Thread names by status-message handle id, remembered when the status is posted. */
  threadNames: Map<string, string>;
  /** Thread ids already created, by parent message id, and creations under way. */
  threads: Map<string, Promise<string>>;
  /** One queue per thread, so results appear in the order the core posts them. */
  threadQueues: Map<string, Queue>;
  /** Channels known to be threads (a command typed in a thread): results go in that thread. */
  threadChannels: Map<string, true>;
  threadArchiveMinutes: number;
}

export interface InteractionRef {
  id: string;
  token: string;
}

type OriginalState = 'deferred' | 'used' | 'deleted';

/**
 * Sets `key` in a map kept to `max` entries, dropping the oldest: the maps above only speed
 * things up (a forgotten thread is found again through Discord's 160004 answer).
 */
export function remember<V>(map: Map<string, V>, key: string, value: V, max = 2000): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as string);
}

export function handleId(channelId: string, messageId: string): string {
  return `${channelId}/${messageId}`;
}

export function parseHandle(handle: MessageHandle): { channelId: string; messageId: string } {
  const m = /^(\d+)\/(\d+)$/.exec(handle.id);
  if (!m) throw new ChatOpsError('InvalidHandle', `Not a Discord message handle: ${handle.id}`);
  return { channelId: m[1]!, messageId: m[2]! };
}

function files(p: DiscordPayload): RawFile[] | undefined {
  if (p.files.length === 0) return undefined;
  return p.files.map((f, i) => ({
    name: f.name,
    data: f.data,
    key: `files[${i}]`,
    ...(f.contentType ? { contentType: f.contentType } : {}),
  }));
}

/** Serialises calls so messages of one thread or one interaction arrive in order. */
export class Queue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** A result thread's name: the job and its command, within Discord's 100 characters. */
function threadName(status: JobStatusView): string {
  return `Job ${status.jobId} · ${status.command}`.replace(/\s+/g, ' ').slice(0, 100);
}

function statusOf(message: NeutralMessage): JobStatusView | undefined {
  const b = message.blocks.find((x) => x.kind === 'status');
  return b?.kind === 'status' ? b.status : undefined;
}

export class DiscordSink implements ChatSink {
  private original: OriginalState = 'deferred';
  private readonly originalQueue = new Queue();
  /** Public posts of this command that failed (the core keeps their output): said in `finish`. */
  private readonly failedPosts: string[] = [];
  /** What `post` put up, oldest first (the adapter starts a remote prompt's thread from the last one). */
  readonly posts: MessageHandle[] = [];
  /** A sink for a plain message in a remote prompt's thread (see `forThreadMessage`). */
  private threadMessage = false;

  /**
   * `under`: the message whose button was pressed. What the press shows (Receive-Job's output)
   * goes in that message's thread, with the rest of the job's results, not in the channel.
   * `interaction` is undefined only for a reattach sink (see `reattach`).
   */
  constructor(
    private readonly ctx: SinkContext,
    private readonly channelId: string,
    private readonly interaction: InteractionRef | undefined,
    private readonly under?: MessageHandle,
  ) {}

  /**
   * A sink for `Core.reattach` after a restart: `update` and `postInThread` work from a stored
   * handle with the bot token alone. There is no invoker to answer: `replyPrivately` is logged
   * and dropped (said in public it could show what was meant for one person), and `post` is
   * logged and refused (a resumed status never posts a new message; a caller records it as not
   * posted). `channelId` is the channel part of `discord:GUILD/CHANNEL`.
   */
  static reattach(ctx: SinkContext, channelId: string): DiscordSink {
    return new DiscordSink(ctx, channelId, undefined);
  }

  /**
   * A sink for a plain message typed in a remote prompt's thread (`threadId`): there is no
   * interaction, so nothing can be private; what the core would say privately (a refusal, a
   * parse error) is posted in the thread, where the line was typed.
   */
  static forThreadMessage(ctx: SinkContext, threadId: string): DiscordSink {
    const sink = new DiscordSink(ctx, threadId, undefined);
    sink.threadMessage = true;
    return sink;
  }

  /**
   * A sink for what the core says unasked in a channel (a notice): new messages are posted there
   * as a thread message's answers are; nothing is private.
   */
  static forNotices(ctx: SinkContext, channelId: string): DiscordSink {
    return DiscordSink.forThreadMessage(ctx, channelId);
  }

  async replyPrivately(message: NeutralMessage): Promise<void> {
    const interaction = this.interaction;
    if (!interaction && this.threadMessage) {
      await this.post(message);
      return;
    }
    if (!interaction) {
      this.ctx.log.warn('discord: a private reply with no interaction to answer was dropped', { channel: this.channelId });
      return;
    }
    const payloads = renderMessage(message);
    await this.originalQueue.run(async () => {
      for (const p of payloads) {
        if (this.original === 'deferred') {
          await this.ctx.rest.patch(Routes.webhookMessage(this.ctx.applicationId, interaction.token, '@original'), {
            body: toBody(p),
            files: files(p),
            auth: false,
          });
          this.original = 'used';
        } else {
          await this.ctx.rest.post(Routes.webhook(this.ctx.applicationId, interaction.token), {
            body: toBody(p, MessageFlags.Ephemeral),
            files: files(p),
            auth: false,
          });
        }
      }
    });
  }

  async post(message: NeutralMessage): Promise<MessageHandle> {
    if (!this.interaction && !this.threadMessage) {
      this.ctx.log.warn('discord: a reattach sink was asked to post a new message; refused', { channel: this.channelId });
      throw new ChatOpsError('DiscordNoInteraction', 'This Discord sink only follows on messages already posted; it posts no new ones.');
    }
    const status = message.blocks.find((b) => b.kind === 'status');
    let handle: MessageHandle;
    try {
      handle = this.under ? await this.postInThread(this.under, message) : await this.postAll(this.channelId, renderMessage(message));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.failedPosts.push(
        status?.kind === 'status'
          ? `The status of job ${status.status.jobId} could not be posted (${why}). Its output is kept: Receive-Job -Id ${status.status.jobId} shows it.`
          : `A message could not be posted (${why}).`,
      );
      throw e;
    }
    if (status?.kind === 'status') remember(this.ctx.threadNames, handle.id, threadName(status.status));
    this.posts.push(handle);
    this.ctx.updater.noteSent(handle.id);
    void this.dismissThinking();
    return handle;
  }

  async update(handle: MessageHandle, message: NeutralMessage): Promise<void> {
    parseHandle(handle);
    // A status posted by an earlier process: its thread, if started now, gets the usual name.
    const status = statusOf(message);
    if (status && !this.ctx.threadNames.has(handle.id)) remember(this.ctx.threadNames, handle.id, threadName(status));
    await this.ctx.updater.update(handle.id, renderForEdit(message));
  }

  async postInThread(parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle> {
    const threadId = await this.thread(parent);
    let q = this.ctx.threadQueues.get(threadId);
    if (!q) {
      q = new Queue();
      remember(this.ctx.threadQueues, threadId, q);
    }
    return q.run(() => this.postAll(threadId, renderMessage(message)));
  }

  /**
   * After core.handle: if nothing replaced the "thinking…", say the command is done, or, when
   * what it posted could not reach the channel, say that (nobody else can see it failed).
   */
  async finish(): Promise<void> {
    const interaction = this.interaction;
    if (!interaction) return;
    await this.originalQueue.run(async () => {
      if (this.original !== 'deferred') return;
      const content = this.failedPosts.length > 0 ? this.failedPosts.join('\n').slice(0, 2000) : 'Done.';
      await this.ctx.rest.patch(Routes.webhookMessage(this.ctx.applicationId, interaction.token, '@original'), {
        body: toBody({ content, embeds: [], components: [], files: [] }),
        auth: false,
      });
      this.original = 'used';
    });
  }

  private async dismissThinking(): Promise<void> {
    const interaction = this.interaction;
    if (!interaction) return;
    await this.originalQueue.run(async () => {
      if (this.original !== 'deferred') return;
      this.original = 'deleted';
      try {
        await this.ctx.rest.delete(Routes.webhookMessage(this.ctx.applicationId, interaction.token, '@original'), {
          auth: false,
        });
      } catch (e) {
        this.ctx.log.warn('discord: could not remove the deferred reply', { error: String(e) });
      }
    });
  }

  /** Posts every payload; the handle is the first message (the one with the status and buttons). */
  private async postAll(channelId: string, payloads: DiscordPayload[]): Promise<MessageHandle> {
    let first: MessageHandle | undefined;
    for (const p of payloads) {
      const msg = (await this.ctx.rest.post(Routes.channelMessages(channelId), {
        body: toBody(p),
        files: files(p),
      })) as { id: string };
      first ??= { id: handleId(channelId, msg.id) };
    }
    return first!;
  }

  private thread(parent: MessageHandle): Promise<string> {
    const { channelId, messageId } = parseHandle(parent);
    // Threads do not nest: under a status posted in a thread, results follow in that thread.
    if (this.ctx.threadChannels.has(channelId)) return Promise.resolve(channelId);
    let t = this.ctx.threads.get(messageId);
    if (!t) {
      t = this.createThread(channelId, messageId, parent.id);
      remember(this.ctx.threads, messageId, t);
      // A failed creation is not remembered: the next result tries again.
      t.catch(() => this.ctx.threads.delete(messageId));
    }
    return t;
  }

  private async createThread(channelId: string, messageId: string, parentHandleId: string): Promise<string> {
    const name = this.ctx.threadNames.get(parentHandleId) ?? (await this.nameFromMessage(channelId, messageId));
    try {
      const ch = (await this.ctx.rest.post(Routes.threads(channelId, messageId), {
        body: { name, auto_archive_duration: this.ctx.threadArchiveMinutes },
      })) as { id: string };
      return ch.id;
    } catch (e) {
      // Started earlier (before a restart, or by another replica): the thread id is the message id.
      if (e instanceof DiscordAPIError && e.code === RESTJSONErrorCodes.ThreadAlreadyCreatedForMessage) {
        return messageId;
      }
      // The status is itself in a thread (not known here after a restart): stay in it.
      if (e instanceof DiscordAPIError && e.code === RESTJSONErrorCodes.CannotExecuteActionOnThisChannelType) {
        remember(this.ctx.threadChannels, channelId, true);
        return channelId;
      }
      throw e;
    }
  }

  /**
   * The thread name of a status this process neither posted nor redrew (after a restart, a job
   * that ended while no bot ran): the status embed's title (`Job 7 · Job7`), else `Results`.
   */
  private async nameFromMessage(channelId: string, messageId: string): Promise<string> {
    try {
      const msg = (await this.ctx.rest.get(Routes.channelMessage(channelId, messageId))) as { embeds?: Array<{ title?: string }> };
      // The title is Markdown-escaped (renderStatusEmbed); a thread name is plain text.
      const title = msg.embeds?.[0]?.title?.replace(/\\([\\*_~`|>#[\]().-])/g, '$1').slice(0, 100);
      if (title) return title;
    } catch (e) {
      this.ctx.log.warn('discord: could not read a status message to name its thread', { error: String(e) });
    }
    return 'Results';
  }
}

/** Sends an edit produced by the updater: content, embeds and buttons replace the old ones. */
export async function sendEdit(rest: REST, key: string, p: DiscordPayload): Promise<void> {
  const { channelId, messageId } = parseHandle({ id: key });
  await rest.patch(Routes.channelMessage(channelId, messageId), { body: toBody(p), files: files(p) });
}
