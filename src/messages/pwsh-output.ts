import type { OutputRecord } from '../store/job-store.js';

/**
 * Reads the records a Microsoft.PowerShell run stored (PwshRecord in src/protocol/agent-protocol.ts)
 * and lays them out as PowerShell's console shows a remote command's streams:
 * - output text and the Warning, Verbose, Debug and Information streams as lines, in the order
 *   written (`WARNING: `, `VERBOSE: `, `DEBUG: ` prefixes; Write-Host and Write-Information as
 *   they are);
 * - objects as rows of one table (or list) per kind across computers: the view (types sharing one,
 *   as FileInfo and DirectoryInfo do, share the table), else the type, with the same columns and
 *   group (Get-ChildItem's `Directory: /etc`, the table's title), PSComputerName after the own
 *   columns, as PowerShell's client adds it. RunspaceId, which PowerShell shows for objects
 *   without a view, is left out: chat has no runspaces;
 * - errors as their ConciseView text; progress is not output (the live status shows it).
 * A line that is not a record (data stored by an older agent) is shown as text; an object that is
 * not a record is shown as a row of its own properties.
 */

export interface PwshObjectRow {
  /** Record id (+ fraction for the n-th line), for ordering blocks by arrival. */
  order: number;
  kind: string;
  type: string;
  cols: string[];
  cells: string[];
  list: boolean;
  /** The view's group label (`Directory: /etc`), shown as the table's title. */
  group?: string;
}

export interface PwshChildLayout {
  /** Output text, warnings and the like, one line each, in order; first record id. */
  text: string;
  textOrder: number | undefined;
  errors: string;
  errorOrder: number | undefined;
  rows: PwshObjectRow[];
  /** Messages of terminating errors (the child's reason repeats one of them). */
  terminating: string[];
}

const PREFIX: Partial<Record<string, string>> = { warning: 'WARNING: ', verbose: 'VERBOSE: ', debug: 'DEBUG: ' };

function parse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return line;
  }
}

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** An object record: its rows and what it is shown with. */
interface ObjectItem {
  type: string;
  /** What decides the table: the view's identity, else the type. */
  view: string;
  group?: string;
  cols: string[];
  cells: string[][];
  list: boolean;
}

/** A parsed output line as a row or a text line. */
function outputItem(value: unknown): { text: string } | ObjectItem | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return { text: str(value) };
  const o = value as Record<string, unknown>;
  if (typeof o.text === 'string') return { text: o.text };
  if (Array.isArray(o.cols) && Array.isArray(o.rows)) {
    const type = typeof o.t === 'string' ? o.t : '';
    return {
      type,
      view: typeof o.view === 'string' && o.view !== '' ? o.view : type,
      ...(typeof o.group === 'string' && o.group !== '' ? { group: o.group } : {}),
      cols: o.cols.map(str),
      cells: (o.rows as unknown[]).map((r) => (Array.isArray(r) ? r.map(str) : [str(r)])),
      list: o.list === true,
    };
  }
  // Not a record: an object's properties (PSComputerName and RunspaceId from the remote side are the bot's to add).
  const cols = Object.keys(o).filter((k) => k !== 'PSComputerName' && k !== 'RunspaceId' && k !== 'PSShowComputerName');
  return { type: '', view: '', cols, cells: [cols.map((k) => str(o[k]))], list: false };
}

export function layoutPwshChild(records: OutputRecord[]): PwshChildLayout {
  const lines: string[] = [];
  const errors: string[] = [];
  const rows: PwshObjectRow[] = [];
  const terminating: string[] = [];
  let textOrder: number | undefined;
  let errorOrder: number | undefined;
  for (const r of records) {
    if (r.stream === 'progress') continue;
    const parts = r.data.split('\n');
    if (parts.at(-1) === '') parts.pop();
    for (const [i, line] of parts.entries()) {
      const value = parse(line);
      const rec = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
      if (r.stream === 'error') {
        errors.push(rec && typeof rec.text === 'string' ? rec.text : str(value));
        if (rec?.terminating === true && typeof rec.message === 'string') terminating.push(rec.message);
        errorOrder ??= r.id;
        continue;
      }
      if (r.stream === 'output') {
        const item = outputItem(value);
        if (item === undefined) continue;
        if ('text' in item) {
          lines.push(item.text);
          textOrder ??= r.id;
          continue;
        }
        for (const [j, cells] of item.cells.entries()) {
          rows.push({
            order: r.id + (i + j / 1000) / 1e4,
            kind: [item.list ? 'list' : 'table', item.view, item.group ?? '', ...item.cols].join('\u0000'),
            type: item.type,
            cols: item.cols,
            cells,
            list: item.list,
            ...(item.group !== undefined ? { group: item.group } : {}),
          });
        }
        continue;
      }
      const text = rec && typeof rec.text === 'string' ? rec.text : str(value);
      lines.push(`${PREFIX[r.stream] ?? ''}${text}`);
      textOrder ??= r.id;
    }
  }
  return { text: lines.join('\n'), textOrder, errors: errors.join('\n'), errorOrder, rows, terminating };
}

/** PowerShell's list format: `Name : value`, names padded to the longest, entries apart. */
export function formatList(entries: Array<Array<[string, string]>>): string {
  return entries
    .map((entry) => {
      const width = Math.max(...entry.map(([k]) => k.length));
      return entry.map(([k, v]) => `${k.padEnd(width)} : ${v}`).join('\n');
    })
    .join('\n\n');
}

/**
 * The values of a synchronous call's output lines (for `$r = icm ...`): text as strings, objects
 * as hashtables of their shown columns (and PSComputerName).
 */
export function pwshOutputValues(
  text: string,
  computer: string,
): Array<string | { kind: 'hashtable'; entries: Array<{ key: string; value: string }> }> {
  const out: Array<string | { kind: 'hashtable'; entries: Array<{ key: string; value: string }> }> = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const item = outputItem(parse(line));
    if (item === undefined) continue;
    if ('text' in item) {
      out.push(item.text);
      continue;
    }
    for (const cells of item.cells) {
      out.push({
        kind: 'hashtable',
        entries: [...item.cols.map((key, i) => ({ key, value: cells[i] ?? '' })), { key: 'PSComputerName', value: computer }],
      });
    }
  }
  return out;
}
