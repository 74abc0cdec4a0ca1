import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import type { Block } from '../../src/messages/model.js';

/** Job cmdlets, assignments, help and autocomplete through the core, with one real agent. */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: [
      { name: 'web1', tags: ['role=web'] },
      { name: 'db1', tags: ['role=db'] },
    ],
    env: { JOB_MAX_RUNTIME: '2500ms' },
  });
});

afterAll(async () => {
  await rt?.stop();
});

const run = (text: string) => rt.run(text);

function table(blocks: Block[]): { columns: string[]; rows: string[][] } | undefined {
  const t = blocks.find((b) => b.kind === 'table');
  return t && t.kind === 'table' ? { columns: t.columns, rows: t.rows } : undefined;
}

describe('job cmdlets', () => {
  it('stops a command that runs longer than JOB_MAX_RUNTIME and fails its child with the reason', async () => {
    const t0 = Date.now();
    const { sink, ok } = await run('icm web1 { sleep 10 }');
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(ok).toBe(false);
    expect(sink.threadBlocks().some((b) => b.kind === 'error' && /maximum runtime/.test(b.text))).toBe(true);
  });

  it('Receive-Job of a failed job shows its reason once and fails; assigned, the reason comes as an error', async () => {
    const started = await run('icm web1 { echo partial; exit 4 } -AsJob -JobName failing');
    const id = started.jobIds[0]!;
    await run(`Wait-Job -Id ${id}`);
    const shown = await run(`Receive-Job -Id ${id} -Keep`);
    expect(shown.ok).toBe(false);
    const everything = [...shown.sink.posts(), ...shown.sink.replies()].join('\n');
    expect(everything.match(/exited with code 4/g)).toHaveLength(1);
    expect(everything).toContain('partial');

    const assigned = await run(`$out = Receive-Job -Id ${id}`);
    expect(assigned.ok).toBe(false);
    expect(assigned.sink.posts()).toEqual([]);
    expect(assigned.sink.replies().join('\n')).toContain('exited with code 4');
  });

  it('-JobName makes a job, unless -AsJob:$false follows it (PowerShell applies them in typed order)', async () => {
    const named = await run('icm web1 { echo named } -JobName named1');
    expect(rt.app.store.getJob(named.jobIds[0]!)).toMatchObject({ name: 'named1', asJob: true });
    const sync = await run('icm web1 { echo inline } -JobName named2 -AsJob:$false');
    const job = rt.app.store.getJob(sync.jobIds[0]!);
    expect(job).toMatchObject({ name: 'named2', asJob: false, state: 'Completed' });
    expect(sync.sink.threadBlocks()).toEqual([{ kind: 'code', title: 'web1', text: 'inline' }]);
  });

  it('Wait-Job -Timeout ends without output or error; Wait-Job -Any returns the first finished job', async () => {
    const slow = await run('icm web1 { sleep 2 } -AsJob -JobName slow');
    const fast = await run('icm db1 { echo quick } -AsJob -JobName fast');
    const t0 = Date.now();
    const timedOut = await run(`Wait-Job -Id ${slow.jobIds[0]} -Timeout 0`);
    expect(timedOut.ok).toBe(true);
    expect(timedOut.sink.events).toEqual([]);
    // Well before the slow job ends (it sleeps 2 s): -Timeout 0 does not wait for it.
    expect(Date.now() - t0).toBeLessThan(1500);
    const any = await run(`Wait-Job -Id ${slow.jobIds[0]},${fast.jobIds[0]} -Any`);
    expect(table(any.sink.postBlocks())?.rows.map((r) => r[1])).toEqual(['fast']);
    const all = await run(`Wait-Job -Name slow,fast`);
    expect(table(all.sink.postBlocks())?.rows.map((r) => [r[1], r[3]])).toEqual([
      ['slow', 'Completed'],
      ['fast', 'Completed'],
    ]);
  });

  it('Get-Job filters by name wildcard and state and shows child jobs with their computers', async () => {
    const byName = await run('Get-Job -Name sl*');
    expect(table(byName.sink.postBlocks())?.rows.map((r) => r[1])).toEqual(['slow']);
    const missing = await run('Get-Job -Name nosuchjob');
    expect(missing.ok).toBe(false);
    expect(missing.sink.replies().join('\n')).toContain('The command cannot find the job because the job name nosuchjob was not found.');
    const children = await run('Get-Job -Name fast -IncludeChildJob');
    const rows = table(children.sink.postBlocks())!.rows;
    expect(rows).toHaveLength(2);
    expect(rows[1]?.[5]).toBe('db1');
    expect(Number(rows[1]?.[0])).toBe(Number(rows[0]?.[0]) + 1);
    const failed = await run('Get-Job -State Failed');
    expect(table(failed.sink.postBlocks())?.rows.every((r) => r[3] === 'Failed')).toBe(true);
  });

  it('Receive-Job refuses -AutoRemoveJob without -Wait, and -Wait -AutoRemoveJob removes the job', async () => {
    const started = await run('icm db1 { echo bye } -AsJob');
    const id = started.jobIds[0]!;
    const bad = await run(`Receive-Job ${id} -AutoRemoveJob`);
    expect(bad.ok).toBe(false);
    expect(bad.sink.replies().join('\n')).toContain('The -AutoRemoveJob parameter cannot be used without the -Wait parameter');
    const ok = await run(`Receive-Job ${id} -Wait -AutoRemoveJob`);
    expect(ok.sink.postBlocks().filter((b) => b.kind === 'code')).toEqual([{ kind: 'code', title: 'db1', text: 'bye' }]);
    expect(rt.app.store.getJob(id)).toBeUndefined();
  });
});

