import type { webApi } from '@slack/bolt';
import type { Logger } from '../../src/log.js';
import { describe } from './sink.js';

/** Display names from users.info, cached: every command needs one, and users.info is rate limited (Tier 4). */
export class DisplayNames {
  private readonly cache = new Map<string, { name: string; at: number }>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly log: Logger,
    private readonly ttlMs = 60 * 60 * 1000,
  ) {}

  /** Never throws: when Slack cannot say, `fallback` (the payload's user name) or the id is used. */
  async get(userId: string, fallback?: string): Promise<string> {
    const hit = this.cache.get(userId);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.name;
    try {
      const res = await this.client.users.info({ user: userId });
      const u = res.user;
      const name = u?.profile?.display_name || u?.profile?.real_name || u?.real_name || u?.name || fallback || userId;
      this.cache.set(userId, { name, at: Date.now() });
      if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value!);
      return name;
    } catch (err) {
      this.log.warn('Slack users.info failed; using the name from the payload', { user: userId, error: describe(err) });
      return fallback || userId;
    }
  }
}
