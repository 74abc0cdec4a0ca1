import type { BoundCall } from '../../language/bound-call';
import type { PsValue } from '../../language/values';
import type { JobRecord } from '../../store/job-store';
import { JOB_STATES, type Block, type JobState } from '../../messages/model';
import { type ExecContext, safePost, showError } from '../context';
import { ChatOpsError } from '../../errors';
import { isObjectRef } from '../../language/conversion';
import { childHasMoreData, hasMoreData, isFinished, PERSISTENT_STATES } from '../../jobs/job-state';
import { failureText, jobTable, renderResults, type ChildOutput } from '../../messages/results';
import { postResultBlocks, refreshJobStatus } from '../job-presenter';
import { receiveAndWait, removeJobRecord, type Selected } from './receive-job-wait';
import { outputValues } from './invoke-command';
import {
  asArray,
  asBool,
  asNumber,
  asNumbers,
  asString,
  asStrings,
  hasWildcard,
  jobRef,
  wildcard,
} from '../value-helpers';

/**
 * -State / -ChildJobState. The binder has converted the value to a JobState member name already
 * (numbers, unique prefixes and their errors: language/conversion.ts convertEnum).
 */
function stateParam(v: PsValue | undefined): JobState | undefined {
  const s = asString(v);
  return JOB_STATES.find((x) => x === s);
}

function visibleJobs(ctx: ExecContext): JobRecord[] {
  return ctx.services.store.listJobs(ctx.admin ? undefined : ctx.channel);
}

/**
 * Finds the jobs a job cmdlet names (reference 3.11 lookup semantics). Jobs of other channels
 * do not exist for the caller unless it is an admin. Misses are non-terminating errors.
 */
async function selectJobs(call: BoundCall, ctx: ExecContext, options: { recurse: boolean }): Promise<Selected[]> {
  const p = call.parameters;
  const jobs = visibleJobs(ctx);
  const store = ctx.services.store;
  const out: Selected[] = [];
  const add = (s: Selected): void => {
    if (!out.some((o) => o.job.id === s.job.id && o.child?.id === s.child?.id)) out.push(s);
  };
  const findById = (id: number): Selected | undefined => {
    const job = jobs.find((j) => j.id === id);
    if (job) return { job };
    const child = store.getChild(id);
    if (child && options.recurse) {
      const parent = jobs.find((j) => j.id === child.parentId);
      if (parent) return { job: parent, child };
    }
    return undefined;
  };

  if (p.Job !== undefined) {
    for (const v of asArray(p.Job)) {
      const id = isObjectRef(v) && v.kind === 'job' ? Number(v.id) : asNumber(v);
      const found = id !== undefined ? findById(id) : undefined;
      if (found) add(found);
      else await showError(ctx, `The command cannot find a job with the job ID ${id ?? String(v)}. Verify the value of the Id parameter and then try the command again.`);
    }
  } else if (p.Id !== undefined) {
    for (const id of asNumbers(p.Id)) {
      const found = findById(id);
      if (found) add(found);
      else await showError(ctx, `The command cannot find a job with the job ID ${id}. Verify the value of the Id parameter and then try the command again.`);
    }
  } else if (p.Name !== undefined) {
    for (const name of asStrings(p.Name)) {
      const match = wildcard(name);
      let any = false;
      for (const job of jobs) {
        if (match(job.name)) {
          add({ job });
          any = true;
        }
        if (options.recurse) {
          for (const child of store.children(job.id)) {
            if (match(child.name)) {
              add({ job, child });
              any = true;
            }
          }
        }
      }
      if (!any && !hasWildcard(name)) {
        await showError(ctx, `The command cannot find the job because the job name ${name} was not found. Verify the value of the Name parameter, and then try the command again.`);
      }
    }
  } else if (p.InstanceId !== undefined) {
    for (const iid of asStrings(p.InstanceId)) {
      const key = iid.toLowerCase();
      let found: Selected | undefined = undefined;
      for (const job of jobs) {
        if (job.instanceId === key) found = { job };
        else if (options.recurse) {
          const child = store.children(job.id).find((c) => c.instanceId === key);
          if (child) found = { job, child };
        }
        if (found) break;
      }
      if (found) add(found);
      else await showError(ctx, `The command cannot find a job with the instance identifier ${iid}. Verify the value of the InstanceId parameter, and then try the command again.`);
    }
  } else if (p.State !== undefined) {
    const state = stateParam(p.State);
    for (const job of jobs) if (job.state === state) add({ job });
  } else if (p.Command !== undefined) {
    const patterns = asStrings(p.Command);
    for (const job of jobs) {
      const cmd = job.command.trim();
      if (patterns.some((pat) => cmd.toLowerCase() === pat.trim().toLowerCase() || wildcard(pat.trim())(cmd))) add({ job });
    }
  } else if (p.Filter !== undefined) {
    // Filters only reach job-source adapters (scheduled jobs); remote jobs never match.
  } else {
    for (const job of jobs) add({ job });
  }
  return out;
}

