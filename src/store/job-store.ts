import type { JobState } from '../messages/model.js';
import type { OutputStream } from '../protocol/agent-protocol.js';
import type { PsValue } from '../language/values.js';

/**
 * The job runtime's persistence port. The embedded implementation is SQLite
 * (`SqliteJobStore`); a scaled deployment would implement the same interface on PostgreSQL.
 * Every method is synchronous on purpose: SQLite calls are, and the job manager relies on each
 * write being durable before it shows anything or acknowledges an agent.
 */

export interface JobRecord {
  id: number;
  name: string;
  instanceId: string;
  /** `RemoteJob` for Invoke-Command. */
  jobType: string;
  state: JobState;
  reason?: string;
  /** Child locations joined with `,` (PowerShell's parent Location). */
  location: string;
  command: string;
  channel: string;
  /** Display name of who ran it. */
  invokedBy: string;
  /** Platform-qualified user id (`slack:U1`, `console`). */
  invokedById: string;
  asJob: boolean;
  hideComputerName: boolean;
  throttleLimit: number;
  stopRequested: boolean;
  beginTime?: string;
  endTime?: string;
  notPosted?: string;
  createdAt: string;
  /**
   * The live status message, set while its job is followed (a platform's handle id, see
   * MessageHandle) and cleared once the final state is drawn: a restarted bot picks it up.
   */
  statusHandle?: string;
  /** The status thread gets the results (a synchronous call whose value is not assigned). */
  statusShowsResults: boolean;
  /**
   * The status message's handle, kept after the job finished (statusHandle is cleared): its
   * thread is where a later Receive-Job of the job posts.
   */
  threadHandle?: string;
  /** Display name of who stopped the job (Stop-Job, or the status message's button). */
  stoppedBy?: string;
}

export interface ChildJobRecord {
  id: number;
  parentId: number;
  /** Order of the computer in the command (0-based). */
  position: number;
  name: string;
  instanceId: string;
  /** The computer name as typed (Location). */
  computer: string;
  /** The registered agent it resolved to, when it did. */
  agent?: string;
  runId: string;
  state: JobState;
  reason?: string;
  exitCode?: number;
  configurationName?: string;
  /** True once the run message was handed to the transport. */
  dispatched: boolean;
  /** Receive-Job read position: output rows with id <= readUpto were received. */
  readUpto: number;
  beginTime?: string;
  endTime?: string;
  /** While Disconnected: when the child is given up if its agent has not come back (ISO). */
  lostDeadline?: string;
}

/** What to run, kept so that a restarted bot can dispatch children that had not started. */
export interface JobRunSpec {
  script: string;
  arguments: unknown[];
  using: Record<string, unknown>;
  /** Explicit -ConfigurationName, or undefined for the agent's default. */
  configurationName?: string;
  runbook?: string;
  maxRuntimeMs: number;
  /**
   * Invoke-Command -Session: by child position (children are created in the order of the
   * computers), the session that child runs in and the session's configuration.
   */
  sessions?: Array<{ instanceId: string; configurationName: string }>;
}

/** What appendRunOutput did: `cut` stored part of the record and the note. */
export type AppendOutcome = 'stored' | 'duplicate' | 'cut' | 'over-limit' | 'after-final';

export interface OutputRecord {
  id: number;
  jobId: number;
  childId: number;
  computer: string;
  runId: string;
  seq: number;
  stream: OutputStream;
  data: string;
  at: number;
}

export interface NewJob
  extends Pick<JobRecord, 'command' | 'channel' | 'invokedBy' | 'invokedById' | 'asJob' | 'hideComputerName' | 'throttleLimit'> {
  /** -JobName; default `Job<Id>`. */
  name?: string;
  /** One entry per target, in order. `agent` is set when the name resolved to a registered agent. */
  children: Array<{ computer: string; agent?: string; configurationName?: string }>;
  run: JobRunSpec;
}

export interface ChildUpdate {
  state?: JobState;
  reason?: string | null;
  exitCode?: number | null;
  dispatched?: boolean;
  beginTime?: string;
  endTime?: string;
  configurationName?: string;
  lostDeadline?: string | null;
}

export interface JobUpdate {
  state?: JobState;
  reason?: string | null;
  stopRequested?: boolean;
  beginTime?: string;
  endTime?: string;
  notPosted?: string | null;
  statusHandle?: string | null;
  statusShowsResults?: boolean;
  threadHandle?: string;
  stoppedBy?: string;
}

