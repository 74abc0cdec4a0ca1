import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { AuditLog, AuditRecord } from '../core/authorizer.js';
import { ChatOpsError } from '../errors.js';
import type { Db } from '../store/database.js';
import { maskCommandLine } from './mask.js';

/**
 * The audit trail: one append-only SQLite table whose rows form a hash chain. Each row stores
 * `hash = sha256(prev_hash + canonicalJson(row))` where the canonical JSON holds every column
 * but the hashes, keys sorted. The first row's prev_hash is 64 zeros. `audit_head` holds the
 * last id and hash, written in the same transaction as the row; triggers refuse UPDATE and
 * DELETE on `audit_log`, and on `audit_head` any write that does not name the last row.
 *
 * The anchor: after each committed append, one line `<id> <hash> <time>` is appended (O_APPEND,
 * so lines from the bot and the admin CLI never mix; they may land out of order) to
 * `<database file>.audit-anchor`, mode 0600. The database can be rewritten from the inside (drop
 * the triggers, recompute every hash and the head); the anchor is a second file that SQL cannot
 * reach, and an anchored hash fixes every row at or before its id.
 *
 * `verifyAuditChain` detects, with the anchor file in place:
 * - a row edited, deleted or inserted (the chain or the head no longer fits);
 * - a row edited and every later hash and the head recomputed (an anchored hash differs);
 * - rows deleted from the end with the head rewritten to match (the anchor names later ids);
 * - both audit tables emptied (the anchor has lines), or emptied in a database that has run
 *   jobs (`job_counters`), or the anchor file deleted while the database has records.
 *
 * What it does not detect: someone who can also rewrite the anchor file (by default the bot's
 * own OS user can). Make the file append-only for that user (`chattr +a`, or ship each line to
 * a log host) and only an appended lie is possible, which cannot hide a deleted record. A forged
 * record added after the last real one with correct hashes (the anchor proves what existed, not
 * that nothing came later). Records newer than the last anchor line (the process stopped between
 * commit and anchor write) can be cut off unseen; verify reports how many there are. Without an
 * anchor file (an in-memory database) only the chain and the head are checked. A database
 * restored from a backup reads as a deleted tail: move the old anchor away (keep it) and run
 * `audit anchor`.
 */

export const GENESIS_HASH = '0'.repeat(64);

export interface StoredAuditRecord extends AuditRecord {
  id: number;
  prevHash: string;
  hash: string;
}

/** One row of the audit_log table as SQLite returns it. */
export interface AuditRow {
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
  /**
   * The anchor file; default `auditAnchorPath(db)` (beside the database file, none for an
   * in-memory one). `null` writes no anchor lines.
   */
  anchorPath?: string | null;
}

const ANCHOR_SUFFIX = '.audit-anchor';
const ANCHOR_LINE = /^(\d+) ([0-9a-f]{64}) (\S+)$/;

/** Where the anchor of this database's audit trail lives: `<file>.audit-anchor`; null in memory. */
export function auditAnchorPath(db: Db): string | null {
  return db.memory || db.name === '' || db.name === ':memory:' ? null : db.name + ANCHOR_SUFFIX;
}

/** Appends one line; a new file gets mode 0600 whatever the umask (the anchor names commands' hashes). */
function appendAnchorLine(path: string, line: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'ax', 0o600);
    try {
      fchmodSync(fd, 0o600);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    fd = openSync(path, 'a');
  }
  try {
    // One write() of a short line with O_APPEND: atomic against the other processes' appends.
    const written = writeSync(fd, line);
    if (written !== Buffer.byteLength(line)) throw new Error(`short write (${written} of ${Buffer.byteLength(line)} bytes)`);
  } finally {
    closeSync(fd);
  }
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

function rowContent(row: Omit<AuditRow, 'prev_hash' | 'hash'>): Record<string, unknown> {
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

export function chainHash(prevHash: string, row: Omit<AuditRow, 'prev_hash' | 'hash'>): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson(rowContent(row)))
    .digest('hex');
}

export class SqliteAuditLog implements AuditLog {
  private readonly anchorPath: string | null;
  private readonly insert;
  private readonly head;
  private readonly maxId;
  private readonly setHead;
  private readonly appendTx;

  constructor(
    private readonly db: Db,
    private readonly options: SqliteAuditLogOptions = {},
  ) {
    this.anchorPath = options.anchorPath === undefined ? auditAnchorPath(db) : options.anchorPath;
    this.insert = db.prepare(
      `INSERT INTO audit_log (id, at, platform, channel, user, command, targets, decision, reason, job_id, kind, prev_hash, hash)
       VALUES (@id, @at, @platform, @channel, @user, @command, @targets, @decision, @reason, @job_id, @kind, @prev_hash, @hash)`,
    );
    this.head = db.prepare('SELECT last_id, hash FROM audit_head WHERE one = 1');
    this.maxId = db.prepare('SELECT MAX(id) AS id FROM audit_log');
    this.setHead = db.prepare(
      'INSERT INTO audit_head (one, last_id, hash) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash',
    );
    this.appendTx = db.transaction((record: AuditRecord): { id: number; hash: string } => {
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
      return { id, hash };
    });
  }

