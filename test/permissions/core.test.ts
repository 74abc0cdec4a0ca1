import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readAudit, verifyAuditChain } from '../../src/audit/audit-log.js';
import type { IncomingCommand, Invoker } from '../../src/core/ports.js';
import { createPermissionsModule, type PermissionsModule } from '../../src/permissions/module.js';
import { RecordingSink, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Permissions through the real core: real agents (child processes) on loopback, a real policy
 * file and SQLite. Refusals are checked at the agent: every script writes a marker file, and a
 * refused command must leave none.
 */

const OPS = 'slack:T1/C100';
const RO = 'slack:T1/C200';
const OTHER = 'discord:G1/C9';
const RB = 'slack:T1/C300';
const CFG = 'slack:T1/C400';
const alice: Invoker = { platform: 'slack', userId: 'U1', displayName: 'alice' };
const bob: Invoker = { platform: 'slack', userId: 'U2', displayName: 'bob' };
const dora: Invoker = { platform: 'discord', userId: '55', displayName: 'dora' };

let rt: TestRuntime;
let permissions: PermissionsModule;
let markers: string;

const policy = (extra = '') => `
rules:
  - name: ops
    channel: ${OPS}
    computers: [web*, role=cache, jea1]
    cmdlets: [Invoke-Command, Get-Job, Receive-Job, Stop-Job, Wait-Job, Remove-Job]
    maxComputers: 3
  - name: read-only
    channel: ${RO}
    cmdlets: [Get-Job, Receive-Job]
  - name: other
    channel: ${OTHER}
    computers: [web1]
    cmdlets: [Invoke-Command, Get-Job, Receive-Job, Stop-Job]
    maxThrottleLimit: 4
  - name: runbooks
    channel: ${RB}
    computers: [db1]
    cmdlets: [Invoke-Command]
    configurations: [bash]
    runbooksOnly: true
    runbooks: [checks/*.sh]
  - name: bash-only
    channel: ${CFG}
    computers: [web1]
    cmdlets: [Invoke-Command]
    configurations: [bash]
${extra}`;

async function run(channel: string, user: Invoker, text: string, source: IncomingCommand['source'] = 'command') {
  const sink = new RecordingSink();
  const outcome = await rt.core.handle({ channel, user, text, source }, sink);
  return { sink, outcome };
}

/** A script that leaves a marker named after the computer it ran on (its agent's state dir name). */
const touch = (tag: string) => `{ touch '${markers}/${tag}' }`;

let dir: string;
let policyFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'perm-core-'));
  markers = join(dir, 'markers');
  mkdirSync(markers);
  policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, policy());
  permissions = createPermissionsModule({ reloadDebounceMs: 30 });
  rt = await startTestRuntime({
    agents: [
      { name: 'web1' },
      { name: 'web2' },
      { name: 'db1', tags: ['role=db'] },
      { name: 'cache7', tags: ['role=cache'] },
      // A JEA-like agent: its only configuration runs runbooks from its own directory, nothing else.
      { name: 'jea1', args: ['--configuration', 'ops=bash', '--restrict-to-runbooks', 'ops', '--runbooks-dir', dir] },
    ],
    authorizer: permissions.authorizer,
    extraCmdlets: permissions.extraCmdlets,
    env: { CHATOPS_ADMINS: 'slack:U1', CHATOPS_POLICY_FILE: policyFile },
    runbooks: {
      'checks/disk.sh': `touch '${markers}/runbook-ran'\n`,
      'fix.sh': `touch '${markers}/fix-ran'\n`,
    },
  });
}, 60_000);

afterAll(async () => {
  permissions?.close();
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const f of readdirSync(markers)) rmSync(join(markers, f));
});

