import { ChatOpsError } from '../errors.js';
import { isValidTag, sameTag, SqliteAgentRegistry, withoutTags, withTags } from '../hub/agent-registry.js';
import type { Db } from '../store/database.js';
import type { AdminCommand } from './admin-command.js';

export type { AdminCommand, AdminContext } from './admin-command.js';
import { userInfo } from 'node:os';
import { AUDIT_ADMIN_COMMANDS } from '../audit/admin-commands.js';
import { agentAuditRecord } from '../audit/agent-events.js';
import { SqliteAuditLog } from '../audit/audit-log.js';

/**
 * The admin commands. Adding one is adding an entry here (e.g. `audit verify`).
 */
export const ADMIN_COMMANDS: AdminCommand[] = [
  {
    words: ['token', 'create'],
    usage: 'token create [--ttl 1h] [--uses 1]    print a new agent enrolment token',
    flags: { string: ['ttl', 'uses'] },
    run({ args, db, out }) {
      const ttlMs = parseDuration(String(args.ttl ?? '1h'));
      const usesRaw = String(args.uses ?? '1');
      const uses = /^\d+$/.test(usesRaw) ? Number(usesRaw) : NaN;
      if (!Number.isInteger(uses) || uses < 1 || uses > 1_000_000) {
        throw new ChatOpsError('InvalidArgument', `--uses must be a whole number from 1 to 1000000, got '${usesRaw}'`);
      }
      const token = new SqliteAgentRegistry(db).createToken({ ttlMs, uses });
      // An admin change: recorded with its limits, never with the token.
      new SqliteAuditLog(db).append({
        at: new Date().toISOString(),
        platform: 'admin',
        channel: 'admin',
        user: `os:${osUser()}`,
        command: `token create --ttl ${String(args.ttl ?? '1h')} --uses ${uses}`,
        targets: [],
        decision: 'allowed',
        reason: 'enrolment token created with the admin CLI',
        kind: 'token-created',
      });
      out(token);
      return 0;
    },
  },
  {
    words: ['agent', 'list'],
    usage: 'agent list                             list enrolled agents',
    flags: {},
    run({ args, config, db, out }) {
      if (args._.length > 0) throw new ChatOpsError('InvalidArgument', `agent list takes no arguments, got '${String(args._[0])}'`);
      const agents = new SqliteAgentRegistry(db).list();
      // A running hub touches live agents every heartbeat; an agent still marked online but not
      // seen for two intervals belongs to a hub that stopped or crashed.
      const staleBefore = Date.now() - 2 * config.hub.heartbeatMs - 1000;
      const online = (a: (typeof agents)[number]): boolean => a.online && a.lastSeen !== undefined && Date.parse(a.lastSeen) >= staleBefore;
      if (agents.length === 0) {
        out('No agents are enrolled. Create a token with: npm run admin -- token create');
        return 0;
      }
      const rows = agents.map((a) => [
        a.name,
        online(a) ? 'online' : 'offline',
        a.os,
        a.version,
        a.configurations.map((c) => (c === a.defaultConfiguration ? `${c}*` : c)).join(','),
        a.tags.join(','),
        a.aliases.join(','),
        a.lastSeen ?? '-',
      ]);
      for (const line of formatTable(['NAME', 'STATUS', 'OS', 'VERSION', 'CONFIGURATIONS', 'TAGS', 'ALIASES', 'LAST SEEN'], rows))
        out(line);
      return 0;
    },
  },
  {
    words: ['agent', 'remove'],
    usage: 'agent remove NAME                      remove an agent; a running hub cuts it off at once',
    flags: {},
    run({ args, db, out }) {
      const name = args._[0];
      if (name === undefined || args._.length !== 1) throw new ChatOpsError('InvalidArgument', 'agent remove needs exactly one NAME');
      if (!new SqliteAgentRegistry(db).remove(String(name))) {
        throw new ChatOpsError('AgentNotFound', `There is no enrolled agent named ${String(name)}.`);
      }
      new SqliteAuditLog(db).append(
        agentAuditRecord({
          kind: 'agent-removed',
          agent: String(name),
          decision: 'allowed',
          reason: 'removed with the admin CLI; a running hub cuts it off',
          by: `os:${osUser()}`,
          where: 'admin',
        }),
      );
      out(`Removed agent ${String(name)}. A running hub cuts it off within a second.`);
      return 0;
    },
  },
  {
    words: ['agent', 'tag'],
    usage: 'agent tag NAME KEY=VALUE...            set tags (replacing those keys); rules match them',
    flags: {},
    run({ args, db, out }) {
      const [name, ...tags] = args._.map(String);
      if (name === undefined || tags.length === 0)
        throw new ChatOpsError('InvalidArgument', 'agent tag needs a NAME and at least one KEY=VALUE');
      const bad = tags.find((t) => !isValidTag(t));
      if (bad !== undefined) throw new ChatOpsError('InvalidTag', `tags must be KEY=VALUE without spaces, got '${bad}'`);
      return changeTags(db, out, name, `agent tag ${name} ${tags.join(' ')}`, (current) => withTags(current, tags));
    },
  },
  {
    words: ['agent', 'untag'],
    usage: 'agent untag NAME KEY[=VALUE]...        remove tags: every value of KEY, or that one tag',
    flags: {},
    run({ args, db, out }) {
      const [name, ...keys] = args._.map(String);
      if (name === undefined || keys.length === 0)
        throw new ChatOpsError('InvalidArgument', 'agent untag needs a NAME and at least one KEY');
      const bad = keys.find((k) => (k.includes('=') ? !isValidTag(k) : !/^[^=\s]+$/.test(k)));
      if (bad !== undefined) throw new ChatOpsError('InvalidTag', `give a tag key (role) or a whole tag (role=web), got '${bad}'`);
      const whole = keys.filter((k) => k.includes('='));
      const plain = keys.filter((k) => !k.includes('='));
      return changeTags(db, out, name, `agent untag ${name} ${keys.join(' ')}`, (current) =>
        withoutTags(current, plain).filter((t) => !whole.some((w) => sameTag(w, t))),
      );
    },
  },
  ...AUDIT_ADMIN_COMMANDS,
];

