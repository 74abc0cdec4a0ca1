import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from './database.js';
import type {
  AppendOutcome,
  ChildJobRecord,
  ChildUpdate,
  JobRecord,
  JobRunSpec,
  JobStore,
  JobUpdate,
  NewJob,
  OutputRecord,
} from './job-store.js';
import { FINISHED_STATES, type JobState } from '../messages/model.js';
import type { OutputStream } from '../protocol/agent-protocol.js';
import type { PsValue } from '../language/values.js';

interface JobRow {
  id: number;
  name: string;
  instance_id: string;
  job_type: string;
  state: string;
  reason: string | null;
  location: string;
  command: string;
  channel: string;
  invoked_by: string;
  invoked_by_id: string;
  as_job: number;
  hide_computer_name: number;
  throttle_limit: number;
  stop_requested: number;
  begin_time: string | null;
  end_time: string | null;
  not_posted: string | null;
  created_at: string;
  status_handle: string | null;
  status_shows_results: number;
  thread_handle: string | null;
  stopped_by: string | null;
}

interface ChildRow {
  id: number;
  parent_id: number;
  position: number;
  name: string;
  instance_id: string;
  computer: string;
  agent: string | null;
  run_id: string;
  state: string;
  reason: string | null;
  exit_code: number | null;
  configuration_name: string | null;
  dispatched: number;
  read_upto: number;
  begin_time: string | null;
  end_time: string | null;
  lost_deadline: string | null;
}

interface OutputRow {
  id: number;
  job_id: number;
  child_id: number;
  computer: string;
  run_id: string;
  seq: number;
  stream: string;
  data: string;
  at: number;
}

/** SQL list of FINISHED_STATES, for `state NOT IN ...`. */
const FINISHED = `(${[...FINISHED_STATES].map((s) => `'${s}'`).join(',')})`;

function toJob(r: JobRow): JobRecord {
  return {
    id: r.id,
    name: r.name,
    instanceId: r.instance_id,
    jobType: r.job_type,
    state: r.state as JobState,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    location: r.location,
    command: r.command,
    channel: r.channel,
    invokedBy: r.invoked_by,
    invokedById: r.invoked_by_id,
    asJob: r.as_job === 1,
    hideComputerName: r.hide_computer_name === 1,
    throttleLimit: r.throttle_limit,
    stopRequested: r.stop_requested === 1,
    ...(r.begin_time !== null ? { beginTime: r.begin_time } : {}),
    ...(r.end_time !== null ? { endTime: r.end_time } : {}),
    ...(r.not_posted !== null ? { notPosted: r.not_posted } : {}),
    createdAt: r.created_at,
    ...(r.status_handle !== null ? { statusHandle: r.status_handle } : {}),
    statusShowsResults: r.status_shows_results === 1,
    ...(r.thread_handle !== null ? { threadHandle: r.thread_handle } : {}),
    ...(r.stopped_by !== null ? { stoppedBy: r.stopped_by } : {}),
  };
}

/** Assigns rather than spreads: a fan-out's status reads a thousand of these every few seconds. */
function toChild(r: ChildRow): ChildJobRecord {
  const c: ChildJobRecord = {
    id: r.id,
    parentId: r.parent_id,
    position: r.position,
    name: r.name,
    instanceId: r.instance_id,
    computer: r.computer,
    runId: r.run_id,
    state: r.state as JobState,
    dispatched: r.dispatched === 1,
    readUpto: r.read_upto,
  };
  if (r.agent !== null) c.agent = r.agent;
  if (r.reason !== null) c.reason = r.reason;
  if (r.exit_code !== null) c.exitCode = r.exit_code;
  if (r.configuration_name !== null) c.configurationName = r.configuration_name;
  if (r.begin_time !== null) c.beginTime = r.begin_time;
  if (r.end_time !== null) c.endTime = r.end_time;
  if (r.lost_deadline !== null && r.lost_deadline !== undefined) c.lostDeadline = r.lost_deadline;
  return c;
}

