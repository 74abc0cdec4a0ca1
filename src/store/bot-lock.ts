import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ChatOpsError } from '../errors.js';
import { ensureParentDir, PRIVATE_FILE_MODE } from '../private-files.js';

/**
 * One bot per database. A second bot on the same database would resume the first one's running
 * jobs as "left over from a restart", kill the embedded agent's scripts and fight over the hub
 * port; so a bot holds a lock for its whole life and a second one refuses to start.
 *
 * The lock is an OS lock, not a file's existence: `<db>.lock` is an empty SQLite database in which
 * the bot keeps a `BEGIN EXCLUSIVE` transaction open. SQLite takes that as a POSIX record lock
 * (fcntl) on the file, which the kernel drops when the process ends however it ends, SIGKILL and
 * crashes included: there is never a stale lock to clean up, no pid to check, no race between
 * two starts (the lock is taken atomically by the kernel). better-sqlite3 is already here, so this
 * needs no new native dependency (Node itself has no flock), and SQLite knows the POSIX trap of
 * closing a second descriptor of a locked file within one process.
 *
 * Who holds it is written beside it, in `<db>.lock.json` (0600: pid, host, start time, hub
 * address), because a locked SQLite file cannot be read by another process. That file is only a
 * description: the lock decides. A crashed bot leaves it behind, and the next bot overwrites it.
 *
 * Two rules keep the lock sound: the lock file is never deleted (a bot blocked on the old file
 * and a bot creating a new one would both "hold" it), and this process never opens it other than
 * through SQLite (closing any descriptor of a file drops the process's POSIX locks on it).
 */

export interface BotLockHolder {
  pid: number;
  host: string;
  /** ISO time the bot started. */
  startedAt: string;
  /** The database file, absolute. */
  database: string;
  /** Where agents dial in, once the hub listens. */
  hub?: string;
}

export interface BotLock {
  /** `<db>.lock`. */
  readonly path: string;
  /** `<db>.lock.json`: who holds the lock. */
  readonly holderPath: string;
  /** Records the hub's address once it listens, for the message a second bot shows. */
  setHub(url: string): void;
  /** Drops the holder file and the lock. Idempotent. */
  release(): void;
}

export function botLockPaths(dbPath: string): { lock: string; holder: string } {
  return { lock: `${dbPath}.lock`, holder: `${dbPath}.lock.json` };
}

/**
 * How long a start waits for the lock before it refuses. A bot that runs holds it for good, so
 * this is not for waiting on a bot; it lets two bots started at the same instant (each briefly
 * reading the file) settle on one winner instead of both refusing.
 */
const LOCK_WAIT_MS = 500;

/**
 * Takes the bot's lock for `dbPath` (not for `:memory:`, which nothing else can open). Throws
 * ChatOpsError `BotAlreadyRunning` naming the running bot when another process holds it, and
 * `BotLockFailed` when the lock file cannot be used at all.
 */
