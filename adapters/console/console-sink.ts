import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatSink, MessageHandle } from '../../src/core/ports.js';
import type { JobState, NeutralMessage } from '../../src/messages/model.js';
import { FINISHED_STATES } from '../../src/messages/model.js';
import { messageToText } from '../../src/messages/plain-text.js';
import { ensurePrivateDir } from '../../src/private-files.js';
import { showControlChars } from './control-chars.js';
import { screenRows } from './display-width.js';

export interface ConsoleSinkOptions {
  write: (text: string) => void;
  writeError: (text: string) => void;
  /**
   * Terminal mode: a status still at the bottom of the screen is redrawn in place. Plain mode
   * (not a TTY) prints a status when it is posted and once more when its job finishes.
   */
  tty: boolean;
  /**
   * Where the whole of a large output goes (a terminal has no attachments): each attachment is
   * written there and the note names the file. Without it the note names the attachment only.
   */
  attachmentsDir?: string;
  /**
   * The terminal's width now (columns), so that a redraw clears every row a long status
   * wrapped onto. Without it each line counts as one row.
   */
  columns?: () => number | undefined;
}

/**
 * Draws neutral messages on a terminal, every character from outside made harmless
 * (control-chars.ts). Threads are shown inline, indented under nothing: the
 * console is a single stream, so results simply follow their status line.
 */
export class ConsoleSink implements ChatSink {
  private next = 1;
  /** The handle and screen rows of the status drawn last, while nothing was printed after it. */
  private bottom: { id: string; rows: number } | undefined;
  private readonly states = new Map<string, JobState | undefined>();
  /** The computer whose streamed output was printed last, while nothing was printed after it. */
  private lastOutputTitle: string | undefined;

  constructor(private readonly options: ConsoleSinkOptions) {}

  /**
   * Clear-Host (cls, clear): what pwsh writes (cursor home, clear the screen and the scrollback).
   * Piped output gets nothing: escape codes in a log or a file are noise.
   */
  async clearScreen(): Promise<void> {
    this.bottom = undefined;
    if (this.options.tty) this.options.write('\x1b[H\x1b[2J\x1b[3J');
  }

  async replyPrivately(message: NeutralMessage): Promise<void> {
    this.bottom = undefined;
    this.options.writeError(`${showControlChars(messageToText(message))}\n`);
  }

  async post(message: NeutralMessage): Promise<MessageHandle> {
    const id = `c${this.next++}`;
    this.states.set(id, stateOf(message));
    this.print(id, message);
    return { id };
  }

  async update(handle: MessageHandle, message: NeutralMessage): Promise<void> {
    const before = this.states.get(handle.id);
    const after = stateOf(message);
    this.states.set(handle.id, after);
    if (this.options.tty && this.bottom?.id === handle.id) {
      // Move up over the previous drawing and clear to the end of the screen, in the same write
      // as the new drawing: at a prompt each write is printed above it, the prompt drawn again.
      this.print(handle.id, message, `\x1b[${this.bottom.rows}A\x1b[J`);
      return;
    }
    if (after === undefined) {
      // An edited message that is not a status (the core's post-limit notice getting its
      // count): what scrolled by cannot be edited, so the new version is printed.
      this.print(handle.id, message);
      return;
    }
    const finishedNow = FINISHED_STATES.has(after) && before !== after;
    if (finishedNow) this.print(handle.id, message);
  }

  async postInThread(_parent: MessageHandle, message: NeutralMessage): Promise<MessageHandle> {
    const id = `c${this.next++}`;
    // Output streamed from one computer in several posts reads as one block, as pwsh prints it:
    // its heading is printed again only when another computer's output (or anything else) came
    // in between.
    const only = message.blocks.length === 1 ? message.blocks[0] : undefined;
    const title = only?.kind === 'code' ? only.title : undefined;
    if (only?.kind === 'code' && title !== undefined && title === this.lastOutputTitle) {
      this.print(id, { ...message, blocks: [{ kind: 'code', text: only.text }] });
    } else this.print(id, message);
    this.lastOutputTitle = title;
    return { id };
  }

  /** Call before anything else is printed (a prompt, a log line) so the next update does not erase it. */
  detach(): void {
    this.bottom = undefined;
    this.lastOutputTitle = undefined;
  }

  private print(id: string, message: NeutralMessage, redraw = ''): void {
    this.lastOutputTitle = undefined;
    // Files get the output's raw bytes (they are data, not the terminal); the screen gets
    // everything the message carries with its control characters made visible. The console's
    // own sequences (the redraw in `update`) are written apart and stay effective.
    const text = showControlChars(messageToText(this.saveAttachments(message)));
    if (text === '') {
      if (redraw !== '') this.options.write(redraw);
      this.bottom = undefined;
      return;
    }
    this.options.write(`${redraw}${text}\n`);
    const isStatus = message.blocks.some((b) => b.kind === 'status');
    // Rows, not lines: a status wider than the terminal wrapped onto more rows than its lines.
    this.bottom = isStatus ? { id, rows: screenRows(text, this.options.columns?.()) } : undefined;
  }

  /** Writes attachments to files; the blocks then carry the file's absolute path as filename. */
  private saveAttachments(message: NeutralMessage): NeutralMessage {
    const dir = this.options.attachmentsDir;
    if (dir === undefined || !message.blocks.some((b) => b.kind === 'attachment')) return message;
    const blocks = message.blocks.map((b) => {
      if (b.kind !== 'attachment') return b;
      try {
        ensurePrivateDir(dir);
        const stamp = new Date().toISOString().replace(/[:.]/g, '-');
        const path = join(dir, `${stamp}-${this.next++}-${b.filename.replace(/[^A-Za-z0-9._-]/g, '_')}`);
        writeFileSync(path, b.content, { mode: 0o600 });
        return { ...b, filename: path };
      } catch {
        return b; // the note then names the attachment; the output is still in the store
      }
    });
    return { blocks };
  }
}

function stateOf(message: NeutralMessage): JobState | undefined {
  const b = message.blocks.find((x) => x.kind === 'status');
  return b && b.kind === 'status' ? b.status.state : undefined;
}
