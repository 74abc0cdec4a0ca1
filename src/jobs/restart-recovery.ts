// Picking up after a restart: unfinished jobs are rebuilt from the store, their queued children
// wait a grace period for their agents, and agents that do not dial in again within the settle
// time go Disconnected. Also every agent that connects gets its running runs resent.
import type { Logger } from '../log.js';
import type { JobStore } from '../store/job-store.js';
import type { AgentTransport } from '../transport/agent-transport.js';
import type { ActiveJobs } from './active-jobs.js';
import { runMessage, type Dispatcher } from './dispatcher.js';
import type { JobCompletion } from './job-completion.js';
import type { LostAgents } from './lost-agents.js';

export class RestartRecovery {
  private recoveryTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'unfinishedJobs' | 'getRunSpec' | 'children' | 'runningChildrenOn'>;
      transport: Pick<AgentTransport, 'connected' | 'isConnected' | 'send'>;
      log: Logger;
      active: ActiveJobs;
      completion: JobCompletion;
      dispatcher: Dispatcher;
      lostAgents: LostAgents;
      /** JobManagerDeps.recoveryGraceMs: how long queued children of a resumed job wait for their agent. */
      recoveryGraceMs: number;
      /** JobManagerDeps.reconnectSettleMs: how long agents with running children have to dial in again. */
      reconnectSettleMs: number;
    },
  ) {}

  /** Picks up jobs that were running before a restart (the transport is wired already). */
  resume(): void {
    const { transport, store, active: jobs } = this.deps;
    for (const job of store.unfinishedJobs()) {
      const spec = store.getRunSpec(job.id);
      if (!spec) continue;
      const active = jobs.activate(job, store.children(job.id), spec);
      active.recovering = true;
      this.deps.log.info('resuming job after restart', { job: job.id, queued: active.queue.length, running: active.inFlight.size });
      if (active.remaining === 0) this.deps.completion.finishJob(active);
    }
    // A transport started before the manager (a shared connection) already has agents.
    for (const agent of transport.connected()) this.resendRuns(agent);
    // Agents with running children normally dial in again within moments of a restart; those
    // that have not after the settle time are away (Disconnected), and the lost-agent grace
    // period counts from then.
    const withRuns = new Set<string>();
    for (const job of jobs.all()) {
      for (const c of job.children.values()) {
        if (c.dispatched && c.agent !== undefined && (c.state === 'Running' || c.state === 'Disconnected')) withRuns.add(c.agent);
      }
    }
    if (withRuns.size > 0) {
      this.settleTimer = setTimeout(() => {
        for (const agent of withRuns) if (!transport.isConnected(agent)) this.deps.lostAgents.disconnected(agent, true);
      }, this.deps.reconnectSettleMs);
      this.settleTimer.unref();
    }
    if ([...jobs.all()].some((j) => j.recovering)) {
      this.recoveryTimer = setTimeout(() => {
        for (const j of jobs.all()) {
          if (!j.recovering) continue;
          j.recovering = false;
          this.deps.dispatcher.pump(j);
        }
      }, this.deps.recoveryGraceMs);
      this.recoveryTimer.unref();
    }
  }

  /**
   * An agent connected: it gets its running runs again (it starts a runId at most once), except
   * those in `stopped`, and resumed jobs dispatch the children that waited for it.
   */
  reconnected(agent: string, stopped: ReadonlySet<string>): void {
    this.resendRuns(agent, stopped);
    for (const j of this.deps.active.all()) if (j.recovering) this.deps.dispatcher.pump(j);
  }

  stop(): void {
    if (this.recoveryTimer) clearTimeout(this.recoveryTimer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
  }

  private resendRuns(agent: string, stopped: ReadonlySet<string> = new Set()): void {
    const { store, transport, active } = this.deps;
    for (const child of store.runningChildrenOn(agent)) {
      if (stopped.has(child.runId)) continue;
      const spec = active.get(child.parentId)?.spec ?? store.getRunSpec(child.parentId);
      if (spec)
        transport.send(
          agent,
          runMessage(child.runId, spec, child.configurationName ?? spec.configurationName ?? '', child.id - child.parentId - 1),
        );
    }
  }
}
