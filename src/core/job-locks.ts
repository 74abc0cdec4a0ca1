/**
 * One async lock per key (a job id). Receiving output is read → post → mark read, with awaits
 * in between; two receivers of one job at once (two Receive-Jobs, a Receive-Job -Wait flush and
 * a Receive-Job, a synchronous Invoke-Command's results) would each show the same unread output.
 * Holding the job's lock around the three steps makes the second one see what the first left.
 *
 * FIFO per key; a key's entry is dropped when nobody holds or waits for it. Not re-entrant:
 * never take a job's lock while holding it.
 */
export class JobLocks {
  private readonly tails = new Map<number, Promise<void>>();

  /** Runs `fn` once every earlier holder of `key` is done; releases on return and on throw. */
  async withLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  /** Whether someone holds or waits for `key` (for tests and diagnostics). */
  isLocked(key: number): boolean {
    return this.tails.has(key);
  }
}
