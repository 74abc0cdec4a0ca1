/**
 * Rate-limits edits of one message: at most one send per `intervalMs` per key, the latest
 * content wins, and the last content given is always sent. Slack allows roughly one
 * chat.update per second per message before answering 429.
 *
 * Contract of `update`: the promise settles when this content, or a later one that replaced
 * it, has been sent; it rejects only when the send that carried it failed.
 */
export class UpdateCoalescer<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly send: (key: string, payload: T) => Promise<void>,
    private readonly intervalMs = 1000,
  ) {}

  update(key: string, payload: T): Promise<void> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { lastSentAt: 0, waiters: [] };
      this.entries.set(key, entry);
    }
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.pending = { payload };
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    this.schedule(key, entry);
    return done;
  }

  /** Sends every pending edit now (ignoring the interval) and waits for all sends in flight. */
  async flush(): Promise<void> {
    const work: Promise<unknown>[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.timer) {
        clearTimeout(entry.timer);
        entry.timer = undefined;
        if (!entry.inFlight) this.fire(key, entry);
      }
      if (entry.inFlight) work.push(entry.inFlight.catch(() => undefined));
    }
    await Promise.all(work);
    if ([...this.entries.values()].some((e) => e.pending || e.inFlight)) await this.flush();
  }

  /** Number of keys with an edit waiting or in flight (for tests and shutdown). */
  get busy(): number {
    return [...this.entries.values()].filter((e) => e.pending || e.inFlight).length;
  }

  private schedule(key: string, entry: Entry<T>): void {
    if (entry.inFlight || entry.timer) return; // picked up when the current send or timer ends
    const wait = entry.lastSentAt + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.fire(key, entry);
    } else {
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        this.fire(key, entry);
      }, wait);
    }
  }

  private fire(key: string, entry: Entry<T>): void {
    const pending = entry.pending;
    if (!pending) return;
    entry.pending = undefined;
    const waiters = entry.waiters;
    entry.waiters = [];
    entry.lastSentAt = Date.now();
    entry.inFlight = this.send(key, pending.payload).then(
      () => {
        for (const w of waiters) w.resolve();
      },
      (err: unknown) => {
        for (const w of waiters) w.reject(err);
      },
    );
    void entry.inFlight.finally(() => {
      entry.inFlight = undefined;
      if (entry.pending) {
        this.schedule(key, entry);
      } else {
        // Forget idle keys once the interval has passed, so the map does not grow forever.
        entry.idleTimer = setTimeout(() => {
          if (!entry.pending && !entry.inFlight && this.entries.get(key) === entry) this.entries.delete(key);
        }, this.intervalMs);
        entry.idleTimer.unref();
      }
    });
  }
}

interface Entry<T> {
  lastSentAt: number;
  pending?: { payload: T };
  waiters: Array<{ resolve: () => void; reject: (err: unknown) => void }>;
  inFlight?: Promise<void>;
  timer?: NodeJS.Timeout;
  idleTimer?: NodeJS.Timeout;
}
