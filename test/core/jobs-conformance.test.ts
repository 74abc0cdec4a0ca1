import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, type RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { Block } from '../../src/messages/model.js';
import type { PsValue } from '../../src/language/values.js';
import { JOB_TABLE_WIDTH, jobCommandText } from '../../src/messages/results.js';

/**
 * PowerShell's own job tests (reference 5.2: test/powershell/Modules/Microsoft.PowerShell.Core/
 * Job.Tests.ps1 and test/powershell/engine/Job/Jobs.Tests.ps1), ported to remote jobs: each
 * `it` is one Pester case, named after it, with `Start-Job { 1 + 1 }` replaced by
 * `Invoke-Command web1 { echo 2 } -AsJob` against a real agent. Scripts sleep seconds where
 * Pester's sleep longer. What the Pester cases read from job objects ($job.State, HasMoreData,
 * Command) is read here from Get-Job's table, as a chat user sees it; values of assignments from
 * the channel's variables.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }, { name: 'web2' }] });
});

afterAll(async () => {
  await rt?.stop();
});

const run = (text: string) => rt.run(text);

/** A channel variable, as `$name` holds it after an assignment. */
function variable(name: string): PsValue | undefined {
  return rt.app.store.getVariables('console').get(name.toLowerCase());
}

/** PowerShell's `@($x)`: the items of a value, none for $null. */
function items(v: PsValue | undefined): PsValue[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function tableOf(blocks: Block[]): Array<Record<string, string>> {
  const t = blocks.find((b) => b.kind === 'table');
  if (t?.kind !== 'table') return [];
  return t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] ?? ''])));
}

/** Get-Job's row of one job: what Pester's ValidateJobInfo reads from the job object. */
async function jobInfo(id: number): Promise<Record<string, string> | undefined> {
  const shown = await run(`Get-Job -Id ${id}`);
  return tableOf(shown.sink.postBlocks())[0];
}

/** Starts `icm <computers> { script } -AsJob` assigned to `$variable`, and returns its Id. */
async function startJob(script: string, options: { variable?: string; name?: string; computers?: string } = {}): Promise<number> {
  const line = `icm ${options.computers ?? 'web1'} { ${script} } -AsJob${options.name !== undefined ? ` -JobName ${options.name}` : ''}`;
  const started = await run(options.variable !== undefined ? `$${options.variable} = ${line}` : line);
  expect(started.ok).toBe(true);
  return started.jobIds[0]!;
}

/** The Command cell of a job: its script block's text, as PowerShell's (see 'Can start, wait and receive a Job'). */
function commandOf(id: number): string {
  return jobCommandText(rt.app.store, rt.app.store.getJob(id)!);
}

/** Pester's AfterEach: `Get-Job | Remove-Job -Force`. */
async function removeAllJobs(): Promise<void> {
  if (rt.app.store.listJobs('console').length === 0) return;
  const removed = await run('Get-Job | Remove-Job -Force');
  expect(removed.ok).toBe(true);
  expect(rt.app.store.listJobs('console')).toEqual([]);
}

const nameNotFound = (name: string): string =>
  `The command cannot find the job because the job name ${name} was not found. Verify the value of the Name parameter, and then try the command again.`;
const idNotFound = (id: number): string =>
  `The command cannot find a job with the job ID ${id}. Verify the value of the Id parameter and then try the command again.`;
const JOB_DISPLAY = 'System.Management.Automation.PSRemotingJob';

/** The blocks of a status message as last drawn (posted, then edited). */
function latestMessage(sink: RecordingSink, id: string): Block[] {
  let blocks: Block[] = [];
  for (const e of sink.events) if ((e.type === 'post' || e.type === 'update') && e.id === id) blocks = e.message.blocks;
  return blocks;
}

