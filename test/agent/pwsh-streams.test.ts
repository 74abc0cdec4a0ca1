import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Block } from '../../src/messages/model.js';
import { startTestRuntime, type TestRuntime, waitFor } from '../helpers/runtime.js';

/**
 * The Microsoft.PowerShell executor verified against real PowerShell 7.6 through the real bot and
 * real agent processes (two computers, so objects of both land in one table): ArgumentList and
 * $Using: binding with their types, every stream as PowerShell shows it, terminating and
 * non-terminating errors, exit codes, object tables and lists, progress in the live status, and
 * Stop-Job ending pwsh with its children. pwsh starts slowly, so each command checks several things.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const LONG = 180_000;
let rt: TestRuntime;

beforeAll(async () => {
  const pwsh = execFileSync('bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!;
  const PATH = `${dirname(pwsh)}:${process.env.PATH ?? ''}`;
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
    'a missing [Parameter(Mandatory)] value is a terminating error: the child fails with the record',
    async () => {
      const { blocks, ok, jobId } = await runJob('icm ps1 { param([Parameter(Mandatory)][string]$Name) "hello $Name" }');
      expect(ok).toBe(false);
      const errs = errors(blocks);
      expect(errs.join('\n')).toContain('Cannot process command because of one or more missing mandatory parameters: Name.');
      expect(rt.app.store.children(jobId)[0]).toMatchObject({
        state: 'Failed',
        reason: 'Cannot process command because of one or more missing mandatory parameters: Name.',
      });
      // The error record is shown once, not repeated as the failure reason.
      expect(errs.filter((e) => e.includes('mandatory'))).toHaveLength(1);
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
          text: ['out1', 'WARNING: careful', 'VERBOSE: verbose now', 'DEBUG: debugging', 'from host', 'informed', 'out2'].join('\n'),
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
        ['ps1: Exception: bad thing', "ps2: Get-Item: Cannot find path '/nope' because it does not exist."].sort(),
      );
      const failedChildren = rt.app.store.children(failing.jobId);
      expect(failedChildren.map((c) => [c.computer, c.state, c.reason]).sort()).toEqual([
        ['ps1', 'Failed', 'bad thing'],
        ['ps2', 'Failed', "Cannot find path '/nope' because it does not exist."],
      ]);

      const parse = await runJob('icm ps1 { $x = (1 + ) }');
      expect(parse.ok).toBe(false);
      expect(errors(parse.blocks).join('\n')).toMatch(
        /ParserError:[\s\S]*You must provide a value expression following the '\+' operator\./,
      );

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
    },
    LONG,
  );

  it(
    'shows the latest Write-Progress of each computer in the live status, not as output',
    async () => {
      const { sink } = await rt.run(
        "icm ps1 -AsJob { foreach ($i in 1..40) { Write-Progress -Activity 'Copying' -Status \"file $i\" -PercentComplete ($i * 2); Start-Sleep -Milliseconds 250 }; 'copied' }",
      );
      const jobId = sink.latestStatus()!.jobId;
      await waitFor(
        () => (sink.latestStatus()?.detail ?? []).some((l) => /^ps1: Copying: file \d+ \d+%$/.test(l)),
        60_000,
        'progress in the status',
      );
      await rt.app.jobs.waitFor(jobId, 60_000);
      const received = await rt.run(`Receive-Job ${jobId}`);
      expect(received.sink.text()).toContain('copied');
      expect(received.sink.text()).not.toContain('Copying');
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
          "[pscustomobject]@{ A = 1; B = 'two'; C = 3 }",
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
      const bag = ts.find((t) => t.columns[0] === 'Name' && t.columns[1] === 'Port')!;
      expect(bag).toEqual({
        columns: ['Name', 'Port', 'PSComputerName'],
        rows: expect.arrayContaining([
          ['svc', '80', 'ps1'],
          ['svc', '80', 'ps2'],
        ]),
      });
      const files = ts.find((t) => t.columns.includes('UnixMode'))!;
      expect(files.columns).toEqual(['UnixMode', 'User', 'Group', 'LastWriteTime', 'Size', 'Name', 'PSComputerName']);
      expect(files.rows.map((r) => r[5])).toEqual(['hostname', 'hostname']);
      const list = code(blocks).find((c) => c.text.startsWith('A '))!;
      expect(list.title).toBeUndefined();
      expect(list.text.split('\n\n').sort()).toEqual(
        ['ps1', 'ps2'].map((c) => ['A              : 1', 'B              : two', 'C              : 3', `PSComputerName : ${c}`].join('\n')),
      );
      // Get-Date prints through its custom view, numbers as they are.
      const plain = code(blocks).find((c) => c.title === 'ps1, ps2')!;
      expect(plain.text).toMatch(/^\w+, 0?2 January 2024 0?3:04:05( AM)?\n42$/);

      const hidden = await runJob("icm ps1,ps2 -HideComputerName { [pscustomobject]@{ Name = 'svc'; Port = 80 } }");
      expect(tables(hidden.blocks)).toEqual([
        {
          columns: ['Name', 'Port'],
          rows: [
            ['svc', '80'],
            ['svc', '80'],
          ],
        },
      ]);
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
