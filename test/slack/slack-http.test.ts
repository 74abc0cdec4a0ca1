import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackAdapter } from '../../adapters/slack/index.js';
import { readAudit } from '../../src/audit/audit-log.js';
import { createLogger, silentLogger } from '../../src/log.js';
import {
  blockActionPayload,
  buttonsOf,
  postSigned,
  sendBlockAction,
  slashCommandPayload,
  textOf,
  type StoredMessage,
} from '../fakes/slack-server.js';
import { jobIdOf, NOBODY, OPS, OPS2, SCOPE_OF_METHOD, SECRET, startSlackRig, TEAM, type SlackRig } from './harness.js';

/**
 * The real bolt App in HTTP mode against the fake Slack, with the real core, policy and three
 * real agent processes behind it. Every request is signed as Slack signs it.
 */

let rig: SlackRig;
/** Everything the adapter (and bolt through it) logged, at debug level. */
const logLines: string[] = [];

beforeAll(async () => {
  rig = await startSlackRig('http', { log: createLogger('debug', (line) => logLines.push(line)) }, { web3: { TEST_ROLE: 'group-b' } });
}, 60_000);

afterAll(async () => {
  await rig?.stop();
});

const isFinal = (state: string) => (text: string) => text.includes(`*${state}*`);

function threadTexts(msg: StoredMessage): string[] {
  return rig.fake.thread(msg.ts).map((m) => textOf(m.blocks));
}

