import { afterAll, beforeAll, expect, it } from 'vitest';
import type { IncomingCommand } from '../../src/core/ports.js';
import type { JobStatusView } from '../../src/messages/model.js';
import { RecordingSink, startTestRuntime, waitFor, whileFrozen, type TestRuntime } from '../helpers/runtime.js';

/**
 * A running job's status keeps moving even when nothing happens (every 2 s, DEFAULT_STATUS_TICK_MS):
 * the elapsed time grows and it names the computers still running, the ones waiting their turn,
 * the ones that failed and the disconnected ones with the time the bot gives them up, so a long
 * quiet command never looks hung.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: ['web1', 'web2', 'web3'].map((name) => ({ name, env: { AGENT_ID: name } })),
    // Long enough that a frozen agent is still awaited while the test looks at the status.
    env: { AGENT_LOST_GRACE: '60s' },
  });
});
afterAll(async () => {
  await rt?.stop();
});

function cmd(text: string): IncomingCommand {
  return { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text, source: 'command' };
}

/** The status drawn while the job was unfinished, in order, with when (ms after `t0`). */
function unfinishedStatuses(sink: RecordingSink, t0: number): Array<{ at: number; status: JobStatusView }> {
  const out: Array<{ at: number; status: JobStatusView }> = [];
  for (const e of sink.events) {
    if (e.type !== 'update' && e.type !== 'post') continue;
    const b = e.message.blocks.find((x) => x.kind === 'status');
    if (b?.kind === 'status' && (b.status.state === 'Running' || b.status.state === 'Disconnected'))
      out.push({ at: e.at - t0, status: b.status });
  }
  return out;
}

it('redraws a quiet running job on a steady cadence, naming who runs, who waits and who failed', async () => {
  const t0 = Date.now();
  const { sink, ok } = await rt.run(
    'icm web1,web2,web3 -ConfigurationName bash { if [ "$AGENT_ID" = web1 ]; then exit 3; fi; sleep 5 } -ThrottleLimit 2',
  );
  expect(ok).toBe(false);
  const running = unfinishedStatuses(sink, t0).filter((r) => r.status.state === 'Running');
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

it('shortens a long list of names: the first eight, then how many more', async () => {
  const missing = Array.from({ length: 11 }, (_, i) => `gone${i + 1}`);
  const t0 = Date.now();
  const { sink, ok } = await rt.run(`icm web1,${missing.join(',')} -ConfigurationName bash { sleep 3 }`);
  expect(ok).toBe(false);
  const details = unfinishedStatuses(sink, t0).map((r) => (r.status.detail ?? []).join(' | '));
  // The eleven unknown computers failed at once; web1 still ran.
  expect(details).toContain('Running: web1 | Failed: gone1, gone2, gone3, gone4, gone5, gone6, gone7, gone8 and 3 more');
}, 30_000);

it('a disconnected computer: the status says who and until when, and what the finished ones printed is shown now', async () => {
  const sink = new RecordingSink();
  const outcome = rt.core.handle(
    cmd('icm web1,web2 -ConfigurationName bash { echo "out-$AGENT_ID"; if [ "$AGENT_ID" = web2 ]; then sleep 60; fi }'),
    sink,
  );
  const id = (): number => sink.statusPosts()[0]!.status.jobId;
  await waitFor(() => sink.statusPosts().length > 0, 10_000, 'the status');
  const child = (computer: string) => rt.app.store.children(id()).find((c) => c.computer === computer)!;
  await waitFor(() => rt.app.store.output(id()).some((o) => o.computer === 'web2'), 10_000, 'web2 to start');
  const shown = (): string[] =>
    sink
      .threadBlocks()
      .flatMap((b) => (b.kind === 'code' ? b.text.split('\n').map((l) => `${b.title ?? ''}: ${l}`) : []))
      .filter((l) => /out-/.test(l));
  await whileFrozen(rt.agent('web2'), async () => {
    await waitFor(() => child('web2').state === 'Disconnected', 10_000, 'web2 Disconnected');
    // web1 finished long ago and web2 is still awaited (60 s): its output is in the thread now.
    await waitFor(() => shown().some((l) => l.endsWith(': out-web1')), 10_000, "web1's output while web2 is away");
    expect(child('web2').state).toBe('Disconnected');
    // Its only unfinished child is Disconnected: so is the parent, and the status says what the
    // bot waits for and until when.
    const deadline = child('web2').lostDeadline!;
    await waitFor(() => sink.latestStatus()?.state === 'Disconnected', 5_000, 'the status to show Disconnected');
    await waitFor(
      () => (sink.latestStatus()?.detail ?? []).join(' | ').includes('disconnected'),
      5_000,
      'the status to name the disconnected computer',
    );
    expect(sink.latestStatus()?.detail).toEqual([
      `web2 disconnected: waiting for it until ${deadline.slice(11, 19)} UTC (AGENT_LOST_GRACE)`,
    ]);
    const stop = await rt.run(`Stop-Job ${id()}`);
    expect(stop.ok).toBe(true);
    await outcome;
  });
  // Nothing was shown twice: the final results held only what was not streamed.
  expect(shown().filter((l) => l.endsWith('out-web1'))).toHaveLength(1);
  expect(shown().filter((l) => l.endsWith('out-web2'))).toHaveLength(1);
  expect(rt.app.store.getJob(id())?.state).toBe('Stopped');
  await rt.waitConnected(['web2']);
}, 60_000);
