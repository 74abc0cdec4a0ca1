import {
  ButtonStyle,
  ComponentType,
  MessageFlags,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type APIEmbedField,
} from 'discord.js';
import type { ActionButton, Block, JobState, JobStatusView, NeutralMessage } from '../../src/messages/model.js';

/**
 * Neutral messages → Discord message payloads (content, embeds, buttons, files). Discord facts
 * this file relies on: message content is at most 2,000 characters, an embed description 4,096,
 * a field value 1,024, a title 256, at most 10 embeds and 10 files per message, at most 5 buttons
 * per action row and a button label of 80 characters.
 */
export const CONTENT_LIMIT = 2000;
const EMBED_TOTAL_LIMIT = 6000;
const MAX_FILES = 10;

/** No @everyone, role or user ping can come from anything the bot sends. */
export const NO_MENTIONS = { parse: [] as never[] };

export interface FilePart {
  name: string;
  data: Buffer;
  contentType?: string;
}

/** A message body as the REST API takes it, plus the files that go with it (multipart). */
export interface DiscordPayload {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponent>[];
  files: FilePart[];
}

const ZWSP = '\u200b';

/**
 * Makes `text` safe inside a ``` fenced block: a zero-width space after every backtick that is
 * followed by another breaks every run of backticks, so no fence can close the block early.
 */
export function escapeCodeBlock(text: string): string {
  return text.replace(/`(?=`)/g, '`' + ZWSP);
}

/** A fenced block around already-escaped text. The bare fence line means "no language". */
function fence(escaped: string): string {
  return '```\n' + escaped + '\n```';
}

/**
 * Escapes Discord markdown in plain text: emphasis, code, spoilers, strike-through, links, and
 * the line-start markers for quotes, headings and lists.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\*_~`|[\]()]/g, '\\$&')
    .replace(/^(\s*)([>#-])/gm, '$1\\$2')
    .replace(/^(\s*\d+)\./gm, '$1\\.');
}

/** Splits on code points (never inside a surrogate pair) into pieces of at most `max` UTF-16 units. */
function hardSplit(line: string, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const ch of line) {
    if (cur.length + ch.length > max) {
      out.push(cur);
      cur = '';
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}

/** Packs lines into chunks of at most `max` characters, breaking over-long lines. */
export function chunkLines(text: string, max: number): string[] {
  const chunks: string[] = [];
  let cur: string | undefined;
  for (const line of text.split('\n')) {
    for (const piece of line.length > max ? hardSplit(line, max) : [line]) {
      if (cur === undefined) cur = piece;
      else if (cur.length + 1 + piece.length <= max) cur += '\n' + piece;
      else {
        chunks.push(cur);
        cur = piece;
      }
    }
  }
  chunks.push(cur ?? '');
  return chunks;
}

/**
 * Output as code blocks, each message-sized: the title (computer names) on the first, the text
 * escaped and split on line boundaries so every piece is a complete fenced block.
 */
export function renderCode(text: string, title?: string): string[] {
  const heading = title !== undefined && title !== '' ? `**${escapeMarkdown(truncate(title, 300))}**\n` : '';
  const room = CONTENT_LIMIT - heading.length - 8; // 8 = the two fences and their newlines
  return chunkLines(escapeCodeBlock(text), room).map((chunk, i) => (i === 0 ? heading : '') + fence(chunk));
}

/**
 * A table drawn as PowerShell's Format-Table would, in a code block. Every part is the header (two
 * lines) and at least one row, so a line wider than a third of what a message holds could never be
 * posted with its header: the widest columns are cut (with an ellipsis) until a row fits that
 * width, and a line that escaping still makes longer is cut too. Long tables are split into parts
 * that each repeat the header.
 */
export function renderTable(columns: string[], rows: string[][], title?: string): string[] {
  const heading = title !== undefined && title !== '' ? `**${escapeMarkdown(truncate(title, 300))}**\n` : '';
  const room = CONTENT_LIMIT - heading.length - 8;
  const maxLine = Math.floor((room - 2) / 3);
  const natural = columns.map((c, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), c.length));
  const widths = fitWidths(natural, maxLine - (columns.length - 1));
  const line = (cells: string[]): string =>
    cutText(
      escapeCodeBlock(
        cells
          .map((c, i) => {
            const cell = cutText(c, widths[i] ?? 0);
            return i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0);
          })
          .join(' ')
          .trimEnd(),
      ),
      maxLine,
    );
  const headerText = [line(columns), line(widths.map((w) => '-'.repeat(w)))].join('\n');
  const out: string[] = [];
  let cur = headerText;
  let rowsInCur = 0;
  for (const r of rows) {
    const row = line(columns.map((_c, i) => r[i] ?? ''));
    if (cur.length + 1 + row.length > room && rowsInCur > 0) {
      out.push(cur);
      cur = headerText;
      rowsInCur = 0;
    }
    cur += `\n${row}`;
    rowsInCur++;
  }
  out.push(cur);
  return out.map((chunk, i) => (i === 0 ? heading : '') + fence(chunk));
}

