import type { AdminCommand } from '../admin/commands';
import { ChatOpsError } from '../errors';
import { exportAudit, verifyAuditChain } from './audit-log';

/**
 * `npm run admin -- audit verify` (exit 1 when the chain is broken) and
 * `npm run admin -- audit export [--since 2026-01-01]` (JSON lines on stdout).
 */
export const AUDIT_ADMIN_COMMANDS: AdminCommand[] = [
  {
    words: ['audit', 'verify'],
    usage: 'audit verify                           check the audit trail hash chain (exit 1 if broken)',
    flags: {},
    run({ args, db, out }) {
      if (args._.length > 0) throw new ChatOpsError('InvalidArgument', `audit verify takes no arguments, got '${String(args._[0])}'`);
      const result = verifyAuditChain(db);
      if (!result.ok) {
        throw new ChatOpsError('AuditChainBroken', `audit chain BROKEN at record ${result.brokenAt}: ${result.reason}`);
      }
      out(`audit chain intact: ${result.count} records; head hash ${result.headHash}`);
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

/** `2026-01-01` (midnight UTC) or a full ISO time; undefined means from the beginning. */
export function parseSince(value: string | undefined): Date {
  if (value === undefined) return new Date(0);
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(new Date(value).getTime())) {
    throw new ChatOpsError('InvalidArgument', `--since must be a date like 2026-01-01, got '${value}'`);
  }
  return new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
}
