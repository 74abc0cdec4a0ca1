import type { ChatSink, MessageHandle } from './ports.js';
import type { CoreServices } from './context.js';
import type { JobRecord } from '../store/job-store.js';
import type { Block, NeutralMessage } from '../messages/model.js';
import {
  identicalOutputSummary,
  JOB_COLUMNS,
  jobTable,
  renderResults,
  statusMessage,
  progressLine,
  statusView,
  type ChildOutput,
  type RenderOptions,
} from '../messages/results.js';
import { hasMoreData, isFinished } from '../jobs/job-state.js';

/**
 * Keeps a job's status message current in one channel: edits it as children change state (at
 * most once per `statusIntervalMs`, and always for the final state). For -AsJob jobs the thread
 * shows state changes only; for synchronous ones `postResults` puts the per-computer results
 * there. What could not be posted stays in the store and the status says so.
 *
 * A synchronous call whose results are shown also streams: once the job has run for
 * STREAM_AFTER_MS, new output is posted in the thread per computer as it arrives (at most once per
 * `statusIntervalMs`) and marked read, as PowerShell prints a remote command's output as it comes.
 * A quick command never streams, so its results stay grouped (`web1, web2, web3`) as before.
 *
 * The status message's handle is stored with the job until the final state is drawn, so a
 * restarted bot follows it on (`resume`, through an adapter's sink for that channel).
 *
 * Its async work runs detached from events (timers, job events), so it never lets a rejection
 * escape: everything is caught and logged. A job removed meanwhile (Remove-Job, -AutoRemoveJob,
 * retention) ends it: it unsubscribes, resolves `finished` and edits nothing more.
 */
export class JobPresenter {
  private handle: MessageHandle | undefined;
  private lastUpdate = 0;
  private timer: NodeJS.Timeout | undefined;
  /** The latest progress record drawn per child. */
  private readonly progressSeen = new Map<number, number>();
  /** The steady redraw while the job runs (statusTickMs). */
  private ticker: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private updating: Promise<void> = Promise.resolve();
  /** Whether the last edit of the status message reached the platform. */
  private lastUpdateOk = false;
  /** Picked up after a restart (`resume`): the earlier process may have posted some of it. */
  private resumed = false;
  /** The state the status message was first posted with (-AsJob: a change is told in the thread). */
  private postedState: string | undefined;
  private readonly notPosted: string[] = [];
  /** Streaming (synchronous, shown): pending post, last post, and when streaming may begin. */
  private streamTimer: NodeJS.Timeout | undefined;
  private lastStream = 0;
  private streamFrom = 0;
  /** Picked up after a restart: results are posted at the end only (see `resume`). */
  private resumedNoStream = false;
  /** Some output was posted while the job ran: the final post shows only the rest. */
  private streamedAny = false;
  /** Set when finishing starts or the bot stops: `finish` runs at most once. */
  private done = false;
  /** The bot is stopping: the store is closing, so no more edits at all. */
  private disposed = false;
  /** The job was removed: no more posts or edits; `finished` resolved. */
  private removedJob = false;
  private finishedResolve!: () => void;
  /** Resolves when the job finished and the final status was drawn, or when it was removed. */
  readonly finished: Promise<void>;

  constructor(
    private readonly services: CoreServices,
    private readonly sink: ChatSink,
    private readonly jobId: number,
    private readonly asJob: boolean,
    /** False when the call's value is assigned or piped: results stay unread for Receive-Job. */
    private readonly showResults = true,
  ) {
    this.finished = new Promise((r) => (this.finishedResolve = r));
  }

  /** Whether the job was removed while this presenter followed it (`finished` resolved then). */
  get removed(): boolean {
    return this.removedJob;
  }

  async start(): Promise<void> {
    const job = this.services.store.getJob(this.jobId);
    if (!job) {
      this.onRemoved();
      return;
    }
    this.postedState = job.state;
    this.streamFrom = Date.now() + STREAM_AFTER_MS;
    try {
      this.handle = await this.sink.post(this.statusMessage(job));
      this.services.store.recordPost(this.jobId, 'status', true);
      if (!this.gone()) {
        // threadHandle stays after the job finished: a typed Receive-Job posts in this thread.
        this.services.store.updateJob(this.jobId, {
          statusHandle: this.handle.id,
          statusShowsResults: !this.asJob && this.showResults,
          threadHandle: this.handle.id,
        });
      }
      register(this.services, this.jobId, this);
    } catch (e) {
      this.recordFailure('status message', e);
    }
    this.follow();
  }

