import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, waitFor, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { NeutralMessage } from '../../src/messages/model.js';
import { messageToText } from '../../src/messages/plain-text.js';

/**
 * A status message whose final drawing failed (the adapter stopping under it, a deleted
 * message) is picked up by the next bot process, once, and nothing the first process posted in
 * its thread is posted again.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }] });
});

afterAll(async () => {
  await rt?.stop();
});

const user = { platform: 'console', userId: 'console', displayName: 'tester' } as const;
const finalEdit = (type: string, m: NeutralMessage): boolean =>
  type === 'update' && m.blocks.some((b) => b.kind === 'status' && ['Completed', 'Failed'].includes(b.status.state));
const threadTexts = (s: RecordingSink, handle: string): string[] =>
  s.events.flatMap((e) => (e.type === 'thread' && e.parent === handle ? [messageToText(e.message)] : []));

/** Restarts the bot and lets a fresh sink (failing as `failWhen` says) pick up the statuses. */
async function nextProcess(prefix: string, failWhen?: (type: string, m: NeutralMessage) => boolean): Promise<RecordingSink> {
  await rt.restartApp();
  await rt.waitConnected(['web1']);
  const sink = new RecordingSink({ idPrefix: prefix, ...(failWhen ? { failWhen } : {}) });
  rt.core.reattach((channel) => (channel === 'console' ? sink : undefined));
  return sink;
}

it('-AsJob: the state note the first process posted is not posted again', async () => {
  let finalTried = false;
  const first = new RecordingSink({
    idPrefix: 'a-',
    failWhen: (type, m) => {
      const refused = finalEdit(type, m);
      if (refused) finalTried = true;
      return refused;
    },
  });
  const { jobIds } = await rt.core.handle({ channel: 'console', user, text: 'icm web1 { echo once } -AsJob', source: 'command' }, first);
  const id = jobIds[0]!;
  const handle = first.statusPosts()[0]!.id;
  await waitFor(() => threadTexts(first, handle).length === 1, 10_000, 'the note in the first process');
  await waitFor(() => finalTried, 10_000, 'the final edit tried');
  const next = await nextProcess('b-');
  await waitFor(() => rt.app.store.getJob(id)?.statusHandle === undefined, 10_000, 'the status drawn for good');
  expect(next.events.some((e) => e.type === 'update' && e.id === handle && finalEdit('update', e.message))).toBe(true);
  expect(threadTexts(next, handle)).toEqual([]);
});

it('synchronous with a Failed child: its results and failure reason are not posted again', async () => {
  const first = new RecordingSink({ idPrefix: 'c-', failWhen: finalEdit });
  const { jobIds } = await rt.core.handle({ channel: 'console', user, text: 'icm web1 { echo out; exit 3 }', source: 'command' }, first);
  const id = jobIds[0]!;
  const handle = first.statusPosts()[0]!.id;
  expect(threadTexts(first, handle).join('\n')).toContain('exited with code 3');
  const next = await nextProcess('d-');
  await waitFor(() => rt.app.store.getJob(id)?.statusHandle === undefined, 10_000, 'the status drawn for good');
  expect(threadTexts(next, handle)).toEqual([]);
});

it('a status that cannot be edited any more (deleted) is tried by one later process, not by every one', async () => {
  const deleted = (type: string): boolean => type === 'update';
  const first = new RecordingSink({ idPrefix: 'e-', failWhen: deleted });
  const { jobIds } = await rt.core.handle({ channel: 'console', user, text: 'icm web1 { echo z } -AsJob', source: 'command' }, first);
  const id = jobIds[0]!;
  await rt.app.jobs.waitFor(id, 10_000);
  await waitFor(() => first.events.some((e) => e.type === 'thread'), 10_000, 'the note');
  expect(rt.app.store.getJob(id)?.statusHandle).toBeDefined();
  const second = await nextProcess('f-', deleted);
  await waitFor(() => rt.app.store.getJob(id)?.statusHandle === undefined, 10_000, 'the handle let go');
  expect(threadTexts(second, first.statusPosts()[0]!.id)).toEqual([]);
  const third = await nextProcess('g-', deleted);
  expect(third.events).toEqual([]);
});