/**
 * Column widths whose sum is at most `budget`: narrow columns keep their width, the widest share
 * what is left (one cap for all of them, as large as fits; at least 1).
 */
function fitWidths(natural: number[], budget: number): number[] {
  const sum = (cap: number): number => natural.reduce((n, w) => n + Math.min(w, cap), 0);
  if (sum(Infinity) <= budget) return natural;
  let lo = 1;
  let hi = Math.max(1, ...natural);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (sum(mid) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return natural.map((w) => Math.min(w, lo));
}

/** `text` in at most `max` UTF-16 units, cut on a code point with `…` when it is longer. */
function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return max === 1 ? '…' : '';
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** File names Discord and every OS accept: letters, digits, dot, dash, underscore. */
export function safeFilename(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return truncate(cleaned === '' ? 'output.txt' : cleaned, 100);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/** Long output: first and last lines inline, the note of what was cut, the whole as a file. */
export function renderAttachment(block: Extract<Block, { kind: 'attachment' }>): { content: string; file: FilePart } {
  const filename = safeFilename(block.filename);
  const heading = block.title !== undefined && block.title !== '' ? `**${escapeMarkdown(truncate(block.title, 300))}**\n` : '';
  const note = `*… ${block.omittedLines} line${block.omittedLines === 1 ? '' : 's'} omitted; the whole output is attached as ${escapeMarkdown(filename)}*`;
  // Head and tail share what is left of the message; each keeps whole lines where it can.
  const room = CONTENT_LIMIT - heading.length - note.length - 2 * 8 - 2;
  const half = Math.floor(room / 2);
  const head = firstChars(escapeCodeBlock(block.head.join('\n')), half);
  const tail = lastChars(escapeCodeBlock(block.tail.join('\n')), room - head.length);
  const parts = [heading + (head === '' ? '' : fence(head)), note, tail === '' ? '' : fence(tail)].filter((p) => p !== '');
  return {
    content: parts.join('\n'),
    file: { name: filename, data: Buffer.from(block.content, 'utf8'), contentType: 'text/plain; charset=utf-8' },
  };
}

function firstChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const nl = cut.lastIndexOf('\n');
  return nl > 0 ? cut.slice(0, nl) : cut;
}

function lastChars(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(text.length - max);
  const nl = cut.indexOf('\n');
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}

/** Embed colour per job state: running blue, completed green, failed red, stopped grey. */
export const STATE_COLOURS: Record<JobState, number> = {
  NotStarted: 0x99aab5,
  Running: 0x3498db,
  Completed: 0x2ecc71,
  Failed: 0xe74c3c,
  Stopped: 0x95a5a6,
  Blocked: 0xe67e22,
  Suspended: 0xe67e22,
  Disconnected: 0xe67e22,
  Suspending: 0xe67e22,
  Stopping: 0x95a5a6,
  AtBreakpoint: 0xe67e22,
};

const STATE_ORDER: JobState[] = [
  'Running',
  'NotStarted',
  'Completed',
  'Failed',
  'Stopped',
  'Stopping',
  'Blocked',
  'Disconnected',
  'Suspended',
  'Suspending',
  'AtBreakpoint',
];

export function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${sec} s`;
}

/** The status message: job, command, who, counts per state, elapsed; colour by state. */
export function renderStatusEmbed(s: JobStatusView): APIEmbed {
  const counts = STATE_ORDER.filter((st) => (s.counts[st] ?? 0) > 0)
    .map((st) => `${s.counts[st]} ${st}`)
    .join(' · ');
  const fields: APIEmbedField[] = [
    { name: 'State', value: s.state, inline: true },
    { name: 'Computers', value: truncate(`${counts === '' ? 'none' : counts} (of ${s.total})`, 1024), inline: true },
    { name: 'Elapsed', value: formatElapsed(s.elapsedMs), inline: true },
    { name: 'Invoked by', value: truncate(escapeMarkdown(s.invokedBy), 200) || '\u200b', inline: true },
  ];
  if (s.stoppedBy !== undefined) {
    fields.push({ name: 'Stopped by', value: truncate(`@${escapeMarkdown(s.stoppedBy)}`, 200), inline: true });
  }
  if (s.asJob && s.hasMoreData && FINISHED.has(s.state)) {
    fields.push({ name: 'Output', value: `Ready: Receive-Job -Id ${s.jobId}`, inline: true });
  }
  if (s.detail && s.detail.length > 0) {
    fields.push({ name: 'Waiting on', value: truncate(s.detail.map(escapeMarkdown).join('\n'), 1024) });
  }
  if (s.notPosted !== undefined && s.notPosted !== '') {
    fields.push({ name: 'Not posted', value: truncate(escapeMarkdown(s.notPosted), 1024) });
  }
  const title = truncate(`Job ${s.jobId} · ${escapeMarkdown(s.name)}`, 256);
  // Discord refuses an embed whose title, description and fields exceed 6,000 characters in all:
  // the command gets what the rest leaves.
  const used = title.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  return {
    title,
    description: fence(truncate(escapeCodeBlock(s.command), Math.min(4000, EMBED_TOTAL_LIMIT - used - 8))),
    color: STATE_COLOURS[s.state],
    fields,
  };
}

const FINISHED: ReadonlySet<JobState> = new Set(['Completed', 'Failed', 'Stopped']);

/** `chatops:stop-job:7`; the press is parsed back with `parseButtonId` and nothing else is trusted. */
export function buttonId(b: ActionButton): string {
  return `chatops:${b.action}:${b.jobId}`;
}

/**
 * What a press asks for. The Stop-Job button on a status message only asks (a private message
 * with Stop and Cancel, as Slack's confirm dialog does); Stop runs Stop-Job. Its id carries the
 * status message's id, so what Stop-Job shows goes in that message's thread, as a direct press's
 * would.
 */
export type ButtonPress =
  | { action: ActionButton['action']; jobId: number }
  | { action: 'confirm-stop-job'; jobId: number; statusMessageId: string }
  | { action: 'cancel-stop-job'; jobId: number };

export function parseButtonId(customId: string): ButtonPress | undefined {
  const m = /^chatops:(stop-job|receive-job|cancel-stop-job):([1-9][0-9]{0,9})$/.exec(customId);
  if (m) return { action: m[1] as 'stop-job' | 'receive-job' | 'cancel-stop-job', jobId: Number(m[2]) };
  const c = /^chatops:confirm-stop-job:([1-9][0-9]{0,9}):([1-9][0-9]{0,19})$/.exec(customId);
  if (c) return { action: 'confirm-stop-job', jobId: Number(c[1]), statusMessageId: c[2]! };
  return undefined;
}

/** The private question a Stop-Job press asks: Stop (runs Stop-Job) or Cancel. */
export function renderStopConfirmation(jobId: number, statusMessageId: string): DiscordPayload {
  return {
    content: `**Stop the job?**\nThis runs \`Stop-Job -Id ${jobId}\`.`,
    embeds: [],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.Button,
            custom_id: `chatops:confirm-stop-job:${jobId}:${statusMessageId}`,
            label: 'Stop',
            style: ButtonStyle.Danger,
          },
          { type: ComponentType.Button, custom_id: `chatops:cancel-stop-job:${jobId}`, label: 'Cancel', style: ButtonStyle.Secondary },
        ],
      },
    ],
    files: [],
  };
}

