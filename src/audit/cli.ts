import type { Db } from '../store/database';
import { exportAudit, verifyAuditChain } from './audit-log';

/**
 * `npm run admin -- audit verify` and `npm run admin -- audit export [--since DATE]`.
 * `args` are the words after `audit`. Returns the process exit code: 0 on success, 1 when the
 * chain is broken, 2 for a usage error.
 */
export interface AuditCliIo {
  db: Db;
  out: (text: string) => void;
  err: (text: string) => void;
}

export const AUDIT_USAGE = 'usage: audit verify | audit export [--since YYYY-MM-DD[THH:MM:SSZ]]';

export function runAuditCommand(args: readonly string[], io: AuditCliIo): number {
  const [sub, ...rest] = args;
  if (sub === 'verify') {
    if (rest.length > 0) return usage(io, `unexpected argument '${rest[0]}'`);
    const result = verifyAuditChain(io.db);
    if (result.ok) {
      io.out(`audit chain intact: ${result.count} records; head hash ${result.headHash}\n`);
      return 0;
    }
    io.err(`audit chain BROKEN at record ${result.brokenAt}: ${result.reason}\n`);
    return 1;
  }
  if (sub === 'export') {
    let since = new Date(0);
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i]!;
      const eq = /^--since=(.*)$/.exec(a);
      const value = eq ? eq[1] : a === '--since' ? rest[++i] : undefined;
      if (value === undefined) return usage(io, a === '--since' ? '--since needs a date' : `unexpected argument '${a}'`);
      if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(new Date(value).getTime())) {
        return usage(io, `--since must be a date like 2026-01-01, got '${value}'`);
      }
      since = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
    }
    io.out(exportAudit(io.db, since));
    return 0;
  }
  return usage(io, sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`);
}

function usage(io: AuditCliIo, problem: string): number {
  io.err(`${problem}\n${AUDIT_USAGE}\n`);
  return 2;
}
