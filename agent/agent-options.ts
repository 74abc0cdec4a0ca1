// What an Agent is built with (AgentOptions) and the version it reports by default.
import type { Logger } from '../src/log.js';
import type { Executor } from './executors.js';
import type { ScriptUser } from './script-environment.js';
import type { SessionConfiguration } from './session-configurations.js';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  /** ws://HOST:PORT or wss://HOST:PORT */
  hubUrl: string;
  name: string;
  /** Enrolment token; used only while no secret is known. */
  token?: string;
  /** The agent's secret, when the caller keeps it (the embedded agent); otherwise read from the state file. */
  secret?: string;
  /**
   * Where the state file (`state.json`, mode 0600), the outbox spool and the started-run log
   * live. `null` keeps everything in memory (simulated agents in the bench).
   */
  stateDir: string | null;
  tags?: string[];
  /** Default: every executor found on PATH (Microsoft.PowerShell if pwsh, bash, sh). */
  configurations?: SessionConfiguration[];
  /** Default: Microsoft.PowerShell when offered, else bash, else the first configuration. */
  defaultConfiguration?: string;
  /** Where restricted configurations find their runbooks. */
  runbooksDir?: string;
  /** Configurations that only run runbooks from runbooksDir (JEA-like endpoints). */
  restrictToRunbooks?: string[];
  /** Default: a process executor with `scriptEnv` and `runAs`. */
  executor?: Executor;
  /** Variables every script gets besides the fixed set (script-environment.ts). */
  scriptEnv?: Record<string, string>;
  /** Run scripts as this OS user (the agent must be root); default the agent's own user. */
  runAs?: ScriptUser;
  log?: Logger;
  /** Reconnect backoff: first retry after about initialMs (default 200), doubling up to maxMs (default 10000), with jitter. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** For wss:// hubs with a private CA. */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  os?: string;
  version?: string;
}
