// Agents that went away: their running children show Disconnected, return to Running when the
// agent reconnects, and end Failed (agent lost) when it has not within AGENT_LOST_GRACE.
import type { Logger } from '../log.js';
import type { JobState } from '../messages/model.js';
import type { JobStore } from '../store/job-store.js';
import type { AgentTransport } from '../transport/agent-transport.js';
import { formatDuration } from '../duration.js';
import { agentKey, isOn, type ActiveJobs, type ChildInfo } from './active-jobs.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobCompletion } from './job-completion.js';
import type { JobEvents } from './job-events.js';

function removedReason(agent: string): string {
  return `The agent ${agent} was removed (npm run admin -- agent remove), so it can never come back. Output it sent before that is kept.`;
}

function lostReason(agent: string, graceMs: number): string {
  return `The agent ${agent} was lost: it did not reconnect within ${formatDuration(graceMs)} (AGENT_LOST_GRACE). Output it sent before that is kept.`;
}

export class LostAgents {
  /** Per agent (lower-cased) that went away with children on it: when they are given up. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'transaction' | 'updateChild' | 'updateJob' | 'getJob'>;
      transport: Pick<AgentTransport, 'isConnected'>;
      log: Logger;
      active: ActiveJobs;
      events: JobEvents;
      completion: JobCompletion;
      dispatcher: Dispatcher;
      /** AGENT_LOST_GRACE (JobManagerDeps.lostGraceMs). */
      lostGraceMs: number;
    },
  ) {}

  /**
   * PowerShell's Disconnected state: children running on an agent that went away wait for it
   * (the agent keeps running them and keeps their output); the parent is Disconnected when all
   * its unfinished children are. They return to Running when the agent reconnects, and end
   * Failed (agent lost) when it has not after the grace period. `hasAway`: the agent has
   * Disconnected children already (a restart found them so).
   */
  disconnected(agent: string, hasAway = false): void {
    if (this.stopped) return;
    if (this.setRunningOn(agent, 'Running', 'Disconnected') === 0 && !hasAway) return;
    const key = agentKey(agent);
    if (this.timers.has(key)) return;
    const grace = this.deps.lostGraceMs;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.onLost(agent, grace);
    }, grace);
    timer.unref();
    this.timers.set(key, timer);
    // Stored so the status can say what the bot waits for, and until when.
    this.setDeadlineOn(agent, new Date(Date.now() + grace).toISOString());
  }

  /** Records on `agent`'s Disconnected children when they will be given up. */
  private setDeadlineOn(agent: string, deadline: string): void {
    const key = agentKey(agent);
    // No event: the children's state change was announced already, and the status is drawn
    // from the store after it (and on its steady tick).
    for (const job of this.deps.active.all()) {
      for (const child of job.children.values()) {
        if (isOn(child, key) && child.state === 'Disconnected') this.deps.store.updateChild(child.id, { lostDeadline: deadline });
      }
    }
  }

  /** The agent is back: its grace period ends and its Disconnected children are Running again. */
  reconnected(agent: string): void {
    const key = agentKey(agent);
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
    this.setRunningOn(agent, 'Disconnected', 'Running');
  }

  /**
   * The agent was removed from the registry: it can never come back, so its unfinished children
   * end Failed at once instead of waiting out the grace period.
   */
  removed(agent: string): void {
    if (this.stopped) return;
    const key = agentKey(agent);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.failOn(agent, (c) => c.state === 'Running' || c.state === 'Disconnected', removedReason(agent));
  }

  /** The manager is stopping: connections dropped from now on are not agents going away. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** The grace period passed and the agent is still away: its children end Failed. */
  private onLost(agent: string, graceMs: number): void {
    if (this.stopped || this.deps.transport.isConnected(agent)) return;
    const lost = this.failOn(agent, (c) => c.state === 'Disconnected', lostReason(agent, graceMs));
    if (lost > 0) this.deps.log.warn('agent lost: its running children failed', { agent, children: lost, graceMs });
  }

  /** Ends `agent`'s dispatched children that `which` selects Failed with `reason`; returns how many. */
  private failOn(agent: string, which: (c: ChildInfo) => boolean, reason: string): number {
    const { store, active, completion, dispatcher } = this.deps;
    const key = agentKey(agent);
    let failed = 0;
    for (const job of [...active.all()]) {
      const away = [...job.children.values()].filter((c) => isOn(c, key) && c.dispatched && which(c));
      if (away.length === 0) continue;
      failed += away.length;
      store.transaction(() => {
        for (const child of away) completion.finishChild(job, child, 'Failed', reason, undefined, true);
      });
      if (active.has(job.id)) {
        completion.refreshLiveState(job);
        dispatcher.pump(job);
      }
    }
    return failed;
  }

  /** Moves `agent`'s dispatched children in state `from` to `to`; returns how many moved. */
  private setRunningOn(agent: string, from: JobState, to: JobState): number {
    const key = agentKey(agent);
    let moved = 0;
    for (const job of this.deps.active.all()) {
      let changed = false;
      for (const child of job.children.values()) {
        if (!isOn(child, key) || child.state !== from || !child.dispatched) continue;
        this.deps.store.updateChild(child.id, { state: to, ...(to === 'Running' ? { lostDeadline: null } : {}) });
        if (to === 'Disconnected') job.disconnected++;
        else if (from === 'Disconnected') job.disconnected--;
        child.state = to;
        changed = true;
        moved++;
        this.deps.events.emit({ type: 'child', jobId: job.id, childId: child.id, state: to });
      }
      if (changed) this.deps.completion.refreshLiveState(job);
    }
    return moved;
  }
}
