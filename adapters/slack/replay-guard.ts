/**
 * Refuses a Slack request seen before. Slack sends each slash command and each button press
 * once (unlike Events API deliveries, interactions are never retried) and gives every one a
 * fresh `trigger_id`; a second request with the same trigger_id is a captured request sent
 * again. Bolt's signature check already refuses anything older than five minutes, so
 * remembering ids a little longer than that is enough.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs = 10 * 60 * 1000) {}

  /** True the first time `id` is offered within the window. */
  firstSeen(id: string, now = Date.now()): boolean {
    this.prune(now);
    if (this.seen.has(id)) return false;
    this.seen.set(id, now);
    return true;
  }

  private prune(now: number): void {
    // Insertion order is time order: drop from the front until an entry is young enough.
    for (const [id, at] of this.seen) {
      if (now - at < this.windowMs) break;
      this.seen.delete(id);
    }
  }
}
