import { describe, expect, it } from 'vitest';
import { runFanoutBench } from '../../bench/fanout-bench.js';

/**
 * The bench harness itself (not its speed: timings live in `npm run bench`): the real app in its
 * own process, simulated agents over real WebSockets, and every child completing, so a change
 * that breaks the measured path breaks a test instead of the next bench run.
 */
describe('npm run bench (harness)', () => {
  it('fans out to simulated agents through the real app and completes every child', async () => {
    const result = await runFanoutBench({ sizes: [1, 5], throttleLimits: [2], repetitions: 1 });
    expect(result.idleAgents).toBe(5);
    expect(result.rows.map((r) => [r.n, r.throttleLimit, r.completed])).toEqual([
      [1, 2, 1],
      [5, 2, 5],
    ]);
    for (const r of result.rows) {
      expect(r.fanoutMs).toBeGreaterThan(0);
      expect(r.spawnMs).toBeGreaterThan(0);
    }
    expect(result.hubBytesPerIdleAgent.rss).toEqual(expect.any(Number));
  }, 60_000);
});
