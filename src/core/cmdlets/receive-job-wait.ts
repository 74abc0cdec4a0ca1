import type { HashtableValue, PsValue } from '../../language/values.js';
import type { JobRecord } from '../../store/job-store.js';
import type { JobState } from '../../messages/model.js';
import type { JobEvent } from '../../jobs/job-manager.js';
import { type ExecContext, safePost, showError } from '../context.js';
import { isFinished, PERSISTENT_STATES } from '../../jobs/job-state.js';
import { failureText, jobTable, renderResults, type ChildOutput } from '../../messages/results.js';
import { markAllRead, postResultBlocks, refreshJobStatus } from '../job-presenter.js';
import { removeJobRecord, type Selected } from './job-selection.js';
import { jobRef } from '../value-helpers.js';

export interface ReceiveWaitOptions {
  /** -Force: wait for Completed/Failed/Stopped only (else any persistent state ends the wait). */
  force: boolean;
  writeEvents: boolean;
  writeJobInResults: boolean;
  autoRemoveJob: boolean;
  noRecurse: boolean;
  /** -Location / -ComputerName: only these children (compared case-insensitively). */
  locations?: string[];
}

/** A job or child whose state changes are followed (for the end of the wait and -WriteEvents). */
interface Tracked {
  id: number;
  name: string;
  isChild: boolean;
  /** The last state seen. */
  state: JobState;
  /** Its event was written (PowerShell writes at most one per job). */
  evented: boolean;
}

interface StateEvent {
  target: Tracked;
  previous: JobState | undefined;
  state: JobState;
  reason: string | undefined;
}

/**
 * Receive-Job -Wait (reference 3.11.2): writes what the selected jobs have now, then streams new
 * output as it is stored, until every selected job is in a persistent state (with -Force:
 * finished). Output is posted per computer, grouped, titled as its job was started
 * (-HideComputerName), at most about once per `statusIntervalMs`, and marked received only once
 * posted: what could not be posted stays unread for the next Receive-Job.
 *
 * -WriteEvents follows PowerShell's ReceiveJobCommand: each followed job (the named jobs, and their
 * children unless -NoRecurse) writes one JobStateEventArgs when it reaches the state that ends its
 * wait, or at once (without a previous state) when it is already there. Events come after the
 * output received with them, as values and as `Job 7 (Job7) state changed: Running -> Completed`.
 */
