/**
 * The platform-neutral message model. The core says *what* to show; each adapter decides *how*
 * (Block Kit, Discord embeds, terminal text) and is responsible for escaping and for splitting
 * to its platform's limits. Text in these blocks is raw: never pre-escaped for any platform.
 */

/** PowerShell's JobState values (reference section 4.1), in enum order: the index is the value. */
export const JOB_STATES = [
  'NotStarted',
  'Running',
  'Completed',
  'Failed',
  'Stopped',
  'Blocked',
  'Suspended',
  'Disconnected',
  'Suspending',
  'Stopping',
  'AtBreakpoint',
] as const;

export type JobState = (typeof JOB_STATES)[number];

export const FINISHED_STATES: ReadonlySet<JobState> = new Set(['Completed', 'Failed', 'Stopped']);

export interface JobStatusView {
  jobId: number;
  name: string;
  /** The command line as typed (secrets already masked). */
  command: string;
  /** Display name of who ran it. */
  invokedBy: string;
  state: JobState;
  /** Display name of who stopped it (Stop-Job or the Stop-Job button), once someone did. */
  stoppedBy?: string;
  /** Child-job count per state; states with zero children may be omitted. */
  counts: Partial<Record<JobState, number>>;
  total: number;
  elapsedMs: number;
  asJob: boolean;
  hasMoreData: boolean;
  /** Set when some output could not be posted; it is still in the store (Receive-Job shows it). */
  notPosted?: string;
  /**
   * Which computers the job waits on or lost, for people, one line each (`Running: web1, web2`,
   * `Failed: db1`, `web3 disconnected: waiting for it until 10:42:05 UTC (AGENT_LOST_GRACE)`);
   * long lists are shortened. Empty when there is nothing to say.
   */
  detail?: string[];
}

/** Buttons a status message may carry; a press comes back to the core as an ordinary command. */
export interface ActionButton {
  action: 'stop-job' | 'receive-job';
  jobId: number;
  label: string;
}

export type Block =
  /** A paragraph of plain text. */
  | { kind: 'text'; text: string }
  /**
   * Preformatted output; `title` names the computers it came from (with -HideComputerName only how
   * many, `(3 computers)`, when several printed it).
   */
  | { kind: 'code'; text: string; title?: string }
  | { kind: 'table'; columns: string[]; rows: string[][]; title?: string }
  | { kind: 'status'; status: JobStatusView }
  | { kind: 'error'; text: string }
  /**
   * Output too large to show inline: `head` and `tail` lines are shown, `content` (the whole
   * output) is attached as a file named `filename`.
   */
  | {
      kind: 'attachment';
      filename: string;
      content: string;
      head: string[];
      tail: string[];
      omittedLines: number;
      title?: string;
    }
  | { kind: 'actions'; buttons: ActionButton[] };

export interface NeutralMessage {
  blocks: Block[];
}

export function textMessage(text: string): NeutralMessage {
  return { blocks: [{ kind: 'text', text }] };
}

export function errorMessage(text: string): NeutralMessage {
  return { blocks: [{ kind: 'error', text }] };
}
