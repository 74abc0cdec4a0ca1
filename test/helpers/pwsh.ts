import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Real PowerShell 7.6: pwsh from PATH or ~/.dotnet/tools, installed by scripts/ensure-pwsh.sh when
 * missing (as CI's .ci/run does first). Throws when it cannot be had, so a test that needs pwsh
 * fails, never skips.
 */
export function realPwsh(): string {
  const path = execFileSync('bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1);
  if (path === undefined || path === '') throw new Error('scripts/ensure-pwsh.sh printed no pwsh path');
  return path;
}

/** A PATH for an agent process with real pwsh first: its configuration Microsoft.PowerShell runs it. */
export function pathWithPwsh(): string {
  return `${dirname(realPwsh())}:${process.env.PATH ?? ''}`;
}
