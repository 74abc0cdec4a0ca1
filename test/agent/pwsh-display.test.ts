import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Block } from '../../src/messages/model.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { ensureTools, type Sshd, startSshd } from '../remoting/ssh-remoting.js';

/**
 * How the pwsh executor's output is shown, held to PowerShell's own remoting client: each case runs
 * through the bot (real agents web1 and web2 running real pwsh 7.6) and through pwsh's
 * Invoke-Command over SSH to the same names (pwsh-display-reference.ps1), and what the client's
 * host prints for each item is compared with what the bot shows: for objects the shape (table or
 * list), the columns or labels, the group title (Get-ChildItem's directory) and, where the values
 * do not change between runs, the values; errors as their ConciseView text; text lines as they are.
 *
 * The bot shows one table (or list) per kind across computers where PowerShell prints each
 * computer's objects as they arrive; the shape and columns of each are what is compared. Intended
 * differences, each with its reason (the README's deviation table says the same):
 * - RunspaceId, which PowerShell lists for objects without a view, is left out: chat has no runspaces;
 * - a hashtable's Name/Value rows get PSComputerName, so rows of several computers can be told apart.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const HOSTS = ['web1', 'web2'];

interface DisplayCase {
  id: string;
  /** The script block's text. */
  script: string;
  arguments?: string[];
  hide?: boolean;
  /** Compare the values too (they are the same on every run). */
  values?: boolean;
  /** Columns the bot adds on purpose (see the deviations above). */
  oursAlsoHas?: string[];
}

let dir: string;
const CASES: DisplayCase[] = [
  { id: 'one property', script: "[pscustomobject]@{ Name = 'one' }", values: true },
  { id: 'two properties (five with the remoting ones: a list)', script: "[pscustomobject]@{ Name = 'svc'; Port = 80 }", values: true },
  { id: 'two properties, -HideComputerName', script: "[pscustomobject]@{ Name = 'svc'; Port = 80 }", hide: true, values: true },
  { id: 'one property, -HideComputerName', script: "[pscustomobject]@{ Name = 'one' }", hide: true, values: true },
  {
    id: 'values inside an object',
    script:
      "[pscustomobject]@{ A = 1; B = @(1, 2, 3); C = [pscustomobject]@{ x = 1 }; D = Get-Date -Date '2024-01-02T03:04:05'; E = $null; F = $true; G = 'text' }",
    values: true,
  },
  { id: 'Get-Process (its view)', script: 'Get-Process -Id $PID' },
  { id: 'Get-ChildItem (one view, grouped by directory)', script: 'param($dir) Get-ChildItem $dir -Recurse', arguments: ['DIR'] },
  { id: 'Get-Command (a cmdlet and an application share a view)', script: 'Get-Command Get-Date, ls', values: true },
  { id: 'Get-Date (a custom view)', script: "Get-Date -Date '2024-01-02T03:04:05'", values: true },
  { id: 'a built-in display property set', script: 'Get-FormatData -TypeName System.Guid', values: true },
  {
    id: 'a display property set the script made (it does not travel)',
    script:
      "Update-TypeData -TypeName Chatops.Own -DefaultDisplayPropertySet Q -Force; $o = [pscustomobject]@{ Q = 1; R = 2 }; $o.PSTypeNames.Insert(0, 'Chatops.Own'); $o",
    values: true,
  },
  { id: 'a hashtable', script: '@{ a = 1 }', values: true, oursAlsoHas: ['PSComputerName'] },
  { id: 'numbers and strings', script: "42; 'text'; $true", values: true },
  { id: 'throw', script: "throw 'bad thing'" },
  { id: 'Write-Error', script: "Write-Error 'boom'" },
  { id: 'a cmdlet error', script: 'Get-Item /nonexistent-chatops' },
  { id: '-ErrorAction Stop', script: 'Get-Item /nonexistent-chatops -ErrorAction Stop' },
  { id: 'an unknown command', script: 'nosuchcommand-chatops' },
  { id: 'a conversion error', script: "[int]'x'" },
  { id: 'an argument of the wrong type', script: 'param([int]$n) $n', arguments: ['abc'] },
];

interface Display {
  shape: 'table' | 'list' | 'text' | 'error';
  group?: string;
  columns?: string[];
  /** Rows (or list entries) as label → value; text and errors as their text. */
  values: Array<Record<string, string>> | string[];
}