export interface JobStore {
  /** Runs `fn` as one transaction (many small writes of a fan-out commit together). */
  transaction<T>(fn: () => T): T;
  /** Creates the parent and its children with consecutive Ids (parent N, children N+1...). */
  createJob(job: NewJob): { job: JobRecord; children: ChildJobRecord[] };
  getJob(id: number): JobRecord | undefined;
  /** Top-level jobs, sorted by Id; only `channel`'s unless channel is undefined (admins). */
  listJobs(channel?: string): JobRecord[];
  /** Jobs not yet finished, across channels (for restart recovery). */
  unfinishedJobs(): JobRecord[];
  /** Jobs whose status message is still followed (statusHandle set), across channels. */
  jobsWithLiveStatus(): JobRecord[];
  updateJob(id: number, update: JobUpdate): void;
  deleteJob(id: number): void;
  getRunSpec(jobId: number): JobRunSpec | undefined;

  children(jobId: number): ChildJobRecord[];
  getChild(id: number): ChildJobRecord | undefined;
  childByRunId(runId: string): ChildJobRecord | undefined;
  updateChild(id: number, update: ChildUpdate): void;
  /** Children dispatched and still running on `agent` (resend `run` on reconnect). */
  runningChildrenOn(agent: string): ChildJobRecord[];
  /**
   * Runs given up here while their agent may still be running them (stopped or failed as lost
   * while it was away, or removed before it confirmed). They outlive their job: the agent is
   * told to stop them whenever it connects, until it reports a final state for the run or
   * `expiresAt` (when its maximum runtime ends it anyway) has passed.
   */
  addPendingStop(agent: string, runId: string, expiresAt?: string): void;
  /** Run ids to stop on `agent`; drops those expired by `now` (ISO time). */
  pendingStopsOn(agent: string, now: string): string[];
  /** The agent reported a final state for the run: it is not running there any more. */
  clearPendingStop(agent: string, runId: string): void;
  /**
   * Deletes finished jobs that ended before `endedBefore` (ISO time), with their children and
   * output (JOB_RETENTION). Returns the ids deleted.
   */
  pruneJobsEndedBefore(endedBefore: string): number[];

  /**
   * Stores one output record. Returns false (and stores nothing) when (runId, seq) is already
   * stored: a resent record is stored once.
   */
  appendOutput(record: Omit<OutputRecord, 'id'>): boolean;
  /**
   * Stores one output record of a run within its limits: nothing at or after the seq of the
   * run's final state (`recordFinalSeq`), no empty chunk, and at most `maxBytes` per child (the
   * UTF-8 text plus OUTPUT_ROW_OVERHEAD per row). The record that crosses the
   * limit is cut there and followed by a warning record (seq -1) saying so; later records are
   * dropped. Duplicates (same run and seq) are no-ops.
   */
  appendRunOutput(record: Omit<OutputRecord, 'id'>, maxBytes: number): AppendOutcome;
  /** The seq of the final state the agent sent for a child's run (the first one counts). */
  recordFinalSeq(childId: number, seq: number): void;
  /** Output of a job (optionally one child), in the order received; `afterId` skips read rows. */
  output(jobId: number, options?: { childId?: number; afterId?: number }): OutputRecord[];
  /** A child's last record of one stream (the live status shows the latest `progress`). */
  latestOutput(childId: number, stream: OutputStream): OutputRecord | undefined;
  /** Each child's latest Write-Progress record, for the children of `jobId` that have one. */
  latestProgress(jobId: number): Map<number, OutputRecord>;
  /** Output rows newer than the child's read position. */
  unreadOutput(childId: number): OutputRecord[];
  hasUnreadOutput(childId: number): boolean;
  /** Moves the child's read position (Receive-Job without -Keep). */
  markRead(childId: number, uptoId: number): void;

  getVariables(channel: string): Map<string, PsValue>;
  /** Variables of one channel, or of every channel (for bot admins), by channel then name. */
  listVariables(channel?: string): Array<{ channel: string; name: string; value: PsValue }>;
  setVariable(channel: string, name: string, value: PsValue): void;
  removeVariable(channel: string, name: string): boolean;

  /** Records a post attempt; a no-op when the job was removed meanwhile. */
  recordPost(jobId: number, what: string, ok: boolean, error?: string): void;
  posts(jobId: number): Array<{ what: string; ok: boolean; error?: string; at: string }>;
}
