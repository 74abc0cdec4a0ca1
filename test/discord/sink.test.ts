import { REST } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageUpdater } from '../../adapters/discord/message-updater.js';
import type { DiscordPayload } from '../../adapters/discord/render.js';
import { DiscordSink, sendEdit, type SinkContext } from '../../adapters/discord/sink.js';
import { silentLogger } from '../../src/log.js';
import type { JobStatusView } from '../../src/messages/model.js';
import { FakeDiscord } from '../fakes/discord-server.js';

/**
 * The sink against the fake Discord's REST routes (@discordjs/rest, real HTTP), without the
 * gateway: threads, ordering, splitting and edit coalescing at the wire.
 */
const TOKEN = 'sink-test-token';
const CH = '3001';
let fake: FakeDiscord;

function context(): SinkContext {
  const rest = new REST({ api: fake.apiUrl, retries: 1, timeout: 5000, offset: 0 }).setToken(TOKEN);
  return {
    rest,
    applicationId: '1001',
    updater: new MessageUpdater<DiscordPayload>((k, p) => sendEdit(rest, k, p), { minIntervalMs: 100 }),
    log: silentLogger,
    threadNames: new Map(),
    threads: new Map(),
    threadQueues: new Map(),
    threadChannels: new Map(),
    threadArchiveMinutes: 60,
  };
}

const status = (state: JobStatusView['state'], n: number): JobStatusView => ({
  jobId: 3,
  name: 'Job3',
  command: 'icm web1 { uptime }',
  invokedBy: 'Bob',
  state,
  counts: { [state]: n },
  total: 9,
  elapsedMs: n * 10,
  asJob: false,
  hasMoreData: false,
});

beforeAll(async () => {
  fake = await FakeDiscord.start({ token: TOKEN, applicationId: '1001', guildId: '2001', channelIds: [CH] });
});
afterAll(async () => {
  await fake?.close();
});

