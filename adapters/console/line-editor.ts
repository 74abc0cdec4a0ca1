import { commonPrefix, type Completer } from './completion.js';
import { charWidth, displayWidth } from './display-width.js';
import type { History } from './history.js';
import { type Key, KeyDecoder } from './keys.js';

export const PROMPT = 'PS chatops> ';
/** pwsh's continuation prompt. */
export const CONTINUATION_PROMPT = '>> ';
/** A tab in pasted text is shown as this many spaces (the buffer keeps the tab). */
const TAB_SHOWN_AS = '    ';

export type ReadResult = { kind: 'line'; text: string } | { kind: 'eof' };

export interface LineEditorOptions {
  /** The terminal. Everything the editor draws goes through here. */
  write: (text: string) => void;
  /** The terminal's width now (columns). */
  columns: () => number | undefined;
  history: History;
  completer?: Completer;
  /** Whether the text needs more lines (continuation.ts). */
  needsMoreInput: (text: string) => boolean;
}

interface QueuedKey {
  key: Key;
  /** Keys of one read from the terminal share it: Enter followed by more keys is a paste. */
  chunk: number;
}

/**
 * The console's line editor on a terminal in raw mode, modelled on pwsh's (PSReadLine) for what
 * a user meets: the buffer holds the whole command, an incomplete one continues at `>> ` on
 * Enter, an empty `>>` line ends it; a pasted block (bracketed paste, or lines that arrive in
 * one read) is one command, its line ends never run anything on their own; Ctrl-C clears the
 * command; Ctrl-D on an empty line ends input; Up/Down recall history; Tab completes.
 *
 * The terminal holds only what the editor drew last: `printAbove` clears it, prints, and draws
 * it again, so background notices never overwrite what is being typed. Rows are counted as the
 * terminal wraps them (wide characters, the width now).
 *
 * Keys that arrive while no line is being read (a command runs) wait for the next read, as
 * type-ahead; Ctrl-C then goes to `onInterrupt` instead, and drops the type-ahead.
 */
export class LineEditor {
  /** The prompt drawn before the first line: PROMPT, or a remote prompt (`[web1]: PS> `). */
  prompt = PROMPT;
  private readonly decoder = new KeyDecoder();
  private readonly queue: QueuedKey[] = [];
  private chunks = 0;
  private draining = false;
  /** Inside a bracketed paste (ESC [200~ ... ESC [201~). */
  private pasting = false;
  private reading: ((result: ReadResult) => void) | undefined;
  private buffer = '';
  private cursor = 0;
  /** Rows from the top of the drawing down to the terminal's cursor. */
  private cursorRow = 0;
  /** The drawing filled its last row exactly, so it ended by moving to a fresh row. */
  private endsOnFreshRow = false;
  private historyIndex = 0;
  private draft = '';
  /** The terminal's input ended (hung up): every read from now on is the end. */
  private ended = false;
  /** Ctrl-C while no line is read (a command runs). */
  onInterrupt: (() => void) | undefined;

  constructor(private readonly options: LineEditorOptions) {}

  /** Terminal input, as read. */
  feed(chunk: string): void {
    const chunk_ = ++this.chunks;
    for (const key of this.decoder.decode(chunk)) {
      if (this.reading === undefined && key.name === 'interrupt') {
        // As a terminal's own Ctrl-C: what was typed ahead is dropped with the command.
        this.queue.length = 0;
        this.onInterrupt?.();
        continue;
      }
      this.queue.push({ key, chunk: chunk_ });
    }
    void this.drain();
  }

  /** The input ended: a read in progress and every later one end as Ctrl-D would. */
  end(): void {
    this.ended = true;
    if (this.reading) this.finish({ kind: 'eof' });
  }

  /** Reads one command (all its lines); type-ahead is used first. */
  read(): Promise<ReadResult> {
    if (this.ended) return Promise.resolve({ kind: 'eof' });
    return new Promise((resolve) => {
      this.reading = resolve;
      this.buffer = '';
      this.cursor = 0;
      this.cursorRow = 0;
      this.historyIndex = this.options.history.all().length;
      this.draft = '';
      this.draw();
      void this.drain();
    });
  }

  /** Whether a prompt is on the screen (a line is being read). */
  get active(): boolean {
    return this.reading !== undefined;
  }

  /** Prints `text` above the prompt and what is typed, which are drawn again after it. */
  printAbove(text: string): void {
    if (text === '') return;
    if (!this.reading) {
      this.options.write(text);
      return;
    }
    this.clear();
    this.options.write(text.endsWith('\n') ? text : `${text}\n`);
    this.draw();
  }

  /** Draws the prompt and the buffer again (the terminal was resized). */
  redraw(): void {
    if (!this.reading) return;
    this.clear();
    this.draw();
  }