/**
 * Reads the agent's registered tags, applies `change` and stores the result in one transaction,
 * then audits it. A running bot reads tags from SQLite at each permission check, so the change
 * applies from its next command, without a restart.
 */
function changeTags(db: Db, out: (line: string) => void, name: string, command: string, change: (current: string[]) => string[]): number {
  const registry = new SqliteAgentRegistry(db);
  const { before, after } = db.transaction(() => {
    const record = registry.get(name);
    if (record === undefined) throw new ChatOpsError('AgentNotFound', `There is no enrolled agent named ${name}.`);
    return { before: record.tags, after: registry.setTags(record.name, change(record.tags)) };
  })();
  const shown = (tags: string[]): string => (tags.length === 0 ? '(none)' : tags.join(','));
  new SqliteAuditLog(db).append({
    at: new Date().toISOString(),
    platform: 'admin',
    channel: 'admin',
    user: `os:${osUser()}`,
    command,
    targets: [after.name],
    decision: 'allowed',
    reason: `tags of ${after.name} changed with the admin CLI: ${shown(before)} -> ${shown(after.tags)}`,
    kind: 'agent-tags',
  });
  out(`Tags of ${after.name}: ${shown(after.tags)}. A running bot uses them from its next command.`);
  return 0;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** `500ms`, `30s`, `15m`, `1h`, `7d`. */
export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  if (!m || Number(m[1]) <= 0) {
    throw new ChatOpsError('InvalidArgument', `--ttl must be a duration such as 30m, 1h or 7d, got '${text}'`);
  }
  return Number(m[1]) * unit[m[2] as keyof typeof unit];
}

export function formatTable(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}
