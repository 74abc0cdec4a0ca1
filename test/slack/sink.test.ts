import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webApi } from '@slack/bolt';
import { DEFAULT_RENDER_OPTIONS } from '../../adapters/slack/render.js';
import { SlackChatSink, sendStatusEdit, type StatusEdit } from '../../adapters/slack/sink.js';
import { UpdateCoalescer } from '../../adapters/slack/update-coalescer.js';
import { silentLogger } from '../../src/log.js';
import type { JobStatusView, NeutralMessage } from '../../src/messages/model.js';
import { FakeSlack, textOf } from '../fakes/slack-server.js';

/** The Slack sink with a real @slack/web-api client against the fake Slack Web API. */

let fake: FakeSlack;
let client: webApi.WebClient;

beforeAll(async () => {
  fake = await FakeSlack.start();
  client = new webApi.WebClient(fake.botToken, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 },
    timeout: 5000,
    logLevel: webApi.LogLevel.ERROR,
  });
});
afterAll(async () => fake?.stop());

function sink(over: Partial<ConstructorParameters<typeof SlackChatSink>[0]> = {}, intervalMs = 200): SlackChatSink {
  const coalescer = new UpdateCoalescer<StatusEdit>((_k, e) => sendStatusEdit(client, e), intervalMs);
  return new SlackChatSink({
    client,
    channelId: 'C7',
    userId: 'U1',
    coalescer,
    render: DEFAULT_RENDER_OPTIONS,
    log: silentLogger,
    ...over,
  });
}

const status = (state: JobStatusView['state'], n: number): NeutralMessage => ({
  blocks: [
    {
      kind: 'status',
      status: {
        jobId: 3,
        name: 'Job3',
        command: 'icm web1 { x }',
        invokedBy: 'alice',
        state,
        counts: { [state]: n },
        total: 9,
        elapsedMs: n * 100,
        asJob: false,
        hasMoreData: false,
      },
    },
  ],
});

describe('SlackChatSink', () => {
  it('retries a dropped connection and a 5xx, then posts', async () => {
    fake.failNext('chat.postMessage', { drop: true });
    fake.failNext('chat.postMessage', { status: 503 });
    const handle = await sink().post({ blocks: [{ kind: 'text', text: 'after network trouble' }] });
    const calls = fake.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.params).includes('after network trouble'));
    expect(calls.map((c) => c.status)).toEqual([0, 503, 200]);
    expect(handle.id).toMatch(/^C7\|\d+\.\d+\|$/);
  });

  it('throws when a post still fails after the retries', async () => {
    fake.failNext('chat.postMessage', { status: 500 }, 3);
    await expect(sink().post({ blocks: [{ kind: 'text', text: 'never' }] })).rejects.toMatchObject({ code: 'SlackApiError' });
    fake.failNext('chat.postMessage', { error: 'channel_not_found' });
    await expect(sink().post({ blocks: [{ kind: 'text', text: 'never' }] })).rejects.toThrow(
      'Slack chat.postMessage failed: channel_not_found',
    );
  });

  it('coalesces a burst of status edits and always delivers the last one', async () => {
    const s = sink();
    const handle = await s.post(status('Running', 0));
    const ts = handle.id.split('|')[1]!;
    await Promise.all(Array.from({ length: 9 }, (_, i) => s.update(handle, status(i === 8 ? 'Completed' : 'Running', i + 1))));
    const edits = fake.callsTo('chat.update').filter((c) => c.params.ts === ts);
    expect(edits.length).toBeLessThanOrEqual(2);
    expect(textOf(fake.message(ts)!.blocks)).toContain('9 Completed of 9');
  });

  it('splits a reply that exceeds 50 blocks over several thread replies', async () => {
    const s = sink();
    const parent = await s.post({ blocks: [{ kind: 'text', text: 'parent' }] });
    const parentTs = parent.id.split('|')[1]!;
    await s.postInThread(parent, {
      blocks: Array.from({ length: 75 }, (_, i) => ({ kind: 'code' as const, title: `web${i}`, text: `out ${i}` })),
    });
    const replies = fake.thread(parentTs);
    expect(replies.map((r) => r.blocks.length)).toEqual([50, 25]);
    expect(textOf(replies[1]!.blocks)).toContain('*web74*');
  });

  it('uploads attachments in the thread of the message it posts', async () => {
    const s = sink();
    const handle = await s.post({
      blocks: [{ kind: 'attachment', filename: 'big.txt', content: 'x\n'.repeat(100), head: ['x'], tail: ['x'], omittedLines: 98 }],
    });
    const ts = handle.id.split('|')[1]!;
    const file = fake.files.find((f) => f.threadTs === ts);
    expect(file).toMatchObject({ filename: 'big.txt', channel: 'C7', content: 'x\n'.repeat(100) });
  });

  it('replies privately via response_url, or chat.postEphemeral when that fails', async () => {
    const sent: unknown[] = [];
    await sink({ respond: async (m) => void sent.push(m) }).replyPrivately({ blocks: [{ kind: 'error', text: 'nope' }] });
    expect(sent).toEqual([expect.objectContaining({ response_type: 'ephemeral', text: 'nope' })]);

    await sink({ respond: async () => Promise.reject(new Error('expired_url')) }).replyPrivately({
      blocks: [{ kind: 'error', text: 'still private' }],
    });
    expect(fake.ephemerals.at(-1)).toMatchObject({ channel: 'C7', user: 'U1', text: 'still private' });
  });
});
