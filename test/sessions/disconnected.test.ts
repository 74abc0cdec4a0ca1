import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Disconnected sessions through real agents (bash): -InDisconnectedSession, Disconnect-,
 * Connect- and Receive-PSSession. While a session is disconnected its agent keeps the command's
 * output (nothing reaches the bot's store); Receive-PSSession gets it, each line once, also after
 * the bot was killed and started again meanwhile. When the buffer is full, Block pauses the
 * command and Drop drops the oldest output and says how much.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: [
      { name: 'web1', args: ['--configuration', 'bash'] },
      { name: 'web2', args: ['--configuration', 'bash'] },
    ],
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

type Run = Awaited<ReturnType<TestRuntime['run']>>;

function tableRows(r: Run): string[][] {
  return r.sink.shownBlocks().flatMap((b) => (b.kind === 'table' ? b.rows : []));
}

function codeText(r: Run): string {
  return r.sink
    .shownBlocks()
    .flatMap((b) => (b.kind === 'code' ? [b.text] : []))
    .join('\n');
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Output the bot has stored for one computer of a job. */
function storedFor(jobId: number, computer: string): string {
  return rt.app.store
    .output(jobId)
    .filter((o) => o.computer === computer)
    .map((o) => o.data)
    .join('');
}

/** Output records the bot has stored for a job. */
function stored(jobId: number): string {
  return rt.app.store
    .output(jobId)
    .map((o) => o.data)
    .join('');
}

describe('disconnected sessions', () => {
  it('-InDisconnectedSession returns Disconnected sessions at once; the agent keeps the output; Receive-PSSession gets it after a bot restart, each line once', async () => {
    const started = await rt.run(
      '$s = Invoke-Command -ComputerName web1,web2 -InDisconnectedSession -SessionName d1,d2 { for i in 1 2 3; do echo "line $i on $(hostname -s >/dev/null; echo $1)"; done; sleep 1; echo last } -ArgumentList x',
    );
    expect(started.ok, started.sink.text()).toBe(true);
    const rows = tableRows(await rt.run('$s'));
    expect(rows.map((r) => [r[1], r[2], r[4]])).toEqual([
      ['d1', 'web1', 'Disconnected'],
      ['d2', 'web2', 'Disconnected'],
    ]);
    const jobId = rt.app.store.listJobs('console').at(-1)!.id;
    // The command runs on; nothing of its output reaches the bot while disconnected.
    await new Promise((r) => setTimeout(r, 1500));
    expect(stored(jobId)).toBe('');
    await rt.restartApp();
    await rt.waitConnected(['web1', 'web2']);
    expect(tableRows(await rt.run('Get-PSSession')).map((r) => r[4])).toEqual(['Disconnected', 'Disconnected']);
    const received = await rt.run('Receive-PSSession -Name d1');
    expect(received.ok, received.sink.text()).toBe(true);
    expect(received.sink.text()).toContain('last');
    // Each line once: what the bot stored for web1, in order.
    expect(storedFor(jobId, 'web1')).toBe('line 1 on x\nline 2 on x\nline 3 on x\nlast\n');
    expect(storedFor(jobId, 'web2')).toBe('');
    expect(tableRows(await rt.run('Get-PSSession -Name d1'))[0]?.[4]).toBe('Opened');
    expect(tableRows(await rt.run('Get-PSSession -Name d2'))[0]?.[4]).toBe('Disconnected');
    const second = await rt.run('Receive-PSSession -Name d2');
    expect(second.sink.text()).toContain('last');
    expect(storedFor(jobId, 'web2')).toBe('line 1 on x\nline 2 on x\nline 3 on x\nlast\n');
    await rt.run('Get-PSSession | Remove-PSSession');
  }, 90_000);

  it('Disconnect-PSSession while a command runs: its output is kept on the agent until Connect-PSSession, then goes on to its job', async () => {
    await rt.run('$b = New-PSSession web1');
    const started = await rt.run('$j = Invoke-Command -Session $b { echo before; sleep 2; echo while-away; echo finished } -AsJob');
    expect(started.ok, started.sink.text()).toBe(true);
    const jobId = rt.app.store.listJobs('console').at(-1)!.id;
    await until(() => stored(jobId).includes('before'), 'the first line');
    const disconnected = await rt.run('Disconnect-PSSession -Session $b');
    expect(tableRows(disconnected)[0]?.[4]).toBe('Disconnected');
    // A disconnected session runs no new command, as in PowerShell.
    const refused = await rt.run('Invoke-Command -Session $b { echo no }');
    expect(refused.ok).toBe(false);
    expect(refused.sink.text()).toContain('The session state is Disconnected.');
    await new Promise((r) => setTimeout(r, 2500));
    expect(stored(jobId)).toBe('before\n');
    expect(rt.app.store.getJob(jobId)?.state).toBe('Running');
    const connected = await rt.run('Connect-PSSession -Session $b');
    expect(tableRows(connected)[0]?.[4]).toBe('Opened');
    await rt.run('Wait-Job $j -Timeout 20');
    expect(codeText(await rt.run('Receive-Job $j'))).toBe('before\nwhile-away\nfinished');
    await rt.run('Remove-PSSession -Session $b');
  });

  it('Block really pauses: with a small buffer the command does not get past it until someone connects', async () => {
    const passed = join(tmpdir(), `chatops-block-passed-${process.pid}-${Date.now()}`);
    const started = await rt.run(
      `$s = Invoke-Command -ComputerName web1 -InDisconnectedSession -SessionOption @{ OutputBufferingMode = 'Block'; MaximumReceivedDataSizePerCommand = 100 } { for i in $(seq 1 50); do echo "row $i of fifty"; sleep 0.01; done; touch ${passed}; echo end }`,
    );
    expect(started.ok, started.sink.text()).toBe(true);
    const jobId = rt.app.store.listJobs('console').at(-1)!.id;
    await new Promise((r) => setTimeout(r, 1500));
    // Paused: the job is still running, with nothing stored, and the script did not get past its output.
    expect(rt.app.store.getJob(jobId)?.state).toBe('Running');
    expect(stored(jobId)).toBe('');
    expect(existsSync(passed)).toBe(false);
    const received = await rt.run('Receive-PSSession -Session $s');
    expect(received.ok, received.sink.text()).toBe(true);
    expect(received.sink.text()).toContain('row 50 of fifty');
    const lines = stored(jobId).trimEnd().split('\n');
    expect(lines).toHaveLength(51);
    expect(lines.at(-1)).toBe('end');
    expect(existsSync(passed)).toBe(true);
    rmSync(passed, { force: true });
    await rt.run('Get-PSSession | Remove-PSSession');
  });

  it('Drop keeps the newest output within the buffer and says how much it dropped', async () => {
    await rt.run(
      '$s = Invoke-Command -ComputerName web2 -InDisconnectedSession -SessionOption @{ OutputBufferingMode = \'Drop\'; MaximumReceivedDataSizePerCommand = 100 } { for i in $(seq 1 50); do echo "row $i"; done; echo end }',
    );
    const jobId = rt.app.store.listJobs('console').at(-1)!.id;
    await new Promise((r) => setTimeout(r, 1500));
    const received = await rt.run('Receive-PSSession -Session $s');
    expect(received.ok, received.sink.text()).toBe(true);
    const text = received.sink.text();
    expect(text).toMatch(/\d+ bytes of output were dropped while the session was disconnected \(OutputBufferingMode Drop\)/);
    const out = codeText(received);
    expect(out).toContain('end');
    expect(out).not.toContain('row 1\n');
    expect(stored(jobId).length).toBeLessThan(400);
    await rt.run('Get-PSSession | Remove-PSSession');
  });

  it("another channel cannot receive, connect or disconnect a channel's sessions", async () => {
    await rt.run('$s = New-PSSession web1 -Name mine');
    const other = { channel: 'slack:T1/C9', user: { platform: 'slack' as const, userId: 'U9', displayName: 'eve' } };
    for (const line of ['Receive-PSSession -Name mine', 'Disconnect-PSSession -Name mine', 'Connect-PSSession -Name mine']) {
      const r = await rt.run(line, other);
      expect(r.ok, line).toBe(false);
    }
    expect(tableRows(await rt.run('Get-PSSession -Name mine'))[0]?.[4]).toBe('Opened');
    await rt.run('Get-PSSession | Remove-PSSession');
  });
});
