import { FINISHED_STATES, type JobState } from '../messages/model';

/** Persistent states per the reference (4.1): finished + Suspended + Disconnected. */
export const PERSISTENT_STATES: ReadonlySet<JobState> = new Set([
  'Completed',
  'Failed',
  'Stopped',
  'Suspended',
  'Disconnected',
]);

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
