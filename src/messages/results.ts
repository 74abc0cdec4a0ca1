import type { Block, JobStatusView, NeutralMessage } from './model.js';
import type { ChildJobRecord, JobRecord, JobStore, OutputRecord } from '../store/job-store.js';
import { childHasMoreData, countStates, hasMoreData, isFinished } from '../jobs/job-state.js';
import { isShellConfiguration } from '../jobs/runbooks.js';
import { formatList, layoutPwshChild, type PwshObjectRow } from './pwsh-output.js';
import { maskCommandLine } from '../audit/mask.js';

/**
 * Turns stored output into neutral result blocks:
 * - text output: one block per computer, titled with its name; computers whose output is
 *   identical share one block titled `web1, web2, web3`; with -HideComputerName no names, and a
 *   shared block is titled with how many computers printed it (`(3 computers)`);
 * - Microsoft.PowerShell output (records, see pwsh-output.ts): text lines as above; objects as one
 *   table (or list) per kind across computers with PSComputerName last, as PowerShell's client
 *   shows remoting output (left out with -HideComputerName); a Completed child's non-zero exit
 *   code (`exit 3`, a native command's) as `web1: $LASTEXITCODE = 3`;
 * - the error stream in separate `error` blocks; a failed child shows its reason and exit code
 *   (not again when its terminating error record is shown);
 * - large output: head and tail inline, the whole as an attachment.
 * Blocks come in the order their first output was received.
 */

export interface ChildOutput {
  child: ChildJobRecord;
  records: OutputRecord[];
}

export interface RenderOptions {
  hideComputerName: boolean;
  /** More lines than this become an attachment (default 40). */
  maxInlineLines?: number;
  /** More characters than this become an attachment (default 3500). */
  maxInlineChars?: number;
  /** Lines shown before and after the cut (default 10 each). */
  headLines?: number;
  tailLines?: number;
  /** Show failure reasons of failed children (default true). */
  showFailures?: boolean;
  /**
   * Show the reason of a Stopped child as a failure (default true: a status thread tells why a
   * stop was not confirmed). Receive-Job passes false: PowerShell writes reasons of Failed jobs only.
   */
  showStopReasons?: boolean;
}

interface Piece {
  order: number;
  computers: string[];
  text: string;
  kind: 'output' | 'error';
}

function isObjectOutput(child: ChildJobRecord): boolean {
  const c = child.configurationName;
  return c !== undefined && c !== '' && !isShellConfiguration(c);
}

function joinChunks(records: OutputRecord[]): string {
  return records.map((r) => r.data).join('');
}

