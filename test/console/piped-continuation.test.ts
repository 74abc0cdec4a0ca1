import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { LineJoiner } from '../../adapters/console/continuation.js';
import { REPO } from './pty-console.js';

/**
 * Piped input (`printf ... | npm start`) follows the prompt's rule: lines are joined while the
 * parser finds the input incomplete, and each complete script runs once.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function runPiped(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-piped-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'main.ts')], {
      cwd: REPO,
      env: { ...env, CHATOPS_DB: join(dir, 'chatops.db'), HUB_LISTEN: '127.0.0.1:0', RUNBOOKS_DIR: join(dir, 'rb'), LOG_LEVEL: 'warn' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

it('joins piped lines while the input is incomplete and runs each block as one script', async () => {
  const r = await runPiped(
    [
      'icm localhost {',
      '  echo first-$((2*3))',
      '',
      '  echo second-$((4*4))',
      '}',
      '$note = @"',
      'a here-string',
      '"@',
      'Get-Job |',
      '  Wait-Job',
      '',
    ].join('\n'),
  );
  expect(r.stderr).not.toMatch(/ERROR|Missing|empty pipe/i);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^first-6$/m);
  expect(r.stdout).toMatch(/^second-16$/m);
  // One job: the block ran once, as one script.
  expect(r.stdout).toMatch(/^1\s+Job1\s+RemoteJob\s+Completed/m);
  expect(r.stdout).not.toMatch(/Job3/);
}, 60_000);

it('an unfinished block at the end of the input is reported, not dropped', async () => {
  const r = await runPiped('icm localhost {\n  echo never\n');
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/Missing closing '\}'/);
  expect(r.stdout).not.toMatch(/^never$/m);
}, 60_000);

it('LineJoiner: the parser decides what is incomplete, not bracket counting', () => {
  const j = new LineJoiner();
  expect(j.push("Get-Job -Name '{'")).toBe("Get-Job -Name '{'"); // a brace in a string opens nothing
  expect(j.push('Get-Job `')).toBeUndefined(); // a trailing backtick continues
  expect(j.push('  -Id 1')).toBe('Get-Job `\n  -Id 1');
  expect(j.push('$a = 1,')).toBeUndefined(); // a trailing comma continues
  expect(j.push('2')).toBe('$a = 1,\n2');
  expect(j.push('Get-Job )')).toBe('Get-Job )'); // wrong, but complete: run to report it
  expect(j.push('$x = @(')).toBeUndefined();
  expect(j.end()).toBe('$x = @(');
});