let rt: TestRuntime;
let sshd: Sshd;
let reference: Map<string, Display[]>;
/** What the bot showed for each case (Receive-Job of its -AsJob job). */
const ourBlocks = new Map<string, Block[]>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chatops-display-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'a.txt'), 'hello');
  writeFileSync(join(dir, 'sub', 'c.txt'), '');
  const tools = ensureTools();
  sshd = await startSshd(tools);
  const ref = runReference(tools.pwsh, sshd);
  rt = await startTestRuntime({
    agents: HOSTS.map((name) => ({
      name,
      env: { PATH: `${dirname(tools.pwsh)}:${process.env.PATH ?? ''}` },
      args: ['--configuration', 'Microsoft.PowerShell'],
    })),
  });
  // The bot's side, a few cases at a time (each starts pwsh on both computers).
  const queue = [...CASES];
  await Promise.all(
    [1, 2, 3, 4].map(async () => {
      for (let c = queue.shift(); c !== undefined; c = queue.shift()) ourBlocks.set(c.id, await runOurs(c));
    }),
  );
  reference = await ref;
}, 400_000);

afterAll(async () => {
  await sshd?.stop();
  await rt?.stop();
});

async function runOurs(c: DisplayCase): Promise<Block[]> {
  const args = withDir(c);
  const command = `icm ${HOSTS.join(',')} -AsJob${c.hide ? ' -HideComputerName' : ''}${
    args ? ` -ArgumentList ${args.map((a) => `'${a}'`).join(',')}` : ''
  } { ${c.script} }`;
  const started = await rt.run(command);
  if (!started.ok) throw new Error(`${command}: ${started.sink.text()}`);
  const jobId = started.jobIds[0]!;
  await rt.app.jobs.waitFor(jobId, 180_000);
  const received = await rt.run(`Receive-Job ${jobId}`);
  return [...received.sink.postBlocks(), ...received.sink.threadBlocks()].filter((b) => b.kind !== 'text' || !/^Receive-Job /.test(b.text));
}

function withDir(c: DisplayCase): string[] | undefined {
  return c.arguments?.map((a) => (a === 'DIR' ? dir : a));
}

async function runReference(pwsh: string, server: Sshd): Promise<Map<string, Display[]>> {
  const child = spawn(
    pwsh,
    [
      '-NoLogo',
      '-NoProfile',
      '-NonInteractive',
      '-File',
      join(HERE, 'pwsh-display-reference.ps1'),
      '-Port',
      String(server.port),
      '-KeyFile',
      server.clientKey,
      '-Hosts',
      HOSTS.join(','),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.end(JSON.stringify(CASES.map((c) => ({ id: c.id, script: c.script, hide: c.hide === true, arguments: withDir(c) ?? null }))));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.split('\n').find((l) => l.startsWith('@@display '));
  if (code !== 0 || line === undefined)
    throw new Error(`pwsh-display-reference.ps1 failed (${code}):\n${err}\n${out.slice(-2000)}\n${server.log()}`);
  const results = JSON.parse(line.slice('@@display '.length)) as Array<{ id: string; items: PrintedItem[] }>;
  return new Map(results.map((r) => [r.id, r.items.map((i) => (i.error ? { shape: 'error', values: [i.text] } : printedDisplay(i)))]));
}

interface Cells {
  cols: string[];
  rows: string[][];
}
interface PrintedItem {
  error: boolean;
  text: string;
  /** The formatter's cells for the object as a table and as a list (the printed text says which it was). */
  table?: Cells;
  list?: Cells;
}

/** An item the client printed: shape, group and columns as printed, values from the formatter's cells. */
function printedDisplay(item: PrintedItem): Display {
  const d = parsePrinted(item.text);
  const cells = d.shape === 'table' ? item.table : d.shape === 'list' ? item.list : undefined;
  if (cells === undefined) return d;
  const values = cells.rows.map((r) => Object.fromEntries(r.map((v, k) => [cells.cols[k]!, v])));
  return withoutRunspace({ ...d, columns: [...d.columns!, 'RunspaceId'], values });
}

/** What the client's host printed for one object: a table (headers over dashes), a list, or text. */
function parsePrinted(printed: string): Display {
  const lines = printed.split('\n').map((l) => l.trimEnd());
  let i = 0;
  while (i < lines.length && lines[i] === '') i++;
  let group: string | undefined;
  if (lines[i]?.trim().startsWith('Directory: ')) {
    group = lines[i]!.trim();
    i++;
    while (i < lines.length && lines[i] === '') i++;
  }
  const body = lines.slice(i);
  while (body.length > 0 && body.at(-1) === '') body.pop();
  if (body.length >= 2 && /^[- ]+$/.test(body[1]!) && body[1]!.includes('-')) {
    const extents = [...body[1]!.matchAll(/-+/g)].map((m) => [m.index, m.index + m[0].length] as const);
    const cut = (l: string): string[] => extents.map(([a, b], k) => l.slice(a, k === extents.length - 1 ? undefined : b).trim());
    const columns = cut(body[0]!);
    const rows = body.slice(2).map((l) => Object.fromEntries(cut(l).map((v, k) => [columns[k]!, v])));
    return withoutRunspace({ shape: 'table', ...(group !== undefined ? { group } : {}), columns, values: rows });
  }
  if (body.length > 0 && /^\S.*? : /.test(`${body[0]} `)) {
    const entry: Record<string, string> = {};
    const columns: string[] = [];
    let last = '';
    for (const l of body) {
      const m = /^(\S.*?)\s* : ?(.*)$/.exec(l);
      if (m && !/^\s/.test(l)) {
        last = m[1]!;
        columns.push(last);
        entry[last] = m[2]!;
      } else entry[last] = `${entry[last]}\n${l.trim()}`;
    }
    return withoutRunspace({ shape: 'list', columns, values: [entry] });
  }
  return { shape: 'text', values: body };
}

/** RunspaceId is the one column chat leaves out on purpose. */
function withoutRunspace(d: Display): Display {
  const values = (d.values as Array<Record<string, string>>).map((r) =>
    Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'RunspaceId')),
  );
  return { ...d, columns: d.columns!.filter((c) => c !== 'RunspaceId'), values };
}