  // ---- keys ---------------------------------------------------------------------------------

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.reading && this.queue.length > 0) {
        const item = this.queue.shift() as QueuedKey;
        const more = this.pasting || this.queue[0]?.chunk === item.chunk;
        await this.handle(item.key, more);
      }
    } finally {
      this.draining = false;
    }
  }

  private async handle(key: Key, more: boolean): Promise<void> {
    switch (key.name) {
      case 'text':
        this.insert(key.text ?? '');
        break;
      case 'paste-start':
        this.pasting = true;
        return;
      case 'paste-end':
        this.pasting = false;
        return;
      case 'enter':
        // In a paste the line ends are part of the command: nothing runs until the paste ends.
        if (!more) {
          this.enter();
          return;
        }
        this.insert('\n');
        break;
      case 'tab':
        if (!more) {
          await this.complete();
          return;
        }
        this.insert('\t');
        break;
      case 'interrupt':
        this.interrupt();
        return;
      case 'eof':
        if (this.buffer === '') {
          this.finish({ kind: 'eof' });
          return;
        }
        this.deleteRange(this.cursor, this.cursor + charLength(this.buffer, this.cursor));
        break;
      case 'backspace':
        if (this.cursor > 0) this.deleteRange(this.cursor - charLengthBefore(this.buffer, this.cursor), this.cursor);
        break;
      case 'delete':
        this.deleteRange(this.cursor, this.cursor + charLength(this.buffer, this.cursor));
        break;
      case 'left':
        this.cursor -= charLengthBefore(this.buffer, this.cursor);
        break;
      case 'right':
        this.cursor += charLength(this.buffer, this.cursor);
        break;
      case 'home':
        this.cursor = this.lineStart();
        break;
      case 'end':
        this.cursor = this.lineEnd();
        break;
      case 'word-left':
        this.cursor = wordLeft(this.buffer, this.cursor);
        break;
      case 'word-right':
        this.cursor = wordRight(this.buffer, this.cursor);
        break;
      case 'delete-word-left':
        this.deleteRange(wordLeft(this.buffer, this.cursor), this.cursor);
        break;
      case 'delete-word-right':
        this.deleteRange(this.cursor, wordRight(this.buffer, this.cursor));
        break;
      case 'kill-to-end':
        this.deleteRange(this.cursor, this.lineEnd());
        break;
      case 'kill-to-start':
        this.deleteRange(this.lineStart(), this.cursor);
        break;
      case 'up':
        this.recall(-1);
        break;
      case 'down':
        this.recall(1);
        break;
      case 'clear-screen':
        this.options.write('\x1b[H\x1b[2J');
        this.cursorRow = 0;
        this.draw();
        return;
      case 'escape':
        return;
    }
    this.redraw();
  }

  private insert(text: string): void {
    this.buffer = this.buffer.slice(0, this.cursor) + text + this.buffer.slice(this.cursor);
    this.cursor += text.length;
  }

  private deleteRange(from: number, to: number): void {
    if (to <= from) return;
    this.buffer = this.buffer.slice(0, from) + this.buffer.slice(to);
    this.cursor = from;
  }

  private lineStart(): number {
    return this.buffer.lastIndexOf('\n', this.cursor - 1) + 1;
  }

  private lineEnd(): number {
    const end = this.buffer.indexOf('\n', this.cursor);
    return end < 0 ? this.buffer.length : end;
  }

  /**
   * Enter: a complete command is read; an incomplete one continues on a new `>>` line, unless
   * that line is empty (pwsh: an empty line ends the block; the parser then says what is missing).
   */
  private enter(): void {
    const lastLine = this.buffer.slice(this.buffer.lastIndexOf('\n') + 1);
    const continued = this.buffer.includes('\n');
    if (continued && lastLine.trim() === '') {
      this.finish({ kind: 'line', text: this.buffer.replace(/\n[ \t]*$/, '') });
      return;
    }
    if (this.buffer.trim() !== '' && this.options.needsMoreInput(this.buffer)) {
      this.cursor = this.buffer.length;
      this.insert('\n');
      this.redraw();
      return;
    }
    this.finish({ kind: 'line', text: this.buffer });
  }

  /** Ctrl-C at the prompt: the command typed so far is dropped, on a new prompt (as pwsh). */
  private interrupt(): void {
    this.cursor = this.buffer.length;
    this.redraw();
    this.newRow();
    this.buffer = '';
    this.cursor = 0;
    this.historyIndex = this.options.history.all().length;
    this.draw();
  }

  private finish(result: ReadResult): void {
    const resolve = this.reading;
    if (!resolve) return;
    // The command stays on the screen as typed; the cursor goes below it.
    this.cursor = this.buffer.length;
    this.redraw();
    this.newRow();
    this.reading = undefined;
    resolve(result);
  }

  /** Leaves the drawing as it is and goes to the start of the row below it. */
  private newRow(): void {
    if (!this.endsOnFreshRow) this.options.write('\r\n');
    this.cursorRow = 0;
    this.endsOnFreshRow = false;
  }

  /** Up (-1) and Down (+1) through the history; the line being typed comes back at the bottom. */
  private recall(step: number): void {
    const entries = this.options.history.all();
    const next = this.historyIndex + step;
    if (next < 0 || next > entries.length) return;
    if (this.historyIndex === entries.length) this.draft = this.buffer;
    this.historyIndex = next;
    this.buffer = next === entries.length ? this.draft : (entries[next] as string);
    this.cursor = this.buffer.length;
  }

  /**
   * Tab: one candidate replaces the word; several complete to what they share, and when they
   * share no more than is typed they are listed above the prompt (as PSReadLine's MenuComplete
   * shows them).
   */
  private async complete(): Promise<void> {
    const completion = await this.options.completer?.(this.buffer, this.cursor).catch(() => undefined);
    if (!this.reading) return;
    if (!completion || completion.candidates.length === 0) {
      this.options.write('\x07');
      return;
    }
    const typed = this.buffer.slice(completion.start, this.cursor);
    const replace = (word: string): void => {
      this.buffer = this.buffer.slice(0, completion.start) + word + this.buffer.slice(this.cursor);
      this.cursor = completion.start + word.length;
      this.redraw();
    };
    if (completion.candidates.length === 1) {
      replace(completion.candidates[0] as string);
      return;
    }
    const shared = commonPrefix(completion.candidates);
    if (shared.length > typed.length) {
      replace(shared);
      return;
    }
    this.printAbove(columnsOf(completion.candidates, this.width()));
  }

  // ---- drawing ------------------------------------------------------------------------------

  private width(): number {
    const w = this.options.columns();
    return w !== undefined && w > 0 ? w : 80;
  }

  /** Erases the drawing: up to its first row, then to the end of the screen. */
  private clear(): void {
    const up = this.cursorRow > 0 ? `\x1b[${this.cursorRow}A` : '';
    this.options.write(`${up}\r\x1b[J`);
    this.cursorRow = 0;
  }

  /** Draws the prompt and the buffer from the current row, and places the cursor. */
  private draw(): void {
    if (!this.reading) return;
    const width = this.width();
    let out = '';
    let row = 0;
    let col = 0;
    let cursorAt: { row: number; col: number } | undefined;
    const put = (text: string): void => {
      for (const c of text) {
        const w = charWidth(c);
        // The terminal wraps before a character that does not fit on the row.
        if (col + w > width) {
          row++;
          col = 0;
        }
        out += c;
        col += w;
      }
    };
    const markCursor = (): void => {
      cursorAt = col >= width ? { row: row + 1, col: 0 } : { row, col };
    };
    put(this.prompt);
    let i = 0;
    for (const c of this.buffer) {
      if (i === this.cursor) markCursor();
      if (c === '\n') {
        out += '\r\n';
        row++;
        col = 0;
        put(CONTINUATION_PROMPT);
      } else {
        put(c === '\t' ? TAB_SHOWN_AS : c);
      }
      i += c.length;
    }
    if (cursorAt === undefined) markCursor();
    this.endsOnFreshRow = col >= width;
    if (col >= width) {
      // Past the last column the terminal has not wrapped yet: move to the next row ourselves,
      // so the cursor is where it is counted to be.
      out += '\r\n';
      row++;
      col = 0;
    }
    const target = cursorAt as { row: number; col: number };
    if (row > target.row) out += `\x1b[${row - target.row}A`;
    out += '\r';
    if (target.col > 0) out += `\x1b[${target.col}C`;
    this.options.write(out);
    this.cursorRow = target.row;
  }
}

