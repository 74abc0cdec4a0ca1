import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import {
  ATTACH_PROTOCOL_VERSION,
  type AttachReply,
  type AttachRequest,
  encodeAttachMessage,
  LineReader,
  parseAttachReply,
} from '../../src/protocol/attach-protocol.js';
import { unsafeSocketForClient } from './attach-socket.js';
import { LineJoiner } from './continuation.js';

export interface AttachOptions {
  /** `attachSocketPath(config.dbPath)`. */
  socketPath: string;
  input: Readable;
  output: Writable;
  errorOutput: Writable;
  /** A prompt, the bot drawing statuses in place; otherwise lines as the console's plain mode reads them. */
  terminal: boolean;
  /**
   * How long to keep trying while nothing answers at the socket yet (a bot that holds the lock
   * but is still starting). 0: one try.
   */
  connectWaitMs?: number;
  /** How long the bot has to answer the hello. */
  welcomeTimeoutMs?: number;
  prompt?: string;
}

export type AttachOutcome = { attached: false; reason: string } | { attached: true; exitCode: number };

/**
 * The client of the console-attach protocol (src/protocol/attach-protocol.ts): connects to the
 * running bot, says on stderr which bot it attached to, sends each command and waits for it,
 * printing what the bot's console prints: plain text, stdout and stderr as the console writes
 * them. Resolves `attached: false` when no bot answered (nothing was sent), else the exit code:
 * 1 when any command failed or the bot went away, as the console's own non-TTY mode.
 */
export async function attachToBot(options: AttachOptions): Promise<AttachOutcome> {
  const connected = await connectWhenReady(options.socketPath, options.connectWaitMs ?? 0);
  if (typeof connected === 'string') return { attached: false, reason: connected };
  const conn = new Connection(connected, options);
  const welcome = await conn.hello(options.terminal, options.welcomeTimeoutMs ?? 10_000);
  if (typeof welcome === 'string') {
    connected.destroy();
    return { attached: false, reason: welcome };
  }
  options.errorOutput.write(`chatops: attached to the running bot pid ${welcome.pid} (${welcome.database})\n`);
  const exitCode = options.terminal ? await interactive(conn, options) : await piped(conn, options);
  return { attached: true, exitCode };
}

/**
 * Plain mode, as the console's own piped input: lines joined while incomplete (continuation.ts),
 * each script sent as one request and waited for; scripts of only blank lines and `#` comments
 * are not commands.
 */
async function piped(conn: Connection, options: AttachOptions): Promise<number> {
  let failed = false;
  const joiner = new LineJoiner();
  const send = async (script: string | undefined): Promise<boolean> => {
    if (script === undefined || script.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('#'))) return true;
    const ok = await conn.run(script.trim());
    if (ok === undefined) return false;
    if (!ok) failed = true;
    return true;
  };
  const rl = createInterface({ input: options.input, terminal: false });
  try {
    for await (const line of rl) {
      if (!(await send(joiner.push(line)))) return 1;
    }
    if (!(await send(joiner.end()))) return 1;
  } finally {
    rl.close();
  }
  await conn.finish();
  return failed ? 1 : 0;
}

/** A prompt; `exit`, Ctrl-D or Ctrl-C detach (the bot, and any command it runs, go on). */
async function interactive(conn: Connection, options: AttachOptions): Promise<number> {
  let failed = false;
  const rl = createInterface({ input: options.input, output: options.output, terminal: true });
  options.output.write('chatops: commands run in the bot as its console channel; exit or Ctrl-D detaches (the bot keeps running)\n');
  const basePrompt = options.prompt ?? 'PS chatops (attached)> ';
  rl.setPrompt(basePrompt);
  rl.on('SIGINT', () => {
    // The command in flight runs on in the bot as its job; Stop-Job stops it from here.
    options.output.write('\n');
    conn.abandon();
    rl.close();
  });
  conn.onPromptEnded = () => {
    rl.setPrompt(basePrompt);
    rl.prompt(true);
  };
  rl.prompt();
  try {
    for await (const line of rl) {
      const text = line.trim();
      // At a remote prompt (Enter-PSSession) `exit` leaves the session in the bot; else it detaches.
      if (/^(exit|quit)$/i.test(text) && conn.prompt === undefined) break;
      if (text !== '' && !text.startsWith('#')) {
        const ok = await conn.run(text);
        if (ok === undefined) return 1;
        if (!ok) failed = true;
        rl.setPrompt(conn.prompt !== undefined ? `${conn.prompt} ` : basePrompt);
      }
      rl.prompt();
    }
  } finally {
    rl.close();
  }
  await conn.finish();
  return failed ? 1 : 0;
}

