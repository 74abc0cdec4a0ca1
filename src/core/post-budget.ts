import type { NeutralMessage } from '../messages/model.js';
import type { Logger } from '../log.js';
import type { ChatSink, MessageHandle } from './ports.js';
import { ChatOpsError } from '../errors.js';
import { MAX_POSTS_PER_MESSAGE } from './limits.js';

/**
 * The sink the core hands to everything run for one message: it lets through at most `limit`
 * new messages (posts, thread posts, private replies), so that even allowed statements cannot
 * flood a channel (chat platforms drain posts at about one per second).
 *
 * Past the limit a new message is refused by throwing, exactly as a platform outage would be:
 * every caller already handles that without losing output. A job's status post or results that
 * are refused leave the output unread in the store, the job records what was not posted (its
 * status says so) and Receive-Job shows it; Receive-Job itself marks output read only when it
 * was posted. Edits (`update`) are never refused: they add nothing to the channel (adapters
 * coalesce them), and a status must reach its final state.
 *
 * The first refusal posts one notice in the channel at once (so that a `Receive-Job -Wait`
 * streaming past the limit does not just fall silent); when the message's handling ends,
 * `close` edits that notice to say how many posts were left out. Jobs started by the message
 * may post later (an -AsJob job's state note): those still count, and one refused then is
 * recorded on the job's status like any other post that failed.
 */
export class PostBudget implements ChatSink {
  private used = 0;
  private dropped = 0;
  private closed = false;
  /** The notice, once posted (undefined: not posted, or its post failed). */
  private notice: Promise<MessageHandle | undefined> | undefined;

  constructor(
    private readonly sink: ChatSink,
    private readonly log: Logger,
    private readonly limit: number = MAX_POSTS_PER_MESSAGE,
  ) {}

  async replyPrivately(message: NeutralMessage): Promise<void> {
    this.take();
    await this.sink.replyPrivately(message);
  }

  async post(message: NeutralMessage): Promise<MessageHandle> {
    this.take();
    return this.sink.post(message);
  }

  update(handle: MessageHandle, message: NeutralMessage): Promise<void> {
    return this.sink.update(handle, message);
  }

  async postInThread(parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle> {
    this.take();
    return this.sink.postInThread(parent, message);
  }

  /** Clear-Host: adds nothing to the channel, so it is not counted. */
  get clearScreen(): (() => Promise<void>) | undefined {
    const sink = this.sink;
    return sink.clearScreen === undefined ? undefined : () => sink.clearScreen!();
  }

  /** The sink without the budget, for the message's one terminal error. */
  get unbounded(): ChatSink {
    return this.sink;
  }

  /** The message's handling ended: the notice (if any) now says how many posts were left out. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.notice === undefined) return;
    const final = this.noticeMessage(this.dropped);
    const handle = await this.notice;
    try {
      if (handle) await this.sink.update(handle, final);
      else await this.sink.post(final); // the first try failed: one more, with the count
    } catch (e) {
      this.log.warn('could not post the post-limit notice', { error: String(e) });
    }
  }

  private take(): void {
    if (this.used < this.limit) {
      this.used++;
      return;
    }
    this.dropped++;
    if (this.notice === undefined && !this.closed) {
      // Not awaited here: the caller's post fails now, whatever becomes of the notice.
      this.notice = this.sink.post(this.noticeMessage(undefined)).catch((e: unknown) => {
        this.log.warn('could not post the post-limit notice', { error: String(e) });
        return undefined;
      });
    }
    throw new ChatOpsError('PostLimit', `not posted: the bot answers one message with at most ${this.limit} posts`);
  }

  /** `dropped` undefined: posted when the limit is reached, before the count is known. */
  private noticeMessage(dropped: number | undefined): NeutralMessage {
    const what =
      dropped === undefined
        ? 'what it would post from here on is left out'
        : `${dropped} more post${dropped === 1 ? ' was' : 's were'} left out`;
    const text =
      `This message reached the bot's limit of ${this.limit} posts (a limit of this bot, not of PowerShell): ${what}. ` +
      'Job output that was not shown is kept: Get-Job shows HasMoreData, Receive-Job shows the output.';
    return { blocks: [{ kind: 'text', text }] };
  }
}
