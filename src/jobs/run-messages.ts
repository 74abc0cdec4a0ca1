// What agents report about their runs (output and state messages): stored first, within the
// per-child output limit (JOB_MAX_OUTPUT); a final state finishes the child.
import type { Logger } from '../log.js';
import type { JobState } from '../messages/model.js';
import type { OutputMessage, StateMessage } from '../protocol/agent-protocol.js';
import type { JobStore } from '../store/job-store.js';
import type { RunMessageFrom } from '../transport/agent-transport.js';
import { agentKey, type ActiveJobs } from './active-jobs.js';
import type { Dispatcher } from './dispatcher.js';
import type { JobCompletion } from './job-completion.js';
import type { JobEvents } from './job-events.js';
import { isFinished } from './job-state.js';
import type { PendingStops } from './pending-stops.js';

/** JOB_MAX_OUTPUT's default. */
export const DEFAULT_MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

export class RunMessages {
  private readonly maxOutputBytes: number;

  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'childByRunId' | 'recordFinalSeq' | 'appendRunOutput' | 'transaction'>;
      log: Logger;
      active: ActiveJobs;
      events: JobEvents;
      completion: JobCompletion;
      dispatcher: Dispatcher;
      pendingStops: PendingStops;
      /** JOB_MAX_OUTPUT: most output bytes stored per child; default 16 MiB. */
      maxOutputBytes?: number;
    },
  ) {
    this.maxOutputBytes = deps.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  }

  /**
   * A batch from the transport (see AgentTransportHandlers.runMessages): one transaction for all
   * of it, each message in a nested one of its own, so a message that cannot be stored (a bug, a
   * malformed value) is the only one lost to the batch. Returns the indexes of those.
   */
  handleBatch(batch: readonly RunMessageFrom[]): number[] {
    const failed: number[] = [];
    this.deps.store.transaction(() => {
      for (const [i, { agent, message }] of batch.entries()) {
        try {
          this.deps.store.transaction(() => this.handle(agent, message));
        } catch (e) {
          this.deps.log.error('could not store a run message', {
            agent,
            runId: message.runId,
            seq: message.seq,
            error: e instanceof Error ? e.message : String(e),
          });
          failed.push(i);
        }
      }
    });
    return failed;
  }

  handle(agent: string, msg: OutputMessage | StateMessage): void {
    const { store, log, pendingStops } = this.deps;
    const { job, child: info } = this.deps.active.byRun(msg.runId) ?? {};
    // Runs of finished or unknown jobs (late resends): look them up to store late output.
    const child =
      job && info ? { id: info.id, parentId: job.id, computer: info.computer, agent: info.agent } : store.childByRunId(msg.runId);
    if (!child) {
      // A removed job's run: its final state confirms a pending stop.
      if (msg.op === 'state' && msg.state !== 'Running') pendingStops.confirm(agent, msg.runId);
      log.debug('message for an unknown or removed run', { agent, runId: msg.runId });
      return;
    }
    if (child.agent === undefined || agentKey(child.agent) !== agentKey(agent)) {
      // An agent may only ever write into its own runs.
      log.warn('agent sent a message for a run it does not own; dropped', { agent, runId: msg.runId });
      return;
    }
    // A final state confirms any stop sent for the run, and nothing may follow it.
    if (msg.op === 'state' && msg.state !== 'Running') {
      pendingStops.confirm(agent, msg.runId);
      store.recordFinalSeq(child.id, msg.seq);
    }
    if (msg.op === 'output') {
      const outcome = store.appendRunOutput(
        {
          jobId: child.parentId,
          childId: child.id,
          computer: child.computer,
          runId: msg.runId,
          seq: msg.seq,
          stream: msg.stream,
          data: msg.data,
          at: msg.at,
        },
        this.maxOutputBytes,
      );
      if (outcome === 'stored' || outcome === 'cut')
        this.deps.events.emit({ type: 'output', jobId: child.parentId, childId: child.id, stream: msg.stream });
      if (outcome === 'after-final') {
        // An honest agent never sends this: its outbox ends a run with the final state.
        log.warn("agent sent output after its run's final state; dropped", { agent, runId: msg.runId, seq: msg.seq });
      } else if (outcome === 'cut') {
        log.warn('a run reached the output limit (JOB_MAX_OUTPUT); later output is dropped', {
          agent,
          runId: msg.runId,
          maxBytes: this.maxOutputBytes,
        });
      }
      return;
    }
    if (!job || !info || isFinished(info.state)) {
      // The first final state wins; resends are no-ops.
      return;
    }
    if (msg.state === 'Running') return;
    // The agent's state stands: a pwsh script that ran to its end after `exit 3` is Completed with
    // exit code 3, as PowerShell reports its jobs; bash/sh executors fail a non-zero exit themselves.
    const state: JobState = msg.state;
    let reason = msg.reason;
    if (state === 'Failed' && reason === undefined) {
      reason = msg.exitCode !== undefined ? `The command exited with code ${msg.exitCode}.` : 'The command failed.';
    }
    this.deps.completion.finishChild(job, info, state, reason, msg.exitCode);
    if (this.deps.active.has(job.id)) this.deps.dispatcher.pump(job);
  }
}
