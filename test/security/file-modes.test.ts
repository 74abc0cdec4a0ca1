import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { ensureStateDir } from '../../src/private-files.js';

/**
 * The database (and its WAL and SHM files), the data directory, console attachment files and
 * the embedded agent's state are the bot's alone: 0600 files, 0700 directories, even when the
 * bot is started with umask 000. The real `npm start` entry point, its files checked while it runs.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);
/** undefined when `p` went away meanwhile (an acknowledged outbox file is deleted). */
const modeIfThere = (p: string): number | undefined => {
  try {
    return statSync(p).mode & 0o777;
  } catch {
    return undefined;
  }
};

it('keeps every file of the bot private whatever the umask', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-modes-'));
  dirs.push(dir);
  const data = join(dir, 'data');
  const db = join(data, 'chatops.db');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|JOB|AGENT)_/.test(k)) env[k] = v;
  const child = spawn('sh', ['-c', 'umask 000; exec "$0" --import tsx src/main.ts', process.execPath], {
    cwd: REPO,
    env: { ...env, CHATOPS_DB: db, HUB_LISTEN: '127.0.0.1:0', RUNBOOKS_DIR: join(dir, 'rb') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // Large output: the console writes the whole of it to a file beside the database.
  child.stdin.write('icm localhost -ConfigurationName bash { seq 1 20000 }\n');
  const deadline = Date.now() + 30_000;
  while (!existsSync(join(data, 'console-output')) || readdirSync(join(data, 'console-output')).length === 0) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no console attachment was written:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  try {
    // While the bot runs: the WAL and SHM files exist.
    expect(mode(data)).toBe('700');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) expect(mode(f), f).toBe('600');
    const attachments = join(data, 'console-output');
    expect(mode(attachments)).toBe('700');
    for (const f of readdirSync(attachments)) expect(mode(join(attachments, f)), f).toBe('600');
    const agentState = `${db}.embedded-agent`;
    expect(mode(agentState)).toBe('700');
    const walk = (d: string): Array<{ path: string; dir: boolean }> =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? [{ path: join(d, e.name), dir: true }, ...walk(join(d, e.name))] : [{ path: join(d, e.name), dir: false }],
      );
    for (const { path, dir } of walk(agentState)) {
      const m = modeIfThere(path);
      if (m !== undefined) expect(m.toString(8), path).toBe(dir ? '700' : '600');
    }
    // Everything else the bot put in its data directory (the audit anchor among them).
    for (const { path } of walk(data)) expect((modeIfThere(path) ?? 0) & 0o077, path).toBe(0);
  } finally {
    child.stdin.end();
    await exited;
  }
}, 60_000);

it("tightens an agent state directory only when it is clearly the agent's own", () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-statedir-'));
  dirs.push(dir);
  const fresh = join(dir, 'fresh');
  expect(ensureStateDir(fresh)).toBe(true);
  expect(mode(fresh)).toBe('700');
  const own = join(dir, 'own');
  mkdirSync(join(own, 'outbox'), { recursive: true });
  writeFileSync(join(own, 'state.json'), '{}');
  chmodSync(own, 0o755);
  expect(ensureStateDir(own)).toBe(true);
  expect(mode(own)).toBe('700');
  // A shared directory (here: one holding someone else's files) is left alone, and said so.
  const shared = join(dir, 'shared');
  mkdirSync(join(shared, 'postgresql'), { recursive: true });
  chmodSync(shared, 0o755);
  expect(ensureStateDir(shared)).toBe(false);
  expect(mode(shared)).toBe('755');
});
