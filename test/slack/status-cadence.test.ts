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

/** Every output line in a thread message's code blocks, as `computers: line`. */
function outputLines(text: string): string[] {
  return [...text.matchAll(/^\*([^*\n]+)\*\n```\n([\s\S]*?)\n?```/gm)].flatMap(([, title, body]) =>
    body!.split('\n').map((line) => `${title}: ${line}`),
  );
}

it('streams a synchronous command’s output into the thread as it comes, each line once, and names who runs', async () => {
  await rig.slash(
    'Invoke-Command -ComputerName web1,web2 -ConfigurationName bash { for i in 1 2 3 4 5 6; do echo "slack-stream-$i"; sleep 1; done }',
  );
  const msg = await rig.statusMessage('slack-stream-');
  await rig.waitVersion(msg, (t) => t.includes('*Completed*'), 'the final status', 30_000);
  const completedAt = msg.versions.find((v) => textOf(v.blocks).includes('*Completed*'))!.at;
  // The final post (and the identical-output note) come right after the last edit.
  await rig.fake.waitFor(() => rig.fake.thread(msg.ts).some((m) => /identical output/.test(m.text + textOf(m.blocks))), 10_000, 'the note');

  const posts = rig.fake.thread(msg.ts).map((m) => ({ at: m.versions[0]!.at, text: textOf(m.blocks) }));
  const lines = posts.flatMap((p) => outputLines(p.text).map((l) => ({ at: p.at, line: l })));
  // The first line was in the thread seconds before the job ended: it was not held to the end.
  const first = lines.find((l) => l.line.endsWith('slack-stream-1'));
  expect(first, posts.map((p) => p.text).join('\n---\n')).toBeDefined();
  expect(completedAt - first!.at).toBeGreaterThan(1000);
  // Per computer, every line exactly once and in order (a group title names several computers).
  for (const computer of ['web1', 'web2']) {
    const mine = lines
      .filter((l) => l.line.split(': ')[0]!.split(', ').includes(computer))
      .map((l) => l.line.slice(l.line.indexOf(': ') + 2));
    expect(mine, computer).toEqual([1, 2, 3, 4, 5, 6].map((i) => `slack-stream-${i}`));
  }
  // The status named who was still running while it ran.
  const running = msg.versions.map((v) => textOf(v.blocks)).filter((t) => /\*Running\*/.test(t));
  expect(
    running.some((t) => t.includes('Running: web1, web2')),
    running.join('\n---\n'),
  ).toBe(true);
}, 60_000);