async function showJobs(ctx: ExecContext, selected: Selected[], empty?: string): Promise<void> {
  if (!ctx.display) return;
  if (selected.length === 0) {
    if (empty !== undefined) await safePost(ctx, { blocks: [{ kind: 'text', text: empty }] });
    return;
  }
  await safePost(ctx, { blocks: [jobTable(ctx.services.store, selected)] });
}

function refs(selected: Selected[]): PsValue {
  return selected.map((s) => jobRef(s.child?.id ?? s.job.id));
}

function parseDate(v: PsValue | undefined, name: string): number {
  const s = asString(v) ?? '';
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new ChatOpsError('InvalidArgument', `Cannot convert value "${s}" to type "System.DateTime" for -${name}.`);
  return t;
}

export async function getJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  let selected = await selectJobs(call, ctx, { recurse: true });
  const store = ctx.services.store;
  // -ChildJobState adds the children in that state, with or without -IncludeChildJob.
  const byChildState = p.ChildJobState !== undefined;
  const childState = byChildState ? stateParam(p.ChildJobState) : undefined;
  if (byChildState || asBool(p.IncludeChildJob)) {
    const extra: Selected[] = [];
    for (const s of selected) {
      if (s.child) continue;
      for (const c of store.children(s.job.id)) if (!byChildState || c.state === childState) extra.push({ job: s.job, child: c });
    }
    selected = [...selected, ...extra];
  }
  if (p.HasMoreData !== undefined) {
    const want = p.HasMoreData === true;
    selected = selected.filter((s) => (s.child ? childHasMoreData(ctx.services.store, s.child) : hasMoreData(ctx.services.store, s.job)) === want);
  }
  const endOf = (s: Selected): number | undefined => {
    const e = s.child ? s.child.endTime : s.job.endTime;
    return e === undefined ? undefined : Date.parse(e);
  };
  if (p.Before !== undefined) {
    const t = parseDate(p.Before, 'Before');
    selected = selected.filter((s) => (endOf(s) ?? Infinity) < t);
  }
  if (p.After !== undefined) {
    const t = parseDate(p.After, 'After');
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
  await showJobs(ctx, selected, 'No jobs.');
  return refs(selected);
}

