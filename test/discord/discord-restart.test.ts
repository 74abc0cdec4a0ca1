import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REST } from 'discord.js';
import {
  parseDiscordChannelId,
  startDiscordAdapter,
  type DiscordAdapter,
  type DiscordAdapterOptions,
} from '../../adapters/discord/index.js';
import { MessageUpdater } from '../../adapters/discord/message-updater.js';
import type { DiscordPayload } from '../../adapters/discord/render.js';
import { DiscordSink, sendEdit } from '../../adapters/discord/sink.js';
import { createLogger } from '../../src/log.js';
import { createPermissionsModule } from '../../src/permissions/module.js';
import { FakeDiscord, type FakeInteraction, type FakeMessage } from '../fakes/discord-server.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * A bot restart in the middle of jobs started from Discord: the real discord.js Client against
 * the fake Discord, the real core and two real agent processes (the rig of discord-e2e.test.ts).
 * The adapter is stopped, the app restarted on the same database and hub port, and a new
 * adapter started with the new core, as a restarted process would; the new adapter follows on
 * the status messages the first one posted, through the stored `channelId/messageId` handles.
 */

const TOKEN = 'fake-bot-token-for-restart-tests';
const APP = '1001';
const GUILD = '2001';
const OPS = '3001';
const CHANNEL = `discord:${GUILD}/${OPS}`;
const ALICE = { id: '5001', name: 'Alice', roles: [] as string[] };

let fake: FakeDiscord;
let rt: TestRuntime;
let adapter: DiscordAdapter | undefined;
let policyDir: string;
const permissions = createPermissionsModule();
/** What each adapter logged, at debug level: [first process, restarted process]. */
const logs: string[][] = [[], []];

const adapterOptions: DiscordAdapterOptions = {
  rest: { retries: 2, timeout: 5000, offset: 0 },
  minEditIntervalMs: 50,
  // A synchronous Invoke-Command is in flight at the restart; its job outlasts the process.
  stopGraceMs: 200,
};

const start = (log: string[]): Promise<DiscordAdapter> =>
  startDiscordAdapter({ core: rt.core, config: rt.config, log: createLogger('debug', (l) => log.push(l)) }, adapterOptions);

beforeAll(async () => {
  fake = await FakeDiscord.start({ token: TOKEN, applicationId: APP, guildId: GUILD, channelIds: [OPS], heartbeatIntervalMs: 500 });
  policyDir = mkdtempSync(join(tmpdir(), 'chatops-discord-restart-'));
  const policyFile = join(policyDir, 'policy.yaml');
  writeFileSync(policyFile, `rules:\n  - name: discord-ops\n    channel: ${CHANNEL}\n    computers: ['web*']\n    cmdlets: ['*']\n`);
  rt = await startTestRuntime({
    agents: [{ name: 'web1' }, { name: 'web2' }],
    env: {
      CHATOPS_POLICY_FILE: policyFile,
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP,
      DISCORD_GUILD_ID: GUILD,
      DISCORD_API_URL: fake.apiUrl,
    },
    authorizer: permissions.authorizer,
    extraCmdlets: permissions.extraCmdlets,
    statusIntervalMs: 50,
  });
  adapter = await start(logs[0]!);
}, 60_000);

afterAll(async () => {
  await adapter?.stop();
  await rt?.stop();
  await fake?.close();
  permissions.close();
  rmSync(policyDir, { recursive: true, force: true });
});

const ps = (line: string): FakeInteraction => fake.sendCommand('ps', [{ name: 'line', type: 3, value: line }], { user: ALICE });

function statusMessageFor(jobId: number): FakeMessage | undefined {
  return fake.channelMessages(OPS).find((m) => m.embeds[0]?.title?.startsWith(`Job ${jobId} `));
}

const field = (m: FakeMessage, name: string): string | undefined =>
  m.embeds[0]?.fields?.find((f: { name: string }) => f.name === name)?.value;

const buttons = (m: FakeMessage): string[] =>
  m.components.flatMap((row: { components: Array<{ custom_id: string }> }) => row.components.map((c) => c.custom_id));

const threadContents = (threadId: string): string[] => fake.channelMessages(threadId).map((m) => m.content);

/** The job the line started (by its command), once its status message's handle is stored. */
async function jobOf(i: FakeInteraction, line: string): Promise<number> {
  return fake.waitFor(
    `the job of ${line}`,
    () => {
      if (i.original && !i.original.deleted && i.original.history.length > 1) {
        throw new Error(`the command was answered privately: ${i.original.content}`);
      }
      const job = rt.app.store.listJobs(CHANNEL).find((j) => j.command === line);
      return job?.statusHandle !== undefined && statusMessageFor(job.id) ? job.id : undefined;
    },
    15_000,
  );
}

