import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_COLUMNS } from '../../src/messages/results.js';
import { startTestRuntime, waitFor, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { IncomingCommand } from '../../src/core/ports.js';
import type { Block } from '../../src/messages/model.js';

/**
 * Invoke-Command through the core, with the hub and three real agent processes on loopback.
 * Each agent's processes see AGENT_ID in their environment, so scripts can tell them apart.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: ['web1', 'web2', 'web3'].map((name) => ({ name, tags: ['role=web'], env: { AGENT_ID: name } })),
    runbooks: { 'hello.sh': 'echo "runbook says $1"\n', 'check.ps1': 'Get-Date\n', 'notes.txt': 'x' },
  });
});

afterAll(async () => {
  await rt?.stop();
});

function cmd(text: string, channel = 'console'): IncomingCommand {
  return { channel, user: { platform: 'console', userId: 'console', displayName: 'tester' }, text, source: 'command' };
}

async function run(text: string): Promise<{ sink: RecordingSink; ok: boolean; jobIds: number[] }> {
  const sink = new RecordingSink();
  const outcome = await rt.core.handle(cmd(text), sink);
  return { sink, ...outcome };
}

function codeBlocks(blocks: Block[]): Array<{ title?: string; text: string }> {
  return blocks.flatMap((b) => (b.kind === 'code' ? [{ ...(b.title !== undefined ? { title: b.title } : {}), text: b.text }] : []));
}

function errorTexts(blocks: Block[]): string[] {
  return blocks.flatMap((b) => (b.kind === 'error' ? [b.text] : []));
}

describe('Invoke-Command fan-out', () => {
  it('runs on every computer and heads each result with its computer name', async () => {
    const { sink, ok } = await run('Invoke-Command -ComputerName web1,web2,web3 -ScriptBlock { echo "I am $AGENT_ID" }');
    expect(ok).toBe(true);
    const blocks = codeBlocks(sink.threadBlocks());
    expect(blocks).toHaveLength(3);
    for (const name of ['web1', 'web2', 'web3']) {
      expect(blocks).toContainEqual({ title: name, text: `I am ${name}` });
    }
    const status = sink.latestStatus();
    expect(status?.state).toBe('Completed');
    expect(status?.counts.Completed).toBe(3);
    expect(status?.total).toBe(3);
    expect(status?.invokedBy).toBe('tester');
  });

  it('groups computers whose output is identical into one block', async () => {
    const { sink } = await run('icm web1,web2,web3 { echo same; echo lines }');
    expect(codeBlocks(sink.threadBlocks())).toEqual([{ title: 'web1, web2, web3', text: 'same\nlines' }]);
  });

  it('leaves computer names out with -HideComputerName', async () => {
    const { sink } = await run('icm web1,web2 { echo "I am $AGENT_ID" } -HideComputerName');
    const blocks = codeBlocks(sink.threadBlocks());
    expect(blocks.map((b) => b.text).sort()).toEqual(['I am web1', 'I am web2']);
    expect(blocks.every((b) => b.title === undefined)).toBe(true);
  });

  it('shows stderr as errors of that computer and fails a child on a non-zero exit with its code', async () => {
    const { sink, ok } = await run(
      'icm web1,web2 { echo out; echo "oops from $AGENT_ID" >&2; if [ "$AGENT_ID" = web2 ]; then exit 3; fi }',
    );
    expect(ok).toBe(false);
    const errors = errorTexts(sink.threadBlocks());
    expect(errors).toContain('web1: oops from web1');
    expect(errors).toContain('web2: oops from web2');
    expect(errors.some((e) => e.startsWith('web2:') && e.includes('3') && /exit/i.test(e))).toBe(true);
    expect(errors.some((e) => e.startsWith('web1:') && /exit/i.test(e))).toBe(false);
    expect(codeBlocks(sink.threadBlocks())).toEqual([{ title: 'web1, web2', text: 'out' }]);
    const status = sink.latestStatus();
    expect(status?.state).toBe('Failed');
    expect(status?.counts).toMatchObject({ Completed: 1, Failed: 1 });
  });

  it('passes ArgumentList values as data: spaces, quotes, $(...) and backticks arrive literally', async () => {
    const { sink, ok } = await run(
      `icm web1 -ArgumentList 'a b','it''s "q"','$(touch /tmp/pwned-chatops)','\`date\`',';rm -rf /' { for a in "$@"; do printf '[%s]\\n' "$a"; done }`,
    );
    expect(ok).toBe(true);
    expect(codeBlocks(sink.threadBlocks())).toEqual([
      { title: 'web1', text: ['[a b]', `[it's "q"]`, '[$(touch /tmp/pwned-chatops)]', '[`date`]', '[;rm -rf /]'].join('\n') },
    ]);
  });

  it('ThrottleLimit bounds how many children run at once', async () => {
    const script = '{ echo "start $(date +%s%N)"; sleep 0.3; echo "end $(date +%s%N)" }';
    const intervals = async (throttle: number): Promise<Array<[number, number]>> => {
      const { sink } = await run(`icm web1,web2,web3 -ThrottleLimit ${throttle} -HideComputerName ${script}`);
      const texts = codeBlocks(sink.threadBlocks()).map((b) => b.text);
      expect(texts).toHaveLength(3);
      return texts.map((t) => {
        const start = Number(/start (\d+)/.exec(t)![1]) / 1e6;
        const end = Number(/end (\d+)/.exec(t)![1]) / 1e6;
        return [start, end];
      });
    };
    const maxOverlap = (iv: Array<[number, number]>): number =>
      Math.max(...iv.map(([s]) => iv.filter(([s2, e2]) => s2 <= s && s < e2).length));
    expect(maxOverlap(await intervals(1))).toBe(1);
    expect(maxOverlap(await intervals(2))).toBeLessThanOrEqual(2);
    expect(maxOverlap(await intervals(3))).toBe(3);
  });

  it('runs a runbook named with -FilePath and refuses paths that leave the runbook directory', async () => {
    const { sink, ok } = await run('icm web1 -FilePath hello.sh -ArgumentList "with spaces"');
    expect(ok).toBe(true);
    expect(codeBlocks(sink.threadBlocks())).toEqual([{ title: 'web1', text: 'runbook says with spaces' }]);

    const outside = await run('icm web1 -FilePath ../outside.sh');
    expect(outside.ok).toBe(false);
    expect(outside.sink.replies().join('\n')).toMatch(/not in the runbook library/);
    expect(outside.jobIds).toEqual([]);

    const wrongKind = await run('icm web1 -FilePath notes.txt');
    expect(wrongKind.ok).toBe(false);
    expect(wrongKind.sink.replies().join('\n')).toMatch(/must be a PowerShell script file/);
  });

  it('refuses -SessionName and -SessionOption without -InDisconnectedSession (the sessions -ComputerName opens are not kept), saying so', async () => {
    const named = await run('icm web1 -SessionName x { 1 }');
    expect(named.ok).toBe(false);
    // PowerShell's own binder error.
    expect(named.sink.replies().join('\n')).toContain('The SessionName parameter can');
    const tuned = await run('icm web1 -SessionOption @{ IdleTimeout = 60000 } { 1 }');
    expect(tuned.ok).toBe(false);
    expect(tuned.sink.replies().join('\n')).toContain('is used here only with -InDisconnectedSession');
  });
});

describe('jobs', () => {
  it('a variable holding a job prints its job row (current state), as PowerShell prints the job object', async () => {
    await run('$vj = icm web1 { echo row } -AsJob');
    const id = rt.app.store.listJobs('console').at(-1)!.id;
    await rt.app.jobs.waitFor(id, 10_000);
    const shown = await run('$vj');
    const table = shown.sink.postBlocks().find((b) => b.kind === 'table');
    // Get-Job's own table (its columns are checked against PowerShell's in the Get-Job test below).
    expect(table && table.kind === 'table' && table.columns).toEqual(JOB_COLUMNS);
    expect(table && table.kind === 'table' && table.rows.map((r) => [r[0], r[3], r[5]])).toEqual([[String(id), 'Completed', 'web1']]);
    expect(shown.sink.text()).not.toContain('System.Management.Automation.PSRemotingJob');
    // Anything else still prints as text.
    await run('$vn = 5');
    expect((await run('$vn')).sink.text()).toContain('5');
  });

  it('-AsJob returns at once; Get-Job lists it; Receive-Job -Keep leaves the output, Receive-Job consumes it', async () => {
    const started = await run('icm web1,web2 { sleep 0.2; echo "hello from $AGENT_ID" } -AsJob');
    expect(started.ok).toBe(true);
    const id = started.jobIds[0]!;
    expect(started.sink.statusPosts()).toHaveLength(1);
    expect(started.sink.threadBlocks().filter((b) => b.kind === 'code')).toEqual([]);
    await rt.app.jobs.waitFor(id);
    await waitFor(() => started.sink.latestStatus()?.state === 'Completed', 5000, 'status Completed');
    // The thread shows the state change only, never output.
    expect(started.sink.threadBlocks().some((b) => b.kind === 'text' && b.text.includes('Completed'))).toBe(true);
    expect(codeBlocks(started.sink.threadBlocks())).toEqual([]);

    const list = await run(`Get-Job -Id ${id}`);
    const table = list.sink.postBlocks().find((b) => b.kind === 'table');
    expect(table && table.kind === 'table' && table.columns).toEqual([
      'Id',
      'Name',
      'PSJobTypeName',
      'State',
      'HasMoreData',
      'Location',
      'Command',
    ]);
    expect(table && table.kind === 'table' && table.rows[0]).toEqual([
      String(id),
      `Job${id}`,
      'RemoteJob',
      'Completed',
      'True',
      'web1,web2',
      // PowerShell's Command of a remote job: the script block's text.
      ' sleep 0.2; echo "hello from $AGENT_ID" ',
    ]);

    const kept = await run(`Receive-Job ${id} -Keep`);
    expect(
      codeBlocks(kept.sink.postBlocks())
        .map((b) => b.text)
        .sort(),
    ).toEqual(['hello from web1', 'hello from web2']);
    const again = await run(`Receive-Job -Id ${id}`);
    expect(codeBlocks(again.sink.postBlocks())).toHaveLength(2);
    const after = await run(`Get-Job ${id}`);
    const row = after.sink.postBlocks().find((b) => b.kind === 'table');
    expect(row && row.kind === 'table' && row.rows[0]?.[4]).toBe('False');
    const empty = await run(`Receive-Job ${id}`);
    expect(codeBlocks(empty.sink.postBlocks())).toEqual([]);
    expect(empty.sink.posts().join('\n')).toContain('No new output');
  });

  it('Stop-Job stops a running job; Remove-Job refuses an unfinished job without -Force', async () => {
    const started = await run('icm web1 { sleep 30 } -AsJob');
    const id = started.jobIds[0]!;
    const refused = await run(`Remove-Job ${id}`);
    expect(refused.ok).toBe(false);
    expect(refused.sink.replies().join('\n')).toContain(
      `The command cannot remove the job with the job ID ${id} because the job is not finished.`,
    );
    await run(`Stop-Job ${id}`);
    const job = await rt.app.jobs.waitFor(id, 10_000);
    expect(job?.state).toBe('Stopped');
    const removed = await run(`Remove-Job ${id}`);
    expect(removed.ok).toBe(true);
    const gone = await run(`Get-Job -Id ${id}`);
    expect(gone.sink.replies().join('\n')).toContain(`The command cannot find a job with the job ID ${id}.`);
  });

  it('keeps variables per channel: an assigned job can be piped to Receive-Job', async () => {
    const a = await run('$j = icm web2 { echo piped } -AsJob');
    expect(a.ok).toBe(true);
    await rt.app.jobs.waitFor(a.jobIds[0]!);
    const r = await run('$j | Receive-Job');
    expect(codeBlocks(r.sink.postBlocks())).toEqual([{ title: 'web2', text: 'piped' }]);
    const vars = await run('Get-Variable');
    expect(vars.sink.posts().join('\n')).toMatch(/\bj\b/);
  });
});

describe('pipelines', () => {
  it('pipes several jobs at once: Get-Job -State Running | Wait-Job, then Get-Job | Receive-Job', async () => {
    await run('Get-Job | Remove-Job -Force');
    const a = await run('icm web1 { sleep 0.3; echo one } -AsJob');
    const b = await run('icm web2 { sleep 0.1; echo two } -AsJob');
    const waited = await run('Get-Job -State Running | Wait-Job');
    expect(waited.ok).toBe(true);
    expect(rt.app.store.getJob(a.jobIds[0]!)?.state).toBe('Completed');
    expect(rt.app.store.getJob(b.jobIds[0]!)?.state).toBe('Completed');
    const received = await run('Get-Job | Receive-Job');
    expect(received.ok).toBe(true);
    expect(codeBlocks(received.sink.postBlocks())).toEqual([
      { title: 'web1', text: 'one' },
      { title: 'web2', text: 'two' },
    ]);
  });
});

describe('unavailable computers', () => {
  it('fails an unknown and an offline computer alone while the others run', async () => {
    await rt.agent('web3').kill('SIGKILL');
    await waitFor(() => !rt.app.hub.isConnected('web3'), 10_000, 'web3 to be seen offline');
    const { sink, ok } = await run('icm web1,web9,web3 { echo fine }');
    expect(ok).toBe(false);
    expect(codeBlocks(sink.threadBlocks())).toEqual([{ title: 'web1', text: 'fine' }]);
    const errors = errorTexts(sink.threadBlocks());
    expect(errors).toContain('Connecting to remote server web9 failed: the agent is not connected');
    expect(errors).toContain('Connecting to remote server web3 failed: the agent is not connected');
    expect(sink.latestStatus()?.counts).toMatchObject({ Completed: 1, Failed: 2 });
    await rt.agent('web3').restart();
  });

  it('shows a job Disconnected while its agent is gone, and the child Failed when the agent comes back after a crash', async () => {
    const started = await run('icm web3 { echo started; sleep 20 } -AsJob');
    const id = started.jobIds[0]!;
    // Output proves the agent started the process (and recorded it) before it is killed.
    await waitFor(() => rt.app.store.output(id).length > 0, 5000, 'the run to start on the agent');
    await rt.agent('web3').kill('SIGKILL');
    await waitFor(() => rt.app.store.getJob(id)?.state === 'Disconnected', 10_000, 'job Disconnected');
    const listed = await run(`Get-Job ${id} -IncludeChildJob`);
    const t = listed.sink.postBlocks().find((b) => b.kind === 'table');
    expect(t && t.kind === 'table' && t.rows.map((r) => r[3])).toEqual(['Disconnected', 'Disconnected']);
    await rt.agent('web3').restart();
    const job = await rt.app.jobs.waitFor(id, 10_000);
    expect(job?.state).toBe('Failed');
    expect(rt.app.store.children(id)[0]?.reason).toMatch(/restarted/);
  });
});

// Objects from Microsoft.PowerShell runs (tables per kind, PSComputerName, $Using: values): real pwsh,
// in test/agent/pwsh-streams.test.ts.
