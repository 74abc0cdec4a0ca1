import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue } from '../../language/values.js';
import type { JobRecord } from '../../store/job-store.js';
import { type ExecContext, safePost, showError } from '../context.js';
import { childHasMoreData, hasMoreData, isFinished, PERSISTENT_STATES } from '../../jobs/job-state.js';
import { refs, removeJobRecord, selectJobs, showJobs, stateParam, type Selected } from './job-selection.js';
import { asBool, asNumber, asString } from '../value-helpers.js';
import { currentState, waitUntil } from '../job-waits.js';
import type { JobState } from '../../messages/model.js';
import { jobCommandText } from '../../messages/results.js';

/** Get-Job, Wait-Job, Stop-Job and Remove-Job (reference 3.11); Receive-Job is in receive-job.ts. */

/** -Before / -After: the binder has converted the value to an ISO DateTime string already. */
function dateParam(v: PsValue | undefined): number {
  return Date.parse(asString(v) ?? '');
}

export async function getJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  const misses = { count: 0 };
  let selected = await selectJobs(call, ctx, { recurse: true, misses });
  const store = ctx.services.store;
  // -ChildJobState adds the children in that state, with or without -IncludeChildJob. Both apply
  // when bound, whatever the value: PowerShell's FindChildJobs checks BoundParameters, so even
  // -IncludeChildJob:$false adds the children (reference 3.11.1).
  const byChildState = p.ChildJobState !== undefined;
  const childState = byChildState ? stateParam(p.ChildJobState) : undefined;
  if (byChildState || p.IncludeChildJob !== undefined) {
    const extra: Selected[] = [];
    for (const s of selected) {
      if (s.child) continue;
      for (const c of store.children(s.job.id)) if (!byChildState || c.state === childState) extra.push({ job: s.job, child: c });
    }
    selected = [...selected, ...extra];
  }
  if (p.HasMoreData !== undefined) {
    const want = p.HasMoreData === true;
    selected = selected.filter(
      (s) => (s.child ? childHasMoreData(ctx.services.store, s.child) : hasMoreData(ctx.services.store, s.job)) === want,
    );
  }
  const endOf = (s: Selected): number | undefined => {
    const e = s.child ? s.child.endTime : s.job.endTime;
    return e === undefined ? undefined : Date.parse(e);
  };
  if (p.Before !== undefined) {
    const t = dateParam(p.Before);
    selected = selected.filter((s) => (endOf(s) ?? Infinity) < t);
  }
  if (p.After !== undefined) {
    const t = dateParam(p.After);
    selected = selected.filter((s) => (endOf(s) ?? -Infinity) > t);
  }
  if (p.Newest !== undefined) {
    const n = asNumber(p.Newest) ?? 0;
    selected = selected
      .filter((s) => endOf(s) !== undefined)
      .sort((a, b) => endOf(b)! - endOf(a)!)
      .slice(0, Math.max(0, n));
  }
  selected.sort((a, b) => (a.child?.id ?? a.job.id) - (b.child?.id ?? b.job.id));
  // `Get-Job 999` shows only its error, as PowerShell does; `No jobs.` answers a question that
  // found nothing (PowerShell prints nothing; in chat an empty answer reads as lost).
  await showJobs(ctx, selected, misses.count > 0 ? undefined : 'No jobs.');
  return refs(selected);
}

export async function waitJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  const timeoutSec = asNumber(p.Timeout) ?? -1;
  const any = asBool(p.Any);
  const force = asBool(p.Force);
  // Child jobs named by Id or Name are waited for as themselves (lookups recurse, 3.11).
  const selected = await selectJobs(call, ctx, { recurse: true });
  if (timeoutSec === 0) return [];
  const done = (state: JobState): boolean => (force ? isFinished(state) : PERSISTENT_STATES.has(state));
  // A job removed meanwhile (Remove-Job in another command) is no longer waited for.
  const present = (): Selected[] => selected.filter((s) => currentState(ctx.services, s) !== undefined);
  const isDone = (s: Selected): boolean => done(currentState(ctx.services, s)!);
  const ready = (): boolean => {
    const left = present();
    return left.length === 0 || (any ? left.some(isDone) : left.every(isDone));
  };
  const jobIds = new Set(selected.map((s) => s.job.id));
  // Cancelled (Ctrl-C), the wait ends as a timeout does; the jobs keep running, as in PowerShell.
  const finished = await waitUntil(ctx.services, jobIds, ready, timeoutSec < 0 ? undefined : timeoutSec * 1000, ctx.command.signal);
  if (!finished) return []; // a timeout ends without output or error
  let result = present()
    .filter(isDone)
    .map((s) => fresh(ctx, s));
  if (any) result = result.slice(0, 1);
  await showJobs(ctx, result);
  const states = result.map((s) => s.child?.state ?? s.job.state);
  if (states.some((state) => state === 'Suspended' || state === 'Disconnected')) {
    await showError(
      ctx,
      'One or more jobs are in a suspended or disconnected state, and cannot continue without additional user input.  Specify the -Force parameter to continue to a completed, failed, or stopped state.',
    );
  }
  return refs(result);
}

/** The job (and child) as stored now. */
function fresh(ctx: ExecContext, s: Selected): Selected {
  const job = ctx.services.store.getJob(s.job.id) ?? s.job;
  const child = s.child ? (ctx.services.store.getChild(s.child.id) ?? s.child) : undefined;
  return child ? { job, child } : { job };
}

/**
 * ShouldProcess targets of Stop-Job and Remove-Job (reference 3.11.4/3.11.5, gotcha 17: the two
 * cmdlets use swapped resource strings, hence `a job` vs `the job`).
 */
