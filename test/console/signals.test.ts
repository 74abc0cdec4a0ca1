import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';

/**
 * Ctrl-C / SIGTERM on the real `npm start` entry point (console channel, embedded agent) while
 * a command is running: the process exits promptly with the signal's conventional code, says
 * nothing alarming, leaves no script process behind, and leaves the database readable with the
 * job in a final state (nothing shown as still Running).
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function processesMatching(marker: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

async function interrupt(signal: 'SIGTERM' | 'SIGINT', expectedCode: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-signal-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
  }
  const db = join(dir, 'chatops.db');
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'main.ts')], {
    cwd: REPO,
    env: { ...env, CHATOPS_DB: db, HUB_LISTEN: '127.0.0.1:0', RUNBOOKS_DIR: join(dir, 'runbooks'), LOG_LEVEL: 'warn' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  // A unique sleep length marks the script's processes. stdin stays open: the bot is busy.
  const seconds = `${40 + Math.floor(Math.random() * 1000) / 1000}`;
  const marker = `sleep ${seconds}`;
  child.stdin.write(`icm localhost { ${marker}; echo never }\n`);
  const deadline = Date.now() + 30_000;
  while (!(/Running/.test(stdout) && processesMatching(marker).length > 0)) {
    if (Date.now() > deadline) throw new Error(`the command never started:\n${stdout}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const sentAt = Date.now();
  child.kill(signal);
  const code = await exited;
  expect(Date.now() - sentAt).toBeLessThan(10_000);
  expect(code).toBe(expectedCode);
  expect(stderr).not.toMatch(/ERROR|Internal error|unhandled|not open|at .*\.ts:\d+/i);
  expect(stdout).not.toMatch(/^never$/m);
  await new Promise((r) => setTimeout(r, 200));
  expect(processesMatching(marker)).toEqual([]);

  const store = new Database(db, { readonly: true });
  try {
    const states = store.prepare('SELECT state FROM jobs').all() as Array<{ state: string }>;
    expect(states.length).toBeGreaterThan(0);
    for (const s of states) expect(s.state).not.toMatch(/^(NotStarted|Running)$/);
  } finally {
    store.close();
  }
}

it('SIGTERM while a command runs shuts down cleanly: exit 143, script killed, job stopped', async () => {
  await interrupt('SIGTERM', 143);
}, 60_000);

it('Ctrl-C (SIGINT) while a command runs shuts down cleanly: exit 130, script killed, job stopped', async () => {
  await interrupt('SIGINT', 130);
}, 60_000);