describe('DiscordSink over REST', () => {
  it('starts one thread for concurrent results and keeps their order', async () => {
    const sink = new DiscordSink(context(), CH, { id: '1', token: 'unused' });
    const h = await sink.post({ blocks: [{ kind: 'status', status: status('Running', 1) }] });
    const [channelId, messageId] = h.id.split('/');
    expect(channelId).toBe(CH);
    await Promise.all(
      Array.from({ length: 6 }, (_, k) => sink.postInThread(h, { blocks: [{ kind: 'code', text: `out ${k}`, title: `web${k}` }] })),
    );
    expect(fake.callsTo('POST', new RegExp(`^/channels/${CH}/messages/${messageId}/threads$`))).toHaveLength(1);
    expect(fake.threads.get(messageId!)).toMatchObject({ name: 'Job 3 · icm web1 { uptime }', parent_id: CH });
    expect(fake.channelMessages(messageId!).map((m) => m.content.match(/out \d/)?.[0])).toEqual([
      'out 0',
      'out 1',
      'out 2',
      'out 3',
      'out 4',
      'out 5',
    ]);
  });

  it('finds a thread another process started (Discord answers 160004) and posts in it', async () => {
    const first = new DiscordSink(context(), CH, { id: '1', token: 'unused' });
    const h = await first.post({ blocks: [{ kind: 'text', text: 'status' }] });
    await first.postInThread(h, { blocks: [{ kind: 'text', text: 'one' }] });
    // A new context (a restarted bot) gets the handle back from the core's store.
    const second = new DiscordSink(context(), CH, { id: '2', token: 'unused' });
    const r = await second.postInThread({ id: h.id }, { blocks: [{ kind: 'text', text: 'two' }] });
    const threadId = h.id.split('/')[1]!;
    expect(r.id.startsWith(`${threadId}/`)).toBe(true);
    expect(fake.channelMessages(threadId).map((m) => m.content)).toEqual(['one', 'two']);
    const creations = fake.callsTo('POST', new RegExp(`/messages/${threadId}/threads$`));
    expect(creations.map((c) => c.status)).toEqual([201, 400]);
  });

  it('splits long output into several messages within 2,000 characters', async () => {
    const sink = new DiscordSink(context(), CH, { id: '1', token: 'unused' });
    const h = await sink.post({ blocks: [{ kind: 'text', text: 'status' }] });
    const text = Array.from({ length: 300 }, (_, k) => `line ${k} ${'z'.repeat(30)}`).join('\n');
    await sink.postInThread(h, { blocks: [{ kind: 'code', text, title: 'web1' }] });
    const msgs = fake.channelMessages(h.id.split('/')[1]!);
    expect(msgs.length).toBeGreaterThan(4);
    for (const m of msgs) {
      expect(m.content.length).toBeLessThanOrEqual(2000);
      expect((m.content.match(/```/g) ?? []).length).toBe(2);
    }
    expect(msgs.map((m) => m.content.replace(/^(\*\*web1\*\*\n)?```\n/, '').replace(/\n```$/, '')).join('\n')).toBe(text);
  });

  it('coalesces a burst of status edits and always delivers the last', async () => {
    const sink = new DiscordSink(context(), CH, { id: '1', token: 'unused' });
    const h = await sink.post({ blocks: [{ kind: 'status', status: status('Running', 0) }] });
    const id = h.id.split('/')[1]!;
    const edits: Promise<void>[] = [];
    for (let n = 1; n <= 9; n++) {
      edits.push(sink.update(h, { blocks: [{ kind: 'status', status: status(n === 9 ? 'Completed' : 'Running', n) }] }));
      await new Promise((r) => setTimeout(r, 15));
    }
    await Promise.all(edits);
    const patches = fake.callsTo('PATCH', new RegExp(`^/channels/${CH}/messages/${id}$`));
    expect(patches.length).toBeLessThan(5);
    for (let k = 1; k < patches.length; k++) expect(patches[k]!.at - patches[k - 1]!.at).toBeGreaterThanOrEqual(90);
    const final = fake.messages.get(id)!;
    expect(final.embeds[0].fields[0].value).toBe('Completed');
    expect(final.embeds[0].fields[1].value).toBe('9 Completed (of 9)');
  });

  it('posts output with SUPPRESS_EMBEDS so its links do not unfurl, and the status without it', async () => {
    const sink = new DiscordSink(context(), CH, { id: '1', token: 'unused' });
    const h = await sink.post({ blocks: [{ kind: 'status', status: { ...status('Running', 1), asJob: true } }] });
    const out = await sink.postInThread(h, { blocks: [{ kind: 'code', text: 'docs at https://example.com/a', title: 'web1' }] });
    const statusMsg = fake.messages.get(h.id.split('/')[1]!)!;
    const outMsg = fake.messages.get(out.id.split('/')[1]!)!;
    expect(statusMsg.flags & 4).toBe(0);
    expect(statusMsg.embeds).toHaveLength(1);
    expect(outMsg.flags & 4).toBe(4);
    expect(outMsg.unfurled).toEqual([]);
    expect(outMsg.content).toContain('https://example.com/a');
    // An edit of the status keeps its embed showing.
    await sink.update(h, { blocks: [{ kind: 'status', status: status('Completed', 1) }] });
    expect(statusMsg.embeds).toHaveLength(1);
    expect(statusMsg.flags & 4).toBe(0);
  });

  it('the fake refuses what Discord refuses: long content, embeds over their limits, too many buttons', async () => {
    const rest = context().rest;
    const post = (body: object) => rest.post(`/channels/${CH}/messages`, { body });
    await expect(post({ content: 'x'.repeat(2001) })).rejects.toThrow(/2000 or fewer/);
    await expect(post({ embeds: [{ title: 't', description: 'd'.repeat(4000) }, { description: 'd'.repeat(2001) }] })).rejects.toThrow(
      /6000/,
    );
    await expect(post({ embeds: [{ title: 't', fields: [{ name: 'n', value: '' }] }] })).rejects.toThrow(/fields.value/);
    const button = (k: number) => ({ type: 2, style: 1, label: `b${k}`, custom_id: `id${k}` });
    await expect(post({ components: [{ type: 1, components: [0, 1, 2, 3, 4, 5].map(button) }] })).rejects.toThrow(/between 1 and 5/);
    await expect(post({ components: [{ type: 1, components: [button(1), button(1)] }] })).rejects.toThrow(/duplicated/);
    await expect(post({ content: 'ok', components: [{ type: 1, components: [{ ...button(1), label: 'l'.repeat(81) }] }] })).rejects.toThrow(
      /80 or fewer/,
    );
    // A channel message cannot be made ephemeral; the flag is not set.
    const m = (await post({ content: 'plain', flags: 64 | 4 })) as { id: string };
    expect(fake.messages.get(m.id)!.flags).toBe(4);
  });

  it('throws when Discord keeps failing, so the core can mark the output not posted', async () => {
    const sink = new DiscordSink(context(), CH, { id: '1', token: 'unused' });
    fake.failNext({ method: 'POST', path: new RegExp(`^/channels/${CH}/messages$`), status: 500 });
    fake.failNext({ method: 'POST', path: new RegExp(`^/channels/${CH}/messages$`), status: 500 });
    await expect(sink.post({ blocks: [{ kind: 'text', text: 'x' }] })).rejects.toThrow();
    await expect(sink.update({ id: 'not-a-handle' }, { blocks: [] })).rejects.toThrow(/Not a Discord message handle/);
  });
});
