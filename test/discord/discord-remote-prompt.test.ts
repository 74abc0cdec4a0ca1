import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatewayIntentBits } from 'discord.js';
import { startDiscordAdapter, type DiscordAdapter } from '../../adapters/discord/index.js';
import { createPermissionsModule } from '../../src/permissions/module.js';
import { FakeDiscord, type FakeInteraction, type FakeMessage } from '../fakes/discord-server.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Enter-PSSession in Discord (issue 14), through the real discord.js client against the fake
 * Discord with real agents: `/ps Enter-PSSession web1` starts a thread named `[web1]: PS` from
 * its announcement, and every message typed in that thread (MESSAGE_CREATE, which needs the
 * GuildMessages and MessageContent intents) runs in the session, answered in the thread; `/ps`
 * typed in the thread runs there too. The channel itself stays outside the session; bots (the
 * bot's own posts are echoed back, as Discord does), other channels and members the channel's
 * rule does not admit are not run; `exit` ends the prompt and the thread says so. Expected output
 * is computed by the remote shell (`$((6*7))`), so the typed line never matches it.
 */

const TOKEN = 'fake-bot-token-for-tests';
const APP = '1001';
const GUILD = '2001';
const OPS = '3001';
const CHANNEL = `discord:${GUILD}/${OPS}`;
const ALICE = { id: '5001', name: 'Alice', roles: ['4001'] };
/** Not in the ops role the channel's rule asks for. */
const BOB = { id: '5002', name: 'Bob', roles: [] as string[] };

let fake: FakeDiscord;
let rt: TestRuntime;
let adapter: DiscordAdapter;
let policyDir: string;
const permissions = createPermissionsModule();

beforeAll(async () => {
  fake = await FakeDiscord.start({
    token: TOKEN,
    applicationId: APP,
    guildId: GUILD,
    channelIds: [OPS],
    roles: [{ id: '4001', name: 'ops' }],
    heartbeatIntervalMs: 500,
    echoBotMessages: true,
  });
  policyDir = mkdtempSync(join(tmpdir(), 'chatops-discord-prompt-'));
  const policyFile = join(policyDir, 'policy.yaml');
  writeFileSync(
    policyFile,
    `rules:\n  - name: ops-role\n    channel: ${CHANNEL}\n    computers: ['web*']\n    cmdlets: ['*']\n    roles: [discord:4001]\n`,
  );
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
  adapter = await startDiscordAdapter(
    { core: rt.core, config: rt.config },
    { rest: { retries: 2, timeout: 5000, offset: 0 }, minEditIntervalMs: 50 },
  );
}, 60_000);

afterAll(async () => {
  await adapter?.stop();
  await rt?.stop();
  await fake?.close();
  permissions.close();
  rmSync(policyDir, { recursive: true, force: true });
});

const ps = (line: string, channelId = OPS): FakeInteraction =>
  fake.sendCommand('ps', [{ name: 'line', type: 3, value: line }], { user: ALICE, channelId });

/** What a reader sees of the bot's messages in a channel or thread. */
const botText = (channelId: string): string =>
  fake
    .channelMessages(channelId)
    .filter((m: FakeMessage) => m.author.id === APP)
    .map((m) => `${m.content}\n${JSON.stringify(m.embeds)}`)
    .join('\n');
const seen = (channelId: string, needle: string, what: string): Promise<true> =>
  fake.waitFor(what, () => botText(channelId).includes(needle) || undefined, 15_000);
const jobs = (): number => rt.app.store.listJobs(CHANNEL).length;

it('asks the gateway for the GuildMessages and MessageContent intents', () => {
  expect(fake.intents & GatewayIntentBits.GuildMessages).toBe(GatewayIntentBits.GuildMessages);
  expect(fake.intents & GatewayIntentBits.MessageContent).toBe(GatewayIntentBits.MessageContent);
});

it('Enter-PSSession starts a [web1]: PS thread whose messages run in the session until exit', async () => {
  ps('Enter-PSSession web1');
  const thread = await fake.waitFor('the prompt thread', () => [...fake.threads.values()].find((t) => t.parent_id === OPS), 15_000);
  expect(thread.name).toBe('[web1]: PS');
  // Markdown-escaped as Discord shows it: \[web1\]: PS>
  expect(fake.messages.get(thread.id)?.content).toMatch(/^\\\[web1\\\]: PS>/);
  await seen(thread.id, 'Every message in this thread runs in the session', 'the hint in the thread');

  // Two messages in a row run in order, in one shell; /ps typed in the thread runs there too.
  fake.sendMessage(thread.id, 'cd /tmp && N=$((6*7))', { user: ALICE });
  fake.sendMessage(thread.id, '```\necho "n=$N at $(pwd)"\n```', { user: ALICE });
  await seen(thread.id, 'n=42 at /tmp', 'state kept between two messages');
  ps('echo "via-slash-$((N+1))"', thread.id);
  await seen(thread.id, 'via-slash-43', '/ps in the thread running in the session');

  // The channel itself is not inside the session: /ps there runs in the bot, not on web1.
  ps('Get-PSSession');
  await seen(OPS, 'Opened', "Get-PSSession's table in the channel");

  // Not run: another bot in the thread, a message in the channel, and Bob, whom the channel's
  // rule does not admit (told in the thread: a plain message has no private answer).
  const before = jobs();
  fake.sendMessage(thread.id, 'echo bot-$((1+1))', { user: { id: '5009', name: 'OtherBot', roles: ['4001'], bot: true } });
  fake.sendMessage(OPS, 'echo channel-$((2+2))', { user: ALICE });
  fake.sendMessage(thread.id, 'echo bob-$((3+3))', { user: BOB });
  await seen(thread.id, 'no rule allows this user', "Bob's refusal in the thread");
  fake.sendMessage(thread.id, 'echo marker-$((4+4))', { user: ALICE });
  await seen(thread.id, 'marker-8', 'the line after the ignored ones');
  expect(jobs()).toBe(before + 1);
  // Bob's is the only refusal: the bot's own posts, echoed back, were never taken for lines.
  expect(botText(thread.id).match(/may not run/g)).toHaveLength(1);
  const all = [...fake.messages.values()].map((m) => `${m.content}\n${JSON.stringify(m.embeds)}`).join('\n');
  for (const never of ['bot-2', 'channel-4', 'bob-6']) expect(all).not.toContain(never);

  // exit ends the prompt; the thread says so, and later messages are not run.
  fake.sendMessage(thread.id, 'exit', { user: ALICE });
  await seen(thread.id, 'Left ', 'the session left');
  await seen(thread.id, 'has ended', 'the thread saying the prompt ended');
  const afterExit = jobs();
  fake.sendMessage(thread.id, 'echo after-$((5+5))', { user: ALICE });
  ps('Invoke-Command -ComputerName web2 { echo fence-$((6+6)) }');
  await fake.waitFor(
    'the fence output',
    () => [...fake.messages.values()].some((m) => m.content.includes('fence-12')) || undefined,
    15_000,
  );
  expect(jobs()).toBe(afterExit + 1);
  expect([...fake.messages.values()].map((m) => m.content).join('\n')).not.toContain('after-10');
}, 90_000);

it('a session that ends by itself ends its prompt thread (which says why) and is told to the channel when no prompt had it', async () => {
  const threadsBefore = new Set(fake.threads.keys());
  ps('Enter-PSSession web2');
  const thread = await fake.waitFor(
    'the web2 prompt thread',
    () => [...fake.threads.values()].find((t) => t.parent_id === OPS && !threadsBefore.has(t.id)),
    15_000,
  );
  expect(thread.name).toBe('[web2]: PS');
  await seen(thread.id, 'Every message in this thread runs in the session', 'the hint in the thread');
  ps('New-PSSession web2 -Name kept2');
  await seen(OPS, 'kept2', 'kept2 opened');

  // The agent restarts: both sessions are Broken. The prompt's thread says so; the channel hears
  // of the other one.
  await rt.agent('web2').restart();
  await seen(thread.id, 'has ended', 'the thread saying the prompt ended');
  expect(botText(thread.id)).toMatch(
    /The remote prompt \[web2\]: PS> has ended: the session \S+ on web2 is Broken: The agent web2 restarted/,
  );
  expect(botText(thread.id)).toContain('Messages in this thread are no longer run.');
  await seen(OPS, 'The session kept2 on web2 is Broken', 'the channel told of kept2');

  const before = jobs();
  fake.sendMessage(thread.id, 'echo late-$((7+7))', { user: ALICE });
  ps('Invoke-Command -ComputerName web1 { echo fence2-$((8+8)) }');
  await fake.waitFor(
    'the fence output',
    () => [...fake.messages.values()].some((m) => m.content.includes('fence2-16')) || undefined,
    15_000,
  );
  expect(jobs()).toBe(before + 1);
  expect([...fake.messages.values()].map((m) => m.content).join('\n')).not.toContain('late-14');
}, 90_000);

it('without the Message Content intent turned on for the application, the start fails saying where to turn it on', async () => {
  const refusing = await FakeDiscord.start({
    token: TOKEN,
    applicationId: APP,
    guildId: GUILD,
    channelIds: [OPS],
    disallowedIntents: GatewayIntentBits.MessageContent,
  });
  try {
    const config = { ...rt.config, discord: { ...rt.config.discord!, apiUrl: refusing.apiUrl } };
    await expect(
      startDiscordAdapter({ core: rt.core, config }, { rest: { retries: 0, timeout: 5000, offset: 0 }, readyTimeoutMs: 20_000 }),
    ).rejects.toThrow(/Message Content intent \(gateway close 4014\).*Privileged Gateway Intents/);
  } finally {
    await refusing.close();
  }
}, 30_000);
