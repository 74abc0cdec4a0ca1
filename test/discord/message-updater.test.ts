import { describe, expect, it } from 'vitest';
import { MessageUpdater } from '../../adapters/discord/message-updater.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MessageUpdater', () => {
  it('coalesces a burst: latest wins, the final content is always delivered', async () => {
    const sent: Array<{ key: string; p: number; at: number }> = [];
    const u = new MessageUpdater<number>(
      async (key, p) => {
        sent.push({ key, p, at: Date.now() });
        await sleep(20);
      },
      { minIntervalMs: 100 },
    );
    const all = [];
    for (let i = 1; i <= 20; i++) {
      all.push(u.update('m1', i));
      await sleep(5);
    }
    await Promise.all(all);
    expect(sent.at(-1)!.p).toBe(20);
    expect(sent.length).toBeLessThan(6);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBeGreaterThanOrEqual(95);
    // Values only move forward.
    expect([...sent.map((s) => s.p)].sort((a, b) => a - b)).toEqual(sent.map((s) => s.p));
  });

  it('keeps messages independent and waits the interval after a post', async () => {
    const sent: Array<{ key: string; at: number }> = [];
    const u = new MessageUpdater<string>(async (key) => void sent.push({ key, at: Date.now() }), { minIntervalMs: 1000 });
    const t0 = Date.now();
    u.noteSent('a');
    await Promise.all([u.update('a', 'x'), u.update('b', 'y')]);
    const a = sent.find((s) => s.key === 'a')!;
    const b = sent.find((s) => s.key === 'b')!;
    // Wide margins: `b` must not wait for `a`'s interval, on however busy a machine.
    expect(a.at - t0).toBeGreaterThanOrEqual(990);
    expect(b.at - t0).toBeLessThan(500);
  });

  it('rejects the callers whose content failed to be delivered, and recovers', async () => {
    let fail = true;
    const u = new MessageUpdater<number>(
      async () => {
        if (fail) throw new Error('500 from Discord');
      },
      { minIntervalMs: 10 },
    );
    await expect(u.update('m', 1)).rejects.toThrow('500 from Discord');
    fail = false;
    await expect(u.update('m', 2)).resolves.toBeUndefined();
    await u.flush();
  });
});
