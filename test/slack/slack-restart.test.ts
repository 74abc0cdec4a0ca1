import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { startSlackAdapter, type SlackAdapter } from '../../adapters/slack/index.js';
import { parseSlackChannel, slackChannel } from '../../adapters/slack/commands.js';
import { DEFAULT_RENDER_OPTIONS } from '../../adapters/slack/render.js';
import { sendStatusEdit, SlackChatSink, type StatusEdit } from '../../adapters/slack/sink.js';
import { UpdateCoalescer } from '../../adapters/slack/update-coalescer.js';
import { createLogger } from '../../src/log.js';
import { FakeSlack, textOf, type RecordedCall, type StoredMessage } from '../fakes/slack-server.js';
import { waitFor } from '../helpers/runtime.js';
import { jobIdOf, OPS, startSlackRig, TEAM, type SlackRig } from './harness.js';

/**
 * A bot restarted mid-job follows on, in Slack, the status messages the previous process posted:
 * the real bolt adapter (HTTP and Socket Mode) against the fake Slack, the real core on a real
 * SQLite file and real agents. The first adapter is stopped, the app restarted on the same
 * database, and a second adapter started on the new core, as a restarted process would.
 */

const blocksOf = (call: RecordedCall): unknown[] => {
  const b = call.params.blocks;
  return typeof b === 'string' ? (JSON.parse(b) as unknown[]) : ((b as unknown[] | undefined) ?? []);
};

it("the Slack adapter finds its own channels in the core's channel names and no other", () => {
  expect(parseSlackChannel(slackChannel('T1', 'C123'))).toEqual({ teamId: 'T1', channelId: 'C123' });
  expect(parseSlackChannel('console')).toBeUndefined();
  expect(parseSlackChannel('discord:G1/C2')).toBeUndefined();
  expect(parseSlackChannel('slack:T1')).toBeUndefined();
  expect(parseSlackChannel('slack:T1/C1/x')).toBeUndefined();
});

it('a sink with no user works from a stored handle alone, and drops a private reply with a log line', async () => {
  const fake = await FakeSlack.start();
  try {
    const client = new webApi.WebClient(fake.botToken, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      logLevel: webApi.LogLevel.ERROR,
    });
    const lines: string[] = [];
    const log = createLogger('warn', (line) => lines.push(line));
    const coalescer = new UpdateCoalescer<StatusEdit>((_k, e) => sendStatusEdit(client, e), 50);
    const first = new SlackChatSink({ client, channelId: 'C7', userId: 'U1', coalescer, render: DEFAULT_RENDER_OPTIONS, log });
    const { id } = await first.post({ blocks: [{ kind: 'text', text: 'posted before the restart' }] });
    // What a restarted bot has: the handle's id from the store, and a sink without a user.
    const resumed = new SlackChatSink({ client, channelId: 'C7', coalescer, render: DEFAULT_RENDER_OPTIONS, log });
    await resumed.update({ id }, { blocks: [{ kind: 'text', text: 'edited after the restart' }] });
    await resumed.postInThread({ id }, { blocks: [{ kind: 'text', text: 'a reply after the restart' }] });
    await resumed.replyPrivately({ blocks: [{ kind: 'text', text: 'for nobody' }] });
    const ts = id.split('|')[1]!;
    expect(textOf(fake.message(ts)!.blocks)).toBe('edited after the restart');
    expect(fake.thread(ts).map((m) => textOf(m.blocks))).toEqual(['a reply after the restart']);
    expect(fake.callsTo('chat.postEphemeral')).toEqual([]);
    expect(fake.messages.some((m) => JSON.stringify(m.versions).includes('for nobody'))).toBe(false);
    expect(lines.some((l) => l.includes('private reply with no user to send it to') && l.includes('for nobody'))).toBe(true);
  } finally {
    await fake.stop();
  }
});

