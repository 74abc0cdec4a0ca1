import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, waitFor, RecordingSink, type TestRuntime } from '../helpers/runtime';

/**
 * A restart of the bot in the middle of a job loses nothing: the job keeps its state, the
 * agent reconnects and resends what was not acknowledged, and every output record is stored
 * exactly once.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }, { name: 'web2' }] });
});

afterAll(async () => {
  await rt?.stop();
});

it('keeps the job and all its output across a bot restart, each record stored once', async () => {
  const sink = new RecordingSink();
  const outcome = await rt.core.handle(
    {
      channel: 'console',
      user: { platform: 'console', userId: 'console', displayName: 'tester' },
      text: 'icm web1,web2 { echo before; sleep 0.5; echo after } -AsJob',
      source: 'command',
    },
    sink,
  );
  const id = outcome.jobIds[0]!;
  await waitFor(() => rt.app.store.output(id).filter((o) => o.data.includes('before')).length === 2, 10_000, 'first output');

  // The bot is down while the scripts finish: 'after' and the final states wait in the agents'
  // outboxes, unacknowledged, and are resent when the agents reconnect.
  await rt.restartApp({ downMs: 1500 });
  // The new process resumes the job from the store; the agents have two heartbeats to dial in
  // again before their children show Disconnected.
  expect(rt.app.store.getJob(id)?.state).toBe('Running');
  await rt.waitConnected(['web1', 'web2']);
  const job = await rt.app.jobs.waitFor(id, 15_000);
  expect(job?.state).toBe('Completed');

  const rows = rt.app.store.output(id).filter((o) => o.stream === 'output');
  const texts = rows.map((r) => `${r.computer}:${r.data.trim()}`).sort();
  expect(texts).toEqual(['web1:after', 'web1:before', 'web2:after', 'web2:before']);
  // (runId, seq) is unique: nothing was stored twice even though the agents resent.
  const keys = new Set(rows.map((r) => `${r.runId}/${r.seq}`));
  expect(keys.size).toBe(rows.length);

  const sink2 = new RecordingSink();
  await rt.core.handle(
    { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text: `Receive-Job ${id}`, source: 'command' },
    sink2,
  );
  const code = sink2.postBlocks().filter((b) => b.kind === 'code');
  expect(code).toEqual([{ kind: 'code', title: 'web1, web2', text: 'before\nafter' }]);
});