  /**
   * After a restart: follows a job whose status message an earlier bot process posted (its
   * handle stored with the job), through `sink`, a sink of the adapter that posted it.
   */
  static resume(services: CoreServices, sink: ChatSink, job: JobRecord & { statusHandle: string }): JobPresenter {
    const presenter = new JobPresenter(services, sink, job.id, job.asJob, job.statusShowsResults);
    presenter.handle = { id: job.statusHandle };
    presenter.resumed = true;
    // Posted while the job ran: an -AsJob job's final state is told in the thread.
    presenter.postedState = 'Running';
    // It does not stream: what came while no process followed the job (often all of it) is
    // posted at the end, grouped, as before the restart. If the earlier process streamed some of
    // it, the final post shows only the rest.
    presenter.resumedNoStream = true;
    presenter.streamedAny = services.store.posts(job.id).some((p) => p.ok && p.what.startsWith(`${STREAM_LABEL}:`));
    register(services, job.id, presenter);
    // Redrawn at once (it shows the state the old process last drew); a finished job's final
    // drawing then replaces this pending one.
    presenter.schedule();
    presenter.follow();
    return presenter;
  }

  /** Follows the job's events until it finishes, is removed, or the bot stops. */
  private follow(): void {
    this.unsubscribe = this.services.jobs.on((ev) => {
      if (ev.type === 'stopping') {
        this.dispose();
        return;
      }
      const id = ev.type === 'job' ? ev.job.id : ev.jobId;
      if (id !== this.jobId) return;
      if (ev.type === 'output') {
        if (this.streams()) this.scheduleStream();
        // New Write-Progress of a computer: the live status shows it. (Only progress is looked
        // up: a query per line of a streaming job's output would be work for nothing.)
        if (ev.stream !== 'progress') return;
        const progressId = this.services.store.latestOutput(ev.childId, 'progress')?.id;
        if (progressId !== undefined && this.progressSeen.get(ev.childId) !== progressId) {
          this.progressSeen.set(ev.childId, progressId);
          this.schedule();
        }
        return;
      }
      if (ev.type === 'removed') {
        this.onRemoved();
        return;
      }
      if (ev.type === 'job' && isFinished(ev.job.state)) {
        this.detached(this.finish(ev.job), 'finish');
        return;
      }
      this.schedule();
    });
    // Elapsed time and who is still running keep moving even when no event comes.
    this.ticker = setInterval(() => this.schedule(), this.services.statusTickMs);
    this.ticker.unref();
    // Removed or finished while the status was being posted (no event reached us then).
    const now = this.services.store.getJob(this.jobId);
    if (!now) this.onRemoved();
    else if (isFinished(now.state)) this.detached(this.finish(now), 'finish');
    // Output stored before we listened (while the status was posted, or before a restart).
    else if (this.streams()) this.scheduleStream();
  }

  /** A synchronous call whose results are shown streams its output (not -AsJob, not assigned). */
  private streams(): boolean {
    return !this.asJob && this.showResults && !this.resumedNoStream;
  }

  private scheduleStream(): void {
    if (this.streamTimer || this.done) return;
    const now = Date.now();
    const wait = Math.max(0, this.streamFrom - now, this.lastStream + this.services.statusIntervalMs - now);
    this.streamTimer = setTimeout(() => {
      this.streamTimer = undefined;
      // Finishing already: its final post shows what is still unread.
      if (this.done) return;
      this.detached(this.stream(), 'stream output');
    }, wait);
  }

