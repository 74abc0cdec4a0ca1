import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathWithPwsh } from '../helpers/pwsh.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * The Microsoft.PowerShell executor against real PowerShell 7.6 (installed by
 * scripts/ensure-pwsh.sh when missing, as .ci/run does), through a real agent process: arguments
 * bind to param() with their types, warnings travel as warnings, and pwsh starts from the same
 * fixed environment as every script. And the rule for every test that needs pwsh: it fails when
 * pwsh cannot be had, it never skips.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: [
      {
        name: 'ps1',
        env: { PATH: pathWithPwsh(), SLACK_BOT_TOKEN: 'xoxb-never-seen-by-pwsh' },
        args: ['--configuration', 'Microsoft.PowerShell'],
      },
    ],
  });
}, 120_000);
afterAll(async () => {
  await rt?.stop();
});

it('runs a script block in real pwsh: typed param() binding, warnings, and no bot setting in $env:', async () => {
  const { sink, ok } = await rt.run(
    'icm ps1 -ArgumentList 6,7 { param([int]$a, [int]$b) $a * $b; Write-Warning \'careful\'; "token=[$env:SLACK_BOT_TOKEN]"; $PSVersionTable.PSVersion.ToString() }',
  );
  const text = sink.text();
  expect(ok, text).toBe(true);
  expect(text).toMatch(/^42$/m);
  expect(text).toContain('WARNING: careful');
  expect(text).toContain('token=[]');
  expect(text).toMatch(/^7\.6\.\d+$/m);
}, 60_000);

describe('tests that need pwsh fail without it, they never skip', () => {
  it('scripts/ensure-pwsh.sh fails saying what to install where neither pwsh nor dotnet is', () => {
    // A PATH with bash only and a HOME without ~/.dotnet/tools: a machine without either.
    const home = mkdtempSync(join(tmpdir(), 'chatops-no-pwsh-'));
    const r = spawnSync('/bin/bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], {
      encoding: 'utf8',
      env: { PATH: join(home, 'bin'), HOME: home, CI: 'true' },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('neither pwsh nor the .NET SDK (dotnet) is installed');
    expect(r.stderr).toContain('install PowerShell 7.6');
  });

  it('scripts/ensure-pwsh.sh prints the pwsh it finds, and that pwsh is 7.6', () => {
    const out = execFileSync('bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)!;
    const version = execFileSync(out, ['-NoProfile', '-NonInteractive', '-Command', '$PSVersionTable.PSVersion.ToString()'], {
      encoding: 'utf8',
    }).trim();
    expect(version).toMatch(/^7\.6\.\d+$/);
  }, 60_000);

  it('every test file that runs pwsh gets it through ensure-pwsh.sh (which throws without it) and skips nothing', () => {
    const files = listTests(join(REPO, 'test')).filter((f) => {
      const text = readFileSync(f, 'utf8');
      return /ensure-pwsh\.sh|pwshPath\(|realPwsh\(|pathWithPwsh\(|ensureTools\(/.test(text) && !f.endsWith('real-pwsh.test.ts');
    });
    // The executor, side-by-side and language suites at least.
    expect(files.map((f) => relative(REPO, f))).toEqual(
      expect.arrayContaining([
        'test/agent/pwsh-streams.test.ts',
        'test/agent/executors.test.ts',
        'test/remoting/ssh-remoting.ts',
        'test/language/pwsh-reference.ts',
      ]),
    );
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, relative(REPO, f)).not.toMatch(/\.(skip|skipIf|runIf|todo)\b|\bctx\.skip\(|process\.env\.CI\b/);
    }
  });
});

function listTests(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return listTests(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}
