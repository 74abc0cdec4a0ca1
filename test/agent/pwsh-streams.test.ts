import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Block } from '../../src/messages/model.js';
import { pathWithPwsh } from '../helpers/pwsh.js';
import { startTestRuntime, type TestRuntime, waitFor } from '../helpers/runtime.js';

/**
 * The Microsoft.PowerShell executor verified against real PowerShell 7.6 through the real bot and
 * real agent processes (two computers, so objects of both land in one table): ArgumentList and
 * $Using: binding with their types, every stream as PowerShell shows it, terminating and
 * non-terminating errors, exit codes, object tables and lists, progress in the live status, and
 * Stop-Job ending pwsh with its children. pwsh starts slowly, so each command checks several things.
 */

const LONG = 180_000;
let rt: TestRuntime;

beforeAll(async () => {
  const PATH = pathWithPwsh();
  rt = await startTestRuntime({
    agents: [
      { name: 'ps1', env: { PATH, PS_ROLE: 'first' }, args: ['--configuration', 'Microsoft.PowerShell'] },
      { name: 'ps2', env: { PATH, PS_ROLE: 'second' }, args: ['--configuration', 'Microsoft.PowerShell'] },
    ],
  });
}, 120_000);
afterAll(async () => {
  await rt?.stop();
});

/**
 * Runs `icm ...` as a job and receives it once finished: a synchronous call this slow would stream
 * its output as it arrives, while Receive-Job shows it all at once (identical outputs grouped).
 */
async function runJob(command: string): Promise<{ blocks: Block[]; jobId: number; ok: boolean; text: string }> {
  const started = await rt.run(command.replace(/^icm (\S+)/, 'icm $1 -AsJob'));
  const jobId = started.jobIds[0]!;
  await rt.app.jobs.waitFor(jobId, 150_000);
  const received = await rt.run(`Receive-Job ${jobId}`);
  return { blocks: [...received.sink.postBlocks(), ...received.sink.threadBlocks()], jobId, ok: received.ok, text: received.sink.text() };
}