function toOutput(r: OutputRow): OutputRecord {
  return {
    id: r.id,
    jobId: r.job_id,
    childId: r.child_id,
    computer: r.computer,
    runId: r.run_id,
    seq: r.seq,
    stream: r.stream as OutputStream,
    data: r.data,
    at: r.at,
  };
}

/** The embedded JobStore on the bot's SQLite file (tables from migration 200). */
export class SqliteJobStore implements JobStore {
  private readonly stmts;
  /** Prepared UPDATE statements by their SQL (the column set varies per call). */
  private readonly updates = new Map<string, Statement<unknown[]>>();

  constructor(private readonly db: Db) {
    this.stmts = {
      nextId: db.prepare("UPDATE job_counters SET value = value + ? WHERE name = 'job_id' RETURNING value"),
      insertJob: db.prepare(`INSERT INTO jobs (id, name, instance_id, job_type, state, location, command, channel,
        invoked_by, invoked_by_id, as_job, hide_computer_name, throttle_limit, begin_time, created_at)
        VALUES (@id, @name, @instance_id, 'RemoteJob', 'Running', @location, @command, @channel, @invoked_by,
        @invoked_by_id, @as_job, @hide, @throttle, @now, @now)`),
      insertChild: db.prepare(`INSERT INTO child_jobs (id, parent_id, position, name, instance_id, computer, agent,
        run_id, state, configuration_name) VALUES (@id, @parent_id, @position, @name, @instance_id, @computer, @agent,
        @run_id, 'NotStarted', @configuration_name)`),
      insertRun: db.prepare(`INSERT INTO job_runs (job_id, script, arguments, using_values, configuration_name, runbook,
        max_runtime_ms, sessions) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      getJob: db.prepare('SELECT * FROM jobs WHERE id = ?'),
      listAll: db.prepare('SELECT * FROM jobs ORDER BY id'),
      listChannel: db.prepare('SELECT * FROM jobs WHERE channel = ? ORDER BY id'),
      unfinished: db.prepare(`SELECT * FROM jobs WHERE state NOT IN ${FINISHED} ORDER BY id`),
      liveStatus: db.prepare('SELECT * FROM jobs WHERE status_handle IS NOT NULL ORDER BY id'),
      deleteJob: db.prepare('DELETE FROM jobs WHERE id = ?'),
      deleteChildren: db.prepare('DELETE FROM child_jobs WHERE parent_id = ?'),
      getRun: db.prepare('SELECT * FROM job_runs WHERE job_id = ?'),
      children: db.prepare('SELECT * FROM child_jobs WHERE parent_id = ? ORDER BY position'),
      getChild: db.prepare('SELECT * FROM child_jobs WHERE id = ?'),
      childByRun: db.prepare('SELECT * FROM child_jobs WHERE run_id = ?'),
      runningOn: db.prepare(`SELECT * FROM child_jobs WHERE agent = ? AND dispatched = 1 AND state NOT IN ${FINISHED} ORDER BY id`),
      addPendingStop: db.prepare('INSERT OR REPLACE INTO pending_stops (run_id, agent, expires_at) VALUES (?, ?, ?)'),
      expirePendingStops: db.prepare('DELETE FROM pending_stops WHERE agent = ? AND expires_at IS NOT NULL AND expires_at < ?'),
      pendingStopsOn: db.prepare('SELECT run_id FROM pending_stops WHERE agent = ? ORDER BY run_id'),
      clearPendingStop: db.prepare('DELETE FROM pending_stops WHERE run_id = ? AND agent = ?'),
      pruneEnded: db.prepare(`DELETE FROM jobs WHERE end_time < ? AND state IN ${FINISHED} RETURNING id`),
      outputLimits: db.prepare('SELECT final_seq, output_bytes, output_cut FROM child_jobs WHERE id = ?'),
      addOutputBytes: db.prepare('UPDATE child_jobs SET output_bytes = output_bytes + ? WHERE id = ?'),
      cutOutput: db.prepare('UPDATE child_jobs SET output_bytes = ?, output_cut = 1 WHERE id = ?'),
      setFinalSeq: db.prepare('UPDATE child_jobs SET final_seq = ? WHERE id = ? AND final_seq IS NULL'),
      outputExists: db.prepare('SELECT 1 FROM job_output WHERE run_id = ? AND seq = ?'),
      insertOutput: db.prepare(`INSERT OR IGNORE INTO job_output (job_id, child_id, computer, run_id, seq, stream, data, at)
        VALUES (@jobId, @childId, @computer, @runId, @seq, @stream, @data, @at)`),
      outputJob: db.prepare('SELECT * FROM job_output WHERE job_id = ? AND id > ? ORDER BY id'),
      outputChild: db.prepare('SELECT * FROM job_output WHERE child_id = ? AND id > ? ORDER BY id'),
      latestOutput: db.prepare('SELECT * FROM job_output WHERE child_id = ? AND stream = ? ORDER BY id DESC LIMIT 1'),
      // `stream = 'progress'` written out, so SQLite takes the partial index job_output_progress.
      latestProgressOfChild: db.prepare("SELECT * FROM job_output WHERE child_id = ? AND stream = 'progress' ORDER BY id DESC LIMIT 1"),
      latestProgress: db.prepare(
        "SELECT * FROM job_output WHERE id IN (SELECT MAX(id) FROM job_output WHERE job_id = ? AND stream = 'progress' GROUP BY child_id)",
      ),
      unread: db.prepare(
        'SELECT o.* FROM job_output o JOIN child_jobs c ON c.id = o.child_id WHERE o.child_id = ? AND o.id > c.read_upto ORDER BY o.id',
      ),
      hasUnread: db.prepare(
        'SELECT 1 FROM job_output o JOIN child_jobs c ON c.id = o.child_id WHERE o.child_id = ? AND o.id > c.read_upto LIMIT 1',
      ),
      markRead: db.prepare('UPDATE child_jobs SET read_upto = MAX(read_upto, ?) WHERE id = ?'),
      getVars: db.prepare('SELECT name, value FROM channel_variables WHERE channel = ?'),
      allVars: db.prepare('SELECT channel, name, value FROM channel_variables ORDER BY channel, name'),
      setVar: db.prepare(`INSERT INTO channel_variables (channel, name, value, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (channel, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`),
      removeVar: db.prepare('DELETE FROM channel_variables WHERE channel = ? AND name = ?'),
      // A post may finish after its job was removed: then there is nothing to record it against.
      recordPost: db.prepare(
        'INSERT INTO job_posts (job_id, what, ok, error, at) SELECT @jobId, @what, @ok, @error, @at WHERE EXISTS (SELECT 1 FROM jobs WHERE id = @jobId)',
      ),
      posts: db.prepare('SELECT what, ok, error, at FROM job_posts WHERE job_id = ? ORDER BY id'),
    };
  }

  /** One transaction function, made once: better-sqlite3 builds a wrapper per db.transaction(). */
  private runInTransaction?: (fn: () => unknown) => unknown;

  transaction<T>(fn: () => T): T {
    this.runInTransaction ??= this.db.transaction((f: () => unknown) => f());
    return this.runInTransaction(fn) as T;
  }

  createJob(job: NewJob): { job: JobRecord; children: ChildJobRecord[] } {
    return this.db.transaction(() => {
      const n = job.children.length;
      const last = (this.stmts.nextId.get(n + 1) as { value: number }).value;
      const id = last - n;
      const now = new Date().toISOString();
      const location = job.children.map((c) => c.computer).join(',');
      this.stmts.insertJob.run({
        id,
        name: job.name ?? `Job${id}`,
        instance_id: randomUUID(),
        location,
        command: job.command,
        channel: job.channel,
        invoked_by: job.invokedBy,
        invoked_by_id: job.invokedById,
        as_job: job.asJob ? 1 : 0,
        hide: job.hideComputerName ? 1 : 0,
        throttle: job.throttleLimit,
        now,
      });
      // The records are built as inserted (NotStarted, nothing read), not read back.
      const children = job.children.map((c, i): ChildJobRecord => {
        const childId = id + 1 + i;
        const row = {
          id: childId,
          parent_id: id,
          position: i,
          name: `Job${childId}`,
          instance_id: randomUUID(),
          computer: c.computer,
          agent: c.agent ?? null,
          run_id: randomUUID(),
          configuration_name: c.configurationName ?? null,
        };
        this.stmts.insertChild.run(row);
        const rec: ChildJobRecord = {
          id: childId,
          parentId: id,
          position: i,
          name: row.name,
          instanceId: row.instance_id,
          computer: c.computer,
          runId: row.run_id,
          state: 'NotStarted',
          dispatched: false,
          readUpto: 0,
        };
        if (c.agent !== undefined) rec.agent = c.agent;
        if (c.configurationName !== undefined) rec.configurationName = c.configurationName;
        return rec;
      });
      const r = job.run;
      this.stmts.insertRun.run(
        id,
        r.script,
        JSON.stringify(r.arguments),
        JSON.stringify(r.using),
        r.configurationName ?? null,
        r.runbook ?? null,
        r.maxRuntimeMs,
        r.sessions !== undefined ? JSON.stringify(r.sessions) : null,
      );
      return { job: this.getJob(id)!, children };
    })();
  }

  getJob(id: number): JobRecord | undefined {
    const r = this.stmts.getJob.get(id) as JobRow | undefined;
    return r ? toJob(r) : undefined;
  }

  listJobs(channel?: string): JobRecord[] {
    const rows = (channel === undefined ? this.stmts.listAll.all() : this.stmts.listChannel.all(channel)) as JobRow[];
    return rows.map(toJob);
  }

  jobsWithLiveStatus(): JobRecord[] {
    return (this.stmts.liveStatus.all() as JobRow[]).map(toJob);
  }

  unfinishedJobs(): JobRecord[] {
    return (this.stmts.unfinished.all() as JobRow[]).map(toJob);
  }

  updateJob(id: number, u: JobUpdate): void {
    this.updateRow('jobs', id, {
      state: u.state,
      reason: u.reason,
      stop_requested: u.stopRequested === undefined ? undefined : u.stopRequested ? 1 : 0,
      begin_time: u.beginTime,
      end_time: u.endTime,
      not_posted: u.notPosted,
      status_handle: u.statusHandle,
      status_shows_results: u.statusShowsResults === undefined ? undefined : u.statusShowsResults ? 1 : 0,
      thread_handle: u.threadHandle,
      stopped_by: u.stoppedBy,
    });
  }

  /** `UPDATE table SET` the columns whose value is defined; nothing when none is. */
  private updateRow(table: 'jobs' | 'child_jobs', id: number, columns: Record<string, unknown>): void {
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    if (set.length === 0) return;
    const sql = `UPDATE ${table} SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`;
    let statement = this.updates.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.updates.set(sql, statement);
    }
    statement.run(...set.map(([, v]) => v), id);
  }

  deleteJob(id: number): void {
    this.db.transaction(() => {
      this.stmts.deleteChildren.run(id);
      this.stmts.deleteJob.run(id);
    })();
  }

  getRunSpec(jobId: number): JobRunSpec | undefined {
    const r = this.stmts.getRun.get(jobId) as
      | {
          script: string;
          arguments: string;
          using_values: string;
          configuration_name: string | null;
          runbook: string | null;
          max_runtime_ms: number;
          sessions: string | null;
        }
      | undefined;
    if (!r) return undefined;
    return {
      script: r.script,
      arguments: JSON.parse(r.arguments) as unknown[],
      using: JSON.parse(r.using_values) as Record<string, unknown>,
      ...(r.configuration_name !== null ? { configurationName: r.configuration_name } : {}),
      ...(r.runbook !== null ? { runbook: r.runbook } : {}),
      maxRuntimeMs: r.max_runtime_ms,
      ...(r.sessions !== null ? { sessions: JSON.parse(r.sessions) as NonNullable<JobRunSpec['sessions']> } : {}),
    };
  }

  children(jobId: number): ChildJobRecord[] {
    return (this.stmts.children.all(jobId) as ChildRow[]).map(toChild);
  }

  getChild(id: number): ChildJobRecord | undefined {
    const r = this.stmts.getChild.get(id) as ChildRow | undefined;
    return r ? toChild(r) : undefined;
  }

  childByRunId(runId: string): ChildJobRecord | undefined {
    const r = this.stmts.childByRun.get(runId) as ChildRow | undefined;
    return r ? toChild(r) : undefined;
  }

  updateChild(id: number, u: ChildUpdate): void {
    this.updateRow('child_jobs', id, {
      state: u.state,
      reason: u.reason,
      exit_code: u.exitCode,
      dispatched: u.dispatched === undefined ? undefined : u.dispatched ? 1 : 0,
      begin_time: u.beginTime,
      end_time: u.endTime,
      configuration_name: u.configurationName,
      lost_deadline: u.lostDeadline,
    });
  }

  runningChildrenOn(agent: string): ChildJobRecord[] {
    return (this.stmts.runningOn.all(agent) as ChildRow[]).map(toChild);
  }

  addPendingStop(agent: string, runId: string, expiresAt?: string): void {
    this.stmts.addPendingStop.run(runId, agent, expiresAt ?? null);
  }

  pendingStopsOn(agent: string, now: string): string[] {
    this.stmts.expirePendingStops.run(agent, now);
    return (this.stmts.pendingStopsOn.all(agent) as Array<{ run_id: string }>).map((r) => r.run_id);
  }

  clearPendingStop(agent: string, runId: string): void {
    this.stmts.clearPendingStop.run(runId, agent);
  }

  pruneJobsEndedBefore(endedBefore: string): number[] {
    // Children, runs, output and post records go with their job (ON DELETE CASCADE).
    return this.db.transaction(() => (this.stmts.pruneEnded.all(endedBefore) as Array<{ id: number }>).map((r) => r.id))();
  }

  appendOutput(record: Omit<OutputRecord, 'id'>): boolean {
    return this.stmts.insertOutput.run(record).changes === 1;
  }

  appendRunOutput(record: Omit<OutputRecord, 'id'>, maxBytes: number): AppendOutcome {
    // Inside a caller's transaction (a batch of agent messages) it is one already.
    if (this.db.inTransaction) return this.appendWithinLimits(record, maxBytes);
    this.appendRunOutputTx ??= this.db.transaction((r: Omit<OutputRecord, 'id'>, max: number) => this.appendWithinLimits(r, max));
    return this.appendRunOutputTx(record, maxBytes);
  }

  recordFinalSeq(childId: number, seq: number): void {
    this.stmts.setFinalSeq.run(seq, childId);
  }

  private appendRunOutputTx?: (record: Omit<OutputRecord, 'id'>, maxBytes: number) => AppendOutcome;

  /** Runs inside appendRunOutput's transaction. */
  private appendWithinLimits(record: Omit<OutputRecord, 'id'>, maxBytes: number): AppendOutcome {
    const limits = this.stmts.outputLimits.get(record.childId) as
      | { final_seq: number | null; output_bytes: number; output_cut: number }
      | undefined;
    // The final state is the run's last message: its own seq and anything after it are refused.
    if (limits?.final_seq != null && record.seq >= limits.final_seq) return 'after-final';
    // An honest agent never sends an empty chunk; stored, each would cost a row for nothing.
    if (record.data === '') return 'duplicate';
    // Each row is charged its bookkeeping too, so many tiny chunks cannot cost far more disk
    // than the limit says.
    const bytes = Buffer.byteLength(record.data, 'utf8') + OUTPUT_ROW_OVERHEAD;
    const used = limits?.output_bytes ?? 0;
    if (limits?.output_cut !== 1 && used + bytes <= maxBytes) {
      if (this.stmts.insertOutput.run(record).changes !== 1) return 'duplicate';
      this.stmts.addOutputBytes.run(bytes, record.childId);
      return 'stored';
    }
    if (this.stmts.outputExists.get(record.runId, record.seq) !== undefined) return 'duplicate';
    if (limits?.output_cut === 1) return 'over-limit';
    const kept = utf8Prefix(record.data, maxBytes - used - OUTPUT_ROW_OVERHEAD);
    if (kept !== '') this.stmts.insertOutput.run({ ...record, data: kept });
    this.stmts.insertOutput.run({
      ...record,
      seq: -1,
      stream: 'warning',
      data: `Output was cut at ${formatBytes(maxBytes)} (JOB_MAX_OUTPUT): the rest of this command's output on ${record.computer} was not stored.\n`,
    });
    this.stmts.cutOutput.run(maxBytes, record.childId);
    return 'cut';
  }

  output(jobId: number, options: { childId?: number; afterId?: number } = {}): OutputRecord[] {
    const after = options.afterId ?? 0;
    const rows = (
      options.childId !== undefined ? this.stmts.outputChild.all(options.childId, after) : this.stmts.outputJob.all(jobId, after)
    ) as OutputRow[];
    return rows.map(toOutput);
  }

  latestProgress(jobId: number): Map<number, OutputRecord> {
    const out = new Map<number, OutputRecord>();
    for (const row of this.stmts.latestProgress.all(jobId) as OutputRow[]) {
      const rec = toOutput(row);
      out.set(rec.childId, rec);
    }
    return out;
  }

  latestOutput(childId: number, stream: OutputStream): OutputRecord | undefined {
    const row = (stream === 'progress' ? this.stmts.latestProgressOfChild.get(childId) : this.stmts.latestOutput.get(childId, stream)) as
      | OutputRow
      | undefined;
    return row ? toOutput(row) : undefined;
  }

  unreadOutput(childId: number): OutputRecord[] {
    return (this.stmts.unread.all(childId) as OutputRow[]).map(toOutput);
  }

  hasUnreadOutput(childId: number): boolean {
    return this.stmts.hasUnread.get(childId) !== undefined;
  }

  markRead(childId: number, uptoId: number): void {
    this.stmts.markRead.run(uptoId, childId);
  }

  getVariables(channel: string): Map<string, PsValue> {
    const out = new Map<string, PsValue>();
    for (const r of this.stmts.getVars.all(channel) as Array<{ name: string; value: string }>) {
      out.set(r.name, JSON.parse(r.value) as PsValue);
    }
    return out;
  }

  listVariables(channel?: string): Array<{ channel: string; name: string; value: PsValue }> {
    if (channel !== undefined) {
      return [...this.getVariables(channel)].map(([name, value]) => ({ channel, name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));
    }
    return (this.stmts.allVars.all() as Array<{ channel: string; name: string; value: string }>).map((r) => ({
      channel: r.channel,
      name: r.name,
      value: JSON.parse(r.value) as PsValue,
    }));
  }

  setVariable(channel: string, name: string, value: PsValue): void {
    this.stmts.setVar.run(channel, name.toLowerCase(), JSON.stringify(value), new Date().toISOString());
  }

  removeVariable(channel: string, name: string): boolean {
    return this.stmts.removeVar.run(channel, name.toLowerCase()).changes > 0;
  }

  recordPost(jobId: number, what: string, ok: boolean, error?: string): void {
    this.stmts.recordPost.run({ jobId, what, ok: ok ? 1 : 0, error: error ?? null, at: new Date().toISOString() });
  }

  posts(jobId: number): Array<{ what: string; ok: boolean; error?: string; at: string }> {
    return (this.stmts.posts.all(jobId) as Array<{ what: string; ok: number; error: string | null; at: string }>).map((r) => ({
      what: r.what,
      ok: r.ok === 1,
      ...(r.error !== null ? { error: r.error } : {}),
      at: r.at,
    }));
  }
}

/** What one stored output row is charged against JOB_MAX_OUTPUT besides its text (bytes). */
export const OUTPUT_ROW_OVERHEAD = 64;

/** The longest prefix of `text` that fits in `bytes` of UTF-8, never splitting a character. */
export function utf8Prefix(text: string, bytes: number): string {
  if (bytes <= 0) return '';
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= bytes) return text;
  let end = bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/** `16 MiB`, `512 KiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
