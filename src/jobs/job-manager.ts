import type { Logger } from '../log';
import type { AgentInfo, OutputMessage, RunMessage, StateMessage } from '../protocol/agent-protocol';
import type { AgentTransport } from '../transport/agent-transport';
import type { ChildJobRecord, JobRecord, JobRunSpec, JobStore } from '../store/job-store';
import type { JobState } from '../messages/model';
import type { AgentDirectory } from './agent-directory';
import { aggregateState, isFinished } from './job-state';
import { DEFAULT_THROTTLE_LIMIT } from '../language/values';
import { formatDuration } from '../duration';

export interface StartJobRequest {
  /** The command line as typed (secrets masked). */
  command: string;
  channel: string;
  invokedBy: string;
  invokedById: string;
  /** Target computer names as typed, in order (duplicates kept: PowerShell runs each). */
  computers: string[];
  run: JobRunSpec;
  throttleLimit: number;
  asJob: boolean;
  hideComputerName: boolean;
  name?: string;
  /** Called once the job is stored, before any child is dispatched (audit with the job id). */
  beforeDispatch?: (job: JobRecord) => void;
}

/**
 * What listeners hear. Child events carry ids and the new state only (a fan-out to thousands of
 * computers must not re-read the job for each); read the store for more.
 */
export type JobEvent =
  | { type: 'child'; jobId: number; childId: number; state: JobState }
  | { type: 'job'; job: JobRecord }
  | { type: 'output'; jobId: number; childId: number }
  /** The job was deleted (Remove-Job, -AutoRemoveJob, retention): whoever follows it stops. */
  | { type: 'removed'; jobId: number }
  /** The manager is shutting down: listeners drop timers and stop touching the store. */
  | { type: 'stopping' };

export type JobListener = (event: JobEvent) => void;

function notConnectedReason(computer: string): string {
  return `Connecting to remote server ${computer} failed: the agent is not connected`;
}

function lostReason(agent: string, graceMs: number): string {
  return `The agent ${agent} was lost: it did not reconnect within ${formatDuration(graceMs)} (AGENT_LOST_GRACE). Output it sent before that is kept.`;
}

interface ChildInfo {
  id: number;
  runId: string;
  computer: string;
  agent?: string;
  state: JobState;
  dispatched: boolean;
}

/** In-memory state of an unfinished job; the store stays the truth across restarts. */
interface ActiveJob {
  id: number;
  limit: number;
  queue: number[];
  /** Dispatched children not finished yet: at most `limit` of them. */
  inFlight: Set<number>;
  children: Map<number, ChildInfo>;
  remaining: number;
  spec: JobRunSpec;
  stopRequested: boolean;
  /** Picked up after a restart: queued children wait for their agents to reconnect. */
  recovering: boolean;
}

const lower = (s: string): string => s.toLowerCase();

/**
 * Fan-out of Invoke-Command: one parent job, one child per computer, at most ThrottleLimit
 * children dispatched at once. Every agent message is stored before anything else happens, and
 * the store is the truth: a restarted bot rebuilds its active jobs from it and resends `run` to
 * agents that reconnect (agents start a runId at most once, and resend what was not acked).
 */
export class JobManager {
  private readonly listeners = new Set<JobListener>();
  private readonly jobs = new Map<number, ActiveJob>();
  /** runId → (job, child) for runs of active jobs. */
  private readonly runs = new Map<string, { jobId: number; childId: number }>();
  private readonly agentInfo = new Map<string, AgentInfo>();
  private readonly waiters = new Map<number, Array<(job: JobRecord | undefined) => void>>();
  private recoveryTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  /** Per agent (lower-cased) that went away with children on it: when they are given up. */
  private readonly lostTimers = new Map<string, NodeJS.Timeout>();
  private stopping = false;

