// Stop-Job: queued children stop at once; running ones are told to stop and stay pending stops
// until their agent confirms.
import type { JobStore } from '../store/job-store.js';
import type { AgentTransport } from '../transport/agent-transport.js';
import type { ActiveJob, ActiveJobs, ChildInfo } from './active-jobs.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobCompletion } from './job-completion.js';
import { isFinished } from './job-state.js';
import type { PendingStops } from './pending-stops.js';

export class JobStopper {
  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'updateJob'>;
      transport: Pick<AgentTransport, 'send'>;
      active: ActiveJobs;
      completion: JobCompletion;
      dispatcher: Dispatcher;
      pendingStops: PendingStops;
    },
  ) {}

  /**
   * Stop-Job: queued children stop at once, running ones are told to stop (the agent kills the
   * process tree and reports Stopped). A child whose agent is gone is marked Stopped here.
   */
  stopJob(jobId: number): void {
    const active = this.deps.active.get(jobId);
    if (!active) return;
    active.stopRequested = true;
    this.deps.store.updateJob(jobId, { stopRequested: true });
    active.queue = [];
    for (const child of [...active.children.values()]) this.stopChildNow(active, child);
  }

  /** Stop-Job of one child job (named by its Id): only that computer's run stops. */
  stopChild(jobId: number, childId: number): void {
    const active = this.deps.active.get(jobId);
    const child = active?.children.get(childId);
    if (!active || !child) return;
    active.queue = active.queue.filter((id) => id !== childId);
    this.stopChildNow(active, child);
    if (this.deps.active.has(jobId)) this.deps.dispatcher.pump(active);
  }

  private stopChildNow(active: ActiveJob, child: ChildInfo): void {
    if (isFinished(child.state)) return;
    if (child.dispatched && child.agent !== undefined && this.deps.transport.send(child.agent, { op: 'stop', runId: child.runId })) {
      // Handed to the connection, which may already be dead: kept until the agent confirms, and
      // sent again when it reconnects.
      this.deps.pendingStops.add(active, child);
      return;
    }
    this.deps.completion.finishChild(
      active,
      child,
      'Stopped',
      child.dispatched ? `The job was stopped; the agent ${child.computer} was not connected to confirm it.` : undefined,
      undefined,
      child.dispatched,
    );
  }
}
