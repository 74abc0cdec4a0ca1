// How children and jobs end: a child's final state is stored and announced, and the parent takes
// its final state (reference 4.3) once every child has finished.
import type { JobState } from '../messages/model.js';
import type { JobStore } from '../store/job-store.js';
import type { ActiveJob, ActiveJobs, ChildInfo } from './active-jobs.js';
import type { JobEvents } from './job-events.js';
import type { JobWaiters } from './job-waiters.js';
import type { PendingStops } from './pending-stops.js';
import { aggregateState, isFinished } from './job-state.js';

export class JobCompletion {
  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'updateChild' | 'updateJob' | 'getJob'>;
      active: ActiveJobs;
      events: JobEvents;
      waiters: JobWaiters;
      pendingStops: PendingStops;
    },
  ) {}

  /** `unconfirmed`: finished here while the agent may still be running it (a pending stop). */
  finishChild(job: ActiveJob, child: ChildInfo, state: JobState, reason?: string, exitCode?: number, unconfirmed = false): void {
    if (isFinished(child.state)) return;
    if (unconfirmed) this.deps.pendingStops.add(job, child);
    this.deps.store.updateChild(child.id, {
      state,
      ...(reason !== undefined ? { reason } : {}),
      ...(exitCode !== undefined ? { exitCode } : {}),
      endTime: new Date().toISOString(),
    });
    if (child.state === 'Disconnected') job.disconnected--;
    child.state = state;
    job.inFlight.delete(child.id);
    job.remaining--;
    this.deps.events.emit({ type: 'child', jobId: job.id, childId: child.id, state });
    if (job.remaining === 0) this.finishJob(job);
    // The children still running may all be Disconnected now: then so is the parent.
    else this.refreshLiveState(job);
  }

  /**
   * The parent of unfinished children is Disconnected when all of them are, else Running
   * (PowerShell's PSRemotingJob). A parent that is stopping (or in any other state) is left as it is.
   */
  refreshLiveState(job: ActiveJob): void {
    // Counted, not scanned: this runs once per finished child of a fan-out.
    const state: JobState = job.remaining > 0 && job.disconnected === job.remaining ? 'Disconnected' : 'Running';
    if (job.liveState === state) return;
    job.liveState = state;
    const current = this.deps.store.getJob(job.id);
    if (!current || current.state === state || (current.state !== 'Running' && current.state !== 'Disconnected')) return;
    this.deps.store.updateJob(job.id, { state });
    this.deps.events.emit({ type: 'job', job: { ...current, state } });
  }

  /** Every child finished: the parent takes its final state (reference 4.3). */
  finishJob(job: ActiveJob): void {
    const { store } = this.deps;
    const states = [...job.children.values()].map((c) => c.state);
    const state = aggregateState(states, job.stopRequested);
    const failed = states.filter((s) => s === 'Failed').length;
    store.updateJob(job.id, {
      state,
      endTime: new Date().toISOString(),
      ...(state === 'Failed' ? { reason: `${failed} of ${states.length} child jobs failed.` } : {}),
    });
    this.deps.active.deactivate(job);
    const updated = store.getJob(job.id);
    if (!updated) return;
    this.deps.events.emit({ type: 'job', job: updated });
    this.deps.waiters.resolve(job.id, updated);
  }
}