  /**
   * Posts the output stored since the last post, per computer, and marks it read: under the job's
   * lock, as Receive-Job does, so a Receive-Job typed meanwhile (or the final results, which queue
   * behind this on the same lock) never shows it again. A failed post leaves it unread: the next
   * one, or the final results, try it again (and those record a failure).
   */
  private async stream(): Promise<void> {
    const { store } = this.services;
    await this.services.jobLocks.withLock(this.jobId, async () => {
      if (this.gone() || !this.handle) return;
      this.lastStream = Date.now();
      const job = store.getJob(this.jobId);
      if (!job) return;
      const outputs: ChildOutput[] = store
        .children(job.id)
        .map((child) => ({ child, records: wholeLines(child, store.unreadOutput(child.id)) }))
        .filter((o) => o.records.length > 0);
      if (outputs.length === 0) return;
      const handle = this.handle;
      const posted = await postResultBlocks(
        outputs,
        job.hideComputerName,
        async (m, what) => {
          if (this.gone()) return false;
          try {
            await this.sink.postInThread(handle, m);
            store.recordPost(this.jobId, what, true);
            return true;
          } catch (e) {
            this.services.log.warn('could not stream output', { job: this.jobId, what, error: String(e) });
            return false;
          }
        },
        // Reasons are told once, with the final results.
        { showFailures: false },
        STREAM_LABEL,
      );
      if (!posted || this.gone()) return;
      markAllRead(store, outputs);
      this.streamedAny = true;
    });
    // More may have come while this post was on its way (the next output event also schedules).
    if (!this.done && !this.gone() && store.children(this.jobId).some((c) => wholeLines(c, store.unreadOutput(c.id)).length > 0)) {
      this.scheduleStream();
    }
  }

  /** Work started from an event or timer: nobody awaits it, so a failure is logged here. */
  private detached(work: Promise<void>, what: string): void {
    work.catch((e: unknown) => {
      this.services.log.error('job presenter failed', {
        job: this.jobId,
        what,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
    });
  }

  /** The job was deleted: stop following it, and whoever awaits `finished` goes on. */
  private onRemoved(): void {
    this.removedJob = true;
    this.stopListening();
    const byJob = live.get(this.services);
    if (byJob?.get(this.jobId) === this) byJob.delete(this.jobId);
    this.finishedResolve();
  }

  /**
   * -AsJob: PowerShell answers with the job's row (Get-Job's table); here the row lives in the
   * status message, so its State and HasMoreData follow every edit.
   */
  private statusMessage(job: JobRecord): NeutralMessage {
    const { store } = this.services;
    const children = store.children(job.id);
    const progress = new Map<number, string>();
    // One query for the job, not one per child: a fan-out's status is drawn every few seconds.
    const latestProgress = store.latestProgress(job.id);
    for (const c of children) {
      const latest = c.state === 'Running' ? latestProgress.get(c.id) : undefined;
      const line = latest ? progressLine(latest.data) : undefined;
      if (line !== undefined) progress.set(c.id, line);
    }
    const view = statusView(job, children, { hasMoreData: hasMoreData(store, job, children), progress });
    if (!this.asJob) return statusMessage(view);
    // The status shows the whole command already; in the row a long one is cut, so the status
    // stays one message on every platform (an edit cannot grow into several).
    const row = jobTable(store, [{ job }]);
    if (row.kind === 'table')
      row.rows = row.rows.map((r) =>
        r.map((c, i) => (i === COMMAND_COLUMN && c.length > MAX_ROW_COMMAND ? `${c.slice(0, MAX_ROW_COMMAND - 1)}…` : c)),
      );
    return statusMessage(view, [row]);
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, this.lastUpdate + this.services.statusIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.detached(this.update(), 'status update');
    }, wait);
  }

  /** Never rejects: a failed edit (or store read) is logged, and the chain goes on. */
  private update(): Promise<void> {
    this.updating = this.updating.then(async () => {
      if (this.disposed || this.removedJob) return;
      try {
        const job = this.services.store.getJob(this.jobId);
        if (!job || !this.handle) return;
        this.lastUpdate = Date.now();
        this.lastUpdateOk = false;
        await this.sink.update(this.handle, this.statusMessage(job));
        this.lastUpdateOk = true;
      } catch (e) {
        this.services.log.warn('status update failed', { job: this.jobId, error: String(e) });
      }
    });
    return this.updating;
  }

  private stopListening(): void {
    this.done = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.streamTimer) clearTimeout(this.streamTimer);
    this.streamTimer = undefined;
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /**
   * The bot is shutting down and the store is about to close: no more edits. `finished` stays
   * pending on purpose; the job is resumed from the store when the bot starts again.
   */
  private dispose(): void {
    this.disposed = true;
    this.stopListening();
    live.get(this.services)?.delete(this.jobId);
  }

  /** Draws the status again (Receive-Job changed HasMoreData after the job finished). */
  refresh(): Promise<void> {
    return this.update();
  }

