import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, RecordingSink, type TestRuntime } from '../helpers/runtime.js';
import { createPermissionsModule } from '../../src/permissions/module.js';
import { readAudit } from '../../src/audit/audit-log.js';
import type { IncomingCommand, Invoker } from '../../src/core/ports.js';

/**
 * Channels through the core with the real permissions module: jobs and variables belong to
 * the channel that made them, a refused command never reaches an agent, every command is
 * audited, and output that could not be posted stays in the store.
 */

const OPS = 'slack:T1/C1';
const OTHER = 'slack:T1/C2';
const NOBODY = 'slack:T9/C9';
let rt: TestRuntime;
let policyDir: string;
const permissions = createPermissionsModule();

beforeAll(async () => {
  policyDir = mkdtempSync(join(tmpdir(), 'policy-'));
  const policy = join(policyDir, 'policy.yml');
  writeFileSync(
    policy,
    ['rules:', `  - channels: [console, "${OPS}", "${OTHER}"]`, '    computers: [web*]', '    cmdlets: ["*"]', ''].join('\n'),
  );
  rt = await startTestRuntime({
    agents: [{ name: 'web1' }],
    authorizer: permissions.authorizer,
    extraCmdlets: permissions.extraCmdlets,
    env: { CHATOPS_POLICY_FILE: policy, CHATOPS_ADMINS: 'slack:U9' },
  });
});

afterAll(async () => {
  permissions.close();
  await rt?.stop();
  rmSync(policyDir, { recursive: true, force: true });
});

const ALICE: Invoker = { platform: 'slack', userId: 'U1', displayName: 'alice' };
/** A bot admin (CHATOPS_ADMINS). */
const ADMIN: Invoker = { platform: 'slack', userId: 'U9', displayName: 'admin' };

function cmd(text: string, channel: string, user: Invoker = ALICE): IncomingCommand {
  return { channel, user, text, source: 'command' };
}

async function run(text: string, channel: string, sink = new RecordingSink(), user: Invoker = ALICE) {
  const outcome = await rt.core.handle(cmd(text, channel, user), sink);
  return { sink, ...outcome };
}

describe('channel ownership', () => {
  it('another channel cannot see or touch a job, as if it did not exist', async () => {
    const a = await run('icm web1 { echo mine } -AsJob', OPS);
    const id = a.jobIds[0]!;
    await rt.app.jobs.waitFor(id);
    for (const line of [`Get-Job -Id ${id}`, `Receive-Job ${id}`, `Stop-Job ${id}`, `Remove-Job ${id}`]) {
      const r = await run(line, OTHER);
      expect(r.ok).toBe(false);
      expect(r.sink.replies().join('\n')).toContain(`The command cannot find a job with the job ID ${id}.`);
    }
    const listed = await run('Get-Job', OTHER);
    expect(listed.sink.posts().join('\n')).not.toContain(`Job${id}`);
    // The owner still has it, output unread.
    const mine = await run(`Receive-Job ${id}`, OPS);
    expect(mine.sink.shownBlocks().filter((b) => b.kind === 'code')).toEqual([{ kind: 'code', title: 'web1', text: 'mine' }]);
  });

  it('keeps variables per channel', async () => {
    await run("$servers = 'web1','web2'", OPS);
    const other = await run('Get-Variable servers', OTHER);
    expect(other.ok).toBe(false);
    expect(other.sink.replies().join('\n')).toContain("Cannot find a variable with the name 'servers'.");
    const own = await run('Get-Variable servers', OPS);
    expect(own.sink.posts().join('\n')).toMatch(/servers\s+web1, web2/);
  });

  it("another channel can neither list, remove nor use a channel's variables, its $servers or its $j", async () => {
    await run("$servers = 'web1'", OPS);
    const started = await run('$j = icm web1 { echo from-ops } -AsJob', OPS);
    const id = started.jobIds[0]!;
    await rt.app.jobs.waitFor(id);

    const listed = await run('Get-Variable', OTHER);
    expect(listed.sink.posts().join('\n')).not.toMatch(/servers|\bj\b/);
    const removed = await run('Remove-Variable servers, j', OTHER);
    expect(removed.ok).toBe(false);
    expect(removed.sink.replies().join('\n')).toContain("Cannot find a variable with the name 'servers'.");
    expect(removed.sink.replies().join('\n')).toContain("Cannot find a variable with the name 'j'.");

    // $j and $servers do not exist in the other channel: nothing is received or targeted.
    const piped = await run('$j | Receive-Job -Keep', OTHER);
    expect(piped.sink.postBlocks().filter((b) => b.kind === 'code')).toEqual([]);
    const byParam = await run('Receive-Job -Job $j -Keep', OTHER);
    expect(byParam.ok).toBe(false);
    expect(byParam.sink.posts().join('\n')).not.toContain('from-ops');
    const targeted = await run('icm -ComputerName $servers { echo from-other }', OTHER);
    expect(targeted.ok).toBe(false);
    expect(targeted.jobIds).toEqual([]);

    // Both are intact in their own channel.
    const own = await run('$j | Receive-Job', OPS);
    expect(own.sink.shownBlocks().filter((b) => b.kind === 'code')).toEqual([{ kind: 'code', title: 'web1', text: 'from-ops' }]);
    const vars = await run('Get-Variable servers', OPS);
    expect(vars.sink.posts().join('\n')).toMatch(/servers\s+web1/);
  });

  it("a bot admin reaches another channel's variables with -Scope; nobody else can", async () => {
    await run("$dbs = 'db1','db2'", OPS);
    const denied = await run(`Get-Variable -Scope '${OPS}'`, OTHER);
    expect(denied.ok).toBe(false);
    expect(denied.sink.replies().join('\n')).toContain("Only bot admins may use another channel's variables; slack:U1 is not one");

    const rows = (r: { sink: RecordingSink }) => r.sink.postBlocks().flatMap((b) => (b.kind === 'table' ? b.rows : []));
    const listed = await run(`Get-Variable dbs -Scope '${OPS}'`, OTHER, undefined, ADMIN);
    expect(rows(listed)).toEqual([[OPS, 'dbs', 'db1, db2']]);
    const everywhere = await run('Get-Variable dbs -Scope *', OTHER, undefined, ADMIN);
    expect(rows(everywhere)).toEqual([[OPS, 'dbs', 'db1, db2']]);

    expect((await run('Remove-Variable dbs -Scope *', OTHER, undefined, ADMIN)).sink.replies().join('\n')).toContain(
      'Remove-Variable -Scope takes one channel id, not *.',
    );
    const removed = await run(`Remove-Variable dbs -Scope '${OPS}'`, OTHER, undefined, ADMIN);
    expect(removed.ok).toBe(true);
    expect((await run('Get-Variable dbs', OPS)).sink.replies().join('\n')).toContain("Cannot find a variable with the name 'dbs'.");
  });
});

