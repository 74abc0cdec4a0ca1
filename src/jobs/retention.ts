import type { Logger } from '../log.js';
import type { JobStore } from '../store/job-store.js';
import type { JobManager } from './job-manager.js';
import { formatDuration } from '../duration.js';

/**
 * JOB_RETENTION: a finished job is kept, with its output, for the retention period after it
 * ended, then deleted as by Remove-Job. Unfinished jobs are never pruned. Runs at start and then
 * periodically; a bot that was down prunes what expired meanwhile when it starts.
 */
export class RetentionPruner {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      store: JobStore;
      jobs: JobManager;
      log: Logger;
      /** 0 keeps jobs forever (nothing runs). */
      retentionMs: number;
    },
  ) {}

  start(): void {
    if (this.deps.retentionMs <= 0) return;
    this.pruneNow();
    // Often enough that a job outlives its retention by at most a quarter of it (or an hour).
    const every = Math.min(Math.max(Math.floor(this.deps.retentionMs / 4), 1000), 3_600_000);
    this.timer = setInterval(() => this.pruneNow(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Deletes the jobs that ended more than the retention period before `now`; returns their ids. */
  pruneNow(now: number = Date.now()): number[] {
    const { store, jobs, log, retentionMs } = this.deps;
    if (retentionMs <= 0) return [];
    let ids: number[];
    try {
      ids = store.pruneJobsEndedBefore(new Date(now - retentionMs).toISOString());
    } catch (e) {
      // A busy or closing database: the next round tries again.
      log.warn('could not prune expired jobs', { error: String(e) });
      return [];
    }
    for (const id of ids) jobs.forget(id);
    if (ids.length > 0) log.info('pruned expired jobs', { jobs: ids.length, retention: formatDuration(retentionMs) });
    return ids;
  }
}