/** Tries until something answers at `path`, up to `waitMs`; returns the socket or why not. */
async function connectWhenReady(path: string, waitMs: number): Promise<Socket | string> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const unsafe = unsafeSocketForClient(path);
    let retry: string | undefined;
    if (unsafe !== undefined) {
      if (!unsafe.missing) return `will not attach: ${unsafe.reason}`;
      retry = unsafe.reason;
    } else {
      const r = await tryConnect(path);
      if (typeof r !== 'string') return r;
      retry = r;
      if (!/ECONNREFUSED|ENOENT/.test(r)) return r;
    }
    if (Date.now() >= deadline) return retry;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tryConnect(path: string): Promise<Socket | string> {
  return new Promise((resolve) => {
    // Half-open: this side ends when it has sent everything and still reads the answers.
    const s = connect({ path, allowHalfOpen: true });
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.destroy();
      resolve(
        e.code === 'ECONNREFUSED'
          ? `nothing answers at ${path} (ECONNREFUSED: a bot that stopped without removing it?)`
          : `could not connect to ${path}: ${e.message}`,
      );
    });
  });
}

/** One attached connection: replies dispatched as they come, one command outstanding at a time. */
class Connection {
  private nextId = 1;
  private pending: { id: number; resolve: (ok: boolean | undefined) => void } | undefined;
  /** The remote prompt entered in the bot for this client (Enter-PSSession), if any. */
  prompt: string | undefined;
  /** Called when that remote prompt ends by itself (its session closed while the prompt was up). */
  onPromptEnded: (() => void) | undefined;
  private welcomeWaiter: ((r: Extract<AttachReply, { op: 'welcome' }> | string) => void) | undefined;
  private closed = false;
  private readonly closedPromise: Promise<void>;
  /** Why the bot stopped serving, once it did. */
  private lostReason: string | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly options: AttachOptions,
  ) {
    const reader = new LineReader(
      (line) => this.onLine(line),
      () => this.lose('the bot sent a line too long for the console-attach protocol'),
    );
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => reader.push(chunk));
    socket.on('error', (e) => this.lose(`connection error: ${e.message}`));
    this.closedPromise = new Promise((resolve) => {
      socket.once('close', () => {
        this.lose('the bot closed the connection (it stopped?)');
        resolve();
      });
    });
  }

  hello(terminal: boolean, timeoutMs: number): Promise<Extract<AttachReply, { op: 'welcome' }> | string> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.welcomeWaiter = undefined;
        resolve(`the socket ${this.options.socketPath} did not answer within ${timeoutMs} ms`);
      }, timeoutMs);
      this.welcomeWaiter = (r) => {
        clearTimeout(timer);
        this.welcomeWaiter = undefined;
        resolve(r);
      };
      this.send({ op: 'hello', version: ATTACH_PROTOCOL_VERSION, terminal });
    });
  }

  /** Runs one command; resolves its `ok`, or undefined when the bot went away (said on stderr). */
  run(text: string): Promise<boolean | undefined> {
    if (this.closed) {
      this.options.errorOutput.write(`chatops: ${this.lostReason ?? 'detached'}\n`);
      return Promise.resolve(undefined);
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending = { id, resolve };
      this.send({ op: 'run', id, text });
    });
  }

  /** Nothing more to send: ends this side and waits for the bot to close the connection. */
  async finish(): Promise<void> {
    if (!this.closed) this.socket.end();
    await Promise.race([this.closedPromise, new Promise((r) => setTimeout(r, 5_000).unref())]);
    this.socket.destroy();
  }

  /** Detaches at once (Ctrl-C): what runs in the bot goes on. */
  abandon(): void {
    this.closed = true;
    this.socket.destroy();
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(undefined);
  }

  private send(m: AttachRequest): void {
    if (!this.closed) this.socket.write(encodeAttachMessage(m));
  }

  private onLine(line: string): void {
    const m = parseAttachReply(line);
    if (m === undefined) {
      this.lose('the bot sent something that is not the console-attach protocol');
      return;
    }
    switch (m.op) {
      case 'welcome':
        this.welcomeWaiter?.(m);
        return;
      case 'refused':
        if (this.welcomeWaiter) this.welcomeWaiter(`the bot refused: ${m.message}`);
        else this.lose(`the bot refused: ${m.message}`);
        return;
      case 'out':
        this.options.output.write(m.text);
        return;
      case 'err':
        this.options.errorOutput.write(m.text);
        return;
      case 'done': {
        const p = this.pending;
        if (p?.id !== m.id) return;
        this.pending = undefined;
        this.prompt = m.prompt;
        p.resolve(m.ok);
        return;
      }
      case 'promptEnded':
        this.prompt = undefined;
        this.onPromptEnded?.();
        return;
    }
  }

  private lose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.lostReason = reason;
    this.socket.destroy();
    if (this.welcomeWaiter) {
      this.welcomeWaiter(reason);
      return;
    }
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      this.options.errorOutput.write(`chatops: ${this.lostReason}\n`);
      p.resolve(undefined);
    }
  }
}
