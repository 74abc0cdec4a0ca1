import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { Block } from '../../src/messages/model.js';

/**
 * Receive-Job -Wait streams: output is posted while the job still runs, each piece once, per
 * computer, and the wait ends when the job does (or is stopped by another command).
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: ['web1', 'web2'].map((name) => ({ name, env: { AGENT_ID: name } })),
    statusIntervalMs: 100,
  });
});

afterAll(async () => {
  await rt?.stop();
});

/** Runs a command with a sink the test can watch while the command is still running. */
function start(text: string): { sink: RecordingSink; done: Promise<{ ok: boolean; jobIds: number[] }> } {
  const sink = new RecordingSink();
  const done = rt.core.handle(
    { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text, source: 'command' },
    sink,
  );
  return { sink, done };
}

function codeBlocks(blocks: Block[]): Array<{ title?: string; text: string }> {
  return blocks.flatMap((b) => (b.kind === 'code' ? [{ ...(b.title !== undefined ? { title: b.title } : {}), text: b.text }] : []));
}

function postedText(sink: RecordingSink): string {
  return codeBlocks(sink.postBlocks())
    .map((b) => b.text)
    .join('\n');
}

async function startJob(script: string, computers = 'web1'): Promise<number> {
  const started = await rt.run(`icm ${computers} { ${script} } -AsJob`);
  expect(started.ok).toBe(true);
  return started.jobIds[0]!;
}

