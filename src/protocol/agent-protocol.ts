/**
 * The hub <-> agent wire protocol: one JSON object per WebSocket text frame, discriminated by `op`.
 * The same messages travel over any AgentTransport (WebSocket hub today, NATS subjects later).
 *
 * Delivery contract:
 * - Every run-scoped message from the agent (`output`, `state`) carries `runId` and a `seq` that
 *   starts at 1 and increases by 1 per run. The agent keeps each one (on disk) until the hub
 *   acknowledges it with `ack` (cumulative: all seq <= ack.seq of that run are done).
 * - After a reconnect the agent resends every unacknowledged message in seq order. The hub stores
 *   by (runId, seq), so a resent message is stored once; it acks what it already has.
 * - A run's final `state` message (Completed/Failed/Stopped) is the last seq of that run.
 * - `run` is idempotent by runId: an agent that already knows a runId does not start it twice.
 */

export const PROTOCOL_VERSION = 1;

export type OutputStream = 'output' | 'error' | 'warning' | 'verbose' | 'debug' | 'information';

export type RunState = 'Running' | 'Completed' | 'Failed' | 'Stopped';

export interface AgentInfo {
  os: string;
  /** Agent software version. */
  version: string;
  /** `key=value` tags, e.g. `role=web`. */
  tags: string[];
  /** Session configurations this agent offers (`Microsoft.PowerShell`, `bash`, `sh`, ...). */
  configurations: string[];
  defaultConfiguration: string;
}

// ---- agent -> hub -------------------------------------------------------------------------

/** First frame on every connection. Exactly one of `token` (enrolment) or `secret` is set. */
export interface HelloMessage extends AgentInfo {
  op: 'hello';
  protocol: number;
  name: string;
  token?: string;
  secret?: string;
}

export interface OutputMessage {
  op: 'output';
  runId: string;
  seq: number;
  stream: OutputStream;
  /** A chunk of text (for pwsh `output`: one JSON-serialised object per line). */
  data: string;
  /** Agent clock, ms since epoch, when the chunk was produced. */
  at: number;
}

export interface StateMessage {
  op: 'state';
  runId: string;
  seq: number;
  state: RunState;
  exitCode?: number;
  /** Why it failed or stopped, in words a user can act on. */
  reason?: string;
  at: number;
}

export interface PongMessage {
  op: 'pong';
  nonce: number;
}

export type AgentToHub = HelloMessage | OutputMessage | StateMessage | PongMessage;

// ---- hub -> agent -------------------------------------------------------------------------

export interface WelcomeMessage {
  op: 'welcome';
  /** Set only in reply to an enrolment: the agent's own secret, to store and use from now on. */
  secret?: string;
  heartbeatMs: number;
}

export interface RefusedMessage {
  op: 'refused';
  code: string;
  reason: string;
}

export interface RunMessage {
  op: 'run';
  runId: string;
  /** Script text, sent as data: the executor never splices arguments into it. */
  script: string;
  configurationName: string;
  /** ArgumentList values, JSON. */
  arguments: unknown[];
  /** `$Using:` values by lower-cased name, JSON. */
  using: Record<string, unknown>;
  /** 0 means no limit. */
  maxRuntimeMs: number;
  /**
   * Set for -FilePath runs: the runbook's name. An agent configuration restricted to runbooks
   * (as a JEA endpoint) refuses runs without it and runs its own copy of that runbook.
   */
  runbook?: string;
}

export interface StopMessage {
  op: 'stop';
  runId: string;
}

export interface AckMessage {
  op: 'ack';
  runId: string;
  seq: number;
}

export interface PingMessage {
  op: 'ping';
  nonce: number;
}

export type HubToAgent =
  | WelcomeMessage
  | RefusedMessage
  | RunMessage
  | StopMessage
  | AckMessage
  | PingMessage;