describe.each(['http', 'socket'] as const)('Slack (%s) after a bot restart', (mode) => {
  let rig: SlackRig;
  let restarted: SlackAdapter | undefined;
  const logLines: string[] = [];

  beforeAll(async () => {
    // The synchronous Invoke-Command is still running when the first adapter stops: stop waits
    // this long for it, then lets go (its process is about to go away).
    rig = await startSlackRig(mode, { stopTimeoutMs: 200 });
  }, 60_000);

  afterAll(async () => {
    await restarted?.stop();
    await rig?.stop();
  });

  it('edits the same status messages to Completed and posts the -AsJob note and the synchronous results in their threads, once', async () => {
    const { fake, rt } = rig;
    await rig.slash('icm web1 { sleep 2; echo late } -AsJob');
    await rig.slash('icm web1,web2 { echo first; sleep 2; echo second }');
    const asJobMsg = await rig.statusMessage('echo late');
    const syncMsg = await rig.statusMessage('echo first');
    const asJobId = jobIdOf(asJobMsg);
    const syncId = jobIdOf(syncMsg);
    // Slack handles are CHANNEL|TS|THREAD_TS; the core stores them once the status is posted.
    const handleOf = (m: StoredMessage) => `${m.channel}|${m.ts}|`;
    await waitFor(
      () =>
        rt.app.store.getJob(asJobId)?.statusHandle === handleOf(asJobMsg) &&
        rt.app.store.getJob(syncId)?.statusHandle === handleOf(syncMsg),
      10_000,
      'both status handles stored',
    );

    await rig.adapter.stop();
    await rt.restartApp();
    // The old process left both unfinished (it clears a handle once it drew the final state): if
    // this fails, the jobs outran the restart and the test proves nothing.
    expect(rt.app.store.getJob(asJobId)?.statusHandle, 'the -AsJob status was finished before the restart').toBe(handleOf(asJobMsg));
    expect(rt.app.store.getJob(syncId)?.statusHandle, 'the synchronous status was finished before the restart').toBe(handleOf(syncMsg));
    // Everything from here on comes from the new process.
    const mark = fake.calls.length;

    restarted = await startSlackAdapter(
      { core: rt.core, config: rt.config },
      {
        host: '127.0.0.1',
        port: 0,
        retryConfig: { retries: 2, factor: 1, minTimeout: 20, maxTimeout: 50 },
        updateIntervalMs: 250,
        log: createLogger('info', (line) => logLines.push(line)),
      },
    );
    expect(restarted.mode).toBe(mode);
    expect(logLines.some((l) => l.includes('Slack adapter follows 2 status messages left unfinished'))).toBe(true);

    await rt.waitConnected(['web1', 'web2']);
    const completed = (m: StoredMessage) => textOf(m.blocks).includes('*Completed*');
    await rig.waitVersion(syncMsg, () => completed(syncMsg), 'the synchronous status to be Completed');
    await rig.waitVersion(asJobMsg, () => completed(asJobMsg), 'the -AsJob status to be Completed');
    // The presenter clears the handle after its last post and edit: nothing more is coming.
    await waitFor(
      () => rt.app.store.getJob(asJobId)?.statusHandle === undefined && rt.app.store.getJob(syncId)?.statusHandle === undefined,
      15_000,
      'both statuses drawn for good',
    );
    await restarted.settled();

    const after = fake.calls.slice(mark);
    const before = fake.calls.slice(0, mark);
    for (const msg of [syncMsg, asJobMsg]) {
      const isEditOf = (c: RecordedCall) => c.method === 'chat.update' && c.params.channel === msg.channel && c.params.ts === msg.ts;
      // Edited in place by the new process, and only the new one drew it Completed.
      expect(
        after.filter((c) => isEditOf(c) && c.status === 200 && textOf(blocksOf(c)).includes('*Completed*')).length,
      ).toBeGreaterThanOrEqual(1);
      expect(before.some((c) => isEditOf(c) && textOf(blocksOf(c)).includes('*Completed*'))).toBe(false);
      expect(textOf(msg.blocks)).toContain('Completed of');
    }

    // The synchronous call's results, grouped, in its status thread, exactly once.
    expect(fake.thread(syncMsg.ts).map((m) => textOf(m.blocks))).toEqual(['*web1, web2*\n```\nfirst\nsecond\n```']);
    // -AsJob: the state note in its thread, exactly once; the output is left for Receive-Job.
    const notes = fake.thread(asJobMsg.ts).map((m) => textOf(m.blocks));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain(`Job${asJobId} is Completed.`);
    expect(notes[0]).toContain(`Receive-Job ${asJobId} shows the output.`);
    expect(notes.join('\n')).not.toContain('late');

    // Nothing posted twice: no second status message, nothing top-level or private from the new
    // process, no other channel touched.
    const tops = (needle: string) => fake.messages.filter((m) => !m.threadTs && textOf(m.versions[0]!.blocks).includes(needle));
    expect(tops('echo late')).toHaveLength(1);
    expect(tops('echo first')).toHaveLength(1);
    const posts = after.filter((c) => c.method === 'chat.postMessage');
    expect(posts.map((c) => c.params.thread_ts).sort()).toEqual([asJobMsg.ts, syncMsg.ts].sort());
    expect(after.filter((c) => c.method === 'chat.postEphemeral')).toEqual([]);
    expect(fake.messages.every((m) => m.channel === OPS)).toBe(true);
    expect(rt.app.store.getJob(syncId)?.channel).toBe(slackChannel(TEAM, OPS));
  });
});
