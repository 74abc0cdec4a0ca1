import type { Logger } from '../log';
import type { AgentInfo, OutputMessage, RunMessage, StateMessage } from '../protocol/agent-protocol';
import type { AgentTransport } from '../transport/agent-transport';
import type { ChildJobRecord, JobRecord, JobRunSpec, JobStore } from '../store/job-store';
import type { JobState } from '../messages/model';
import type { AgentDirectory } from './agent-directory';
import { aggregateState, isFinished } from './job-state';

export const DEFAULT_THROTTLE_LIMIT = 32;

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

export type JobEvent =
  | { type: 'child'; job: JobRecord; child: ChildJobRecord }
  | { type: 'job'; job: JobRecord }
  | { type: 'output'; jobId: number; childId: number };

export type JobListener = (event: JobEvent) => void;

export function notConnectedReason(computer: string): string {
  return `Connecting to remote server ${computer} failed: the agent is not connected`;
}

interface Scheduler {
  limit: number;
  queue: number[];
  active: Set<number>;
}

/**
 * Fan-out of Invoke-Command: one parent job, one child per computer, at most ThrottleLimit
 * children dispatched at once. Every agent message is stored before anything else happens, and
 * the store is the truth: a restarted bot rebuilds its schedulers from it and resends `run` to
 * agents that reconnect (agents start a runId at most once, and resend what was not acked).
 */
