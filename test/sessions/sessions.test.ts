import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingSink, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Persistent sessions (New-PSSession, Invoke-Command -Session, Get-PSSession, Remove-PSSession)
 * through real agents: bash sessions on web1 and web2, a real pwsh session on ps1. The bot keeps
 * the records; the sessions themselves are long-lived shells and runspaces on the agents.
 */

const pwsh = execFileSync('bash', [join(__dirname, '..', '..', 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' }).trim();

let rt: TestRuntime;
const OTHER = { channel: 'slack:T1/C2', user: { platform: 'slack' as const, userId: 'U2', displayName: 'bob' } };

beforeAll(async () => {
  const policy = join(mkdtempSync(join(tmpdir(), 'sessions-policy-')), 'policy.yml');
  writeFileSync(
    policy,
    ['rules:', `  - channels: [console, "${OTHER.channel}"]`, '    computers: ["*"]', '    cmdlets: ["*"]', ''].join('\n'),
  );
  rt = await startTestRuntime({
    env: { CHATOPS_POLICY_FILE: policy },
    runbooks: { 'count.sh': 'n=$((${n:-0} + 1)); echo "run $n"\n', 'hello.ps1': "'hello from ps1'\n" },
    agents: [
      { name: 'web1', args: ['--configuration', 'bash'] },
      { name: 'web2', args: ['--configuration', 'bash'] },
      { name: 'ps1', env: { PATH: `${dirname(pwsh)}:${process.env.PATH ?? ''}` }, args: ['--configuration', 'Microsoft.PowerShell'] },
    ],
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

/** The code blocks a command showed (in the channel and in its thread), by title. */
function shown(r: Awaited<ReturnType<TestRuntime['run']>>): Array<{ title?: string; text: string }> {
  return r.sink
    .shownBlocks()
    .flatMap((b) => (b.kind === 'code' ? [{ ...(b.title !== undefined ? { title: b.title } : {}), text: b.text }] : []));
}

function tableRows(r: Awaited<ReturnType<TestRuntime['run']>>): string[][] {
  return r.sink.shownBlocks().flatMap((b) => (b.kind === 'table' ? b.rows : []));
}

describe('persistent sessions', () => {
  it('New-PSSession opens one session per computer, shown as PowerShell shows PSSessions, kept in $s', async () => {
    const opened = await rt.run('$s = New-PSSession web1,web2 -Name a,b');
    expect(opened.ok, opened.sink.text()).toBe(true);
    const listed = await rt.run('$s');
    const rows = tableRows(listed);
    expect(rows.map((r) => [r[1], r[2], r[3], r[4], r[5], r[6]])).toEqual([
      ['a', 'web1', 'RemoteMachine', 'Opened', 'bash', 'Available'],
      ['b', 'web2', 'RemoteMachine', 'Opened', 'bash', 'Available'],
    ]);
    await rt.run('Remove-PSSession -Session $s');
  });

  it('variables, functions and the current directory persist from one Invoke-Command -Session to the next', async () => {
    await rt.run('$s = New-PSSession web1,web2');
    const first = await rt.run('Invoke-Command -Session $s { x=41; greet() { echo "hi $1"; }; cd /tmp; echo set }');
    expect(first.ok, first.sink.text()).toBe(true);
    const second = await rt.run('Invoke-Command -Session $s { echo $((x + 1)); greet you; pwd }');
    expect(second.ok, second.sink.text()).toBe(true);
    const blocks = shown(second);
    const text = blocks.map((b) => b.text).join('\n');
    expect(text).toContain('42\nhi you\n/tmp');
    expect(blocks.some((b) => b.title?.includes('web1') && b.title.includes('web2'))).toBe(true);
    // A fresh -ComputerName call runs elsewhere: nothing of the session is there.
    const fresh = await rt.run('Invoke-Command -ComputerName web1 { echo "x=${x:-unset}" }');
    expect(shown(fresh).map((b) => b.text)).toEqual(['x=unset']);
    await rt.run('Get-PSSession | Remove-PSSession');
  });

  it('arguments and $Using: values reach a session as data; output framing survives whatever the script prints', async () => {
    await rt.run('$s = New-PSSession web1');
    await rt.run("$v = 'a b; $(rm -rf /nope)'");
    const r = await rt.run("Invoke-Command -Session $s { printf 'no newline'; printf '%s|' \"$1\" \"$USING_V\" } -ArgumentList 'one two'");
    expect(r.ok, r.sink.text()).toBe(true);
    expect(shown(r).map((b) => b.text)).toEqual(['no newline' + 'one two|a b; $(rm -rf /nope)|']);
    const failing = await rt.run('Invoke-Command -Session $s { echo before; false }');
    expect(failing.ok).toBe(false);
    expect(failing.sink.text()).toContain('The command exited with code 1');
    // The session lives on after a failed command.
    const after = await rt.run('Invoke-Command -Session $s { echo still-here }');
    expect(shown(after).map((b) => b.text)).toEqual(['still-here']);
    await rt.run('Remove-PSSession -Session $s');
  });

  it('-FilePath runs a runbook in the session (state kept); a runbook of the other kind is refused, naming the session', async () => {
    await rt.run('$s = New-PSSession web1');
    await rt.run('Invoke-Command -Session $s -FilePath count.sh');
    const second = await rt.run('Invoke-Command -Session $s -FilePath count.sh');
    expect(shown(second).map((b) => b.text)).toEqual(['run 2']);
    const wrong = await rt.run('Invoke-Command -Session $s -FilePath hello.ps1');
    expect(wrong.ok).toBe(false);
    expect(wrong.sink.replies().join('\n')).toMatch(/runs under Microsoft\.PowerShell, but the session Runspace\d+ on web1 runs bash/);
    await rt.run('Remove-PSSession -Session $s');
  });

  it('a real pwsh session keeps its runspace: variables, functions and location persist', async () => {
    const opened = await rt.run('$p = New-PSSession ps1');
    expect(opened.ok, opened.sink.text()).toBe(true);
    expect(tableRows(await rt.run('$p'))[0]?.[5]).toBe('Microsoft.PowerShell');
    await rt.run("Invoke-Command -Session $p { $n = 41; function Get-Answer { $n + 1 }; Set-Location /tmp; 'ok' }");
    const r = await rt.run('Invoke-Command -Session $p { Get-Answer; (Get-Location).Path }');
    expect(r.ok, r.sink.text()).toBe(true);
    expect(
      shown(r)
        .map((b) => b.text)
        .join('\n'),
    ).toContain('42\n/tmp');
    await rt.run('Remove-PSSession -Session $p');
  }, 60_000);

  it('Stop-Job stops the command running in a session and the session stays, its state kept (pwsh and bash)', async () => {
    await rt.run('$p = New-PSSession ps1');
    await rt.run("Invoke-Command -Session $p { $kept = 'kept' }");
    const started = await rt.run('$j = Invoke-Command -Session $p { Start-Sleep 30 } -AsJob');
    expect(started.ok, started.sink.text()).toBe(true);
    const stopped = await rt.run('Stop-Job $j -PassThru');
    expect(stopped.sink.text()).toContain('Stopped');
    const after = await rt.run('Invoke-Command -Session $p { $kept }');
    expect(after.ok, after.sink.text()).toBe(true);
    expect(shown(after).map((b) => b.text)).toEqual(['kept']);
    await rt.run('Remove-PSSession -Session $p');

    // bash: a stop is Ctrl-C at a bash prompt. The rest of the stopped line does not run (not
    // even after a function returns); what ran before it stays.
    await rt.run('$b = New-PSSession web1');
    await rt.run('Invoke-Command -Session $b { declare -a kept=(a b); f() { sleep 30; echo after-f; } }');
    await rt.run('$k = Invoke-Command -Session $b { half=$((20+1)); f; echo after-line } -AsJob');
    const stoppedBash = await rt.run('Stop-Job $k -PassThru');
    expect(stoppedBash.sink.text()).toContain('Stopped');
    await rt.run('Wait-Job $k');
    const got = await rt.run('Receive-Job $k');
    expect(got.sink.text()).not.toMatch(/after-f|after-line/);
    const afterBash = await rt.run('Invoke-Command -Session $b { echo "${kept[1]} $half" }');
    expect(afterBash.ok, afterBash.sink.text()).toBe(true);
    expect(shown(afterBash).map((b) => b.text)).toEqual(['b 21']);
    expect(tableRows(await rt.run('$b'))[0]?.[4]).toBe('Opened');

    // A command that ignores the interrupt is ended with its session, which says so.
    await rt.run("$i = Invoke-Command -Session $b { trap '' INT; sleep 30 } -AsJob");
    await rt.run('Stop-Job $i');
    const deadline = Date.now() + 15_000;
    while (tableRows(await rt.run('$b'))[0]?.[4] !== 'Closed' && Date.now() < deadline) await new Promise((x) => setTimeout(x, 50));
    const listed = await rt.run('Get-PSSession');
    expect(tableRows(listed)[0]?.[4]).toBe('Closed');
    expect(listed.sink.text()).toContain('The command running in it was stopped');
    await rt.run('Remove-PSSession -Session $b');
  }, 60_000);

  it('Enter-PSSession gives a remote prompt: each line runs in the session until exit; its own session is closed then, an entered one kept', async () => {
    // The prompt lives in one console host (scope host-1); rt.run (no scope) is another place.
    const at = async (text: string, scope = 'host-1') => {
      const sink = new RecordingSink();
      const outcome = await rt.core.handle(
        {
          channel: 'console',
          user: { platform: 'console', userId: 'console', displayName: 'tester' },
          text,
          source: 'command',
          ...(scope !== undefined ? { scope } : {}),
        },
        sink,
      );
      return { ...outcome, sink };
    };
    const entered = await at('Enter-PSSession web1');
    expect(entered.ok, entered.sink.text()).toBe(true);
    expect(entered.prompt).toBe('[web1]: PS>');
    expect(tableRows(await rt.run('Get-PSSession'))).toHaveLength(1);
    expect((await at('z=5; cd /tmp')).prompt).toBe('[web1]: PS>');
    const line = await at('echo "z=$z in $(pwd)"');
    expect(line.ok, line.sink.text()).toBe(true);
    expect(line.sink.text()).toContain('z=5 in /tmp');
    // Another console host (scope) has its own prompt: not in the session.
    const elsewhere = await at('Get-PSSession', 'host-2');
    expect(elsewhere.prompt).toBeUndefined();
    expect(tableRows(elsewhere)).toHaveLength(1);
    const left = await at('exit');
    expect(left.prompt).toBeUndefined();
    expect(tableRows(await rt.run('Get-PSSession'))).toEqual([]);

    await rt.run('$s = New-PSSession web2 -Name keep');
    expect((await at('Enter-PSSession -Session $s')).prompt).toBe('[web2]: PS>');
    expect((await at('Exit-PSSession')).prompt).toBeUndefined();
    expect(tableRows(await rt.run('Get-PSSession')).map((r) => [r[1], r[4]])).toEqual([['keep', 'Opened']]);
    await rt.run('Remove-PSSession -Session $s');
  });

  it("-AsJob on sessions: a job whose children run in the sessions; the session is Busy meanwhile and refuses more, in pwsh 7.6's words", async () => {
    await rt.run('$s = New-PSSession web1');
    await rt.run('Invoke-Command -Session $s { y=7 }');
    const started = await rt.run('$j = Invoke-Command -Session $s { sleep 2; echo "y=$y" } -AsJob');
    expect(started.ok, started.sink.text()).toBe(true);
    const rows = tableRows(await rt.run('Get-PSSession'));
    expect(rows[0]?.[6]).toBe('Busy');
    const name = rows[0]![1];
    // Synchronous: refused before anything runs (pwsh over SSH: the same two errors, at once).
    const busy = await rt.run('Invoke-Command -Session $s { echo second }');
    expect(busy.ok).toBe(false);
    expect(busy.sink.text()).toMatch(
      new RegExp(
        `The session ${name}, [0-9a-f-]{36}, web1 is not available to run commands\\.  The session availability is Busy\\.\\n` +
          'No valid sessions were specified\\.  Ensure you provide valid sessions that are in the Opened state and are available to run commands\\.',
      ),
    );
    // -AsJob: a job whose child fails as pwsh's does.
    await rt.run('$second = Invoke-Command -Session $s { echo second } -AsJob');
    await rt.run('Wait-Job $second');
    const failed = await rt.run('Receive-Job $second');
    expect(failed.sink.text()).toContain(
      'The pipeline was not run because a pipeline is already running. Pipelines cannot be run concurrently.',
    );
    await rt.run('Wait-Job $j');
    const received = await rt.run('Receive-Job $j');
    expect(shown(received).map((b) => b.text)).toEqual(['y=7']);
    expect(tableRows(await rt.run('Get-PSSession'))[0]?.[6]).toBe('Available');
    await rt.run('Remove-PSSession -Session $s');
  });

  it('Get-PSSession filters by Name, Id, ComputerName and State; Remove-PSSession by Id, Name, ComputerName and pipeline', async () => {
    const opened = await rt.run('New-PSSession web1,web2,web1 -Name n1,n2,n3');
    expect(opened.ok, opened.sink.text()).toBe(true);
    const listedAll = await rt.run('Get-PSSession');
    const ids = tableRows(listedAll).map((r) => r[0]!);
    expect(ids).toHaveLength(3);
    expect(tableRows(await rt.run('Get-PSSession -Name n2')).map((r) => r[1])).toEqual(['n2']);
    expect(tableRows(await rt.run(`Get-PSSession -Id ${ids[0]}`)).map((r) => r[1])).toEqual(['n1']);
    expect(tableRows(await rt.run('Get-PSSession -ComputerName web1')).map((r) => r[1])).toEqual(['n1', 'n3']);
    // -State filters the sessions to computers (PowerShell binds it only with -ComputerName and the like).
    expect(tableRows(await rt.run('Get-PSSession -ComputerName web* -State Opened'))).toHaveLength(3);
    expect(tableRows(await rt.run('Get-PSSession -ComputerName web* -State Broken'))).toEqual([]);
    const missing = await rt.run('Get-PSSession -Id 999');
    expect(missing.sink.replies().join('\n')).toContain('The remote session with the session ID 999 is not available.');
    await rt.run('Remove-PSSession -Name n2');
    await rt.run(`Remove-PSSession -Id ${ids[0]}`);
    expect(tableRows(await rt.run('Get-PSSession')).map((r) => r[1])).toEqual(['n3']);
    await rt.run('Get-PSSession -ComputerName web1 | Remove-PSSession');
    expect(tableRows(await rt.run('Get-PSSession'))).toEqual([]);
  });

  it("an agent restart leaves its sessions Broken, and a command on one fails with PowerShell's message", async () => {
    await rt.run('$s = New-PSSession web2');
    await rt.agent('web2').kill();
    await rt.agent('web2').restart();
    const deadline = Date.now() + 10_000;
    while (tableRows(await rt.run('Get-PSSession'))[0]?.[4] !== 'Broken' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(tableRows(await rt.run('Get-PSSession'))[0]?.[4]).toBe('Broken');
    const r = await rt.run('Invoke-Command -Session $s { echo hi }');
    expect(r.ok).toBe(false);
    expect(r.sink.text()).toMatch(
      /Because the session state for session Runspace\d+, [0-9a-f-]+, web2 is not equal to Open, you cannot run a command in the session\. {2}The session state is Broken\./,
    );
    await rt.run('Remove-PSSession -Session $s');
  });

  it('a session whose shell ends by itself is Closed, with the reason the agent gave', async () => {
    await rt.run('$s = New-PSSession web1');
    const r = await rt.run('Invoke-Command -Session $s { exit 3 }');
    expect(r.ok).toBe(false);
    const deadline = Date.now() + 10_000;
    while (tableRows(await rt.run('Get-PSSession'))[0]?.[4] !== 'Closed' && Date.now() < deadline)
      await new Promise((x) => setTimeout(x, 50));
    const listed = await rt.run('Get-PSSession');
    expect(tableRows(listed)[0]?.[4]).toBe('Closed');
    expect(listed.sink.text()).toContain("The session's bash exited with code 3");
    await rt.run('Remove-PSSession -Session $s');
  });

  it("another channel cannot see, use or remove a channel's sessions", async () => {
    await rt.run('$s = New-PSSession web1');
    const other = OTHER;
    expect(tableRows(await rt.run('Get-PSSession', other))).toEqual([]);
    const id = tableRows(await rt.run('$s'))[0]?.[0];
    const removed = await rt.run(`Remove-PSSession -Id ${id}`, other);
    expect(removed.sink.replies().join('\n')).toContain(`The remote session with the session ID ${id} is not available.`);
    expect(tableRows(await rt.run('Get-PSSession'))).toHaveLength(1);
    await rt.run('Remove-PSSession -Session $s');
  });
});

/**
 * The seed documents' session examples, rewritten for chat: the computers are our agents
 * (phineas, ferb, perry and Server01/02 become web1, web2 and ps1, which runs real pwsh), and
 * -Credential is left out (agents dial in; chat takes no credentials). Each row is typed as is.
 */
describe('seed examples with sessions', () => {
  const rows: Array<{ example: string; lines: string[]; expect: (texts: string[]) => void }> = [
    {
      example: 'about_Remote: $sessions = New-PSSession phineas,ferb,perry; Invoke-Command { ... } -Session $sessions',
      lines: ['$sessions = New-PSSession web1,web2', 'Invoke-Command { hostname > /dev/null && echo up } -Session $sessions'],
      expect: (t) => expect(t).toEqual(['up']),
    },
    {
      example:
        'Invoke-Command Example 2: $s = New-PSSession -ComputerName Server02 -Credential ...; Invoke-Command -Session $s -ScriptBlock {Get-Culture}',
      lines: ['$s = New-PSSession -ComputerName ps1', 'Invoke-Command -Session $s -ScriptBlock {(Get-Culture).GetType().Name}'],
      expect: (t) => expect(t).toEqual(['CultureInfo']),
    },
    {
      example: 'Invoke-Command Example 3: $p set in one call is read by the next in the same session',
      lines: [
        '$s = New-PSSession -ComputerName ps1',
        'Invoke-Command -Session $s -ScriptBlock {$p = Get-Process pwsh}',
        'Invoke-Command -Session $s -ScriptBlock {@($p).Count -gt 0}',
      ],
      expect: (t) => expect(t).toEqual(['True']),
    },
    {
      example: 'Invoke-Command Example 3, with -ComputerName instead: the variable is gone',
      lines: [
        'Invoke-Command -ComputerName ps1 -ScriptBlock {$p = Get-Process pwsh}',
        'Invoke-Command -ComputerName ps1 -ScriptBlock {$null -eq $p}',
      ],
      expect: (t) => expect(t).toEqual(['True']),
    },
  ];
  for (const row of rows) {
    it(row.example, async () => {
      let last: Awaited<ReturnType<TestRuntime['run']>> | undefined;
      for (const line of row.lines) {
        last = await rt.run(line);
        expect(last.ok, `${line}\n${last.sink.text()}`).toBe(true);
      }
      row.expect(shown(last!).map((b) => b.text));
      await rt.run('Get-PSSession | Remove-PSSession');
    }, 60_000);
  }

  it('Invoke-Command Example 9: $s = New-PSSession -ComputerName Server01, Server02; Invoke-Command -Session $s -ScriptBlock {...} -AsJob', async () => {
    await rt.run('$s = New-PSSession -ComputerName web1, web2');
    const started = await rt.run('$j = Invoke-Command -Session $s -ScriptBlock {echo event} -AsJob');
    expect(started.ok, started.sink.text()).toBe(true);
    await rt.run('Wait-Job $j');
    const received = await rt.run('Receive-Job $j');
    expect(shown(received).map((b) => b.text)).toEqual(['event']);
    await rt.run('Get-PSSession | Remove-PSSession');
  });
});
