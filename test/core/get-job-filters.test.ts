import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import type { Block } from '../../src/messages/model.js';

/**
 * Get-Job's filters (reference 3.11 lookup semantics, 3.11.1 post-filters) on a channel holding
 * several jobs in different states that ended at different times, so that every filter has
 * jobs to keep and jobs to drop: with a filter switched off, these cases fail.
 *
 * The channel's jobs, started and finished one after the other (so their end times are ordered):
 *   first   web1        `echo one`                        Completed, output received (HasMoreData False)
 *   second  web1        `echo two; exit 3`                Failed, output unread
 *   mixed   web1,web2   `echo mixed; exit 5 on web2 only` Failed: one Completed child, one Failed child;
 *                                                         the web1 child's output received, the web2 child's not
 *   running web2        `sleep 30`                        Running, no end time
 */

let rt: TestRuntime;
const ids: Record<'first' | 'second' | 'mixed' | 'running', number> = { first: 0, second: 0, mixed: 0, running: 0 };
/** Children of `mixed`: the one on web1 (Completed) and the one on web2 (Failed). */
let mixedOk = 0;
let mixedFailed = 0;
let secondChild = 0;
let firstChild = 0;
let runningChild = 0;

const run = (text: string) => rt.run(text);

function tableOf(blocks: Block[]): Array<Record<string, string>> {
  const t = blocks.find((b) => b.kind === 'table');
  if (t?.kind !== 'table') return [];
  return t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? ''])));
}

/** The Ids Get-Job (or any job cmdlet) showed, in the order shown; fails on an error reply. */
async function shownIds(text: string): Promise<number[]> {
  const shown = await run(text);
  expect(shown.sink.replies(), text).toEqual([]);
  expect(shown.ok, text).toBe(true);
  return tableOf(shown.sink.postBlocks()).map((r) => Number(r.Id));
}

async function startAndFinish(line: string): Promise<number> {
  const started = await run(line);
  expect(started.ok, line).toBe(true);
  const id = started.jobIds[0]!;
  await run(`Wait-Job -Id ${id}`);
  // End times are stored with millisecond precision: keep them apart.
  await new Promise((r) => setTimeout(r, 20));
  return id;
}

function endTime(id: number): string {
  const e = rt.app.store.getJob(id)?.endTime;
  if (e === undefined) throw new Error(`job ${id} has no end time`);
  return e;
}

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }, { name: 'web2', env: { TEST_FAIL_HERE: '1' } }] });
  ids.first = await startAndFinish('icm web1 { echo one } -AsJob -JobName first');
  ids.second = await startAndFinish('icm web1 { echo two; exit 3 } -AsJob -JobName second');
  ids.mixed = await startAndFinish('icm web1,web2 { echo mixed; if [ -n "$TEST_FAIL_HERE" ]; then exit 5; fi } -AsJob -JobName mixed');
  const running = await run('icm web2 { sleep 30 } -AsJob -JobName running');
  ids.running = running.jobIds[0]!;
  await waitFor(() => rt.app.store.children(ids.running)[0]?.state === 'Running', 5000, 'the running job to run');

  const store = rt.app.store;
  firstChild = store.children(ids.first)[0]!.id;
  secondChild = store.children(ids.second)[0]!.id;
  runningChild = store.children(ids.running)[0]!.id;
  const mixedChildren = store.children(ids.mixed);
  mixedOk = mixedChildren.find((c) => c.computer === 'web1')!.id;
  mixedFailed = mixedChildren.find((c) => c.computer === 'web2')!.id;
  // The setup itself, so that every case below starts from what the header says.
  expect(store.getJob(ids.first)!.state).toBe('Completed');
  expect(store.getJob(ids.second)!.state).toBe('Failed');
  expect(store.getJob(ids.mixed)!.state).toBe('Failed');
  expect(store.getChild(mixedOk)!.state).toBe('Completed');
  expect(store.getChild(mixedFailed)!.state).toBe('Failed');
  expect(store.getJob(ids.running)!.endTime).toBeUndefined();
  expect(endTime(ids.first) < endTime(ids.second) && endTime(ids.second) < endTime(ids.mixed)).toBe(true);

  // `first`'s output is received: it alone has no more data. Of `mixed`, only the web1 child's
  // output is received: that child has no more data, while its parent still has.
  const received = await run(`Receive-Job -Id ${ids.first}`);
  expect(received.ok).toBe(true);
  const receivedChild = await run(`Receive-Job -Id ${mixedOk}`);
  expect(receivedChild.ok).toBe(true);
  expect(store.hasUnreadOutput(mixedOk)).toBe(false);
  expect(store.hasUnreadOutput(mixedFailed)).toBe(true);
});

afterAll(async () => {
  if (rt && ids.running) await run(`Stop-Job -Id ${ids.running}`);
  await rt?.stop();
});

