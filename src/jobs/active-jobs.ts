// The in-memory state of unfinished jobs (their children, throttle queue, runs in flight) and the
// runId index into them. Bookkeeping only: storing and messaging are the collaborators' job.
import type { JobState } from '../messages/model.js';
import type { ChildJobRecord, JobRecord, JobRunSpec } from '../store/job-store.js';
import { isFinished } from './job-state.js';

export interface ChildInfo {
  id: number;
  runId: string;
  computer: string;
  agent?: string;
  state: JobState;
  dispatched: boolean;
}

/** In-memory state of an unfinished job; the store stays the truth across restarts. */
export interface ActiveJob {
  id: number;
  limit: number;
  queue: number[];
  /** Dispatched children not finished yet: at most `limit` of them. */
  inFlight: Set<number>;
  children: Map<number, ChildInfo>;
  remaining: number;
  /** Unfinished children that are Disconnected (their agent away): all of `remaining` makes the parent Disconnected. */
  disconnected: number;
  /** The parent's live state (Running or Disconnected) as last seen by JobCompletion.refreshLiveState. */
  liveState?: JobState;
  spec: JobRunSpec;
  stopRequested: boolean;
  /** Picked up after a restart: queued children wait for their agents to reconnect. */
  recovering: boolean;
}

/** Agent names compare case-insensitively: the key of everything kept per agent. */
export const agentKey = (agent: string): string => agent.toLowerCase();

/** Whether the child runs (or is to run) on the agent with key `key`. */
export function isOn(child: ChildInfo, key: string): boolean {
  return child.agent !== undefined && agentKey(child.agent) === key;
}

export class ActiveJobs {
  private readonly jobs = new Map<number, ActiveJob>();
  /** runId → (job, child) for runs of active jobs. */
  private readonly runs = new Map<string, { jobId: number; childId: number }>();

  get(jobId: number): ActiveJob | undefined {
    return this.jobs.get(jobId);
  }

  has(jobId: number): boolean {
    return this.jobs.has(jobId);
  }

  /** Live view: a job finished while iterating drops out of it. */
  all(): IterableIterator<ActiveJob> {
    return this.jobs.values();
  }

  /** The active job and child a run belongs to, if its job is still active. */
  byRun(runId: string): { job: ActiveJob; child: ChildInfo } | undefined {
    const ref = this.runs.get(runId);
    const job = ref ? this.jobs.get(ref.jobId) : undefined;
    const child = ref && job ? job.children.get(ref.childId) : undefined;
    return job && child ? { job, child } : undefined;
  }

  /** Tracks a stored job: unfinished children are queued (not started) or in flight (dispatched). */
  activate(job: JobRecord, children: ChildJobRecord[], spec: JobRunSpec): ActiveJob {
    const active: ActiveJob = {
      id: job.id,
      limit: job.throttleLimit,
      queue: [],
      inFlight: new Set(),
      children: new Map(),
      remaining: 0,
      disconnected: 0,
      spec,
      stopRequested: job.stopRequested,
      recovering: false,
    };
    for (const c of children) {
      active.children.set(c.id, {
        id: c.id,
        runId: c.runId,
        computer: c.computer,
        ...(c.agent !== undefined ? { agent: c.agent } : {}),
        state: c.state,
        dispatched: c.dispatched,
      });
      if (!isFinished(c.state)) {
        active.remaining++;
        if (c.state === 'Disconnected') active.disconnected++;
        this.runs.set(c.runId, { jobId: job.id, childId: c.id });
        if (c.state === 'NotStarted') active.queue.push(c.id);
        else if (c.dispatched) active.inFlight.add(c.id);
      }
    }
    this.jobs.set(job.id, active);
    return active;
  }

  deactivate(job: ActiveJob): void {
    for (const c of job.children.values()) this.runs.delete(c.runId);
    this.jobs.delete(job.id);
  }
}