describe('Job.Tests.ps1: Job Cmdlet Tests', () => {
  afterEach(removeAllJobs);

  describe('Simple Jobs (the job object)', () => {
    it('Start-Job produces a job object', async () => {
      // The answer to -AsJob is the job's row (Get-Job's columns) inside the status message,
      // which is edited as the job runs: State and HasMoreData stay current.
      const started = await run('$j = icm web1 { sleep 0.5; echo 2 } -AsJob -JobName "My Job"');
      const id = started.jobIds[0]!;
      expect(variable('j')).toEqual({ kind: 'job', id, display: JOB_DISPLAY });
      const status = started.sink.statusPosts()[0]!;
      const command = commandOf(id);
      const row = (state: string, hasMoreData: string) => ({
        Id: String(id),
        Name: 'My Job',
        PSJobTypeName: 'RemoteJob',
        State: state,
        HasMoreData: hasMoreData,
        Location: 'web1',
        Command: command,
      });
      expect(tableOf(started.sink.events.find((e) => e.type === 'post')!.message.blocks)).toEqual([row('Running', 'True')]);
      const got = await run(`Get-Job -Id ${id}`);
      expect(tableOf(got.sink.postBlocks())).toEqual([row('Running', 'True')]);

      await run('Wait-Job $j');
      await waitFor(() => tableOf(latestMessage(started.sink, status.id))[0]?.State === 'Completed', 5000, 'the row to show Completed');
      expect(tableOf(latestMessage(started.sink, status.id))).toEqual([row('Completed', 'True')]);
      expect(latestMessage(started.sink, status.id).find((b) => b.kind === 'actions')).toMatchObject({
        buttons: [{ action: 'receive-job' }],
      });
      // Received: HasMoreData turns False in the status too, and its Receive-Job button goes.
      await run('Receive-Job $j');
      await waitFor(
        () => tableOf(latestMessage(started.sink, status.id))[0]?.HasMoreData === 'False',
        5000,
        'the row to show HasMoreData False',
      );
      expect(tableOf(latestMessage(started.sink, status.id))).toEqual([row('Completed', 'False')]);
      expect(latestMessage(started.sink, status.id).some((b) => b.kind === 'actions')).toBe(false);
    });

    it('(ours) a long command is cut to the table width in the -AsJob row and in Get-Job, and whole in the status', async () => {
      const long = `echo ${'x'.repeat(400)}`;
      const started = await run(`icm web1 { ${long} } -AsJob`);
      const id = started.jobIds[0]!;
      const posted = started.sink.events.find((e) => e.type === 'post')!.message.blocks;
      const cell = tableOf(posted)[0]!.Command!;
      expect(cell.length).toBeLessThan(JOB_TABLE_WIDTH);
      expect(cell.endsWith('…')).toBe(true);
      expect(commandOf(id).startsWith(cell.slice(0, -1))).toBe(true);
      expect(started.sink.statusPosts()[0]!.status.command).toBe(rt.app.store.getJob(id)!.command);
      expect(tableOf((await run(`Get-Job -Id ${id}`)).sink.postBlocks())[0]!.Command).toBe(cell);
    });

    it('Get-Job retrieves a job object', async () => {
      const id = await startJob('echo 2', { variable: 'j', name: 'MyJob' });
      await run(`$got = Get-Job -Id ${id}`);
      expect(variable('got')).toEqual([variable('j')]);
    });

    it('Get-Job retrieves an array of job objects', async () => {
      const ids = [await startJob('echo 2', { name: 'MyJob' }), await startJob('echo 4')];
      await run('$jobs = Get-Job');
      expect(variable('jobs')).toEqual(ids.map((id) => ({ kind: 'job', id, display: JOB_DISPLAY })));
    });

    it('Receive-Job can retrieve job results', async () => {
      const id = await startJob('echo 2', { name: 'MyJob' });
      await run(`$w = Wait-Job -Timeout 60 -Id ${id}`);
      expect(items(variable('w'))).toHaveLength(1);
      await run(`$r = Receive-Job -Id ${id}`);
      expect(variable('r')).toEqual(['2']);
    });
  });

  describe('Jobs with arguments', () => {
    it('Start-Job accepts arguments', async () => {
      // $args[1], $args[0] in PowerShell; the shell's $2, $1 here.
      const started = await run(`$j = icm web1 -ArgumentList '/tmp/test drive',42 { echo "$2"; echo "$1" } -AsJob`);
      await run('$w = Wait-Job -Timeout 300 $j');
      expect(variable('w')).toEqual([variable('j')]);
      await run('$r = Receive-Job $j');
      expect(items(variable('r')).join(',')).toBe('42,/tmp/test drive');
      expect(started.ok).toBe(true);
    });
  });

  describe('Simple Jobs', () => {
    it('Remove-Job can remove a job', async () => {
      const id = await startJob('echo 2', { variable: 'j', name: 'MyJob' });
      const removed = await run('Remove-Job $j -Force');
      expect(removed.ok).toBe(true);
      expect(rt.app.store.getJob(id)).toBeUndefined();
      // A job object in Get-Job's first position binds -Name (its string form), so PowerShell's
      // JobWithSpecifiedNameNotFound names the object's type (reference 3.11.1).
      const get = await run('Get-Job $j');
      expect(get.ok).toBe(false);
      expect(get.sink.replies()).toEqual([`ERROR: ${nameNotFound(JOB_DISPLAY)}`]);
    });
  });

  describe('jobs which take time', () => {
    let id: number;
    beforeEach(async () => {
      // Pester sleeps 8 s; 2 s keeps Wait-Job -Timeout 1 well before the end.
      id = await startJob('sleep 2', { variable: 'j' });
    });

    it('Wait-Job will wait for a job', async () => {
      const waited = await run('$result = Wait-Job $j');
      expect(waited.ok).toBe(true);
      expect(variable('result')).toEqual([variable('j')]);
      expect((await jobInfo(id))?.State).toBe('Completed');
    });

    it('Wait-Job will timeout waiting for a job', async () => {
      const t0 = Date.now();
      const waited = await run('$result = Wait-Job -Timeout 1 $j');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
      expect(waited.ok).toBe(true);
      expect(waited.sink.events).toEqual([]);
      expect(items(variable('result'))).toEqual([]);
      expect((await jobInfo(id))?.State).toBe('Running');
    });

    it('Stop-Job will stop a job', async () => {
      const stop = await run(`Stop-Job -Id ${id}`);
      expect(stop.ok).toBe(true);
      // Stop-Job returns once the agent confirmed, as PowerShell's returns once stopped.
      expect((await jobInfo(id))?.State).toBe('Stopped');
      const received = await run('$out = Receive-Job $j');
      expect(received.ok).toBe(true);
      expect(received.sink.replies()).toEqual([]);
      expect(items(variable('out'))).toEqual([]);
      // Shown rather than assigned: no output and no error either.
      const shown = await run('Receive-Job $j');
      expect(shown.sink.postBlocks().filter((b) => b.kind === 'code' || b.kind === 'error')).toEqual([]);
      expect(shown.sink.replies()).toEqual([]);
    });

    it('Remove-Job will not remove a running job', async () => {
      const removed = await run('Remove-Job $j');
      expect(removed.ok).toBe(false);
      expect(removed.sink.replies()).toEqual([
        `ERROR: The command cannot remove the job with the job ID ${id} because the job is not finished. To remove the job, first stop the job, or use the Force parameter.`,
      ]);
      const got = await run(`$job = Get-Job -Id ${id}`);
      expect(got.ok).toBe(true);
      expect(variable('job')).toEqual([variable('j')]);
    });

    it('Remove-Job -Force will remove a running job', async () => {
      const removed = await run('Remove-Job $j -Force');
      expect(removed.ok).toBe(true);
      const got = await run(`$job = Get-Job -Id ${id}`);
      expect(got.sink.replies()).toEqual([`ERROR: ${idNotFound(id)}`]);
      expect(items(variable('job'))).toEqual([]);
      expect(rt.app.store.getJob(id)).toBeUndefined();
    });
  });

  describe('Retrieving partial output from jobs', () => {
    /** Pester's GetResults: receives every 300 ms until at least `n` results are in. */
    async function getResults(n: number, keep: boolean): Promise<number[]> {
      let results: number[] = [];
      for (let count = 0; results.length < n; count++) {
        if (count === 50) throw new Error(`Receive-Job behaves suspiciously: cannot receive ${n} results`);
        await new Promise((r) => setTimeout(r, 300));
        const received = await run(`$r = Receive-Job ${keep ? '-Keep ' : ''}$j`);
        expect(received.ok).toBe(true);
        const values = items(variable('r')).map(Number);
        results = keep ? values : [...results, ...values];
      }
      return results;
    }

    /** Pester's CheckContent: consecutive numbers, none missing or doubled. */
    const consecutive = (a: number[]): boolean => a.every((v, i) => i === 0 || v === a[i - 1]! + 1);

    beforeEach(async () => {
      await startJob('count=1; while true; do echo $count; count=$((count+1)); sleep 0.03; done', { variable: 'j' });
    });

    it('Receive-Job will retrieve partial output', async () => {
      const result1 = await getResults(5, false);
      const result2 = await getResults(5, false);
      expect(result1[0]).toBe(1);
      expect(consecutive([...result1, ...result2])).toBe(true);
    });

    it('Receive-Job will retrieve partial output, including -Keep results', async () => {
      const result1 = await getResults(5, true);
      const result2 = await getResults(result1.length + 5, false);
      // -Keep left them unread: the first receive without -Keep starts with the same results.
      expect(result2.slice(0, result1.length)).toEqual(result1);
      expect(result2[result1.length - 1]! + 1).toBe(result2[result1.length]);
      expect(consecutive(result2)).toBe(true);
    });
  });
});

