import { describe, expect, it } from 'vitest';
import { ConsoleSink } from '../../adapters/console';
import type { JobStatusView, NeutralMessage } from '../../src/messages/model';

function status(state: JobStatusView['state'], running: number, done: number): NeutralMessage {
  return {
    blocks: [
      {
        kind: 'status',
        status: { jobId: 1, name: 'Job1', command: 'icm web1,web2 { x }', invokedBy: 'me', state, counts: { Running: running, Completed: done }, total: 2, elapsedMs: 1500, asJob: false, hasMoreData: true },
      },
    ],
  };
}

describe('ConsoleSink', () => {
  it('in a terminal, redraws a status that is still at the bottom in place', async () => {
    let out = '';
    const sink = new ConsoleSink({ tty: true, write: (t) => (out += t), writeError: (t) => (out += t) });
    const h = await sink.post(status('Running', 2, 0));
    await sink.update(h, status('Running', 1, 1));
    expect(out).toContain('\x1b[1A\x1b[J');
    expect(out.split('\x1b[1A\x1b[J')[1]).toMatch(/^Job1 \(Id 1\) Running: 1 Running, 1 Completed of 2/);
    // Once something else is printed, the status is not erased: only its final state is printed.
    await sink.postInThread(h, { blocks: [{ kind: 'code', title: 'web1', text: 'hello' }] });
    const before = out;
    await sink.update(h, status('Running', 0, 2));
    expect(out).toBe(before);
    await sink.update(h, status('Completed', 0, 2));
    expect(out.slice(before.length)).toMatch(/^Job1 \(Id 1\) Completed: 2 Completed of 2/);
  });

  it('as plain text, prints a status when posted and when its job finishes, never control sequences', async () => {
    let out = '';
    let err = '';
    const sink = new ConsoleSink({ tty: false, write: (t) => (out += t), writeError: (t) => (err += t) });
    const h = await sink.post(status('Running', 2, 0));
    await sink.update(h, status('Running', 1, 1));
    await sink.update(h, status('Completed', 0, 2));
    await sink.replyPrivately({ blocks: [{ kind: 'error', text: 'nope' }] });
    expect(out.split('\n').filter((l) => l.startsWith('Job1'))).toHaveLength(2);
    expect(out).not.toMatch(/\x1b\[/);
    expect(err).toBe('ERROR: nope\n');
  });
});
