import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PsValue } from '../../src/language/index.js';

/**
 * Runs pwsh-reference.ps1 once for a whole batch of cases: real PowerShell's parser and binder
 * answer for every line (pwsh starts in about a second, so never once per case).
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./pwsh-reference.ps1', import.meta.url));
/** Printed before the JSON: a credential prompt may write to stdout first. */
const MARKER = '<<<PWSH-REFERENCE-JSON>>>';

export interface ReferenceParseError {
  id: string;
  message: string;
  incomplete: boolean;
}

export type ReferenceBinding =
  | { ok: true; set: string; bound: Record<string, unknown> }
  | { ok: false; id: string; message: string; parameter: string | null };

export interface ReferenceInput {
  parse: string[];
  bind: { cmdlets: string[]; variables: Record<string, PsValue>; cases: Array<{ line: string; variables?: Record<string, PsValue> }> };
}

export interface ReferenceOutput {
  version: string;
  parse: Array<{ errors: ReferenceParseError[] }>;
  bind: { compiled: string[]; missing: string[]; dropped: string[]; results: ReferenceBinding[] };
}

/**
 * pwsh from PATH or ~/.dotnet/tools, installed by scripts/ensure-pwsh.sh when missing (as CI's
 * .ci/run does). Throws when it cannot be had: a test that needs pwsh fails, it never skips.
 */
export function pwshPath(): string {
  const out = execFileSync('bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' });
  const path = out.trim().split('\n').at(-1);
  if (path === undefined || path === '') throw new Error('scripts/ensure-pwsh.sh printed no pwsh path');
  return path;
}

export function runReference(input: ReferenceInput): ReferenceOutput {
  const r = spawnSync(pwshPath(), ['-NoProfile', '-NonInteractive', '-NoLogo', '-File', SCRIPT], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 240_000,
    env: { ...process.env, NO_COLOR: '1', POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' },
  });
  const at = r.stdout?.lastIndexOf(MARKER) ?? -1;
  if (r.status !== 0 || at < 0) {
    throw new Error(`pwsh-reference.ps1 failed (status ${r.status}, ${r.error?.message ?? ''}):\n${r.stderr}\n${r.stdout?.slice(-2000)}`);
  }
  return JSON.parse(r.stdout.slice(at + MARKER.length)) as ReferenceOutput;
}