  constructor(
    private readonly deps: {
      store: JobStore;
      transport: AgentTransport;
      directory: AgentDirectory;
      log: Logger;
      /** How long queued children of a resumed job wait for their agent to reconnect. */
      recoveryGraceMs: number;
      /**
       * AGENT_LOST_GRACE: how long running children of an agent that went away (or that has not
       * reconnected since this bot started) wait for it before they end Failed, agent lost.
       */
      lostGraceMs: number;
      /**
       * After a restart, how long agents with running children have to dial in again before
       * those children show Disconnected (two heartbeats: when the hub would call it offline).
       */
      reconnectSettleMs: number;
      /** JOB_MAX_OUTPUT: most output bytes stored per child; default 16 MiB. */
      maxOutputBytes?: number;
    },
  ) {
    this.maxOutputBytes = deps.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  }

  private readonly maxOutputBytes: number;

  /** Wires the transport and picks up jobs that were running before a restart. */
  start(): void {
    const { transport, store } = this.deps;
    transport.on({
      connected: (agent, info) => this.onConnected(agent, info),
      disconnected: (agent) => this.onDisconnected(agent),
      runMessage: (agent, msg) => this.onRunMessage(agent, msg),
    });
    for (const job of store.unfinishedJobs()) {
      const spec = store.getRunSpec(job.id);
      if (!spec) continue;
      const active = this.activate(job, store.children(job.id), spec);
      active.recovering = true;
      this.deps.log.info('resuming job after restart', { job: job.id, queued: active.queue.length, running: active.inFlight.size });
      if (active.remaining === 0) this.finishJob(active);
    }
    // A transport started before the manager (a shared connection) already has agents.
    for (const agent of transport.connected()) this.resendRuns(agent);
    // Agents with running children normally dial in again within moments of a restart; those
    // that have not after the settle time are away (Disconnected), and the lost-agent grace
    // period counts from then.
    const withRuns = new Set<string>();
    for (const job of this.jobs.values()) {
      for (const c of job.children.values()) {
        if (c.dispatched && c.agent !== undefined && (c.state === 'Running' || c.state === 'Disconnected')) withRuns.add(c.agent);
      }
    }
    if (withRuns.size > 0) {
      this.settleTimer = setTimeout(() => {
        for (const agent of withRuns) if (!transport.isConnected(agent)) this.onDisconnected(agent, true);
      }, this.deps.reconnectSettleMs);
      this.settleTimer.unref();
    }
    if ([...this.jobs.values()].some((j) => j.recovering)) {
      this.recoveryTimer = setTimeout(() => {
        for (const j of this.jobs.values()) {
          if (!j.recovering) continue;
          j.recovering = false;
          this.pump(j);
        }
      }, this.deps.recoveryGraceMs);
      this.recoveryTimer.unref();
    }
  }

  /** Call before the transport stops: connections it drops then are not agents going away. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    for (const t of this.lostTimers.values()) clearTimeout(t);
    this.lostTimers.clear();
    this.emit({ type: 'stopping' });
    this.listeners.clear();
  }

  /** How many listeners follow jobs now (presenters, waits): a removed job's must be gone. */
  listenerCount(): number {
    return this.listeners.size;
  }