/** What the bot shows, in the same terms. */
function oursDisplayed(blocks: Block[]): Display[] {
  const out: Display[] = [];
  for (const b of blocks) {
    if (b.kind === 'table') {
      out.push({
        shape: 'table',
        ...(b.title !== undefined ? { group: b.title } : {}),
        columns: b.columns,
        values: b.rows.map((r) => Object.fromEntries(r.map((v, k) => [b.columns[k]!, v]))),
      });
    } else if (b.kind === 'code') {
      const entries = b.text.split('\n\n');
      if (b.title === undefined && entries.every((e) => e.split('\n').every((l) => / : /.test(l)))) {
        for (const e of entries) out.push(parsePrinted(e));
      } else out.push({ shape: 'text', values: b.text.split('\n') });
    } else if (b.kind === 'error') {
      // `web1, web2: <the error as PowerShell prints it>`; several errors of one computer, one a line.
      out.push({ shape: 'error', values: [b.text.replace(/^(web\d)(, web\d)*: /, '')] });
    }
  }
  return out;
}

/**
 * Comparable summaries: shape, group and columns, values too where asked; the columns the bot adds
 * on purpose (`oursAlsoHas`) are taken out of its side after checking they are there.
 */
function summary(displays: Display[], c: DisplayCase, ours: boolean): string[] {
  const seen = new Set<string>();
  const added = ours ? (c.oursAlsoHas ?? []) : [];
  for (const d of displays) {
    if (d.shape === 'text' || d.shape === 'error') {
      for (const v of d.values as string[]) seen.add(JSON.stringify([d.shape, d.shape === 'error' || c.values ? v : '']));
      continue;
    }
    for (const a of added) expect(d.columns, `the bot adds ${a}`).toContain(a);
    const columns = d.columns!.filter((x) => !added.includes(x));
    if (!c.values) {
      seen.add(JSON.stringify([d.shape, d.group ?? null, columns]));
      continue;
    }
    for (const row of d.values as Array<Record<string, string>>)
      seen.add(JSON.stringify([d.shape, d.group ?? null, columns, columns.map((k) => row[k] ?? '')]));
  }
  return [...seen].sort();
}

it.each(CASES.map((c) => [c.id, c] as const))("%s: shown as PowerShell's client shows it", (_, c) => {
  const theirs = summary(reference.get(c.id)!, c, false);
  const ours = summary(oursDisplayed(ourBlocks.get(c.id)!), c, true);
  expect(theirs.length, 'the reference printed something').toBeGreaterThan(0);
  expect(ours).toEqual(theirs);
});
