import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JobStatusView } from '../../src/messages/model.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * A running job's status keeps moving even when nothing happens (every 2 s, DEFAULT_STATUS_TICK_MS):
 * the elapsed time grows and it names the computers still running, the ones waiting their turn
 * and the ones that failed, so a long quiet command never looks hung.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: ['web1', 'web2', 'web3'].map((name) => ({ name, env: { AGENT_ID: name } })) });
});
afterAll(async () => {
  await rt?.stop();
});

it('redraws a quiet running job on a steady cadence, naming who runs, who waits and who failed', async () => {
  const t0 = Date.now();
  const { sink, ok } = await rt.run(
    'icm web1,web2,web3 -ConfigurationName bash { if [ "$AGENT_ID" = web1 ]; then exit 3; fi; sleep 5 } -ThrottleLimit 2',
  );
  expect(ok).toBe(false);
  const running: Array<{ at: number; status: JobStatusView }> = [];
  for (const e of sink.events) {
    if (e.type !== 'update' && e.type !== 'post') continue;
    const b = e.message.blocks.find((x) => x.kind === 'status');
    if (b?.kind === 'status' && b.status.state === 'Running') running.push({ at: e.at - t0, status: b.status });
  }
  // Nothing changes for seconds while web2 and web3 sleep, yet the status was drawn again and
  // again, with the elapsed time moving on.
  const late = running.filter((r) => r.at > 1500);
  expect(late.length).toBeGreaterThanOrEqual(2);
  const elapsed = late.map((r) => r.status.elapsedMs);
  expect(new Set(elapsed).size).toBe(elapsed.length);
  expect(elapsed).toEqual([...elapsed].sort((a, b) => a - b));
  expect(elapsed.at(-1)!).toBeGreaterThanOrEqual(3500);
  const details = running.map((r) => (r.status.detail ?? []).join(' | '));
  // web1 failed at once; web3 waited for web1's slot (ThrottleLimit 2), then ran beside web2.
  expect(details).toContain('Running: web2, web3 | Failed: web1');
  expect(details.some((d) => /Not started yet \(ThrottleLimit 2\): web3/.test(d))).toBe(true);
  // The final status says the rest in its results, not in the detail.
  expect(sink.latestStatus()?.detail).toBeUndefined();
}, 30_000);
