import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real entry point (`npm start` with no chat configured: the interactive console) on a
 * pseudo-terminal: `script` (util-linux) runs it on a pty and the test types into it, bytes as a
 * terminal sends them (`\r` for Enter, `\t` for Tab, `\x03` for Ctrl-C, `\x1b[A` for Up).
 */

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export const KEY = { enter: '\r', tab: '\t', ctrlC: '\x03', ctrlD: '\x04', up: '\x1b[A' } as const;

export interface PtyConsole {
  /** The data directory (database, history, attachments). */
  dir: string;
  /** Everything the terminal got so far, raw. */
  raw(): string;
  /** The same without control sequences and carriage returns. */
  text(): string;
  type(keys: string): void;
  /** Polls `cond` every 50 ms until it holds; fails with the screen so far after `ms`. */
  until(cond: () => boolean, what: string, ms?: number): Promise<void>;
  /** Resolves with the exit code; `kill` after `ms` if it has not exited by then ('hung'). */
  exit(ms?: number): Promise<number | null | 'hung'>;
  child: ChildProcessWithoutNullStreams;
}

/** Removes terminal control sequences (CSI, OSC) and carriage returns. */
export function plain(raw: string): string {
  return raw
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b\][^\x07]*\x07/g, '')
    .replace(/\r/g, '');
}

export function processesMatching(marker: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

export function startConsole(options: { dir?: string; columns?: number; env?: NodeJS.ProcessEnv } = {}): PtyConsole {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'chatops-tty-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
  }
  const main = `${process.execPath} --import tsx ${join(REPO, 'src', 'main.ts')}`;
  const command = `stty cols ${options.columns ?? 200} rows 40; exec ${main}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: REPO,
    env: {
      ...env,
      CHATOPS_DB: join(dir, 'chatops.db'),
      HUB_LISTEN: '127.0.0.1:0',
      RUNBOOKS_DIR: join(dir, 'rb'),
      LOG_LEVEL: 'warn',
      TERM: 'dumb',
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    dir,
    child,
    raw: () => out,
    text: () => plain(out),
    type: (keys) => void child.stdin.write(keys),
    until: async (cond, what, ms = 30_000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${plain(out)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    exit: async (ms = 15_000) => {
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms))]);
      if (code === 'hung') child.kill('SIGKILL');
      return code;
    },
  };
}

/** How many times `needle` occurs in `haystack`. */
export function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}