describe('refused commands never reach an agent', () => {
  it('runs an allowed command (the marker appears) and refuses a forbidden target (no marker anywhere)', async () => {
    const ok = await run(OPS, alice, `Invoke-Command -ComputerName web1 ${touch('allowed')}`);
    expect(ok.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'allowed'))).toBe(true);

    const refused = await run(OPS, alice, `Invoke-Command -ComputerName web1,web2,cache7,db1 ${touch('mixed')}`);
    expect(refused.outcome).toEqual({ ok: false, jobIds: [] });
    expect(refused.sink.replies().join('\n')).toContain('This channel may not target db1: no rule allows it');
    expect(existsSync(join(markers, 'mixed'))).toBe(false);
  });

  it('refuses every spelling trick: parameter prefixes, aliases, case, colon syntax, variables', async () => {
    const denied = 'This channel may not target db1: no rule allows it';
    const attempts: Array<[string, string]> = [
      [`icm -comp db1 ${touch('t1')}`, denied],
      [`ICM -CN db1 ${touch('t2')}`, denied],
      [`invoke-command -computername DB1 ${touch('t3')}`, denied],
      [`Invoke-Command -ComputerName:db1 ${touch('t4')}`, denied],
      [`icm db1 ${touch('t5')}`, denied],
      [`$c = 'web1','db1'; icm $c ${touch('t6')}`, denied],
      [`icm -ComputerName web1 -ScriptBlock ${touch('t7')} -Cn db1`, "parameter 'ComputerName' is specified more than once"],
      [`icm role=cache ${touch('t8')}`, 'One or more computer names are not valid'],
    ];
    for (const [i, [text, reason]] of attempts.entries()) {
      const r = await run(OPS, alice, text);
      expect(r.outcome.ok, text).toBe(false);
      expect(r.sink.replies().join('\n'), text).toContain(reason);
      expect(existsSync(join(markers, `t${i + 1}`)), text).toBe(false);
    }
  });

  it('refuses Unicode lookalikes of allowed names', async () => {
    const r = await run(OPS, alice, `Invoke-Command -ComputerName w\u0435b1 ${touch('cyr')}`);
    expect(r.outcome.ok).toBe(false);
    expect(r.sink.replies().join('\n')).toContain('One or more computer names are not valid');
    expect(existsSync(join(markers, 'cyr'))).toBe(false);
  });

  it('enforces limits and cmdlets before dispatch', async () => {
    const tooMany = await run(OPS, alice, `icm web1,web2,cache7,web1 ${touch('many')}`);
    expect(tooMany.sink.replies().join('\n')).toContain('This channel may target at most 3 computers per command; this command targets 4');
    const ro = await run(RO, alice, `icm web1 ${touch('ro')}`);
    expect(ro.sink.replies().join('\n')).toContain('This channel may not run Invoke-Command: no rule allows it');
    const throttled = await run(OTHER, dora, `icm web1 ${touch('throttle')} -ThrottleLimit 9`);
    expect(throttled.sink.replies().join('\n')).toContain('This channel allows a ThrottleLimit of at most 4; this command asks for 9');
    expect(existsSync(join(markers, 'throttle'))).toBe(false);
    const within = await run(OTHER, dora, `icm web1 ${touch('throttle-ok')} -ThrottleLimit 4`);
    expect(within.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'throttle-ok'))).toBe(true);
    expect(existsSync(join(markers, 'many'))).toBe(false);
    expect(existsSync(join(markers, 'ro'))).toBe(false);
  });

  it('without -ThrottleLimit checks the real concurrency, min(32, computers), against maxThrottleLimit', async () => {
    // One computer with a rule of at most 4: runs (the default of 32 never runs more than 1 here).
    const one = await run(OTHER, dora, `icm web1 ${touch('implied-one')}`);
    expect(one.sink.replies()).toEqual([]);
    expect(one.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'implied-one'))).toBe(true);

    const ch = 'slack:T1/C500';
    const grant = await run(
      OPS,
      alice,
      `Grant-ChannelPermission -Channel ${ch} -Cmdlet Invoke-Command -ComputerName web* -MaxThrottleLimit 1`,
    );
    expect(grant.outcome.ok).toBe(true);
    const two = await run(ch, bob, `icm web1,web2 ${touch('implied-two')}`);
    expect(two.sink.replies().join('\n')).toContain('This channel allows a ThrottleLimit of at most 1; this command would run 2 at once');
    expect(existsSync(join(markers, 'implied-two'))).toBe(false);
    const single = await run(ch, bob, `icm web2 ${touch('implied-single')}`);
    expect(single.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'implied-single'))).toBe(true);
    const typed = await run(ch, bob, `icm web1,web2 ${touch('typed-one')} -ThrottleLimit 1`);
    expect(typed.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'typed-one'))).toBe(true);
    const id = /Granted rule (\S+):/.exec(grant.sink.posts().join('\n'))?.[1];
    expect(id).toBeDefined();
    expect((await run(OPS, alice, `Revoke-ChannelPermission ${id}`)).outcome.ok).toBe(true);
  });
});

