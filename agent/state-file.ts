// The agent's state file, `state.json` in its state directory: its name and the secret the hub
// gave it at enrolment.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureStateDir } from '../src/private-files.js';

export interface AgentState {
  name: string;
  secret: string;
}

export function readState(stateDir: string): AgentState | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as Partial<AgentState>;
    return typeof v.secret === 'string' && typeof v.name === 'string' ? { name: v.name, secret: v.secret } : undefined;
  } catch {
    return undefined;
  }
}

/** Written atomically with mode 0600: it holds the agent's secret. */
export function writeState(stateDir: string, state: AgentState): void {
  ensureStateDir(stateDir);
  const tmp = join(stateDir, `state.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600 });
  renameSync(tmp, join(stateDir, 'state.json'));
}
