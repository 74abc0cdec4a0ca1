import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordAdapter, type DiscordAdapter } from '../../adapters/discord/index.js';
import { silentLogger } from '../../src/log.js';
import { createPermissionsModule } from '../../src/permissions/module.js';
import { FakeDiscord, type FakeInteraction, type FakeMessage } from '../fakes/discord-server.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Issue 12's chat specifics on Discord, through the real discord.js client against the fake
 * Discord with real agents: a typed Receive-Job answers in the job's thread, help goes privately
 * (the ephemeral interaction reply), and the status embed says who stopped a job.
 */

const TOKEN = 'fake-bot-token-for-specifics';
const APP = '1001';
const GUILD = '2001';
const OPS = '3001';
const ALICE = { id: '5001', name: 'Alice', roles: [] as string[] };
const BOB = { id: '5002', name: 'Bob', roles: [] as string[] };

let fake: FakeDiscord;
let rt: TestRuntime;
let adapter: DiscordAdapter;
let policyDir: string;
const permissions = createPermissionsModule();

beforeAll(async () => {
  fake = await FakeDiscord.start({ token: TOKEN, applicationId: APP, guildId: GUILD, channelIds: [OPS], heartbeatIntervalMs: 500 });
  policyDir = mkdtempSync(join(tmpdir(), 'chatops-discord-specifics-'));
  const policyFile = join(policyDir, 'policy.yaml');
  writeFileSync(
    policyFile,
    `rules:\n  - name: discord-ops\n    channel: discord:${GUILD}/${OPS}\n    computers: ['web*']\n    cmdlets: ['*']\n`,
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
    { core: rt.core, config: rt.config, log: silentLogger },
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

const ps = (line: string, user = ALICE): FakeInteraction => fake.sendCommand('ps', [{ name: 'line', type: 3, value: line }], { user });

function statusMessageFor(jobId: number): FakeMessage | undefined {
  return fake.channelMessages(OPS).find((m) => m.embeds[0]?.title?.startsWith(`Job ${jobId} `));
}

function field(m: FakeMessage, name: string): string | undefined {
  return m.embeds[0]?.fields?.find((f: { name: string }) => f.name === name)?.value;
}

const threadText = (threadId: string): string =>
  fake
    .channelMessages(threadId)
    .map((m) => m.content)
    .join('\n');

const channelText = (): string =>
  fake
    .channelMessages(OPS)
    .filter((m) => !m.deleted)
    .map((m) => m.content)
    .join('\n');

function lastJobId(): number {
  return Math.max(0, ...rt.app.store.listJobs().map((j) => j.id));
}

async function nextJob(after: number, final: boolean): Promise<number> {
  return fake.waitFor(
    'a new job',
    () => {
      const job = rt.app.store.listJobs(`discord:${GUILD}/${OPS}`).find((j) => j.id > after);
      if (!job) return undefined;
      if (final && !['Completed', 'Failed', 'Stopped'].includes(job.state)) return undefined;
      return job.id;
    },
    20_000,
  );
}

async function handled(i: FakeInteraction): Promise<void> {
  await fake.waitFor('the command to finish', () => i.original?.deleted || (i.original && i.original.history.length > 1), 20_000);
}

describe('Discord: answers in the right place', () => {
  it('a typed Receive-Job of a job with a thread posts in that thread, not in the channel', async () => {
    const before = lastJobId();
    ps('Invoke-Command -ComputerName web1 -AsJob { echo typed-receive-output }');
    const id = await nextJob(before, true);
    const status = await fake.waitFor('the status', () => statusMessageFor(id));
    await fake.waitFor('state change in the thread', () => threadText(status.id).includes('is Completed'));
    const i = ps(`Receive-Job -Id ${id}`);
    await fake.waitFor('the output in the thread', () => threadText(status.id).includes('typed-receive-output'), 15_000);
    await handled(i);
    expect(threadText(status.id)).toContain(`Receive-Job Job${id} \\(Id ${id}\\): Completed`); // markdown-escaped
    // The channel shows the command in the status row only, never the output.
    expect(channelText()).not.toContain('```\ntyped-receive-output');
  });

  it('Get-Help answers privately (the ephemeral interaction reply and ephemeral follow-ups), nothing in the channel', async () => {
    const before = fake.channelMessages(OPS).length;
    const i = ps('Get-Help Invoke-Command -Examples');
    await fake.waitFor('the last example', () => [i.original, ...i.followups].some((m) => m?.content.includes('EXAMPLE 16')), 20_000);
    const parts = [i.original!, ...i.followups];
    expect(parts.length).toBeGreaterThan(1);
    expect(parts[0]!.content).toContain('NAME');
    for (const m of i.followups) expect(m.flags & 64).toBe(64);
    expect(i.callback).toMatchObject({ type: 5, data: { flags: 64 } }); // the original is ephemeral
    expect(fake.channelMessages(OPS)).toHaveLength(before);
  });
});

describe('Discord: who stopped a job', () => {
  it('the status embed says Stopped by @user after the confirmed Stop-Job button, or a typed Stop-Job', async () => {
    let before = lastJobId();
    ps('Invoke-Command -ComputerName web1 -AsJob { sleep 30 }');
    const pressedId = await nextJob(before, false);
    const pressed = await fake.waitFor('stop button', () => {
      const m = statusMessageFor(pressedId);
      return m?.components[0]?.components[0]?.custom_id === `chatops:stop-job:${pressedId}` ? m : undefined;
    });
    const press = fake.pressButton(pressed.id, `chatops:stop-job:${pressedId}`, { user: BOB });
    const question = await fake.waitFor('the question', () => press.original);
    fake.pressButton(question.id, `chatops:confirm-stop-job:${pressedId}:${pressed.id}`, { user: BOB });
    await fake.waitFor('Stopped by Bob', () => {
      const m = statusMessageFor(pressedId)!;
      return field(m, 'State') === 'Stopped' && field(m, 'Stopped by') === '@Bob';
    });

    before = lastJobId();
    ps('Invoke-Command -ComputerName web2 -AsJob { sleep 30 }');
    const typedId = await nextJob(before, false);
    await fake.waitFor('the status', () => statusMessageFor(typedId));
    const stop = ps(`Stop-Job -Id ${typedId}`);
    await fake.waitFor('Stopped by Alice', () => {
      const m = statusMessageFor(typedId)!;
      return field(m, 'State') === 'Stopped' && field(m, 'Stopped by') === '@Alice';
    });
    await handled(stop);
  });
});
