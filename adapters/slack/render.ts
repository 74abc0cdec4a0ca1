import type { types } from '@slack/bolt';
import type { ActionButton, Block, JobState, JobStatusView, NeutralMessage } from '../../src/messages/model.js';
import { FINISHED_STATES } from '../../src/messages/model.js';
import { codeFence, escapeCode, escapeMrkdwn } from './escape.js';

/**
 * Neutral message -> Block Kit. Slack's limits (api.slack.com/reference/block-kit): a section's
 * text at most 3,000 characters, at most 50 blocks per message, and a message's text at most
 * 40,000 characters. A neutral message that does not fit is split over several Slack messages;
 * a code block too large to be worth reading inline becomes a file upload with its first and
 * last lines shown.
 */
export const SLACK_LIMITS = {
  sectionText: 3000,
  blocksPerMessage: 50,
  messageText: 40_000,
} as const;

export interface RenderOptions {
  /** Escaped code larger than this (characters) is uploaded as a file instead of shown inline. */
  maxInlineCode: number;
  /** Lines shown inline (head and tail each) for output that is uploaded. */
  previewLines: number;
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = { maxInlineCode: 12_000, previewLines: 10 };

export interface SlackMessage {
  /** Notification / fallback text, already escaped. */
  text: string;
  blocks: types.KnownBlock[];
}

export interface SlackUpload {
  filename: string;
  content: string;
  title: string;
}

export interface RenderedMessage {
  /** Never empty: at least one message. */
  messages: SlackMessage[];
  uploads: SlackUpload[];
}

export function renderMessage(message: NeutralMessage, options: RenderOptions = DEFAULT_RENDER_OPTIONS): RenderedMessage {
  const blocks: types.KnownBlock[] = [];
  const uploads: SlackUpload[] = [];
  const hasActions = message.blocks.some((b) => b.kind === 'actions');

  for (const block of message.blocks) {
    blocks.push(...renderBlock(block, options, uploads));
    // A status without explicit buttons still offers the ones its state calls for.
    if (block.kind === 'status' && !hasActions) {
      const derived = buttonsForStatus(block.status);
      if (derived.length > 0) blocks.push(actionsBlock(derived));
    }
  }
  if (blocks.length === 0) blocks.push(section(' '));

  const fallback = escapeMrkdwn(fallbackText(message)).slice(0, 3000);
  return { messages: splitMessages(blocks, fallback), uploads };
}

function renderBlock(block: Block, options: RenderOptions, uploads: SlackUpload[]): types.KnownBlock[] {
  switch (block.kind) {
    case 'text':
      return textSections(escapeMrkdwn(block.text));
    case 'error':
      return textSections(':x: ' + escapeMrkdwn(block.text));
    case 'code':
      return codeSections(block.text, block.title, options, uploads);
    case 'table':
      return codeSections(formatTable(block.columns, block.rows), block.title, options, uploads);
    case 'status':
      return statusBlocks(block.status);
    case 'attachment':
      uploads.push({
        filename: safeFilename(block.filename),
        content: block.content,
        title: shortTitle(block.title ?? block.filename, MAX_FILE_TITLE),
      });
      return previewBlocks(block.head, block.tail, block.omittedLines, block.title, safeFilename(block.filename));
    case 'actions':
      return block.buttons.length > 0 ? [actionsBlock(block.buttons)] : [];
  }
}

/**
 * `verbatim: true`: Slack does not turn URLs, #channels or @mentions in the text into links on
 * its own; only explicit `<...>` syntax would, and escaping rules that out.
 */
function section(mrkdwn: string): types.SectionBlock {
  // Slack refuses an empty text object.
  return { type: 'section', text: { type: 'mrkdwn', text: mrkdwn === '' ? ' ' : mrkdwn, verbatim: true } };
}

function context(mrkdwn: string): types.ContextBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn, verbatim: true }] };
}

/** Splits already-escaped mrkdwn over sections, at line breaks when possible, never inside an entity. */
function textSections(escaped: string): types.SectionBlock[] {
  return chunkEscaped(escaped, SLACK_LIMITS.sectionText).map(section);
}

function chunkEscaped(escaped: string, maxChars: number): string[] {
  // Every piece must make progress, and an entity (at most 5 characters) must fit in one.
  const max = Math.max(8, maxChars);
  const out: string[] = [];
  let rest = escaped;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    if (cut <= 0) {
      cut = max;
      const amp = rest.lastIndexOf('&', cut);
      if (amp > cut - 6 && amp > 0) cut = amp; // never split `&amp;` / `&lt;` / `&gt;`
    }
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  out.push(rest);
  return out;
}

/** Cuts escaped text to `max` characters without splitting an `&amp;`-style entity. */
function truncateEscaped(escaped: string, max: number): string {
  return escaped.length <= max ? escaped : (chunkEscaped(escaped, max - 1)[0] ?? '') + '…';
}

