import type { Block, JobStatusView, NeutralMessage } from './model.js';
import type { ChildJobRecord, JobRecord, JobStore, OutputRecord } from '../store/job-store.js';
import { childHasMoreData, countStates, hasMoreData, isFinished } from '../jobs/job-state.js';
import { isShellConfiguration } from '../jobs/runbooks.js';

/**
 * Turns stored output into neutral result blocks:
 * - text output: one block per computer, titled with its name; computers whose output is
 *   identical share one block titled `web1, web2, web3`; no title with -HideComputerName;
 * - pwsh object output (JSON lines from the Microsoft.PowerShell executor): one table with
 *   PSComputerName first (left out with -HideComputerName), as PowerShell's formatter does (2.9);
 * - the error stream in separate `error` blocks; a failed child shows its reason and exit code;
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

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Splits pwsh output lines into objects (for the table) and other values (shown as text). */
function splitObjects(text: string): { objects: Array<Record<string, unknown>>; lines: string[] } {
  const objects: Array<Record<string, unknown>> = [];
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      lines.push(line);
      continue;
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      objects.push(parsed as Record<string, unknown>);
    } else {
      lines.push(cell(parsed));
    }
  }
  return { objects, lines };
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
  const tableRows: Array<{ order: number; computer: string; obj: Record<string, unknown> }> = [];
  const failures: string[] = [];

  for (const { child, records } of outputs) {
    const first = records[0]?.id ?? Number.MAX_SAFE_INTEGER;
    const out = records.filter((r) => r.stream === 'output');
    const err = records.filter((r) => r.stream === 'error');
    const other = records.filter((r) => r.stream !== 'output' && r.stream !== 'error');
    let outText = trimFinalNewline(joinChunks(out));
    if (isObjectOutput(child) && outText !== '') {
      const { objects, lines } = splitObjects(outText);
      for (const [i, obj] of objects.entries()) tableRows.push({ order: (out[0]?.id ?? first) + i / 1e6, computer: child.computer, obj });
      outText = lines.join('\n');
    }
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
    const failed =
      child.state === 'Failed' || (child.state === 'Stopped' && child.reason !== undefined && options.showStopReasons !== false);
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
    const title = options.hideComputerName ? undefined : g.computers.join(', ');
    ordered.push({ order: g.order, block: textBlock(g.text, title, options, g.kind === 'error' ? 'error' : 'code') });
  }
  if (tableRows.length > 0) {
    tableRows.sort((a, b) => a.order - b.order);
    const keys: string[] = [];
    for (const { obj } of tableRows) {
      for (const k of Object.keys(obj)) {
        if (k === 'PSComputerName' || k === 'RunspaceId' || k === 'PSShowComputerName') continue;
        if (!keys.includes(k)) keys.push(k);
      }
    }
    // Values the remote side sent for PSComputerName are replaced (reference 2.9).
    const columns = options.hideComputerName ? keys : ['PSComputerName', ...keys];
    const rows = tableRows.map(({ computer, obj }) =>
      options.hideComputerName ? keys.map((k) => cell(obj[k])) : [computer, ...keys.map((k) => cell(obj[k]))],
    );
    ordered.push({ order: tableRows[0]!.order, block: { kind: 'table', columns, rows } });
  }
  ordered.sort((a, b) => a.order - b.order);
  const blocks = ordered.map((o) => o.block);
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
  return hideComputerName || why.includes(child.computer) ? why : `${child.computer}: ${why}`;
}

export function statusView(job: JobRecord, children: ChildJobRecord[], options: { hasMoreData: boolean; now?: number }): JobStatusView {
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
    ...(job.notPosted !== undefined ? { notPosted: job.notPosted } : {}),
    ...detailOf(job, children),
  };
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
function detailOf(job: JobRecord, children: ChildJobRecord[]): { detail?: string[] } {
  if (isFinished(job.state)) return {};
  const lines: string[] = [];
  const inState = (s: string): string[] => children.filter((c) => c.state === s).map((c) => c.computer);
  const running = inState('Running');
  if (running.length > 0) lines.push(`Running: ${names(running)}`);
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
 * One row of the job table: a top-level job, or one of its children (PSJobTypeName empty, its
 * computer as Location, the parent's Command), HasMoreData as PowerShell computes it.
 */
export function jobRow(store: Pick<JobStore, 'children' | 'hasUnreadOutput'>, job: JobRecord, child?: ChildJobRecord): string[] {
  const bool = (b: boolean): string => (b ? 'True' : 'False');
  if (child) return [String(child.id), child.name, '', child.state, bool(childHasMoreData(store, child)), child.computer, job.command];
  return [String(job.id), job.name, job.jobType, job.state, bool(hasMoreData(store, job)), job.location, job.command];
}

export function jobTable(
  store: Pick<JobStore, 'children' | 'hasUnreadOutput'>,
  entries: Array<{ job: JobRecord; child?: ChildJobRecord }>,
): Block {
  return { kind: 'table', columns: JOB_COLUMNS, rows: entries.map((e) => jobRow(store, e.job, e.child)) };
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
