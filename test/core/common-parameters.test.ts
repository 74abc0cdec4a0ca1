import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Common parameters through the core with one real agent: -WhatIf on Stop-Job/Remove-Job
 * changes nothing and says what would happen (reference 1.10, 3.11.4, 3.11.5, gotcha 17);
 * -Verbose, -ErrorAction and -WarningAction work with their default meaning and are refused,
 * by name, otherwise. Never silently ignored.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }] });
});

afterAll(async () => {
  await rt?.stop();
});

const run = (text: string) => rt.run(text);

describe('-WhatIf', () => {
  it("Stop-Job -WhatIf leaves the job running and posts PowerShell's What if line per unfinished job", async () => {
    const started = await run('icm web1 { sleep 30 } -AsJob -JobName long');
    const id = started.jobIds[0]!;
    const done = await run('icm web1 { echo hi } -AsJob -JobName short');
    await run(`Wait-Job ${done.jobIds[0]}`);
    expect(rt.app.store.getJob(id)!.command).toBe('icm web1 { sleep 30 } -AsJob -JobName long');
    // The target names the job by its Command as Get-Job shows it: the script block's text.
    const command = ' sleep 30 ';

    const preview = await run(`Stop-Job -Id ${id},${done.jobIds[0]} -WhatIf`);
    expect(preview.ok).toBe(true);
    // The finished job is skipped before ShouldProcess, as Stop-Job does.
    expect(preview.sink.posts()).toEqual([
      `What if: Performing the operation "Stop" on target "Remote Command: ${command}, associated with a job that has an ID of "${id}".".`,
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(rt.app.store.getJob(id)?.state).toBe('Running');
    expect(rt.app.store.children(id).every((c) => c.state === 'Running')).toBe(true);

    const removePreview = await run(`Remove-Job -Id ${id} -Force -WhatIf`);
    expect(removePreview.sink.posts()).toEqual([
      `What if: Performing the operation "Remove" on target "Remote Command: ${command}, associated with the job that has an ID of "${id}".".`,
    ]);
    expect(rt.app.store.getJob(id)?.state).toBe('Running');

    // Without -WhatIf the same lines act.
    const stop = await run(`Stop-Job -Id ${id}`);
    // Stop-Job without -PassThru prints nothing, as in PowerShell (the status shows Stopped).
    expect(stop.sink.posts()).toEqual([]);
    await run(`Wait-Job ${id}`);
    expect(rt.app.store.getJob(id)?.state).toBe('Stopped');
  });

  it('Remove-Job -WhatIf keeps finished jobs; unfinished ones still get the not-finished error', async () => {
    const done = await run('icm web1 { echo x } -AsJob -JobName keepme');
    const id = done.jobIds[0]!;
    await run(`Wait-Job ${id}`);
    const running = await run('icm web1 { sleep 30 } -AsJob');
    const rid = running.jobIds[0]!;
    const preview = await run(`Remove-Job -Id ${id},${rid} -WhatIf`);
    const command = ' echo x ';
    expect(preview.sink.posts()).toEqual([
      `What if: Performing the operation "Remove" on target "Remote Command: ${command}, associated with the job that has an ID of "${id}".".`,
    ]);
    expect(preview.sink.replies().join('\n')).toContain(
      `The command cannot remove the job with the job ID ${rid} because the job is not finished.`,
    );
    expect(rt.app.store.getJob(id)).toBeDefined();
    expect(rt.app.store.getJob(rid)?.state).toBe('Running');

    const real = await run(`Remove-Job -Id ${id}`);
    expect(real.sink.posts().join('\n')).toContain(`Removed keepme (Id ${id})`);
    expect(rt.app.store.getJob(id)).toBeUndefined();
    await run(`Stop-Job ${rid}`);
    await run(`Wait-Job ${rid}`);
  });
});

describe('-Verbose, -ErrorAction, -WarningAction', () => {
  it('run with their default meaning and are refused by name otherwise, before anything reaches an agent', async () => {
    const ok = await run('icm web1 { echo fine } -ErrorAction Continue -WarningAction Continue -Verbose:$false');
    expect(ok.ok).toBe(true);
    expect(ok.sink.threadBlocks().some((b) => b.kind === 'code' && b.text === 'fine')).toBe(true);

    const before = rt.app.store.listJobs('console').length;
    const stop = await run('icm web1 { echo no } -ErrorAction Stop');
    expect(stop.ok).toBe(false);
    expect(stop.sink.replies().join('\n')).toContain('-ErrorAction Stop is not supported: only Continue, the default, is implemented');
    const silent = await run('Get-Job -ea SilentlyContinue');
    expect(silent.sink.replies().join('\n')).toContain('-ErrorAction SilentlyContinue is not supported');
    const warn = await run('icm web1 { echo no } -WarningAction Ignore');
    expect(warn.sink.replies().join('\n')).toContain('-WarningAction Ignore is not supported');
    const verbose = await run('Get-Job -Verbose');
    expect(verbose.ok).toBe(false);
    expect(verbose.sink.replies().join('\n')).toContain('-Verbose is not supported');
    expect(rt.app.store.listJobs('console').length).toBe(before);
  });
});
