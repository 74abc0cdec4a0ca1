import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandToLine } from '../../adapters/discord/commands.js';
import { startDiscordAdapter, type DiscordAdapter } from '../../adapters/discord/index.js';
import { readAudit } from '../../src/audit/audit-log.js';
import { createLogger } from '../../src/log.js';
import { createPermissionsModule } from '../../src/permissions/module.js';
import { FakeDiscord, type FakeInteraction, type FakeMessage } from '../fakes/discord-server.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * The real discord.js Client against the fake Discord (REST + gateway on 127.0.0.1), the real
 * core, and two real agent processes (web1, web2) behind the bot. The policy file lets channel
 * 3001 use everything on web*; channel 3002 has no rule.
 */

const TOKEN = 'fake-bot-token-for-tests';
const APP = '1001';
const GUILD = '2001';
const OPS = '3001';
const OTHER = '3002';
/** A channel whose rule admits only members with the ops role (4001). */
const ROLE_GATED = '3003';
const ALICE = { id: '5001', name: 'Alice', roles: ['4001'] };
const BOB = { id: '5002', name: 'Bob', roles: [] as string[] };

let fake: FakeDiscord;
let rt: TestRuntime;
let adapter: DiscordAdapter;
let policyDir: string;
/** Everything the adapter logged, at debug level. */
const logLines: string[] = [];
const permissions = createPermissionsModule();

