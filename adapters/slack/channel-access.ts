import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/log.js';

type WebClient = webApi.WebClient;

/** Slack errors that mean the bot cannot post in the channel at all. */
const CANNOT_POST: ReadonlySet<string> = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

/** A channel found postable is not asked about again for this long. */
const KNOWN_GOOD_MS = 5 * 60_000;
/**
 * Without conversations.info (an app installed before the manifest asked for channels:read, a
 * private channel: groups:read is not asked for) a failed post is remembered this long: commands
 * from that channel are refused up front, and an /invite is noticed again soon after.
 */
const FAILED_POST_MS = 30_000;

/**
 * Whether the bot can post in a channel, asked before a command from it runs: a command whose
 * status and results could not be shown must not run at all (a job nobody in the channel can
 * see or stop). Asks conversations.info (`is_member`, `is_archived`); when Slack cannot tell
 * (missing scope, an outage), the answer of the last failed post to the channel stands for a
 * short while. A failed post also forgets that the channel was found postable (the bot was
 * removed meanwhile).
 */
export class ChannelAccess {
  private readonly good = new Map<string, number>();
  private readonly failed = new Map<string, { code: string; at: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  /** The Slack error code that keeps the bot from posting in `channel`, or undefined (it can, or nobody can tell). */
  async cannotPost(channel: string): Promise<string | undefined> {
    const now = Date.now();
    const checked = this.good.get(channel);
    if (checked !== undefined && now - checked < KNOWN_GOOD_MS) return undefined;
    try {
      const res = await this.client.conversations.info({ channel });
      const c = (res.channel ?? {}) as { is_member?: boolean; is_archived?: boolean };
      // Direct messages carry no is_member: the bot answers where it was asked.
      const code = c.is_archived === true ? 'is_archived' : c.is_member === false ? 'not_in_channel' : undefined;
      if (code === undefined) {
        this.good.set(channel, now);
        this.failed.delete(channel);
      }
      return code;
    } catch (err) {
      const code = slackError(err);
      if (code === 'channel_not_found') return code;
      this.log.debug('Slack: conversations.info could not tell whether the bot may post', { channel, error: code });
      const last = this.failed.get(channel);
      return last !== undefined && now - last.at < FAILED_POST_MS ? last.code : undefined;
    }
  }

  /** A post to `channel` failed with Slack's `code`. */
  noteFailedPost(channel: string, code: string): void {
    if (!CANNOT_POST.has(code)) return;
    this.good.delete(channel);
    this.failed.set(channel, { code, at: Date.now() });
  }
}

function slackError(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}
