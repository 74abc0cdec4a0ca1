import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue } from '../../language/values.js';
import type { ChildJobRecord, JobRecord } from '../../store/job-store.js';
import { JOB_STATES, type JobState } from '../../messages/model.js';
import { type ExecContext, safePost, showError } from '../context.js';
import { isObjectRef } from '../../language/conversion.js';
import { jobTable } from '../../messages/results.js';
import { forgetJobStatus } from '../job-presenter.js';
import { asArray, asNumber, asNumbers, asString, asStrings, hasWildcard, jobRef, wildcard } from '../value-helpers.js';

/**
 * How the job cmdlets find, show and delete jobs (reference 3.11 shared lookup semantics).
 */

/** A job the user named: a top-level job, or one of its children when an Id/Name matched a child. */
export interface Selected {
  job: JobRecord;
  child?: ChildJobRecord;
}

/** FQID JobWithSpecifiedSessionNotFound. */
function idNotFound(id: number | string): string {
  return `The command cannot find a job with the job ID ${id}. Verify the value of the Id parameter and then try the command again.`;
}

/** Deletes a job and its stored output (Remove-Job, -AutoRemoveJob, retention). */
export function removeJobRecord(ctx: ExecContext, jobId: number): void {
  ctx.services.jobs.forget(jobId);
  ctx.services.store.deleteJob(jobId);
  forgetJobStatus(ctx.services, jobId);
}

/**
 * -State / -ChildJobState. The binder has converted the value to a JobState member name already
 * (numbers, unique prefixes and their errors: language/conversion.ts convertEnum).
 */
export function stateParam(v: PsValue | undefined): JobState | undefined {
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
export async function selectJobs(
  call: BoundCall,
  ctx: ExecContext,
  options: { recurse: boolean /** Counts the jobs named that were not found (each shown as an error). */; misses?: { count: number } },
): Promise<Selected[]> {
  const p = call.parameters;
  const miss = async (text: string): Promise<void> => {
    if (options.misses) options.misses.count++;
    await showError(ctx, text);
  };
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
      else await miss(idNotFound(id ?? String(v)));
    }
  } else if (p.Id !== undefined) {
    for (const id of asNumbers(p.Id)) {
      const found = findById(id);
      if (found) add(found);
      else await miss(idNotFound(id));
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
        await miss(
          `The command cannot find the job because the job name ${name} was not found. Verify the value of the Name parameter, and then try the command again.`,
        );
      }
    }
  } else if (p.InstanceId !== undefined) {
    for (const iid of asStrings(p.InstanceId)) {
      const key = iid.toLowerCase();
      let found: Selected | undefined;
      for (const job of jobs) {
        if (job.instanceId === key) found = { job };
        else if (options.recurse) {
          const child = store.children(job.id).find((c) => c.instanceId === key);
          if (child) found = { job, child };
        }
        if (found) break;
      }
      if (found) add(found);
      else
        await miss(
          `The command cannot find a job with the instance identifier ${iid}. Verify the value of the InstanceId parameter, and then try the command again.`,
        );
    }
  } else if (p.State !== undefined) {
    const state = stateParam(p.State);
    for (const job of jobs) if (job.state === state) add({ job });
  } else if (p.Command !== undefined) {
    // PowerShell's Command of a remote job is the script-block text; ours shows the whole typed
    // line. A pattern matches either, trimmed, case-insensitively, wildcards allowed.
    const patterns = asStrings(p.Command).map((pat) => {
      const text = pat.trim();
      const like = wildcard(text);
      return (cmd: string): boolean => cmd.toLowerCase() === text.toLowerCase() || like(cmd);
    });
    for (const job of jobs) {
      const texts = [job.command.trim(), store.getRunSpec(job.id)?.script.trim() ?? ''];
      if (patterns.some((matches) => texts.some(matches))) add({ job });
    }
  } else if (p.Filter !== undefined) {
    // Filters only reach job-source adapters (scheduled jobs); remote jobs never match.
  } else {
    for (const job of jobs) add({ job });
  }
  return out;
}

export async function showJobs(ctx: ExecContext, selected: Selected[], empty?: string): Promise<void> {
  if (!ctx.display) return;
  if (selected.length === 0) {
    if (empty !== undefined) await safePost(ctx, { blocks: [{ kind: 'text', text: empty }] });
    return;
  }
  await safePost(ctx, { blocks: [jobTable(ctx.services.store, selected)] });
}

export function refs(selected: Selected[]): PsValue {
  return selected.map((s) => jobRef(s.child?.id ?? s.job.id));
}