/** The error records a job's children stored (message, category, FullyQualifiedErrorId, ...). */
function errorRecords(jobId: number): Array<Record<string, unknown>> {
  return rt.app.store
    .output(jobId)
    .filter((r) => r.stream === 'error')
    .flatMap((r) => r.data.trim().split('\n'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function code(blocks: Block[]): Array<{ title?: string; text: string }> {
  return blocks.flatMap((b) => (b.kind === 'code' ? [{ ...(b.title !== undefined ? { title: b.title } : {}), text: b.text }] : []));
}
function errors(blocks: Block[]): string[] {
  return blocks.flatMap((b) => (b.kind === 'error' ? [b.text] : []));
}
function texts(blocks: Block[]): string[] {
  return blocks.flatMap((b) => (b.kind === 'text' ? [b.text] : []));
}
function tables(blocks: Block[]): Array<{ columns: string[]; rows: string[][] }> {
  return blocks.flatMap((b) => (b.kind === 'table' ? [{ columns: b.columns, rows: b.rows }] : []));
}

describe('arguments and $Using: in real pwsh', () => {
  it(
    'binds -ArgumentList to param() by type and position, passes $Using: values with their types, and gives $args without param()',
    async () => {
      await rt.run('$s = \'a "quoted" $(Remove-Item /)\'');
      await rt.run('$n = 5');
      await rt.run('$flag = $true');
      await rt.run("$list = 1,'two',3");
      await rt.run("$map = @{ name = 'web'; port = 8080 }");
      const { blocks, ok, text } = await runJob(
        `icm ps1,ps2 -ArgumentList 6,'7',8,'rest' { ${[
          'param([int]$a, [int]$b, $c)',
          '"a*b=$($a * $b) c=$($c.GetType().Name) args=$($args -join \'|\')"',
          '$v = $Using:s; "s=$($v.GetType().Name):$v"',
          '$v = $Using:n; "n=$($v.GetType().Name):$v"',
          '$v = $Using:flag; "flag=$($v.GetType().Name):$v"',
          '$v = $Using:list; "list=$($v.GetType().Name):$($v.Count):$($v[1])"',
          '$v = $Using:map; "map=$($v.GetType().Name):$($v.name):$($v.port.GetType().Name)"',
          '& { "inner args=$($args.Count):$($args[1])" } x y',
        ].join('; ')} }`,
      );
      expect(ok, text).toBe(true);
      expect(code(blocks)).toEqual([
        {
          title: 'ps1, ps2',
          text: [
            'a*b=42 c=Int32 args=rest',
            's=String:a "quoted" $(Remove-Item /)',
            'n=Int32:5',
            'flag=Boolean:True',
            'list=Object[]:3:two',
            'map=Hashtable:web:Int32',
            'inner args=2:y',
          ].join('\n'),
        },
      ]);

      // Without param(), the values are $args; a missing mandatory parameter fails the child.
      const noParam = await runJob('icm ps1 -ArgumentList 1,\'b c\' { "count=$($args.Count) second=$($args[1])" }');
      expect(code(noParam.blocks)).toEqual([{ title: 'ps1', text: 'count=2 second=b c' }]);
    },
    LONG,
  );

  it(
    'a missing [Parameter(Mandatory)] value is a terminating error, not a prompt: the child fails with the record',
    async () => {
      const { blocks, ok, jobId } = await runJob('icm ps1 { param([Parameter(Mandatory)][string]$Name) "hello $Name" }');
      expect(ok).toBe(false);
      // As PowerShell's client prints the record (its category names it: no command of its own).
      expect(errors(blocks)).toEqual([
        'ps1: InvalidArgument: Cannot process command because of one or more missing mandatory parameters: Name.',
      ]);
      expect(rt.app.store.children(jobId)[0]).toMatchObject({
        state: 'Failed',
        reason: 'Cannot process command because of one or more missing mandatory parameters: Name.',
      });
      const rec = errorRecords(jobId).find((r) => r.terminating === true);
      expect(rec).toMatchObject({ fqid: 'MissingMandatoryParameter', category: expect.stringMatching(/^InvalidArgument: /) });

      // A synchronous call returns too (PowerShell's remote job would wait for input forever).
      const sync = await rt.run('icm ps1 { param([Parameter(Mandatory)]$Path, [Parameter(Mandatory)]$Count) $Path }');
      expect(sync.ok).toBe(false);
      expect(sync.sink.text()).toContain('Cannot process command because of one or more missing mandatory parameters: Path Count.');
      expect(rt.app.store.children(sync.jobIds[0]!)[0]?.state).toBe('Failed');
    },
    LONG,
  );

  it(
    "binds by [Parameter(Position)] and fails the child with PowerShell's error when a value does not convert to the parameter's type",
    async () => {
      const positions = await runJob(
        'icm ps1 -ArgumentList 1,\'b\' { param([Parameter(Position = 1)][string]$second, [Parameter(Position = 0)][int]$first) "first=$first second=$second" }',
      );
      expect(code(positions.blocks)).toEqual([{ title: 'ps1', text: 'first=1 second=b' }]);

      const bad = await runJob('icm ps1 -ArgumentList \'abc\' { param([int]$n) "n=$n" }');
      expect(bad.ok).toBe(false);
      const message =
        'Cannot process argument transformation on parameter \'n\'. Cannot convert value "abc" to type "System.Int32". Error: "The input string \'abc\' was not in a correct format."';
      expect(errors(bad.blocks)).toEqual([`ps1: InvalidData: ${message}`]);
      expect(code(bad.blocks)).toEqual([]);
      expect(rt.app.store.children(bad.jobId)[0]).toMatchObject({ state: 'Failed', reason: message });
      expect(errorRecords(bad.jobId)).toEqual([
        expect.objectContaining({ fqid: 'ParameterArgumentTransformationError', terminating: true }),
      ]);
    },
    LONG,
  );
});

describe('streams in real pwsh', () => {
  it(
    'shows each stream as PowerShell does: errors in ConciseView, WARNING:/VERBOSE:/DEBUG: lines, Write-Host and Write-Information as text',
    async () => {
      const { blocks, ok, text, jobId } = await runJob(
        [
          'icm ps1,ps2 {',
          "'out1'",
          "Write-Error 'boom'",
          "Write-Warning 'careful'",
          "Write-Verbose 'not shown: no preference'",
          "Write-Verbose 'asked for' -Verbose",
          "$VerbosePreference = 'Continue'; Write-Verbose 'verbose now'",
          "$DebugPreference = 'Continue'; Write-Debug 'debugging'",
          "Write-Host 'from host'",
          "Write-Information 'informed'",
          'Get-Item /does-not-exist',
          "'out2'",
          '}',
        ].join('; '),
      );
      // Non-terminating errors leave the children Completed.
      expect(ok, text).toBe(true);
      expect(rt.app.store.children(jobId).map((c) => c.state)).toEqual(['Completed', 'Completed']);
      expect(code(blocks)).toEqual([
        {
          title: 'ps1, ps2',
          text: [
            'out1',
            'WARNING: careful',
            'VERBOSE: asked for',
            'VERBOSE: verbose now',
            'DEBUG: debugging',
            'from host',
            'informed',
            'out2',
          ].join('\n'),
        },
      ]);
      expect(errors(blocks)).toEqual([
        "ps1, ps2: Write-Error: boom\nGet-Item: Cannot find path '/does-not-exist' because it does not exist.",
      ]);
      // The records keep message, category and FullyQualifiedErrorId.
      const stored = rt.app.store.output(jobId).filter((r) => r.stream === 'error');
      const recs = stored.flatMap((r) => r.data.trim().split('\n')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(recs).toContainEqual(
        expect.objectContaining({
          message: "Cannot find path '/does-not-exist' because it does not exist.",
          category: 'ObjectNotFound: (/does-not-exist:String) [Get-Item], ItemNotFoundException',
          fqid: 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand',
          terminating: false,
        }),
      );
    },
    LONG,
  );

  it(
    'throw, -ErrorAction Stop and a parse error fail the child with the record; exit 3 and a native exit code complete it with $LASTEXITCODE',
    async () => {
      const failing = await runJob(
        "icm ps1,ps2 { 'before'; if ($env:PS_ROLE -eq 'first') { throw 'bad thing' } else { Get-Item /nope -ErrorAction Stop }; 'never' }",
      );
      expect(failing.ok).toBe(false);
      const fb = failing.blocks;
      expect(code(fb)).toEqual([{ title: 'ps1, ps2', text: 'before' }]);
      expect(errors(fb).sort()).toEqual(
        // As PowerShell's client prints remote errors: a thrown string is named by its category.
        ['ps1: OperationStopped: bad thing', "ps2: Get-Item: Cannot find path '/nope' because it does not exist."].sort(),
      );
      const failedChildren = rt.app.store.children(failing.jobId);
      expect(failedChildren.map((c) => [c.computer, c.state, c.reason]).sort()).toEqual([
        ['ps1', 'Failed', 'bad thing'],
        ['ps2', 'Failed', "Cannot find path '/nope' because it does not exist."],
      ]);

      // A parse error: nothing of the script runs, the child fails with the parser's record (its line
      // and place shown, as PowerShell shows a parse error).
      const parse = await runJob("icm ps1 { 'not run'; $x = (1 + ) }");
      expect(parse.ok).toBe(false);
      expect(errors(parse.blocks)).toEqual([
        [
          'ps1: ParserError: ',
          'Line |',
          // The script block's text, from the space after its brace.
          "   1 |   'not run'; $x = (1 + )",
          '     |                       ~',
          "     | You must provide a value expression following the '+' operator.",
        ].join('\n'),
      ]);
      expect(code(parse.blocks)).toEqual([]);
      expect(rt.app.store.children(parse.jobId)[0]).toMatchObject({
        state: 'Failed',
        reason: "You must provide a value expression following the '+' operator.",
      });
      expect(errorRecords(parse.jobId)).toEqual([
        expect.objectContaining({ category: expect.stringMatching(/^ParserError: /), fqid: 'ExpectedValueExpression', terminating: true }),
      ]);

      const exits = await runJob("icm ps1,ps2 { 'ran'; if ($env:PS_ROLE -eq 'first') { exit 3 } else { bash -c 'exit 4' } }");
      expect(exits.ok, exits.text).toBe(true);
      const eb = exits.blocks;
      expect(
        texts(eb)
          .filter((t) => t.includes('LASTEXITCODE'))
          .sort(),
        JSON.stringify(texts(eb)),
      ).toEqual(['ps1: $LASTEXITCODE = 3', 'ps2: $LASTEXITCODE = 4']);
      expect(
        rt.app.store
          .children(exits.jobId)
          .map((c) => [c.computer, c.state, c.exitCode])
          .sort(),
      ).toEqual([
        ['ps1', 'Completed', 3],
        ['ps2', 'Completed', 4],
      ]);

      // pwsh itself ending before the script did (no end record from the wrapper) fails the child:
      // the fault the stand-in pwsh was kept for, shown by real pwsh.
      const died = await runJob(
        "icm ps1,ps2 { if ($env:PS_ROLE -eq 'first') { [Environment]::Exit(7) } else { Stop-Process -Id $PID -Force }; 'never' }",
      );
      expect(died.ok).toBe(false);
      expect(died.text).not.toContain('never');
      const byComputer = Object.fromEntries(rt.app.store.children(died.jobId).map((c) => [c.computer, c]));
      expect(byComputer.ps1).toMatchObject({ state: 'Failed', exitCode: 7, reason: 'pwsh ended before the script finished (exit code 7)' });
      // pwsh as a .NET tool: a launcher that reports its host's SIGKILL as 137; pwsh itself is killed.
      expect(byComputer.ps2).toMatchObject({
        state: 'Failed',
        reason: expect.stringMatching(
          /^pwsh (ended before the script finished \(exit code 137: killed by signal SIGKILL\)|was killed by signal SIGKILL)$/,
        ),
      });
      expect(errors(died.blocks).sort()).toEqual([
        expect.stringContaining('pwsh ended before the script finished (exit code 7)'),
        expect.stringContaining('killed by signal SIGKILL'),
      ]);
    },
    LONG,
  );

  it(
    'shows the latest Write-Progress of each computer in the live status, never as output lines',
    async () => {
      // -AsJob: the status is watched while the job runs.
      const { sink } = await rt.run(
        'icm ps1,ps2 -AsJob { foreach ($i in 1..40) { Write-Progress -Activity "Copying on $env:PS_ROLE" -Status "file $i" -PercentComplete ($i * 2); Start-Sleep -Milliseconds 250 }; \'copied\' }',
      );
      const jobId = sink.latestStatus()!.jobId;
      const progressOf = (detail: string[], computer: string): string[] => detail.filter((l) => l.startsWith(`${computer}: Copying on `));
      await waitFor(
        () => {
          const detail = sink.latestStatus()?.detail ?? [];
          return (
            /^ps1: Copying on first: file \d+ \d+%$/.test(progressOf(detail, 'ps1')[0] ?? '') &&
            /^ps2: Copying on second: file \d+ \d+%$/.test(progressOf(detail, 'ps2')[0] ?? '')
          );
        },
        60_000,
        "both computers' progress in the status",
      );
      // The latest only: one line per computer, moving on.
      const first = Number(/file (\d+)/.exec(progressOf(sink.latestStatus()!.detail ?? [], 'ps1')[0]!)![1]);
      await waitFor(
        () => Number(/file (\d+)/.exec(progressOf(sink.latestStatus()?.detail ?? [], 'ps1')[0] ?? '')?.[1] ?? 0) > first,
        60_000,
        'newer progress',
      );
      for (const e of sink.events) {
        const b = e.type === 'post' || e.type === 'update' ? e.message.blocks.find((x) => x.kind === 'status') : undefined;
        if (b?.kind !== 'status') continue;
        for (const c of ['ps1', 'ps2']) expect(progressOf(b.status.detail ?? [], c).length).toBeLessThanOrEqual(1);
      }
      await rt.app.jobs.waitFor(jobId, 60_000);
      const received = await rt.run(`Receive-Job ${jobId}`);
      expect(code([...received.sink.postBlocks(), ...received.sink.threadBlocks()])).toEqual([{ title: 'ps1, ps2', text: 'copied' }]);
      expect(received.sink.text()).not.toContain('Copying');
      // Finished: no progress left in the status.
      await waitFor(() => !(sink.latestStatus()?.detail ?? []).some((l) => l.includes('Copying')), 10_000, 'progress to leave the status');

      // A synchronous call streams its output as it comes: progress never becomes an output line.
      const sync = await rt.run(
        'icm ps1 { foreach ($i in 1..16) { Write-Progress -Activity \'Sync\' -Status "step $i"; if ($i % 4 -eq 0) { "line $i" }; Start-Sleep -Milliseconds 250 } }',
      );
      expect(sync.ok, sync.sink.text()).toBe(true);
      const shown = sync.sink.shownBlocks().filter((b) => b.kind !== 'status');
      expect(
        code(shown)
          .map((c) => c.text)
          .join('\n'),
      ).toBe(['line 4', 'line 8', 'line 12', 'line 16'].join('\n'));
      expect(JSON.stringify(shown)).not.toContain('Sync');
    },
    LONG,
  );

  it(
    'Stop-Job ends pwsh and the processes it started',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chatops-pwsh-stop-'));
      const pidFile = join(dir, 'pids');
      const { sink } = await rt.run(
        `icm ps1 -AsJob -ArgumentList '${pidFile}' { param($f) Set-Content $f "$PID"; bash -c "sleep 300 & echo \\$! >> $f; wait" }`,
      );
      const jobId = sink.latestStatus()!.jobId;
      await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim().split('\n').length === 2, 60_000, 'pwsh and sleep');
      const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
      await rt.run(`Stop-Job ${jobId}`);
      const job = await rt.app.jobs.waitFor(jobId, 30_000);
      expect(job?.state).toBe('Stopped');
      await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'pwsh and its child to end');
    },
    LONG,
  );
});

describe('objects from real pwsh', () => {
  it(
    'one table per kind across computers with PSComputerName last, the type view columns, lists for five or more properties',
    async () => {
      const { blocks, ok, text } = await runJob(
        [
          'icm ps1,ps2 {',
          'Get-Process -Id $PID',
          "[pscustomobject]@{ Name = 'svc'; Port = 80; PSComputerName = 'spoofed' }",
          "[pscustomobject]@{ Name = 'one' }",
          'Get-Item /etc/hostname',
          "Get-Date -Date '2024-01-02T03:04:05'",
          '42',
          '}',
        ].join('; '),
      );
      expect(ok, text).toBe(true);
      const ts = tables(blocks);
      const proc = ts.find((t) => t.columns.includes('ProcessName'))!;
      expect(proc.columns).toEqual(['NPM(K)', 'PM(M)', 'WS(M)', 'CPU(s)', 'Id', 'SI', 'ProcessName', 'PSComputerName']);
      // pwsh installed as a .NET tool runs in the dotnet host.
      expect(proc.rows.map((r) => r[7]).sort()).toEqual(['ps1', 'ps2']);
      for (const r of proc.rows) expect(r[6]).toMatch(/^(pwsh|dotnet)$/);
      // One property of its own: a table (with the PSComputerName, RunspaceId and PSShowComputerName a
      // remote client adds, four properties).
      expect(ts.find((t) => t.columns[0] === 'Name' && t.columns.length === 2)).toEqual({
        columns: ['Name', 'PSComputerName'],
        rows: expect.arrayContaining([
          ['one', 'ps1'],
          ['one', 'ps2'],
        ]),
      });
      // Two of its own make five: a list, as PowerShell's client shows it; the computer's own
      // PSComputerName replaces one the script set.
      const list = code(blocks).find((c) => c.text.startsWith('Name '))!;
      expect(list.title).toBeUndefined();
      expect(list.text.split('\n\n').sort()).toEqual(
        ['ps1', 'ps2'].map((c) => ['Name           : svc', 'Port           : 80', `PSComputerName : ${c}`].join('\n')),
      );
      const files = ts.find((t) => t.columns.includes('UnixMode'))!;
      expect(files.columns).toEqual(['UnixMode', 'User', 'Group', 'LastWriteTime', 'Size', 'Name', 'PSComputerName']);
      expect(files.rows.map((r) => r[5])).toEqual(['hostname', 'hostname']);
      // Get-Date prints through its custom view, numbers as they are.
      const plain = code(blocks).find((c) => c.title === 'ps1, ps2')!;
      expect(plain.text).toMatch(/^\w+, 0?2 January 2024 0?3:04:05( AM)?\n42$/);

      const hidden = await runJob(
        "icm ps1,ps2 -HideComputerName { [pscustomobject]@{ Name = 'svc'; Port = 80 }; [pscustomobject]@{ Name = 'one' } }",
      );
      expect(tables(hidden.blocks)).toEqual([{ columns: ['Name'], rows: [['one'], ['one']] }]);
      expect(code(hidden.blocks)).toEqual([{ text: ['Name : svc', 'Port : 80', '', 'Name : svc', 'Port : 80'].join('\n') }]);
    },
    LONG,
  );

  it(
    'Get-ChildItem, Get-Command and values inside objects as PowerShell prints them: one table per view, grouped by directory',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chatops-pwsh-gci-'));
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'a.txt'), 'hello');
      writeFileSync(join(dir, 'sub', 'c.txt'), '');
      const { blocks, ok, text } = await runJob(
        [
          `icm ps1,ps2 -ArgumentList '${dir}' { param($dir) Get-ChildItem $dir -Recurse`,
          'Get-Command Get-Date, ls',
          "[pscustomobject]@{ A = 1; B = @(1, 2, 3); C = [pscustomobject]@{ x = 1 }; D = Get-Date -Date '2024-01-02T03:04:05'; E = $null; F = $true }",
          'Get-FormatData -TypeName System.Guid',
          "Update-TypeData -TypeName Chatops.Own -DefaultDisplayPropertySet Q -Force; $o = [pscustomobject]@{ Q = 1; R = 2 }; $o.PSTypeNames.Insert(0, 'Chatops.Own'); $o",
          '}',
        ].join('; '),
      );
      expect(ok, text).toBe(true);
      const gci = blocks.flatMap((b) => (b.kind === 'table' && b.columns.includes('UnixMode') ? [b] : []));
      // Files and directories share the view, so one table per directory, titled as PowerShell groups them.
      expect(gci.map((t) => t.title)).toEqual([`Directory: ${dir}`, `Directory: ${join(dir, 'sub')}`]);
      expect(gci[0]!.columns).toEqual(['UnixMode', 'User', 'Group', 'LastWriteTime', 'Size', 'Name', 'PSComputerName']);
      expect(gci[0]!.rows.map((r) => [r[0]![0], r[4], r[5], r[6]]).sort()).toEqual([
        ['-', '5', 'a.txt', 'ps1'],
        ['-', '5', 'a.txt', 'ps2'],
        ['d', expect.any(String), 'sub', 'ps1'],
        ['d', expect.any(String), 'sub', 'ps2'],
      ]);
      expect(gci[1]!.rows.map((r) => [r[5], r[6]]).sort()).toEqual([
        ['c.txt', 'ps1'],
        ['c.txt', 'ps2'],
      ]);
      // A cmdlet and an application share the CommandInfo view: one table.
      const cmds = tables(blocks).filter((t) => t.columns.includes('CommandType'));
      expect(cmds).toHaveLength(1);
      expect(cmds[0]!.columns).toEqual(['CommandType', 'Name', 'Version', 'Source', 'PSComputerName']);
      expect(cmds[0]!.rows.map((r) => [r[0], r[1], r[4]]).sort()).toEqual([
        ['Application', 'ls', 'ps1'],
        ['Application', 'ls', 'ps2'],
        ['Cmdlet', 'Get-Date', 'ps1'],
        ['Cmdlet', 'Get-Date', 'ps2'],
      ]);
      expect(cmds[0]!.rows.find((r) => r[1] === 'Get-Date')![3]).toBe('Microsoft.PowerShell.Utility');
      // Values inside an object as PowerShell's client prints deserialized ones.
      const values = code(blocks).find((c) => c.text.startsWith('A '))!;
      expect(values.text.split('\n\n').find((e) => e.endsWith('ps1'))).toBe(
        [
          'A              : 1',
          'B              : {1, 2, 3}',
          'C              : @{x=1}',
          'D              : 01/02/2024 03:04:05',
          'E              : ',
          'F              : True',
          'PSComputerName : ps1',
        ].join('\n'),
      );
      // A built-in default display property set without a view is used (PowerShell's client has it
      // too); one the script made itself does not travel, so all properties show (two: a list).
      expect(tables(blocks).find((t) => t.columns[0] === 'TypeNames')).toEqual({
        columns: ['TypeNames', 'FormatViewDefinition', 'PSComputerName'],
        rows: expect.arrayContaining([
          ['{System.Guid}', '{System.Guid}', 'ps1'],
          ['{System.Guid}', '{System.Guid}', 'ps2'],
        ]),
      });
      expect(
        code(blocks)
          .find((c) => c.text.startsWith('Q '))
          ?.text.split('\n\n')
          .find((e) => e.endsWith('ps2')),
      ).toBe(['Q              : 1', 'R              : 2', 'PSComputerName : ps2'].join('\n'));
    },
    LONG,
  );
});

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
