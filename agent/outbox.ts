import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OutputMessage, StateMessage } from '../src/protocol/agent-protocol.js';
import { ensurePrivateDir } from '../src/private-files.js';

export type RunMessageOut = OutputMessage | StateMessage;

export interface UnfinishedRun {
  runId: string;
  /** The run's process group leader and its start time (from /proc), when recorded. */
  process?: { pid: number; start: string };
}

const FINAL_STATES: ReadonlySet<string> = new Set(['Completed', 'Failed', 'Stopped']);

export const isFinal = (m: RunMessageOut): boolean => m.op === 'state' && FINAL_STATES.has(m.state);

interface RunEntry {
  runId: string;
  file?: string;
  nextSeq: number;
  /** Unacknowledged messages in seq order. */
  pending: RunMessageOut[];
  finalSeq?: number;
}

/**
 * Everything an agent has said about a run and the hub has not acknowledged yet.
 *
 * Durability: with a directory, each message is appended (one JSON line) to the run's spool file
 * `<dir>/<sha256(runId)>.jsonl` before it is sent, and each ack appends `{"ack":N}`; the file is
 * deleted once the run's final state is acknowledged. Appends are not fsynced: they survive an
 * agent crash, not a power cut. Without a directory (in-process simulated agents) it is memory only.
 *
 * Started run ids are remembered in `<dir>/../runs.log` by the agent's Runs (runs.ts), not here.
 */
export class Outbox {
  private readonly dir: string | undefined;
  private readonly runs = new Map<string, RunEntry>();

  constructor(dir?: string) {
    this.dir = dir;
    if (dir) ensurePrivateDir(dir);
  }

  /**
   * Reloads spool files after a restart. Returns the runs that have no final state (with the
   * process group recorded for them, if any): the previous agent died while they ran, so the
   * caller ends what is left of them and appends a final state.
   */
  load(): UnfinishedRun[] {
    if (!this.dir) return [];
    const unfinished: UnfinishedRun[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.jsonl')) continue;
      const file = join(this.dir, f);
      let acked = 0;
      let proc: { pid: number; start: string } | undefined;
      const messages: RunMessageOut[] = [];
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line === '') continue;
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          continue; // a torn last line from a crash mid-append: that message was never sent
        }
        if (typeof v !== 'object' || v === null) continue;
        const o = v as Record<string, unknown>;
        if (typeof o.ack === 'number') acked = Math.max(acked, o.ack);
        else if (typeof o.pid === 'number' && typeof o.start === 'string') proc = { pid: o.pid, start: o.start };
        else if ((o.op === 'output' || o.op === 'state') && typeof o.runId === 'string' && typeof o.seq === 'number') {
          messages.push(o as unknown as RunMessageOut);
        }
      }
      const first = messages[0];
      if (!first) {
        rmSync(file, { force: true });
        continue;
      }
      messages.sort((a, b) => a.seq - b.seq);
      const last = messages[messages.length - 1]!;
      const finalMsg = messages.find(isFinal);
      if (finalMsg && acked >= finalMsg.seq) {
        rmSync(file, { force: true });
        continue;
      }
      const entry: RunEntry = {
        runId: first.runId,
        file,
        nextSeq: last.seq + 1,
        pending: messages.filter((m) => m.seq > acked),
        ...(finalMsg ? { finalSeq: finalMsg.seq } : {}),
      };
      this.runs.set(entry.runId, entry);
      if (!finalMsg) unfinished.push({ runId: entry.runId, ...(proc ? { process: proc } : {}) });
    }
    return unfinished;
  }

  /** Assigns the next seq of the run, stores the message, and returns it ready to send. */
  append<T extends Omit<OutputMessage, 'seq'> | Omit<StateMessage, 'seq'>>(message: T): RunMessageOut {
    let entry = this.runs.get(message.runId);
    if (!entry) {
      entry = { runId: message.runId, nextSeq: 1, pending: [] };
      if (this.dir) entry.file = join(this.dir, createHash('sha256').update(message.runId).digest('hex') + '.jsonl');
      this.runs.set(message.runId, entry);
    }
    if (entry.finalSeq !== undefined) throw new Error(`run ${message.runId} already ended`);
    const full = { ...message, seq: entry.nextSeq++ } as RunMessageOut;
    if (entry.file) appendFileSync(entry.file, JSON.stringify(full) + '\n', { mode: 0o600 });
    entry.pending.push(full);
    if (isFinal(full)) entry.finalSeq = full.seq;
    return full;
  }

  /** Notes the run's process group (pid = pgid) and its start time, to clean up after a crash. */
  recordProcess(runId: string, pid: number, start: string): void {
    const entry = this.runs.get(runId);
    if (entry?.file) appendFileSync(entry.file, JSON.stringify({ pid, start }) + '\n');
  }

  /** Cumulative: everything up to `seq` of the run is stored by the hub. */
  ack(runId: string, seq: number): void {
    const entry = this.runs.get(runId);
    if (!entry) return;
    const before = entry.pending.length;
    entry.pending = entry.pending.filter((m) => m.seq > seq);
    if (entry.finalSeq !== undefined && seq >= entry.finalSeq) {
      if (entry.file) rmSync(entry.file, { force: true });
      this.runs.delete(runId);
      return;
    }
    if (entry.file && entry.pending.length !== before) appendFileSync(entry.file, `{"ack":${seq}}\n`);
  }

  /** Every unacknowledged message, run by run, each run in seq order. */
  pending(): RunMessageOut[] {
    const out: RunMessageOut[] = [];
    for (const e of this.runs.values()) out.push(...e.pending);
    return out;
  }

  /** Whether this outbox holds anything of the run (unacknowledged messages or an unacknowledged end). */
  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** Whether the run has a final state (acknowledged or not) known to this outbox. */
  hasEnded(runId: string): boolean {
    return this.runs.get(runId)?.finalSeq !== undefined;
  }

  size(): number {
    let n = 0;
    for (const e of this.runs.values()) n += e.pending.length;
    return n;
  }
}