describe('Jobs.Tests.ps1: Basic Job Tests', () => {
  let startedId: number;
  let timeBeforeStartedJob: string;
  let timeAfterStartedJob: string;

  beforeAll(async () => {
    await removeAllJobs();
    timeBeforeStartedJob = new Date(Date.now() - 5).toISOString();
    startedId = await startJob('echo 2', { name: 'StartedJob', variable: 'startedJob' });
    expect((await run('Wait-Job $startedJob')).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    timeAfterStartedJob = new Date().toISOString();
  });

  /** Pester's AfterEach: every job but StartedJob is removed. */
  async function removeOtherJobs(): Promise<void> {
    for (const job of rt.app.store.listJobs('console')) {
      if (job.id !== startedId) expect((await run(`Remove-Job -Id ${job.id} -Force`)).ok).toBe(true);
    }
  }

  describe('Basic tests', () => {
    afterEach(removeOtherJobs);

    it('Can start, wait and receive a Job', async () => {
      const id = await startJob('echo 2', { variable: 'job' });
      const received = await run('$result = $job | Wait-Job | Receive-Job');
      expect(received.ok).toBe(true);
      expect(variable('result')).toEqual(['2']);
      const info = await jobInfo(id);
      expect(info).toMatchObject({ State: 'Completed', HasMoreData: 'False', PSJobTypeName: 'RemoteJob', Location: 'web1' });
      // PowerShell's Command is the script block's text (' 1 + 1 '), secrets masked; the status
      // message shows the whole line as typed.
      expect(info?.Command).toBe(' echo 2 ');
    });

    it('Can get errors messages from job', async () => {
      await startJob('echo MyError >&2', { variable: 'job' });
      await run('Wait-Job $job');
      // Assigned: the value holds the output stream; the error record is still written.
      const assigned = await run('$out = Receive-Job -Job $job -Keep');
      expect(assigned.sink.replies()).toEqual(['ERROR: web1: MyError']);
      expect(items(variable('out'))).toEqual([]);
      const shown = await run('Receive-Job -Job $job');
      expect(shown.sink.postBlocks().filter((b) => b.kind === 'error')).toEqual([{ kind: 'error', text: 'web1: MyError' }]);
    });
  });

  describe('Wait-Job tests', () => {
    afterEach(removeOtherJobs);

    it.each([
      { property: '-Name', parameters: () => '-Name StartedJob' },
      { property: '-Id', parameters: () => `-Id ${startedId}` },
      { property: '-Job', parameters: () => '-Job $startedJob' },
      { property: '-InstanceId', parameters: () => `-InstanceId ${rt.app.store.getJob(startedId)!.instanceId}` },
      { property: '-State', parameters: () => '-State Completed' },
    ])('Can wait for jobs to complete using $property', async ({ parameters }) => {
      const waited = await run(`$job = Wait-Job ${parameters()}`);
      expect(waited.ok).toBe(true);
      expect(variable('job')).toEqual([{ kind: 'job', id: startedId, display: JOB_DISPLAY }]);
      expect(tableOf(waited.sink.postBlocks())).toEqual([]); // assigned: nothing shown
      expect(await jobInfo(startedId)).toMatchObject({ State: 'Completed', HasMoreData: 'True', Command: commandOf(startedId) });
    });

    it('Can wait for any job to complete', async () => {
      const ids = [
        await startJob('sleep 1.5; echo 3', { variable: 'j1' }),
        await startJob('sleep 0.2; echo 1', { variable: 'j2' }),
        await startJob('sleep 1; echo 2', { variable: 'j3' }),
      ];
      const waited = await run('$waitedJob = Wait-Job -Job $j1,$j2,$j3 -Any');
      expect(waited.ok).toBe(true);
      expect(variable('waitedJob')).toEqual([{ kind: 'job', id: ids[1], display: JOB_DISPLAY }]);
      expect(await jobInfo(ids[1]!)).toMatchObject({ State: 'Completed', HasMoreData: 'True' });
      await run('$result = $waitedJob | Receive-Job');
      expect(
        items(variable('result'))
          .map(Number)
          .every((n) => n < 4),
      ).toBe(true);
      expect(variable('result')).toEqual(['1']);
      // None of the jobs wrote errors.
      for (const id of ids) expect(rt.app.store.output(id).filter((r) => r.stream === 'error')).toEqual([]);
    });

    it('Can timeout waiting for a job', async () => {
      const id = await startJob('sleep 3', { variable: 'job' });
      const t0 = Date.now();
      const waited = await run('$job | Wait-Job -TimeoutSec 1');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
      expect(waited.ok).toBe(true);
      expect(waited.sink.events).toEqual([]);
      expect(await jobInfo(id)).toMatchObject({ State: 'Running', HasMoreData: 'True', Command: commandOf(id) });
    });
  });

  describe('Receive-job tests', () => {
    afterEach(removeOtherJobs);

    it('Can Receive-Job with state change events', async () => {
      const received = await run('$result = icm web1 { echo 2 } -AsJob -JobName ReceiveWriteEventsJob | Receive-Job -Wait -WriteEvents');
      expect(received.ok).toBe(true);
      const result = items(variable('result'));
      // One output and one JobStateEventArgs per job that ended: the child, then the parent.
      expect(result).toHaveLength(3);
      expect(result[0]).toBe('2');
      const id = received.jobIds[0]!;
      const event = (jobId: number, name: string): PsValue => ({
        kind: 'hashtable',
        entries: [
          { key: 'JobStateInfo', value: { kind: 'hashtable', entries: [{ key: 'State', value: 'Completed' }] } },
          { key: 'PreviousJobStateInfo', value: { kind: 'hashtable', entries: [{ key: 'State', value: 'Running' }] } },
          { key: 'JobId', value: jobId },
          { key: 'JobName', value: name },
        ],
      });
      expect(result.slice(1)).toEqual([event(id + 1, `Job${id + 1}`), event(id, 'ReceiveWriteEventsJob')]);
      // Shown: the events as lines.
      const shown = await run('$result');
      expect(shown.sink.posts().join('\n')).toContain('JobStateInfo = @{State=Completed}\nPreviousJobStateInfo = @{State=Running}');
    });

    it('Can Receive-Job with job object and result', async () => {
      const id = await startJob('echo 2', { variable: 'j' });
      await run('$result = $j | Receive-Job -Wait -WriteJobInResults');
      const result = items(variable('result'));
      expect(result).toHaveLength(2);
      expect(result[0]).toEqual(variable('j'));
      expect(result[1]).toBe('2');
      expect(await jobInfo(id)).toMatchObject({ State: 'Completed', HasMoreData: 'False', Command: commandOf(id) });
    });

    it('Can Receive-Job and autoremove', async () => {
      const received = await run('$result = icm web1 { echo 2 } -AsJob -JobName ReceiveJobAutoRemove | Receive-Job -Wait -AutoRemoveJob');
      expect(received.ok).toBe(true);
      expect(variable('result')).toEqual(['2']);
      const get = await run('Get-Job -Name ReceiveJobAutoRemove');
      expect(get.ok).toBe(false);
      expect(get.sink.replies()).toEqual([`ERROR: ${nameNotFound('ReceiveJobAutoRemove')}`]);
    });

    it('Can Receive-Job and keep results', async () => {
      await startJob('echo 2', { variable: 'job' });
      await run('Wait-Job $job');
      await run('$result = Receive-Job -Keep -Job $job');
      expect(variable('result')).toEqual(['2']);
      await run('$result2 = Receive-Job -Job $job');
      expect(variable('result2')).toEqual(['2']);
      await run('$result3 = Receive-Job -Job $job');
      expect(items(variable('result3'))).toEqual([]);
    });

    it('Can Receive-Job with NoRecurse', async () => {
      const id = await startJob('echo 2', { variable: 'job' });
      const received = await run('$result = Receive-Job -Wait -NoRecurse -Job $job');
      expect(received.ok).toBe(true);
      // The parent's own streams are empty: all output is in its children, still unread.
      expect(items(variable('result'))).toEqual([]);
      expect(await jobInfo(id)).toMatchObject({ State: 'Completed', HasMoreData: 'True' });
    });

    // Pester selects `localhost`, Start-Job's only child; a remote job has one child per computer,
    // so the case runs on two and selects one of them.
    it.each([
      { name: 'ComputerName', parameter: '-ComputerName' },
      { name: 'Location', parameter: '-Location' },
    ])('Can Receive-Job using $name', async ({ parameter }) => {
      await startJob('echo 2', { variable: 'job', computers: 'web1,web2' });
      await run('Wait-Job $job');
      const received = await run(`$result = Receive-Job ${parameter} web2 -Job $job`);
      expect(received.ok).toBe(true);
      expect(variable('result')).toEqual(['2']);
      // Only web2's child was received; web1's output is still there.
      const rest = await run('Receive-Job -Job $job');
      expect(rest.sink.postBlocks().filter((b) => b.kind === 'code')).toEqual([{ kind: 'code', title: 'web1', text: '2' }]);
    });

    it('Can receive a job with -wait switch', async () => {
      const id = await startJob('sleep 0.3; echo 2', { variable: 'job' });
      await run('$result = $job | Receive-Job -Wait');
      expect(await jobInfo(id)).toMatchObject({ State: 'Completed', HasMoreData: 'False', Command: commandOf(id) });
      expect(variable('result')).toEqual(['2']);
    });
  });

  describe('Get-Job tests', () => {
    afterEach(removeOtherJobs);

    it.each([
      { property: 'Name', parameters: () => '-Name StartedJob' },
      { property: 'Id', parameters: () => `-Id ${startedId}` },
      { property: 'InstanceId', parameters: () => `-InstanceId ${rt.app.store.getJob(startedId)!.instanceId}` },
      { property: 'State', parameters: () => '-State Completed' },
    ])('Can Get-Job with $property', async ({ parameters }) => {
      const got = await run(`Get-Job ${parameters()}`);
      expect(got.ok).toBe(true);
      expect(tableOf(got.sink.postBlocks())).toEqual([
        {
          Id: String(startedId),
          Name: 'StartedJob',
          PSJobTypeName: 'RemoteJob',
          State: 'Completed',
          HasMoreData: 'True',
          Location: 'web1',
          Command: commandOf(startedId),
        },
      ]);
    });

    it.each([
      { property: '-Before', parameters: () => `-Before '${timeAfterStartedJob}'` },
      { property: '-After', parameters: () => `-After '${timeBeforeStartedJob}'` },
      { property: '-HasMoreData', parameters: () => '-HasMoreData $true' },
    ])('Can Get-Job with $property', async ({ parameters }) => {
      const got = await run(`Get-Job ${parameters()}`);
      expect(got.ok).toBe(true);
      expect(tableOf(got.sink.postBlocks())).toEqual([
        expect.objectContaining({ Name: 'StartedJob', State: 'Completed', HasMoreData: 'True' }),
      ]);
    });

    it.each([
      { property: '-IncludeChildJob', parameters: () => '-IncludeChildJob' },
      { property: '-ChildJobState', parameters: () => '-ChildJobState Completed' },
    ])('Can Get-Job with $property', async ({ parameters }) => {
      const got = await run(`Get-Job -Name StartedJob ${parameters()}`);
      const rows = tableOf(got.sink.postBlocks());
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatchObject({ Id: String(startedId), Name: 'StartedJob', State: 'Completed', HasMoreData: 'True' });
      expect(rows[1]).toMatchObject({ Id: String(startedId + 1), State: 'Completed', HasMoreData: 'True', Location: 'web1' });
    });
  });

  describe('Remove-Job tests', () => {
    afterEach(removeOtherJobs);

    it.each([
      { property: 'Name', parameters: () => '-Name JobToRemove' },
      { property: 'Id', parameters: (id: number) => `-Id ${id}` },
      { property: 'InstanceId', parameters: (id: number) => `-InstanceId ${rt.app.store.getJob(id)!.instanceId}` },
      // -State removes every job in that state: StartedJob is kept out of it by being Completed
      // while this one is Failed (PowerShell's case removes all Completed jobs).
      { property: 'State', parameters: () => '-State Failed' },
    ])('Can Remove-Job with $property', async ({ property, parameters }) => {
      const script = property === 'State' ? 'echo 2; exit 1' : 'echo 2';
      const id = await startJob(script, { variable: 'jobToRemove', name: 'JobToRemove' });
      await run('Wait-Job $jobToRemove');
      const removed = await run(`Remove-Job ${parameters(id)}`);
      expect(removed.sink.replies()).toEqual([]);
      const got = await run(`Get-Job -Id ${id}`);
      expect(got.sink.replies()).toEqual([`ERROR: ${idNotFound(id)}`]);
      expect(rt.app.store.getJob(startedId)).toBeDefined();
    });
  });

  describe('Stop-Job tests', () => {
    let id: number;
    beforeEach(async () => {
      // Long enough to be Running when Stop-Job comes; wait until it is executing the script.
      id = await startJob('echo started; sleep 20', { variable: 'jobToStop', name: 'JobToStop' });
      await waitFor(() => rt.app.store.output(id).length > 0, 5000, 'the job to write its first line');
      await run('Receive-Job -Job $jobToStop');
    });

    afterEach(removeOtherJobs);

    it.each([
      { property: 'Name', parameters: () => '-Name JobToStop' },
      { property: 'Id', parameters: () => `-Id ${id}` },
      { property: 'InstanceId', parameters: () => `-InstanceId ${rt.app.store.getJob(id)!.instanceId}` },
      { property: 'State', parameters: () => '-State Running' },
    ])('Can Stop-Job with $property', async ({ parameters }) => {
      const stopped = await run(`Stop-Job ${parameters()}`);
      expect(stopped.ok).toBe(true);
      expect(await jobInfo(id)).toMatchObject({ State: 'Stopped', HasMoreData: 'False' });
      expect((await jobInfo(startedId))?.State).toBe('Completed');
    });
  });
});
