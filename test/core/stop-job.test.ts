import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import type { Block } from '../../src/messages/model.js';
import type { PsValue } from '../../src/language/values.js';

/**
 * Stop-Job against a connected agent (reference 3.11.4, 4.3; issue 7 "Stop-Job kills the process
 * trees on the agents; the children become Stopped once the agents confirm"), with a real agent
 * running bash (its default configuration here): the script leaves a background grandchild and
 * writes both process ids to files, so the test can see that the whole tree is gone.
 */

let rt: TestRuntime;

beforeAll(async () => {
  // Each agent's scripts know which agent runs them, to write their pid files apart.
  rt = await startTestRuntime({
    agents: [
      { name: 'web1', env: { TEST_AGENT: 'web1' } },
      { name: 'web2', env: { TEST_AGENT: 'web2' } },
    ],
  });
});

afterAll(async () => {
  // Whatever a failed case left running on the agent.
  for (const job of rt?.app.store.listJobs('console') ?? []) if (job.state === 'Running') await rt.run(`Stop-Job -Id ${job.id}`);
  await rt?.stop();
});

const run = (text: string) => rt.run(text);

function tableOf(blocks: Block[]): Array<Record<string, string>> {
  const t = blocks.find((b) => b.kind === 'table');
  if (t?.kind !== 'table') return [];
  return t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? ''])));
}

async function jobRow(id: number): Promise<Record<string, string> | undefined> {
  return tableOf((await run(`Get-Job -Id ${id}`)).sink.postBlocks())[0];
}

function variable(name: string): PsValue | undefined {
  return rt.app.store.getVariables('console').get(name.toLowerCase());
}

/**
 * Whether a process exists and has not exited. An exited process whose parent died is a zombie
 * until init reaps it, and this machine's init does not reap: `kill(pid, 0)` still succeeds for
 * it, so a zombie (state Z in /proc) counts as gone, as it has already ended.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // gone between the two checks
  }
}

/** A pid file the script wrote completely (`echo` ends it with a newline). */
async function readPid(path: string): Promise<number> {
  await waitFor(() => existsSync(path) && readFileSync(path, 'utf8').endsWith('\n'), 10_000, `${path} to be written`);
  return Number(readFileSync(path, 'utf8').trim());
}

let serial = 0;

/** A shell that starts a background grandchild, writes both pids (to "$1.<agent>" and "$1.<agent>.bg"), and waits. */
const TREE = 'sleep 300 & echo $! > "$1.$TEST_AGENT.bg"; echo $$ > "$1.$TEST_AGENT"; wait';

interface Tree {
  id: number;
  shellPid: number;
  bgPid: number;
}

/** Starts a job running `script` (default TREE) on `computers`; returns its id and the pids on each computer once running. */
async function startTrees(
  name: string,
  computers: string[],
  script = TREE,
): Promise<{ id: number; pids: Record<string, { shellPid: number; bgPid: number }> }> {
  const pidFile = join(rt.dir, `pids-${++serial}`);
  const started = await run(`icm ${computers.join(',')} -ArgumentList '${pidFile}' { ${script} } -AsJob -JobName ${name}`);
  expect(started.ok).toBe(true);
  const id = started.jobIds[0]!;
  const pids: Record<string, { shellPid: number; bgPid: number }> = {};
  for (const computer of computers) {
    const shellPid = await readPid(`${pidFile}.${computer}`);
    const bgPid = await readPid(`${pidFile}.${computer}.bg`);
    expect(shellPid).not.toBe(bgPid);
    expect(isRunning(shellPid)).toBe(true);
    expect(isRunning(bgPid)).toBe(true);
    pids[computer] = { shellPid, bgPid };
  }
  return { id, pids };
}

async function startTree(name: string, script = TREE): Promise<Tree> {
  const { id, pids } = await startTrees(name, ['web1'], script);
  return { id, ...pids.web1! };
}

