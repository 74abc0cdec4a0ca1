import { createHash } from 'node:crypto';
import type { AuditLog, AuditRecord } from '../core/authorizer';
import type { Db } from '../store/database';
import { maskCommandLine } from './mask';

/**
 * The audit trail: one append-only SQLite table whose rows form a hash chain. Each row stores
 * `hash = sha256(prev_hash + canonicalJson(row))` where the canonical JSON holds every column
 * but the hashes, keys sorted. The first row's prev_hash is 64 zeros. `audit_head` holds the
 * last id and hash, written in the same transaction as the row.
 *
 * What this detects: a row edited, deleted or inserted by anyone who did not also recompute
 * every later hash and the head. Someone with write access to the file can still rewrite the
 * whole chain; export the head hash (`audit verify` prints it) somewhere else to anchor it.
 */

export const GENESIS_HASH = '0'.repeat(64);

export interface StoredAuditRecord extends AuditRecord {
  id: number;
  prevHash: string;
  hash: string;
}

interface Row {
  id: number;
  at: string;
  platform: string;
  channel: string;
  user: string;
  command: string;
  targets: string;
  decision: string;
  reason: string;
  job_id: number | null;
  kind: string;
  prev_hash: string;
  hash: string;
}

export interface SqliteAuditLogOptions {
  /** Secrets known to the process (tokens from config, agent secrets), masked wherever they appear. */
  secrets?: () => Iterable<string>;
}

/** Sorted-key JSON, so the same row always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
    .join(',')}}`;
}

function rowContent(row: Omit<Row, 'prev_hash' | 'hash'>): Record<string, unknown> {
  return {
    id: row.id,
    at: row.at,
    platform: row.platform,
    channel: row.channel,
    user: row.user,
    command: row.command,
    targets: row.targets,
    decision: row.decision,
    reason: row.reason,
    jobId: row.job_id,
    kind: row.kind,
  };
}

export function chainHash(prevHash: string, row: Omit<Row, 'prev_hash' | 'hash'>): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(rowContent(row))).digest('hex');
}

export class SqliteAuditLog implements AuditLog {
  private readonly insert;
  private readonly head;
  private readonly maxId;
  private readonly setHead;
  private readonly appendTx;

  constructor(
    db: Db,
    private readonly options: SqliteAuditLogOptions = {},
  ) {
    this.insert = db.prepare(
      `INSERT INTO audit_log (id, at, platform, channel, user, command, targets, decision, reason, job_id, kind, prev_hash, hash)
       VALUES (@id, @at, @platform, @channel, @user, @command, @targets, @decision, @reason, @job_id, @kind, @prev_hash, @hash)`,
    );
    this.head = db.prepare('SELECT last_id, hash FROM audit_head WHERE one = 1');
    this.maxId = db.prepare('SELECT MAX(id) AS id FROM audit_log');
    this.setHead = db.prepare(
      'INSERT INTO audit_head (one, last_id, hash) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash',
    );
    this.appendTx = db.transaction((record: AuditRecord): number => {
      const head = this.head.get() as { last_id: number; hash: string } | undefined;
      const max = (this.maxId.get() as { id: number | null }).id ?? 0;
      // Ids continue from the head even if rows were cut off the end, so the gap stays visible.
      const id = Math.max(head?.last_id ?? 0, max) + 1;
      const prev = head?.hash ?? GENESIS_HASH;
      const secrets = [...(this.options.secrets?.() ?? [])];
      const row = {
        id,
        at: record.at || new Date().toISOString(),
        platform: record.platform,
        channel: record.channel,
        user: record.user,
        command: maskCommandLine(record.command, secrets),
        targets: JSON.stringify(record.targets),
        decision: record.decision,
        reason: maskCommandLine(record.reason, secrets),
        job_id: record.jobId ?? null,
        kind: record.kind,
      };
      const hash = chainHash(prev, row);
      this.insert.run({ ...row, prev_hash: prev, hash });
      this.setHead.run(id, hash);
      return id;
    });
  }

  /** Appends one record (command line and reason masked); returns its id. */
  append(record: AuditRecord): number {
    // IMMEDIATE: the bot and the admin CLI may append to the same file at once.
    return this.appendTx.immediate(record);
  }
}

function toRecord(row: Row): StoredAuditRecord {
  return {
    id: row.id,
    at: row.at,
    platform: row.platform,
    channel: row.channel,
    user: row.user,
    command: row.command,
    targets: JSON.parse(row.targets) as string[],
    decision: row.decision as AuditRecord['decision'],
    reason: row.reason,
    ...(row.job_id === null ? {} : { jobId: row.job_id }),
    kind: row.kind,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export type AuditVerification =
  | { ok: true; count: number; headHash: string }
  | { ok: false; brokenAt: number; reason: string };

/** Walks the whole chain; the first row that does not fit is reported. */
export function verifyAuditChain(db: Db): AuditVerification {
  let prev = GENESIS_HASH;
  let expectedId = 1;
  let count = 0;
  for (const row of db.prepare('SELECT * FROM audit_log ORDER BY id').iterate() as IterableIterator<Row>) {
    if (row.id !== expectedId) {
      return {
        ok: false,
        brokenAt: row.id,
        reason:
          row.id > expectedId
            ? `row${row.id - expectedId > 1 ? `s ${expectedId}-${row.id - 1} are` : ` ${expectedId} is`} missing (deleted) before row ${row.id}`
            : `row ${row.id} is out of sequence`,
      };
    }
    if (row.prev_hash !== prev) {
      return { ok: false, brokenAt: row.id, reason: `row ${row.id} does not follow the row before it (its prev_hash differs: the row before was edited or replaced)` };
    }
    const { prev_hash: _p, hash: _h, ...content } = row;
    if (chainHash(prev, content) !== row.hash) {
      return { ok: false, brokenAt: row.id, reason: `row ${row.id} was edited (its content does not match its hash)` };
    }
    prev = row.hash;
    expectedId += 1;
    count += 1;
  }
  const head = db.prepare('SELECT last_id, hash FROM audit_head WHERE one = 1').get() as { last_id: number; hash: string } | undefined;
  const lastId = expectedId - 1;
  if (head === undefined) {
    if (count > 0) return { ok: false, brokenAt: lastId, reason: 'the audit head record is missing' };
  } else if (head.last_id !== lastId || head.hash !== prev) {
    return {
      ok: false,
      brokenAt: lastId + 1,
      reason:
        head.last_id > lastId
          ? `rows ${lastId + 1}-${head.last_id} are missing from the end (deleted)`
          : `the audit head (row ${head.last_id}) does not match the last row ${lastId}`,
    };
  }
  return { ok: true, count, headHash: prev };
}

/** Records at or after `since`, oldest first. */
export function readAudit(db: Db, since?: Date): StoredAuditRecord[] {
  const rows = (
    since === undefined
      ? db.prepare('SELECT * FROM audit_log ORDER BY id').all()
      : db.prepare('SELECT * FROM audit_log WHERE at >= ? ORDER BY id').all(since.toISOString())
  ) as Row[];
  return rows.map(toRecord);
}

/** JSON lines, one record per line (with id, prevHash and hash so the chain can be rechecked). */
export function exportAudit(db: Db, since: Date): string {
  return readAudit(db, since)
    .map((r) => JSON.stringify(r) + '\n')
    .join('');
}
