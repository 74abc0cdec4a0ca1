import { isDeepStrictEqual } from 'node:util';
import type { OutputRecord } from '../../src/store/job-store.js';
import type { SessionStep } from './cases.js';
import type { Aspect } from './deviations.js';
import type { JobSnapshot, ReferenceRecord, ReferenceResult } from './ssh-remoting.js';

export interface Difference {
  aspect: Aspect;
  text: string;
}

/**
 * Our stored output as the reference's records: one per shown value, error, warning, message.
 * Output is stored as display records (src/messages/pwsh-output.ts): `{text}` for a value shown
 * as text, `{cols, rows}` for objects shown as a table or list; a row becomes an object of its
 * shown columns.
 */
export function ourRecords(output: OutputRecord[]): ReferenceRecord[] {
  const records: ReferenceRecord[] = [];
  for (const o of output) {
    for (const line of o.data.split('\n')) {
      if (line === '') continue;
      let rec: Record<string, unknown> = { text: line };
      try {
        const v: unknown = JSON.parse(line);
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) rec = v as Record<string, unknown>;
      } catch {
        // plain text (a shell's output)
      }
      if (o.stream === 'output') {
        if (Array.isArray(rec.cols) && Array.isArray(rec.rows)) {
          const cols = rec.cols as string[];
          for (const row of rec.rows as unknown[][]) {
            records.push({ stream: 'output', computer: o.computer, value: Object.fromEntries(cols.map((c, i) => [c, row[i]])) });
          }
        } else records.push({ stream: 'output', computer: o.computer, value: String(rec.text ?? '') });
      } else if (o.stream === 'error') {
        records.push({
          stream: 'error',
          computer: o.computer,
          message: String(rec.message || rec.text || ''),
          ...(typeof rec.fqid === 'string' ? { fqid: rec.fqid } : {}),
          ...(typeof rec.category === 'string' ? { category: rec.category } : {}),
        });
      } else if (o.stream === 'warning' || o.stream === 'verbose' || o.stream === 'information') {
        records.push({ stream: o.stream, computer: o.computer, message: String(rec.text ?? '') });
      }
    }
  }
  return records;
}

/** Plain data for comparison: JSON's view of both sides (numbers, strings, arrays, objects). */
function plain(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}

/** A value as PowerShell's host prints it in a cell or a line. */
function display(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string' || typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/**
 * Whether our shown value is what PowerShell's client shows for its deserialized value: a line
 * for a primitive, and for an object the columns we show holding its properties' values (a
 * hashtable is shown as Name/Value rows, one per entry).
 */
function sameShown(theirs: unknown, ours: unknown): boolean {
  if (theirs === null || typeof theirs !== 'object') return typeof ours === 'string' && ours === display(theirs);
  if (ours === null || typeof ours !== 'object') return false;
  const o = ours as Record<string, unknown>;
  const t = theirs as Record<string, unknown>;
  const cols = Object.keys(o);
  return cols.length > 0 && cols.every((c) => c in t && display(t[c]) === display(o[c]));
}

/** PowerShell's values with each hashtable entry as the Name/Value row its table shows. */
function shownValues(theirs: unknown[], ours: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of theirs) {
    const row = ours[out.length];
    if (
      v !== null &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      row !== null &&
      typeof row === 'object' &&
      'Name' in row &&
      'Value' in row &&
      !('Name' in v)
    ) {
      for (const [k, x] of Object.entries(v)) out.push({ Name: k, Value: x });
    } else out.push(v);
  }
  return out;
}

function byComputer(records: ReferenceRecord[], stream: ReferenceRecord['stream']): Map<string, ReferenceRecord[]> {
  const m = new Map<string, ReferenceRecord[]>();
  for (const r of records) {
    if (r.stream !== stream) continue;
    const k = r.computer ?? '?';
    m.set(k, [...(m.get(k) ?? []), r]);
  }
  return m;
}

function compareRecords(theirs: ReferenceRecord[], ours: ReferenceRecord[], where: string, out: Difference[]): void {
  const to = byComputer(theirs, 'output');
  const oo = byComputer(ours, 'output');
  for (const computer of new Set([...to.keys(), ...oo.keys()])) {
    const b = (oo.get(computer) ?? []).map((r) => plain(r.value));
    const a = shownValues(
      (to.get(computer) ?? []).map((r) => plain(r.value)),
      b,
    );
    if (a.length !== b.length || a.some((v, i) => !sameShown(v, b[i])))
      out.push({ aspect: 'output', text: `${where} ${computer}: pwsh ${JSON.stringify(a)}, ours ${JSON.stringify(b)}` });
  }
  const te = byComputer(theirs, 'error');
  const oe = byComputer(ours, 'error');
  for (const computer of new Set([...te.keys(), ...oe.keys()])) {
    const a = te.get(computer) ?? [];
    const b = oe.get(computer) ?? [];
    const ourText = b.map((r) => r.message ?? '').join('\n');
    const missing = a.filter((r) => !ourText.includes(r.message ?? ''));
    if (missing.length > 0 || (a.length === 0) !== (b.length === 0)) {
      out.push({
        aspect: 'errors',
        text: `${where} ${computer}: pwsh ${JSON.stringify(a.map((r) => r.message))}, ours ${JSON.stringify(b.map((r) => r.message))}`,
      });
    }
    const ids = b.map((r) => r.fqid).filter((x) => x !== undefined);
    if (
      ids.length > 0 &&
      !isDeepStrictEqual(
        a.map((r) => r.fqid),
        ids,
      )
    ) {
      out.push({
        aspect: 'error-ids',
        text: `${where} ${computer}: pwsh ${JSON.stringify(a.map((r) => r.fqid))}, ours ${JSON.stringify(ids)}`,
      });
    }
  }
  // Warnings and host messages: which were shown, in order (PowerShell does not tag a remote
  // information record with its computer).
  for (const stream of ['warning', 'information'] as const) {
    const a = theirs.filter((r) => r.stream === stream).map((r) => r.message);
    const b = ours.filter((r) => r.stream === stream).map((r) => r.message);
    if (!isDeepStrictEqual(a, b))
      out.push({
        aspect: stream === 'warning' ? 'warnings' : 'information',
        text: `${where}: pwsh ${JSON.stringify(a)}, ours ${JSON.stringify(b)}`,
      });
  }
}

