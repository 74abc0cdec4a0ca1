import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, waitFor, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { NeutralMessage } from '../../src/messages/model.js';

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
    {
      channel: 'console',
      user: { platform: 'console', userId: 'console', displayName: 'tester' },
      text: `Receive-Job ${id}`,
      source: 'command',
    },
    sink2,
  );
  const code = sink2.postBlocks().filter((b) => b.kind === 'code');
  expect(code).toEqual([{ kind: 'code', title: 'web1, web2', text: 'before\nafter' }]);
});

it("follows on the status messages the previous process posted: edits, the -AsJob note, a synchronous call's results", async () => {
  const user = { platform: 'console', userId: 'console', displayName: 'tester' } as const;
  const before = new RecordingSink({ idPrefix: 'before-' });
  // Neither is awaited: the process that runs them is about to stop.
  void rt.core.handle(
    { channel: 'console', user, text: 'icm web1,web2 { echo first; sleep 1.5; echo second }', source: 'command' },
    before,
  );
  void rt.core.handle({ channel: 'console', user, text: 'icm web1 { sleep 1.5; echo late } -AsJob', source: 'command' }, before);
  await waitFor(() => before.statusPosts().length === 2, 10_000, 'two status messages');
  const sync = before.statusPosts().find((p) => !p.status.asJob);
  const asJob = before.statusPosts().find((p) => p.status.asJob);
  const syncId = sync!.status.jobId;
  const asJobId = asJob!.status.jobId;
  await waitFor(
    () => rt.app.store.getJob(syncId)?.statusHandle === sync!.id && rt.app.store.getJob(asJobId)?.statusHandle === asJob!.id,
    10_000,
    'handles stored',
  );
  expect(rt.app.store.getJob(syncId)?.statusShowsResults).toBe(true);

  await rt.restartApp();
  const after = new RecordingSink();
  // Only the console's sink is offered the console's jobs.
  expect(rt.core.reattach(() => undefined)).toBe(0);
  // Every status left unfinished is picked up: these two, and any job that finished while no
  // process followed its status (the first test's).
  const live = rt.app.store.jobsWithLiveStatus().map((j) => j.id);
  expect(live).toEqual(expect.arrayContaining([syncId, asJobId]));
  expect(rt.core.reattach((channel) => (channel === 'console' ? after : undefined))).toBe(live.length);
  // Once followed, a second adapter's call picks up nothing twice.
  expect(rt.core.reattach(() => after)).toBe(0);

  await waitFor(
    () => [syncId, asJobId].every((id) => rt.app.store.getJob(id)?.statusHandle === undefined),
    20_000,
    'both statuses drawn for good',
  );
  const finalState = (handle: string): string | undefined =>
    after.events
      .flatMap((e) => (e.type === 'update' && e.id === handle ? e.message.blocks : []))
      .flatMap((b) => (b.kind === 'status' ? [b.status.state] : []))
      .at(-1);
  expect(finalState(sync!.id)).toBe('Completed');
  expect(finalState(asJob!.id)).toBe('Completed');
  // The synchronous call's results go in its status thread, as the first process would have.
  expect(after.threadBlocks(sync!.id).filter((b) => b.kind === 'code')).toEqual([
    { kind: 'code', title: 'web1, web2', text: 'first\nsecond' },
  ]);
  expect(rt.app.store.children(syncId).some((c) => rt.app.store.hasUnreadOutput(c.id))).toBe(false);
  // -AsJob: the state note, and the output left for Receive-Job.
  expect(after.threadBlocks(asJob!.id)).toEqual([
    expect.objectContaining({ kind: 'text', text: expect.stringContaining(`Job${asJobId} is Completed.`) }),
  ]);
  expect(rt.app.store.children(asJobId).some((c) => rt.app.store.hasUnreadOutput(c.id))).toBe(true);
});

it('leaves a status whose final edit failed for the next process to draw, without posting its results twice', async () => {
  const user = { platform: 'console', userId: 'console', displayName: 'tester' } as const;
  const finalEdit = (type: string, m: NeutralMessage): boolean =>
    type === 'update' && m.blocks.some((b) => b.kind === 'status' && b.status.state === 'Completed');
  // The platform refuses the last edit, as an adapter stopping under it would.
  const first = new RecordingSink({ idPrefix: 'flaky-', failWhen: finalEdit });
  const done = await rt.core.handle({ channel: 'console', user, text: 'icm web1 { echo once }', source: 'command' }, first);
  const id = done.jobIds[0]!;
  const handle = first.statusPosts()[0]!.id;
  expect(first.threadBlocks(handle).filter((b) => b.kind === 'code')).toEqual([{ kind: 'code', title: 'web1', text: 'once' }]);
  expect(rt.app.store.getJob(id)?.statusHandle).toBe(handle);

  await rt.restartApp();
  const next = new RecordingSink({ idPrefix: 'next-' });
  expect(rt.core.reattach((channel) => (channel === 'console' ? next : undefined))).toBeGreaterThanOrEqual(1);
  await waitFor(() => rt.app.store.getJob(id)?.statusHandle === undefined, 10_000, 'the status drawn for good');
  expect(next.events.some((e) => e.type === 'update' && e.id === handle && finalEdit('update', e.message))).toBe(true);
  expect(next.threadBlocks(handle)).toEqual([]);
});
