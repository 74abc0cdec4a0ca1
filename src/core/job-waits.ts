import type { JobState } from '../messages/model.js';
import type { CoreServices } from './context.js';

/** setTimeout's limit (about 24.8 days); longer waits are armed again in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves true once `ready()` holds, or false when `timeoutMs` passes first (undefined: no
 * limit), the bot is stopping or `signal` aborts (the command was cancelled). Wakes on job
 * events of the jobs in `jobIds` (state changes, removal) instead of polling; `ready` reads the
 * store.
 */
export function waitUntil(
  services: Pick<CoreServices, 'jobs'>,
  jobIds: ReadonlySet<number>,
  ready: () => boolean,
  timeoutMs: number | undefined,
  signal?: AbortSignal,
): Promise<boolean> {
  if (ready()) return Promise.resolve(true);
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const onAbort = (): void => finish(false);
    const finish = (value: boolean): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unsubscribe();
      resolve(value);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const unsubscribe = services.jobs.on((ev) => {
      if (ev.type === 'stopping') finish(false);
      else if (ev.type !== 'output' && jobIds.has(ev.type === 'job' ? ev.job.id : ev.jobId) && ready()) finish(true);
    });
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    const arm = (): void => {
      if (deadline === undefined) return;
      const left = deadline - Date.now();
      if (left <= 0) finish(ready());
      else timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    };
    arm();
  });
}

/** The current state of a job or one child (undefined once removed). */
export function currentState(
  services: Pick<CoreServices, 'store'>,
  target: { job: { id: number }; child?: { id: number } },
): JobState | undefined {
  return target.child ? services.store.getChild(target.child.id)?.state : services.store.getJob(target.job.id)?.state;
}
