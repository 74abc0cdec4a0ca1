import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import type { Block } from '../../src/messages/model.js';
import { formatTable, JOB_COLUMNS, JOB_TABLE_WIDTH } from '../../src/messages/results.js';

/**
 * PowerShell behaviours users trip over (issue 12), through the real core and real agents: the
 * job table's Command, -HideComputerName's count, what Stop-Job, Wait-Job and Get-Job print, and
 * a script block sent to an agent that does not offer the configuration it needs.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: [
      // Only shells: these agents never offer Microsoft.PowerShell, pwsh installed or not.
      { name: 'web1', args: ['--configuration', 'bash', '--configuration', 'sh'], env: { WHO_AM_I: 'first' } },
      { name: 'web2', args: ['--configuration', 'bash', '--configuration', 'sh'], env: { WHO_AM_I: 'second' } },
      { name: 'web3', args: ['--configuration', 'bash', '--configuration', 'sh'] },
    ],
  });
});

afterAll(async () => {
  await rt?.stop();
});

const run = (text: string) => rt.run(text);

function tables(blocks: Block[]): Array<{ columns: string[]; rows: string[][] }> {
  return blocks.flatMap((b) => (b.kind === 'table' ? [{ columns: b.columns, rows: b.rows }] : []));
}

const COMMAND = JOB_COLUMNS.indexOf('Command');

describe("Get-Job's Command column", () => {
  it('is the script block text, as PowerShell shows a remote job (not the whole chat line)', async () => {
    const started = await run('Invoke-Command -ComputerName web1 -ScriptBlock { uptime } -AsJob -JobName up');
    const id = started.jobIds[0]!;
    await run(`Wait-Job ${id}`);
    const listed = await run('Get-Job -Name up');
    const [table] = tables(listed.sink.postBlocks());
    expect(table?.rows).toHaveLength(1);
    expect(table!.rows[0]![COMMAND]).toBe(' uptime ');
    // Children show their parent's Command too; -Command finds the job by that text.
    const children = await run('Get-Job -Name up -IncludeChildJob');
    expect(tables(children.sink.postBlocks())[0]!.rows.map((r) => r[COMMAND])).toEqual([' uptime ', ' uptime ']);
    const byCommand = await run('Get-Job -Command uptime');
    expect(tables(byCommand.sink.postBlocks())[0]!.rows.map((r) => r[0])).toEqual([String(id)]);
    // The -AsJob row in the status message is the same row.
    const statusRow = tables(started.sink.postBlocks())[0]!;
    expect(statusRow.rows[0]![COMMAND]).toBe(' uptime ');
  });

  it('masks secrets in the script text, shows a multi-line script by its first line, and is cut to the table width', async () => {
    const secret = await run("icm web1 { echo 'password=hunter2secret' } -AsJob -JobName secretcmd");
    const multi = await run('icm web1 {\n  echo first-line\n  echo second-line\n} -AsJob -JobName multi');
    const long = await run(`icm web1 { echo ${'x'.repeat(300)} } -AsJob -JobName longcmd`);
    for (const r of [secret, multi, long]) await run(`Wait-Job ${r.jobIds[0]!}`);
    const listed = await run('Get-Job -Name secretcmd,multi,longcmd');
    const [table] = tables(listed.sink.postBlocks());
    const byName = Object.fromEntries(table!.rows.map((r) => [r[1], r[COMMAND]!]));
    expect(byName.secretcmd).toBe(" echo 'password=***' ");
    expect(listed.sink.text()).not.toContain('hunter2secret');
    expect(byName.multi).toBe('echo first-line…');
    expect(byName.longcmd!.endsWith('…')).toBe(true);
    for (const line of formatTable(table!.columns, table!.rows).split('\n')) {
      expect(line.length).toBeLessThanOrEqual(JOB_TABLE_WIDTH);
    }
  });

  it('-WhatIf names the job by the same Command, as PowerShell does', async () => {
    const started = await run('icm web1 { sleep 20 } -AsJob -JobName whatif');
    const id = started.jobIds[0]!;
    try {
      const preview = await run(`Stop-Job ${id} -WhatIf`);
      expect(preview.sink.posts()).toEqual([
        `What if: Performing the operation "Stop" on target "Remote Command:  sleep 20 , associated with a job that has an ID of "${id}".".`,
      ]);
    } finally {
      await run(`Stop-Job ${id}`);
    }
  });
});

describe('-HideComputerName', () => {
  it('leaves the names out but keeps how many computers printed an identical output', async () => {
    const same = await run('icm web1,web2,web3 { echo same } -HideComputerName');
    const blocks = same.sink.threadBlocks();
    const code = blocks.filter((b) => b.kind === 'code');
    expect(code).toEqual([{ kind: 'code', text: 'same', title: '(3 computers)' }]);
    // The status names who runs (it is the status, not the output); the results name nobody.
    expect(JSON.stringify(blocks)).not.toMatch(/web[123]/);
    // Different outputs: one untitled block each, as PowerShell prints them.
    const different = await run('icm web1,web2 { echo "$WHO_AM_I" } -HideComputerName');
    const shown = different.sink.threadBlocks().filter((b) => b.kind === 'code');
    expect(shown.sort((a, b) => (a.kind === 'code' && b.kind === 'code' ? a.text.localeCompare(b.text) : 0))).toEqual([
      { kind: 'code', text: 'first' },
      { kind: 'code', text: 'second' },
    ]);
  });
});

describe('what the job cmdlets print', () => {
  it('Stop-Job prints nothing without -PassThru (the status says Stopped); with -PassThru the job table', async () => {
    const started = await run('icm web1 { sleep 30 } -AsJob -JobName quiet');
    const id = started.jobIds[0]!;
    const stopped = await run(`Stop-Job ${id}`);
    expect(stopped.ok).toBe(true);
    expect(stopped.sink.events).toEqual([]);
    expect(rt.app.store.getJob(id)?.state).toBe('Stopped');
    await waitFor(() => started.sink.latestStatus()?.state === 'Stopped', 10_000, 'the status to say Stopped');

    const again = await run('icm web1 { sleep 30 } -AsJob -JobName loud');
    const id2 = again.jobIds[0]!;
    const passed = await run(`Stop-Job ${id2} -PassThru`);
    const [table] = tables(passed.sink.postBlocks());
    expect(table?.rows.map((r) => [r[0], r[3]])).toEqual([[String(id2), 'Stopped']]);
    expect(passed.sink.events).toHaveLength(1);
  });

  it('Wait-Job prints the job table once', async () => {
    const started = await run('icm web1,web2 { sleep 0.5; echo done } -AsJob -JobName waited');
    const id = started.jobIds[0]!;
    const waited = await run(`Wait-Job ${id}`);
    expect(waited.sink.events).toHaveLength(1);
    const [table] = tables(waited.sink.postBlocks());
    expect(table?.rows.map((r) => [r[0], r[3]])).toEqual([[String(id), 'Completed']]);
    // Waiting again on a finished job prints the same one table.
    const again = await run(`Wait-Job ${id}`);
    expect(again.sink.events).toHaveLength(1);
  });

  it('Get-Job 999 prints only the error, in PowerShell words', async () => {
    const missing = await run('Get-Job 999');
    expect(missing.ok).toBe(false);
    expect(missing.sink.posts()).toEqual([]);
    expect(missing.sink.replies()).toEqual([
      'ERROR: The command cannot find a job with the job ID 999. Verify the value of the Id parameter and then try the command again.',
    ]);
    // A question that found nothing still answers in chat.
    const none = await run('Get-Job -State Suspended');
    expect(none.sink.posts()).toEqual(['No jobs.']);
  });
});

describe('a script block for a configuration the agent does not offer', () => {
  it('Microsoft.PowerShell on an agent without pwsh fails naming the configuration and how to choose another', async () => {
    const r = await run('icm web1 { Get-Date } -ConfigurationName Microsoft.PowerShell');
    expect(r.ok).toBe(false);
    const errors = r.sink
      .threadBlocks()
      .filter((b) => b.kind === 'error')
      .map((b) => (b.kind === 'error' ? b.text : ''));
    expect(errors).toEqual([
      "Connecting to remote server web1 failed: the session configuration 'Microsoft.PowerShell' is not offered by this agent (pwsh is not on its PATH); it offers: bash, sh. Choose another with -ConfigurationName bash (the script block then runs as a bash script), or run it on a computer whose agent offers Microsoft.PowerShell.",
    ]);
  });

  it("a PowerShell script block run by the agent's default shell says which configuration ran it", async () => {
    const r = await run('icm web1 { Get-Date }');
    expect(r.ok).toBe(false);
    const failure = r.sink.threadBlocks().find((b) => b.kind === 'error' && /session configuration/.test(b.text));
    expect(failure?.kind === 'error' ? failure.text : '').toContain(
      'It ran with the session configuration bash; a PowerShell script block needs -ConfigurationName Microsoft.PowerShell (an agent with pwsh on its PATH).',
    );
  });
});