describe('Get-Job filters with several jobs in one channel', () => {
  it('without filters: every top-level job, sorted by Id', async () => {
    expect(await shownIds('Get-Job')).toEqual([ids.first, ids.second, ids.mixed, ids.running]);
  });

  it('output is always sorted by Id, even when the ids are given out of order', async () => {
    expect(await shownIds(`Get-Job -Id ${ids.mixed},${ids.first}`)).toEqual([ids.first, ids.mixed]);
    expect(await shownIds(`Get-Job -Id ${ids.running},${ids.mixed},${ids.second}`)).toEqual([ids.second, ids.mixed, ids.running]);
    // A child named by Id sits among the parents by its own Id.
    expect(await shownIds(`Get-Job -Id ${ids.running},${mixedFailed},${ids.first}`)).toEqual([ids.first, mixedFailed, ids.running]);
  });

  it('-State keeps the top-level jobs in exactly that state', async () => {
    expect(await shownIds('Get-Job -State Completed')).toEqual([ids.first]);
    expect(await shownIds('Get-Job -State Failed')).toEqual([ids.second, ids.mixed]);
    expect(await shownIds('Get-Job -State Running')).toEqual([ids.running]);
    // Nothing in that state: no error, no rows.
    const none = await run('Get-Job -State Stopped');
    expect(none.ok).toBe(true);
    expect(none.sink.replies()).toEqual([]);
    expect(tableOf(none.sink.postBlocks())).toEqual([]);
    // Top-level only: mixed's Completed child does not appear for -State Completed.
    expect(await shownIds('Get-Job -State Completed')).not.toContain(mixedOk);
  });

  it('-Before keeps jobs that ended strictly before the time; jobs without an end time never match', async () => {
    expect(await shownIds(`Get-Job -Before '${endTime(ids.second)}'`)).toEqual([ids.first]);
    expect(await shownIds(`Get-Job -Before '${endTime(ids.mixed)}'`)).toEqual([ids.first, ids.second]);
    // Far in the future: every ended job, not the running one.
    expect(await shownIds(`Get-Job -Before '2100-01-01T00:00:00Z'`)).toEqual([ids.first, ids.second, ids.mixed]);
    expect(await shownIds(`Get-Job -Before '${endTime(ids.first)}'`)).toEqual([]);
  });

  it('-After keeps jobs that ended strictly after the time; jobs without an end time never match', async () => {
    expect(await shownIds(`Get-Job -After '${endTime(ids.second)}'`)).toEqual([ids.mixed]);
    expect(await shownIds(`Get-Job -After '${endTime(ids.first)}'`)).toEqual([ids.second, ids.mixed]);
    // Long ago: every ended job, not the running one.
    expect(await shownIds(`Get-Job -After '2000-01-01T00:00:00Z'`)).toEqual([ids.first, ids.second, ids.mixed]);
    expect(await shownIds(`Get-Job -After '${endTime(ids.mixed)}'`)).toEqual([]);
    // Both together: the window between them, ends excluded.
    expect(await shownIds(`Get-Job -After '${endTime(ids.first)}' -Before '${endTime(ids.mixed)}'`)).toEqual([ids.second]);
  });

  it('-Before / -After refuse a value that is not a date', async () => {
    const bad = await run(`Get-Job -Before 'not a date'`);
    expect(bad.ok).toBe(false);
    expect(bad.sink.replies().join('\n')).toContain('DateTime');
    expect(tableOf(bad.sink.postBlocks())).toEqual([]);
  });

  it('-HasMoreData $true / -HasMoreData:$false keep the jobs whose HasMoreData equals it', async () => {
    expect(await shownIds('Get-Job -HasMoreData:$false')).toEqual([ids.first]);
    expect(await shownIds('Get-Job -HasMoreData $false')).toEqual([ids.first]);
    expect(await shownIds('Get-Job -HasMoreData $true')).toEqual([ids.second, ids.mixed, ids.running]);
    // With the children, each child by its own HasMoreData, not its parent's.
    expect(await shownIds('Get-Job -IncludeChildJob -HasMoreData:$false')).toEqual([ids.first, firstChild, mixedOk]);
    expect(await shownIds(`Get-Job -Id ${ids.mixed} -IncludeChildJob -HasMoreData $true`)).toEqual([ids.mixed, mixedFailed]);
    const shown = await run('Get-Job -HasMoreData $true');
    expect(tableOf(shown.sink.postBlocks()).map((r) => r.HasMoreData)).toEqual(['True', 'True', 'True']);
  });

  it('-Newest N keeps the N most recently ended jobs, shown sorted by Id', async () => {
    expect(await shownIds('Get-Job -Newest 1')).toEqual([ids.mixed]);
    expect(await shownIds('Get-Job -Newest 2')).toEqual([ids.second, ids.mixed]);
    // More than there are ended jobs: the running one (no end time) is still not among them.
    expect(await shownIds('Get-Job -Newest 10')).toEqual([ids.first, ids.second, ids.mixed]);
    // Newest of a selection.
    expect(await shownIds(`Get-Job -Id ${ids.mixed},${ids.first},${ids.running} -Newest 1`)).toEqual([ids.mixed]);
  });

  it('-IncludeChildJob appends every child of the found jobs, sorted by Id', async () => {
    expect(await shownIds('Get-Job -IncludeChildJob')).toEqual(
      [ids.first, firstChild, ids.second, secondChild, ids.mixed, mixedOk, mixedFailed, ids.running, runningChild].sort((a, b) => a - b),
    );
    const shown = await run(`Get-Job -Id ${ids.mixed} -IncludeChildJob`);
    expect(tableOf(shown.sink.postBlocks()).map((r) => [Number(r.Id), r.State, r.Location])).toEqual([
      [ids.mixed, 'Failed', 'web1,web2'],
      [mixedOk, 'Completed', 'web1'],
      [mixedFailed, 'Failed', 'web2'],
    ]);
    // Bound is enough, as in PowerShell (FindChildJobs checks BoundParameters): :$false adds them too.
    expect(await shownIds(`Get-Job -Id ${ids.mixed} -IncludeChildJob:$false`)).toEqual([ids.mixed, mixedOk, mixedFailed]);
  });

  it("-ChildJobState appends only the found parents' children in that state, with the parents", async () => {
    expect(await shownIds(`Get-Job -Id ${ids.mixed} -ChildJobState Failed`)).toEqual([ids.mixed, mixedFailed]);
    expect(await shownIds(`Get-Job -Id ${ids.mixed} -ChildJobState Completed`)).toEqual([ids.mixed, mixedOk]);
    // Every parent is kept; only the children are filtered.
    expect(await shownIds('Get-Job -ChildJobState Failed')).toEqual([
      ids.first,
      ids.second,
      secondChild,
      ids.mixed,
      mixedFailed,
      ids.running,
    ]);
    // It takes precedence over -IncludeChildJob.
    expect(await shownIds(`Get-Job -Id ${ids.mixed} -IncludeChildJob -ChildJobState Failed`)).toEqual([ids.mixed, mixedFailed]);
    // Only children of the found parents: -State Failed finds second and mixed, not first.
    expect(await shownIds('Get-Job -State Failed -ChildJobState Completed')).toEqual([ids.second, ids.mixed, mixedOk]);
  });

  it('-Command matches the script-block text or the whole typed line, trimmed, case-insensitively, with wildcards', async () => {
    // The script-block text, as PowerShell's Command of a remote job.
    expect(await shownIds(`Get-Job -Command 'echo one'`)).toEqual([ids.first]);
    expect(await shownIds(`Get-Job -Command '  ECHO One  '`)).toEqual([ids.first]);
    // The whole typed line, as our Command column shows it.
    const typed = rt.app.store.getJob(ids.second)!.command;
    expect(typed).toContain('-JobName second');
    expect(await shownIds(`Get-Job -Command '${typed.toUpperCase()}'`)).toEqual([ids.second]);
    // Wildcards against either text.
    expect(await shownIds(`Get-Job -Command '*exit*'`)).toEqual([ids.second, ids.mixed]);
    expect(await shownIds(`Get-Job -Command 'icm web2*'`)).toEqual([ids.running]);
    // Several patterns: a job matching any of them.
    expect(await shownIds(`Get-Job -Command 'echo one','sleep 30'`)).toEqual([ids.first, ids.running]);
    // A part of the text without wildcards does not match, and is no error.
    const none = await run(`Get-Job -Command 'echo'`);
    expect(none.ok).toBe(true);
    expect(none.sink.replies()).toEqual([]);
    expect(tableOf(none.sink.postBlocks())).toEqual([]);
  });

  // Last: it removes a job the cases above count on.
  it('Remove-Job -Command removes the matching jobs only', async () => {
    const removed = await run(`Remove-Job -Command 'ECHO TWO; EXIT 3'`);
    expect(removed.ok).toBe(true);
    expect(removed.sink.replies()).toEqual([]);
    expect(rt.app.store.getJob(ids.second)).toBeUndefined();
    expect(rt.app.store.output(ids.second)).toEqual([]);
    expect(rt.app.store.getChild(secondChild)).toBeUndefined();
    expect(await shownIds('Get-Job')).toEqual([ids.first, ids.mixed, ids.running]);
    const byWildcard = await run(`Remove-Job -Command 'echo one*'`);
    expect(byWildcard.ok).toBe(true);
    expect(await shownIds('Get-Job')).toEqual([ids.mixed, ids.running]);
  });
});
