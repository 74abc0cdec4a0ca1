import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackAdapter } from '../../adapters/slack/index.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { buttonsOf, textOf } from '../fakes/slack-server.js';
import { jobIdOf, SECRET, startSlackRig, type SlackRig } from './harness.js';

/**
 * The real bolt App in Socket Mode: apps.connections.open (with the app token) against the
 * fake, which hands out a ws:// URL of its own Socket Mode server; commands and button presses
 * arrive as envelopes and must be acknowledged by envelope_id. Real core and agents behind it.
 */

let rig: SlackRig;
/** Everything the adapter (and bolt's Socket Mode client through it) logged, at debug level. */
const logLines: string[] = [];

beforeAll(async () => {
  rig = await startSlackRig('socket', { socketPingTimeoutMs: 300, log: createLogger('debug', (line) => logLines.push(line)) });
}, 60_000);

afterAll(async () => {
  await rig?.stop();
});

describe('Slack in Socket Mode with real agents', () => {
  it('opened its connection with the app token, the Web API with the bot token', () => {
    const open = rig.fake.callsTo('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]!.token).toBe(rig.fake.appToken);
    expect(rig.fake.callsTo('auth.test')[0]!.token).toBe(rig.fake.botToken);
    expect(rig.fake.socketCount).toBe(1);
    expect(rig.adapter.mode).toBe('socket');
  });

  it('acknowledges the envelope at once, then posts the status, its edits and the results', async () => {
    const ack = await rig.slash('Invoke-Command -ComputerName web1,web2 { echo over-socket }');
    expect(ack.ms).toBeLessThan(3000);
    const msg = await rig.statusMessage('over-socket');
    await rig.waitVersion(msg, (t) => t.includes('*Completed*'), 'the final status');
    expect(msg.versions.length).toBeGreaterThanOrEqual(2);
    expect(textOf(msg.blocks)).toContain('2 Completed of 2');
    await rig.fake.waitFor(() => rig.fake.thread(msg.ts).length >= 1, 10_000, 'a result reply');
    expect(rig.fake.thread(msg.ts).map((m) => textOf(m.blocks))).toEqual(['*web1, web2*\n```\nover-socket\n```']);
  });

  it('a Stop-Job press arrives as an interactive envelope and stops the job', async () => {
    await rig.slash('Invoke-Command -ComputerName web3 { sleep 30 }');
    const msg = await rig.statusMessage('sleep 30');
    const id = jobIdOf(msg);
    expect(buttonsOf(msg.versions[0]!.blocks)['stop-job']).toBe(String(id));
    await rig.press('stop-job', String(id), msg.ts);
    await rig.waitVersion(msg, (t) => t.includes('*Stopped*'), 'the job to be Stopped');
  });

  it('answers a bad line privately through response_url', async () => {
    const bad = await rig.slash('Get-Job -Id banana');
    const reply = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === bad.responseUrl.split('/').pop()),
      10_000,
      'the error reply',
    );
    expect(reply.body.response_type).toBe('ephemeral');
    expect(textOf(reply.body.blocks)).toMatch(/^:x: .*banana/s);
    expect(JSON.stringify(rig.fake.messages)).not.toContain('banana');
  });

  it('reconnects when Slack asks it to, and keeps working', async () => {
    const opened = rig.fake.callsTo('apps.connections.open').length;
    const accepted = rig.fake.socketsAccepted;
    rig.fake.sendDisconnect();
    await rig.fake.waitFor(
      () => rig.fake.socketsAccepted > accepted && rig.fake.socketCount === 1,
      10_000,
      'a new connection, the old one closed',
    );
    expect(rig.fake.callsTo('apps.connections.open').length).toBe(opened + 1);
    await rig.slash('Invoke-Command -ComputerName web2 { echo after-reconnect }');
    const msg = await rig.statusMessage('after-reconnect');
    await rig.waitVersion(msg, (t) => t.includes('*Completed*'), 'the final status');
  });

  it('an empty command shows its usage privately', async () => {
    const empty = await rig.slash('   ', { command: '/icm' });
    const reply = await rig.fake.waitFor(
      () => rig.fake.responses.find((r) => r.id === empty.responseUrl.split('/').pop()),
      10_000,
      'the usage reply',
    );
    expect(reply.body.response_type).toBe('ephemeral');
    expect(textOf(reply.body.blocks)).toBe('Usage: /icm -ComputerName web1 { uptime }');
  });

  it('never logged the app token, the bot token or the signing secret', () => {
    expect(logLines.some((l) => /Socket Mode/i.test(l))).toBe(true);
    const all = logLines.join('\n');
    expect(all).not.toContain(rig.fake.appToken);
    expect(all).not.toContain(rig.fake.botToken);
    expect(all).not.toContain(SECRET);
  });

  it('refuses to start when the app token is not accepted', async () => {
    const config = { ...rig.rt.config, slack: { ...rig.rt.config.slack!, appToken: 'xapp-revoked' } };
    await expect(startSlackAdapter({ core: rig.rt.core, config, log: silentLogger })).rejects.toMatchObject({
      code: 'SlackStartFailed',
      message: 'Slack adapter could not open a Socket Mode connection (check SLACK_APP_TOKEN): invalid_auth',
    });
    expect(rig.fake.callsTo('apps.connections.open').at(-1)!.token).toBe('xapp-revoked');
  });
});