describe('assignments, agents, help, autocomplete', () => {
  it('assigns the output of a synchronous call without posting it; the variable shows it', async () => {
    const a = await run('$r = icm web1 { echo assigned-value }');
    expect(a.ok).toBe(true);
    expect(a.sink.threadBlocks().filter((b) => b.kind === 'code')).toEqual([]);
    const shown = await run('$r');
    expect(shown.sink.posts().join('\n')).toContain('assigned-value');
  });

  it('Get-Agent lists agents, filtered by -Name wildcards and -Tag, and feeds -ComputerName', async () => {
    const all = await run('Get-Agent');
    expect(table(all.sink.postBlocks())?.rows.map((r) => [r[0], r[1]])).toEqual([
      ['db1', 'Online'],
      ['web1', 'Online'],
    ]);
    const web = await run('Get-Agent -Tag role=web');
    expect(table(web.sink.postBlocks())?.rows.map((r) => r[0])).toEqual(['web1']);
    const named = await run('Get-Agent -Name d*');
    expect(table(named.sink.postBlocks())?.rows.map((r) => r[0])).toEqual(['db1']);
    const fed = await run('icm -ComputerName (Get-Agent -Tag role=db) { echo via-subexpression }');
    expect(fed.sink.threadBlocks().filter((b) => b.kind === 'code')).toEqual([{ kind: 'code', title: 'db1', text: 'via-subexpression' }]);
  });

  it('Get-Help shows the default, -Detailed, -Full and -Parameter views', async () => {
    const brief = (await run('Get-Help icm')).sink.posts().join('\n');
    expect(brief).toContain('SYNTAX');
    expect(brief).not.toContain('PARAMETERS');
    expect(brief).toContain('Get-Help Invoke-Command -Detailed');
    const detailed = (await run('Get-Help icm -Detailed')).sink.posts().join('\n');
    expect(detailed).toContain('    -ComputerName <string[]>');
    expect(detailed).not.toContain('Position?');
    const full = (await run('Get-Help icm -Full')).sink.posts().join('\n');
    expect(full).toMatch(/-ComputerName <string\[\]>[\s\S]*Position\?/);
    const one = (await run('Get-Help icm -Parameter ThrottleLimit')).sink.posts().join('\n');
    expect(one.trimStart().startsWith('-ThrottleLimit <int>')).toBe(true);
    expect(one).not.toContain('-ComputerName');
    const missing = await run('Get-Help icm -Parameter Nope');
    expect(missing.ok).toBe(false);
    expect(missing.sink.replies().join('\n')).toContain('No parameter matches criteria Nope.');
  });

  it('Get-Command lists commands by name, verb and noun, and -Syntax gives their syntax lines', async () => {
    const jobs = await run('Get-Command -Noun Job');
    const rows = table(jobs.sink.postBlocks())?.rows ?? [];
    expect(rows.map((r) => r[1])).toEqual(['Get-Job', 'Receive-Job', 'Remove-Job', 'Start-Job', 'Stop-Job', 'Wait-Job']);
    expect(rows.every((r) => r[0] === 'Cmdlet' && (r[2] ?? '').length > 0)).toBe(true);
    const gets = table((await run('Get-Command -Verb Get -Noun *Session*')).sink.postBlocks())?.rows.map((r) => r[1]);
    expect(gets).toEqual(['Get-PSSession']);
    const syntax = (await run('Get-Command rcjb -Syntax')).sink.posts().join('\n');
    expect(syntax.split('\n\n')).toHaveLength(6);
    expect(syntax).toContain('Receive-Job [-Job] <Job[]>');
    const unknown = await run('Get-Command Get-Jbo');
    expect(unknown.ok).toBe(false);
    expect(unknown.sink.replies().join('\n')).toContain("The term 'Get-Jbo' is not recognized");
  });

  it('completes computer names the channel may target and job ids of the channel', async () => {
    const user = { platform: 'console' as const, userId: 'console', displayName: 'tester' };
    expect(await rt.core.complete('console', user, 'computer', 'WE')).toEqual(['web1']);
    const jobs = await rt.core.complete('console', user, 'job', '');
    expect(jobs.length).toBeGreaterThan(0);
    const slackUser = { platform: 'slack' as const, userId: 'U1', displayName: 'someone' };
    // A channel with no rule may target nothing, and has no jobs.
    expect(await rt.core.complete('slack:T1/C1', slackUser, 'computer', '')).toEqual([]);
    expect(await rt.core.complete('slack:T1/C1', slackUser, 'job', '')).toEqual([]);
  });
});
