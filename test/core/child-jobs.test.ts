import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Child jobs named by Id are jobs in their own right for Wait-Job and Stop-Job (PowerShell's
 * lookups recurse into child jobs, reference 3.11), and long waits stay plain timers.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: ['web1', 'web2'].map((name) => ({ name, env: { AGENT_ID: name } })) });
});

afterAll(async () => {
  await rt?.stop();
});

function children(jobId: number) {
  return Object.fromEntries(rt.app.store.children(jobId).map((c) => [c.computer, c]));
}

it('Stop-Job of a child Id stops that computer only; the others run to the end', async () => {
  const { jobIds } = await rt.run('icm web1,web2 { sleep 1.5; echo "done $AGENT_ID" } -AsJob');
  const id = jobIds[0]!;
  const web2 = children(id).web2!;
  const stopped = await rt.run(`Stop-Job ${web2.id}`);
  expect(stopped.ok).toBe(true);
  // Nothing printed without -PassThru, as in PowerShell.
  expect(stopped.sink.posts()).toEqual([]);
  expect(children(id).web2?.state).toBe('Stopped');
  expect(children(id).web1?.state).toBe('Running');
  const job = await rt.app.jobs.waitFor(id, 10_000);
  expect(children(id).web1?.state).toBe('Completed');
  // PowerShell's parent state: no child failed, one was stopped.
  expect(job?.state).toBe('Stopped');
  expect(rt.app.store.output(id).map((o) => o.data.trim())).toEqual(['done web1']);
});

it('Wait-Job of a child Id returns when that child is done, not the whole job', async () => {
  const { jobIds } = await rt.run('icm web1,web2 { if [ "$AGENT_ID" = web1 ]; then sleep 0.3; else sleep 30; fi } -AsJob');
  const id = jobIds[0]!;
  const web1 = children(id).web1!;
  const waited = await rt.run(`Wait-Job -Id ${web1.id} -Timeout 20`);
  const table = waited.sink.postBlocks().find((b) => b.kind === 'table');
  expect(table && table.kind === 'table' && table.rows.map((r) => [r[0], r[3], r[5]])).toEqual([[String(web1.id), 'Completed', 'web1']]);
  expect(rt.app.store.getJob(id)?.state).toBe('Running');
  await rt.run(`Stop-Job ${id}`);
});

it('Wait-Job -Timeout beyond 24.8 days is an ordinary wait, not a busy loop', async () => {
  const overflows: string[] = [];
  const onWarning = (w: Error): void => {
    if (w.name === 'TimeoutOverflowWarning') overflows.push(w.message);
  };
  process.on('warning', onWarning);
  try {
    const { jobIds } = await rt.run('icm web1 { sleep 0.5 } -AsJob');
    const waited = await rt.run(`Wait-Job ${jobIds[0]} -Timeout 2147483647`);
    const table = waited.sink.postBlocks().find((b) => b.kind === 'table');
    expect(table && table.kind === 'table' && table.rows[0]?.[3]).toBe('Completed');
  } finally {
    process.off('warning', onWarning);
  }
  expect(overflows).toEqual([]);
});