  private async finish(job: JobRecord): Promise<void> {
    if (this.done) return;
    this.stopListening();
    // Removal can no longer reach us through the listener: `gone` checks the store instead.
    try {
      if (this.asJob && this.handle && this.postedState !== job.state && !this.gone()) {
        await this.thread({ blocks: [{ kind: 'text', text: this.stateChangeText(job) }] }, 'state change');
      }
      if (!this.asJob && this.showResults && !this.gone()) {
        await this.postResults(job);
      }
      await this.update();
      // Drawn for good: a restarted bot has nothing to pick up. A final edit that failed (the
      // adapter stopping under it) is left for the next process to draw, once: a message that
      // is gone (deleted) must not be tried on every restart.
      if ((this.lastUpdateOk || this.resumed) && !this.gone()) this.services.store.updateJob(this.jobId, { statusHandle: null });
    } finally {
      // Also when something above threw (logged by `detached`): a synchronous Invoke-Command
      // awaiting `finished` must never hang.
      this.finishedResolve();
    }
  }

  /** Removed (or the bot stopping): nothing more is posted for the job. */
  private gone(): boolean {
    if (this.disposed || this.removedJob) return true;
    if (this.services.store.getJob(this.jobId) !== undefined) return false;
    this.removedJob = true;
    return true;
  }

  private stateChangeText(job: JobRecord): string {
    const children = this.services.store.children(job.id);
    const failed = children.filter((c) => c.state === 'Failed');
    const parts = [`${job.name} is ${job.state}.`];
    if (failed.length > 0) parts.push(`Failed: ${failed.map((c) => c.computer).join(', ')}.`);
    if (hasMoreData(this.services.store, job, children)) parts.push(`Receive-Job ${job.id} shows the output.`);
    return parts.join(' ');
  }

  private async thread(message: NeutralMessage, what: string): Promise<boolean> {
    if (this.gone()) return false;
    // What the earlier process posted already (the note, results) is not posted twice.
    if (this.resumed && this.services.store.posts(this.jobId).some((p) => p.ok && p.what === what)) return true;
    if (!this.handle) {
      this.recordFailure(what, new Error('the status message could not be posted'));
      return false;
    }
    try {
      await this.sink.postInThread(this.handle, message);
      this.services.store.recordPost(this.jobId, what, true);
      return true;
    } catch (e) {
      this.recordFailure(what, e);
      return false;
    }
  }

  private recordFailure(what: string, e: unknown): void {
    this.services.log.warn('could not post', { job: this.jobId, what, error: String(e) });
    if (this.gone()) return;
    this.services.store.recordPost(this.jobId, what, false, String(e));
    this.notPosted.push(what);
    this.services.store.updateJob(this.jobId, { notPosted: this.notPosted.join('; ') });
  }

  /**
   * Posts each result block in the thread; the output of a child is marked received only when
   * every block showing it was posted, so nothing that failed to post is lost.
   */
  private async postResults(job: JobRecord): Promise<void> {
    const { store } = this.services;
    // Under the job's lock: a Receive-Job typed meanwhile must not show the same output again.
    await this.services.jobLocks.withLock(job.id, async () => {
      if (this.gone()) return;
      const children = store.children(job.id);
      const outputs: ChildOutput[] = children.map((child) => ({ child, records: store.unreadOutput(child.id) }));
      if (!(await postResultBlocks(outputs, job.hideComputerName, (m, what) => this.thread(m, what)))) return;
      markAllRead(store, outputs);
      // Streamed: the blocks above held only the rest, so computers whose whole output is the
      // same are named together here instead of showing that output again.
      if (!this.streamedAny || job.hideComputerName) return;
      const summary = identicalOutputSummary(children, store.output(job.id));
      if (summary !== undefined) await this.thread({ blocks: [{ kind: 'text', text: summary }] }, 'identical output');
    });
  }
}

/**
 * A synchronous call streams only once it has run this long: a command that ends sooner shows its
 * results at the end, grouped as identical outputs (a fan-out's usual case), in one post per group.
 */
export const STREAM_AFTER_MS = 2000;
/** What streamed posts are recorded as (`output: web1`); final results are `results: web1`. */
const STREAM_LABEL = 'output';

/**
 * A running child's output up to its last complete line: a line cut between two chunks is posted
 * whole with the next post (or the final results), not split over two messages.
 */
function wholeLines(child: ChildOutput['child'], records: ChildOutput['records']): ChildOutput['records'] {
  if (isFinished(child.state)) return records;
  let end = records.length;
  while (end > 0 && !records[end - 1]!.data.endsWith('\n')) end--;
  return end === records.length ? records : records.slice(0, end);
}