/**
 * Remembers started run ids so a resent `run` is not started twice, and which of them ended
 * (a final state was stored), so a run recorded as started that left no other trace (the agent
 * died right after recording it) can be told apart from one that ended and was acknowledged.
 * File lines: `"runId"` when started, `{"end":"runId"}` when ended. Bounded.
 */
export class StartedRuns {
  private readonly file: string | undefined;
  private readonly ids = new Set<string>();
  private readonly ended = new Set<string>();
  private readonly limit: number;

  constructor(file?: string, limit = 10_000) {
    this.file = file;
    this.limit = limit;
    if (!file) return;
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    const lines = text.split('\n').filter((l) => l !== '');
    for (const l of lines.slice(-2 * limit)) {
      try {
        const v = JSON.parse(l) as unknown;
        if (typeof v === 'string') this.ids.add(v);
        else if (typeof v === 'object' && v !== null && typeof (v as { end?: unknown }).end === 'string')
          this.ended.add((v as { end: string }).end);
      } catch {
        // torn line
      }
    }
    if (this.ids.size > limit) this.trim();
    else if (lines.length > 2 * limit) this.rewrite();
  }

  has(runId: string): boolean {
    return this.ids.has(runId);
  }

  /** True once a final state of the run was stored (see markEnded). */
  hasEnded(runId: string): boolean {
    return this.ended.has(runId);
  }

  add(runId: string): void {
    this.ids.add(runId);
    if (this.file) appendFileSync(this.file, JSON.stringify(runId) + '\n', { mode: 0o600 });
    if (this.ids.size > this.limit * 2) this.trim();
  }

  /** Called right after the run's final state is in the outbox spool (which is deleted once acknowledged). */
  markEnded(runId: string): void {
    if (this.ended.has(runId)) return;
    this.ended.add(runId);
    if (this.file) appendFileSync(this.file, JSON.stringify({ end: runId }) + '\n', { mode: 0o600 });
  }

  private trim(): void {
    const keep = [...this.ids].slice(-this.limit);
    this.ids.clear();
    for (const k of keep) this.ids.add(k);
    for (const e of [...this.ended]) if (!this.ids.has(e)) this.ended.delete(e);
    this.rewrite();
  }

  private rewrite(): void {
    if (!this.file) return;
    const lines = [...this.ids].flatMap((i) => [JSON.stringify(i), ...(this.ended.has(i) ? [JSON.stringify({ end: i })] : [])]);
    writeFileSync(this.file, lines.join('\n') + '\n', { mode: 0o600 });
  }
}
