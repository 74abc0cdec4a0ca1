// Pending stops: stops handed to an agent that has not confirmed them yet. They are stored (they
// outlive the job and a restart), sent again when the agent reconnects, and cleared by the run's
// final state.
import type { JobStore } from '../store/job-store.js';
import type { AgentTransport } from '../transport/agent-transport.js';
import type { ActiveJob, ChildInfo } from './active-jobs.js';
import { isFinished } from './job-state.js';

export class PendingStops {
  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'addPendingStop' | 'pendingStopsOn' | 'clearPendingStop'>;
      transport: Pick<AgentTransport, 'send'>;
    },
  ) {}

  /** The run cannot outlive its maximum runtime (the agent enforces it), so neither does the stop. */
  add(job: ActiveJob, child: ChildInfo): void {
    if (child.agent === undefined) return;
    const max = job.spec.maxRuntimeMs;
    this.deps.store.addPendingStop(child.agent, child.runId, max > 0 ? new Date(Date.now() + max).toISOString() : undefined);
  }

  /** Every run of `job` an agent may still be running (dispatched, not finished). */
  addUnfinished(job: ActiveJob): void {
    for (const child of job.children.values()) {
      if (child.dispatched && child.agent !== undefined && !isFinished(child.state)) this.add(job, child);
    }
  }

  /** Sends the agent, which just connected, every stop it has not confirmed; returns their runIds. */
  sendTo(agent: string): Set<string> {
    const stops = new Set(this.deps.store.pendingStopsOn(agent, new Date().toISOString()));
    for (const runId of stops) this.deps.transport.send(agent, { op: 'stop', runId });
    return stops;
  }

  /** The run reached a final state: any stop sent for it is confirmed. */
  confirm(agent: string, runId: string): void {
    this.deps.store.clearPendingStop(agent, runId);
  }
}
