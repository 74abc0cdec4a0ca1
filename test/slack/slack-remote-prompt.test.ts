import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textOf, type StoredMessage } from '../fakes/slack-server.js';
import { startSlackRig, TEAM, type SlackRig } from './harness.js';

/**
 * Enter-PSSession in Slack (issue 14), through the real bolt adapter against the fake Slack with
 * real agents, in Socket Mode (message events as `events_api` envelopes) and HTTP mode (signed
 * Events API POSTs): `/ps Enter-PSSession web1` announces `[web1]: PS>` in the channel, and that
 * message's thread is the remote prompt. Replies there run in the session (state kept), answered
 * in the thread; the channel itself stays outside the session; the bot's own posts, other
 * threads and people the channel's rule does not name are not run; `exit` ends the prompt and
 * the thread says so. Expected output is computed by the remote shell (`$((6*7))`), so the typed
 * line (shown in the status) never matches it.
 */

/** Alice (U1) may use this channel; nobody else may. */
const PROMPT_CH = 'C3';
const CHANNEL = `slack:${TEAM}/${PROMPT_CH}`;
const ALICE_ONLY = `  - name: alice-only\n    channels: [${CHANNEL}]\n    users: [slack:U1]\n    computers: ['web*']\n    cmdlets: ['*']\n`;

const shown = (m: StoredMessage): string => `${m.text}\n${textOf(m.blocks)}`;

