/**
 * Language bench: parse + bind time of a 40 KB line and of the seed examples, as the median of
 * repeated runs, each beside a baseline measured in the same run on the same text (JSON.parse
 * of a same-size document, and a plain character scan). Target: a 40 KB line in under 10 ms.
 */
import { pathToFileURL } from 'node:url';
import { parseAndBind, MAX_SCRIPT_BYTES, type BindContext, type PsValue } from '../src/language/index.js';

export interface LanguageBenchRow {
  name: string;
  ms: number;
  baselineMs?: number;
  targetMs?: number;
}

const TARGET_40KB_MS = 10;

function context(): BindContext {
  const variables = new Map<string, PsValue>([
    ['servers', ['web1', 'web2', 'web3']],
    ['s', { kind: 'session', id: 1, display: '[PSSession]Runspace1' }],
    ['j', { kind: 'job', id: 3, display: 'Job3' }],
  ]);
  return { variables, evaluate: async () => ['web1', 'web2'] };
}

/** A 40 KB line whose bulk is a realistic script block (nested braces, strings, here-string, comments). */
function scriptBlockLine(): string {
  const head = 'Invoke-Command -ComputerName web1,web2,web3 -ThrottleLimit 16 -AsJob -JobName nightly -ScriptBlock {\n';
  const tail = '\n} -ArgumentList 1kb, "two", 0x10';
  const chunk =
    '  if ($Using:Threshold -gt 5) { Get-Process | Where-Object { $_.CPU -gt 10 } | ForEach-Object { "$($_.Name): }" } } # } comment\n' +
    "  $x = @'\n}{ literal\n'@\n";
  let body = '';
  while (Buffer.byteLength(head + body + chunk + tail) <= MAX_SCRIPT_BYTES) body += chunk;
  return head + body + tail;
}

/** A 40 KB line that is mostly a comma list of computer names (thousands of array elements to bind). */
function computerListLine(): string {
  const head = 'Invoke-Command -ScriptBlock { uptime } -ComputerName ';
  const names: string[] = [];
  let line = head;
  for (let i = 0; ; i++) {
    const next = `${line}${i === 0 ? '' : ','}srv-${String(i).padStart(5, '0')}`;
    if (Buffer.byteLength(next) > MAX_SCRIPT_BYTES) break;
    line = next;
    names.push(`srv-${String(i).padStart(5, '0')}`);
  }
  return line;
}

/** The 16 Invoke-Command seed examples as chat lines (see test/language/seed-examples.test.ts). */
const SEED_EXAMPLES = [
  'Invoke-Command -FilePath test.ps1 -ComputerName Server01',
  'Invoke-Command -ComputerName server01 -ScriptBlock {Get-Culture}',
  'Invoke-Command -Session $s -ScriptBlock {Get-Culture}',
  'Invoke-Command -ComputerName Server02 -ScriptBlock {$p = Get-Process PowerShell}',
  '$command = { Get-EventLog -log "Windows PowerShell" | where {$_.Message -like "*certificate*"} }\nInvoke-Command -ComputerName S1, S2 -ScriptBlock $command',
  'Invoke-Command -ComputerName Server01, Server02, TST-0143, localhost -ScriptBlock {Get-EventLog "Windows PowerShell"}',
  '$version = Invoke-Command -ComputerName $servers -ScriptBlock {(Get-Host).Version}',
  'Invoke-Command -Session $s -ScriptBlock {Get-EventLog system} -AsJob\n$results = $j | Receive-Job',
  '$MWFO_Log = "Microsoft-Windows-Forwarding/Operational"\nInvoke-Command -ComputerName Server01 -ScriptBlock {Get-EventLog -LogName $Using:MWFO_Log -Newest 10}',
  'Invoke-Command -ComputerName S1, S2 -ScriptBlock {Get-Process PowerShell} -HideComputerName',
  'Invoke-Command -ComputerName $servers -FilePath Sample.ps1 -ArgumentList Process, Service',
  'Invoke-Command -ComputerName (Get-Agent -Tag role=exchange) -ScriptBlock {Set-Mailbox Dan -DisplayName "Dan Park"}',
  'Invoke-Command -ComputerName $servers -ScriptBlock {Get-Mailbox dan} -SessionOption @{OperationTimeout=60000}',
  'Invoke-Command -ComputerName $servers -ScriptBlock { Get-Hotfix }',
  '$s2 = New-PSSession Server02',
  'Invoke-Command -ComputerName $servers -InDisconnectedSession -FilePath ConfigInventory.ps1 -SessionOption @{OutputBufferingMode="Drop";IdleTimeout=43200000}',
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function measure(fn: () => unknown | Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < Math.min(5, runs); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Baseline: a plain scan of the same text (counts braces and quotes, as a tokenizer must look at every char). */
function scan(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 || c === 125 || c === 34 || c === 39) n++;
  }
  return n;
}

export async function runLanguageBench(): Promise<LanguageBenchRow[]> {
  const rows: LanguageBenchRow[] = [];
  const ctx = context();
  const runs = 40;

  const script = scriptBlockLine();
  const scriptJson = JSON.stringify({ script: script.slice(0, script.length - 20) });
  rows.push({
    name: `parse+bind 40 KB script-block line (${Buffer.byteLength(script)} B) vs JSON.parse of same size`,
    ms: await measure(() => parseAndBind(script, ctx), runs),
    baselineMs: await measure(() => JSON.parse(scriptJson), runs),
    targetMs: TARGET_40KB_MS,
  });

  const list = computerListLine();
  const listJson = JSON.stringify(list.slice(list.indexOf('srv-')).split(','));
  rows.push({
    name: `parse+bind 40 KB computer-list line (${list.split(',').length} names) vs JSON.parse of the same names`,
    ms: await measure(() => parseAndBind(list, ctx), runs),
    baselineMs: await measure(() => JSON.parse(listJson), runs),
    targetMs: TARGET_40KB_MS,
  });

  const seeds = SEED_EXAMPLES.join('\n');
  rows.push({
    name: `parse+bind the 16 seed examples (${SEED_EXAMPLES.length} messages) vs a character scan of them`,
    ms: await measure(async () => {
      for (const line of SEED_EXAMPLES) await parseAndBind(line, ctx);
    }, runs),
    baselineMs: await measure(() => scan(seeds), runs),
  });
  return rows;
}

function table(rows: LanguageBenchRow[]): string {
  const lines = [`${'median ms'.padStart(10)}  ${'baseline'.padStart(9)}  ${'target'.padStart(7)}  benchmark`];
  for (const r of rows) {
    const target = r.targetMs === undefined ? '' : `<${r.targetMs} ${r.ms < r.targetMs ? 'met' : 'MISSED'}`;
    lines.push(`${r.ms.toFixed(3).padStart(10)}  ${(r.baselineMs?.toFixed(3) ?? '').padStart(9)}  ${target.padStart(7)}  ${r.name}`);
  }
  return lines.join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runLanguageBench().then(
    (rows) => process.stdout.write(`${table(rows)}\n`),
    (e: unknown) => {
      process.stderr.write(`language bench failed: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
