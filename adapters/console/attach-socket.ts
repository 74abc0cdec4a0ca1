import type { Server } from 'node:net';
import { chmodSync, lstatSync, mkdtempSync, renameSync, rmSync, type Stats, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ChatOpsError } from '../../src/errors.js';
import { PRIVATE_FILE_MODE } from '../../src/private-files.js';

/**
 * Where the console-attach socket lives and the checks that keep it the bot's user's alone
 * (protocol facts in src/protocol/attach-protocol.ts).
 *
 * - Path: `<database>.sock`, beside the database (one bot per database, so one socket per bot).
 * - Directory: owned by this user or root and not world-writable; otherwise anyone could swap
 *   the socket for their own between the bot's bind and a client's connect.
 * - Mode 0600 from the first instant: the socket is bound in a fresh 0700 directory, chmod-ed,
 *   then renamed into place (rename keeps the bound socket), so it is never reachable with the
 *   umask's mode and no process-wide umask is touched.
 * - A socket already at the path is a crashed bot's: the bot holds the database's lock when it
 *   listens (startApp took it), so no live bot can own it; it is replaced by that same atomic
 *   rename. Anything else at the path (a file, a symlink, a directory) is left alone and the
 *   listener is refused.
 * - On shutdown the bot removes the path, only while it is still its own socket (same inode).
 */

/** sun_path holds 108 bytes with its terminating NUL on Linux (104 on macOS). */
const MAX_SOCKET_PATH_BYTES = process.platform === 'linux' ? 107 : 103;

/** The socket of the bot that runs on `dbPath`, absolute. */
export function attachSocketPath(dbPath: string): string {
  return `${resolve(dbPath)}.sock`;
}

/** The identity of a socket file the bot made, to remove only that one. */
export interface SocketFileId {
  dev: number;
  ino: number;
}

function unavailable(message: string, path: string, cause?: unknown): ChatOpsError {
  return new ChatOpsError('AttachUnavailable', message, { target: path, ...(cause !== undefined ? { cause } : {}) });
}

function checkLength(path: string, shown: string): void {
  const n = Buffer.byteLength(path);
  if (n > MAX_SOCKET_PATH_BYTES) {
    throw unavailable(
      `the socket path ${shown} is ${n} bytes, longer than the ${MAX_SOCKET_PATH_BYTES} a Unix socket allows: move CHATOPS_DB to a shorter path`,
      shown,
    );
  }
}

/**
 * Why `dir` may not hold the socket, or undefined when it may: it must be a directory owned by
 * this user or root (root's directories are trusted as the system's) and not world-writable.
 */
export function unsafeDirectory(dir: string): string | undefined {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    return `${dir} cannot be read: ${(e as Error).message}`;
  }
  if (!st.isDirectory()) return `${dir} is not a directory`;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) return `${dir} belongs to uid ${st.uid}, not to this user (uid ${uid})`;
  if ((st.mode & 0o002) !== 0) return `${dir} is world-writable (mode ${octal(st.mode)}): anyone could replace the socket there`;
  return undefined;
}

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * Makes `server` listen at `path` as described above and returns the socket file's identity.
 * Throws ChatOpsError `AttachUnavailable` (the bot runs on without the listener) when the path
 * is unsafe or taken by something other than a socket.
 */
export async function listenPrivate(server: Server, path: string): Promise<SocketFileId> {
  if (process.platform === 'win32') throw unavailable('attaching to a running bot needs a Unix socket (not on Windows)', path);
  const dir = dirname(path);
  checkLength(path, path);
  const unsafe = unsafeDirectory(dir);
  if (unsafe !== undefined) throw unavailable(`will not listen at ${path}: ${unsafe}`, path);
  let existing: Stats | undefined;
  try {
    existing = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw unavailable(`cannot read ${path}: ${(e as Error).message}`, path, e);
  }
  if (existing !== undefined && !existing.isSocket()) {
    throw unavailable(`will not listen at ${path}: something other than a socket is there (remove it if it is not yours)`, path);
  }
  // mkdtemp creates it 0700. Short names: the temporary path must fit in sun_path too.
  const tmpDir = mkdtempSync(join(dir, '.sock-'));
  try {
    const tmpPath = join(tmpDir, 's');
    checkLength(tmpPath, `${tmpPath} (made while binding ${basename(path)})`);
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(tmpPath, () => {
        server.off('error', fail);
        ok();
      });
    });
    try {
      chmodSync(tmpPath, PRIVATE_FILE_MODE);
      // Atomic: a client sees the stale socket or this one, never no socket or an open one.
      renameSync(tmpPath, path);
    } catch (e) {
      server.close();
      throw unavailable(`could not put the socket at ${path}: ${(e as Error).message}`, path, e);
    }
  } catch (e) {
    if (e instanceof ChatOpsError) throw e;
    throw unavailable(`could not listen at ${path}: ${(e as Error).message}`, path, e);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  const st = lstatSync(path);
  return { dev: st.dev, ino: st.ino };
}

/** Removes `path` when it is still the socket `id` (another bot may have replaced it since). */
export function removeSocketFile(path: string, id: SocketFileId): void {
  try {
    const st = lstatSync(path);
    if (st.dev === id.dev && st.ino === id.ino) unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * What a client checks before it connects, so that it never sends commands to a socket that is
 * not its own bot's: a socket, owned by this user, open to nobody else, in a directory nobody
 * else can write. Returns why not, or undefined; `missing` when nothing is there (no bot, or
 * one still starting).
 */
export function unsafeSocketForClient(path: string): { missing: boolean; reason: string } | undefined {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    return { missing, reason: missing ? `no bot is listening at ${path}` : `cannot read ${path}: ${(e as Error).message}` };
  }
  if (!st.isSocket()) return { missing: false, reason: `${path} is not a socket` };
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    return { missing: false, reason: `${path} belongs to uid ${st.uid}, not to you (uid ${uid}): it is not your bot's socket` };
  }
  if ((st.mode & 0o077) !== 0) {
    return { missing: false, reason: `${path} is open to other users (mode ${octal(st.mode)}): it is not a socket the bot made` };
  }
  const dir = unsafeDirectory(dirname(path));
  return dir === undefined ? undefined : { missing: false, reason: dir };
}
