import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue } from '../../language/values.js';
import type { Block } from '../../messages/model.js';
import { type ChatSink, type ExecContext, safePost, showError } from '../context.js';
import type { MessageHandle } from '../ports.js';
import type { JobRecord } from '../../store/job-store.js';
import { ChatOpsError } from '../../errors.js';
import { isFinished } from '../../jobs/job-state.js';
import { failureText, renderResults, type ChildOutput } from '../../messages/results.js';
import { markAllRead, postResultBlocks, refreshJobStatus } from '../job-presenter.js';
import { receiveAndWait } from './receive-job-wait.js';
import { outputValues, pwshComputers } from './invoke-command.js';
import { selectJobs } from './job-selection.js';
import { asBool, asStrings } from '../value-helpers.js';

/**
 * Receive-Job (reference 3.11.2): shows the unread output of the named jobs (their children
 * unless -NoRecurse), grouped per computer as the job was started, and marks it received unless
 * -Keep. -Wait streams until the jobs end (receive-job-wait.ts).
 */
export async function receiveJob(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  const wait = asBool(p.Wait);
  // -Keep with -Wait, and -AutoRemoveJob/-WriteJobInResults/-WriteEvents/-Force without -Wait,
  // were refused when binding (language/cmdlets/receive-job.ts), as PowerShell does.
  if (p.Session !== undefined) {
    throw new ChatOpsError(
      'NotSupported',
      'Receive-Job -Session is not supported yet: pick the computers with -ComputerName or -Location.',
    );
  }

  const selected = await selectJobs(call, ctx, { recurse: true });
  const store = ctx.services.store;
  const locations =
    p.Location !== undefined
      ? asStrings(p.Location)
      : p.ComputerName !== undefined
        ? asStrings(p.ComputerName).map((c) => (c === '.' ? 'localhost' : c))
        : undefined;
  const noRecurse = asBool(p.NoRecurse);
  if (wait) {
    // One job: its output streams in that job's thread, as its results did.
    const jobIds = new Set(selected.map((s) => s.job.id));
    const only = jobIds.size === 1 ? selected[0]!.job : undefined;
    return receiveAndWait(only ? inJobThread(ctx, only) : ctx, selected, {
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
  const outer = ctx;

  for (const s of selected) {
    const ctx = inJobThread(outer, s.job);
    // Read, post and mark read under the job's lock, so that two receivers at once (two
    // Receive-Jobs, a -Wait stream, a synchronous Invoke-Command's results) show each output
    // once. -Keep marks nothing: it reads without the lock (marking read is one transaction).
    const receive = async (): Promise<boolean> => {
      const job = store.getJob(s.job.id) ?? s.job;
      let children = s.child ? [store.getChild(s.child.id) ?? s.child] : noRecurse ? [] : store.children(job.id);
      if (locations) children = children.filter((c) => locations.some((l) => l.toLowerCase() === c.computer.toLowerCase()));
      const outputs: ChildOutput[] = children.map((child) => ({ child, records: store.unreadOutput(child.id) }));
      values.push(
        ...outputValues(
          outputs.flatMap((o) => o.records),
          pwshComputers(outputs.map((o) => o.child)),
        ),
      );
      const blocks: Block[] = renderResults(outputs, { hideComputerName: job.hideComputerName, showFailures: false });
      const failures = children.filter((c) => c.state === 'Failed');
      let allPosted = true;
      if (ctx.display) {
        const header: Block = {
          kind: 'text',
          text: `Receive-Job ${job.name} (Id ${job.id}${s.child ? `, child ${s.child.id} on ${s.child.computer}` : ''}): ${job.state}`,
        };
        allPosted = (await safePost(ctx, { blocks: [header] })) !== undefined;
        if (blocks.length === 0 && failures.length === 0) {
          await safePost(ctx, {
            blocks: [{ kind: 'text', text: isFinished(job.state) ? 'No new output.' : 'No new output yet; the job is still running.' }],
          });
        } else {
          const posted = await postResultBlocks(outputs, job.hideComputerName, async (m) => (await safePost(ctx, m)) !== undefined, {
            showStopReasons: false,
          });
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
      // Output that could not be shown stays unread, so nothing is lost.
      return !keep && allPosted && markAllRead(store, outputs);
    };
    const read = keep ? await receive() : await ctx.services.jobLocks.withLock(s.job.id, receive);
    // HasMoreData may have changed: the job's status message (and its -AsJob row) follows.
    if (read) await refreshJobStatus(ctx.services, s.job.id);
  }
  return values;
}

/**
 * In a chat channel, what Receive-Job shows of a job goes in the thread of the job's status
 * message (where its results and state changes are), not in the channel: the context's posts
 * become replies in that thread. The console has no threads; a job of another channel (an
 * admin's Receive-Job) is answered where it was asked.
 */
export function inJobThread(ctx: ExecContext, job: JobRecord): ExecContext {
  const handle = job.threadHandle;
  if (handle === undefined || job.channel !== ctx.channel || ctx.command.user.platform === 'console') return ctx;
  const parent: MessageHandle = { id: handle };
  const sink: ChatSink = {
    replyPrivately: (m) => ctx.sink.replyPrivately(m),
    post: (m) => ctx.sink.postInThread(parent, m),
    update: (h, m) => ctx.sink.update(h, m),
    postInThread: (h, m) => ctx.sink.postInThread(h, m),
  };
  return { ...ctx, sink };
}
