import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from '../src/protocol/agent-protocol.js';

/**
 * The agent's side of the pwsh wrapper's record channel (fd 3, see pwsh-wrapper.ts): lines
 * `<key> <json>` become records of their stream; anything else, and pwsh's plain stdout and
 * stderr, becomes text records, so every line a Microsoft.PowerShell run sends is a JSON record
 * the agent made (the format is in src/protocol/agent-protocol.ts, PwshRecord).
 */

const RECORD_STREAMS: ReadonlySet<string> = new Set(['output', 'error', 'warning', 'verbose', 'debug', 'information', 'progress']);

/** The wrapper's last record: how the script ended. */
export interface PwshEnd {
  state: 'Completed' | 'Failed';
  exitCode?: number;
  /** The terminating error's message, for the child's reason. */
  reason?: string;
}

/** Splits a byte stream into lines (UTF-8 safe); a last line without newline comes at `end`. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private buf = '';
  constructor(private readonly onLine: (line: string) => void) {}
  write(b: Buffer): void {
    this.buf += this.decoder.write(b);
    let nl = this.buf.indexOf('\n');
    while (nl >= 0) {
      this.onLine(this.buf.slice(0, nl).replace(/\r$/, ''));
      this.buf = this.buf.slice(nl + 1);
      nl = this.buf.indexOf('\n');
    }
  }
  end(): void {
    this.buf += this.decoder.end();
    if (this.buf !== '') this.onLine(this.buf);
    this.buf = '';
  }
}

/**
 * Sends records in the order they came, consecutive records of one stream as one message (one
 * JSON record per line): after `flushMs`, at once when the stream changes or the batch is big.
 */
export class RecordBatcher {
  private stream: OutputStream | undefined;
  private lines: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;
  private readonly maxChunk: number;

  constructor(
    private readonly emit: (stream: OutputStream, data: string) => void,
    options: { flushMs?: number; maxChunkChars?: number } = {},
  ) {
    this.flushMs = options.flushMs ?? 30;
    this.maxChunk = options.maxChunkChars ?? 32 * 1024;
  }

  add(stream: OutputStream, record: unknown): void {
    const line = JSON.stringify(record);
    if (this.stream !== stream || this.size + line.length > this.maxChunk) this.flush();
    this.stream = stream;
    this.lines.push(line);
    this.size += line.length + 1;
    if (!this.timer) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stream !== undefined && this.lines.length > 0) this.emit(this.stream, `${this.lines.join('\n')}\n`);
    this.lines = [];
    this.size = 0;
  }
}

/**
 * Reads one run's three channels. `onEnd` gets the wrapper's `end` record; plain text lines of
 * stdout are output text, of stderr error text, as PowerShell shows a native program's lines.
 */
export class PwshRecordReader {
  private end: PwshEnd | undefined;
  private lastTerminating: string | undefined;
  readonly records: LineSplitter;
  readonly stdout: LineSplitter;
  readonly stderr: LineSplitter;

  constructor(
    private readonly key: string,
    private readonly batcher: RecordBatcher,
  ) {
    this.records = new LineSplitter((l) => this.recordLine(l));
    this.stdout = new LineSplitter((l) => batcher.add('output', { text: l }));
    this.stderr = new LineSplitter((l) => batcher.add('error', { text: l }));
  }

  /** The `end` record, if the wrapper got that far. */
  result(): PwshEnd | undefined {
    return this.end;
  }

  private recordLine(line: string): void {
    const prefix = `${this.key} `;
    if (!line.startsWith(prefix)) {
      // Not the wrapper's: a program the script started wrote to fd 3. Shown as text.
      this.batcher.add('output', { text: line });
      return;
    }
    let rec: { s?: unknown; v?: unknown };
    try {
      rec = JSON.parse(line.slice(prefix.length)) as { s?: unknown; v?: unknown };
    } catch {
      this.batcher.add('output', { text: line.slice(prefix.length) });
      return;
    }
    const v = rec.v !== null && typeof rec.v === 'object' ? (rec.v as Record<string, unknown>) : {};
    if (rec.s === 'end') {
      this.end = {
        state: v.state === 'Failed' ? 'Failed' : 'Completed',
        ...(typeof v.exitCode === 'number' ? { exitCode: v.exitCode } : {}),
        ...(v.state === 'Failed' && this.lastTerminating !== undefined ? { reason: this.lastTerminating } : {}),
      };
      return;
    }
    if (typeof rec.s !== 'string' || !RECORD_STREAMS.has(rec.s)) return;
    if (rec.s === 'error' && v.terminating === true && typeof v.message === 'string') this.lastTerminating = v.message;
    this.batcher.add(rec.s as OutputStream, v);
  }

  close(): void {
    this.records.end();
    this.stdout.end();
    this.stderr.end();
    this.batcher.flush();
  }
}