export function takeBotLock(dbPath: string, options: { now?: () => Date } = {}): BotLock {
  const paths = botLockPaths(dbPath);
  const now = options.now ?? (() => new Date());
  let db: Database.Database | undefined;
  try {
    ensureParentDir(dbPath);
    createPrivate(paths.lock);
    db = new Database(paths.lock, { timeout: LOCK_WAIT_MS });
    // No journal file: nothing is ever written, the transaction is only there for its lock.
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db?.close();
    if (isSqliteBusy(e)) {
      throw new ChatOpsError('BotAlreadyRunning', alreadyRunningMessage(dbPath, readHolder(paths.holder), now()), { target: dbPath });
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw new ChatOpsError(
      'BotLockFailed',
      `could not take the bot's lock ${paths.lock}: ${reason}` +
        (isSqliteCode(e, 'SQLITE_NOTADB')
          ? ' (it is not the empty file the bot makes; if no bot is running on this database, delete it)'
          : ''),
      { target: dbPath, cause: e },
    );
  }
  const lockDb = db;
  const holder: BotLockHolder = { pid: process.pid, host: hostname(), startedAt: now().toISOString(), database: resolve(dbPath) };
  try {
    writeHolder(paths.holder, holder);
  } catch (e) {
    lockDb.close();
    throw new ChatOpsError('BotLockFailed', `could not write ${paths.holder}: ${e instanceof Error ? e.message : String(e)}`, {
      target: dbPath,
      cause: e,
    });
  }
  let released = false;
  return {
    path: paths.lock,
    holderPath: paths.holder,
    setHub(url) {
      if (released) return;
      holder.hub = url;
      try {
        writeHolder(paths.holder, holder);
      } catch {
        // Only a description: a bot that runs must not stop over it (a second bot then says
        // `hub not listening yet`); the lock, which is what counts, is held either way.
      }
    },
    release() {
      if (released) return;
      released = true;
      try {
        // The description goes first, while the lock still says it is ours to remove.
        rmSync(paths.holder, { force: true });
      } finally {
        // Closing rolls the empty transaction back and drops the OS lock.
        lockDb.close();
      }
    },
  };
}

/**
 * The line a second bot prints, e.g. `another bot is running on ./data/chatops.db (pid 1234 on
 * host vm since 10:42, hub ws://127.0.0.1:5985); stop it first, or give this one its own CHATOPS_DB`.
 */
export function alreadyRunningMessage(dbPath: string, holder: BotLockHolder | undefined, now: Date): string {
  let who: string;
  if (holder === undefined) {
    // Locked, but not described (yet): a bot in its first instant, or a crashed one's file.
    who = `it holds ${botLockPaths(dbPath).lock}`;
  } else {
    who = `pid ${holder.pid} on host ${holder.host} since ${formatSince(new Date(holder.startedAt), now)}, ${holder.hub ? `hub ${holder.hub}` : 'hub not listening yet'}`;
  }
  return `another bot is running on ${dbPath} (${who}); stop it first, or give this one its own CHATOPS_DB`;
}

/** `10:42` today, `2026-01-05 10:42` on another day (local time, as the operator reads clocks). */
function formatSince(t: Date, now: Date): string {
  if (Number.isNaN(t.getTime())) return 'an unknown time';
  const pad = (n: number): string => String(n).padStart(2, '0');
  const time = `${pad(t.getHours())}:${pad(t.getMinutes())}`;
  const sameDay = t.getFullYear() === now.getFullYear() && t.getMonth() === now.getMonth() && t.getDate() === now.getDate();
  return sameDay ? time : `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${time}`;
}

/**
 * The holder file, when it describes a process that may hold the lock now. One left by a bot
 * that crashed is still there for the instant between the next bot's lock and its own write; a
 * pid that is gone from this host gives it away.
 */
function readHolder(path: string): BotLockHolder | undefined {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Partial<BotLockHolder>;
  if (typeof h.pid !== 'number' || typeof h.host !== 'string' || typeof h.startedAt !== 'string') return undefined;
  if (h.host === hostname() && !processAlive(h.pid)) return undefined;
  return {
    pid: h.pid,
    host: h.host,
    startedAt: h.startedAt,
    database: typeof h.database === 'string' ? h.database : '',
    ...(typeof h.hub === 'string' ? { hub: h.hub } : {}),
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, as another user's process.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Written whole or not at all (a rename), so a second bot never reads half of it. */
function writeHolder(path: string, holder: BotLockHolder): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(holder)}\n`, { mode: PRIVATE_FILE_MODE });
  chmodSync(tmp, PRIVATE_FILE_MODE);
  renameSync(tmp, path);
}

/**
 * Creates the lock file 0600 when it is missing. An existing one is only chmod-ed (by path): it
 * may be locked by another app of this same process, and opening and closing a descriptor of it
 * here would drop that lock.
 */
function createPrivate(path: string): void {
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  chmodSync(path, PRIVATE_FILE_MODE);
}

function isSqliteCode(e: unknown, code: string): boolean {
  return e instanceof Error && (e as Error & { code?: unknown }).code === code;
}

function isSqliteBusy(e: unknown): boolean {
  return isSqliteCode(e, 'SQLITE_BUSY') || isSqliteCode(e, 'SQLITE_LOCKED');
}