describe('Slack over HTTP with real agents', () => {
  it('acknowledges at once, posts a live status, edits it in place, and threads grouped results', async () => {
    const ack = await rig.slash('Invoke-Command -ComputerName web1,web2,web3 { printenv TEST_ROLE }');
    expect(ack.status).toBe(200);
    expect(ack.ms).toBeLessThan(3000);

    const msg = await rig.statusMessage('printenv TEST_ROLE');
    await rig.waitVersion(msg, isFinal('Completed'), 'the final status');
    const first = textOf(msg.versions[0]!.blocks);
    const last = textOf(msg.blocks);
    expect(first).toMatch(/\*Job\d+\* \(Id \d+\) · \*(Running|NotStarted)\*/);
    expect(first).toContain('Invoke-Command -ComputerName web1,web2,web3 { printenv TEST_ROLE }');
    expect(first).toContain('by alice.e');
    expect(last).toContain('3 Completed of 3');
    expect(last).toMatch(/· [\d.]+s elapsed/);
    expect(msg.versions.length).toBeGreaterThanOrEqual(2);

    await rig.fake.waitFor(() => threadTexts(msg).length >= 2, 10_000, 'two result replies');
    const replies = threadTexts(msg);
    expect(replies).toContain('*web1, web2*\n```\ngroup-a\n```');
    expect(replies).toContain('*web3*\n```\ngroup-b\n```');

    // The status is edited in place. Edit pacing (one per interval, latest wins) is asserted where
    // edits are sent (update-coalescer.test.ts): arrival gaps at the fake vary with request latency.
    expect(rig.fake.callsTo('chat.update').filter((c) => c.params.ts === msg.ts).length).toBeGreaterThanOrEqual(1);
  });

  it('leaves computer names out with -HideComputerName, and /icm is Invoke-Command', async () => {
    const ack = await rig.slash('-ComputerName web1,web2 -HideComputerName { echo hidden-names }', { command: '/icm' });
    expect(ack.status).toBe(200);
    const msg = await rig.statusMessage('hidden-names');
    expect(textOf(msg.versions[0]!.blocks)).toContain('Invoke-Command -ComputerName web1,web2 -HideComputerName { echo hidden-names }');
    await rig.waitVersion(msg, isFinal('Completed'), 'the final status');
    await rig.fake.waitFor(() => threadTexts(msg).length >= 1, 10_000, 'a result reply');
    // No names, but how many computers printed it (PowerShell would print it twice).
    expect(threadTexts(msg)).toEqual(['*(2 computers)*\n```\nhidden-names\n```']);
  });

  it('uploads a large output as a file, with its first and last lines inline', async () => {
    await rig.slash('Invoke-Command -ComputerName web1 { seq 1 3000 }');
    const msg = await rig.statusMessage('seq 1 3000');
    await rig.waitVersion(msg, isFinal('Completed'), 'the final status');
    const file = await rig.fake.waitFor(
      () => rig.fake.files.find((f) => f.threadTs === msg.ts && f.content !== ''),
      10_000,
      'an uploaded file',
    );
    const expected = Array.from({ length: 3000 }, (_, i) => String(i + 1));
    expect(file.content.trimEnd().split('\n')).toEqual(expected);
    expect(file.channel).toBe(OPS);
    expect(rig.fake.callsTo('files.completeUploadExternal').some((c) => c.params.thread_ts === msg.ts)).toBe(true);
    const inline = threadTexts(msg).join('\n');
    expect(inline).toContain('```\n1\n2\n3\n');
    expect(inline).toContain('3000\n```');
    expect(inline).not.toContain('\n1500\n');
    expect(inline).toContain('full output attached as');
  });

  it('escapes output: no mentions, links or breaking out of the code block', async () => {
    await rig.slash("Invoke-Command -ComputerName web2 { printf '%s\\n' '<!channel> @here <https://evil.example|login> ``` & done' }");
    const msg = await rig.statusMessage('evil.example');
    await rig.waitVersion(msg, isFinal('Completed'), 'the final status');
    await rig.fake.waitFor(() => threadTexts(msg).length >= 1, 10_000, 'a result reply');
    const [reply] = threadTexts(msg);
    expect(reply).toContain('&lt;!channel&gt;');
    expect(reply).toContain('&lt;https://evil.example|login&gt;');
    expect(reply).toContain('&amp; done');
    expect(reply).not.toMatch(/[<>]|@here/);
    expect(reply!.match(/```/g)).toHaveLength(2);
  });

  it('a channel the bot is not in: the answer comes privately, saying to /invite the bot', async () => {
    // Removed after the check before the command (conversations.info): the post itself fails.
    rig.fake.failNext('chat.postMessage', { error: 'not_in_channel' }, 1, (p) => JSON.stringify(p).includes('answer-for-the-channel'));
    const ack = await rig.slash("'Invoke-Command answer-for-the-channel'");
    const reply = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === ack.responseUrl.split('/').pop()),
      10_000,
      'the private answer',
    );
    expect(reply.body.response_type).toBe('ephemeral');
    const text = textOf(reply.body.blocks);
    expect(text).toContain('This could not be posted in the channel: Slack chat.postMessage failed: not_in_channel');
    expect(text).toContain('invite it with /invite');
    // The answer itself is there too.
    expect(text).toContain('Invoke-Command');
  });

  it('refuses a forged signature and a stale timestamp (401), and the core never sees them', async () => {
    const forged = await rig.slash('Invoke-Command -ComputerName web1 { echo forged-request }', {}, { secret: 'not-the-secret' });
    const stale = await rig.slash(
      'Invoke-Command -ComputerName web1 { echo stale-request }',
      {},
      { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(forged.status).toBe(401);
    expect(stale.status).toBe(401);
    // A button press is verified the same way.
    const press = {
      actionId: 'stop-job',
      value: '1',
      messageTs: '1.000001',
      team_id: TEAM,
      channel_id: OPS,
      response_url: rig.fake.newResponseUrl(),
    };
    expect((await sendBlockAction(rig.botUrl, SECRET, press, { secret: 'not-the-secret' })).status).toBe(401);
    expect((await sendBlockAction(rig.botUrl, SECRET, press, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).status).toBe(401);
    // A valid command after them is handled; by then the refused ones would have shown.
    await rig.slash('Invoke-Command -ComputerName web1 { echo valid-request }');
    const msg = await rig.statusMessage('valid-request');
    await rig.waitVersion(msg, isFinal('Completed'), 'the final status');
    const all = JSON.stringify(rig.fake.messages) + JSON.stringify(rig.fake.responses);
    expect(all).not.toContain('forged-request');
    expect(all).not.toContain('stale-request');
    const audited = readAudit(rig.rt.app.db).map((r) => r.command);
    expect(audited.some((c) => c.includes('valid-request'))).toBe(true);
    expect(audited.some((c) => c.includes('forged-request') || c.includes('stale-request'))).toBe(false);
    expect(audited).not.toContain('Stop-Job -Id 1');
  });

  it('runs a captured request sent again only once', async () => {
    const body = new URLSearchParams(
      slashCommandPayload({
        command: '/ps',
        text: 'Invoke-Command -ComputerName web1 { echo replayed-once }',
        team_id: TEAM,
        channel_id: OPS,
        response_url: rig.fake.newResponseUrl(),
      }),
    ).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await postSigned(rig.botUrl, SECRET, body, { timestamp });
    const replay = await postSigned(rig.botUrl, SECRET, body, { timestamp });
    expect([first.status, replay.status]).toEqual([200, 200]);
    await rig.adapter.settled();
    const statuses = rig.fake.messages.filter((m) => !m.threadTs && textOf(m.versions[0]!.blocks).includes('replayed-once'));
    expect(statuses).toHaveLength(1);
    expect(readAudit(rig.rt.app.db).filter((r) => r.command.includes('replayed-once'))).toHaveLength(1);
  });

  it('retries a post answered 429 after its Retry-After', async () => {
    rig.fake.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await rig.slash('Invoke-Command -ComputerName web2 { echo after-rate-limit }');
    const msg = await rig.statusMessage('after-rate-limit');
    const posts = rig.fake
      .callsTo('chat.postMessage')
      .filter((c) => JSON.stringify(c.params).includes('after-rate-limit') && !c.params.thread_ts);
    expect(posts.map((p) => p.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1000);
    await rig.waitVersion(msg, isFinal('Completed'), 'the final status');
  });

  it('says in the status what could not be posted, and the Receive-Job button shows it', async () => {
    // Every attempt (1 + 2 retries) of the result reply fails; the status itself gets through.
    rig.fake.failNext(
      'chat.postMessage',
      { status: 500 },
      3,
      (p) => p.thread_ts !== undefined && JSON.stringify(p).includes('kept-in-store'),
    );
    await rig.slash('Invoke-Command -ComputerName web3 { echo kept-in-store }');
    const msg = await rig.statusMessage('kept-in-store');
    await rig.waitVersion(msg, (t) => t.includes('*Completed*') && t.includes(':warning:'), 'a status saying what was not posted');
    expect(threadTexts(msg).join('\n')).not.toContain('kept-in-store');
    const attempts = rig.fake
      .callsTo('chat.postMessage')
      .filter((c) => c.params.thread_ts === msg.ts && JSON.stringify(c.params).includes('kept-in-store'));
    expect(attempts.map((c) => c.status)).toEqual([500, 500, 500]);
    const buttons = buttonsOf(msg.blocks);
    expect(buttons['receive-job']).toBe(String(jobIdOf(msg)));

    const press = await rig.press('receive-job', buttons['receive-job']!, msg.ts);
    expect(press.status).toBe(200);
    await rig.fake.waitFor(() => threadTexts(msg).some((t) => t.includes('kept-in-store')), 10_000, 'the output in the thread');
  });

  it('when even the status cannot be posted, tells the person who ran it, privately, how to get the output', async () => {
    rig.fake.failNext(
      'chat.postMessage',
      { status: 500 },
      3,
      (p) => p.thread_ts === undefined && JSON.stringify(p).includes('status-lost'),
    );
    const ack = await rig.slash('Invoke-Command -ComputerName web1 { echo status-lost }');
    const reply = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === ack.responseUrl.split('/').pop()),
      10_000,
      'the private note',
    );
    expect(reply.body.response_type).toBe('ephemeral');
    const text = textOf(reply.body.blocks);
    const id = /job (\d+) could not be posted/.exec(text)?.[1];
    expect(id, text).toBeDefined();
    expect(text).toContain(`Receive-Job -Id ${id} shows it`);
    expect(rig.fake.messages.some((m) => JSON.stringify(m.blocks).includes('status-lost'))).toBe(false);
  });

  it('Stop-Job button stops a running job', async () => {
    await rig.slash('Invoke-Command -ComputerName web1,web2 { sleep 30 }');
    const msg = await rig.statusMessage('sleep 30');
    const id = jobIdOf(msg);
    expect(buttonsOf(msg.versions[0]!.blocks)['stop-job']).toBe(String(id));
    const started = Date.now();
    const press = await rig.press('stop-job', String(id), msg.ts);
    expect(press.status).toBe(200);
    await rig.waitVersion(msg, isFinal('Stopped'), 'the job to be Stopped');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(buttonsOf(msg.blocks)['stop-job']).toBeUndefined();
    const audit = readAudit(rig.rt.app.db).filter((r) => r.kind === 'button');
    expect(audit.some((r) => r.command === `Stop-Job -Id ${id}` && r.user.includes('U1'))).toBe(true);
  });

  it('Receive-Job button shows the output of a finished -AsJob job; another channel cannot press it', async () => {
    await rig.slash('Invoke-Command -ComputerName web1,web2 -AsJob { echo background-out }');
    const msg = await rig.statusMessage('background-out');
    await rig.waitVersion(
      msg,
      (t, b) => t.includes('*Completed*') && buttonsOf(b)['receive-job'] !== undefined,
      'Completed with a Receive-Job button',
    );
    const id = buttonsOf(msg.blocks)['receive-job']!;
    // -AsJob: the thread shows the state change, not the output.
    await rig.fake.waitFor(() => threadTexts(msg).some((t) => /is Completed/.test(t)), 10_000, 'a state-change reply');
    expect(threadTexts(msg).join('\n')).not.toContain('```\nbackground-out');

    // The same button replayed from another channel (also allowed by the policy): the job is not its.
    const forged = await rig.press('receive-job', id, msg.ts, { channel: OPS2 });
    expect(forged.status).toBe(200);
    const refusal = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === forged.responseUrl.split('/').pop()),
      10_000,
      'a refusal',
    );
    expect(refusal.body.response_type).toBe('ephemeral');
    expect(textOf(refusal.body.blocks)).toContain(`:x: The command cannot find a job with the job ID ${id}`);
    expect(rig.fake.messages.some((m) => m.channel === OPS2)).toBe(false);

    const press = await rig.press('receive-job', id, msg.ts);
    expect(press.status).toBe(200);
    await rig.fake.waitFor(() => threadTexts(msg).some((t) => t.includes('background-out')), 10_000, 'the output in the thread');
    expect(threadTexts(msg).find((t) => t.includes('background-out'))).toContain('*web1, web2*');
    // Received: nothing is left unread, so the button goes; the status stays Completed.
    await rig.waitVersion(msg, (_t, b) => buttonsOf(b)['receive-job'] === undefined, 'the Receive-Job button to go', 5000);
    expect(textOf(msg.blocks)).toContain('*Completed*');
  });

  it('runs a captured button press sent again only once', async () => {
    await rig.slash('Invoke-Command -ComputerName web1 { echo replay-button }');
    const msg = await rig.statusMessage('replay-button');
    await rig.waitVersion(msg, isFinal('Completed'), 'the final status');
    const id = String(jobIdOf(msg));
    const body = new URLSearchParams({
      payload: JSON.stringify(
        blockActionPayload({
          actionId: 'stop-job',
          value: id,
          messageTs: msg.ts,
          team_id: TEAM,
          channel_id: OPS,
          response_url: rig.fake.newResponseUrl(),
        }),
      ),
    }).toString();
    const timestamp = Math.floor(Date.now() / 1000);
    const first = await postSigned(rig.botUrl, SECRET, body, { timestamp });
    const replay = await postSigned(rig.botUrl, SECRET, body, { timestamp });
    expect([first.status, replay.status]).toEqual([200, 200]);
    await rig.adapter.settled();
    expect(readAudit(rig.rt.app.db).filter((r) => r.kind === 'button' && r.command === `Stop-Job -Id ${id}`)).toHaveLength(1);
  });

  it('a button whose value is not a job id never reaches the core', async () => {
    const before = readAudit(rig.rt.app.db).length;
    const press = await rig.press('stop-job', '1; Remove-Item /', '1.000001');
    expect(press.status).toBe(200);
    const reply = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === press.responseUrl.split('/').pop()),
      10_000,
      'a reply',
    );
    expect(reply.body.response_type).toBe('ephemeral');
    expect(textOf(reply.body.blocks)).toContain('valid job id');
    expect(readAudit(rig.rt.app.db).length).toBe(before);
  });

  it('answers a bad line and a refused channel only to the person who typed it', async () => {
    const bad = await rig.slash('Invoke-Command -ComputerName web1 -Bogus 1 { echo never-bogus }');
    expect(bad.status).toBe(200);
    const denied = await rig.slash('Invoke-Command -ComputerName web1 { echo never-denied }', { channel: NOBODY });
    const badReply = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === bad.responseUrl.split('/').pop()),
      10_000,
      'the parse error',
    );
    const deniedReply = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === denied.responseUrl.split('/').pop()),
      10_000,
      'the refusal',
    );
    expect(badReply.body.response_type).toBe('ephemeral');
    expect(textOf(badReply.body.blocks)).toContain('Bogus');
    expect(deniedReply.body.response_type).toBe('ephemeral');
    expect(textOf(deniedReply.body.blocks)).toMatch(/no rule/i);
    // It names the channel id a rule must name, and the smallest grant that would allow it.
    expect(textOf(deniedReply.body.blocks)).toContain(
      `A bot admin can allow it with: Grant-ChannelPermission -Channel slack:${TEAM}/${NOBODY} -Cmdlet Invoke-Command -ComputerName web1`,
    );
    const posted = JSON.stringify(rig.fake.messages);
    expect(posted).not.toContain('never-bogus');
    expect(posted).not.toContain('never-denied');
  });

  it('looked display names up once: users.info is cached across commands and presses', () => {
    expect(rig.fake.callsTo('users.info').filter((c) => c.params.user === 'U1')).toHaveLength(1);
  });

  it('refuses Grant-ChannelPermission from a user who is not a bot admin, privately and audited; an admin may', async () => {
    const reply = async (ack: { responseUrl: string }, what: string) =>
      (await rig.fake.waitFor(() => rig.fake.responses.find((r) => r.id === ack.responseUrl.split('/').pop()), 10_000, what)).body;
    const grant = 'Grant-ChannelPermission -Channel slack:T1/C8 -Computer web1 -Cmdlet Invoke-Command';
    const refused = await reply(await rig.slash(grant, { user: 'U1' }), 'the refusal');
    expect(refused.response_type).toBe('ephemeral');
    expect(textOf(refused.blocks)).toContain('Only bot admins may run Grant-ChannelPermission; slack:U1 is not one (CHATOPS_ADMINS)');
    const audit = readAudit(rig.rt.app.db).filter((r) => r.command.startsWith('Grant-ChannelPermission'));
    expect(audit.map((r) => [r.user, r.decision])).toEqual([['slack:U1', 'refused']]);

    // The refused grant left channel C8 with nothing: a command there is still refused.
    const still = await reply(await rig.slash('Invoke-Command -ComputerName web1 { echo never-granted }', { channel: 'C8' }), 'C8 refusal');
    expect(textOf(still.blocks)).toMatch(/no rule allows it/);

    await rig.slash(grant, { user: 'U2' });
    await rig.fake.waitFor(() => rig.fake.messages.some((m) => textOf(m.blocks).includes('Granted rule')), 10_000, 'the grant');
  });

  it('refuses to start with a token Slack does not accept, and says which', async () => {
    const config = { ...rig.rt.config, slack: { ...rig.rt.config.slack!, botToken: 'xoxb-revoked' } };
    await expect(startSlackAdapter({ core: rig.rt.core, config, log: silentLogger }, { host: '127.0.0.1', port: 0 })).rejects.toMatchObject(
      {
        code: 'SlackStartFailed',
        message: 'Slack refused SLACK_BOT_TOKEN (auth.test: invalid_auth)',
      },
    );
  });

  it('called only Web API methods the manifest has scopes for', () => {
    const called = new Set(rig.fake.calls.map((c) => c.method).filter((m) => m !== 'upload')); // upload: the file URL, not a method
    expect(called.has('files.completeUploadExternal')).toBe(true);
    for (const m of called) expect(Object.keys(SCOPE_OF_METHOD), m).toContain(m);
  });

  it('never logged a token or the signing secret', () => {
    expect(logLines.length).toBeGreaterThan(20);
    expect(logLines.some((l) => l.includes('chat.postMessage'))).toBe(true);
    const all = logLines.join('\n');
    expect(all).not.toContain(rig.fake.botToken);
    expect(all).not.toContain(SECRET);
  });
});
