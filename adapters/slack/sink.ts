import type { webApi } from '@slack/bolt';
import type { ChatSink, MessageHandle } from '../../src/core/ports.js';
import { errorMessage, type NeutralMessage } from '../../src/messages/model.js';
import { ChatOpsError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { renderMessage, type RenderOptions, type SlackMessage, type SlackUpload } from './render.js';
import type { UpdateCoalescer } from './update-coalescer.js';
import type { ChannelAccess } from './channel-access.js';

type WebClient = webApi.WebClient;

/** Posts a JSON body to the interaction's response_url (bolt's `respond`). */
export type RespondFn = (message: {
  response_type: 'ephemeral' | 'in_channel';
  replace_original: boolean;
  text: string;
  blocks: SlackMessage['blocks'];
}) => Promise<unknown>;

export interface SlackSinkContext {
  client: WebClient;
  /** Slack channel id (`C123`), not the platform-qualified one. */
  channelId: string;
  /**
   * Who ran the command: ephemeral replies go to them only. Absent for a sink that follows, after
   * a restart, status messages an earlier bot process posted: nobody is there to reply to.
   */
  userId?: string;
  respond?: RespondFn;
  /** When set, `post` replies in this thread instead of the channel (button presses answer under their message). */
  threadTs?: string;
  coalescer: UpdateCoalescer<StatusEdit>;
  render: RenderOptions;
  log: Logger;
  /** Told when a post fails because the bot cannot post in the channel (checked before commands run). */
  access?: ChannelAccess;
}

export interface StatusEdit {
  channel: string;
  ts: string;
  message: SlackMessage;
}

/**
 * Handle ids are `CHANNEL|TS|THREAD_TS`: everything needed to edit the message or reply under
 * it, so a handle stays usable after the sink that made it is gone (an -AsJob job ends later).
 */
export function encodeHandle(channel: string, ts: string, threadTs?: string): MessageHandle {
  return { id: `${channel}|${ts}|${threadTs ?? ''}` };
}

export function decodeHandle(handle: MessageHandle): { channel: string; ts: string; threadTs?: string } {
  const [channel, ts, threadTs] = handle.id.split('|');
  if (!channel || !ts) throw new ChatOpsError('InvalidMessageHandle', `Not a Slack message handle: ${handle.id}`);
  return threadTs ? { channel, ts, threadTs } : { channel, ts };
}

/** Sends a status edit: the coalescer's `send` for every Slack sink of one adapter. */
export async function sendStatusEdit(client: WebClient, edit: StatusEdit): Promise<void> {
  await callSlack('chat.update', () =>
    client.chat.update({ channel: edit.channel, ts: edit.ts, text: edit.message.text, blocks: edit.message.blocks }),
  );
}

export class SlackChatSink implements ChatSink {
  /** What `post` put up, oldest first (the adapter threads a remote prompt under the last one). */
  readonly posts: MessageHandle[] = [];

  constructor(private readonly ctx: SlackSinkContext) {}

  async replyPrivately(message: NeutralMessage): Promise<void> {
    // Files cannot be ephemeral: long text (help) is shown whole, over as many private messages
    // as it takes, instead of as a preview of a file that could not be attached. (An attachment
    // block, output too large, still shows its preview.)
    const { messages } = renderMessage(message, { ...this.ctx.render, maxInlineCode: Number.POSITIVE_INFINITY });
    const userId = this.ctx.userId;
    if (userId === undefined) {
      // A resumed status never replies privately (core contract); should it, the text is not
      // the channel's to see, so it is logged (masked) instead of posted.
      this.ctx.log.warn('Slack: private reply with no user to send it to; not posted', {
        channel: this.ctx.channelId,
        text: messages.map((m) => m.text).join('\n'),
      });
      return;
    }
    for (const m of messages) {
      if (this.ctx.respond) {
        try {
          await this.ctx.respond({ response_type: 'ephemeral', replace_original: false, text: m.text, blocks: m.blocks });
          continue;
        } catch (err) {
          this.ctx.log.warn('Slack response_url failed; falling back to chat.postEphemeral', { error: describe(err) });
        }
      }
      await callSlack('chat.postEphemeral', () =>
        this.ctx.client.chat.postEphemeral({
          channel: this.ctx.channelId,
          user: userId,
          text: m.text,
          blocks: m.blocks,
          ...(this.ctx.threadTs ? { thread_ts: this.ctx.threadTs } : {}),
        }),
      );
    }
  }

  async post(message: NeutralMessage): Promise<MessageHandle> {
    try {
      const handle = await this.postAll(message, this.ctx.channelId, this.ctx.threadTs);
      this.posts.push(handle);
      return handle;
    } catch (err) {
      // Without its status message nobody in the channel can see the job or what failed: tell
      // the person who ran it (the core keeps the output; Receive-Job shows it).
      const status = message.blocks.find((b) => b.kind === 'status');
      if (status?.kind === 'status') {
        const id = status.status.jobId;
        await this.replyPrivately(
          errorMessage(
            `The status of job ${id} could not be posted (${describe(err)}). Its output is kept: Receive-Job -Id ${id} shows it.`,
          ),
        ).catch(() => undefined);
      }
      throw err;
    }
  }

  async postInThread(parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle> {
    const p = decodeHandle(parent);
    return this.postAll(message, p.channel, p.threadTs ?? p.ts);
  }

  async update(handle: MessageHandle, message: NeutralMessage): Promise<void> {
    const { channel, ts } = decodeHandle(handle);
    // A status message is small; if an edit ever outgrows one message, its first part is shown.
    const first = renderMessage(message, this.ctx.render).messages[0]!;
    await this.ctx.coalescer.update(handle.id, { channel, ts, message: first });
  }

  /** Posts every part of a rendered message; parts after the first and files go in its thread. */
  private async postAll(message: NeutralMessage, channel: string, threadTs: string | undefined): Promise<MessageHandle> {
    const { messages, uploads } = renderMessage(message, this.ctx.render);
    let first: MessageHandle | undefined;
    let thread = threadTs;
    for (const m of messages) {
      const res = await callSlack('chat.postMessage', () =>
        this.ctx.client.chat.postMessage({
          channel,
          text: m.text,
          blocks: m.blocks,
          unfurl_links: false,
          unfurl_media: false,
          ...(thread ? { thread_ts: thread } : {}),
        }),
      ).catch((err: unknown) => {
        this.ctx.access?.noteFailedPost(channel, describe((err as { cause?: unknown }).cause ?? err));
        throw err;
      });
      const ts = res.ts;
      if (!ts) throw new ChatOpsError('SlackApiError', 'Slack chat.postMessage returned no message timestamp');
      first ??= encodeHandle(res.channel ?? channel, ts, threadTs);
      thread ??= ts;
    }
    for (const u of uploads) await this.upload(u, channel, thread!);
    return first!;
  }

  private async upload(u: SlackUpload, channel: string, threadTs: string): Promise<void> {
    await callSlack('files.uploadV2', () =>
      this.ctx.client.files.uploadV2({
        channel_id: channel,
        thread_ts: threadTs,
        file: Buffer.from(u.content, 'utf8'),
        filename: u.filename,
        title: u.title,
      }),
    );
  }
}

/**
 * Runs one Web API call (the client already retried 429s, 5xx and network errors per its
 * retryConfig) and turns a final failure into a ChatOpsError, so the core records what could
 * not be posted.
 */
export async function callSlack<T>(method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const code = describe(err);
    const help = SLACK_ERROR_HELP[code];
    throw new ChatOpsError('SlackApiError', `Slack ${method} failed: ${code}${help ? ` (${help})` : ''}`, { cause: err });
  }
}

/**
 * Said privately instead of running a command from a channel the bot cannot post in (see
 * ChannelAccess): nothing ran, and what to do.
 */
export function cannotPostText(code: string): string {
  const help = SLACK_ERROR_HELP[code];
  return `Nothing was run: the bot cannot post in this channel (${code}${help ? `: ${help}` : ''}).`;
}

/** What a person can do about the Slack errors a new installation meets first. */
const SLACK_ERROR_HELP: Record<string, string> = {
  not_in_channel: "the bot is not a member of this channel: invite it with /invite @chatops (the app's name) and try again",
  channel_not_found: 'the bot cannot see this channel (a private channel it was not invited to?): invite it with /invite',
  is_archived: 'the channel is archived',
  missing_scope: 'the app lacks a scope: reinstall it from adapters/slack/manifest.yml',
};

export function describe(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string; code?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}
