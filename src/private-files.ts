import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files and directories that only the bot's OS user may read: the database (with its WAL and
 * SHM files), the audit anchor, console attachments and agent state. Modes are set explicitly
 * (chmod after create), so they hold whatever the umask.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` (and missing parents) as 0700 and makes `dir` itself 0700 when it already
 * exists. Only for directories named by the bot for its own use (the outbox, console-output).
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/** What an agent keeps in its state directory: a directory holding only these is the agent's. */
const STATE_ENTRIES = new Set(['state.json', 'outbox', 'runs.log']);

/**
 * An agent's state directory (`--state-dir`, which an operator may point anywhere): created
 * 0700; an existing one is made 0700 only when it is clearly the agent's own (owned by this user,
 * holding nothing but agent state), never a shared directory such as /var/lib. Returns false
 * when it was left open to others (the caller warns).
 */
export function ensureStateDir(dir: string): boolean {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    chmodSync(dir, PRIVATE_DIR_MODE);
    return true;
  }
  if (!openToOthers(dir)) return true;
  const ours =
    statSync(dir).uid === process.getuid?.() && readdirSync(dir).every((e) => STATE_ENTRIES.has(e) || /^state\.json\.\d+\.tmp$/.test(e));
  if (ours) chmodSync(dir, PRIVATE_DIR_MODE);
  return ours;
}

/**
 * Creates the directory that holds `file` when it is missing (0700: it is the bot's own) and
 * leaves an existing one as it is (it may be shared); returns whether it was created.
 */
export function ensureParentDir(file: string): boolean {
  const dir = dirname(file);
  if (existsSync(dir)) return false;
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
  return true;
}

/** Creates `file` empty when missing; makes it 0600 either way. */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}

/** 0600 for each file of `files` that exists. */
export function tightenIfPresent(files: readonly string[]): void {
  for (const f of files) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, PRIVATE_FILE_MODE);
    } catch {
      // not there (yet)
    }
  }
}

/** Whether users other than the owner can read, write or enter `path`. */
export function openToOthers(path: string): boolean {
  try {
    return (statSync(path).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}