export function renderButtons(buttons: ActionButton[]): APIActionRowComponent<APIButtonComponent>[] {
  const rows: APIActionRowComponent<APIButtonComponent>[] = [];
  for (let i = 0; i < buttons.length && rows.length < 5; i += 5) {
    rows.push({
      type: ComponentType.ActionRow,
      components: buttons.slice(i, i + 5).map((b) => ({
        type: ComponentType.Button,
        custom_id: buttonId(b),
        label: truncate(b.label, 80),
        style: b.action === 'stop-job' ? ButtonStyle.Danger : ButtonStyle.Primary,
      })),
    });
  }
  return rows;
}

/** Content pieces for one block; each piece fits one message on its own. */
function contentPieces(block: Block): Array<{ text: string; file?: FilePart }> {
  switch (block.kind) {
    case 'text':
      return chunkLines(escapeMarkdown(block.text), CONTENT_LIMIT).map((text) => ({ text }));
    case 'error':
      return renderCode(block.text, 'Error').map((text) => ({ text }));
    case 'code':
      return renderCode(block.text, block.title).map((text) => ({ text }));
    case 'table':
      return renderTable(block.columns, block.rows, block.title).map((text) => ({ text }));
    case 'attachment': {
      const { content, file } = renderAttachment(block);
      return [{ text: content, file }];
    }
    case 'status':
    case 'actions':
      return [];
  }
}

