import { statSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { AdminCommand } from '../admin/admin-command.js';
import { ChatOpsError } from '../errors.js';
import { auditAnchorPath, exportAudit, SqliteAuditLog, verifyAuditChain, type AuditVerification } from './audit-log.js';

/**
 * `npm run admin -- audit verify` (exit 1 when the chain or its anchor file is broken),
 * `npm run admin -- audit anchor` (start an anchor file where there is none) and
 * `npm run admin -- audit export [--since 2026-01-01]` (JSON lines on stdout).
 */
export const AUDIT_ADMIN_COMMANDS: AdminCommand[] = [
  {
    words: ['audit', 'verify'],
    usage: 'audit verify                           check the audit hash chain against its anchor file (exit 1 if broken)',
    flags: {},
    run({ args, db, out }) {
      if (args._.length > 0) throw new ChatOpsError('InvalidArgument', `audit verify takes no arguments, got '${String(args._[0])}'`);
      const result = verifyAuditChain(db);
      if (!result.ok) throw broken(result);
      out(describeAnchor(result));
      // The verdict last, so scripts can read the final line.
      out(`audit chain intact: ${result.count} records; head hash ${result.headHash}`);
      return 0;
    },
  },
  {
    words: ['audit', 'anchor'],
    usage: 'audit anchor                           start the anchor file when there is none (an upgrade, a restored database)',
    flags: {},
    run({ args, db, out }) {
      if (args._.length > 0) throw new ChatOpsError('InvalidArgument', `audit anchor takes no arguments, got '${String(args._[0])}'`);
      const path = auditAnchorPath(db);
      if (path === null) throw new ChatOpsError('InvalidArgument', 'an in-memory database has no audit anchor file');
      // An existing anchor is the evidence verify holds the database against; it is never
      // rewritten. Starting over is a deliberate step: move it away (and keep it) first.
      if (fileSize(path) > 0) {
        throw new ChatOpsError(
          'AuditAnchorExists',
          `the anchor file ${path} already exists; audit verify checks against it. To start a new one (after a restore from backup), move it away and keep it, then run audit anchor again`,
        );
      }
      const chain = verifyAuditChain(db, { anchorPath: null });
      if (!chain.ok) throw broken(chain, ': not anchoring it');
      // Appending a record writes the first anchor line, and leaves a trace of who did it.
      const id = new SqliteAuditLog(db, { anchorPath: path }).append({
        at: new Date().toISOString(),
        platform: 'admin',
        channel: 'admin',
        user: `os:${osUser()}`,
        command: 'audit anchor',
        targets: [],
        decision: 'info',
        reason: `new audit anchor file started with the admin CLI (the chain held ${chain.count} records)`,
        kind: 'audit-anchored',
      });
      out(`audit anchor ${path} started at record ${id}`);
      return 0;
    },
  },
  {
    words: ['audit', 'export'],
    usage: 'audit export [--since 2026-01-01]      print audit records as JSON lines',
    flags: { string: ['since'] },
    run({ args, db, out }) {
      if (args._.length > 0) throw new ChatOpsError('InvalidArgument', `audit export takes no arguments, got '${String(args._[0])}'`);
      const since = parseSince(args.since === undefined ? undefined : String(args.since));
      const text = exportAudit(db, since);
      if (text !== '') out(text.replace(/\n$/, ''));
      return 0;
    },
  },
];

function broken(result: Extract<AuditVerification, { ok: false }>, suffix = ''): ChatOpsError {
  const at = result.brokenAt === undefined ? '' : ` at record ${result.brokenAt}`;
  return new ChatOpsError('AuditChainBroken', `audit chain BROKEN${at}: ${result.reason}${suffix}`);
}

function describeAnchor(result: Extract<AuditVerification, { ok: true }>): string {
  const a = result.anchor;
  if (a === null) return 'audit anchor: none (in-memory database)';
  if (a.lines === 0) return `audit anchor ${a.path}: no lines yet (no records)`;
  const pending =
    a.unanchored === 0
      ? ''
      : `; the newest ${a.unanchored === 1 ? 'record is' : `${a.unanchored} records are`} not anchored yet ` +
        "(stored by a process that stopped before writing the anchor line; the next record's line covers them)";
  return `audit anchor ${a.path}: ${a.lines} line${a.lines === 1 ? '' : 's'}, up to record ${a.anchoredUpTo}${pending}`;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** `2026-01-01` (midnight UTC) or a full ISO time; undefined means from the beginning. */
export function parseSince(value: string | undefined): Date {
  if (value === undefined) return new Date(0);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(new Date(value).getTime())) {
    throw new ChatOpsError('InvalidArgument', `--since must be a date like 2026-01-01, got '${value}'`);
  }
  return new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
}
