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
 * - The agent sends `state` Running (seq 1) when it starts a run. A run that cannot start (no
 *   such configuration, a refused runbook) has one message: `state` Failed at seq 1 with a reason.
 * - A run's final `state` message (Completed/Failed/Stopped) is the last seq of that run.
 * - `run` is idempotent by runId: an agent that already knows a runId does not start it twice.
 *
 * Connection facts (WebSocket hub):
 * - The first frame must be `hello` within HELLO_TIMEOUT_MS, else the hub closes the socket.
 * - The hub answers `welcome` (with `secret` only after an enrolment) or `refused` and closes
 *   with CLOSE_REFUSED. Refusal codes: see RefusalCode.
 * - The hub sends `ping` every heartbeatMs; an agent answers `pong` with the same nonce. A
 *   connection whose previous ping is still unanswered at the next tick is cut off, so a dead
 *   agent is offline within two intervals. Any frame from the agent counts as an answer.
 * - A second connection for a name that is live is refused with `NameInUse` (the live one is
 *   kept); the hub probes the live one at once and cuts it off if it does not answer within
 *   min(heartbeatMs, 2 s), so a restarted agent's retry gets in quickly.
 * - The agent cuts a connection it has heard nothing on for 2.5 heartbeat intervals.
 * - Frames are JSON text of at most MAX_FRAME_BYTES; a malformed frame closes the connection
 *   with CLOSE_PROTOCOL_ERROR and the reason.
 * - An agent whose record is removed is cut off with CLOSE_REMOVED and refused afterwards.
 *
 * Sessions (New-PSSession): a session is a live shell or runspace on the agent, named by a
 * `sessionId` the hub chooses. `openSession` and `closeSession` are answered by a `session`
 * message with that id and the session's state; the agent also sends one, unasked, when a
 * session ends by itself (idle timeout, the shell exited). These are not run-scoped and not kept
 * in the outbox: a lost answer is learnt from the next hello, whose `sessions` lists the
 * sessions alive on the agent (a session the hub knows that is not listed is Broken: the agent
 * restarted). A `run` with `session` runs inside that session, one at a time; a run for a session
 * the agent does not have fails with a reason saying so.
 */

export const PROTOCOL_VERSION = 1;

/** Largest frame either side accepts (bytes). Agents chunk output well below it. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** How long the hub waits for `hello` on a new connection. */
export const HELLO_TIMEOUT_MS = 5_000;

/** WebSocket close codes used by the hub (4000-4999 is the application range). */
export const CLOSE_REFUSED = 4001;
export const CLOSE_PROTOCOL_ERROR = 4002;
export const CLOSE_REMOVED = 4003;
export const CLOSE_HEARTBEAT = 4004;
export const CLOSE_HUB_STOPPING = 4005;

/**
 * Why a hello was refused. `NameInUse` (another live connection holds the name) is transient: the
 * agent retries with backoff. The others need an operator (new token, re-enrolment).
 */
export type RefusalCode =
  | 'TokenInvalid'
  | 'TokenExpired'
  | 'TokenUsedUp'
  | 'NameTaken'
  | 'NameInUse'
  | 'InvalidName'
  | 'AuthenticationFailed'
  | 'ProtocolMismatch'
  | 'BadHello';

export const TRANSIENT_REFUSALS: ReadonlySet<string> = new Set(['NameInUse']);

/**
 * PowerShell's streams. `progress` is not output: the bot shows each computer's latest progress
 * in the live status only.
 */
export type OutputStream = 'output' | 'error' | 'warning' | 'verbose' | 'debug' | 'information' | 'progress';

/**
 * What a Microsoft.PowerShell run sends as `data`: one JSON record per line, made by the agent
 * (from its pwsh wrapper's record channel, or from pwsh's plain stdout/stderr text), never text a
 * script wrote. Per stream:
 * - output: `{text}` (a string or primitive, or text PowerShell prints for a custom view, e.g.
 *   Get-Date), or `{t, cols, rows, list?, view?, group?}`: an object of type `t` (PSTypeNames[0])
 *   as PowerShell's formatter shows it: column headers (or list labels) and the formatted cells,
 *   one row per entry; `view` names the view it was formatted with (objects sharing it share a
 *   table), `group` is the view's group label (Get-ChildItem's `Directory: /etc`);
 * - error: `{text, message?, category?, fqid?, terminating?}`, `text` being pwsh 7's ConciseView;
 * - warning, verbose, debug, information: `{text}` (the message, without a `WARNING: ` prefix);
 * - progress: `{id, parentId, activity, status, percent, operation, secondsRemaining, completed}`.
 * bash and sh runs send plain text (stdout as output, stderr as error).
 */
export type PwshRecord =
  | { text: string; message?: string; category?: string; fqid?: string; terminating?: boolean }
  | { t: string; cols: string[]; rows: string[][]; list?: boolean; view?: string; group?: string };

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
  /** Ids of the sessions alive on the agent (hello only). */
  sessions?: string[];
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
  /** A chunk of text; for a Microsoft.PowerShell run, whole lines of PwshRecord JSON. */
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

/**
 * A session's state on the agent: `Opened` after it started (or was connected again),
 * `Disconnected` while the agent holds its command's output for a later connect, `Closed` when
 * it ended.
 */
export type AgentSessionState = 'Opened' | 'Disconnected' | 'Closed';

export interface SessionStateMessage {
  op: 'session';
  sessionId: string;
  state: AgentSessionState;
  /** Why it could not open, or why it closed by itself, in words a user can act on. */
  reason?: string;
  at: number;
}

export type AgentToHub = HelloMessage | OutputMessage | StateMessage | PongMessage | SessionStateMessage;

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
  /** Opaque id chosen by the hub, 1-200 characters, no control characters. */
  runId: string;
  /** Script text, sent as data: the executor never splices arguments into it. */
  script: string;
  /** Session configuration; '' means the agent's defaultConfiguration. */
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
  /** Run inside this session (opened with `openSession`); its configuration is the session's. */
  session?: string;
}

export interface OpenSessionMessage {
  op: 'openSession';
  sessionId: string;
  /** '' means the agent's defaultConfiguration. */
  configurationName: string;
  /** The agent closes the session after this long without a command; 0 means never. */
  idleTimeoutMs: number;
}

export interface CloseSessionMessage {
  op: 'closeSession';
  sessionId: string;
}

/** PowerShell's OutputBufferingMode of a disconnected session whose buffer is full. */
export type OutputBufferingMode = 'Block' | 'Drop';

/**
 * Disconnect-PSSession / -InDisconnectedSession: from now on the agent keeps the output (and the
 * end) of the session's command instead of sending it, at most `maxBytes`; when that is full,
 * `Block` pauses the command until a connect, `Drop` drops the oldest output and counts it.
 * Answered by `session` Disconnected.
 */
export interface DisconnectSessionMessage {
  op: 'disconnectSession';
  sessionId: string;
  mode: OutputBufferingMode;
  maxBytes: number;
}

/** Connect-/Receive-PSSession: the agent sends what it kept, resumes a paused command, answers `session` Opened. */
export interface ConnectSessionMessage {
  op: 'connectSession';
  sessionId: string;
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
  | PingMessage
  | OpenSessionMessage
  | CloseSessionMessage
  | DisconnectSessionMessage
  | ConnectSessionMessage;