describe('runbooks and configurations', () => {
  it('a runbooks-only channel runs listed runbooks and refuses ad-hoc scripts and other runbooks', async () => {
    const ok = await run(RB, alice, 'Invoke-Command -ComputerName db1 -FilePath checks/disk.sh');
    expect(ok.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'runbook-ran'))).toBe(true);

    const adHoc = await run(RB, alice, `icm db1 ${touch('adhoc')}`);
    expect(adHoc.sink.replies().join('\n')).toContain(
      'This channel may not send ad-hoc script blocks to db1: only runbooks (-FilePath) are allowed',
    );
    const other = await run(RB, alice, 'icm db1 -FilePath fix.sh');
    expect(other.sink.replies().join('\n')).toContain('This channel may not run runbook fix.sh on db1: no rule allows it');
    const sneaky = await run(RB, alice, 'icm db1 -FilePath checks/../fix.sh');
    expect(sneaky.outcome.ok).toBe(false);
    expect(existsSync(join(markers, 'adhoc'))).toBe(false);
    expect(existsSync(join(markers, 'fix-ran'))).toBe(false);
  });
});

describe('session configurations', () => {
  it('allows only the configurations a rule lists', async () => {
    const ok = await run(CFG, alice, `icm web1 -ConfigurationName bash ${touch('cfg-bash')}`);
    expect(ok.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'cfg-bash'))).toBe(true);
    const sh = await run(CFG, alice, `icm web1 -ConfigurationName sh ${touch('cfg-sh')}`);
    expect(sh.sink.replies().join('\n')).toContain('This channel may not use configuration sh on web1: no rule allows it');
    expect(existsSync(join(markers, 'cfg-sh'))).toBe(false);
  });
});

describe('agents enforce their own side', () => {
  it('a runbooks-only configuration refuses an ad-hoc script even when the bot policy allows it', async () => {
    const r = await run(OPS, alice, `Invoke-Command -ComputerName jea1 ${touch('jea')}`);
    expect(r.outcome.ok).toBe(false);
    expect(r.sink.text()).toContain('runs only runbooks');
    expect(existsSync(join(markers, 'jea'))).toBe(false);
    const named = await run(OPS, alice, `Invoke-Command -ComputerName jea1 -ConfigurationName ops ${touch('jea-named')}`);
    expect(named.outcome.ok).toBe(false);
    expect(named.sink.text()).toContain("The session configuration 'ops' on jea1 runs only runbooks");
    expect(existsSync(join(markers, 'jea-named'))).toBe(false);
  });
});

describe('channels own their jobs', () => {
  it('another channel cannot receive, stop or press a button for a job (not found), and the audit says so', async () => {
    const started = await run(OPS, alice, `Invoke-Command -ComputerName web1 { sleep 5; touch '${markers}/late' } -AsJob`);
    const jobId = started.outcome.jobIds[0]!;
    expect(jobId).toBeGreaterThan(0);

    for (const text of [`Receive-Job -Id ${jobId}`, `Stop-Job -Id ${jobId}`, `Get-Job -Id ${jobId}`]) {
      const r = await run(OTHER, dora, text);
      expect(r.sink.replies().join('\n'), text).toContain(`The command cannot find a job with the job ID ${jobId}.`);
      expect(r.outcome.ok, text).toBe(false);
      expect(r.sink.text(), text).not.toContain('sleep 5');
    }
    // A forged/replayed button from the other channel: the core treats it as that channel's command.
    const button = await run(OTHER, dora, `Stop-Job -Id ${jobId}`, 'button');
    expect(button.outcome.ok).toBe(false);
    expect(button.sink.replies().join('\n')).toContain(`The command cannot find a job with the job ID ${jobId}.`);
    // A button in a channel whose rules do not allow the cmdlet is refused by policy.
    const roButton = await run(RO, alice, `Stop-Job -Id ${jobId}`, 'button');
    expect(roButton.sink.replies().join('\n')).toContain('This channel may not run Stop-Job: no rule allows it');

    const state = await run(OPS, alice, `Get-Job -Id ${jobId}`);
    expect(state.sink.text()).toMatch(/Running|Completed/);
    await run(OPS, alice, `Stop-Job -Id ${jobId}`);
    const audit = readAudit(rt.app.db);
    expect(audit.some((r) => r.kind === 'button' && r.channel === RO && r.decision === 'refused')).toBe(true);
    expect(audit.some((r) => r.kind === 'command' && r.jobId === jobId && r.decision === 'allowed')).toBe(true);
  });
});

