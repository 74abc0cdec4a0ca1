import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import type { IncomingCommand } from '../../src/core/ports.js';
import type { Block } from '../../src/messages/model.js';
import { STREAM_AFTER_MS } from '../../src/core/job-presenter.js';

/**
 * A synchronous Invoke-Command shows its output as it arrives (once it has run STREAM_AFTER_MS),
 * per computer, in the status thread, each line exactly once; a quick one is still grouped.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: ['web1', 'web2'].map((name) => ({ name, env: { AGENT_ID: name } })),
    statusIntervalMs: 200,
  });
});

afterAll(async () => {
  await rt?.stop();
});

function cmd(text: string): IncomingCommand {
  return { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text, source: 'command' };
}

async function run(text: string): Promise<{ sink: RecordingSink; ok: boolean; jobIds: number[] }> {
  const sink = new RecordingSink();
  const outcome = await rt.core.handle(cmd(text), sink);
  return { sink, ...outcome };
}

/** Thread posts under the status, in order, with when they were made. */
function threadPosts(sink: RecordingSink): Array<{ at: number; blocks: Block[] }> {
  const parent = sink.statusPosts()[0]?.id;
  return sink.events.flatMap((e) => (e.type === 'thread' && e.parent === parent ? [{ at: e.at, blocks: e.message.blocks }] : []));
}

/** Every output line shown in the thread, `computers: line`, in the order posted. */
function shownLines(sink: RecordingSink): string[] {
  return threadPosts(sink).flatMap((p) =>
    p.blocks.flatMap((b) => (b.kind === 'code' ? b.text.split('\n').map((l) => `${b.title ?? ''}: ${l}`) : [])),
  );
}

/** When the status was first drawn in a final state. */
function finishedAt(sink: RecordingSink): number {
  const e = sink.events.find(
    (x) => x.type === 'update' && x.message.blocks.some((b) => b.kind === 'status' && b.status.state === 'Completed'),
  );
  expect(e).toBeDefined();
  return e!.at;
}

describe('synchronous Invoke-Command streams its output', () => {
  it('shows the first line long before the job ends, and every line exactly once, in order', async () => {
    const { sink, ok } = await run('icm web1 { for i in 1 2 3 4; do echo "line $i"; sleep 1; done }');
    expect(ok).toBe(true);
    const posts = threadPosts(sink);
    const first = posts.find((p) => p.blocks.some((b) => b.kind === 'code' && b.text.includes('line 1')));
    expect(first).toBeDefined();
    // Streamed shortly after STREAM_AFTER_MS, while lines 3 and 4 were still to come.
    expect(finishedAt(sink) - first!.at).toBeGreaterThanOrEqual(1500);
    expect(shownLines(sink)).toEqual(['web1: line 1', 'web1: line 2', 'web1: line 3', 'web1: line 4']);
    // Several posts, coalesced: never more than one per line here.
    const withCode = posts.filter((p) => p.blocks.some((b) => b.kind === 'code'));
    expect(withCode.length).toBeGreaterThan(1);
    expect(withCode.length).toBeLessThanOrEqual(4);
    // Received while shown: nothing is left for Receive-Job.
    const id = sink.statusPosts()[0]!.status.jobId;
    for (const c of rt.app.store.children(id)) expect(rt.app.store.hasUnreadOutput(c.id)).toBe(false);
    const again = await run(`Receive-Job ${id}`);
    expect(again.sink.posts().join('\n')).toContain('No new output.');
  });

  it('after streaming, computers with identical output are named together at the end, not shown again', async () => {
    const wait = (STREAM_AFTER_MS / 1000 + 1).toFixed(1);
    const { sink, ok } = await run(`icm web1,web2 { echo same-start; sleep ${wait}; echo same-end }`);
    expect(ok).toBe(true);
    const lines = shownLines(sink);
    // Each computer's lines once (a post may carry both computers' identical lines as one block).
    const perComputer = (name: string): string[] =>
      lines.filter((l) => l.split(': ')[0]!.split(', ').includes(name)).map((l) => l.slice(l.indexOf(': ') + 2));
    expect(perComputer('web1')).toEqual(['same-start', 'same-end']);
    expect(perComputer('web2')).toEqual(['same-start', 'same-end']);
    const texts = threadPosts(sink).flatMap((p) => p.blocks.flatMap((b) => (b.kind === 'text' ? [b.text] : [])));
    expect(texts).toEqual(['web1, web2: identical output (shown above under web1)']);
  });

  it('a quick command is not streamed: identical outputs still share one block', async () => {
    const { sink } = await run('icm web1,web2 { echo quick; echo lines }');
    expect(threadPosts(sink).flatMap((p) => p.blocks)).toEqual([{ kind: 'code', title: 'web1, web2', text: 'quick\nlines' }]);
  });

  it('an assigned call does not stream: its value holds every line and nothing is posted in the thread', async () => {
    const wait = (STREAM_AFTER_MS / 1000 + 0.5).toFixed(1);
    const { sink, ok } = await run(`$streamx = icm web1 { echo kept-a; sleep ${wait}; echo kept-b }`);
    expect(ok).toBe(true);
    expect(threadPosts(sink)).toEqual([]);
    expect(rt.app.store.getVariables('console').get('streamx')).toEqual(['kept-a', 'kept-b']);
  });
});