it('a restarted bot edits the same status messages to their end and posts in their threads, nothing twice', async () => {
  const asJobLine = 'icm web1 { sleep 3; echo late } -AsJob';
  const syncLine = 'icm web1,web2 { echo first; sleep 3; echo second }';
  const asJobId = await jobOf(ps(asJobLine), asJobLine);
  const syncId = await jobOf(ps(syncLine), syncLine);
  // Mid-job: the synchronous call has shown its first line on both computers, not its last.
  await fake.waitFor('first output', () => rt.app.store.output(syncId).filter((o) => o.data.includes('first')).length === 2, 10_000);

  const asJobStatus = statusMessageFor(asJobId)!;
  const syncStatus = statusMessageFor(syncId)!;
  expect(rt.app.store.getJob(asJobId)!.statusHandle).toBe(`${OPS}/${asJobStatus.id}`);
  expect(rt.app.store.getJob(syncId)!.statusHandle).toBe(`${OPS}/${syncStatus.id}`);
  for (const [id, m] of [
    [asJobId, asJobStatus],
    [syncId, syncStatus],
  ] as const) {
    await fake.waitFor('the status drawn Running', () => field(m, 'State') === 'Running');
    expect(buttons(m)).toEqual([`chatops:stop-job:${id}`]);
    expect(fake.threads.has(m.id)).toBe(false); // nothing in a thread yet: results and the note come at the end
  }

  // The bot goes down with both jobs running.
  await adapter!.stop();
  adapter = undefined;
  const from = fake.calls.length;
  expect(rt.app.store.getJob(syncId)!.state).toBe('Running');
  expect(rt.app.store.getJob(asJobId)!.state).toBe('Running');
  await rt.restartApp();
  adapter = await start(logs[1]!);
  expect(fake.identifies).toBe(2); // a new gateway login: nothing carried over in memory
  expect(logs[1]!.some((l) => /following on status messages left unfinished/.test(l) && l.includes('"count":2'))).toBe(true);

  await rt.waitConnected(['web1', 'web2']);
  for (const id of [asJobId, syncId]) expect((await rt.app.jobs.waitFor(id, 15_000))?.state).toBe('Completed');
  // Drawn for good: the new process cleared the handles once the final states were on Discord.
  await fake.waitFor(
    'both statuses drawn for good',
    () => [asJobId, syncId].every((id) => rt.app.store.getJob(id)?.statusHandle === undefined),
    15_000,
  );
  const after = fake.calls.slice(from);

  // The same two status messages, edited (not re-posted) by the new process to Completed.
  expect(fake.channelMessages(OPS).map((m) => m.id)).toEqual([asJobStatus.id, syncStatus.id]);
  expect(after.filter((c) => c.method === 'POST' && c.path === `/channels/${OPS}/messages`)).toEqual([]);
  for (const [id, m] of [
    [asJobId, asJobStatus],
    [syncId, syncStatus],
  ] as const) {
    const edits = after.filter((c) => c.method === 'PATCH' && c.path === `/channels/${OPS}/messages/${m.id}`);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    expect(edits.every((c) => c.status === 200 && c.authorization === `Bot ${TOKEN}`)).toBe(true);
    const now = fake.messages.get(m.id)!;
    expect(now.embeds[0]).toMatchObject({ title: `Job ${id} · Job${id}`, color: 0x2ecc71 });
    expect(field(now, 'State')).toBe('Completed');
    expect(buttons(now)).not.toContain(`chatops:stop-job:${id}`);
    // One thread each, started after the restart from the status message.
    const created = after.filter((c) => c.method === 'POST' && c.path === `/channels/${OPS}/messages/${m.id}/threads`);
    expect(created.map((c) => c.status)).toEqual([201]);
    expect(fake.threads.get(m.id)).toMatchObject({ parent_id: OPS, name: expect.stringMatching(new RegExp(`^Job ${id} · `)) });
  }
  expect(field(fake.messages.get(syncStatus.id)!, 'Computers')).toBe('2 Completed (of 2)');
  expect(buttons(fake.messages.get(syncStatus.id)!)).toEqual([]);
  // -AsJob: its output waits for Receive-Job, offered by the button that replaced Stop-Job.
  expect(buttons(fake.messages.get(asJobStatus.id)!)).toEqual([`chatops:receive-job:${asJobId}`]);

  // In the threads: the synchronous call's results once, grouped; the -AsJob note once.
  expect(threadContents(syncStatus.id)).toEqual(['**web1, web2**\n```\nfirst\nsecond\n```']);
  const note = threadContents(asJobStatus.id);
  expect(note).toHaveLength(1);
  expect(note[0]).toContain(`Job${asJobId} is Completed.`);
  expect(note[0]).not.toContain('late');
  // Every message the new process wrote went in those two threads.
  const posts = after.filter((c) => c.method === 'POST' && /^\/channels\/\d+\/messages$/.test(c.path));
  expect(posts.map((c) => c.path).sort()).toEqual([`/channels/${asJobStatus.id}/messages`, `/channels/${syncStatus.id}/messages`].sort());
  expect(rt.app.store.children(syncId).some((c) => rt.app.store.hasUnreadOutput(c.id))).toBe(false);

  // The new process's buttons work on the old message: Receive-Job shows the -AsJob output once.
  const press = fake.pressButton(asJobStatus.id, `chatops:receive-job:${asJobId}`, { user: ALICE });
  const late = '**web1**\n```\nlate\n```';
  await fake.waitFor('received output', () => threadContents(asJobStatus.id).includes(late), 15_000);
  await fake.waitFor('the press handled', () => press.original?.deleted || (press.original && press.original.history.length > 1));
  expect(threadContents(asJobStatus.id).filter((c) => c.includes('late'))).toEqual([late]);
  expect(threadContents(asJobStatus.id)[0]).toBe(note[0]);
  await fake.waitFor('no more buttons', () => fake.messages.get(asJobStatus.id)!.components.length === 0);
  expect(logs.flat().join('\n')).not.toContain(TOKEN);
}, 40_000);

