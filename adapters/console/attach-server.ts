import { createServer, type Socket } from 'node:net';
import type { Core, IncomingCommand } from '../../src/core/ports.js';
import type { Logger } from '../../src/log.js';
import {
  ATTACH_PROTOCOL_VERSION,
  type AttachReply,
  encodeAttachMessage,
  LineReader,
  parseAttachRequest,
} from '../../src/protocol/attach-protocol.js';
import { listenPrivate, removeSocketFile } from './attach-socket.js';
import { ConsoleSink } from './console-sink.js';
import { showControlChars } from './control-chars.js';
import { CONSOLE_CHANNEL, consoleInvoker } from './index.js';

export interface AttachServerOptions {
  core: Core;
  /** `attachSocketPath(config.dbPath)`. */
  socketPath: string;
  /** The database the bot runs on, as configured (told to clients in `welcome`). */
  database: string;
  log: Logger;
  /** As the console's: where the whole of a large output is written. */
  attachmentsDir?: string;
  /**
   * Awaited before each command: a bot that has just started waits (bounded) for its enrolled
   * agents, as its own piped console does, so that an attached script's first line does not
   * find them still dialling in.
   */
  beforeCommand?: () => Promise<unknown>;
}

export interface AttachServer {
  readonly path: string;
  /** Closes the listener and every attached connection, and removes the socket file. */
  stop(): Promise<void>;
}

/**
 * The running bot's side of `npm run console` (and of a piped `npm start` beside it): every
 * connection is the console channel, used by the bot's own OS user, the only one the socket's
 * mode lets connect (attach-socket.ts). Commands run one at a time per connection and print what
 * the console's plain (non-TTY) mode prints, or its terminal mode when the client says it draws
 * on one. Served in console and chat mode alike.
 *
 * Must be started after the bot's lock is taken: that is what makes a socket already at the path
 * a crashed bot's, safe to replace.
 */
export async function startAttachServer(options: AttachServerOptions): Promise<AttachServer> {
  const connections = new Set<Socket>();
  // Half-open: a client ends its side when it has sent everything, and still reads the answers.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveConnection(socket, options);
  });
  const id = await listenPrivate(server, options.socketPath);
  server.on('error', (e) => options.log.warn('console attach socket error', { error: e.message }));
  options.log.info('console attach socket listening', { path: options.socketPath });
  let stopped: Promise<void> | undefined;
  return {
    path: options.socketPath,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        // Removed first: a client started now finds no socket rather than a closing one.
        removeSocketFile(options.socketPath, id);
        for (const s of connections) s.destroy();
        server.close(() => resolve());
      });
      return stopped;
    },
  };
}

let attachments = 0;

function serveConnection(socket: Socket, options: AttachServerOptions): void {
  const scope = `attach-${++attachments}`;
  const { core, log } = options;
  let closed = false;
  let greeted = false;
  let ended = false;
  /** The id of the command running now; output written between commands has none. */
  let current: number | undefined;
  let queue: Promise<void> = Promise.resolve();
  let sink: ConsoleSink | undefined;
  const user = consoleInvoker();

  const send = (m: AttachReply): void => {
    if (!closed && socket.writable) socket.write(encodeAttachMessage(m));
  };
  // Notices for this client's remote prompt (its session ended by itself) are shown here.
  const stopNotices = core.onNotice((n) => {
    if (n.channel !== CONSOLE_CHANNEL || n.scope !== scope || closed || sink === undefined) return false;
    void sink.post(n.message).catch(() => undefined);
    if (n.endedPrompt !== undefined) send({ op: 'promptEnded' });
    return true;
  });
  socket.once('close', stopNotices);
  const refuse = (message: string): void => {
    send({ op: 'refused', message });
    closed = true;
    socket.end();
  };

  const run = async (id: number, text: string): Promise<void> => {
    if (closed || sink === undefined) return;
    current = id;
    let ok = true;
    let prompt: string | undefined;
    const trimmed = text.trim();
    if (trimmed !== '') {
      await options.beforeCommand?.();
      // Each attached client is a console host of its own: its own remote prompt (Enter-PSSession).
      const command: IncomingCommand = { channel: CONSOLE_CHANNEL, user, text: trimmed, source: 'command', scope };
      try {
        const outcome = await core.handle(command, sink);
        ok = outcome.ok;
        prompt = outcome.prompt;
      } catch (e) {
        // The core never rejects for user errors; this is a bug, shown as the console shows it.
        send({ op: 'err', id, text: `ERROR: ${showControlChars(String(e))}\n` });
        ok = false;
      }
    }
    current = undefined;
    sink.detach();
    send({ op: 'done', id, ok, ...(prompt !== undefined ? { prompt } : {}) });
  };

  const reader = new LineReader(
    (line) => {
      if (closed) return;
      const request = parseAttachRequest(line);
      if (request === undefined) {
        refuse('not a request of the console-attach protocol');
        return;
      }
      if (!greeted) {
        if (request.op !== 'hello') {
          refuse('expected hello first');
          return;
        }
        if (request.version !== ATTACH_PROTOCOL_VERSION) {
          refuse(
            `this bot speaks console-attach protocol ${ATTACH_PROTOCOL_VERSION}, not ${request.version}: use the same version of chatops`,
          );
          return;
        }
        greeted = true;
        sink = new ConsoleSink({
          tty: request.terminal,
          write: (text) => send({ op: 'out', ...(current !== undefined ? { id: current } : {}), text }),
          writeError: (text) => send({ op: 'err', ...(current !== undefined ? { id: current } : {}), text }),
          ...(options.attachmentsDir !== undefined ? { attachmentsDir: options.attachmentsDir } : {}),
        });
        send({ op: 'welcome', version: ATTACH_PROTOCOL_VERSION, pid: process.pid, database: options.database });
        log.info('console attached', { user: user.displayName });
        return;
      }
      if (request.op !== 'run') {
        refuse('hello was already sent');
        return;
      }
      queue = queue.then(() => run(request.id, request.text));
    },
    () => refuse('line too long for the console-attach protocol'),
  );

  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => reader.push(chunk));
  // The client has nothing more to ask: finish what it asked, then close.
  socket.on('end', () => {
    ended = true;
    void queue.then(() => {
      if (!closed) socket.end();
    });
  });
  socket.on('error', (e) => log.debug('console attach connection error', { error: e.message }));
  socket.on('close', () => {
    closed = true;
    if (greeted) log.info('console detached', { user: user.displayName, clean: ended });
  });
}