/** Most characters a title (escaped) takes in a section, and in an uploaded file's title. */
const MAX_TITLE = 1000;
const MAX_FILE_TITLE = 250;

/**
 * A title names the computers an output came from (`web1, web2, …`); identical output from
 * hundreds of computers would not fit a section. The first names that fit are kept and the
 * rest counted: `web1, web2 … and 580 more`. `measure` is the length as sent.
 */
export function shortTitle(title: string, max: number, measure: (s: string) => number = (s) => s.length): string {
  if (measure(title) <= max) return title;
  const items = title.split(', ');
  let shown = '';
  let n = 0;
  for (const item of items) {
    const next = n === 0 ? item : `${shown}, ${item}`;
    if (measure(`${next} … and ${items.length - n - 1} more`) > max) break;
    shown = next;
    n++;
  }
  if (n > 0) return `${shown} … and ${items.length - n} more`;
  // One name longer than the room: cut it.
  let cut = title.slice(0, max - 1);
  while (cut.length > 0 && measure(cut + '…') > max) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return cut + '…';
}

function titleLine(title: string | undefined, continued: boolean): string {
  if (title === undefined || title === '') return '';
  return `*${escapeMrkdwn(shortTitle(title, MAX_TITLE, (t) => escapeMrkdwn(t).length))}*${continued ? ' _(continued)_' : ''}\n`;
}

function codeSections(raw: string, title: string | undefined, options: RenderOptions, uploads: SlackUpload[]): types.KnownBlock[] {
  const escaped = escapeCode(raw);
  if (escaped.length > options.maxInlineCode) {
    const lines = raw.replace(/\n$/, '').split('\n');
    const n = options.previewLines;
    const filename = safeFilename(`${title ? title.split(',')[0]!.trim() : 'output'}.txt`);
    uploads.push({ filename, content: raw, title: shortTitle(title ?? 'output', MAX_FILE_TITLE) });
    if (lines.length <= 2 * n) {
      // Few but very long lines: the preview is the start of the text.
      return previewBlocks([raw.slice(0, 1000)], [], 0, title, filename);
    }
    return previewBlocks(lines.slice(0, n), lines.slice(-n), lines.length - 2 * n, title, filename);
  }
  const blocks: types.KnownBlock[] = [];
  const overhead = (continued: boolean): number => titleLine(title, continued).length + 8;
  let rest = escaped;
  let continued = false;
  while (true) {
    const budget = SLACK_LIMITS.sectionText - overhead(continued);
    const [piece] = chunkEscaped(rest, budget);
    const chunk = piece ?? '';
    blocks.push(section(titleLine(title, continued) + codeFence(chunk)));
    rest = rest.slice(chunk.length).replace(/^\n/, '');
    if (rest === '') break;
    continued = true;
  }
  return blocks;
}

function previewBlocks(head: string[], tail: string[], omitted: number, title: string | undefined, filename: string): types.KnownBlock[] {
  const clip = (lines: string[]): string => lines.map((l) => (l.length > 300 ? l.slice(0, 300) + '…' : l)).join('\n');
  const budget = SLACK_LIMITS.sectionText - titleLine(title, false).length - 8;
  const blocks: types.KnownBlock[] = [];
  blocks.push(section(titleLine(title, false) + codeFence(truncateEscaped(escapeCode(clip(head)), budget))));
  const note = omitted > 0 ? `… ${omitted} line${omitted === 1 ? '' : 's'} not shown; ` : '';
  blocks.push(context(`${note}full output attached as \`${escapeMrkdwn(filename)}\``));
  if (tail.length > 0) blocks.push(section(codeFence(truncateEscaped(escapeCode(clip(tail)), budget))));
  return blocks;
}

const STATE_EMOJI: Partial<Record<JobState, string>> = {
  NotStarted: ':white_circle:',
  Running: ':hourglass_flowing_sand:',
  Completed: ':white_check_mark:',
  Failed: ':x:',
  Stopped: ':black_square_for_stop:',
  Stopping: ':black_square_for_stop:',
  Disconnected: ':electric_plug:',
  Blocked: ':double_vertical_bar:',
  Suspended: ':double_vertical_bar:',
};

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (ms < 1000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatCounts(status: JobStatusView): string {
  const parts = Object.entries(status.counts)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([state, n]) => `${n} ${state}`);
  return `${parts.length > 0 ? parts.join(', ') : 'none'} of ${status.total}`;
}

/** Job names and user names are typed by people: long ones are cut so the status always fits. */
const MAX_NAME = 200;