  /**
   * Appends one record (command line and reason masked), then its anchor line; returns its id.
   * Throws AuditAnchorFailed when the row is stored but the anchor cannot be written: callers
   * treat that as an audit failure (a command is not run), as an unanchored trail is weaker.
   */
  append(record: AuditRecord): number {
    // IMMEDIATE: the bot and the admin CLI may append to the same file at once.
    if (this.anchorPath === null || this.db.inTransaction) {
      // Inside a caller's transaction the row may still be rolled back, so it is not anchored
      // here; the next append's line covers it (an anchored hash fixes every row before it).
      return this.appendTx.immediate(record).id;
    }
    // WAL with synchronous=NORMAL syncs at checkpoints only: a power cut could take back a row
    // whose anchor line survived, which would read as a deleted tail. Sync this commit first.
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    if (level < 2) this.db.pragma('synchronous = FULL');
    let row: { id: number; hash: string };
    try {
      row = this.appendTx.immediate(record);
    } finally {
      if (level < 2) this.db.pragma(`synchronous = ${level}`);
    }
    try {
      appendAnchorLine(this.anchorPath, `${row.id} ${row.hash} ${new Date().toISOString()}\n`);
    } catch (e) {
      throw new ChatOpsError(
        'AuditAnchorFailed',
        `Audit record ${row.id} was stored but could not be anchored in ${this.anchorPath}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    return row.id;
  }
}

function toRecord(row: AuditRow): StoredAuditRecord {
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

/** What the anchor file says about an intact chain. */
export interface AuditAnchorStatus {
  path: string;
  /** Anchor lines read (one per anchored record). */
  lines: number;
  /** The highest record id the anchor names (0 when it has no lines yet). */
  anchoredUpTo: number;
  /**
   * Records after `anchoredUpTo`: stored, but their process stopped before writing the anchor
   * line (the next append anchors them). They are the only ones that could be cut off unseen.
   */
  unanchored: number;
}

export type AuditVerification =
  | { ok: true; count: number; headHash: string; anchor: AuditAnchorStatus | null }
  /** `brokenAt` is the first record that does not fit; absent when the anchor itself is unusable. */
  | { ok: false; brokenAt?: number; reason: string };

export interface VerifyAuditOptions {
  /** Default `auditAnchorPath(db)`. `null` checks the chain alone (no anchor, no jobs check). */
  anchorPath?: string | null;
}

type ChainResult = { ok: true; count: number; lastId: number; headHash: string } | { ok: false; brokenAt?: number; reason: string };

/**
 * Walks the whole chain (the first row that does not fit is reported), then holds it against
 * the anchor file: every anchored id must exist with that hash, an anchor with lines needs a
 * non-empty chain, and so does a database that has run jobs.
 */
export function verifyAuditChain(db: Db, options: VerifyAuditOptions = {}): AuditVerification {
  const anchorPath = options.anchorPath === undefined ? auditAnchorPath(db) : options.anchorPath;
  if (anchorPath === null) {
    const chain = db.transaction(() => verifyChain(db))();
    return chain.ok ? { ok: true, count: chain.count, headHash: chain.headHash, anchor: null } : chain;
  }
  let fd: number | undefined;
  try {
    fd = openSync(anchorPath, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { ok: false, reason: `the anchor file ${anchorPath} cannot be read: ${(e as Error).message}` };
    }
  }
  try {
    // The anchor's size first, the database snapshot second: each line within that size was
    // written after its row committed, so the snapshot holds every row those lines name, even
    // while the bot keeps appending.
    const stat = fd === undefined ? undefined : fstatSync(fd);
    if (stat !== undefined && !stat.isFile()) return { ok: false, reason: `the anchor file ${anchorPath} is not a regular file` };
    return db.transaction(() => verifyAgainstAnchor(db, anchorPath, fd, stat?.size))();
  } catch (e) {
    if (!(e instanceof AnchorReadError)) throw e;
    return { ok: false, reason: `the anchor file ${anchorPath} cannot be read: ${e.message}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function verifyAgainstAnchor(db: Db, path: string, fd: number | undefined, size: number | undefined): AuditVerification {
  const chain = verifyChain(db);
  if (!chain.ok) return chain;
  const { count, lastId } = chain;

  if (fd === undefined || size === undefined || size === 0) {
    if (count > 0) {
      return {
        ok: false,
        reason:
          fd === undefined
            ? `the anchor file ${path} is missing, but the database holds ${count} audit records: it was deleted or moved ` +
              '(if this database predates the anchor, start one deliberately with: npm run admin -- audit anchor)'
            : `the anchor file ${path} is empty, but the database holds ${count} audit records: it was truncated`,
      };
    }
    const jobs = jobsRun(db);
    if (jobs > 0) {
      return {
        ok: false,
        brokenAt: 1,
        reason: `the audit trail is empty, but this database has run jobs (ids up to ${jobs}) and every job is audited: the audit tables were wiped`,
      };
    }
    return { ok: true, count, headHash: chain.headHash, anchor: { path, lines: 0, anchoredUpTo: 0, unanchored: 0 } };
  }

  const hashOf = db.prepare('SELECT hash FROM audit_log WHERE id = ?').pluck();
  let lines = 0;
  let anchoredUpTo = 0;
  let mismatch: { id: number; line: number } | undefined;
  let lineNo = 0;
  for (const line of anchorLines(fd, size)) {
    lineNo += 1;
    if (line === '') continue;
    const m = ANCHOR_LINE.exec(line);
    if (!m) {
      return {
        ok: false,
        reason: `line ${lineNo} of the anchor file ${path} is not "<id> <hash> <time>": ${JSON.stringify(line.slice(0, 100))}`,
      };
    }
    const id = Number(m[1]);
    lines += 1;
    anchoredUpTo = Math.max(anchoredUpTo, id);
    // Lines from several processes may be out of order: look each one up, keep the lowest miss.
    if (id <= lastId && hashOf.get(id) !== m[2] && (mismatch === undefined || id < mismatch.id)) mismatch = { id, line: lineNo };
  }
  if (mismatch !== undefined) {
    return {
      ok: false,
      brokenAt: mismatch.id,
      reason:
        `record ${mismatch.id} does not match line ${mismatch.line} of the anchor file ${path}: ` +
        `the chain was rewritten (record ${mismatch.id} or an earlier one changed, and the hashes after it recomputed)`,
    };
  }
  if (anchoredUpTo > lastId) {
    if (count === 0) {
      return {
        ok: false,
        brokenAt: 1,
        reason: `the audit trail is empty, but the anchor file ${path} names ${lines} records up to record ${anchoredUpTo}: the audit tables were wiped`,
      };
    }
    const missing = anchoredUpTo === lastId + 1 ? `record ${anchoredUpTo} is` : `records ${lastId + 1}-${anchoredUpTo} are`;
    return {
      ok: false,
      brokenAt: lastId + 1,
      reason:
        `${missing} missing from the end although the head was rewritten to match: the anchor file ${path} names record ${anchoredUpTo} ` +
        '(or the database was restored from an older copy)',
    };
  }
  return { ok: true, count, headHash: chain.headHash, anchor: { path, lines, anchoredUpTo, unanchored: lastId - anchoredUpTo } };
}

/** The highest job id this database has handed out (the counter survives job retention). */
function jobsRun(db: Db): number {
  const counter = db.prepare("SELECT value FROM job_counters WHERE name = 'job_id'").pluck().get() as number | undefined;
  const maxJob = db.prepare('SELECT MAX(id) FROM jobs').pluck().get() as number | null;
  return Math.max(counter ?? 0, maxJob ?? 0);
}

/** A read of the anchor file failed (told apart from database errors, which are not verdicts). */
class AnchorReadError extends Error {}

/** The anchor's lines up to `size` bytes; an unterminated last fragment is a write in progress. */
function* anchorLines(fd: number, size: number): Generator<string> {
  const buf = Buffer.alloc(64 * 1024);
  let pos = 0;
  let rest = '';
  while (pos < size) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos);
    } catch (e) {
      throw new AnchorReadError(e instanceof Error ? e.message : String(e));
    }
    if (n === 0) break;
    pos += n;
    // latin1: valid lines are ASCII, and a chunk boundary cannot split a character.
    const parts = (rest + buf.toString('latin1', 0, n)).split('\n');
    rest = parts.pop() ?? '';
    yield* parts;
  }
}

/** The hash chain and the head, as stored in the database alone. */
function verifyChain(db: Db): ChainResult {
  let prev = GENESIS_HASH;
  let expectedId = 1;
  let count = 0;
  for (const row of db.prepare('SELECT * FROM audit_log ORDER BY id').iterate() as IterableIterator<AuditRow>) {
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
      return {
        ok: false,
        brokenAt: row.id,
        reason: `row ${row.id} does not follow the row before it (its prev_hash differs: the row before was edited or replaced)`,
      };
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
  return { ok: true, count, lastId, headHash: prev };
}

/** Records at or after `since`, oldest first. */
export function readAudit(db: Db, since?: Date): StoredAuditRecord[] {
  const rows = (
    since === undefined
      ? db.prepare('SELECT * FROM audit_log ORDER BY id').all()
      : db.prepare('SELECT * FROM audit_log WHERE at >= ? ORDER BY id').all(since.toISOString())
  ) as AuditRow[];
  return rows.map(toRecord);
}

/** JSON lines, one record per line (with id, prevHash and hash so the chain can be rechecked). */
export function exportAudit(db: Db, since: Date): string {
  return readAudit(db, since)
    .map((r) => JSON.stringify(r) + '\n')
    .join('');
}