/** Code units of the character at `at` (2 for a surrogate pair). */
function charLength(text: string, at: number): number {
  if (at >= text.length) return 0;
  const code = text.charCodeAt(at);
  return code >= 0xd800 && code <= 0xdbff && at + 1 < text.length ? 2 : 1;
}

function charLengthBefore(text: string, at: number): number {
  if (at <= 0) return 0;
  const code = text.charCodeAt(at - 1);
  return code >= 0xdc00 && code <= 0xdfff && at >= 2 ? 2 : 1;
}

function isWordChar(c: string): boolean {
  return c !== '' && !/[\s{}()[\];,|'"]/.test(c);
}

function wordLeft(text: string, at: number): number {
  let i = at;
  while (i > 0 && !isWordChar(text.charAt(i - 1))) i--;
  while (i > 0 && isWordChar(text.charAt(i - 1))) i--;
  return i;
}

function wordRight(text: string, at: number): number {
  let i = at;
  while (i < text.length && !isWordChar(text.charAt(i))) i++;
  while (i < text.length && isWordChar(text.charAt(i))) i++;
  return i;
}

/** Candidates in columns, as a shell lists them. */
function columnsOf(candidates: readonly string[], width: number): string {
  const cell = Math.max(...candidates.map(displayWidth)) + 2;
  const perRow = Math.max(1, Math.floor(width / cell));
  const rows: string[] = [];
  for (let i = 0; i < candidates.length; i += perRow) {
    rows.push(
      candidates
        .slice(i, i + perRow)
        .map((c) => c + ' '.repeat(cell - displayWidth(c)))
        .join('')
        .trimEnd(),
    );
  }
  return `${rows.join('\n')}\n`;
}