describe('Receive-Job -Wait', () => {
  it('of a job that does not exist says only that', async () => {
    const missing = await rt.run('Receive-Job 4242 -Wait');
    expect(missing.ok).toBe(false);
    expect(missing.sink.replies().join('\n')).toContain('The command cannot find a job with the job ID 4242.');
    expect(missing.sink.postBlocks()).toEqual([]);
  });

  it('posts each line as it arrives, before the job finishes, and each exactly once', async () => {
    const id = await startJob('echo first-line; sleep 1.5; echo second-line');
    const { sink, done } = start(`Receive-Job ${id} -Wait`);
    await waitFor(() => postedText(sink).includes('first-line'), 5000, 'the first line to be posted');
    // Posted while the job is still running: streamed, not collected at the end.
    expect(rt.app.store.getJob(id)?.state).toBe('Running');
    expect(postedText(sink)).not.toContain('second-line');
    // Received: the first line is not unread any more while the job runs on.
    const child = rt.app.store.children(id)[0]!;
    expect(
      rt.app.store
        .unreadOutput(child.id)
        .map((r) => r.data)
        .join(''),
    ).not.toContain('first-line');

    const outcome = await done;
    expect(outcome.ok).toBe(true);
    expect(rt.app.store.getJob(id)?.state).toBe('Completed');
    const code = codeBlocks(sink.postBlocks());
    expect(code).toEqual([
      { title: 'web1', text: 'first-line' },
      { title: 'web1', text: 'second-line' },
    ]);
    expect(rt.app.store.unreadOutput(child.id)).toEqual([]);
    expect(sink.posts().at(-1)).toContain(`Job${id} (Id ${id}) is Completed.`);
    // Nothing is left to receive.
    const again = await rt.run(`Receive-Job ${id}`);
    expect(codeBlocks(again.sink.postBlocks())).toEqual([]);
    expect(again.sink.posts().join('\n')).toContain('No new output.');
  });

  it('posts at most about one message per status interval, however fast the output comes', async () => {
    // 20 lines 20 ms apart (~400 ms) with a 100 ms interval: a few posts, never 20.
    const id = await startJob('for i in $(seq 1 20); do echo "n$i"; sleep 0.02; done');
    const { sink, done } = start(`Receive-Job ${id} -Wait`);
    await done;
    const code = codeBlocks(sink.postBlocks());
    const lines = code.flatMap((b) => b.text.split('\n'));
    expect(lines).toEqual(Array.from({ length: 20 }, (_, i) => `n${i + 1}`));
    expect(code.length).toBeLessThan(12);
  });

  it('a failure on one computer does not stop streaming of the others; the failure is told once', async () => {
    const id = await startJob(
      'if [ "$AGENT_ID" = web2 ]; then echo "web2 fails"; exit 3; fi; echo "web1 early"; sleep 1.2; echo "web1 late"',
      'web1,web2',
    );
    const { sink, done } = start(`Receive-Job ${id} -Wait`);
    await waitFor(() => rt.app.store.children(id).some((c) => c.state === 'Failed'), 5000, 'web2 to fail');
    await waitFor(
      () => postedText(sink).includes('web1 early') && sink.postBlocks().some((b) => b.kind === 'error'),
      5000,
      'web1 output and the failure',
    );
    expect(rt.app.store.getJob(id)?.state).toBe('Running');
    const outcome = await done;
    // The job failed (one child did): the command reports it, as PowerShell's JobStateFailed error.
    expect(outcome.ok).toBe(false);
    const code = codeBlocks(sink.postBlocks());
    expect(code).toContainEqual({ title: 'web1', text: 'web1 early' });
    expect(code).toContainEqual({ title: 'web1', text: 'web1 late' });
    expect(code).toContainEqual({ title: 'web2', text: 'web2 fails' });
    const errors = sink.postBlocks().flatMap((b) => (b.kind === 'error' ? [b.text] : []));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^web2: .*3/);
    expect(rt.app.store.getJob(id)?.state).toBe('Failed');
  });

  it('Stop-Job from another command ends the wait', async () => {
    const id = await startJob('echo before-stop; sleep 30; echo never');
    const { sink, done } = start(`Receive-Job ${id} -Wait`);
    await waitFor(() => postedText(sink).includes('before-stop'), 5000, 'the first line');
    const t0 = Date.now();
    const stop = await rt.run(`Stop-Job ${id}`);
    expect(stop.ok).toBe(true);
    await done;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(rt.app.store.getJob(id)?.state).toBe('Stopped');
    expect(postedText(sink)).not.toContain('never');
    expect(sink.posts().at(-1)).toContain(`Job${id} (Id ${id}) is Stopped.`);
  });

  it('keeps output that could not be posted unread for the next Receive-Job', async () => {
    const id = await startJob('echo kept-line');
    await rt.run(`Wait-Job ${id}`);
    const sink = new RecordingSink({ failWhen: (type, m) => type === 'post' && m.blocks.some((b) => b.kind === 'code') });
    const outcome = await rt.core.handle(
      {
        channel: 'console',
        user: { platform: 'console', userId: 'console', displayName: 'tester' },
        text: `Receive-Job ${id} -Wait`,
        source: 'command',
      },
      sink,
    );
    expect(outcome.ok).toBe(false);
    expect(sink.posts().at(-1)).toContain('Some output could not be posted; it is kept unread: Receive-Job shows it.');
    const again = await rt.run(`Receive-Job ${id}`);
    expect(codeBlocks(again.sink.postBlocks())).toEqual([{ title: 'web1', text: 'kept-line' }]);
  });

  it('assigned: the value holds the output; stderr and failure reasons are still shown as errors', async () => {
    const id = await startJob('echo value-line; echo "bad thing" >&2; sleep 0.3; exit 2');
    const assigned = await rt.run(`$streamed = Receive-Job ${id} -Wait`);
    expect(assigned.ok).toBe(false);
    expect(assigned.sink.posts()).toEqual([]);
    expect(rt.app.store.getVariables('console').get('streamed')).toEqual(['value-line']);
    const replies = assigned.sink.replies();
    expect(replies[0]).toBe('ERROR: web1: bad thing');
    expect(replies.slice(1)).toHaveLength(1);
    expect(replies[1]).toMatch(/^ERROR: web1: .*2/);
  });

  it('-WriteEvents shows each job reaching its final state and returns the events with the output', async () => {
    const id = await startJob('sleep 0.3; echo evented');
    const shown = await rt.run(`Receive-Job ${id} -Wait -WriteEvents`);
    const child = id + 1;
    const text = shown.sink.posts().join('\n');
    expect(text).toContain(`Job ${child} (Job${child}) state changed: Running -> Completed`);
    expect(text).toContain(`Job ${id} (Job${id}) state changed: Running -> Completed`);
    // Already finished when received: the event has no previous state.
    const again = await rt.run(`Receive-Job ${id} -Wait -WriteEvents`);
    expect(again.sink.posts().join('\n')).toContain(`Job ${id} (Job${id}) state: Completed`);
  });

  it('a bot shutdown ends the wait; the output not posted yet is received after the restart', async () => {
    const id = await startJob('echo before-restart; sleep 2; echo after-restart');
    const { sink, done } = start(`Receive-Job ${id} -Wait`);
    await waitFor(() => postedText(sink).includes('before-restart'), 5000, 'the first line');
    await rt.restartApp();
    await done;
    expect(sink.posts().at(-1)).toContain('The bot is stopping: Receive-Job -Wait ended.');
    expect(postedText(sink)).not.toContain('after-restart');
    await rt.waitConnected(['web1']);
    const again = await rt.run(`Receive-Job ${id} -Wait`);
    expect(codeBlocks(again.sink.postBlocks())).toEqual([{ title: 'web1', text: 'after-restart' }]);
  });
});