export async function receiveJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  const wait = asBool(p.Wait);
  if (asBool(p.Keep) && wait) {
    throw new ChatOpsError('ParameterBindingFailed', 'The Wait and Keep parameters cannot be used together in the same command.');
  }
  if (asBool(p.AutoRemoveJob) && !wait) throw new ChatOpsError('InvalidOperation', 'The -AutoRemoveJob parameter cannot be used without the -Wait parameter');
  if (asBool(p.WriteJobInResults) && !wait) throw new ChatOpsError('InvalidOperation', 'The -WriteJobInResults parameter cannot be used without the -Wait parameter');
  if (asBool(p.WriteEvents) && !wait) throw new ChatOpsError('InvalidOperation', 'The WriteEvents parameter cannot be used without the Wait parameter.');
  if (asBool(p.Force) && !wait) throw new ChatOpsError('InvalidOperation', 'The -Force parameter cannot be used without the -Wait parameter.');
  if (p.Session !== undefined) {
    throw new ChatOpsError('NotSupported', 'Receive-Job -Session is not supported yet: persistent sessions are on the roadmap. Use -ComputerName or -Location.');
  }

  const selected = await selectJobs(call, ctx, { recurse: true });
  const store = ctx.services.store;
  const locations = p.Location !== undefined ? asStrings(p.Location) : p.ComputerName !== undefined ? asStrings(p.ComputerName).map((c) => (c === '.' ? 'localhost' : c)) : undefined;
  const noRecurse = asBool(p.NoRecurse);
  if (wait) {
    return receiveAndWait(ctx, selected, {
      force: asBool(p.Force),
      writeEvents: asBool(p.WriteEvents),
      writeJobInResults: asBool(p.WriteJobInResults),
      autoRemoveJob: asBool(p.AutoRemoveJob),
      noRecurse,
      ...(locations !== undefined ? { locations } : {}),
    });
  }
  const keep = asBool(p.Keep);
  const values: PsValue[] = [];

  for (const s of selected) {
    const job = store.getJob(s.job.id) ?? s.job;
    let children = s.child ? [store.getChild(s.child.id) ?? s.child] : noRecurse ? [] : store.children(job.id);
    if (locations) children = children.filter((c) => locations.some((l) => l.toLowerCase() === c.computer.toLowerCase()));
    const outputs: ChildOutput[] = children.map((child) => ({ child, records: store.unreadOutput(child.id) }));
    values.push(...outputValues(outputs.flatMap((o) => o.records)));
    const blocks: Block[] = renderResults(outputs, { hideComputerName: job.hideComputerName, showFailures: false });
    const failures = children.filter((c) => c.state === 'Failed');
    let allPosted = true;
    if (ctx.display) {
      const header: Block = { kind: 'text', text: `Receive-Job ${job.name} (Id ${job.id}${s.child ? `, child ${s.child.id} on ${s.child.computer}` : ''}): ${job.state}` };
      allPosted = (await safePost(ctx, { blocks: [header] })) !== undefined;
      if (blocks.length === 0 && failures.length === 0) {
        await safePost(ctx, { blocks: [{ kind: 'text', text: isFinished(job.state) ? 'No new output.' : 'No new output yet; the job is still running.' }] });
      } else {
        const posted = await postResultBlocks(outputs, job.hideComputerName, async (m) => (await safePost(ctx, m)) !== undefined, { showStopReasons: false });
        allPosted &&= posted;
      }
    }
    // A Failed job also emits its failure reasons as errors (JobStateFailed), so the command
    // fails. Shown results already carry each failed child's reason; it is repeated as an error
    // only when nothing was shown.
    if (failures.length > 0) ctx.outcome.ok = false;
    if (!ctx.display) {
      // The value holds the output stream only; what the jobs wrote to stderr is still shown,
      // as PowerShell writes a job's error records even when its output is assigned.
      for (const b of blocks) if (b.kind === 'error') await showError(ctx, b.text);
      for (const c of failures) await showError(ctx, failureText(c, job.hideComputerName));
    }
    if (!keep) {
      let read = false;
      for (const { child, records } of outputs) {
        const last = records[records.length - 1];
        // Output that could not be shown stays unread, so nothing is lost.
        if (last && allPosted) {
          store.markRead(child.id, last.id);
          read = true;
        }
      }
      // HasMoreData may have changed: the job's status message (and its -AsJob row) follows.
      if (read) await refreshJobStatus(ctx.services, job.id);
    }
  }
  return values;
}

