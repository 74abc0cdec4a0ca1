// What followers of jobs hear: the JobEvent union and the listener set that delivers it.
import type { Logger } from '../log.js';
import type { JobState } from '../messages/model.js';
import type { JobRecord } from '../store/job-store.js';
import type { OutputStream } from '../protocol/agent-protocol.js';

/**
 * What listeners hear. Child events carry ids and the new state only (a fan-out to thousands of
 * computers must not re-read the job for each); read the store for more.
 */
export type JobEvent =
  | { type: 'child'; jobId: number; childId: number; state: JobState }
  | { type: 'job'; job: JobRecord }
  /** Output stored for a child; `stream` tells Write-Progress (shown in the status) from the rest. */
  | { type: 'output'; jobId: number; childId: number; stream: OutputStream }
  /** The job was deleted (Remove-Job, -AutoRemoveJob, retention): whoever follows it stops. */
  | { type: 'removed'; jobId: number }
  /** The manager is shutting down: listeners drop timers and stop touching the store. */
  | { type: 'stopping' };

export type JobListener = (event: JobEvent) => void;

/** The listeners of a JobManager; one failing listener does not keep the event from the others. */
export class JobEvents {
  private readonly listeners = new Set<JobListener>();

  constructor(private readonly log: Logger) {}

  on(listener: JobListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  count(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }

  emit(event: JobEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.log.error('job listener failed', { error: String(e) });
      }
    }
  }
}
