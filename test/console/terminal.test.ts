import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

/**
 * The interactive console in a real terminal: `script` (util-linux) runs the real entry point
 * on a pseudo-terminal, and the test types into it as a user would. Ctrl-C (the byte 0x03 on
 * the terminal) while a command runs must shut the bot down promptly and cleanly, not wait
 * unseen until the command ends.
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

it('Ctrl-C in the terminal while a command runs stops the bot at once and kills the script', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-tty-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
  }
  const main = `${process.execPath} --import tsx ${join(REPO, 'src', 'main.ts')}`;
  const child = spawn('script', ['-qfec', main, '/dev/null'], {
    cwd: REPO,
    env: {
      ...env,
      CHATOPS_DB: join(dir, 'chatops.db'),
      HUB_LISTEN: '127.0.0.1:0',
      RUNBOOKS_DIR: join(dir, 'rb'),
      LOG_LEVEL: 'warn',
      TERM: 'dumb',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 30_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await until(() => out.includes('PS chatops>'), 'the prompt');
  const marker = `sleep ${50 + Math.floor(Math.random() * 1000) / 1000}`;
  child.stdin.write(`icm localhost { ${marker} }\r`);
  await until(() => /Running/.test(out) && processesMatching(marker).length > 0, 'the command to run');

  const sentAt = Date.now();
  child.stdin.write('\x03');
  const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000))]);
  if (code === 'hung') child.kill('SIGKILL');
  expect(code, out).toBe(130);
  expect(Date.now() - sentAt).toBeLessThan(10_000);
  expect(out).not.toMatch(/Internal error|unhandled|not open|at .*\.ts:\d+/i);
  await new Promise((r) => setTimeout(r, 200));
  expect(processesMatching(marker)).toEqual([]);
}, 60_000);