function compareSnapshot(theirs: JobSnapshot | undefined, ours: JobSnapshot | undefined, where: string, out: Difference[]): void {
  if (!theirs || !ours) {
    if (theirs !== ours) out.push({ aspect: 'job-state', text: `${where}: pwsh ${JSON.stringify(theirs)}, ours ${JSON.stringify(ours)}` });
    return;
  }
  if (theirs.state !== ours.state) out.push({ aspect: 'job-state', text: `${where}: pwsh ${theirs.state}, ours ${ours.state}` });
  const tc = theirs.children.map((c) => `${c.computer}=${c.state}`).sort();
  const oc = ours.children.map((c) => `${c.computer}=${c.state}`).sort();
  if (!isDeepStrictEqual(tc, oc)) out.push({ aspect: 'child-states', text: `${where}: pwsh ${tc.join(' ')}, ours ${oc.join(' ')}` });
  const th = [`job=${theirs.hasMoreData}`, ...theirs.children.map((c) => `${c.computer}=${c.hasMoreData}`).sort()];
  const oh = [`job=${ours.hasMoreData}`, ...ours.children.map((c) => `${c.computer}=${c.hasMoreData}`).sort()];
  if (!isDeepStrictEqual(th, oh)) out.push({ aspect: 'has-more-data', text: `${where}: pwsh ${th.join(' ')}, ours ${oh.join(' ')}` });
  if (theirs.location !== ours.location) out.push({ aspect: 'location', text: `${where}: pwsh ${theirs.location}, ours ${ours.location}` });
  if (theirs.command.trim() !== ours.command.trim())
    out.push({ aspect: 'command', text: `${where}: pwsh ${JSON.stringify(theirs.command)}, ours ${JSON.stringify(ours.command)}` });
}

/** Every way our result differs from PowerShell's for one case. */
export function compareCase(theirs: ReferenceResult, ours: ReferenceResult): Difference[] {
  const out: Difference[] = [];
  if (Boolean(theirs.thrown) !== Boolean(ours.thrown)) {
    out.push({ aspect: 'thrown', text: `pwsh ${JSON.stringify(theirs.thrown ?? null)}, ours ${JSON.stringify(ours.thrown ?? null)}` });
    return out;
  }
  if (theirs.records || ours.records) compareRecords(theirs.records ?? [], ours.records ?? [], 'result', out);
  if (theirs.afterWait || ours.afterWait) {
    compareSnapshot(theirs.afterWait, ours.afterWait, 'after Wait-Job', out);
    compareRecords(theirs.keep ?? [], ours.keep ?? [], 'Receive-Job -Keep', out);
    compareSnapshot(theirs.afterKeep, ours.afterKeep, 'after Receive-Job -Keep', out);
    compareSnapshot(theirs.afterReceive, ours.afterReceive, 'after Receive-Job', out);
  }
  return out;
}

/**
 * A session as error texts name it (`session Runspace1, <guid>, web1 is ...`): the name, the
 * instance id and the computer are each side's own (pwsh counts runspaces, the bot its
 * sessions), so both become placeholders.
 */
export function normaliseSessionNames(message: string): string {
  return message.replace(
    /session \S+, [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}, \S+ is /gi,
    'session <name>, <guid>, <computer> is ',
  );
}

function forStep(records: ReferenceRecord[], step: SessionStep): ReferenceRecord[] {
  return records.map((r) => {
    let out = r;
    if (r.message !== undefined) out = { ...out, message: normaliseSessionNames(r.message) };
    if (step.columns && r.value !== null && typeof r.value === 'object' && !Array.isArray(r.value)) {
      const v = r.value as Record<string, unknown>;
      out = { ...out, value: Object.fromEntries(step.columns.map((c) => [c, v[c]])) };
    }
    return out;
  });
}

/** Every way our steps differ from PowerShell's in a session case (steps with compare: false skipped). */
export function compareSteps(steps: SessionStep[], theirs: ReferenceResult, ours: ReferenceResult): Difference[] {
  const out: Difference[] = [];
  steps.forEach((step, i) => {
    if (step.compare === false) return;
    const a = theirs.steps?.[i];
    const b = ours.steps?.[i];
    if (!a || !b) {
      out.push({
        aspect: 'thrown',
        text: `step ${i + 1} (${step.line}) did not run: pwsh ${JSON.stringify(a)}, ours ${JSON.stringify(b)}`,
      });
      return;
    }
    compareRecords(forStep(a, step), forStep(b, step), `step ${i + 1} (${step.line})`, out);
  });
  return out;
}
