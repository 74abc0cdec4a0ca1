import { FINISHED_STATES, type JobState } from '../messages/model.js';
import type { ChildJobRecord, JobStore } from '../store/job-store.js';

/** Persistent states per the reference (4.1): finished + Suspended + Disconnected. */
export const PERSISTENT_STATES: ReadonlySet<JobState> = new Set(['Completed', 'Failed', 'Stopped', 'Suspended', 'Disconnected']);

export function isFinished(state: JobState): boolean {
  return FINISHED_STATES.has(state);
}

/**
 * PSRemotingJob parent state from its children (reference 4.3): any Blocked → Blocked; when every
 * child is finished or disconnected: any Disconnected → Disconnected, else any Failed → Failed,
 * else a requested stop (or a stopped child) → Stopped, else Completed. Otherwise Running.
 */
export function aggregateState(children: readonly JobState[], stopRequested: boolean): JobState {
  if (children.some((s) => s === 'Blocked')) return 'Blocked';
  if (children.some((s) => s === 'AtBreakpoint')) return 'AtBreakpoint';
  const settled = children.every((s) => isFinished(s) || s === 'Disconnected');
  if (!settled) return 'Running';
  if (children.some((s) => s === 'Disconnected')) return 'Disconnected';
  if (children.some((s) => s === 'Failed')) return 'Failed';
  if (stopRequested || children.some((s) => s === 'Stopped')) return 'Stopped';
  return 'Completed';
}

/** Counts per state, for status views. */
export function countStates(children: readonly JobState[]): Partial<Record<JobState, number>> {
  const out: Partial<Record<JobState, number>> = {};
  for (const s of children) out[s] = (out[s] ?? 0) + 1;
  return out;
}

/**
 * PowerShell's HasMoreData: the job (or child) is still running, or some of its output was not
 * received yet. `children` saves a read when the caller has them.
 */
export function hasMoreData(
  store: Pick<JobStore, 'children' | 'hasUnreadOutput'>,
  job: { id: number; state: JobState },
  children?: readonly ChildJobRecord[],
): boolean {
  if (!isFinished(job.state)) return true;
  return (children ?? store.children(job.id)).some((c) => store.hasUnreadOutput(c.id));
}

export function childHasMoreData(store: Pick<JobStore, 'hasUnreadOutput'>, child: ChildJobRecord): boolean {
  return !isFinished(child.state) || store.hasUnreadOutput(child.id);
}