describe.each(['socket', 'http'] as const)('remote prompt threads (%s mode)', (mode) => {
  let rig: SlackRig;

  beforeAll(async () => {
    rig = await startSlackRig(mode, {}, {}, ALICE_ONLY);
  }, 60_000);

  afterAll(async () => {
    await rig?.stop();
  });

  const inThread = (ts: string, needle: string, what: string): Promise<StoredMessage> =>
    rig.fake.waitFor(() => rig.fake.thread(ts).find((m) => shown(m).includes(needle)), 15_000, what);
  const jobs = (): number => rig.rt.app.store.listJobs(CHANNEL).length;

  it('Enter-PSSession opens a [web1]: PS thread whose replies run in the session until exit', async () => {
    await rig.slash('Enter-PSSession web1', { channel: PROMPT_CH });
    const announced = await rig.fake.waitFor(
      () => rig.fake.messages.find((m) => m.channel === PROMPT_CH && !m.threadTs && shown(m).includes('[web1]: PS')),
      15_000,
      'the prompt announced in the channel',
    );
    const ts = announced.ts;
    await inThread(ts, 'Reply in this thread', 'the hint in the prompt thread');

    // Two lines in a row: they run in order, in one shell (`&&` arrives escaped, as Slack sends it).
    await rig.threadMessage('cd /tmp && N=$((6*7))', ts, { channel: PROMPT_CH });
    await rig.threadMessage('echo "n=$N at $(pwd)"', ts, { channel: PROMPT_CH });
    await inThread(ts, 'n=42 at /tmp', 'state kept between two replies');

    // The channel itself is not inside the session: /ps there runs in the bot, not on web1.
    await rig.slash('Get-PSSession', { channel: PROMPT_CH });
    await rig.fake.waitFor(
      () => rig.fake.messages.find((m) => m.channel === PROMPT_CH && !m.threadTs && /Opened/.test(shown(m))),
      15_000,
      "Get-PSSession's table in the channel",
    );

    // Not run: the bot's own post in the thread, a reply in some other thread, and Carol, whom
    // the channel's rule does not name (told privately, in the thread).
    const before = jobs();
    await rig.threadMessage('echo bot-$((1+1))', ts, { channel: PROMPT_CH, user: 'UBOT', botId: 'BBOT' });
    await rig.threadMessage('echo other-$((2+2))', '1700000000.000001', { channel: PROMPT_CH });
    await rig.threadMessage('echo carol-$((3+3))', ts, { channel: PROMPT_CH, user: 'U3' });
    const refusal = await rig.fake.waitFor(
      () => rig.fake.ephemerals.find((e) => e.user === 'U3' && e.channel === PROMPT_CH),
      15_000,
      "Carol's refusal",
    );
    expect(refusal.threadTs).toBe(ts);
    expect(refusal.text).toContain('no rule allows this user');
    await rig.threadMessage('echo marker-$((4+4))', ts, { channel: PROMPT_CH });
    await inThread(ts, 'marker-8', 'the line after the ignored ones');
    expect(jobs()).toBe(before + 1);
    // Carol's is the only refusal: the bot's own post was never taken for a line (nor refused).
    expect(rig.fake.ephemerals.filter((e) => e.channel === PROMPT_CH).map((e) => e.user)).toEqual(['U3']);
    const all = rig.fake.messages.map(shown).join('\n');
    for (const never of ['bot-2', 'other-4', 'carol-6']) expect(all).not.toContain(never);

    // exit ends the prompt; the thread says so, and later replies are not run.
    await rig.threadMessage('exit', ts, { channel: PROMPT_CH });
    await inThread(ts, 'Left ', 'the session left');
    await inThread(ts, 'has ended', 'the thread saying the prompt ended');
    const afterExit = jobs();
    await rig.threadMessage('echo after-$((5+5))', ts, { channel: PROMPT_CH });
    await rig.slash('Invoke-Command -ComputerName web2 { echo fence-$((6+6)) }', { channel: PROMPT_CH });
    await rig.fake.waitFor(() => rig.fake.messages.find((m) => shown(m).includes('fence-12')), 15_000, 'the fence output');
    expect(jobs()).toBe(afterExit + 1);
    expect(rig.fake.messages.map(shown).join('\n')).not.toContain('after-10');
  }, 90_000);

  it('a session that ends by itself ends its prompt thread (which says why) and is told to the channel when no prompt had it', async () => {
    await rig.slash('Enter-PSSession web2', { channel: PROMPT_CH });
    const announced = await rig.fake.waitFor(
      () =>
        rig.fake.messages.find(
          (m) => m.channel === PROMPT_CH && !m.threadTs && shown(m).includes('[web2]: PS') && rig.fake.thread(m.ts).length > 0,
        ),
      15_000,
      'the web2 prompt announced in the channel',
    );
    const ts = announced.ts;
    await inThread(ts, 'Reply in this thread', 'the hint in the prompt thread');
    await rig.slash('New-PSSession web2 -Name kept2', { channel: PROMPT_CH });
    await rig.fake.waitFor(
      () => rig.fake.messages.find((m) => m.channel === PROMPT_CH && /kept2[\s\S]*Opened/.test(shown(m))),
      15_000,
      'kept2 opened',
    );

    // The agent restarts: both sessions are Broken. The prompt's thread says so, the channel
    // hears of the other one.
    await rig.rt.agent('web2').restart();
    const ended = await inThread(ts, 'has ended', 'the thread saying the prompt ended');
    expect(shown(ended)).toMatch(
      /The remote prompt \[web2\]: PS&gt; has ended: the session \S+ on web2 is Broken: The agent web2 restarted/,
    );
    expect(shown(ended)).toContain('Messages in this thread are no longer run.');
    const told = await rig.fake.waitFor(
      () =>
        rig.fake.messages.find((m) => m.channel === PROMPT_CH && !m.threadTs && shown(m).includes('The session kept2 on web2 is Broken')),
      15_000,
      'the channel told of kept2',
    );
    expect(told.threadTs).toBeUndefined();

    const before = jobs();
    await rig.threadMessage('echo late-$((7+7))', ts, { channel: PROMPT_CH });
    await rig.slash('Invoke-Command -ComputerName web1 { echo fence2-$((8+8)) }', { channel: PROMPT_CH });
    await rig.fake.waitFor(() => rig.fake.messages.find((m) => shown(m).includes('fence2-16')), 15_000, 'the fence output');
    expect(jobs()).toBe(before + 1);
    expect(rig.fake.messages.map(shown).join('\n')).not.toContain('late-14');
  }, 90_000);
});