function whatIfLine(ctx: ExecContext, action: 'Stop' | 'Remove', job: JobRecord, id: number = job.id): string {
  const article = action === 'Stop' ? 'a' : 'the';
  // The job's Command as Get-Job shows it (the script block's text), as PowerShell's target does.
  const command = jobCommandText(ctx.services.store, job);
  return `What if: Performing the operation "${action}" on target "Remote Command: ${command}, associated with ${article} job that has an ID of "${id}".".`;
}

/** -WhatIf messages go to the host in PowerShell: here, the channel, whatever the pipeline position. */
async function postWhatIf(ctx: ExecContext, lines: string[]): Promise<void> {
  if (lines.length > 0) await safePost(ctx, { blocks: [{ kind: 'text', text: lines.join('\n') }] });
}

/**
 * How long Stop-Job waits for the agents to confirm. PowerShell's Stop-Job returns once the jobs
 * are stopped; an agent that does not answer must not hold the channel's command forever.
 */
const STOP_CONFIRM_MS = 10_000;

export async function stopJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  // A child job named by Id or Name stops alone (lookups recurse, 3.11); a parent stops them all.
  const selected = await selectJobs(call, ctx, { recurse: true });
  const whatIf = asBool(call.parameters.WhatIf);
  const stopping: Selected[] = [];
  const whatIfLines: string[] = [];
  for (const s of selected) {
    const state = currentState(ctx.services, s);
    if (state === undefined || isFinished(state)) continue; // finished jobs are skipped silently, before ShouldProcess
    if (whatIf) {
      whatIfLines.push(whatIfLine(ctx, 'Stop', s.job, s.child?.id));
      continue;
    }
    // Who stopped it is on the job's status from its next drawing (the final one included).
    ctx.services.store.updateJob(s.job.id, { stoppedBy: ctx.command.user.displayName });
    if (s.child) ctx.services.jobs.stopChild(s.job.id, s.child.id);
    else ctx.services.jobs.stopJob(s.job.id);
    stopping.push(s);
  }
  await postWhatIf(ctx, whatIfLines);
  // The children become Stopped when their agents confirm (they kill the process trees first).
  const jobIds = new Set(stopping.map((s) => s.job.id));
  await waitUntil(
    ctx.services,
    jobIds,
    () => stopping.every((s) => isFinished(currentState(ctx.services, s) ?? 'Stopped')),
    STOP_CONFIRM_MS,
  );
  if (asBool(call.parameters.PassThru)) {
    const now = selected.map((s) => fresh(ctx, s));
    await showJobs(ctx, now);
    return refs(now);
  }
  // Without -PassThru Stop-Job writes nothing, as in PowerShell: the job's status message shows
  // Stopped (and who stopped it). Only a stop the agents have not confirmed yet is told, since
  // the job then still reads Stopping/Running for a while.
  const unconfirmed = stopping.filter((s) => {
    if (ctx.services.store.getJob(s.job.id) === undefined) return false;
    const now = fresh(ctx, s);
    return !isFinished(now.child?.state ?? now.job.state);
  });
  if (ctx.display && unconfirmed.length > 0) {
    const lines = unconfirmed.map((s) => {
      const name = s.child ? `${s.child.name} (Id ${s.child.id}, on ${s.child.computer})` : `${s.job.name} (Id ${s.job.id})`;
      return `Stopping ${name}: not all its agents have confirmed yet; it becomes Stopped when they do.`;
    });
    await safePost(ctx, { blocks: [{ kind: 'text', text: lines.join('\n') }] });
  }
  return [];
}

export async function removeJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  const byStateOrCommand = p.State !== undefined || p.Command !== undefined;
  const force = asBool(p.Force);
  // Name search is top-level only for Remove-Job.
  const selected = await selectJobs(call, ctx, { recurse: p.Name === undefined });
  const whatIf = asBool(p.WhatIf);
  const removed: string[] = [];
  const whatIfLines: string[] = [];
  for (const s of selected) {
    if (s.child) {
      await showError(
        ctx,
        'The command cannot remove the job because it does not exist or because it is a child job. Child jobs can be removed only by removing the parent job.',
      );
      continue;
    }
    const job = ctx.services.store.getJob(s.job.id) ?? s.job;
    if (!isFinished(job.state)) {
      if (!force && !byStateOrCommand) {
        const text =
          p.Name !== undefined
            ? `The command cannot remove the job with the job ID ${job.id} and the name ${job.name} because the job is not finished. To remove the job, first stop the job, or use the Force parameter.`
            : p.InstanceId !== undefined
              ? `The command cannot remove the job with the job ID ${job.id} and the instance identifier ${job.instanceId} because the job is not finished. To remove the job, first stop the job or use the Force parameter.`
              : `The command cannot remove the job with the job ID ${job.id} because the job is not finished. To remove the job, first stop the job, or use the Force parameter.`;
        await showError(ctx, text);
        continue;
      }
    }
    // As in RemoveJobCommand: the finished check happens while finding jobs, ShouldProcess after it.
    if (whatIf) {
      whatIfLines.push(whatIfLine(ctx, 'Remove', job));
      continue;
    }
    if (!isFinished(job.state)) ctx.services.jobs.stopJob(job.id);
    removeJobRecord(ctx, job.id);
    removed.push(`${job.name} (Id ${job.id})`);
  }
  await postWhatIf(ctx, whatIfLines);
  if (ctx.display && removed.length > 0) {
    await safePost(ctx, { blocks: [{ kind: 'text', text: `Removed ${removed.join(', ')}.` }] });
  }
  return [];
}
