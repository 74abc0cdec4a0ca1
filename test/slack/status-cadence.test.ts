import { afterAll, beforeAll, expect, it } from 'vitest';
import { textOf } from '../fakes/slack-server.js';
import { startSlackRig, type SlackRig } from './harness.js';

/**
 * What a channel sees while a quiet 10-second command runs: the real bolt App, with the
 * production pacing (one chat.update per second at most per message, the status redrawn every
 * 2 s), edits the status at a steady cadence with the elapsed time moving, never a long silence
 * that reads as hung, and never faster than Slack's limit for one message.
 */

let rig: SlackRig;

beforeAll(async () => {
  rig = await startSlackRig('http', { updateIntervalMs: 1000 });
}, 60_000);

afterAll(async () => {
  await rig?.stop();
});

it('edits the status of a 10-second job every few seconds while it runs', async () => {
  await rig.slash('Invoke-Command -ComputerName web1 { sleep 10; echo cadence-done }');
  const msg = await rig.statusMessage('cadence-done');
  await rig.waitVersion(msg, (t) => t.includes('*Completed*'), 'the final status', 30_000);

  const edits = rig.fake.callsTo('chat.update').filter((c) => c.params.ts === msg.ts);
  const running = msg.versions.filter((v) => /\*Running\*/.test(textOf(v.blocks)));
  // The status moved while the job ran: about one edit per 2 s tick over 10 s.
  expect(running.length, running.map((v) => textOf(v.blocks)).join('\n')).toBeGreaterThanOrEqual(4);
  const times = running.map((v) => v.at);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  // Steady: no silence much longer than the 2 s tick (slack for a loaded machine).
  expect(Math.max(...gaps), `gaps ${gaps.join(', ')} ms`).toBeLessThan(4500);
  // Elapsed time shown grows with each redraw.
  const elapsed = running.map((v) => Number(/([\d.]+)s elapsed/.exec(textOf(v.blocks))?.[1] ?? Number.NaN));
  expect(elapsed.every((e) => Number.isFinite(e))).toBe(true);
  expect(elapsed).toEqual([...elapsed].sort((a, b) => a - b));
  expect(new Set(elapsed).size).toBe(elapsed.length);
  expect(elapsed.at(-1)!).toBeGreaterThanOrEqual(7);
  // Never faster than one edit per second per message, as sent by the bot (requests are sent at
  // least 1 s apart; arrival at the fake can shift by the request's own latency).
  const sent = edits.map((c) => c.at);
  const sentGaps = sent.slice(1).map((t, i) => t - sent[i]!);
  expect(Math.min(...sentGaps), `gaps ${sentGaps.join(', ')} ms`).toBeGreaterThan(700);
}, 60_000);