beforeAll(async () => {
  fake = await FakeDiscord.start({
    token: TOKEN,
    applicationId: APP,
    guildId: GUILD,
    channelIds: [OPS, OTHER, ROLE_GATED],
    roles: [{ id: '4001', name: 'ops' }],
    heartbeatIntervalMs: 500,
  });
  policyDir = mkdtempSync(join(tmpdir(), 'chatops-discord-policy-'));
  const policyFile = join(policyDir, 'policy.yaml');
  writeFileSync(
    policyFile,
    `rules:\n  - name: discord-ops\n    channel: discord:${GUILD}/${OPS}\n    computers: ['web*']\n    cmdlets: ['*']\n` +
      `  - name: ops-role\n    channel: discord:${GUILD}/${ROLE_GATED}\n    computers: [web1]\n    cmdlets: [Invoke-Command]\n    roles: [discord:4001]\n`,
  );
  rt = await startTestRuntime({
    agents: [
      { name: 'web1', tags: ['role=web'] },
      { name: 'web2', tags: ['role=web'] },
    ],
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
    { core: rt.core, config: rt.config, log: createLogger('debug', (line) => logLines.push(line)) },
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

const ps = (line: string, opts: { channelId?: string } = {}): FakeInteraction =>
  fake.sendCommand('ps', [{ name: 'line', type: 3, value: line }], { user: ALICE, ...opts });

/** The status message the bot posted for a job (the channel message carrying its embed). */
function statusMessageFor(jobId: number, channelId = OPS): FakeMessage | undefined {
  return fake.channelMessages(channelId).find((m) => m.embeds[0]?.title?.startsWith(`Job ${jobId} `));
}

function field(m: FakeMessage, name: string): string | undefined {
  return m.embeds[0]?.fields?.find((f: { name: string }) => f.name === name)?.value;
}

/**
 * Waits for the channel's next job (id larger than `after`) to reach a final state in the store.
 * A private reply to `i` instead (an error) fails at once with its text.
 */
async function nextJob(after: number, final = true, i?: FakeInteraction): Promise<number> {
  return fake.waitFor(
    'a new job',
    () => {
      if (i?.original && !i.original.deleted && i.original.history.length > 1) {
        throw new Error(`the command was answered privately: ${i.original.content}`);
      }
      const job = rt.app.store.listJobs(`discord:${GUILD}/${OPS}`).find((j) => j.id > after);
      if (!job) return undefined;
      if (final && !['Completed', 'Failed', 'Stopped'].includes(job.state)) return undefined;
      return job.id;
    },
    20_000,
  );
}

function lastJobId(): number {
  return Math.max(0, ...rt.app.store.listJobs().map((j) => j.id));
}

async function handled(i: FakeInteraction): Promise<void> {
  await fake.waitFor('the command to finish', () => i.original?.deleted || (i.original && i.original.history.length > 1), 20_000);
}

/** Starts a 30 s -AsJob job on `computer` and waits for its status message's Stop-Job button. */
async function longJobWithStopButton(computer: string): Promise<{ id: number; status: FakeMessage }> {
  const before = lastJobId();
  const i = ps(`Invoke-Command -ComputerName ${computer} -AsJob { sleep 30 }`);
  const id = await nextJob(before, false, i);
  await handled(i);
  const status = await fake.waitFor('stop button', () => {
    const m = statusMessageFor(id);
    return m?.components[0]?.components[0]?.custom_id === `chatops:stop-job:${id}` ? m : undefined;
  });
  return { id, status };
}

/**
 * Presses Stop-Job on a status message and waits for the private question it asks; returns the
 * press and the question (an ephemeral message with Stop and Cancel).
 */
async function askToStop(id: number, status: FakeMessage): Promise<{ press: FakeInteraction; question: FakeMessage }> {
  const press = fake.pressButton(status.id, `chatops:stop-job:${id}`, { user: ALICE });
  const question = await fake.waitFor('the question', () => press.original);
  return { press, question };
}

/** The custom ids of a message's buttons. */
const buttonIds = (m: FakeMessage): string[] =>
  m.components.flatMap((row: { components: Array<{ custom_id: string }> }) => row.components.map((b) => b.custom_id));

const threadText = (threadId: string): string =>
  fake
    .channelMessages(threadId)
    .map((m) => m.content)
    .join('\n');

describe('Discord adapter end to end (discord.js + fake Discord + real core and agents)', () => {
  it('registers /ps, /icm and /job as guild commands with the bot token', () => {
    const put = fake.callsTo('PUT', /^\/applications\/1001\/guilds\/2001\/commands$/);
    expect(put).toHaveLength(1);
    expect(put[0]!.authorization).toBe(`Bot ${TOKEN}`);
    const cmds = fake.commands.get(GUILD)!;
    expect(cmds.map((c) => c.name)).toEqual(['ps', 'icm', 'job']);
    const icm = cmds.find((c) => c.name === 'icm')!;
    expect(icm.options.map((o: { name: string }) => o.name)).toEqual([
      'computername',
      'scriptblock',
      'asjob',
      'jobname',
      'hidecomputername',
      'throttlelimit',
      'configurationname',
      'argumentlist',
      'filepath',
    ]);
    expect(icm.options[0].autocomplete).toBe(true);
    // Only server admins see them until an admin grants them (Server Settings → Integrations);
    // servers only, no DMs.
    for (const c of put[0]!.body) {
      expect(c, c.name).toMatchObject({ default_member_permissions: '0', contexts: [0] });
    }
    expect(fake.identifies).toBe(1);
  });

  it('/ps: deferred reply, a status embed edited in place, results in a thread', async () => {
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1,web2 -ScriptBlock { sleep 0.3; echo hello @everyone }');
    const jobId = await nextJob(before, true, i);
    await handled(i);

    // Deferred ephemerally well within Discord's 3 seconds; the private "thinking" is removed
    // once the public status is up.
    expect(i.callback).toMatchObject({ type: 5, data: { flags: 64 } });
    expect(i.callback!.at - i.dispatchedAt).toBeLessThan(3000);
    expect(i.original!.deleted).toBe(true);

    const status = await fake.waitFor('final status', () => {
      const m = statusMessageFor(jobId);
      return m && field(m, 'State') === 'Completed' ? m : undefined;
    });
    const first = status.history[0]!;
    expect(first.embeds[0].fields.find((f: { name: string }) => f.name === 'State').value).not.toBe('Completed');
    expect(first.components[0].components[0]).toMatchObject({ custom_id: `chatops:stop-job:${jobId}`, label: 'Stop-Job' });
    expect(status.history.length).toBeGreaterThanOrEqual(2); // edited in place, not re-posted
    expect(fake.callsTo('PATCH', new RegExp(`^/channels/${OPS}/messages/${status.id}$`)).length).toBeGreaterThanOrEqual(1);
    // Edit pacing is asserted where edits are sent (message-updater.test.ts): arrival times at the
    // fake vary with request latency on a loaded machine, so gaps here would be a flaky measure.
    expect(status.embeds[0]).toMatchObject({ title: `Job ${jobId} · Job${jobId}`, color: 0x2ecc71 });
    expect(status.embeds[0].description).toContain('Invoke-Command -ComputerName web1,web2');
    expect(field(status, 'Computers')).toBe('2 Completed (of 2)');
    expect(field(status, 'Invoked by')).toBe('Alice');
    expect(status.components).toEqual([]); // nothing left to stop or receive

    // The thread is started from the status message and holds the grouped result.
    expect(fake.threads.get(status.id)).toMatchObject({ parent_id: OPS });
    const text = threadText(status.id);
    expect(text).toContain('**web1, web2**');
    expect(text).toContain('```\nhello @everyone\n```');

    // The channel carried the user, guild and channel into the core.
    const job = rt.app.store.getJob(jobId)!;
    expect(job.channel).toBe(`discord:${GUILD}/${OPS}`);
    expect(job.invokedById).toBe('discord:5001');

    // Every message the bot wrote disables mentions.
    const writes = fake.calls.filter((c) => ['POST', 'PATCH'].includes(c.method) && c.body?.content !== undefined);
    expect(writes.some((c) => c.method === 'PATCH')).toBe(true);
    expect(writes.some((c) => c.path === `/channels/${status.id}/messages`)).toBe(true);
    for (const c of writes) expect(c.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('/icm binds exactly as the equivalent /ps line', async () => {
    /** What a command led to: the job it made (as the store has it) or the private answer. */
    const outcome = async (send: () => FakeInteraction, waitForText?: string) => {
      const before = lastJobId();
      const i = send();
      const id = await nextJob(before, true, i).catch((e: Error) => {
        const m = /answered privately: ([\s\S]*)$/.exec(e.message);
        if (m) return m[1]!;
        throw e;
      });
      if (typeof id === 'string') return { reply: id };
      await handled(i);
      if (waitForText) await fake.waitFor('results', () => threadText(statusMessageFor(id)?.id ?? '-').includes(waitForText));
      const j = rt.app.store.getJob(id)!;
      return {
        job: {
          name: j.name.replace(String(id), 'N'),
          state: j.state,
          location: j.location,
          asJob: j.asJob,
          hideComputerName: j.hideComputerName,
          throttleLimit: j.throttleLimit,
          children: rt.app.store.children(id).map((c) => ({ computer: c.computer, position: c.position, state: c.state })),
          thread: j.asJob ? '' : threadText(statusMessageFor(id)!.id),
          command: j.command,
        },
      };
    };

    const icmOptions = [
      { name: 'computername', type: 3, value: 'web2, web1' },
      { name: 'scriptblock', type: 3, value: 'echo "[$1] [$2]"' },
      { name: 'argumentlist', type: 3, value: `'a b', it's` },
      { name: 'throttlelimit', type: 4, value: 1 },
      { name: 'hidecomputername', type: 5, value: true },
    ];
    const line = `Invoke-Command -ComputerName 'web2','web1' -ScriptBlock { echo "[$1] [$2]" } -ThrottleLimit 1 -HideComputerName -ArgumentList 'a b','it''s'`;
    const viaIcm = await outcome(() => fake.sendCommand('icm', icmOptions, { user: ALICE }), '[a b]');
    const viaPs = await outcome(() => ps(line), '[a b]');
    expect(viaIcm).toEqual(viaPs);
    expect(viaIcm.job).toMatchObject({
      location: 'web2,web1',
      hideComputerName: true,
      throttleLimit: 1,
      state: 'Completed',
      command: line,
    });
    expect(viaIcm.job!.thread).toContain("[a b] [it's]");
    expect(viaIcm.job!.thread).not.toContain('web1'); // -HideComputerName

    // The remaining options, whatever the core makes of them (a job, or a refusal), alike too.
    const more = [
      { name: 'computername', type: 3, value: 'web1' },
      { name: 'scriptblock', type: 3, value: 'true' },
      { name: 'asjob', type: 5, value: true },
      { name: 'jobname', type: 3, value: "night's run" },
      { name: 'configurationname', type: 3, value: 'bash' },
    ];
    const moreLine = `Invoke-Command -ComputerName 'web1' -ScriptBlock { true } -ConfigurationName 'bash' -AsJob -JobName 'night''s run'`;
    expect(await outcome(() => fake.sendCommand('icm', more, { user: ALICE }))).toEqual(await outcome(() => ps(moreLine)));
    // A script block with braces of its own (a shell function), quotes and a comment.
    const braces = [
      { name: 'computername', type: 3, value: `"web1"` },
      { name: 'scriptblock', type: 3, value: `f() { echo "in {braces} $1"; }; f '}x{' # done` },
    ];
    const bracesLine = `Invoke-Command -ComputerName 'web1' -ScriptBlock { f() { echo "in {braces} $1"; }; f '}x{' # done\n}`;
    const viaIcmBraces = await outcome(() => fake.sendCommand('icm', braces, { user: ALICE }), 'in {braces}');
    expect(viaIcmBraces).toEqual(await outcome(() => ps(bracesLine), 'in {braces}'));
    expect(viaIcmBraces.job!.thread).toContain('in {braces} }x{');
    const filepath = [
      { name: 'computername', type: 3, value: 'web1' },
      { name: 'filepath', type: 3, value: '../outside.sh' },
    ];
    const fileLine = `Invoke-Command -ComputerName 'web1' -FilePath '../outside.sh'`;
    expect(await outcome(() => fake.sendCommand('icm', filepath, { user: ALICE }))).toEqual(await outcome(() => ps(fileLine)));
  });

  it('a command with nothing to show says Done privately; /icm takes a channel $variable', async () => {
    const set = ps(`$servers = 'web1','web2'`);
    await fake.waitFor('done', () => set.original && set.original.history.length > 1);
    expect(set.original!.content).toBe('Done.');
    expect(set.original!.flags & 64).toBe(64);

    const before = lastJobId();
    const i = fake.sendCommand(
      'icm',
      [
        { name: 'computername', type: 3, value: '$servers' },
        { name: 'scriptblock', type: 3, value: 'echo via-variable' },
      ],
      { user: ALICE },
    );
    const id = await nextJob(before, true, i);
    expect(rt.app.store.children(id).map((c) => c.computer)).toEqual(['web1', 'web2']);
  });

  it('autocompletes computer names and the channel’s job ids', async () => {
    const a = fake.sendAutocomplete('icm', [{ name: 'computername', type: 3, value: 'we', focused: true }], { user: ALICE });
    const cb = await fake.waitFor('autocomplete answer', () => a.callback);
    expect(cb.type).toBe(8);
    expect(cb.data.choices.map((c: { value: string }) => c.value)).toEqual(['web1', 'web2']);

    const b = fake.sendAutocomplete('icm', [{ name: 'computername', type: 3, value: 'web2, w', focused: true }], { user: ALICE });
    const cb2 = await fake.waitFor('autocomplete answer', () => b.callback);
    expect(cb2.data.choices.map((c: { value: string }) => c.value)).toEqual(['web2, web1']);

    // Only computers the channel may target, for this user: the role-gated channel allows web1
    // to members with the role (Alice), nothing to others (Bob).
    const gated = (user: typeof ALICE) =>
      fake.sendAutocomplete('icm', [{ name: 'computername', type: 3, value: 'we', focused: true }], { user, channelId: ROLE_GATED });
    const alice = gated(ALICE);
    expect((await fake.waitFor('autocomplete answer', () => alice.callback)).data.choices.map((c: { value: string }) => c.value)).toEqual([
      'web1',
    ]);
    const bob = gated(BOB);
    expect((await fake.waitFor('autocomplete answer', () => bob.callback)).data.choices).toEqual([]);

    const ids = rt.app.store.listJobs(`discord:${GUILD}/${OPS}`).map((j) => j.id);
    expect(ids.length).toBeGreaterThan(0);
    const c = fake.sendAutocomplete('job', [{ name: 'receive', type: 1, options: [{ name: 'id', type: 4, value: '', focused: true }] }], {
      user: ALICE,
    });
    const cb3 = await fake.waitFor('autocomplete answer', () => c.callback);
    expect(cb3.data.choices.map((x: { value: number }) => x.value).sort()).toEqual([...ids].sort());
    // Another channel has no jobs to offer.
    const d = fake.sendAutocomplete('job', [{ name: 'stop', type: 1, options: [{ name: 'id', type: 4, value: '', focused: true }] }], {
      user: ALICE,
      channelId: OTHER,
    });
    expect((await fake.waitFor('autocomplete answer', () => d.callback)).data.choices).toEqual([]);
  });

  it('answers a bad line and a refusal ephemerally, posting nothing in the channel', async () => {
    const posted = fake.channelMessages(OPS).length;
    const bad = ps('Invoke-Command -ComputerName web1 -Bogus { id }');
    await fake.waitFor('error reply', () => bad.original && bad.original.history.length > 1);
    expect(bad.original!.flags & 64).toBe(64);
    expect(bad.original!.content).toMatch(/Bogus/);
    expect(bad.original!.deleted).toBe(false);

    const refused = ps('Invoke-Command -ComputerName web1 { id }', { channelId: OTHER });
    await fake.waitFor('refusal', () => refused.original && refused.original.history.length > 1);
    expect(refused.original!.flags & 64).toBe(64);
    expect(refused.original!.content).toMatch(/no rule allows it/);
    // It names the channel id a rule must name, and the smallest grant that would allow it.
    expect(refused.original!.content).toContain(
      `Grant-ChannelPermission -Channel discord:${GUILD}/${OTHER} -Cmdlet Invoke-Command -ComputerName web1`,
    );

    expect(fake.channelMessages(OPS)).toHaveLength(posted);
    expect(fake.channelMessages(OTHER)).toHaveLength(0);
  });

  it('an error after the status is up comes as a private follow-up', async () => {
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 { echo first }; Receive-Job -Id 99999');
    const id = await nextJob(before, true, i);
    const followup = await fake.waitFor('private follow-up', () => i.followups[0]);
    expect(followup.flags & 64).toBe(64);
    expect(followup.content).toMatch(/99999/);
    expect(i.original!.deleted).toBe(true);
    expect(statusMessageFor(id)).toBeDefined();
  });

  it('carries the member’s roles: a role-gated rule admits Alice (ops role) and refuses Bob', async () => {
    const bob = fake.sendCommand('ps', [{ name: 'line', type: 3, value: 'Invoke-Command -ComputerName web1 { echo gated }' }], {
      user: BOB,
      channelId: ROLE_GATED,
    });
    await fake.waitFor('refusal', () => bob.original && bob.original.history.length > 1);
    expect(bob.original!.flags & 64).toBe(64);
    expect(bob.original!.content).toMatch(/discord:5002: no rule allows this user/);
    expect(fake.channelMessages(ROLE_GATED)).toHaveLength(0);

    const alice = fake.sendCommand('ps', [{ name: 'line', type: 3, value: 'Invoke-Command -ComputerName web1 { echo gated }' }], {
      user: ALICE,
      channelId: ROLE_GATED,
    });
    const job = await fake.waitFor('job in the gated channel', () =>
      rt.app.store.listJobs(`discord:${GUILD}/${ROLE_GATED}`).find((j) => j.state === 'Completed'),
    );
    await handled(alice);
    expect(job.invokedById).toBe('discord:5001');
    const status = await fake.waitFor('status', () => fake.channelMessages(ROLE_GATED)[0]);
    await fake.waitFor('result', () => threadText(status.id).includes('gated'));
  });

  it('attaches a large output as a file with its first and last lines inline', async () => {
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 { seq 1 3000 }');
    const id = await nextJob(before, true, i);
    await handled(i);
    const threadId = statusMessageFor(id)!.id;
    const withFile = await fake.waitFor('attachment', () => fake.channelMessages(threadId).find((m) => m.attachments.length > 0));
    const call = fake.calls.find((c) => c.method === 'POST' && c.path === `/channels/${threadId}/messages` && c.files.length > 0)!;
    const lines = call.files[0]!.data.toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3000);
    expect(lines[0]).toBe('1');
    expect(lines[2999]).toBe('3000');
    expect(withFile.content.length).toBeLessThanOrEqual(2000);
    expect(withFile.content).toMatch(/```\n1\n2\n3\n/);
    expect(withFile.content).toMatch(/2999\n3000\n```$/);
    expect(withFile.content).toMatch(/lines omitted; the whole output is attached as /);
    expect(withFile.attachments[0].filename).toMatch(/\.txt$/);
  });

  it('Stop-Job button asks first: nothing stops until Stop is pressed, Cancel leaves the job running', async () => {
    const { id, status } = await longJobWithStopButton('web1');
    const stops = () => readAudit(rt.app.db).filter((r) => r.command === `Stop-Job -Id ${id}`);

    // The press asks, privately, and runs nothing.
    const first = await askToStop(id, status);
    expect(first.press.callback).toMatchObject({ type: 4, data: { flags: 64 | 4 } });
    expect(first.question.flags & 64).toBe(64);
    expect(first.question.content).toContain(`Stop-Job -Id ${id}`);
    expect(buttonIds(first.question)).toEqual([`chatops:confirm-stop-job:${id}:${status.id}`, `chatops:cancel-stop-job:${id}`]);
    await new Promise((r) => setTimeout(r, 500));
    expect(rt.app.store.getJob(id)!.state).toBe('Running');
    expect(stops()).toEqual([]);

    // Cancel: the question says so and loses its buttons; the job runs on.
    const cancel = fake.pressButton(first.question.id, `chatops:cancel-stop-job:${id}`, { user: ALICE });
    await fake.waitFor('the question answered', () => cancel.callback);
    expect(cancel.callback).toMatchObject({ type: 7 });
    expect(first.question.content).toMatch(new RegExp(`job ${id} was not stopped`));
    expect(first.question.components).toEqual([]);
    expect(first.question.flags & 64).toBe(64);
    await new Promise((r) => setTimeout(r, 500));
    expect(rt.app.store.getJob(id)!.state).toBe('Running');
    expect(stops()).toEqual([]);
    expect(buttonIds(statusMessageFor(id)!)).toEqual([`chatops:stop-job:${id}`]);

    // Stop: runs Stop-Job -Id N as an audited button command; the question gives way to the answer.
    const second = await askToStop(id, status);
    const confirm = fake.pressButton(second.question.id, `chatops:confirm-stop-job:${id}:${status.id}`, { user: ALICE });
    await fake.waitFor('job stopped', () => rt.app.store.getJob(id)?.state === 'Stopped', 15_000);
    expect(confirm.callback).toMatchObject({ type: 6 });
    await fake.waitFor('the question answered', () => second.question.deleted || second.question.history.length > 1);
    expect(second.question.deleted || second.question.components.length === 0).toBe(true);
    await fake.waitFor('status shows Stopped', () => field(statusMessageFor(id)!, 'State') === 'Stopped');
    expect(stops().map((r) => [r.kind, r.decision, r.user])).toEqual([['button', 'allowed', 'discord:5001']]);
  });

  it('Receive-Job button shows the output of a finished -AsJob job', async () => {
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 -AsJob { echo received-output }');
    const id = await nextJob(before, true, i);
    await handled(i);
    const status = await fake.waitFor('receive button', () => {
      const m = statusMessageFor(id);
      return m?.components[0]?.components[0]?.custom_id === `chatops:receive-job:${id}` ? m : undefined;
    });
    expect(JSON.stringify(fake.messages.get(status.id)!.history.map((h) => h.content))).not.toContain('```\\nreceived-output');
    // -AsJob: the thread shows the state change only; the output waits for Receive-Job.
    await fake.waitFor('state change in the thread', () => threadText(status.id).includes('is Completed'));
    expect(threadText(status.id)).not.toContain('received-output');
    const press = fake.pressButton(status.id, `chatops:receive-job:${id}`, { user: ALICE });
    await fake.waitFor(
      'received output',
      () => [...fake.messages.values()].some((m) => !m.deleted && m.content.includes('```\nreceived-output')),
      15_000,
    );
    await handled(press);
    expect(press.callback).toMatchObject({ type: 5, data: { flags: 64 } });
    // The output goes in the job's thread, under the state change, not in the channel.
    expect(threadText(status.id)).toContain('**web1**\n```\nreceived-output\n```');
    expect(fake.channelMessages(OPS).some((m) => !m.deleted && m.content.includes('```\nreceived-output'))).toBe(false);
    // Received: nothing is left unread.
    await fake.waitFor('output marked read', () => !rt.app.store.children(id).some((c) => rt.app.store.hasUnreadOutput(c.id)));
    // Its button goes away; the status embed stays.
    await fake.waitFor('no more buttons', () => statusMessageFor(id)?.components.length === 0);
    expect(field(statusMessageFor(id)!, 'State')).toBe('Completed');
    const audit = readAudit(rt.app.db).filter((r) => r.kind === 'button');
    expect(audit.some((r) => r.command === `Receive-Job -Id ${id}` && r.decision === 'allowed')).toBe(true);
  });

  it('a forged button for a job of another channel is refused', async () => {
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 -AsJob { echo mine }');
    const id = await nextJob(before, true, i);
    await handled(i);
    // A component payload from the other channel naming that job (Discord would never send one;
    // a forged or replayed payload might).
    const press = fake.pressButton({ forgedIn: OTHER }, `chatops:receive-job:${id}`, { user: ALICE });
    await fake.waitFor('refusal', () => press.original && press.original.history.length > 1);
    expect(press.original!.flags & 64).toBe(64);
    expect(press.original!.content).not.toContain('mine');
    expect(rt.app.store.children(id).some((c) => rt.app.store.hasUnreadOutput(c.id))).toBe(true);
  });

  it('a replayed button press (same interaction delivered again) runs once', async () => {
    const { id, status } = await longJobWithStopButton('web2');
    const { question } = await askToStop(id, status);
    const press = fake.pressButton(question.id, `chatops:confirm-stop-job:${id}:${status.id}`, { user: ALICE });
    await fake.waitFor('job stopped', () => rt.app.store.getJob(id)?.state === 'Stopped', 15_000);
    await handled(press);
    // Let the job's own last messages (status edit, state change in the thread) go out first.
    await fake.waitFor('status shows Stopped', () => field(statusMessageFor(id)!, 'State') === 'Stopped');
    await fake.waitFor('state change in the thread', () => threadText(status.id).includes('is Stopped'));
    await new Promise((r) => setTimeout(r, 300));
    const from = fake.calls.length;
    fake.replayInteraction(press.id);
    // The replay's acknowledgement is refused (40060); nothing else may follow from it.
    await fake.waitFor('the refused acknowledgement', () =>
      fake.calls.slice(from).find((c) => c.path.startsWith(`/interactions/${press.id}/`) && c.status === 400),
    );
    await new Promise((r) => setTimeout(r, 300));
    const audited = readAudit(rt.app.db).filter((r) => r.command === `Stop-Job -Id ${id}`);
    expect(audited).toHaveLength(1);
    expect(fake.calls.slice(from).filter((c) => c.method !== 'GET' && !c.path.startsWith(`/interactions/${press.id}/`))).toEqual([]);
  });

  it('a button id that is not one of ours never reaches the core', async () => {
    const auditBefore = readAudit(rt.app.db).length;
    const press = fake.pressButton({ forgedIn: OPS }, 'chatops:stop-job:1; Remove-Job *', { user: ALICE });
    await fake.waitFor('the refusal', () => press.callback);
    expect(press.callback).toMatchObject({ type: 4, data: { flags: 64 | 4, content: 'This button is not one of ours.' } });
    expect(readAudit(rt.app.db).length).toBe(auditBefore);
  });

  it('refuses Grant-ChannelPermission from a user who is not a bot admin, privately and audited', async () => {
    const i = ps(`Grant-ChannelPermission -Channel discord:${GUILD}/${OTHER} -Computer web1 -Cmdlet Invoke-Command`);
    await fake.waitFor('refusal', () => i.original && i.original.history.length > 1);
    expect(i.original!.flags & 64).toBe(64);
    expect(i.original!.content).toContain('Only bot admins may run Grant-ChannelPermission; discord:5001 is not one (CHATOPS_ADMINS)');
    const audit = readAudit(rt.app.db).filter((r) => r.command.startsWith('Grant-ChannelPermission'));
    expect(audit.map((r) => [r.user, r.decision])).toEqual([['discord:5001', 'refused']]);
    const after = ps('Invoke-Command -ComputerName web1 { echo never-granted }', { channelId: OTHER });
    await fake.waitFor('still refused', () => after.original && after.original.history.length > 1);
    expect(after.original!.content).toMatch(/no rule allows it/);
  });

  it('retries a 429 from Discord after Retry-After, and 5xx', async () => {
    fake.failNext({ method: 'POST', path: new RegExp(`^/channels/${OPS}/messages$`), status: 429, retryAfterSeconds: 0.4 });
    fake.failNext({ method: 'POST', path: /^\/channels\/\d+\/messages\/\d+\/threads$/, status: 502 });
    const from = fake.calls.length;
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web2 { echo after-429 }');
    const id = await nextJob(before, true, i);
    await handled(i);
    const status = await fake.waitFor('status', () => statusMessageFor(id));
    await fake.waitFor('result', () => threadText(status.id).includes('after-429'));
    const posts = fake.calls.slice(from).filter((c) => c.method === 'POST' && c.path === `/channels/${OPS}/messages`);
    expect(posts.map((c) => c.status)).toEqual([429, 200]);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(400);
    const threads = fake.calls.slice(from).filter((c) => c.method === 'POST' && c.path.endsWith('/threads'));
    expect(threads.map((c) => c.status)).toEqual([502, 201]);
    expect(rt.app.store.getJob(id)!.notPosted).toBeUndefined();
  });

  it('output that still cannot be posted stays in the store and the status says so', async () => {
    // retries: 2 → three attempts; all fail.
    for (let k = 0; k < 3; k++) {
      fake.failNext({ method: 'POST', path: /^\/channels\/\d+\/messages\/\d+\/threads$/, status: 500 });
    }
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 { echo kept-in-store }');
    const id = await nextJob(before, true, i);
    await handled(i);
    const status = await fake.waitFor('not posted', () => {
      const m = statusMessageFor(id);
      return m && field(m, 'Not posted') !== undefined ? m : undefined;
    });
    expect(field(status, 'Not posted')).toMatch(/results/);
    expect(rt.app.store.children(id).some((c) => rt.app.store.hasUnreadOutput(c.id))).toBe(true);
  });

  it('when even the status cannot be posted, the private reply says so instead of "Done."', async () => {
    for (let k = 0; k < 3; k++) fake.failNext({ method: 'POST', path: new RegExp(`^/channels/${OPS}/messages$`), status: 500 });
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 { echo status-lost }');
    const id = await fake.waitFor(
      'the job',
      () => rt.app.store.listJobs(`discord:${GUILD}/${OPS}`).find((j) => j.id > before && ['Completed', 'Failed'].includes(j.state))?.id,
    );
    await fake.waitFor('the private answer', () =>
      i.original && i.original.history.length > 1 && i.original.content !== '' ? i.original : undefined,
    );
    expect(i.original!.flags & 64).toBe(64);
    expect(i.original!.content).not.toBe('Done.');
    expect(i.original!.content).toMatch(new RegExp(`could not be posted.*Receive-Job -Id ${id}`, 's'));
    expect(rt.app.store.children(id).some((c) => rt.app.store.hasUnreadOutput(c.id))).toBe(true);
  });

  it('a command typed in a results thread belongs to the channel and answers in that thread', async () => {
    const thread = [...fake.threads.values()].find((t) => t.parent_id === OPS)!;
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web2 { echo from-thread }', { channelId: thread.id });
    const id = await nextJob(before, true, i);
    await handled(i);
    expect(rt.app.store.getJob(id)!.channel).toBe(`discord:${GUILD}/${OPS}`);
    const status = await fake.waitFor('status in the thread', () =>
      fake.channelMessages(thread.id).find((m) => m.embeds[0]?.title?.startsWith(`Job ${id} `)),
    );
    await fake.waitFor('result in the same thread', () => fake.channelMessages(thread.id).some((m) => m.content.includes('from-thread')));
    expect(fake.threads.has(status.id)).toBe(false); // threads do not nest
    expect(rt.app.store.getJob(id)!.notPosted).toBeUndefined();
  });

  it('refuses to start with a token Discord rejects, and says which setting', async () => {
    const config = { ...rt.config, discord: { ...rt.config.discord!, token: 'not-the-token' } };
    await expect(startDiscordAdapter({ core: rt.core, config }, { rest: { retries: 0 } })).rejects.toThrow(
      /Discord refused DISCORD_TOKEN \(401 Unauthorized\)/,
    );
  });

  it('resumes the gateway session after a disconnect and gets the events it missed', async () => {
    fake.dropConnection(4000);
    // Sent while the bot is disconnected: delivered by the replay after RESUME.
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 { echo resumed }');
    await fake.waitFor('resume', () => fake.resumes >= 1, 15_000);
    const id = await nextJob(before, true, i);
    await handled(i);
    expect(fake.identifies).toBe(1);
    expect(fake.gatewayOps.some((p) => p.op === 6)).toBe(true);
    // Heartbeats flow (and are acknowledged: an unacknowledged one would make discord.js reconnect).
    await fake.waitFor('heartbeat', () => fake.gatewayOps.some((p) => p.op === 1));
    await fake.waitFor('result', () => threadText(statusMessageFor(id)?.id ?? '-').includes('resumed'));
  });
  it('Get-Job works when a job’s command is longer than a message: long cells are cut, the table split with its header', async () => {
    const before = lastJobId();
    const long = `true '${'x'.repeat(3000)}'`;
    const i = ps(`Invoke-Command -ComputerName web1 -AsJob { ${long} }`);
    const id = await nextJob(before, true, i);
    await handled(i);
    expect(rt.app.store.getJob(id)!.command.length).toBeGreaterThan(3000);
    // Enough jobs that the table cannot be one message.
    for (let k = 0; k < 3; k++) {
      const last = lastJobId();
      const more = ps(`Invoke-Command -ComputerName web2 -AsJob -JobName filler${k} { true '${'y'.repeat(2500)}' }`);
      await nextJob(last, true, more);
      await handled(more);
    }

    const from = fake.calls.length;
    const get = fake.sendCommand('job', [{ name: 'get', type: 1, options: [] }], { user: ALICE });
    await handled(get);
    const writes = fake.calls.slice(from).filter((c) => c.method !== 'GET');
    expect(writes.map((c) => `${c.method} ${c.path} ${c.status}`).filter((w) => !/ 2\d\d$/.test(w))).toEqual([]);
    expect(get.original!.deleted).toBe(true); // the table went public: no private error
    const parts: string[] = writes.filter((c) => c.method === 'POST' && c.path === `/channels/${OPS}/messages`).map((c) => c.body.content);
    expect(parts.length).toBeGreaterThan(1);
    const header = /^```\nId +Name +PSJobTypeName +State +HasMoreData +Location +Command\n-+ -+ -+ -+ -+ -+ -+\n/;
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(2000);
      expect(p).toMatch(header); // every part repeats the header
    }
    const rows = parts.flatMap((p) => p.split('\n'));
    const row = rows.find((r) => r.startsWith(`${id} `));
    // Command is the script block's text, as PowerShell shows a remote job's.
    expect(row).toMatch(new RegExp(`^${id} +Job${id} +RemoteJob +Completed +\\w+ +web1 + true 'x+…$`));
    expect(rows.filter((r) => r.startsWith(`${id} `))).toHaveLength(1);
  });

  it('/icm scriptblock typed with its braces builds the same line as without them, and runs', async () => {
    const line = (scriptblock: string) => commandToLine('icm', null, { computername: 'web1', scriptblock });
    expect(line('{ echo x }')).toBe(line('echo x'));
    expect(line('{ echo x }')).toBe(`Invoke-Command -ComputerName 'web1' -ScriptBlock { echo x }`);

    const before = lastJobId();
    const i = fake.sendCommand(
      'icm',
      [
        { name: 'computername', type: 3, value: 'web1' },
        { name: 'scriptblock', type: 3, value: '{ echo braces-stripped }' },
      ],
      { user: ALICE },
    );
    const id = await nextJob(before, true, i);
    await handled(i);
    expect(rt.app.store.getJob(id)).toMatchObject({
      state: 'Completed',
      command: `Invoke-Command -ComputerName 'web1' -ScriptBlock { echo braces-stripped }`,
    });
    await fake.waitFor('output', () => threadText(statusMessageFor(id)?.id ?? '-').includes('```\nbraces-stripped\n```'));
  });

  it('links in what the bot writes do not unfurl; the status keeps its embed', async () => {
    const before = lastJobId();
    const i = ps('Invoke-Command -ComputerName web1 { echo https://example.com/sync }');
    const id = await nextJob(before, true, i);
    await handled(i);
    const status = statusMessageFor(id)!;
    await fake.waitFor('output', () => threadText(status.id).includes('https://example.com/sync'));
    const out = fake.channelMessages(status.id).find((m) => m.content.includes('https://example.com/sync'))!;
    expect(out.flags & 4).toBe(4); // SUPPRESS_EMBEDS
    expect(out.unfurled).toEqual([]);
    // The status is an embed the bot means to show: no SUPPRESS_EMBEDS (it would hide it too).
    expect(status.flags & 4).toBe(0);
    expect(status.embeds).toHaveLength(1);

    // An -AsJob status carries the job's row as text next to its embed: the link there is broken.
    const before2 = lastJobId();
    const j = ps('Invoke-Command -ComputerName web1 -AsJob { echo https://example.com/asjob }');
    const id2 = await nextJob(before2, true, j);
    await handled(j);
    const asJob = await fake.waitFor('status with its row', () => {
      const m = statusMessageFor(id2);
      return m?.content.includes('example.com/asjob') ? m : undefined;
    });
    expect(asJob.embeds).toHaveLength(1);
    expect(asJob.unfurled).toEqual([]);
    expect(asJob.content.replace(/\u200b/g, '')).toContain('https://example.com/asjob');

    // Nothing the bot wrote in this run unfurled anywhere (channels, threads, private replies).
    expect([...fake.messages.values()].filter((m) => m.unfurled.length > 0).map((m) => m.content)).toEqual([]);
  });

  it('sent every message with mentions disabled: posts, edits, follow-ups, thread replies, direct replies', () => {
    const written = fake.calls.filter(
      (c) =>
        c.status < 300 &&
        ((['POST', 'PATCH'].includes(c.method) && /^\/channels\/\d+\/messages(\/\d+)?$/.test(c.path)) ||
          (['POST', 'PATCH'].includes(c.method) && c.path.startsWith('/webhooks/'))),
    );
    const kinds = new Set(
      written.map((c) => `${c.method} ${c.path.startsWith('/webhooks/') ? 'webhook' : /messages\/\d+$/.test(c.path) ? 'edit' : 'post'}`),
    );
    expect([...kinds].sort()).toEqual(['PATCH edit', 'PATCH webhook', 'POST post', 'POST webhook']);
    expect(written.some((c) => c.files.length > 0)).toBe(true); // multipart (attachment) posts too
    for (const c of written) expect(c.body?.allowed_mentions, `${c.method} ${c.path}`).toEqual({ parse: [] });
    // Every message without an embed is sent with SUPPRESS_EMBEDS; one with an embed never is.
    for (const c of written.filter((x) => Array.isArray(x.body?.embeds))) {
      expect(Number(c.body.flags ?? 0) & 4, `${c.method} ${c.path}`).toBe(c.body.embeds.length === 0 ? 4 : 0);
    }
    const messageCallbacks = fake.calls.filter(
      (c) => /^\/interactions\/\d+\/[^/]+\/callback$/.test(c.path) && [4, 7].includes(c.body?.type),
    );
    expect(messageCallbacks.length).toBeGreaterThan(0);
    for (const c of messageCallbacks) {
      expect(c.body.data.allowed_mentions, c.path).toEqual({ parse: [] });
      expect(c.body.data.flags & 4, c.path).toBe(4);
    }
  });

  it('never logged the bot token', () => {
    expect(logLines.some((l) => l.includes('registering application commands'))).toBe(true);
    expect(logLines.join('\n')).not.toContain(TOKEN);
  });
});