describe('Stop-Job against a connected agent', () => {
  it('kills the whole process tree on the agent; the child is Stopped only once the agent confirms', async () => {
    const { id, shellPid, bgPid } = await startTree('tree');
    const childId = rt.app.store.children(id)[0]!.id;
    expect(rt.app.store.getChild(childId)!.state).toBe('Running');
    expect(rt.app.hub.isConnected('web1')).toBe(true);

    const stopped = await run(`Stop-Job ${id}`);
    expect(stopped.ok).toBe(true);
    expect(stopped.sink.replies()).toEqual([]);
    // Confirmed: nothing printed without -PassThru, as in PowerShell.
    expect(stopped.sink.posts()).toEqual([]);

    // When Stop-Job returns, the shell and its background grandchild are gone.
    expect(isRunning(shellPid)).toBe(false);
    expect(isRunning(bgPid)).toBe(false);
    // The agent confirmed: Stopped, not the hub's "could not confirm" fallback.
    const child = rt.app.store.getChild(childId)!;
    expect(child.state).toBe('Stopped');
    // The reason is the agent's, not the hub's "could not confirm" fallback.
    expect(child.reason).toBe('The command was stopped');
    expect(child.endTime).toBeDefined();
    expect(rt.app.store.getJob(id)!.state).toBe('Stopped');
    // No output was written: nothing more to receive.
    expect(await jobRow(id)).toMatchObject({ Id: String(id), Name: 'tree', State: 'Stopped', HasMoreData: 'False' });
    const childRow = tableOf((await run(`Get-Job -Id ${id} -IncludeChildJob`)).sink.postBlocks())[1];
    expect(childRow).toMatchObject({ Id: String(childId), State: 'Stopped', HasMoreData: 'False', Location: 'web1' });
  });

  it('kills a grandchild that ignores SIGTERM too, and returns only after the agent has confirmed', async () => {
    // The agent sends SIGTERM to the process group, then SIGKILL after its grace period (2 s):
    // the confirmation, and so Stop-Job's return, comes after that. Had Stop-Job returned before
    // the agent confirmed, these processes would still be running.
    const { id, shellPid, bgPid } = await startTree('stubborn', `trap '' TERM; ${TREE}`);
    const stopped = await run(`Stop-Job -Id ${id}`);
    expect(stopped.ok).toBe(true);
    expect(isRunning(shellPid)).toBe(false);
    expect(isRunning(bgPid)).toBe(false);
    const child = rt.app.store.children(id)[0]!;
    expect(child.state).toBe('Stopped');
    expect(child.reason).toBe('The command was stopped');
    expect(rt.app.store.getJob(id)!.state).toBe('Stopped');
  });

  it('Stop-Job of a child job Id stops that child alone; stopping the parent then stops the rest', async () => {
    const { id, pids } = await startTrees('pair', ['web1', 'web2']);
    const children = rt.app.store.children(id);
    const onWeb1 = children.find((c) => c.computer === 'web1')!;
    const onWeb2 = children.find((c) => c.computer === 'web2')!;

    const one = await run(`Stop-Job -Id ${onWeb1.id}`);
    expect(one.ok).toBe(true);
    expect(one.sink.replies()).toEqual([]);
    expect(isRunning(pids.web1!.shellPid)).toBe(false);
    expect(isRunning(pids.web1!.bgPid)).toBe(false);
    expect(rt.app.store.getChild(onWeb1.id)).toMatchObject({ state: 'Stopped', reason: 'The command was stopped' });
    // The other child, and so the parent, still run.
    expect(isRunning(pids.web2!.shellPid)).toBe(true);
    expect(isRunning(pids.web2!.bgPid)).toBe(true);
    expect(rt.app.store.getChild(onWeb2.id)!.state).toBe('Running');
    expect(rt.app.store.getJob(id)!.state).toBe('Running');

    const all = await run(`Stop-Job -Id ${id}`);
    expect(all.ok).toBe(true);
    expect(isRunning(pids.web2!.shellPid)).toBe(false);
    expect(isRunning(pids.web2!.bgPid)).toBe(false);
    expect(rt.app.store.getChild(onWeb2.id)).toMatchObject({ state: 'Stopped', reason: 'The command was stopped' });
    expect(rt.app.store.getJob(id)!.state).toBe('Stopped');
    expect(await jobRow(id)).toMatchObject({ State: 'Stopped', HasMoreData: 'False', Location: 'web1,web2' });
  });

  it('Stop-Job of an already finished job is silent and leaves it as it was', async () => {
    const started = await run('icm web1 { echo done } -AsJob -JobName done');
    const id = started.jobIds[0]!;
    await run(`Wait-Job -Id ${id}`);
    const before = rt.app.store.getJob(id)!;
    const childBefore = rt.app.store.children(id)[0]!;
    expect(before.state).toBe('Completed');

    const stopped = await run(`Stop-Job -Id ${id}`);
    expect(stopped.ok).toBe(true);
    expect(stopped.sink.events).toEqual([]);
    expect(rt.app.store.getJob(id)).toEqual(before);
    expect(rt.app.store.children(id)).toEqual([childBefore]);
    expect(await jobRow(id)).toMatchObject({ State: 'Completed', HasMoreData: 'True' });
    // Its output is still there to receive.
    const received = await run(`$out = Receive-Job -Id ${id}`);
    expect(received.ok).toBe(true);
    expect(variable('out')).toEqual(['done']);
  });

  it('-PassThru returns every matched job, the already finished ones too', async () => {
    const finished = await run('icm web1 { echo finished } -AsJob -JobName passFinished');
    const finishedId = finished.jobIds[0]!;
    await run(`Wait-Job -Id ${finishedId}`);
    const { id: runningId, shellPid, bgPid } = await startTree('passRunning');

    const stopped = await run(`$r = Stop-Job -Name pass* -PassThru`);
    expect(stopped.ok).toBe(true);
    expect(variable('r')).toEqual([
      { kind: 'job', id: finishedId, display: 'System.Management.Automation.PSRemotingJob' },
      { kind: 'job', id: runningId, display: 'System.Management.Automation.PSRemotingJob' },
    ]);
    expect(isRunning(shellPid)).toBe(false);
    expect(isRunning(bgPid)).toBe(false);

    // Shown rather than assigned: the jobs as they are after the stop.
    const { id: againId } = await startTree('passAgain');
    const shown = await run(`Stop-Job -Id ${finishedId},${againId} -PassThru`);
    expect(tableOf(shown.sink.postBlocks()).map((r) => [Number(r.Id), r.Name, r.State])).toEqual([
      [finishedId, 'passFinished', 'Completed'],
      [againId, 'passAgain', 'Stopped'],
    ]);
  });
});
