import { describe, expect, it } from 'vitest';
import { UpdateCoalescer } from '../../adapters/slack/update-coalescer.js';

function recorder(delayMs = 0, failWith?: (payload: string) => Error | undefined) {
  const sent: Array<{ key: string; payload: string; at: number }> = [];
  const send = async (key: string, payload: string): Promise<void> => {
    const at = Date.now();
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const err = failWith?.(payload);
    if (err) throw err;
    sent.push({ key, payload, at });
  };
  return { sent, send };
}

describe('UpdateCoalescer', () => {
  it('sends the first edit at once and coalesces a burst to the latest', async () => {
    const { sent, send } = recorder();
    const c = new UpdateCoalescer(send, 1000);
    const started = Date.now();
    const all = ['1', '2', '3', '4', '5'].map((p) => c.update('m', p));
    await Promise.all(all);
    expect(sent.map((s) => s.payload)).toEqual(['1', '5']);
    // Wide margins: the first edit goes at once, the second only after the interval.
    expect(sent[0]!.at - started).toBeLessThan(500);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(990);
  });

  it('never sends two edits of one message closer than the interval', async () => {
    const { sent, send } = recorder(5);
    const c = new UpdateCoalescer(send, 100);
    let last: Promise<void> = Promise.resolve();
    for (let i = 0; i < 20; i++) {
      last = c.update('m', String(i));
      await new Promise((r) => setTimeout(r, 15));
    }
    await last;
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(95);
    expect(sent.at(-1)!.payload).toBe('19');
    expect(sent.length).toBeLessThan(10);
  });

  it('keeps messages independent', async () => {
    const { sent, send } = recorder();
    const c = new UpdateCoalescer(send, 1000);
    await Promise.all([c.update('a', 'a1'), c.update('b', 'b1')]);
    expect(sent.map((s) => s.payload).sort()).toEqual(['a1', 'b1']);
  });

  it('flush delivers the final state without waiting for the interval', async () => {
    const { sent, send } = recorder();
    const c = new UpdateCoalescer(send, 60_000);
    await c.update('m', 'first');
    void c.update('m', 'final');
    const started = Date.now();
    await c.flush();
    expect(Date.now() - started).toBeLessThan(500);
    expect(sent.map((s) => s.payload)).toEqual(['first', 'final']);
    expect(c.busy).toBe(0);
  });

  it('rejects the callers whose edit failed, and goes on with later edits', async () => {
    const { sent, send } = recorder(0, (p) => (p === 'bad' ? new Error('ratelimited') : undefined));
    const c = new UpdateCoalescer(send, 50);
    await expect(c.update('m', 'bad')).rejects.toThrow('ratelimited');
    await c.update('m', 'good');
    expect(sent.map((s) => s.payload)).toEqual(['good']);
  });
});