describe('refusals and audit', () => {
  it('refuses a channel no rule allows before anything reaches an agent, and audits it', async () => {
    const marker = join(rt.dir, 'ran-on-agent');
    const r = await run(`icm web1 { touch '${marker}' }`, NOBODY);
    expect(r.ok).toBe(false);
    expect(r.jobIds).toEqual([]);
    expect(r.sink.replies().join('\n')).toContain('This channel may not target web1');
    expect(r.sink.statusPosts()).toEqual([]);
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(marker)).toBe(false);

    const audit = readAudit(rt.app.db);
    const refused = audit.filter((x) => x.channel === NOBODY && x.decision === 'refused');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.reason).toContain('This channel may not target web1');
    const allowed = audit.filter((x) => x.channel === OPS && x.decision === 'allowed' && x.jobId !== undefined);
    expect(allowed.length).toBeGreaterThan(0);
  });

  it('refuses a line whole when its outer call is forbidden: a nested call in it never runs first', async () => {
    const marker = join(rt.dir, 'nested-ran');
    const r = await run(`icm db1 { echo outer } -ArgumentList (icm web1 { touch '${marker}'; echo inner })`, OPS);
    expect(r.ok).toBe(false);
    expect(r.jobIds).toEqual([]);
    expect(r.sink.replies().join('\n')).toContain('This channel may not target db1: no rule allows it');
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(marker)).toBe(false);
    const last = readAudit(rt.app.db).at(-1)!;
    expect(last).toMatchObject({ channel: OPS, decision: 'refused', targets: ['db1'] });

    // Allowed nesting still runs, and a nested call that decides the targets is checked when known.
    const ok = await run(`icm web1 { echo "got $1" } -ArgumentList (icm web1 { echo inner })`, OPS);
    expect(ok.ok).toBe(true);
    expect(ok.sink.text()).toContain('got inner');
    const byAgent = await run('icm (Get-Agent -Name web1) { echo via-agent }', OPS);
    expect(byAgent.ok).toBe(true);
  });

  it('refuses a message whole when one of its statements is refused: no earlier statement runs', async () => {
    const first = join(rt.dir, 'first-statement-ran');
    const r = await run(`icm web1 { touch '${first}' }; icm db1 { echo never }`, OPS);
    expect(r.ok).toBe(false);
    expect(r.jobIds).toEqual([]);
    expect(r.sink.replies().join('\n')).toContain('This channel may not target db1: no rule allows it');
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(first)).toBe(false);

    // A statement that reads a variable an earlier statement of the message assigns is checked
    // when it runs, with the value it really gets (never refused for a value it does not get).
    const dependent = await run("$c = 'web1'; icm $c { echo dependent }", OPS);
    expect(dependent.ok).toBe(true);
    expect(dependent.sink.text()).toContain('dependent');
  });

  it('audits a line that does not parse, and shows the error only to its author', async () => {
    const r = await run('Invoke-Command -ComputerName web1 -ScriptBlock { echo', OPS);
    expect(r.ok).toBe(false);
    expect(r.sink.replies()).toHaveLength(1);
    expect(r.sink.posts()).toEqual([]);
    const last = readAudit(rt.app.db).at(-1)!;
    expect(last.decision).toBe('refused');
    expect(last.command).toContain('Invoke-Command -ComputerName web1');
  });
});

describe('failed posts', () => {
  it('keeps output that could not be posted; the status says so and Receive-Job shows it later', async () => {
    const failing = new RecordingSink({ failWhen: (type) => type === 'thread' });
    const r = await run('icm web1 { echo kept-safe }', OPS, failing);
    expect(r.ok).toBe(false);
    const id = r.jobIds[0]!;
    expect(failing.latestStatus()?.notPosted).toMatch(/results/);
    expect(failing.latestStatus()?.hasMoreData).toBe(true);
    const later = await run(`Receive-Job ${id}`, OPS);
    expect(later.sink.shownBlocks().filter((b) => b.kind === 'code')).toEqual([{ kind: 'code', title: 'web1', text: 'kept-safe' }]);
  });
});
