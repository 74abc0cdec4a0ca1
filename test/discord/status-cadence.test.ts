import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDiscordAdapter, type DiscordAdapter } from '../../adapters/discord/index.js';
import { silentLogger } from '../../src/log.js';
import { createPermissionsModule } from '../../src/permissions/module.js';
import { FakeDiscord } from '../fakes/discord-server.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * What a channel sees while a quiet 10-second command runs: the real discord.js against the
 * fake Discord, with the production pacing (an edit per message at most once a second, the
 * status redrawn every 2 s). The status embed is edited at a steady cadence with the elapsed
 * time moving; no long silence that reads as hung.
 */

const TOKEN = 'fake-bot-token-for-cadence';
const APP = '1101';
const GUILD = '2101';
const OPS = '3101';

let fake: FakeDiscord;
let rt: TestRuntime;
let adapter: DiscordAdapter;
let dir: string;
const permissions = createPermissionsModule();

beforeAll(async () => {
  fake = await FakeDiscord.start({ token: TOKEN, applicationId: APP, guildId: GUILD, channelIds: [OPS], heartbeatIntervalMs: 500 });
  dir = mkdtempSync(join(tmpdir(), 'chatops-discord-cadence-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, `rules:\n  - name: ops\n    channel: discord:${GUILD}/${OPS}\n    computers: ['web*']\n    cmdlets: ['*']\n`);
  rt = await startTestRuntime({
    agents: [{ name: 'web1' }],
    env: {
      CHATOPS_POLICY_FILE: policyFile,
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: APP,
      DISCORD_GUILD_ID: GUILD,
      DISCORD_API_URL: fake.apiUrl,
    },
    authorizer: permissions.authorizer,
    extraCmdlets: permissions.extraCmdlets,
    // The production edit pacing: the core asks at most once a second, the adapter sends at most
    // one edit a second per message.
    statusIntervalMs: 1000,
  });
  adapter = await startDiscordAdapter(
    { core: rt.core, config: rt.config, log: silentLogger },
    { rest: { retries: 2, timeout: 5000, offset: 0 } },
  );
}, 60_000);

afterAll(async () => {
  await adapter?.stop();
  await rt?.stop();
  await fake?.close();
  permissions.close();
  rmSync(dir, { recursive: true, force: true });
});

it('edits the status embed of a 10-second job every few seconds while it runs', async () => {
  fake.sendCommand('ps', [{ name: 'line', type: 3, value: 'Invoke-Command -ComputerName web1 { sleep 10; echo cadence-done }' }], {
    user: { id: '5101', name: 'Alice', roles: [] },
  });
  const status = await fake.waitFor(
    'the status message',
    () => fake.channelMessages(OPS).find((m) => /^Job \d+ /.test(m.embeds[0]?.title ?? '')),
    20_000,
  );
  const state = (embed: { fields?: Array<{ name: string; value: string }> } | undefined): string | undefined =>
    embed?.fields?.find((f) => f.name === 'State')?.value;
  await fake.waitFor('the final state', () => state(status.embeds[0]) === 'Completed' || undefined, 30_000);

  const edits = fake.callsTo('PATCH', new RegExp(`^/channels/${OPS}/messages/${status.id}$`));
  const running = edits.filter((c) => state(c.body?.embeds?.[0]) === 'Running');
  const describe = edits.map((c) => `${c.at} ${state(c.body?.embeds?.[0])} ${c.body?.embeds?.[0]?.description ?? ''}`).join('\n');
  expect(running.length, describe).toBeGreaterThanOrEqual(4);
  const times = running.map((c) => c.at);
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  expect(Math.max(...gaps), `gaps ${gaps.join(', ')} ms`).toBeLessThan(4500);
  const all = edits.map((c) => c.at);
  const allGaps = all.slice(1).map((t, i) => t - all[i]!);
  expect(Math.min(...allGaps), `gaps ${allGaps.join(', ')} ms`).toBeGreaterThan(700);
}, 60_000);

/** Every output line in a thread message's code blocks, as `computers: line`. */
function outputLines(content: string): string[] {
  return [...content.matchAll(/^\*\*([^*\n]+)\*\*\n```\n([\s\S]*?)\n?```/gm)].flatMap(([, title, body]) =>
    body!.split('\n').map((line) => `${title}: ${line}`),
  );
}

it('streams a synchronous command’s output into the thread as it comes, each line once, and names who runs', async () => {
  fake.sendCommand(
    'ps',
    [
      {
        name: 'line',
        type: 3,
        value:
          'Invoke-Command -ComputerName web1 -ConfigurationName bash { for i in 1 2 3 4 5 6; do echo "discord-stream-$i"; sleep 1; done }',
      },
    ],
    { user: { id: '5101', name: 'Alice', roles: [] } },
  );
  const status = await fake.waitFor(
    'the status message',
    () => fake.channelMessages(OPS).find((m) => (m.embeds[0]?.description ?? '').includes('discord-stream-')),
    20_000,
  );
  const fields = (embed: { fields?: Array<{ name: string; value: string }> } | undefined): Record<string, string> =>
    Object.fromEntries((embed?.fields ?? []).map((f) => [f.name, f.value]));
  await fake.waitFor('the final state', () => fields(status.embeds[0]).State === 'Completed' || undefined, 30_000);
  const edits = fake.callsTo('PATCH', new RegExp(`^/channels/${OPS}/messages/${status.id}$`));
  const completedAt = edits.find((c) => fields(c.body?.embeds?.[0]).State === 'Completed')!.at;

  // Thread posts (the thread is started from the status message and has its id).
  const posts = fake
    .callsTo('POST', new RegExp(`^/channels/${status.id}/messages$`))
    .filter((c) => c.status < 300 && typeof c.body?.content === 'string')
    .map((c) => ({ at: c.at, content: c.body.content as string }));
  const lines = posts.flatMap((p) => outputLines(p.content).map((line) => ({ at: p.at, line })));
  const first = lines.find((l) => l.line === 'web1: discord-stream-1');
  expect(first, posts.map((p) => p.content).join('\n---\n')).toBeDefined();
  // Shown seconds before the job ended, not held to the end.
  expect(completedAt - first!.at).toBeGreaterThan(1000);
  // Every line exactly once, in order.
  expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4, 5, 6].map((i) => `web1: discord-stream-${i}`));
  // The status named who was still running while it ran.
  const waitingOn = edits.filter((c) => fields(c.body?.embeds?.[0]).State === 'Running').map((c) => fields(c.body.embeds[0])['Waiting on']);
  expect(waitingOn).toContain('Running: web1');
}, 60_000);