function statusBlocks(status: JobStatusView): types.KnownBlock[] {
  const emoji = STATE_EMOJI[status.state] ?? ':grey_question:';
  const head =
    `${emoji} *${truncateEscaped(escapeMrkdwn(status.name), MAX_NAME)}* (Id ${status.jobId}) · *${status.state}*` +
    (status.asJob ? ' · background job' : '');
  const command = escapeCode(status.command);
  const blocks: types.KnownBlock[] = [
    section(head + '\n' + codeFence(truncateEscaped(command, SLACK_LIMITS.sectionText - head.length - 10))),
    context(
      `by ${truncateEscaped(escapeMrkdwn(status.invokedBy), MAX_NAME)} · ${escapeMrkdwn(formatCounts(status))} · ${formatElapsed(status.elapsedMs)} elapsed` +
        (status.hasMoreData && FINISHED_STATES.has(status.state) ? ' · output not yet received' : '') +
        (status.stoppedBy !== undefined ? ` · stopped by @${truncateEscaped(escapeMrkdwn(status.stoppedBy), MAX_NAME)}` : ''),
    ),
  ];
  if (status.detail && status.detail.length > 0) {
    blocks.push(context(truncateEscaped(status.detail.map(escapeMrkdwn).join('\n'), SLACK_LIMITS.sectionText - 20)));
  }
  if (status.notPosted) {
    blocks.push(context(`:warning: ${truncateEscaped(escapeMrkdwn(status.notPosted), SLACK_LIMITS.sectionText - 20)}`));
  }
  return blocks;
}

/** Stop-Job while running; Receive-Job once finished with output nobody has received yet. */
export function buttonsForStatus(status: JobStatusView): ActionButton[] {
  if (!FINISHED_STATES.has(status.state)) return [{ action: 'stop-job', jobId: status.jobId, label: 'Stop-Job' }];
  if (status.hasMoreData) return [{ action: 'receive-job', jobId: status.jobId, label: 'Receive-Job' }];
  return [];
}

function actionsBlock(buttons: ActionButton[]): types.ActionsBlock {
  const seen = new Set<string>();
  const elements: types.Button[] = [];
  for (const b of buttons) {
    // action_id must be unique within a message; the job id travels in `value` only.
    const actionId = seen.has(b.action) ? `${b.action}:${b.jobId}` : b.action;
    seen.add(b.action);
    const button: types.Button = {
      type: 'button',
      action_id: actionId,
      value: String(b.jobId),
      text: { type: 'plain_text', text: b.label.slice(0, 75), emoji: false },
    };
    if (b.action === 'stop-job') {
      button.style = 'danger';
      button.confirm = {
        title: { type: 'plain_text', text: 'Stop the job?' },
        text: { type: 'plain_text', text: `Stop-Job -Id ${b.jobId}` },
        confirm: { type: 'plain_text', text: 'Stop' },
        deny: { type: 'plain_text', text: 'Cancel' },
      };
    }
    elements.push(button);
  }
  return { type: 'actions', block_id: `job-actions-${buttons[0]?.jobId ?? 0}`, elements: elements.slice(0, 25) };
}

/** `blocks` without the button `actionId`; an actions block left empty goes too. */
export function withoutButton(blocks: types.KnownBlock[], actionId: string): types.KnownBlock[] {
  const out: types.KnownBlock[] = [];
  for (const b of blocks) {
    if (b.type !== 'actions') {
      out.push(b);
      continue;
    }
    const elements = b.elements.filter((e) => !('action_id' in e) || e.action_id !== actionId);
    if (elements.length > 0) out.push({ ...b, elements });
  }
  return out;
}

export function formatTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join(' ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function blockTextLength(b: types.KnownBlock): number {
  if (b.type === 'section') return b.text?.text.length ?? 0;
  if (b.type === 'context') return b.elements.reduce((n, e) => n + ('text' in e ? e.text.length : 0), 0);
  return 0;
}

function splitMessages(blocks: types.KnownBlock[], fallback: string): SlackMessage[] {
  const messages: SlackMessage[] = [];
  let current: types.KnownBlock[] = [];
  let size = 0;
  for (const b of blocks) {
    const len = blockTextLength(b);
    if (
      current.length > 0 &&
      (current.length >= SLACK_LIMITS.blocksPerMessage || size + len > SLACK_LIMITS.messageText - fallback.length)
    ) {
      messages.push({ text: fallback, blocks: current });
      current = [];
      size = 0;
    }
    current.push(b);
    size += len;
  }
  messages.push({ text: fallback, blocks: current });
  return messages.map((m, i) => (i === 0 ? m : { ...m, text: `${fallback} (part ${i + 1})` }));
}

/** Notification text: what a phone shows. Raw; the caller escapes it. */
export function fallbackText(message: NeutralMessage): string {
  for (const b of message.blocks) {
    switch (b.kind) {
      case 'status':
        return `${b.status.name} (Id ${b.status.jobId}): ${b.status.state}, ${formatCounts(b.status)}`;
      case 'text':
      case 'error':
        return b.text.length > 200 ? b.text.slice(0, 200) + '…' : b.text;
      case 'code':
      case 'table':
      case 'attachment':
        return b.title ? `Output from ${b.title}` : 'Output';
      default:
        break;
    }
  }
  return 'chatops';
}

function safeFilename(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '');
  return (cleaned === '' ? 'output.txt' : cleaned).slice(0, 100);
}