function emptyPayload(): DiscordPayload {
  return { content: '', embeds: [], components: [], files: [] };
}

/**
 * Renders a neutral message into one or more Discord messages, in block order. Status embeds
 * and buttons go on the first message (the one the core gets a handle to, edits, and threads
 * under); text is packed into as few messages as the limits allow.
 */
export function renderMessage(message: NeutralMessage): DiscordPayload[] {
  const first = emptyPayload();
  const out: DiscordPayload[] = [first];
  let cur = first;
  for (const block of message.blocks) {
    if (block.kind === 'status') {
      if (first.embeds.length < 10) first.embeds.push(renderStatusEmbed(block.status));
      continue;
    }
    if (block.kind === 'actions') {
      first.components.push(...renderButtons(block.buttons).slice(0, 5 - first.components.length));
      continue;
    }
    for (const piece of contentPieces(block)) {
      const fits =
        (cur.content === '' ? piece.text.length : cur.content.length + 1 + piece.text.length) <= CONTENT_LIMIT &&
        (piece.file === undefined || cur.files.length < MAX_FILES);
      if (!fits) {
        cur = emptyPayload();
        out.push(cur);
      }
      cur.content = cur.content === '' ? piece.text : `${cur.content}\n${piece.text}`;
      if (piece.file) cur.files.push(piece.file);
    }
  }
  for (const p of out) {
    if (p.content === '' && p.embeds.length === 0 && p.files.length === 0) p.content = ZWSP;
  }
  return out;
}

/**
 * One payload for an edit (a message cannot grow into several): the first message's embeds and
 * buttons, and its content cut to the limit with a note when the rest would not fit.
 */
export function renderForEdit(message: NeutralMessage): DiscordPayload {
  const all = renderMessage(message);
  const first = all[0]!;
  if (all.length > 1) {
    const note = '\n*(more output is in the store: Receive-Job shows it)*';
    const rest = all.slice(1).map((p) => p.content);
    const joined = [first.content, ...rest].join('\n');
    first.content = joined.length + note.length <= CONTENT_LIMIT ? joined : first.content + note;
  }
  return first;
}

/**
 * Breaks every http(s) link in text so Discord neither links nor unfurls it: a zero-width space
 * after the colon (`https:\u200b//…`) reads the same, but is no URL to Discord.
 */
export function breakLinks(text: string): string {
  return text.replace(/(https?):(?=\/\/)/gi, `$1:${ZWSP}`);
}

/**
 * The REST body for a payload; every message the bot sends carries `allowed_mentions` empty.
 *
 * Links in what the bot writes must not unfurl (a URL in output would otherwise fill the channel
 * with previews). A message without embeds carries SUPPRESS_EMBEDS. That flag hides *every*
 * embed, the bot's own included, so a message with an embed (the status) goes without it, and
 * the links in its content (an -AsJob job's row) are broken instead. `flags` adds other flags
 * (EPHEMERAL, when a follow-up is private).
 */
export function toBody(p: DiscordPayload, flags = 0): Record<string, unknown> {
  const suppress = p.embeds.length === 0;
  const all = flags | (suppress ? MessageFlags.SuppressEmbeds : 0);
  return {
    content: suppress ? p.content : breakLinks(p.content),
    embeds: p.embeds,
    components: p.components,
    allowed_mentions: NO_MENTIONS,
    ...(all !== 0 ? { flags: all } : {}),
    ...(p.files.length > 0 ? { attachments: p.files.map((f, id) => ({ id, filename: f.name })) } : {}),
  };
}
