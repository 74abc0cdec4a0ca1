import type { ChatSink, MessageHandle } from '../../src/core/ports.js';
import type { Block, JobStatusView, NeutralMessage } from '../../src/messages/model.js';
import { messageToText } from '../../src/messages/plain-text.js';

/**
 * A ChatSink that records everything the core shows: the edge of the world for core tests.
 * `failWhen` makes chosen calls fail as a platform would (rate limit, outage).
 */
export type SinkEvent =
  | { type: 'reply'; message: NeutralMessage; at: number }
  | { type: 'post'; id: string; message: NeutralMessage; at: number }
  | { type: 'update'; id: string; message: NeutralMessage; at: number }
  | { type: 'thread'; id: string; parent: string; message: NeutralMessage; at: number };

export class RecordingSink implements ChatSink {
  readonly events: SinkEvent[] = [];
  private next = 1;
  failWhen?: (type: SinkEvent['type'], message: NeutralMessage) => boolean;
  /** Starts every handle id, so handles of several sinks never collide (as a platform's don't). */
  private readonly idPrefix: string;

  constructor(options: { failWhen?: (type: SinkEvent['type'], message: NeutralMessage) => boolean; idPrefix?: string } = {}) {
    if (options.failWhen) this.failWhen = options.failWhen;
    this.idPrefix = options.idPrefix ?? '';
  }

  private check(type: SinkEvent['type'], message: NeutralMessage): void {
    if (this.failWhen?.(type, message)) throw new Error(`simulated ${type} failure`);
  }

  async replyPrivately(message: NeutralMessage): Promise<void> {
    this.check('reply', message);
    this.events.push({ type: 'reply', message, at: Date.now() });
  }

  async post(message: NeutralMessage): Promise<MessageHandle> {
    this.check('post', message);
    const id = `${this.idPrefix}m${this.next++}`;
    this.events.push({ type: 'post', id, message, at: Date.now() });
    return { id };
  }

  async update(handle: MessageHandle, message: NeutralMessage): Promise<void> {
    this.check('update', message);
    this.events.push({ type: 'update', id: handle.id, message, at: Date.now() });
  }

  async postInThread(parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle> {
    this.check('thread', message);
    const id = `${this.idPrefix}m${this.next++}`;
    this.events.push({ type: 'thread', id, parent: parent.id, message, at: Date.now() });
    return { id };
  }

  /** Private replies (errors, refusals) as text. */
  replies(): string[] {
    return this.events.filter((e) => e.type === 'reply').map((e) => messageToText(e.message));
  }

  /** Blocks of every message posted in the thread under `parentId` (default: the first status). */
  threadBlocks(parentId?: string): Block[] {
    const parent = parentId ?? this.statusPosts()[0]?.id;
    return this.events.flatMap((e) => (e.type === 'thread' && e.parent === parent ? e.message.blocks : []));
  }

  /** Channel posts (not thread replies) as text. */
  posts(): string[] {
    return this.events.filter((e) => e.type === 'post').map((e) => messageToText(e.message));
  }

  /** Blocks of every channel post. */
  postBlocks(): Block[] {
    return this.events.flatMap((e) => (e.type === 'post' ? e.message.blocks : []));
  }

  /** Blocks of every channel post and thread reply (a typed Receive-Job answers in the job's thread). */
  shownBlocks(): Block[] {
    return this.events.flatMap((e) => (e.type === 'post' || e.type === 'thread' ? e.message.blocks : []));
  }

  /** Posts that carry a job status. */
  statusPosts(): Array<{ id: string; status: JobStatusView }> {
    const out: Array<{ id: string; status: JobStatusView }> = [];
    for (const e of this.events) {
      if (e.type !== 'post') continue;
      const b = e.message.blocks.find((x) => x.kind === 'status');
      if (b && b.kind === 'status') out.push({ id: e.id, status: b.status });
    }
    return out;
  }

  /** The latest status drawn for a message (after every edit). */
  latestStatus(id?: string): JobStatusView | undefined {
    const target = id ?? this.statusPosts()[0]?.id;
    let latest: JobStatusView | undefined;
    for (const e of this.events) {
      if ((e.type === 'post' || e.type === 'update') && e.id === target) {
        const b = e.message.blocks.find((x) => x.kind === 'status');
        if (b && b.kind === 'status') latest = b.status;
      }
    }
    return latest;
  }

  /** Everything shown, as plain text, in order. */
  text(): string {
    return this.events.map((e) => messageToText(e.message)).join('\n');
  }

  clear(): void {
    this.events.length = 0;
  }
}