  on(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What the connected agent reported (configurations, default configuration). */
  info(agent: string): AgentInfo | undefined {
    return this.agentInfo.get(lower(agent));
  }

  /** Stores the job, dispatches its first wave and returns the job as it is then. */
  startJob(req: StartJobRequest): JobRecord {
    const { store, directory } = this.deps;
    const limit = req.throttleLimit > 0 ? req.throttleLimit : DEFAULT_THROTTLE_LIMIT;
    const created = store.createJob({
      command: req.command,
      channel: req.channel,
      invokedBy: req.invokedBy,
      invokedById: req.invokedById,
      asJob: req.asJob,
      hideComputerName: req.hideComputerName,
      throttleLimit: limit,
      ...(req.name !== undefined ? { name: req.name } : {}),
      children: req.computers.map((computer) => {
        const agent = directory.resolve(computer);
        return { computer, ...(agent !== undefined ? { agent } : {}) };
      }),
      run: req.run,
    });
    req.beforeDispatch?.(created.job);
    const active = this.activate(created.job, created.children, req.run);
    this.pump(active);
    // Read again: the first wave may already have finished it (no agent connected).
    return store.getJob(created.job.id)!;
  }

  /**
   * Stop-Job: queued children stop at once, running ones are told to stop (the agent kills the
   * process tree and reports Stopped). A child whose agent is gone is marked Stopped here.
   */
  stopJob(jobId: number): void {
    const active = this.jobs.get(jobId);
    if (!active) return;
    active.stopRequested = true;
    this.deps.store.updateJob(jobId, { stopRequested: true });
    active.queue = [];
    for (const child of [...active.children.values()]) this.stopChildNow(active, child);
  }

  /** Stop-Job of one child job (named by its Id): only that computer's run stops. */
  stopChild(jobId: number, childId: number): void {
    const active = this.jobs.get(jobId);
    const child = active?.children.get(childId);
    if (!active || !child) return;
    active.queue = active.queue.filter((id) => id !== childId);
    this.stopChildNow(active, child);
    if (this.jobs.has(jobId)) this.pump(active);
  }

  private stopChildNow(active: ActiveJob, child: ChildInfo): void {
    if (isFinished(child.state)) return;
    if (child.dispatched && child.agent !== undefined && this.deps.transport.send(child.agent, { op: 'stop', runId: child.runId })) {
      // Handed to the connection, which may already be dead: kept until the agent confirms, and
      // sent again when it reconnects.
      this.addPendingStop(active, child);
      return;
    }
    this.finishChild(
      active,
      child,
      'Stopped',
      child.dispatched ? `The job was stopped; the agent ${child.computer} was not connected to confirm it.` : undefined,
      undefined,
      child.dispatched,
    );
  }

  /** Resolves when the job is finished (undefined if it does not exist or the timeout passed). */
  waitFor(jobId: number, timeoutMs?: number): Promise<JobRecord | undefined> {
    const job = this.deps.store.getJob(jobId);
    if (!job || isFinished(job.state)) return Promise.resolve(job);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (j: JobRecord | undefined): void => {
        if (timer) clearTimeout(timer);
        resolve(j);
      };
      const list = this.waiters.get(jobId) ?? [];
      list.push(done);
      this.waiters.set(jobId, list);
      if (timeoutMs !== undefined && timeoutMs >= 0) {
        timer = setTimeout(() => {
          const l = this.waiters.get(jobId);
          if (l) this.waiters.set(jobId, l.filter((f) => f !== done));
          resolve(undefined);
        }, timeoutMs);
      }
    });
  }

  /**
   * Forgets a removed job (the caller deletes it from the store). Its runs that may still be
   * running (Remove-Job -Force before the agents confirmed the stop) become pending stops, which
   * outlive the job.
   */
  forget(jobId: number): void {
    const active = this.jobs.get(jobId);
    if (active) {
      for (const child of active.children.values()) {
        if (child.dispatched && child.agent !== undefined && !isFinished(child.state)) this.addPendingStop(active, child);
      }
      this.deactivate(active);
    }
    // Whoever waits for a removed job stops waiting.
    this.resolveWaiters(jobId, undefined);
    this.emit({ type: 'removed', jobId });
  }

  // ---- internals ---------------------------------------------------------------------------

  /** The run cannot outlive its maximum runtime (the agent enforces it), so neither does the stop. */
  private addPendingStop(job: ActiveJob, child: ChildInfo): void {
    if (child.agent === undefined) return;
    const max = job.spec.maxRuntimeMs;
    this.deps.store.addPendingStop(child.agent, child.runId, max > 0 ? new Date(Date.now() + max).toISOString() : undefined);
  }

  private activate(job: JobRecord, children: ChildJobRecord[], spec: JobRunSpec): ActiveJob {
    const active: ActiveJob = {
      id: job.id,
      limit: job.throttleLimit,
      queue: [],
      inFlight: new Set(),
      children: new Map(),
      remaining: 0,
      spec,
      stopRequested: job.stopRequested,
      recovering: false,
    };
    for (const c of children) {
      active.children.set(c.id, {
        id: c.id,
        runId: c.runId,
        computer: c.computer,
        ...(c.agent !== undefined ? { agent: c.agent } : {}),
        state: c.state,
        dispatched: c.dispatched,
      });
      if (!isFinished(c.state)) {
        active.remaining++;
        this.runs.set(c.runId, { jobId: job.id, childId: c.id });
        if (c.state === 'NotStarted') active.queue.push(c.id);
        else if (c.dispatched) active.inFlight.add(c.id);
      }
    }
    this.jobs.set(job.id, active);
    return active;
  }

  private deactivate(job: ActiveJob): void {
    for (const c of job.children.values()) this.runs.delete(c.runId);
    this.jobs.delete(job.id);
  }

  private resolveWaiters(jobId: number, job: JobRecord | undefined): void {
    const waiters = this.waiters.get(jobId) ?? [];
    this.waiters.delete(jobId);
    for (const w of waiters) w(job);
  }

  private emit(event: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.deps.log.error('job listener failed', { error: String(e) });
      }
    }
  }

  /**
   * PowerShell's Disconnected state: children running on an agent that went away wait for it
   * (the agent keeps running them and keeps their output); the parent is Disconnected when all
   * its unfinished children are. They return to Running when the agent reconnects, and end
   * Failed (agent lost) when it has not after the grace period. `hasAway`: the agent has
   * Disconnected children already (a restart found them so).
   */
  private onDisconnected(agent: string, hasAway = false): void {
    if (this.stopping) return;
    if (this.setRunningOn(agent, 'Running', 'Disconnected') === 0 && !hasAway) return;
    const key = lower(agent);
    if (this.lostTimers.has(key)) return;
    const grace = this.deps.lostGraceMs;
    const timer = setTimeout(() => {
      this.lostTimers.delete(key);
      this.onLost(agent, grace);
    }, grace);
    timer.unref();
    this.lostTimers.set(key, timer);
  }

  /** The grace period passed and the agent is still away: its children end Failed. */
  private onLost(agent: string, graceMs: number): void {
    if (this.stopping || this.deps.transport.isConnected(agent)) return;
    const key = lower(agent);
    let lost = 0;
    for (const job of [...this.jobs.values()]) {
      const away = [...job.children.values()].filter(
        (c) => c.agent !== undefined && lower(c.agent) === key && c.dispatched && c.state === 'Disconnected',
      );
      if (away.length === 0) continue;
      lost += away.length;
      this.deps.store.transaction(() => {
        for (const child of away) this.finishChild(job, child, 'Failed', lostReason(child.agent!, graceMs), undefined, true);
      });
      if (this.jobs.has(job.id)) {
        this.refreshLiveState(job);
        this.pump(job);
      }
    }
    if (lost > 0) this.deps.log.warn('agent lost: its running children failed', { agent, children: lost, graceMs });
  }

  /** Moves `agent`'s dispatched children in state `from` to `to`; returns how many moved. */
  private setRunningOn(agent: string, from: JobState, to: JobState): number {
    const key = lower(agent);
    let moved = 0;
    for (const job of this.jobs.values()) {
      let changed = false;
      for (const child of job.children.values()) {
        if (child.agent === undefined || lower(child.agent) !== key || child.state !== from || !child.dispatched) continue;
        this.deps.store.updateChild(child.id, { state: to });
        child.state = to;
        changed = true;
        moved++;
        this.emit({ type: 'child', jobId: job.id, childId: child.id, state: to });
      }
      if (changed) this.refreshLiveState(job);
    }
    return moved;
  }

  private refreshLiveState(job: ActiveJob): void {
    const unfinished = [...job.children.values()].filter((c) => !isFinished(c.state));
    const state: JobState = unfinished.length > 0 && unfinished.every((c) => c.state === 'Disconnected') ? 'Disconnected' : 'Running';
    const current = this.deps.store.getJob(job.id);
    if (!current || current.state === state) return;
    this.deps.store.updateJob(job.id, { state });
    this.emit({ type: 'job', job: { ...current, state } });
  }

  private onConnected(agent: string, info: AgentInfo): void {
    const key = lower(agent);
    this.agentInfo.set(key, info);
    const timer = this.lostTimers.get(key);
    if (timer) clearTimeout(timer);
    this.lostTimers.delete(key);
    this.setRunningOn(agent, 'Disconnected', 'Running');
    // Stops it may not have had (sent into a connection that was already dead, or given up while
    // it was away): it may still run them. A run with a pending stop is never sent again, so a
    // stopped command whose `run` was lost cannot start late.
    const stops = new Set(this.deps.store.pendingStopsOn(agent, new Date().toISOString()));
    for (const runId of stops) this.deps.transport.send(agent, { op: 'stop', runId });
    this.resendRuns(agent, stops);
    for (const j of this.jobs.values()) if (j.recovering) this.pump(j);
  }

  private resendRuns(agent: string, stopped: ReadonlySet<string> = new Set()): void {
    for (const child of this.deps.store.runningChildrenOn(agent)) {
      if (stopped.has(child.runId)) continue;
      const spec = this.jobs.get(child.parentId)?.spec ?? this.deps.store.getRunSpec(child.parentId);
      if (spec) this.deps.transport.send(agent, runMessage(child.runId, spec, child.configurationName ?? spec.configurationName ?? ''));
    }
  }

  private pump(job: ActiveJob): void {
    if (job.queue.length === 0 || job.inFlight.size >= job.limit) return;
    // One transaction for a whole wave of dispatches (a fan-out to 1000 computers).
    this.deps.store.transaction(() => this.pumpNow(job));
  }

  private pumpNow(job: ActiveJob): void {
    const waiting: number[] = [];
    while (job.inFlight.size < job.limit && job.queue.length > 0) {
      const childId = job.queue.shift()!;
      const child = job.children.get(childId);
      if (!child || isFinished(child.state)) continue;
      if (job.recovering && (child.agent === undefined || !this.deps.transport.isConnected(child.agent))) {
        waiting.push(childId);
        continue;
      }
      this.dispatch(job, child);
    }
    job.queue.unshift(...waiting);
  }

  private dispatch(job: ActiveJob, child: ChildInfo): void {
    const { store, transport } = this.deps;
    if (child.agent === undefined || !transport.isConnected(child.agent)) {
      this.finishChild(job, child, 'Failed', notConnectedReason(child.computer));
      return;
    }
    const spec = job.spec;
    const info = this.agentInfo.get(lower(child.agent));
    if (spec.configurationName !== undefined && info) {
      const wanted = lower(spec.configurationName);
      if (!info.configurations.some((c) => lower(c) === wanted)) {
        this.finishChild(
          job,
          child,
          'Failed',
          `Connecting to remote server ${child.computer} failed: the session configuration '${spec.configurationName}' is not offered by this agent (it offers: ${info.configurations.join(', ') || 'none'}).`,
        );
        return;
      }
    }
    const configuration = spec.configurationName ?? info?.defaultConfiguration ?? '';
    // Stored before it is sent: after a crash the run is resent, and agents start a runId once.
    store.updateChild(child.id, { state: 'Running', dispatched: true, beginTime: new Date().toISOString(), configurationName: configuration });
    child.state = 'Running';
    child.dispatched = true;
    job.inFlight.add(child.id);
    if (!transport.send(child.agent, runMessage(child.runId, spec, configuration))) {
      store.updateChild(child.id, { dispatched: false });
      child.dispatched = false;
      this.finishChild(job, child, 'Failed', notConnectedReason(child.computer));
      return;
    }
    this.emit({ type: 'child', jobId: job.id, childId: child.id, state: 'Running' });
  }

  /** `unconfirmed`: finished here while the agent may still be running it (a pending stop). */
  private finishChild(job: ActiveJob, child: ChildInfo, state: JobState, reason?: string, exitCode?: number, unconfirmed = false): void {
    if (isFinished(child.state)) return;
    if (unconfirmed) this.addPendingStop(job, child);
    this.deps.store.updateChild(child.id, {
      state,
      ...(reason !== undefined ? { reason } : {}),
      ...(exitCode !== undefined ? { exitCode } : {}),
      endTime: new Date().toISOString(),
    });
    child.state = state;
    job.inFlight.delete(child.id);
    job.remaining--;
    this.emit({ type: 'child', jobId: job.id, childId: child.id, state });
    if (job.remaining === 0) this.finishJob(job);
  }

  private onRunMessage(agent: string, msg: OutputMessage | StateMessage): void {
    const { store, log } = this.deps;
    const ref = this.runs.get(msg.runId);
    const job = ref ? this.jobs.get(ref.jobId) : undefined;
    const info = ref && job ? job.children.get(ref.childId) : undefined;
    // Runs of finished or unknown jobs (late resends): look them up to store late output.
    const child = info ? { id: info.id, parentId: job!.id, computer: info.computer, agent: info.agent } : store.childByRunId(msg.runId);
    if (!child) {
      // A removed job's run: its final state confirms a pending stop.
      if (msg.op === 'state' && msg.state !== 'Running') store.clearPendingStop(agent, msg.runId);
      log.debug('message for an unknown or removed run', { agent, runId: msg.runId });
      return;
    }
    if (child.agent === undefined || lower(child.agent) !== lower(agent)) {
      // An agent may only ever write into its own runs.
      log.warn('agent sent a message for a run it does not own; dropped', { agent, runId: msg.runId });
      return;
    }
    // A final state confirms any stop sent for the run, and nothing may follow it.
    if (msg.op === 'state' && msg.state !== 'Running') {
      store.clearPendingStop(agent, msg.runId);
      store.recordFinalSeq(child.id, msg.seq);
    }
    if (msg.op === 'output') {
      const outcome = store.appendRunOutput(
        {
          jobId: child.parentId,
          childId: child.id,
          computer: child.computer,
          runId: msg.runId,
          seq: msg.seq,
          stream: msg.stream,
          data: msg.data,
          at: msg.at,
        },
        this.maxOutputBytes,
      );
      if (outcome === 'stored' || outcome === 'cut') this.emit({ type: 'output', jobId: child.parentId, childId: child.id });
      if (outcome === 'after-final') {
        // An honest agent never sends this: its outbox ends a run with the final state.
        log.warn('agent sent output after its run\'s final state; dropped', { agent, runId: msg.runId, seq: msg.seq });
      } else if (outcome === 'cut') {
        log.warn('a run reached the output limit (JOB_MAX_OUTPUT); later output is dropped', { agent, runId: msg.runId, maxBytes: this.maxOutputBytes });
      }
      return;
    }
    if (!job || !info || isFinished(info.state)) {
      // The first final state wins; resends are no-ops.
      return;
    }
    if (msg.state === 'Running') return;
    let state: JobState = msg.state;
    let reason = msg.reason;
    if (state === 'Completed' && msg.exitCode !== undefined && msg.exitCode !== 0) state = 'Failed';
    if (state === 'Failed' && reason === undefined) {
      reason = msg.exitCode !== undefined ? `The command exited with code ${msg.exitCode}.` : 'The command failed.';
    }
    this.finishChild(job, info, state, reason, msg.exitCode);
    if (this.jobs.has(job.id)) this.pump(job);
  }

  /** Every child finished: the parent takes its final state (reference 4.3). */
  private finishJob(job: ActiveJob): void {
    const { store } = this.deps;
    const states = [...job.children.values()].map((c) => c.state);
    const state = aggregateState(states, job.stopRequested);
    const failed = states.filter((s) => s === 'Failed').length;
    store.updateJob(job.id, {
      state,
      endTime: new Date().toISOString(),
      ...(state === 'Failed' ? { reason: `${failed} of ${states.length} child jobs failed.` } : {}),
    });
    this.deactivate(job);
    const updated = store.getJob(job.id);
    if (!updated) return;
    this.emit({ type: 'job', job: updated });
    this.resolveWaiters(job.id, updated);
  }
}

/** JOB_MAX_OUTPUT's default. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

function runMessage(runId: string, spec: JobRunSpec, configurationName: string): RunMessage {
  return {
    op: 'run',
    runId,
    script: spec.script,
    configurationName,
    arguments: spec.arguments,
    using: spec.using,
    maxRuntimeMs: spec.maxRuntimeMs,
    ...(spec.runbook !== undefined ? { runbook: spec.runbook } : {}),
  };
}
