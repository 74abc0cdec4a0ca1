/**
 * Coalesces edits of one message: at most one edit in flight per message and at least
 * `minIntervalMs` between the starts of two edits; while one waits, a newer content replaces
 * the older (latest wins). The last content asked for is always delivered. `update` resolves
 * when its content, or a newer one that replaced it, is on the message, and rejects with that
 * edit's error, so a caller that awaits learns whether the message shows what it asked for.
 *
 * Discord allows about five edits per five seconds per channel; @discordjs/rest queues and
 * retries on 429 as well, this only keeps a fast-changing status from wasting that budget.
 */
export interface MessageUpdaterOptions {
  minIntervalMs: number;
}

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Slot<P> {
  pending?: { payload: P; waiters: Waiter[] };
  inflight: boolean;
  lastStart: number;
  timer?: NodeJS.Timeout;
}

export class MessageUpdater<P> {
  private readonly slots = new Map<string, Slot<P>>();
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly send: (key: string, payload: P) => Promise<void>,
    private readonly options: MessageUpdaterOptions,
  ) {}

  /** Records that the message was just written (posted), so the first edit keeps the interval. */
  noteSent(key: string): void {
    this.slot(key).lastStart = Date.now();
  }

  update(key: string, payload: P): Promise<void> {
    const slot = this.slot(key);
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      if (slot.pending) {
        slot.pending.payload = payload;
        slot.pending.waiters.push(waiter);
      } else {
        slot.pending = { payload, waiters: [waiter] };
      }
      this.schedule(key, slot);
    });
  }

  /** Resolves when no edit is pending or in flight (used at shutdown). */
  async flush(): Promise<void> {
    while (this.busy()) {
      await new Promise<void>((r) => this.idle.add(r));
    }
  }

  private busy(): boolean {
    for (const s of this.slots.values()) if (s.inflight || s.pending) return true;
    return false;
  }

  private slot(key: string): Slot<P> {
    let s = this.slots.get(key);
    if (!s) {
      s = { inflight: false, lastStart: 0 };
      this.slots.set(key, s);
    }
    return s;
  }

  private schedule(key: string, slot: Slot<P>): void {
    if (slot.inflight || slot.timer || !slot.pending) return;
    const wait = Math.max(0, slot.lastStart + this.options.minIntervalMs - Date.now());
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.run(key, slot);
    }, wait);
  }

  private async run(key: string, slot: Slot<P>): Promise<void> {
    const job = slot.pending;
    if (!job) return;
    slot.pending = undefined;
    slot.inflight = true;
    slot.lastStart = Date.now();
    try {
      await this.send(key, job.payload);
      for (const w of job.waiters) w.resolve();
    } catch (e) {
      for (const w of job.waiters) w.reject(e);
    } finally {
      slot.inflight = false;
    }
    if (slot.pending) this.schedule(key, slot);
    else {
      // Forget an idle message once its interval has passed; the map stays as small as the
      // set of messages being edited right now.
      setTimeout(() => {
        if (!slot.pending && !slot.inflight && !slot.timer && this.slots.get(key) === slot) this.slots.delete(key);
      }, this.options.minIntervalMs).unref();
    }
    if (!this.busy()) {
      for (const r of this.idle) r();
      this.idle.clear();
    }
  }
}
