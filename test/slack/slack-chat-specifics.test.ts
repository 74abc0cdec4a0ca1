import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textOf, type StoredMessage } from '../fakes/slack-server.js';
import { jobIdOf, OPS, OPS2, startSlackRig, TEAM, type SlackRig } from './harness.js';

/**
 * Issue 12's chat specifics on Slack, through the real bolt adapter (HTTP mode) against the fake
 * Slack with real agents: the bot checks it can post in a channel before anything runs there, a
 * typed Receive-Job answers in the job's thread, help goes privately to the asker, and the status
 * says who stopped a job.
 */

let rig: SlackRig;

beforeAll(async () => {
  rig = await startSlackRig('http');
}, 60_000);

afterAll(async () => {
  await rig?.stop();
});

const reply = async (ack: { responseUrl: string }, what: string) =>
  (await rig.fake.waitFor(() => rig.fake.responses.find((r) => r.id === ack.responseUrl.split('/').pop()), 10_000, what)).body;

const isFinal = (state: string) => (text: string) => text.includes(`*${state}*`);

function topLevel(channel: string): StoredMessage[] {
  return rig.fake.messages.filter((m) => m.channel === channel && !m.threadTs);
}

describe('a channel the bot is not a member of', () => {
  it('refuses up front, privately, saying to /invite the bot; nothing runs; after the invite it runs', async () => {
    rig.fake.notMemberOf.add(OPS2);
    try {
      const before = rig.fake.calls.length;
      const ack = await rig.slash('Invoke-Command -ComputerName web1 { echo never-ran-here }', { channel: OPS2 });
      const body = await reply(ack, 'the refusal');
      expect(body.response_type).toBe('ephemeral');
      expect(textOf(body.blocks)).toContain('Nothing was run: the bot cannot post in this channel (not_in_channel');
      expect(textOf(body.blocks)).toContain('/invite');
      // No job, no post, no audit row: the core never saw it.
      expect(rig.rt.app.store.listJobs(`slack:${TEAM}/${OPS2}`)).toEqual([]);
      const calls = rig.fake.calls.slice(before).map((c) => c.method);
      expect(calls).toContain('conversations.info');
      expect(calls).not.toContain('chat.postMessage');
    } finally {
      rig.fake.notMemberOf.delete(OPS2);
    }
    // Invited: the next command runs at once (a refusal is never remembered when Slack can tell).
    await rig.slash('Invoke-Command -ComputerName web1 { echo ran-after-invite }', { channel: OPS2 });
    const msg = await rig.statusMessage('ran-after-invite', OPS2);
    await rig.waitVersion(msg, isFinal('Completed'), 'the job to complete');
  });

  it('without channels:read (an older install), the first failed post is remembered: the next command is refused up front', async () => {
    rig.fake.notMemberOf.add(OPS2);
    try {
      rig.fake.failNext('conversations.info', { error: 'missing_scope' }, 2);
      // Slack cannot tell: the command runs, its status cannot be posted (said privately).
      const first = await rig.slash('Invoke-Command -ComputerName web1 { echo first-try }', { channel: OPS2 });
      const firstBody = await reply(first, 'the failed status');
      expect(textOf(firstBody.blocks)).toContain('not_in_channel');
      const jobs = rig.rt.app.store.listJobs(`slack:${TEAM}/${OPS2}`).length;
      // The second is refused before it runs.
      const second = await rig.slash('Invoke-Command -ComputerName web1 { echo second-try }', { channel: OPS2 });
      const secondBody = await reply(second, 'the refusal');
      expect(textOf(secondBody.blocks)).toContain('Nothing was run: the bot cannot post in this channel (not_in_channel');
      expect(rig.rt.app.store.listJobs(`slack:${TEAM}/${OPS2}`)).toHaveLength(jobs);
    } finally {
      rig.fake.notMemberOf.delete(OPS2);
    }
  });
});

describe('answers in the right place', () => {
  it('a typed Receive-Job of a job with a thread posts in that thread, not in the channel', async () => {
    await rig.slash('Invoke-Command -ComputerName web1,web2 { echo receive-in-thread } -AsJob');
    const msg = await rig.statusMessage('receive-in-thread');
    await rig.waitVersion(msg, isFinal('Completed'), 'the job to complete');
    const id = jobIdOf(msg);
    const channelBefore = topLevel(OPS).length;
    await rig.slash(`Receive-Job -Id ${id}`);
    await rig.fake.waitFor(
      () => rig.fake.thread(msg.ts).some((m) => textOf(m.blocks).includes('receive-in-thread')),
      10_000,
      'the output in the thread',
    );
    const thread = rig.fake.thread(msg.ts).map((m) => textOf(m.blocks));
    expect(thread.some((t) => t.includes(`Receive-Job Job${id} (Id ${id}): Completed`))).toBe(true);
    expect(topLevel(OPS)).toHaveLength(channelBefore);
  });

  it('Get-Help goes privately to the one who asked (ephemeral), not as channel messages', async () => {
    const before = topLevel(OPS).length;
    const ack = await rig.slash('Get-Help Invoke-Command -Examples');
    const body = await reply(ack, 'the help');
    expect(body.response_type).toBe('ephemeral');
    // Long: several ephemeral parts, all private.
    await rig.fake.waitFor(
      () =>
        rig.fake.responses
          .filter((r) => r.id === ack.responseUrl.split('/').pop())
          .some((r) => textOf(r.body.blocks).includes('EXAMPLE 16')),
      10_000,
      'the last example',
    );
    const parts = rig.fake.responses.filter((r) => r.id === ack.responseUrl.split('/').pop());
    expect(parts.every((r) => r.body.response_type === 'ephemeral')).toBe(true);
    const overview = await reply(await rig.slash('help'), 'the overview');
    expect(overview.response_type).toBe('ephemeral');
    expect(textOf(overview.blocks)).toContain('Invoke-Command (icm)');
    expect(topLevel(OPS)).toHaveLength(before);
  });
});

describe('who stopped a job', () => {
  it('the status says "stopped by @user" after the Stop-Job button or a typed Stop-Job', async () => {
    await rig.slash('Invoke-Command -ComputerName web1 { sleep 30; echo stop-by-button }');
    const pressed = await rig.statusMessage('stop-by-button');
    await rig.press('stop-job', String(jobIdOf(pressed)), pressed.ts, { user: 'U1' });
    await rig.waitVersion(pressed, isFinal('Stopped'), 'the job to be Stopped');
    await rig.waitVersion(pressed, (t) => t.includes('stopped by @alice.e'), 'who stopped it');

    await rig.slash('Invoke-Command -ComputerName web2 { sleep 30; echo stop-by-typing } -AsJob');
    const typed = await rig.statusMessage('stop-by-typing');
    const ack = await rig.slash(`Stop-Job -Id ${jobIdOf(typed)}`, { user: 'U2' });
    await rig.waitVersion(typed, (t) => isFinal('Stopped')(t) && t.includes('stopped by @bob'), 'Stopped by bob');
    // Stop-Job prints nothing itself (PowerShell's), the status says it all.
    await rig.adapter.settled();
    expect(rig.fake.responses.filter((r) => r.id === ack.responseUrl.split('/').pop())).toEqual([]);
  });
});
