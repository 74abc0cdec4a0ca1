import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

/**
 * `printf 'icm localhost { ... }\n' | npm start`: the real entry point in a child process with
 * stdin piped (not a TTY), the embedded agent for this computer, and no chat settings.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `seen`: when each of `watch` first appeared on stdout (ms since the start). */
function runMain(
  input: string,
  watch: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; seen: Map<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-console-'));
  dirs.push(dir);
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
    }
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'main.ts')], {
      cwd: REPO,
      env: {
        ...env,
        CHATOPS_DB: join(dir, 'chatops.db'),
        HUB_LISTEN: '127.0.0.1:0',
        RUNBOOKS_DIR: join(dir, 'runbooks'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const t0 = Date.now();
    const seen = new Map<string, number>();
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      for (const w of watch) if (!seen.has(w) && stdout.includes(w)) seen.set(w, Date.now() - t0);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr, seen }));
    child.stdin.end(input);
  });
}

it('runs each piped line on the embedded agent, prints plain text and exits 0', async () => {
  const r = await runMain('icm localhost { echo "hello from the console"; uname -s }\nGet-Job\n');
  expect(r.stderr).not.toMatch(/ERROR/);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('hello from the console');
  expect(r.stdout).toContain('Linux');
  expect(r.stdout).toMatch(/Job1 \(Id 1\) Completed/);
  expect(r.stdout).toMatch(/Id\s+Name\s+PSJobTypeName\s+State\s+HasMoreData\s+Location\s+Command/);
  expect(r.stdout).not.toMatch(/\x1b\[/); // plain text, no terminal control sequences
}, 60_000);

it('exits non-zero when a command failed, after running every line', async () => {
  const r = await runMain('icm localhost { exit 4 }\nicm localhost { echo still-ran }\n');
  expect(r.code).toBe(1);
  expect(r.stdout).toContain('still-ran');
  expect(r.stdout + r.stderr).toMatch(/exit(ed)? (with )?code 4|exit code 4/);
}, 60_000);

it('keeps the whole of a large output in a file and prints where, since a terminal has no attachments', async () => {
  const r = await runMain('icm localhost { seq 1 3000 }\n');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^1$/m);
  expect(r.stdout).toMatch(/^3000$/m);
  expect(r.stdout).not.toMatch(/^1500$/m);
  const m = /lines cut \(whole output saved to (\S+)\)/.exec(r.stdout);
  expect(m, r.stdout.slice(0, 2000)).not.toBeNull();
  const whole = readFileSync(m![1]!, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  expect(whole).toHaveLength(3000);
  expect(whole[1499]).toBe('1500');
}, 60_000);

it('prints the output of a long synchronous command as it comes, not all at the end', async () => {
  // The lines are built by the script, so the command's own text (shown in the status) does not match.
  const r = await runMain('icm localhost { v=of-two; echo "first-$v"; sleep 5; echo "second-$v" }\n', ['first-of-two', 'second-of-two']);
  expect(r.code).toBe(0);
  const first = r.seen.get('first-of-two');
  const second = r.seen.get('second-of-two');
  expect(first, r.stdout).toBeDefined();
  expect(second, r.stdout).toBeDefined();
  expect(second! - first!).toBeGreaterThanOrEqual(2000);
  // Each line once.
  expect(r.stdout.match(/first-of-two/g)).toHaveLength(1);
  expect(r.stdout.match(/second-of-two/g)).toHaveLength(1);
}, 60_000);
