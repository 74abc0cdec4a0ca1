import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, whileFrozen, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { IncomingCommand, MessageHandle } from '../../src/core/ports.js';
import type { NeutralMessage } from '../../src/messages/model.js';

/**
 * A job removed while something still follows it: its status presenter (which may be posting
 * right then), a synchronous Invoke-Command waiting for it, a Receive-Job -Wait. Nothing may
 * crash the bot (no unhandled rejection), hang, keep listening, or edit the status afterwards.
 */

let rt: TestRuntime;
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  rt = await startTestRuntime({
    agents: ['web1', 'web2'].map((name) => ({ name, env: { AGENT_ID: name } })),
    // A frozen agent stays Disconnected (not lost) for the whole test.
    env: { AGENT_LOST_GRACE: '60s' },
  });
});

afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await rt?.stop();
});

let baseListeners = 0;
beforeEach(() => {
  rejections.length = 0;
  baseListeners = listenerCount();
});

afterEach(() => {
  expect(rejections.map(String)).toEqual([]);
});

/** Job listeners subscribed now (presenters, waits): a removed job's must all be gone. */
function listenerCount(): number {
  return rt.app.jobs.listenerCount();
}

/**
 * A chat platform that takes `delayMs` for each post, thread reply and edit. `calls` notes when
 * each was asked for (the recorded events carry when it was done).
 */
