// Wait-Job's promises: who waits for which job to finish (or to be removed), with timeouts.
import type { JobRecord, JobStore } from '../store/job-store.js';
import { isFinished } from './job-state.js';

export class JobWaiters {
  private readonly waiters = new Map<number, Array<(job: JobRecord | undefined) => void>>();

  constructor(private readonly store: Pick<JobStore, 'getJob'>) {}

  /** Resolves when the job is finished (undefined if it does not exist or the timeout passed). */
  waitFor(jobId: number, timeoutMs?: number): Promise<JobRecord | undefined> {
    const job = this.store.getJob(jobId);
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
          if (l)
            this.waiters.set(
              jobId,
              l.filter((f) => f !== done),
            );
          resolve(undefined);
        }, timeoutMs);
      }
    });
  }

  /** Ends every wait for the job: with the finished job, or undefined when it was removed. */
  resolve(jobId: number, job: JobRecord | undefined): void {
    const waiters = this.waiters.get(jobId) ?? [];
    this.waiters.delete(jobId);
    for (const w of waiters) w(job);
  }
}