it('jobs that ended while no bot ran: the restarted bot draws their end and posts what is owed, in threads named from the status', async () => {
  const asJobLine = 'icm web2 { sleep 2; echo while-down } -AsJob';
  const syncLine = 'icm web1 { echo a; sleep 2; echo b }';
  const asJobId = await jobOf(ps(asJobLine), asJobLine);
  const syncId = await jobOf(ps(syncLine), syncLine);
  const asJobStatus = statusMessageFor(asJobId)!;
  const syncStatus = statusMessageFor(syncId)!;

  await adapter!.stop();
  adapter = undefined;
  await rt.restartApp();
  // The agents dial in again and finish the jobs while no adapter follows their statuses.
  for (const id of [asJobId, syncId]) expect((await rt.app.jobs.waitFor(id, 15_000))?.state).toBe('Completed');
  expect(rt.app.store.getJob(syncId)!.statusHandle).toBe(`${OPS}/${syncStatus.id}`);
  expect(rt.app.store.getJob(asJobId)!.statusHandle).toBe(`${OPS}/${asJobStatus.id}`);
  const from = fake.calls.length;
  const log: string[] = [];
  adapter = await start(log);
  expect(log.some((l) => /following on status messages left unfinished/.test(l) && l.includes('"count":2'))).toBe(true);

  await fake.waitFor(
    'both statuses drawn for good',
    () => [asJobId, syncId].every((id) => rt.app.store.getJob(id)?.statusHandle === undefined),
    15_000,
  );
  const after = fake.calls.slice(from);
  expect(after.filter((c) => c.method === 'POST' && c.path === `/channels/${OPS}/messages`)).toEqual([]);
  for (const [id, m] of [
    [asJobId, asJobStatus],
    [syncId, syncStatus],
  ] as const) {
    expect(field(fake.messages.get(m.id)!, 'State')).toBe('Completed');
    expect(buttons(fake.messages.get(m.id)!)).not.toContain(`chatops:stop-job:${id}`);
    // No process drew this status since the restart: the thread is named from its embed.
    expect(fake.threads.get(m.id)).toMatchObject({ parent_id: OPS, name: `Job ${id} · Job${id}` });
  }
  expect(threadContents(syncStatus.id)).toEqual(['**web1**\n```\na\nb\n```']);
  expect(threadContents(asJobStatus.id)).toEqual([expect.stringContaining(`Job${asJobId} is Completed.`)]);
}, 40_000);

it("a reattach sink answers nobody privately and posts nothing new; only the adapter's own channels get one", async () => {
  expect(parseDiscordChannelId(CHANNEL)).toEqual({ guildId: GUILD, channelId: OPS });
  for (const other of ['console', 'slack:T1/C1', `discord:${GUILD}`, `discord:${GUILD}/${OPS}/x`]) {
    expect(parseDiscordChannelId(other)).toBeUndefined();
  }
  const log: string[] = [];
  const rest = new REST({ api: fake.apiUrl, retries: 0, timeout: 5000, offset: 0 }).setToken(TOKEN);
  const sink = DiscordSink.reattach(
    {
      rest,
      applicationId: APP,
      updater: new MessageUpdater<DiscordPayload>((k, p) => sendEdit(rest, k, p), { minIntervalMs: 50 }),
      log: createLogger('debug', (l) => log.push(l)),
      threadNames: new Map(),
      threads: new Map(),
      threadQueues: new Map(),
      threadChannels: new Map(),
      threadArchiveMinutes: 60,
    },
    OPS,
  );
  const from = fake.calls.length;
  await sink.replyPrivately({ blocks: [{ kind: 'text', text: 'meant for one person' }] });
  await expect(sink.post({ blocks: [{ kind: 'text', text: 'a new message' }] })).rejects.toMatchObject({ code: 'DiscordNoInteraction' });
  await sink.finish();
  expect(fake.calls.slice(from)).toEqual([]); // nothing reached Discord
  expect(log.filter((l) => l.includes('WARN')).length).toBe(2);
  expect(log.join('\n')).not.toContain('meant for one person');
});