export async function waitJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  const timeoutSec = asNumber(p.Timeout) ?? -1;
  const any = asBool(p.Any);
  const force = asBool(p.Force);
  const selected = (await selectJobs(call, ctx, { recurse: true })).filter((s) => !s.child);
  if (timeoutSec === 0) return [];
  const done = (j: JobRecord): boolean => (force ? isFinished(j.state) : PERSISTENT_STATES.has(j.state));
  const store = ctx.services.store;
  // A job removed meanwhile (Remove-Job in another command) is no longer waited for.
  const current = (): JobRecord[] => selected.flatMap((s) => store.getJob(s.job.id) ?? []);
  const deadline = timeoutSec < 0 ? undefined : Date.now() + timeoutSec * 1000;
  const ready = (): boolean => {
    const jobs = current();
    return jobs.length === 0 || (any ? jobs.some(done) : jobs.every(done));
  };
  while (!ready()) {
    const remaining = deadline === undefined ? undefined : deadline - Date.now();
    if (remaining !== undefined && remaining <= 0) return []; // timeouts end without output or error
    const waits = current()
      .filter((j) => !done(j))
      .map((j) => ctx.services.jobs.waitFor(j.id, remaining));
    await (any ? Promise.race(waits) : Promise.all(waits));
  }
  let result = current().filter(done);
  if (any) result = result.slice(0, 1);
  await showJobs(ctx, result.map((job) => ({ job })));
  if (result.some((j) => j.state === 'Suspended' || j.state === 'Disconnected')) {
    await showError(ctx, 'One or more jobs are in a suspended or disconnected state, and cannot continue without additional user input.  Specify the -Force parameter to continue to a completed, failed, or stopped state.');
  }
  return result.map((j) => jobRef(j.id));
}

/**
 * ShouldProcess targets of Stop-Job and Remove-Job (reference 3.11.4/3.11.5, gotcha 17: the two
 * cmdlets use swapped resource strings, hence `a job` vs `the job`).
 */
function whatIfLine(action: 'Stop' | 'Remove', job: JobRecord): string {
  const article = action === 'Stop' ? 'a' : 'the';
  return `What if: Performing the operation "${action}" on target "Remote Command: ${job.command}, associated with ${article} job that has an ID of "${job.id}".".`;
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
  const selected = (await selectJobs(call, ctx, { recurse: true })).filter((s) => !s.child);
  const whatIf = asBool(call.parameters.WhatIf);
  const stopping: JobRecord[] = [];
  const whatIfLines: string[] = [];
  for (const s of selected) {
    if (isFinished(s.job.state)) continue; // already finished jobs are skipped silently, before ShouldProcess
    if (whatIf) {
      whatIfLines.push(whatIfLine('Stop', s.job));
      continue;
    }
    ctx.services.jobs.stopJob(s.job.id);
    stopping.push(s.job);
  }
  await postWhatIf(ctx, whatIfLines);
  // The children become Stopped when their agents confirm (they kill the process trees first).
  const confirmed = await Promise.all(stopping.map((j) => ctx.services.jobs.waitFor(j.id, STOP_CONFIRM_MS)));
  if (asBool(call.parameters.PassThru)) {
    const fresh = selected.map((s) => ({ job: ctx.services.store.getJob(s.job.id) ?? s.job }));
    await showJobs(ctx, fresh);
    return refs(fresh);
  }
  if (ctx.display && stopping.length > 0) {
    const lines = stopping.map((j, i) => {
      const now = confirmed[i];
      return now !== undefined
        ? `Stopping ${j.name} (Id ${j.id}): ${now.state}.`
        : `Stopping ${j.name} (Id ${j.id}): not all its agents have confirmed yet; it becomes Stopped when they do.`;
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
      await showError(ctx, 'The command cannot remove the job because it does not exist or because it is a child job. Child jobs can be removed only by removing the parent job.');
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
      whatIfLines.push(whatIfLine('Remove', job));
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
