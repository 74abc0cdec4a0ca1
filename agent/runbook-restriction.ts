// Runbook-only configurations (JEA-like endpoints): in them a run executes a runbook file from
// the agent's runbook directory, never the script the hub sent.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunMessage } from '../src/protocol/agent-protocol.js';
import { lower } from './session-configurations.js';

export type ScriptChoice = { ok: true; script: string } | { ok: false; reason: string };

export class RunbookRestriction {
  private readonly restricted: Set<string>;

  constructor(
    private readonly deps: {
      /** The agent's name, for messages. */
      agent: string;
      /** Configurations that only run runbooks from runbooksDir. */
      restrictToRunbooks?: string[];
      runbooksDir?: string;
    },
  ) {
    this.restricted = new Set((deps.restrictToRunbooks ?? []).map(lower));
  }

  /** The script `run` executes in the configuration `configuration`, or why it may not run. */
  scriptFor(configuration: string, run: RunMessage): ScriptChoice {
    if (!this.restricted.has(lower(configuration))) return { ok: true, script: run.script };
    if (run.runbook === undefined) {
      return {
        ok: false,
        reason: `The session configuration '${configuration}' on ${this.deps.agent} runs only runbooks (use -FilePath).`,
      };
    }
    return this.loadRunbook(run.runbook);
  }

  private loadRunbook(name: string): ScriptChoice {
    const dir = this.deps.runbooksDir;
    if (name === '' || /[/\\]/.test(name) || name.includes('..') || name.includes('\0')) {
      return { ok: false, reason: `The runbook name '${name}' is not allowed: give a file name inside the runbook directory.` };
    }
    if (!dir) return { ok: false, reason: `The agent ${this.deps.agent} has no runbook directory.` };
    try {
      return { ok: true, script: readFileSync(join(dir, name), 'utf8') };
    } catch {
      return { ok: false, reason: `The agent ${this.deps.agent} has no runbook named '${name}'.` };
    }
  }
}