export class JobManager {
  private readonly listeners = new Set<JobListener>();
  private readonly schedulers = new Map<number, Scheduler>();
  private readonly agentInfo = new Map<string, AgentInfo>();
  private readonly waiters = new Map<number, Array<(job: JobRecord) => void>>();
  /** Jobs picked up after a restart: their queued children wait for agents to reconnect. */
  private readonly recovering = new Set<number>();
  private recoveryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      store: JobStore;
      transport: AgentTransport;
      directory: AgentDirectory;
      log: Logger;
      /** How long queued children of a resumed job wait for their agent to reconnect. */
      recoveryGraceMs?: number;
    },
  ) {}

  /** Wires the transport and picks up jobs that were running before a restart. */
  start(): void {
    const { transport, store } = this.deps;
    transport.on({
      connected: (agent, info) => this.onConnected(agent, info),
      disconnected: (agent, reason) => this.deps.log.debug('agent disconnected', { agent, reason }),
      runMessage: (agent, msg) => this.onRunMessage(agent, msg),
    });
    for (const job of store.unfinishedJobs()) {
      const children = store.children(job.id);
      const sched: Scheduler = {
        limit: job.throttleLimit,
        queue: children.filter((c) => c.state === 'NotStarted').map((c) => c.id),
        active: new Set(children.filter((c) => c.dispatched && !isFinished(c.state)).map((c) => c.id)),
      };
      this.schedulers.set(job.id, sched);
      this.recovering.add(job.id);
      this.deps.log.info('resuming job after restart', { job: job.id, queued: sched.queue.length, running: sched.active.size });
      this.pump(job.id);
      this.refreshParent(job.id);
    }
    // Agents already connected (the transport started first) get their runs resent.
    for (const agent of transport.connected()) this.resendRuns(agent);
    if (this.recovering.size > 0) {
      this.recoveryTimer = setTimeout(() => {
        const jobs = [...this.recovering];
        this.recovering.clear();
        for (const id of jobs) {
          this.pump(id);
          this.refreshParent(id);
        }
      }, this.deps.recoveryGraceMs ?? 30_000);
      this.recoveryTimer.unref();
    }
  }

  stop(): void {
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
  }

  on(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What the connected agent reported (configurations, default configuration). */
  info(agent: string): AgentInfo | undefined {
    return this.agentInfo.get(agent);
  }

  startJob(req: StartJobRequest): { job: JobRecord; children: ChildJobRecord[] } {
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
    this.schedulers.set(created.job.id, {
      limit,
      queue: created.children.map((c) => c.id),
      active: new Set(),
    });
    this.pump(created.job.id);
    this.refreshParent(created.job.id);
    return { job: store.getJob(created.job.id)!, children: store.children(created.job.id) };
  }

  /**
   * Stop-Job: queued children stop at once, running ones are told to stop (the agent kills the
   * process tree and reports Stopped). A child whose agent is gone is marked Stopped here.
   */
  stopJob(jobId: number): void {
    const { store, transport } = this.deps;
    const job = store.getJob(jobId);
    if (!job || isFinished(job.state)) return;
    store.updateJob(jobId, { stopRequested: true });
    const sched = this.schedulers.get(jobId);
    if (sched) sched.queue = [];
    for (const child of store.children(jobId)) {
      if (isFinished(child.state)) continue;
      if (child.dispatched && child.agent !== undefined && transport.send(child.agent, { op: 'stop', runId: child.runId })) {
        continue;
      }
      this.finishChild(child, 'Stopped', child.dispatched ? `The job was stopped; the agent ${child.computer} was not connected to confirm it.` : undefined);
    }
    this.refreshParent(jobId);
  }

  /** Resolves when the job is finished (or undefined if it does not exist). */
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

  /** Forgets a removed job (the caller deletes it from the store). */
  forget(jobId: number): void {
    this.schedulers.delete(jobId);
  }

  // ---- internals ---------------------------------------------------------------------------

  private emit(event: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.deps.log.error('job listener failed', { error: String(e) });
      }
    }
  }

  private onConnected(agent: string, info: AgentInfo): void {
    this.agentInfo.set(agent, info);
    this.resendRuns(agent);
    for (const id of this.recovering) this.pump(id);
  }

  private resendRuns(agent: string): void {
    for (const child of this.deps.store.runningChildrenOn(agent)) {
      const msg = this.runMessage(child);
      if (msg) this.deps.transport.send(agent, msg);
    }
  }

  private runMessage(child: ChildJobRecord): RunMessage | undefined {
    const spec = this.deps.store.getRunSpec(child.parentId);
    if (!spec) return undefined;
    return {
      op: 'run',
      runId: child.runId,
      script: spec.script,
      configurationName: child.configurationName ?? spec.configurationName ?? '',
      arguments: spec.arguments,
      using: spec.using,
      maxRuntimeMs: spec.maxRuntimeMs,
      ...(spec.runbook !== undefined ? { runbook: spec.runbook } : {}),
    };
  }

  private pump(jobId: number): void {
    const sched = this.schedulers.get(jobId);
    if (!sched) return;
    const waiting: number[] = [];
    while (sched.active.size < sched.limit && sched.queue.length > 0) {
      const childId = sched.queue.shift()!;
      const child = this.deps.store.getChild(childId);
      if (!child || isFinished(child.state)) continue;
      if (
        this.recovering.has(jobId) &&
        (child.agent === undefined || !this.deps.transport.isConnected(child.agent))
      ) {
        waiting.push(childId);
        continue;
      }
      if (this.dispatch(child)) sched.active.add(childId);
    }
    sched.queue.unshift(...waiting);
  }

  /** Returns true when the child is now running on its agent. */
  private dispatch(child: ChildJobRecord): boolean {
    const { store, transport } = this.deps;
    const spec = store.getRunSpec(child.parentId);
    if (!spec) return false;
    if (child.agent === undefined || !transport.isConnected(child.agent)) {
      this.finishChild(child, 'Failed', notConnectedReason(child.computer));
      return false;
    }
    const info = this.agentInfo.get(child.agent);
    const configuration = spec.configurationName ?? info?.defaultConfiguration ?? '';
    if (spec.configurationName !== undefined && info) {
      const offered = info.configurations.find((c) => c.toLowerCase() === spec.configurationName!.toLowerCase());
      if (!offered) {
        this.finishChild(
          child,
          'Failed',
          `Connecting to remote server ${child.computer} failed: the session configuration '${spec.configurationName}' is not offered by this agent (it offers: ${info.configurations.join(', ') || 'none'}).`,
        );
        return false;
      }
    }
    const now = new Date().toISOString();
    // Stored before it is sent: after a crash the run is resent, and agents start a runId once.
    store.updateChild(child.id, { state: 'Running', dispatched: true, beginTime: now, configurationName: configuration });
    const msg = this.runMessage({ ...child, configurationName: configuration });
    if (!msg || !transport.send(child.agent, msg)) {
      store.updateChild(child.id, { dispatched: false });
      this.finishChild(store.getChild(child.id)!, 'Failed', notConnectedReason(child.computer));
      return false;
    }
    const job = store.getJob(child.parentId);
    if (job) this.emit({ type: 'child', job, child: store.getChild(child.id)! });
    return true;
  }

  private finishChild(child: ChildJobRecord, state: JobState, reason?: string, exitCode?: number): void {
    const { store } = this.deps;
    store.updateChild(child.id, {
      state,
      ...(reason !== undefined ? { reason } : {}),
      ...(exitCode !== undefined ? { exitCode } : {}),
      endTime: new Date().toISOString(),
    });
    const sched = this.schedulers.get(child.parentId);
    sched?.active.delete(child.id);
    const job = store.getJob(child.parentId);
    if (job) this.emit({ type: 'child', job, child: store.getChild(child.id)! });
  }

  private onRunMessage(agent: string, msg: OutputMessage | StateMessage): void {
    const { store, log } = this.deps;
    const child = store.childByRunId(msg.runId);
    if (!child) {
      log.debug('message for an unknown or removed run', { agent, runId: msg.runId });
      return;
    }
    if (child.agent !== agent) {
      // An agent may only ever write into its own runs.
      log.warn('agent sent a message for a run it does not own; dropped', { agent, runId: msg.runId });
      return;
    }
    if (msg.op === 'output') {
      const stored = store.appendOutput({
        jobId: child.parentId,
        childId: child.id,
        computer: child.computer,
        runId: msg.runId,
        seq: msg.seq,
        stream: msg.stream,
        data: msg.data,
        at: msg.at,
      });
      if (stored) this.emit({ type: 'output', jobId: child.parentId, childId: child.id });
      return;
    }
    if (isFinished(child.state)) return; // the first final state wins; resends are no-ops
    if (msg.state === 'Running') return;
    let state: JobState = msg.state;
    let reason = msg.reason;
    if (state === 'Completed' && msg.exitCode !== undefined && msg.exitCode !== 0) state = 'Failed';
    if (state === 'Failed' && reason === undefined) {
      reason = msg.exitCode !== undefined ? `The command exited with code ${msg.exitCode}.` : 'The command failed.';
    }
    this.finishChild(child, state, reason, msg.exitCode);
    this.pump(child.parentId);
    this.refreshParent(child.parentId);
  }

  private refreshParent(jobId: number): void {
    const { store } = this.deps;
    const job = store.getJob(jobId);
    if (!job || isFinished(job.state)) return;
    const children = store.children(jobId);
    const state = aggregateState(
      children.map((c) => c.state === 'NotStarted' ? 'Running' : c.state),
      job.stopRequested,
    );
    if (state === job.state) return;
    const failed = children.filter((c) => c.state === 'Failed').length;
    store.updateJob(jobId, {
      state,
      ...(isFinished(state) ? { endTime: new Date().toISOString() } : {}),
      ...(state === 'Failed' ? { reason: `${failed} of ${children.length} child jobs failed.` } : {}),
    });
    const updated = store.getJob(jobId)!;
    this.emit({ type: 'job', job: updated });
    if (isFinished(state)) {
      this.schedulers.delete(jobId);
      const waiters = this.waiters.get(jobId) ?? [];
      this.waiters.delete(jobId);
      for (const w of waiters) w(updated);
    }
  }
}
