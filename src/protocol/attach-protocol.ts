/**
 * The console-attach protocol: how `npm run console` (and a piped `npm start` beside a running
 * bot) sends commands to the running bot, which runs them as its console channel.
 *
 * Protocol facts:
 * - Transport: a Unix domain stream socket at `<database>.sock`, mode 0600, in a directory that
 *   is not world-writable (attach-socket.ts). Who may connect is decided by the kernel from the
 *   file's owner and mode (connect(2) needs write permission on the socket file): only the bot's
 *   OS user (and root). Node exposes no SO_PEERCRED, so the server does not ask the peer who it
 *   is; the file mode is the check, and the client checks the file's owner and mode before it
 *   connects, so it never sends commands to a socket someone else put there.
 * - Framing: one JSON object per line (UTF-8, `\n`-terminated). Neither side sends a line longer
 *   than MAX_ATTACH_LINE_BYTES; the server refuses (`refused`) and closes on a longer one.
 * - Order: the client sends `hello` first and waits for `welcome` (or `refused`, after which the
 *   server closes). Then it sends `run` requests; the server runs them one at a time, in order,
 *   each waited for as the console's non-TTY mode does, and answers each with any number of
 *   `out`/`err` followed by exactly one `done` with the same id. `out`/`err` without an id are
 *   written by a job after its command's `done` (an -AsJob job finishing).
 * - A `run` carries a whole command (`text`), not a line: a block of several lines is one
 *   request, handled as one console message.
 * - End: the client half-closes (end of its input) when it has no more requests; the server
 *   finishes what was asked and closes. A connection closed early drops queued requests; a
 *   command already running goes on as any console command would (it is the channel's job).
 * - Unknown ops, bad JSON or a wrong protocol version are answered with `refused` and a close.
 */

/** Bumped on any incompatible change; the server refuses a hello with another version. */
export const ATTACH_PROTOCOL_VERSION = 1;

/** Longest line either side sends (bytes, without the `\n`). */
export const MAX_ATTACH_LINE_BYTES = 1024 * 1024;

/** Client to bot. */
export type AttachRequest =
  /** First line. `terminal`: the client draws on a TTY (the bot then redraws statuses in place). */
  | { op: 'hello'; version: number; terminal: boolean }
  /** One console message: a command, or a block of lines sent as one. `id` is chosen by the client. */
  | { op: 'run'; id: number; text: string };

/** Bot to client. */
export type AttachReply =
  /** The hello is accepted: commands now run as the console channel of the bot `pid`. */
  | { op: 'welcome'; version: number; pid: number; database: string }
  /** The bot will not serve this connection (and closes it); `message` says why. */
  | { op: 'refused'; message: string }
  /** Text for the client's stdout, exactly as the console would print it. */
  | { op: 'out'; id?: number; text: string }
  /** Text for the client's stderr (errors, refusals, private replies). */
  | { op: 'err'; id?: number; text: string }
  /** Command `id` was handled; `ok` is false when any of its statements failed. */
  | { op: 'done'; id: number; ok: boolean; prompt?: string }
  /** The remote prompt the client was at ended by itself (its session closed): back to its own. */
  | { op: 'promptEnded' };

/** One line on the wire. */
export function encodeAttachMessage(message: AttachRequest | AttachReply): string {
  return `${JSON.stringify(message)}\n`;
}

type Fields = Record<string, unknown>;

function parseObject(line: string): Fields | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : undefined;
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A request line from a client, or undefined when it is not one (the server refuses it). */
export function parseAttachRequest(line: string): AttachRequest | undefined {
  const m = parseObject(line);
  if (m === undefined) return undefined;
  if (m.op === 'hello' && typeof m.version === 'number' && typeof m.terminal === 'boolean') {
    return { op: 'hello', version: m.version, terminal: m.terminal };
  }
  if (m.op === 'run' && isId(m.id) && typeof m.text === 'string') return { op: 'run', id: m.id, text: m.text };
  return undefined;
}

/** A reply line from the bot, or undefined when it is not one (the client gives up). */
export function parseAttachReply(line: string): AttachReply | undefined {
  const m = parseObject(line);
  if (m === undefined) return undefined;
  switch (m.op) {
    case 'welcome':
      return typeof m.version === 'number' && isId(m.pid) && typeof m.database === 'string'
        ? { op: 'welcome', version: m.version, pid: m.pid, database: m.database }
        : undefined;
    case 'refused':
      return typeof m.message === 'string' ? { op: 'refused', message: m.message } : undefined;
    case 'out':
    case 'err': {
      if (typeof m.text !== 'string' || (m.id !== undefined && !isId(m.id))) return undefined;
      return m.id === undefined ? { op: m.op, text: m.text } : { op: m.op, id: m.id, text: m.text };
    }
    case 'done':
      if (!isId(m.id) || typeof m.ok !== 'boolean') return undefined;
      return typeof m.prompt === 'string' ? { op: 'done', id: m.id, ok: m.ok, prompt: m.prompt } : { op: 'done', id: m.id, ok: m.ok };
    case 'promptEnded':
      return { op: 'promptEnded' };
    default:
      return undefined;
  }
}

/**
 * Splits a byte stream into lines. Calls `onLine` for each complete line and `onOverflow` once
 * (then ignores the rest) when a line grows past `maxBytes`.
 */
export class LineReader {
  private buffer = '';
  private overflowed = false;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly onOverflow: () => void,
    private readonly maxBytes = MAX_ATTACH_LINE_BYTES,
  ) {}

  push(chunk: string): void {
    if (this.overflowed) return;
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      if (Buffer.byteLength(line) > this.maxBytes) {
        this.overflow();
        return;
      }
      if (line !== '') this.onLine(line);
      if (this.overflowed) return;
      nl = this.buffer.indexOf('\n');
    }
    if (Buffer.byteLength(this.buffer) > this.maxBytes) this.overflow();
  }

  private overflow(): void {
    this.overflowed = true;
    this.buffer = '';
    this.onOverflow();
  }
}
