import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * The Microsoft.PowerShell executor against real PowerShell 7.6 (installed by
 * scripts/ensure-pwsh.sh when missing, as .ci/run does), through a real agent process: arguments
 * bind to param() with their types, warnings travel as warnings, and pwsh starts from the same
 * fixed environment as every script.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let rt: TestRuntime;

beforeAll(async () => {
  const pwsh = execFileSync('bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!;
  rt = await startTestRuntime({
    agents: [
      {
        name: 'ps1',
        env: { PATH: `${dirname(pwsh)}:${process.env.PATH ?? ''}`, SLACK_BOT_TOKEN: 'xoxb-never-seen-by-pwsh' },
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