class SlowSink extends RecordingSink {
  readonly calls: Array<{ type: 'post' | 'thread' | 'update'; at: number }> = [];
  constructor(private readonly delayMs: number) {
    super();
  }
  override async post(message: NeutralMessage): Promise<MessageHandle> {
    this.calls.push({ type: 'post', at: Date.now() });
    await sleep(this.delayMs);
    return super.post(message);
  }
  override async postInThread(parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle> {
    this.calls.push({ type: 'thread', at: Date.now() });
    await sleep(this.delayMs);
    return super.postInThread(parent, message);
  }
  override async update(handle: MessageHandle, message: NeutralMessage): Promise<void> {
    this.calls.push({ type: 'update', at: Date.now() });
    await sleep(this.delayMs);
    return super.update(handle, message);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cmd(text: string): IncomingCommand {
  return { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text, source: 'command' };
}

/** Starts a command without waiting for it to end. */
function start(
  text: string,
  sink: RecordingSink = new RecordingSink(),
): { sink: RecordingSink; done: Promise<{ ok: boolean; jobIds: number[] }> } {
  return { sink, done: rt.core.handle(cmd(text), sink) };
}

async function startedJob(text: string, sink: RecordingSink): Promise<number> {
  const { done } = start(text, sink);
  const { ok, jobIds } = await done;
  expect(ok).toBe(true);
  return jobIds[0]!;
}

async function outputFrom(jobId: number, computer: string): Promise<void> {
  await waitFor(() => rt.app.store.output(jobId).some((o) => o.computer === computer), 10_000, `output from ${computer}`);
}

/** whileFrozen, then waits for the agent to be back: the hub cut it off meanwhile. */
async function frozen(name: string, fn: () => Promise<void>): Promise<void> {
  await whileFrozen(rt.agent(name), fn);
  await rt.waitConnected([name]);
}

/** Status edits asked for after `t` (a removed job's status must not be edited any more). */
function updatesAfter(sink: RecordingSink, t: number): number {
  if (sink instanceof SlowSink) return sink.calls.filter((c) => c.type === 'update' && c.at >= t).length;
  return sink.events.filter((e) => e.type === 'update' && e.at >= t).length;
}

async function botStillWorks(): Promise<void> {
  const r = await rt.run('icm web1 { echo still-here }');
  expect(r.ok).toBe(true);
  expect(r.sink.threadBlocks().some((b) => b.kind === 'code' && b.text === 'still-here')).toBe(true);
}

describe('a job removed while its agent is away', () => {
  // The agent is away: the job is Stopped at once, and its presenter starts posting the state
  // change (200 ms) while the job is deleted under it.
  it.each([
    ['Remove-Job -Force', (id: number) => `Remove-Job ${id} -Force`],
    ['Remove-Job -State Disconnected', () => 'Remove-Job -State Disconnected'],
  ])('%s while the presenter is posting: no rejection escapes, it stops listening, no edit after', async (_, line) => {
    const icm = new SlowSink(200);
    const id = await startedJob('icm web2 { echo started; sleep 30 } -AsJob', icm);
    await outputFrom(id, 'web2');
    let removedAt = 0;
    await frozen('web2', async () => {
      await waitFor(() => rt.app.store.getJob(id)?.state === 'Disconnected', 10_000, 'the job Disconnected');
      const removed = await rt.run(line(id));
      removedAt = Date.now();
      expect(removed.ok).toBe(true);
      expect(removed.sink.posts().join('\n')).toContain(`Removed Job${id} (Id ${id}).`);
      expect(rt.app.store.getJob(id)).toBeUndefined();
      await sleep(600);
    });
    expect(listenerCount()).toBe(baseListeners);
    expect(updatesAfter(icm, removedAt)).toBe(0);
    await botStillWorks();
  });

  it('a synchronous Invoke-Command whose job is removed with -Force ends, saying so', async () => {
    const icm = new SlowSink(200);
    const first = start('icm web2 { echo started; sleep 30 }', icm);
    await waitFor(
      () => rt.app.store.listJobs('console').some((j) => j.command.includes('echo started; sleep 30') && j.state === 'Running'),
      10_000,
      'the job',
    );
    const id = rt.app.store.listJobs('console').find((j) => j.command.includes('echo started; sleep 30') && j.state === 'Running')!.id;
    await outputFrom(id, 'web2');
    await frozen('web2', async () => {
      await waitFor(() => rt.app.store.getJob(id)?.state === 'Disconnected', 10_000, 'the job Disconnected');
      const removed = await rt.run(`Remove-Job ${id} -Force`);
      expect(removed.ok).toBe(true);
      const outcome = await first.done;
      expect(outcome.ok).toBe(false);
      expect(icm.replies().join('\n')).toContain(`Job${id} (Id ${id}) was removed`);
      await sleep(600);
    });
    expect(listenerCount()).toBe(baseListeners);
    await botStillWorks();
  });
});

describe('a running job removed while its agent is connected', () => {
  it('Remove-Job -Force of a synchronous Invoke-Command (typed concurrently) ends the first command with an error naming the job', async () => {
    const icm = new RecordingSink();
    const first = start('icm web1 { echo started; sleep 30 }', icm);
    await waitFor(
      () => rt.app.store.listJobs('console').some((j) => j.command.includes('{ echo started; sleep 30 }') && j.state === 'Running'),
      10_000,
      'the job',
    );
    const id = rt.app.store.listJobs('console').find((j) => j.command.includes('{ echo started; sleep 30 }') && j.state === 'Running')!.id;
    await outputFrom(id, 'web1');

    const removed = await rt.run(`Remove-Job ${id} -Force`);
    const removedAt = Date.now();
    expect(removed.ok).toBe(true);
    const ended = await Promise.race([first.done, sleep(5_000).then(() => 'still waiting' as const)]);
    expect(ended).not.toBe('still waiting');
    expect(ended).toMatchObject({ ok: false, jobIds: [id] });
    expect(icm.replies()).toEqual([
      expect.stringContaining(`Job${id} (Id ${id}) was removed (Remove-Job) while Invoke-Command was waiting for it`),
    ]);
    expect(listenerCount()).toBe(baseListeners);
    // The agent's confirmation of the stop comes later: the status is not edited for it.
    await sleep(500);
    expect(updatesAfter(icm, removedAt)).toBe(0);
    await botStillWorks();
  });

  it('Remove-Job -Force of an -AsJob job: its presenter unsubscribes and edits nothing more', async () => {
    const icm = new RecordingSink();
    const id = await startedJob('icm web1,web2 { echo started; sleep 30 } -AsJob', icm);
    await outputFrom(id, 'web1');
    expect(listenerCount()).toBe(baseListeners + 1);
    const removed = await rt.run(`Remove-Job ${id} -Force`);
    const removedAt = Date.now();
    expect(removed.ok).toBe(true);
    expect(listenerCount()).toBe(baseListeners);
    await sleep(500);
    expect(updatesAfter(icm, removedAt)).toBe(0);
    expect(icm.events.filter((e) => e.at > removedAt)).toEqual([]);
  });
});

describe('Receive-Job -Wait -AutoRemoveJob', () => {
  it('of an -AsJob job whose presenter posts slowly: removed while it posts, nothing escapes, nothing leaks', async () => {
    const icm = new SlowSink(200);
    const id = await startedJob('icm web1 { echo first; sleep 0.5; echo second; sleep 0.3 } -AsJob', icm);
    const waiter = start(`Receive-Job ${id} -Wait -AutoRemoveJob`, new SlowSink(200));
    const outcome = await waiter.done;
    const removedAt = Date.now();
    expect(outcome.ok).toBe(true);
    expect(waiter.sink.posts().at(-1)).toContain(`Job${id} (Id ${id}) is Completed; removed (-AutoRemoveJob).`);
    const lines = waiter.sink.postBlocks().flatMap((b) => (b.kind === 'code' ? b.text.split('\n') : []));
    expect(lines).toEqual(['first', 'second']);
    expect(rt.app.store.getJob(id)).toBeUndefined();
    // The presenter's slow state-change post and status edit settle after the removal.
    await sleep(800);
    expect(listenerCount()).toBe(baseListeners);
    expect(updatesAfter(icm, removedAt)).toBe(0);
    await botStillWorks();
  });
});