describe('admin cmdlets through the core', () => {
  it('are refused for non-admins and work for admins, rules showing their source', async () => {
    const refused = await run(OPS, bob, `Grant-ChannelPermission -Channel ${RO} -Cmdlet Invoke-Command -ComputerName db1`);
    expect(refused.sink.replies().join('\n')).toContain('Only bot admins may run Grant-ChannelPermission; slack:U2 is not one');
    const getRefused = await run(OPS, bob, 'Get-ChannelPermission');
    expect(getRefused.outcome.ok).toBe(false);

    const before = await run(RO, alice, `icm db1 ${touch('granted')}`);
    expect(before.outcome.ok).toBe(false);
    const granted = await run(
      OPS,
      alice,
      `Grant-ChannelPermission -Channel ${RO} -Cmdlet Invoke-Command -ComputerName db1 -MaxComputers 1`,
    );
    expect(granted.outcome.ok).toBe(true);
    const id = /Granted rule (chat:\d+)/.exec(granted.sink.text())?.[1];
    expect(id).toBeDefined();
    const list = await run(RO, alice, 'Get-ChannelPermission');
    expect(list.sink.text()).toContain(id!);
    expect(list.sink.text()).toContain('file:read-only');

    const after = await run(RO, alice, `icm db1 ${touch('granted')}`);
    expect(after.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'granted'))).toBe(true);

    const revoked = await run(OPS, alice, `Revoke-ChannelPermission ${id}`);
    expect(revoked.outcome.ok).toBe(true);
    const again = await run(RO, alice, `icm db1 { true }`);
    expect(again.outcome.ok).toBe(false);
    expect(
      readAudit(rt.app.db)
        .filter((r) => r.kind === 'admin' && r.reason.includes(`rule ${id} `))
        .map((r) => r.reason),
    ).toEqual([expect.stringContaining(`rule ${id} granted to ${RO}`), expect.stringContaining(`rule ${id} (`)]);
    expect(verifyAuditChain(rt.app.db)).toMatchObject({ ok: true });
  });
});

describe('policy file hot reload through the running bot', () => {
  it('a good edit takes effect; a broken one keeps the last good policy', async () => {
    const reloaded = () => permissions.instance()!.status().loadedAt;
    const before = reloaded();
    writeFileSync(policyFile, policy(`  - name: db\n    channel: ${OPS}\n    computers: [db1]\n    cmdlets: [Invoke-Command]\n`));
    const deadline = Date.now() + 5000;
    while (reloaded() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const r = await run(OPS, alice, `icm db1 ${touch('reloaded')}`);
    expect(r.outcome.ok).toBe(true);
    expect(existsSync(join(markers, 'reloaded'))).toBe(true);

    writeFileSync(policyFile, policy('  - name: [broken\n'));
    while (permissions.instance()!.status().error === undefined && Date.now() < deadline + 5000)
      await new Promise((r) => setTimeout(r, 20));
    expect(permissions.instance()!.status().error).toMatch(/policy\.yaml line \d+/);
    const still = await run(OPS, alice, `icm db1 { true }`);
    expect(still.outcome.ok).toBe(true);
    const shown = await run(OPS, alice, 'Get-ChannelPermission');
    expect(shown.sink.text()).toContain('The policy file has errors; the last good version');
  });
});
