import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pathWithPwsh } from '../helpers/pwsh.js';
import { startTestRuntime, type TestRuntime, waitFor } from '../helpers/runtime.js';

/**
 * JOB_MAX_RUNTIME applies to Microsoft.PowerShell runs: the agent ends pwsh and every process the
 * script started when the time is up, and the computer's child fails saying so.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    env: { JOB_MAX_RUNTIME: '20s' },
    agents: [{ name: 'ps1', env: { PATH: pathWithPwsh() }, args: ['--configuration', 'Microsoft.PowerShell'] }],
  });
}, 120_000);
afterAll(async () => {
  await rt?.stop();
});

it('a pwsh script that outruns JOB_MAX_RUNTIME is stopped with the processes it started, and its child fails saying so', async () => {
  const pidFile = join(mkdtempSync(join(tmpdir(), 'chatops-pwsh-limit-')), 'pids');
  const { sink } = await rt.run(
    `icm ps1 -AsJob -ArgumentList '${pidFile}' { param($f) 'started'; Set-Content $f "$PID"; bash -c "sleep 300 & echo \\$! >> $f; wait"; 'never' }`,
  );
  const jobId = sink.latestStatus()!.jobId;
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split('\n').length === 2, 20_000, 'pwsh and sleep');
  const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
  const job = await rt.app.jobs.waitFor(jobId, 60_000);
  expect(job?.state).toBe('Failed');
  expect(rt.app.store.children(jobId)[0]).toMatchObject({
    state: 'Failed',
    reason: 'The command ran longer than the maximum runtime of 20 s and was stopped',
  });
  await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'pwsh and its sleep to end');
  const received = await rt.run(`Receive-Job ${jobId}`);
  expect(received.sink.text()).toContain('started');
  expect(received.sink.text()).toContain('maximum runtime of 20 s');
  expect(received.sink.text()).not.toContain('never');
}, 120_000);

function alive(pid: number): boolean {
  // A killed child not yet reaped by its (also killed) parent is a zombie: count that as dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