function trimFinalNewline(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

function textBlock(text: string, title: string | undefined, options: RenderOptions, kind: 'code' | 'error' = 'code'): Block {
  const maxLines = options.maxInlineLines ?? 40;
  const maxChars = options.maxInlineChars ?? 3500;
  const lines = text.split('\n');
  if (lines.length <= maxLines && text.length <= maxChars) {
    if (kind === 'error') return { kind: 'error', text: title !== undefined ? `${title}: ${text}` : text };
    return { kind: 'code', text, ...(title !== undefined ? { title } : {}) };
  }
  let head = lines.slice(0, options.headLines ?? 10);
  let tail = lines.length > head.length ? lines.slice(Math.max(head.length, lines.length - (options.tailLines ?? 10))) : [];
  // Very long lines are cut too, so the inline part stays within platform limits.
  const clip = (l: string): string => (l.length > 300 ? `${l.slice(0, 300)}…` : l);
  head = head.map(clip);
  tail = tail.map(clip);
  const base = (title ?? (kind === 'error' ? 'errors' : 'output')).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return {
    kind: 'attachment',
    filename: `${base}${kind === 'error' ? '-errors' : ''}.txt`,
    content: text,
    head,
    tail,
    omittedLines: lines.length - head.length - tail.length,
    ...(title !== undefined ? { title } : {}),
  };
}

export function renderResults(outputs: ChildOutput[], options: RenderOptions): Block[] {
  const pieces: Piece[] = [];
  const objectRows: Array<PwshObjectRow & { computer: string }> = [];
  const failures: string[] = [];
  const notes: string[] = [];

  for (const { child, records } of outputs) {
    const first = records[0]?.id ?? Number.MAX_SAFE_INTEGER;
    const failed =
      child.state === 'Failed' || (child.state === 'Stopped' && child.reason !== undefined && options.showStopReasons !== false);
    if (isObjectOutput(child)) {
      const l = layoutPwshChild(records);
      for (const row of l.rows) objectRows.push({ ...row, computer: child.computer });
      if (l.text !== '') pieces.push({ order: l.textOrder ?? first, computers: [child.computer], text: l.text, kind: 'output' });
      if (l.errors !== '') pieces.push({ order: l.errorOrder ?? first, computers: [child.computer], text: l.errors, kind: 'error' });
      const shown = child.reason !== undefined && l.terminating.includes(child.reason);
      if (failed && !shown && options.showFailures !== false) failures.push(failureText(child, options.hideComputerName));
      if (child.state === 'Completed' && child.exitCode !== undefined && child.exitCode !== 0 && options.showFailures !== false) {
        notes.push(`${options.hideComputerName ? '' : `${child.computer}: `}$LASTEXITCODE = ${child.exitCode}`);
      }
      continue;
    }
    const out = records.filter((r) => r.stream === 'output');
    const err = records.filter((r) => r.stream === 'error');
    const other = records.filter((r) => r.stream !== 'output' && r.stream !== 'error');
    const outText = trimFinalNewline(joinChunks(out));
    const extra = other
      .map((r) =>
        trimFinalNewline(r.data)
          .split('\n')
          .map((l) => `${r.stream.toUpperCase()}: ${l}`)
          .join('\n'),
      )
      .join('\n');
    const text = [outText, extra].filter((s) => s !== '').join('\n');
    if (text !== '') pieces.push({ order: out[0]?.id ?? other[0]?.id ?? first, computers: [child.computer], text, kind: 'output' });
    const errText = trimFinalNewline(joinChunks(err));
    if (errText !== '') pieces.push({ order: err[0]?.id ?? first, computers: [child.computer], text: errText, kind: 'error' });
    if (failed && options.showFailures !== false) failures.push(failureText(child, options.hideComputerName));
  }

  // Identical outputs share one block, placed where the first of them was received.
  const groups = new Map<string, Piece>();
  for (const p of pieces) {
    const key = `${p.kind}\u0000${p.text}`;
    const g = groups.get(key);
    if (g) {
      if (!g.computers.includes(p.computers[0]!)) g.computers.push(...p.computers);
      g.order = Math.min(g.order, p.order);
    } else {
      groups.set(key, { ...p, computers: [...p.computers] });
    }
  }

  const ordered: Array<{ order: number; block: Block }> = [];
  for (const g of groups.values()) {
    // -HideComputerName leaves the names out, not the count: PowerShell prints the output once per
    // computer, so a shared block says how many computers printed it.
    const title = options.hideComputerName
      ? g.computers.length > 1
        ? `(${g.computers.length} computers)`
        : undefined
      : g.computers.join(', ');
    ordered.push({ order: g.order, block: textBlock(g.text, title, options, g.kind === 'error' ? 'error' : 'code') });
  }
  // One table (or list) per kind of object, across computers, where its first row arrived.
  const kinds = new Map<string, Array<PwshObjectRow & { computer: string }>>();
  for (const row of objectRows.sort((a, b) => a.order - b.order)) kinds.set(row.kind, [...(kinds.get(row.kind) ?? []), row]);
  for (const rows of kinds.values()) {
    const head = rows[0]!;
    const computerCell = (r: { computer: string }): string[] => (options.hideComputerName ? [] : [r.computer]);
    if (head.list) {
      const text = formatList(
        rows.map((r) => [
          ...r.cols.map((c, i): [string, string] => [c, r.cells[i] ?? '']),
          ...computerCell(r).map((c): [string, string] => ['PSComputerName', c]),
        ]),
      );
      ordered.push({ order: head.order, block: textBlock(text, head.group, options) });
    } else {
      const columns = options.hideComputerName ? head.cols : [...head.cols, 'PSComputerName'];
      const table: Block = { kind: 'table', columns, rows: rows.map((r) => [...r.cells, ...computerCell(r)]) };
      // The view's group (Get-ChildItem's `Directory: /etc`) heads its table, as PowerShell prints it.
      ordered.push({ order: head.order, block: head.group !== undefined ? { ...table, title: head.group } : table });
    }
  }
  ordered.sort((a, b) => a.order - b.order);
  const blocks = ordered.map((o) => o.block);
  for (const text of notes) blocks.push({ kind: 'text', text });
  for (const text of failures) blocks.push({ kind: 'error', text });
  return blocks;
}

/**
 * After streamed output (posted as it came, so identical outputs seldom shared a block): one line per set of
 * computers whose whole text output is the same, naming the one it was shown under, e.g.
 * `web1, web2, web3: identical output (shown above under web1)`. Undefined when no two match.
 */
export function identicalOutputSummary(children: ChildJobRecord[], records: OutputRecord[]): string | undefined {
  const groups = new Map<string, { first: number; computers: string[] }>();
  for (const child of children) {
    // pwsh objects are one table across computers already.
    if (isObjectOutput(child)) continue;
    const out = records.filter((r) => r.childId === child.id && r.stream === 'output');
    const text = trimFinalNewline(joinChunks(out));
    if (text === '') continue;
    const g = groups.get(text);
    if (g) {
      g.computers.push(child.computer);
      g.first = Math.min(g.first, out[0]!.id);
    } else groups.set(text, { first: out[0]!.id, computers: [child.computer] });
  }
  const lines = [...groups.values()]
    .filter((g) => g.computers.length > 1)
    .sort((a, b) => a.first - b.first)
    .map((g) => `${g.computers.join(', ')}: identical output (shown above under ${g.computers[0]})`);
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/**
 * Why a Failed (or Stopped, with a reason) child ended: its reason, with the exit code when the
 * reason does not already give it, after the computer's name unless hidden or already named.
 */
export function failureText(child: ChildJobRecord, hideComputerName: boolean): string {
  let why = child.reason ?? 'The command failed.';
  if (child.state === 'Failed' && child.exitCode !== undefined && !why.includes(String(child.exitCode))) {
    why += ` (exit code ${child.exitCode})`;
  }
  // 127 is a shell's "command not found": most often a PowerShell script block (`{ Get-Date }`)
  // run by an agent whose default configuration is a shell (no pwsh there). Say which
  // configuration ran it and how to choose another.
  const config = child.configurationName;
  if (child.state === 'Failed' && child.exitCode === 127 && config !== undefined && isShellConfiguration(config)) {
    why = `${why.replace(/\.$/, '')}. It ran with the session configuration ${config}; a PowerShell script block needs -ConfigurationName Microsoft.PowerShell (an agent with pwsh on its PATH).`;
  }
  return hideComputerName || why.includes(child.computer) ? why : `${child.computer}: ${why}`;
}

export function statusView(
  job: JobRecord,
  children: ChildJobRecord[],
  options: { hasMoreData: boolean; now?: number; progress?: ReadonlyMap<number, string> },
): JobStatusView {
  const begin = Date.parse(job.beginTime ?? job.createdAt);
  const end = job.endTime !== undefined ? Date.parse(job.endTime) : (options.now ?? Date.now());
  return {
    jobId: job.id,
    name: job.name,
    command: job.command,
    invokedBy: job.invokedBy,
    state: job.state,
    counts: countStates(children.map((c) => c.state)),
    total: children.length,
    elapsedMs: Math.max(0, end - begin),
    asJob: job.asJob,
    hasMoreData: options.hasMoreData,
    ...(job.stoppedBy !== undefined ? { stoppedBy: job.stoppedBy } : {}),
    ...(job.notPosted !== undefined ? { notPosted: job.notPosted } : {}),
    ...detailOf(job, children, options.progress),
  };
}

/**
 * The line a child's latest progress record (PwshRecord `progress` data) shows in the live status:
 * `Activity: Status 40% (Operation, 12 s left)`; undefined when it is completed or unreadable.
 */
export function progressLine(data: string): string | undefined {
  const lines = data.trimEnd().split('\n');
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (p === null || typeof p !== 'object' || p.completed === true) return undefined;
  const extra = [
    typeof p.operation === 'string' && p.operation !== '' ? p.operation : undefined,
    typeof p.secondsRemaining === 'number' && p.secondsRemaining >= 0 ? `${p.secondsRemaining} s left` : undefined,
  ].filter((x) => x !== undefined);
  const percent = typeof p.percent === 'number' && p.percent >= 0 ? ` ${p.percent}%` : '';
  return `${String(p.activity ?? '')}: ${String(p.status ?? '')}${percent}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}

/** At most this many names per line; the rest are counted (`and 12 more`). */
const DETAIL_NAMES = 8;

function names(list: string[]): string {
  return list.length <= DETAIL_NAMES ? list.join(', ') : `${list.slice(0, DETAIL_NAMES).join(', ')} and ${list.length - DETAIL_NAMES} more`;
}

/** `10:42:05 UTC`: chat users sit in many time zones, the bot names one. */
function clock(iso: string): string {
  return `${new Date(iso).toISOString().slice(11, 19)} UTC`;
}

/**
 * Who a job still waits on and who failed, while it runs (a finished job's results say the rest):
 * the running and not-yet-started computers, the failed ones, and for each Disconnected one when
 * the bot gives it up.
 */
function detailOf(job: JobRecord, children: ChildJobRecord[], progress?: ReadonlyMap<number, string>): { detail?: string[] } {
  if (isFinished(job.state)) return {};
  const lines: string[] = [];
  const inState = (s: string): string[] => children.filter((c) => c.state === s).map((c) => c.computer);
  const running = inState('Running');
  if (running.length > 0) lines.push(`Running: ${names(running)}`);
  // Write-Progress of the running computers: the latest of each, one line (as a console's bar).
  for (const c of children) {
    const p = c.state === 'Running' ? progress?.get(c.id) : undefined;
    if (p !== undefined) lines.push(`${c.computer}: ${p}`);
  }
  const queued = inState('NotStarted');
  if (queued.length > 0) lines.push(`Not started yet (ThrottleLimit ${job.throttleLimit}): ${names(queued)}`);
  const failed = inState('Failed');
  if (failed.length > 0) lines.push(`Failed: ${names(failed)}`);
  const away = children.filter((c) => c.state === 'Disconnected');
  const byDeadline = new Map<string, string[]>();
  for (const c of away) {
    const k = c.lostDeadline ?? '';
    byDeadline.set(k, [...(byDeadline.get(k) ?? []), c.computer]);
  }
  for (const [deadline, list] of byDeadline) {
    lines.push(
      deadline === ''
        ? `${names(list)} disconnected: waiting for ${list.length === 1 ? 'it' : 'them'} (AGENT_LOST_GRACE)`
        : `${names(list)} disconnected: waiting for ${list.length === 1 ? 'it' : 'them'} until ${clock(deadline)} (AGENT_LOST_GRACE)`,
    );
  }
  return lines.length > 0 ? { detail: lines } : {};
}

/**
 * The status message: the status, then `extra` blocks (an -AsJob job's row), then the button its
 * state calls for.
 */
export function statusMessage(view: JobStatusView, extra: Block[] = []): NeutralMessage {
  const blocks: Block[] = [{ kind: 'status', status: view }, ...extra];
  if (!isFinished(view.state)) blocks.push({ kind: 'actions', buttons: [{ action: 'stop-job', jobId: view.jobId, label: 'Stop-Job' }] });
  else if (view.hasMoreData)
    blocks.push({ kind: 'actions', buttons: [{ action: 'receive-job', jobId: view.jobId, label: 'Receive-Job' }] });
  return { blocks };
}

/** PowerShell's default table view of Job objects (reference 4.3). */
export const JOB_COLUMNS = ['Id', 'Name', 'PSJobTypeName', 'State', 'HasMoreData', 'Location', 'Command'];

/**
 * The width a job table is fitted to: PowerShell's Format-Table cuts the last column (Command) at
 * the console's width, 120 columns in a default console window. Chat code blocks wrap long lines,
 * so a cut row stays one line there too.
 */
export const JOB_TABLE_WIDTH = 120;
/** Command keeps at least this many characters however wide the other columns are. */
const MIN_COMMAND_WIDTH = 20;

type JobTableStore = Pick<JobStore, 'children' | 'hasUnreadOutput' | 'getRunSpec'>;

/**
 * A job's Command as PowerShell shows it for a remote job: the script block's text (`{ uptime }`
 * is ` uptime `), not the whole line typed, with secrets masked as in the audit trail. A script of
 * several lines shows its first line and `…`, as Format-Table shows a multi-line string. A
 * runbook (-FilePath) shows its name: its whole text would say less in one table cell.
 */
export function jobCommandText(store: Pick<JobStore, 'getRunSpec'>, job: JobRecord): string {
  const spec = store.getRunSpec(job.id);
  if (spec === undefined) return job.command;
  if (spec.runbook !== undefined) return spec.runbook;
  const text = maskCommandLine(spec.script);
  if (!text.includes('\n')) return text;
  const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return `${first.trim()}…`;
}

/**
 * One row of the job table: a top-level job, or one of its children (PSJobTypeName empty, its
 * computer as Location, the parent's Command), HasMoreData as PowerShell computes it.
 */
export function jobRow(store: JobTableStore, job: JobRecord, child?: ChildJobRecord): string[] {
  const bool = (b: boolean): string => (b ? 'True' : 'False');
  const command = jobCommandText(store, job);
  if (child) return [String(child.id), child.name, '', child.state, bool(childHasMoreData(store, child)), child.computer, command];
  return [String(job.id), job.name, job.jobType, job.state, bool(hasMoreData(store, job)), job.location, command];
}

/** Get-Job's table; Command (the last column) is cut with `…` so each line fits JOB_TABLE_WIDTH. */
export function jobTable(store: JobTableStore, entries: Array<{ job: JobRecord; child?: ChildJobRecord }>): Block {
  const rows = entries.map((e) => jobRow(store, e.job, e.child));
  return { kind: 'table', columns: JOB_COLUMNS, rows: cutLastColumn(JOB_COLUMNS, rows, JOB_TABLE_WIDTH) };
}

/** Cuts the last column's cells so that a formatTable line is at most `width` characters. */
function cutLastColumn(columns: string[], rows: string[][], width: number): string[][] {
  const last = columns.length - 1;
  const before = columns.slice(0, last).reduce((n, c, i) => n + Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)) + 1, 0);
  const room = Math.max(MIN_COMMAND_WIDTH, width - before);
  return rows.map((r) => r.map((c, i) => (i === last && [...c].length > room ? `${[...c].slice(0, room - 1).join('')}…` : c)));
}

/** Plain-text table, for terminals and attachments. */
export function formatTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join(' ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
