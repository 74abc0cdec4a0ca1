// The JobManager facade: Invoke-Command's fan-out as callers see it (start, stop, wait, forget,
// listen). The work is done by the collaborators it wires together; see each file's header.
import { isFinished } from './job-state.js';
import type { Logger } from '../log.js';
import type { AgentInfo } from '../protocol/agent-protocol.js';
import type { AgentTransport } from '../transport/agent-transport.js';
import type { JobRecord, JobRunSpec, JobStore } from '../store/job-store.js';
import type { AgentDirectory } from './agent-directory.js';
import { DEFAULT_THROTTLE_LIMIT } from '../language/values.js';
import { ActiveJobs, agentKey } from './active-jobs.js';
import { Dispatcher } from './dispatcher.js';
import { JobCompletion } from './job-completion.js';
import { JobEvents, type JobListener } from './job-events.js';
import { JobStopper } from './job-stopper.js';
import { JobWaiters } from './job-waiters.js';
import { LostAgents } from './lost-agents.js';
import { PendingStops } from './pending-stops.js';
import { RestartRecovery } from './restart-recovery.js';
import { RunMessages } from './run-messages.js';

export type { JobEvent, JobListener } from './job-events.js';
export { DEFAULT_MAX_OUTPUT_BYTES } from './run-messages.js';

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

export interface JobManagerDeps {
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
}

/**
 * Fan-out of Invoke-Command: one parent job, one child per computer, at most ThrottleLimit
 * children dispatched at once. Every agent message is stored before anything else happens, and
 * the store is the truth: a restarted bot rebuilds its active jobs from it and resends `run` to
 * agents that reconnect (agents start a runId at most once, and resend what was not acked).
 */
export class JobManager {
  private readonly active = new ActiveJobs();
  private readonly agentInfo = new Map<string, AgentInfo>();
  private readonly events: JobEvents;
  private readonly waiters: JobWaiters;
  private readonly pendingStops: PendingStops;
  private readonly dispatcher: Dispatcher;
  private readonly lostAgents: LostAgents;
  private readonly recovery: RestartRecovery;
  private readonly runMessages: RunMessages;
  private readonly stopper: JobStopper;
  private stopping = false;

  constructor(private readonly deps: JobManagerDeps) {
    const { store, transport, log } = deps;
    const active = this.active;
    const events = new JobEvents(log);
    const waiters = new JobWaiters(store);
    const pendingStops = new PendingStops({ store, transport });
    const completion = new JobCompletion({ store, active, events, waiters, pendingStops });
    const dispatcher = new Dispatcher({ store, transport, events, completion, infoOf: (agent) => this.info(agent) });
    const lostAgents = new LostAgents({ store, transport, log, active, events, completion, dispatcher, lostGraceMs: deps.lostGraceMs });
    this.events = events;
    this.waiters = waiters;
    this.pendingStops = pendingStops;
    this.dispatcher = dispatcher;
    this.lostAgents = lostAgents;
    this.recovery = new RestartRecovery({
      store,
      transport,
      log,
      active,
      completion,
      dispatcher,
      lostAgents,
      recoveryGraceMs: deps.recoveryGraceMs,
      reconnectSettleMs: deps.reconnectSettleMs,
    });
    this.runMessages = new RunMessages({
      store,
      log,
      active,
      events,
      completion,
      dispatcher,
      pendingStops,
      maxOutputBytes: deps.maxOutputBytes,
    });
    this.stopper = new JobStopper({ store, transport, active, completion, dispatcher, pendingStops });
  }

  /** Wires the transport and picks up jobs that were running before a restart. */
  /** Instance ids of the sessions a child of an unfinished job runs (or waits to run) in: they are Busy. */
  busySessions(): Set<string> {
    const busy = new Set<string>();
    for (const job of this.active.all()) {
      const sessions = job.spec.sessions;
      if (!sessions) continue;
      for (const c of job.children.values()) {
        const s = sessions[c.id - job.id - 1];
        if (s !== undefined && !isFinished(c.state)) busy.add(s.instanceId);
      }
    }
    return busy;
  }

  start(): void {
    this.deps.transport.on({
      connected: (agent, info) => this.onConnected(agent, info),
      disconnected: (agent) => this.lostAgents.disconnected(agent),
      removed: (agent) => this.lostAgents.removed(agent),
      runMessages: (batch) => this.runMessages.handleBatch(batch),
    });
    this.recovery.resume();
  }

  /** Call before the transport stops: connections it drops then are not agents going away. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.recovery.stop();
    this.lostAgents.stop();
    this.events.emit({ type: 'stopping' });
    this.events.clear();
  }

  /** How many listeners follow jobs now (presenters, waits): a removed job's must be gone. */
  listenerCount(): number {
    return this.events.count();
  }

  on(listener: JobListener): () => void {
    return this.events.on(listener);
  }

  /** What the connected agent reported (configurations, default configuration). */
  info(agent: string): AgentInfo | undefined {
    return this.agentInfo.get(agentKey(agent));
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
    const active = this.active.activate(created.job, created.children, req.run);
    this.dispatcher.pump(active);
    // Read again: the first wave may already have finished it (no agent connected).
    return store.getJob(created.job.id)!;
  }

  /**
   * Stop-Job: queued children stop at once, running ones are told to stop (the agent kills the
   * process tree and reports Stopped). A child whose agent is gone is marked Stopped here.
   */
  stopJob(jobId: number): void {
    this.stopper.stopJob(jobId);
  }

  /** Stop-Job of one child job (named by its Id): only that computer's run stops. */
  stopChild(jobId: number, childId: number): void {
    this.stopper.stopChild(jobId, childId);
  }

  /** Resolves when the job is finished (undefined if it does not exist or the timeout passed). */
  waitFor(jobId: number, timeoutMs?: number): Promise<JobRecord | undefined> {
    return this.waiters.waitFor(jobId, timeoutMs);
  }

  /**
   * Forgets a removed job (the caller deletes it from the store). Its runs that may still be
   * running (Remove-Job -Force before the agents confirmed the stop) become pending stops, which
   * outlive the job.
   */
  forget(jobId: number): void {
    const active = this.active.get(jobId);
    if (active) {
      this.pendingStops.addUnfinished(active);
      this.active.deactivate(active);
    }
    // Whoever waits for a removed job stops waiting.
    this.waiters.resolve(jobId, undefined);
    this.events.emit({ type: 'removed', jobId });
  }

  private onConnected(agent: string, info: AgentInfo): void {
    this.agentInfo.set(agentKey(agent), info);
    this.lostAgents.reconnected(agent);
    // Stops it may not have had (sent into a connection that was already dead, or given up while
    // it was away): it may still run them. A run with a pending stop is never sent again, so a
    // stopped command whose `run` was lost cannot start late.
    const stops = this.pendingStops.sendTo(agent);
    this.recovery.reconnected(agent, stops);
  }
}
