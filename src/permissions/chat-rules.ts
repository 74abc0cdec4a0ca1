import type { Db } from '../store/database.js';
import type { PolicyRule } from './policy.js';

/**
 * Rules granted from chat (Grant-ChannelPermission), kept in SQLite table channel_permissions.
 * A row holds the rule as JSON without its id and source; the id is `chat:<row id>`.
 * `PRAGMA data_version` tells whether another connection (another replica, the admin CLI)
 * changed the table since the last read, so the cache stays cheap and correct.
 */
export class ChatRuleStore {
  private cache: PolicyRule[] | undefined;
  private seenVersion = -1;

  constructor(private readonly db: Db) {}

  list(): PolicyRule[] {
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (this.cache === undefined || version !== this.seenVersion) {
      const rows = this.db.prepare('SELECT id, rule, created_by, created_at FROM channel_permissions ORDER BY id').all() as Array<{
        id: number;
        rule: string;
        created_by: string;
        created_at: string;
      }>;
      this.cache = rows.map((r) => ({
        ...(JSON.parse(r.rule) as Omit<PolicyRule, 'id' | 'source'>),
        id: `chat:${r.id}`,
        source: 'chat' as const,
        origin: `granted by ${r.created_by} at ${r.created_at}`,
      }));
      this.seenVersion = version;
    }
    return this.cache;
  }

  add(rule: Omit<PolicyRule, 'id' | 'source' | 'origin'>, by: string): PolicyRule {
    const at = new Date().toISOString();
    const info = this.db
      .prepare('INSERT INTO channel_permissions (rule, created_by, created_at) VALUES (?, ?, ?)')
      .run(JSON.stringify(rule), by, at);
    this.cache = undefined;
    return { ...rule, id: `chat:${Number(info.lastInsertRowid)}`, source: 'chat', origin: `granted by ${by} at ${at}` };
  }

  /** Removes `chat:<n>` (or `<n>`); returns the removed rule, or undefined when there was none. */
  remove(id: string): PolicyRule | undefined {
    const m = /^(?:chat:)?(\d+)$/.exec(id.trim());
    if (!m) return undefined;
    const existing = this.list().find((r) => r.id === `chat:${m[1]}`);
    if (existing === undefined) return undefined;
    this.db.prepare('DELETE FROM channel_permissions WHERE id = ?').run(Number(m[1]));
    this.cache = undefined;
    return existing;
  }
}