/** The -AsJob row cuts a long Command (the status shows it whole). */
const COMMAND_COLUMN = JOB_COLUMNS.indexOf('Command');
const MAX_ROW_COMMAND = 200;

/**
 * Presenters whose status message is still on screen, per core (a test process may run several
 * cores), so a later Receive-Job can redraw it and a restart's reattach does not follow a job
 * twice. Bounded: the oldest are dropped.
 */
const live = new WeakMap<CoreServices, Map<number, JobPresenter>>();
const MAX_LIVE_PRESENTERS = 1000;

function register(services: CoreServices, jobId: number, presenter: JobPresenter): void {
  let byJob = live.get(services);
  if (!byJob) live.set(services, (byJob = new Map()));
  byJob.set(jobId, presenter);
  if (byJob.size > MAX_LIVE_PRESENTERS) byJob.delete(byJob.keys().next().value!);
}

/** Whether a presenter of this core follows the job's status message now. */
export function isFollowed(services: CoreServices, jobId: number): boolean {
  return live.get(services)?.has(jobId) ?? false;
}

/**
 * Redraws the status message of a job (its HasMoreData, Receive-Job button and -AsJob row follow
 * what was received since it finished). No-op for jobs whose status this core did not post.
 */
export async function refreshJobStatus(services: CoreServices, jobId: number): Promise<void> {
  await live.get(services)?.get(jobId)?.refresh();
}

/**
 * Marks each child's output read up to the last record shown, in one transaction: a -Keep
 * reader (which takes no lock) sees all of it read or none.
 */
export function markAllRead(store: CoreServices['store'], outputs: ChildOutput[]): boolean {
  let read = false;
  store.transaction(() => {
    for (const { child, records } of outputs) {
      const last = records[records.length - 1];
      if (!last) continue;
      store.markRead(child.id, last.id);
      read = true;
    }
  });
  return read;
}

/** The job was removed: its status message stays as it was last drawn. */
export function forgetJobStatus(services: CoreServices, jobId: number): void {
  live.get(services)?.delete(jobId);
}

/**
 * Posts the result blocks and returns whether every message was posted. All or nothing: a child
 * may appear in a grouped block (`web1, web2`) or in the object table, so a failed message does
 * not tell which children's output it carried; the caller keeps all of it unread then.
 */
export async function postResultBlocks(
  outputs: ChildOutput[],
  hideComputerName: boolean,
  post: (message: NeutralMessage, what: string) => Promise<boolean>,
  options: Omit<RenderOptions, 'hideComputerName'> = {},
  label = 'results',
): Promise<boolean> {
  const blocks = renderResults(outputs, { ...options, hideComputerName });
  let allPosted = true;
  // One message per block (per computer group) for a few blocks; a fan-out with many distinct
  // results is sent a few blocks per message, since chat platforms rate-limit posts (adapters
  // split further to their own limits).
  const messages = blocks.length <= MAX_BLOCKS_PER_MESSAGE ? blocks.map((b) => [b]) : chunkBlocks(blocks);
  for (const chunk of messages) {
    const titles = chunk.map((b) => ('title' in b && b.title !== undefined ? b.title : b.kind));
    if (!(await post({ blocks: chunk }, `${label}: ${titles.join('; ')}`))) allPosted = false;
  }
  return allPosted;
}

const MAX_BLOCKS_PER_MESSAGE = 10;
const MAX_CHARS_PER_MESSAGE = 12_000;

function blockSize(b: Block): number {
  switch (b.kind) {
    case 'code':
    case 'text':
    case 'error':
      return b.text.length;
    case 'table':
      return b.rows.reduce((n, r) => n + r.join(' ').length + 1, 0);
    case 'attachment':
      return [...b.head, ...b.tail].join('\n').length;
    default:
      return 100;
  }
}

/** Groups result blocks into messages of at most 10 blocks and about 12,000 characters. */
export function chunkBlocks(blocks: Block[]): Block[][] {
  const out: Block[][] = [];
  let current: Block[] = [];
  let size = 0;
  for (const b of blocks) {
    const n = blockSize(b);
    if (current.length > 0 && (current.length >= MAX_BLOCKS_PER_MESSAGE || size + n > MAX_CHARS_PER_MESSAGE)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(b);
    size += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}