export async function receiveAndWait(ctx: ExecContext, selected: Selected[], options: ReceiveWaitOptions): Promise<PsValue[]> {
  const { store, jobs, statusIntervalMs } = ctx.services;
  const done = (state: JobState): boolean => (options.force ? isFinished(state) : PERSISTENT_STATES.has(state));
  const locations = options.locations?.map((l) => l.toLowerCase());

  // What ends the wait (units), whose output streams (streamed: child id → its job), and whose
  // state changes are events (targets, keyed by id: jobs and children share one Id counter).
  const units: Tracked[] = [];
  const streamed = new Map<number, JobRecord>();
  const targets = new Map<number, Tracked>();
  const track = (id: number, name: string, isChild: boolean, state: JobState): Tracked => {
    const t = targets.get(id) ?? { id, name, isChild, state, evented: false };
    targets.set(id, t);
    return t;
  };
  for (const s of selected) {
    if (s.child) {
      const child = store.getChild(s.child.id) ?? s.child;
      if (locations && !locations.includes(child.computer.toLowerCase())) continue;
      units.push(track(child.id, child.name, true, child.state));
      streamed.set(child.id, s.job);
      continue;
    }
    const job = store.getJob(s.job.id) ?? s.job;
    const children = options.noRecurse ? [] : store.children(job.id);
    if (locations) {
      for (const c of store.children(job.id)) {
        if (!locations.includes(c.computer.toLowerCase())) continue;
        units.push(track(c.id, c.name, true, c.state));
        streamed.set(c.id, job);
      }
      continue;
    }
    for (const c of children) {
      track(c.id, c.name, true, c.state);
      streamed.set(c.id, job);
    }
    units.push(track(job.id, job.name, false, job.state));
  }

  const currentState = (t: Tracked): JobState | undefined => (t.isChild ? store.getChild(t.id)?.state : store.getJob(t.id)?.state);
  // A job removed meanwhile (Remove-Job in another command) is no longer waited for.
  const allDone = (): boolean =>
    units.every((u) => {
      const s = currentState(u);
      return s === undefined || done(s);
    });

  const values: PsValue[] = [];
  if (options.writeJobInResults) values.push(...selected.map((s) => jobRef(s.child?.id ?? s.job.id)));
  const pendingEvents: StateEvent[] = [];
  const reasonOf = (t: Tracked): string | undefined => (t.isChild ? store.getChild(t.id)?.reason : store.getJob(t.id)?.reason);
  const noteState = (id: number, state: JobState): void => {
    const t = targets.get(id);
    if (!t) return;
    const previous = t.state;
    t.state = state;
    if (options.writeEvents && !t.evented && done(state)) {
      t.evented = true;
      pendingEvents.push({ target: t, previous, state, reason: reasonOf(t) });
    }
  };
  if (options.writeEvents) {
    for (const t of targets.values()) {
      if (!done(t.state)) continue;
      t.evented = true;
      pendingEvents.push({ target: t, previous: undefined, state: t.state, reason: reasonOf(t) });
    }
  }

  // ---- posting ----------------------------------------------------------------------------
  const partial = new Map<number, string>();
  const reported = new Set<number>();
  let postedAnything = false;
  let postFailed = false;
  let lastFlush = 0;
  let flushing: Promise<void> = Promise.resolve();

  const takeLines = (childId: number, data: string, final: boolean): void => {
    const text = (partial.get(childId) ?? '') + data;
    const lines = text.split('\n');
    const rest = lines.pop() ?? '';
    values.push(...lines);
    if (final && rest !== '') {
      values.push(rest);
      partial.delete(childId);
    } else partial.set(childId, rest);
  };

  // The streamed children per job: each job's output is received under that job's lock.
  const streamedByJob = new Map<number, { job: JobRecord; childIds: number[] }>();
  for (const [childId, job] of streamed) {
    const entry = streamedByJob.get(job.id) ?? { job, childIds: [] };
    entry.childIds.push(childId);
    streamedByJob.set(job.id, entry);
  }

  /**
   * Reads, posts and marks read one job's unread output, under the job's lock (per flush, not
   * for the whole wait): a Receive-Job typed meanwhile shows what this flush did not.
   */
  const receiveJob = async (job: JobRecord, childIds: number[]): Promise<void> => {
    const outputs: ChildOutput[] = [];
    for (const childId of childIds) {
      const child = store.getChild(childId);
      if (!child) continue;
      const records = store.unreadOutput(childId);
      // PowerShell writes the reasons of Failed jobs only (JobStateFailed), once.
      const failedNow = child.state === 'Failed' && !reported.has(childId);
      if (records.length === 0 && !failedNow) continue;
      outputs.push({ child, records });
    }
    if (outputs.length === 0) return;
    let posted = true;
    if (ctx.display) {
      posted = await postResultBlocks(outputs, job.hideComputerName, async (m) => (await safePost(ctx, m)) !== undefined, {
        showStopReasons: false,
      });
      postedAnything ||= posted;
      postFailed ||= !posted;
    } else {
      // Assigned or piped: the value holds the output stream; stderr is still shown, as errors.
      const blocks = renderResults(outputs, { hideComputerName: job.hideComputerName, showFailures: false });
      for (const b of blocks) if (b.kind === 'error') await showError(ctx, b.text);
    }
    // Output that could not be shown stays unread (and is tried again with the next post).
    if (!posted) return;
    markAllRead(store, outputs);
    for (const { child, records } of outputs) {
      for (const r of records) if (r.stream === 'output') takeLines(child.id, r.data, false);
      if (child.state === 'Failed' && !reported.has(child.id)) {
        reported.add(child.id);
        // The reason is an error of the command (JobStateFailed); a post already showed it.
        ctx.outcome.ok = false;
        if (!ctx.display) await showError(ctx, failureText(child, job.hideComputerName));
      }
    }
  };

  const flushNow = async (final: boolean): Promise<void> => {
    lastFlush = Date.now();
    const events = pendingEvents.splice(0);
    for (const { job, childIds } of streamedByJob.values()) {
      await ctx.services.jobLocks.withLock(job.id, () => receiveJob(job, childIds));
    }
    if (final) for (const childId of [...partial.keys()]) takeLines(childId, '', true);
    if (events.length > 0) {
      values.push(...events.map(eventValue));
      if (ctx.display) {
        const posted = await safePost(ctx, { blocks: [{ kind: 'text', text: events.map(eventText).join('\n') }] });
        postedAnything ||= posted !== undefined;
      }
    }
  };
  // A flush runs after the previous one, whether or not that one failed (its caller saw that).
  const flush = (final = false): Promise<void> =>
    (flushing = flushing.then(
      () => flushNow(final),
      () => flushNow(final),
    ));

  // ---- waiting ----------------------------------------------------------------------------
  let ended = false;
  let stopping = false;
  let endWait!: () => void;
  const waitEnded = new Promise<void>((resolve) => (endWait = resolve));
  let flushTimer: NodeJS.Timeout | undefined;
  const finishWait = (): void => {
    ended = true;
    endWait();
  };
  const scheduleFlush = (): void => {
    if (flushTimer || ended) return;
    const wait = Math.max(0, lastFlush + statusIntervalMs - Date.now());
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      // Nobody awaits a timed flush: a failure (the store closing under it) is logged here.
      if (!ended) flush().catch((e: unknown) => ctx.services.log.warn('Receive-Job -Wait: flush failed', { error: String(e) }));
    }, wait);
  };
  const onEvent = (ev: JobEvent): void => {
    if (ended) return;
    if (ev.type === 'stopping') {
      // The store is about to close: no more reads; unread output stays for after the restart.
      stopping = true;
      finishWait();
      return;
    }
    if (ev.type === 'output') {
      if (streamed.has(ev.childId)) scheduleFlush();
      return;
    }
    if (ev.type === 'removed') {
      if (allDone()) finishWait();
      return;
    }
    const id = ev.type === 'job' ? ev.job.id : ev.childId;
    if (!targets.has(id)) return;
    noteState(id, ev.type === 'job' ? ev.job.state : ev.state);
    if (allDone()) finishWait();
    else if (ev.type === 'child' && streamed.has(id) && isFinished(ev.state)) scheduleFlush();
    else if (pendingEvents.length > 0) scheduleFlush();
  };

  // Subscribed before the first read, so nothing stored meanwhile is missed. Every change that
  // ends the wait comes as an event, removal included (JobManager.forget emits 'removed').
  const unsubscribe = jobs.on(onEvent);
  // Cancelled (Ctrl-C): the wait ends and what arrived is shown; the jobs keep running.
  const signal = ctx.command.signal;
  const onAbort = (): void => finishWait();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) finishWait();
  try {
    if (ctx.display && selected.length > 0) {
      const lines = selected.map((s) => {
        const job = store.getJob(s.job.id) ?? s.job;
        const what = s.child ? `, child ${s.child.id} on ${s.child.computer}` : '';
        return `Receive-Job ${job.name} (Id ${job.id}${what}): ${job.state}.`;
      });
      if (!allDone()) lines.push('Waiting: new output is posted as it arrives, until the job ends.');
      await safePost(ctx, { blocks: [{ kind: 'text', text: lines.join('\n') }] });
      if (options.writeJobInResults) await safePost(ctx, { blocks: [jobTable(store, selected)] });
    }
    await flush();
    if (allDone()) finishWait();
    await waitEnded;
  } finally {
    unsubscribe();
    signal?.removeEventListener('abort', onAbort);
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
  }
  await flushing;
  if (stopping) {
    if (ctx.display) {
      await safePost(ctx, {
        blocks: [
          {
            kind: 'text',
            text: 'The bot is stopping: Receive-Job -Wait ended. Output not shown yet is kept; Receive-Job shows it once the bot is back.',
          },
        ],
      });
    }
    return values;
  }

  // Transitions no event told of (a job removed, a missed event): written as PowerShell would.
  if (options.writeEvents) {
    for (const t of targets.values()) {
      const state = currentState(t);
      if (t.evented || state === undefined || !done(state)) continue;
      t.evented = true;
      pendingEvents.push({ target: t, previous: t.state !== state ? t.state : undefined, state, reason: reasonOf(t) });
    }
  }
  await flush(true);

  const summary: string[] = [];
  for (const s of selected) {
    const job = store.getJob(s.job.id);
    if (!job) {
      summary.push(`${s.job.name} (Id ${s.job.id}) was removed.`);
      continue;
    }
    if (options.autoRemoveJob && !s.child && isFinished(job.state)) {
      removeJobRecord(ctx, job.id);
      summary.push(`${job.name} (Id ${job.id}) is ${job.state}; removed (-AutoRemoveJob).`);
      continue;
    }
    summary.push(`${job.name} (Id ${job.id}) is ${job.state}.`);
    await refreshJobStatus(ctx.services, job.id);
  }
  if (postFailed) {
    // Tried again with every later post; what is still unread is kept for the next Receive-Job.
    const unread = [...streamed.keys()].some((id) => store.hasUnreadOutput(id));
    if (unread) {
      ctx.outcome.ok = false;
      summary.push('Some output could not be posted; it is kept unread: Receive-Job shows it.');
    }
  }
  // Nothing was found (the not-found errors said so): nothing to sum up.
  if (ctx.display && selected.length > 0) {
    if (!postedAnything && !postFailed) summary.push('No new output.');
    await safePost(ctx, { blocks: [{ kind: 'text', text: summary.join('\n') }] });
  }
  return values;
}

function stateInfo(state: JobState, reason?: string): HashtableValue {
  return {
    kind: 'hashtable',
    entries: [{ key: 'State', value: state }, ...(reason !== undefined ? [{ key: 'Reason', value: reason }] : [])],
  };
}

/**
 * PowerShell's JobStateEventArgs (JobStateInfo, PreviousJobStateInfo: State and Reason), plus
 * the Id and Name of the job it is about: in chat several jobs' events share one result.
 */
function eventValue(e: StateEvent): PsValue {
  return {
    kind: 'hashtable',
    entries: [
      { key: 'JobStateInfo', value: stateInfo(e.state, e.reason) },
      { key: 'PreviousJobStateInfo', value: e.previous !== undefined ? stateInfo(e.previous) : null },
      { key: 'JobId', value: e.target.id },
      { key: 'JobName', value: e.target.name },
    ],
  };
}

function eventText(e: StateEvent): string {
  const who = `Job ${e.target.id} (${e.target.name})`;
  return e.previous !== undefined && e.previous !== e.state
    ? `${who} state changed: ${e.previous} -> ${e.state}`
    : `${who} state: ${e.state}`;
}
