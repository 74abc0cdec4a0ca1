import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';

/**
 * JOB_RETENTION: a finished job is deleted with its output once it ended longer ago than the
 * retention period; a job still running is kept however old it is.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }], env: { JOB_RETENTION: '2s' } });
});

afterAll(async () => {
  await rt?.stop();
});

const outputRows = (jobId: number): number =>
  (rt.app.db.prepare('SELECT COUNT(*) AS n FROM job_output WHERE job_id = ?').get(jobId) as { n: number }).n;

it('prunes a finished job and its output after the retention period, never a running one', async () => {
  const finished = await rt.run('icm web1 { echo kept-for-a-while } -AsJob');
  const doneId = finished.jobIds[0]!;
  await rt.app.jobs.waitFor(doneId, 10_000);
  const running = await rt.run('icm web1 { echo still-going; sleep 30 } -AsJob');
  const runningId = running.jobIds[0]!;
  expect(outputRows(doneId)).toBe(1);

  // Within the period nothing goes.
  expect(rt.app.retention.pruneNow()).toEqual([]);
  expect((await rt.run(`Get-Job ${doneId}`)).ok).toBe(true);

  // Once expired, the periodic pruning deletes the job, its children and its output.
  await waitFor(() => rt.app.store.getJob(doneId) === undefined, 10_000, 'the finished job to be pruned');
  expect(rt.app.store.children(doneId)).toEqual([]);
  expect(outputRows(doneId)).toBe(0);
  const gone = await rt.run(`Receive-Job ${doneId}`);
  expect(gone.ok).toBe(false);
  expect(gone.sink.replies().join('\n')).toContain(`The command cannot find a job with the job ID ${doneId}.`);

  // The running job started long enough ago to have expired, were it finished.
  expect(rt.app.retention.pruneNow(Date.now() + 60_000)).toEqual([]);
  expect(rt.app.store.getJob(runningId)?.state).toBe('Running');
  await rt.run(`Stop-Job ${runningId}`);
  await rt.app.jobs.waitFor(runningId, 10_000);
  expect(rt.app.retention.pruneNow(Date.now() + 60_000)).toEqual([runningId]);
});
