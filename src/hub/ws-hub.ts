import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { isChatOpsError } from '../errors.js';
import { listenError } from '../listen-error.js';
import type { Logger } from '../log.js';
import type { AuditLog } from '../core/authorizer.js';
import { agentAuditRecord, type AgentEvent } from '../audit/agent-events.js';
import {
  CLOSE_HEARTBEAT,
  CLOSE_HUB_STOPPING,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_REFUSED,
  CLOSE_REMOVED,
  HELLO_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type AgentInfo,
  type HelloMessage,
  type HubToAgent,
  type OutputMessage,
  type RefusalCode,
  type StateMessage,
} from '../protocol/agent-protocol.js';
import { parseAgentMessage } from '../protocol/validate.js';
import type { AgentTransport, AgentTransportHandlers, RunMessageFrom } from '../transport/agent-transport.js';
import { isValidAgentName, nameKey, unregisteredTags, type AgentRegistry } from './agent-registry.js';
import { PendingConnections } from './pending-connections.js';

export interface WebSocketHubOptions {
  host: string;
  /** 0 picks a free port; read it back with address() after start(). */
  port: number;
  /** With both files set the hub serves wss:// (https) instead of ws://. */
  tls?: { certPath: string; keyPath: string };
  heartbeatMs: number;
  registry: AgentRegistry;
  log: Logger;
  /** Default HELLO_TIMEOUT_MS. */
  helloTimeoutMs?: number;
  /**
   * How often to look for agents removed by another process (the admin CLI); default 250 ms.
   * The check costs one `PRAGMA data_version` unless something changed.
   */
  removalCheckMs?: number;
  /** Default MAX_FRAME_BYTES. */
  maxFrameBytes?: number;
  /** Connections not yet authenticated, in total (default 512) and per remote address (default 64). */
  maxPending?: number;
  maxPendingPerAddress?: number;
  /**
   * Where enrolment attempts are recorded (allowed, or refused with the reason: forged, expired
   * or used-up token, name taken). Reconnections with a secret are not enrolments and are only logged.
   */
  audit?: AuditLog;
}

/** One authenticated agent connection. Kept small: the hub holds thousands. */
interface Connection {
  ws: WebSocket;
  name: string;
  key: string;
  awaitingPong: boolean;
  nonce: number;
  /** Set while an extra liveness probe runs (another connection claimed this name). */
  probe?: NodeJS.Timeout;
  /** Its run messages waiting in the hub's inbox (see enqueueRunMessage). */
  queued: number;
  /** Reading from its socket is paused: it has MAX_QUEUED_PER_AGENT messages waiting. */
  paused: boolean;
}

/**
 * Fairness under load. An agent with this many run messages waiting is not read from until the
 * hub has stored some of them (TCP then slows the agent down; its outbox keeps everything), so a
 * thousand computers streaming output cannot queue up work ahead of a quiet one's answer.
 */
const MAX_QUEUED_PER_AGENT = 16;
/** Most run messages stored in one turn of the event loop: commands typed meanwhile get their turn. */
const MAX_BATCH = 500;
/** Most messages of one agent in one batch: the others' go in too. */
const MAX_PER_AGENT_PER_BATCH = 4;

/**
 * The embedded AgentTransport: agents dial in over WebSocket (see agent-protocol.ts for the
 * handshake, heartbeat and ack facts). Connections are keyed by the ASCII-lower-cased name.
 */
export class WebSocketHub implements AgentTransport {
  private readonly options: WebSocketHubOptions;
  private readonly log: Logger;
  private readonly registry: AgentRegistry;
  private readonly handlers: AgentTransportHandlers[] = [];
  private readonly connections = new Map<string, Connection>();
  private readonly sockets = new Set<WebSocket>();
  private server?: Server;
  private wss?: WebSocketServer;
  private heartbeatTimer?: NodeJS.Timeout;
  private removalTimer?: NodeJS.Timeout;
  private lastChange = -1;
  private nonce = 0;
  private pending?: PendingConnections;
  /** Run messages waiting for the end of this turn of the event loop (see enqueueRunMessage). */
  private readonly inbox = new Map<Connection, Array<OutputMessage | StateMessage>>();
  /** An asynchronous handler is storing a batch: later ones wait. */
  private handling = false;
  private inboxScheduled = false;
  private framesSent = 0;
  private framesReceived = 0;

  constructor(options: WebSocketHubOptions) {
    this.options = options;
    this.log = options.log;
    this.registry = options.registry;
  }

  on(handlers: AgentTransportHandlers): void {
    this.handlers.push(handlers);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const tls = this.options.tls;
    const server = tls ? createHttpsServer({ cert: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) }) : createHttpServer();
    const pending = new PendingConnections(
      {
        maxTotal: this.options.maxPending ?? 512,
        maxPerAddress: this.options.maxPendingPerAddress ?? 64,
        upgradeTimeoutMs: this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS,
      },
      this.log,
    );
    this.pending = pending;
    // Raw TCP connections, before TLS and HTTP: the caps hold however slow the peer is.
    server.on('connection', (socket: Socket) => void pending.admit(socket));
    server.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('This is the chatops agent hub: connect with WebSocket.\n');
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.options.port, this.options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      pending.close();
      this.pending = undefined;
      // A taken port is an operator's everyday mistake: one line naming HUB_LISTEN, no stack.
      throw listenError(e, this.options.host, this.options.port, 'HUB_LISTEN');
    }
    // Attached once listening, in the same tick (no upgrade can slip in between): ws re-emits
    // the server's errors on itself, and a listen error there, with nobody listening on the
    // WebSocketServer, would crash the process with a stack trace instead of rejecting start().
    const wss = new WebSocketServer({
      server,
      maxPayload: this.options.maxFrameBytes ?? MAX_FRAME_BYTES,
      perMessageDeflate: false,
      clientTracking: false,
    });
    wss.on('connection', (ws, req) => this.accept(ws, req));
    // Later server errors (out of file descriptors on accept, ...) are logged, not fatal.
    wss.on('error', (e) => this.log.error('agent hub server error', { error: e.message }));
    this.server = server;
    this.wss = wss;
    this.registry.markAllOffline();
    this.lastChange = this.registry.changeCounter();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.options.heartbeatMs);
    this.removalTimer = setInterval(() => this.checkRemovals(false), this.options.removalCheckMs ?? 250);
    const { host, port } = this.address();
    this.log.info('agent hub listening', { url: `${tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}` });
  }

  /** Where the hub listens (the real port when started with port 0). */
  address(): { host: string; port: number } {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) throw new Error('the hub is not started');
    return { host: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.pending?.close();
    clearInterval(this.heartbeatTimer);
    clearInterval(this.removalTimer);
    for (const conn of [...this.connections.values()]) this.drop(conn, CLOSE_HUB_STOPPING, 'the hub is stopping');
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.wss!.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections?.();
    this.wss = undefined;
  }

  send(agentName: string, message: HubToAgent): boolean {
    const conn = this.find(agentName);
    if (!conn || conn.ws.readyState !== conn.ws.OPEN) return false;
    this.sendRaw(conn, JSON.stringify(message));
    return true;
  }

  /**
   * Frames sent to and received from authenticated agents since start: what a test counts to
   * show the work per dispatched computer stays constant as a fan-out grows.
   */
  stats(): { framesSent: number; framesReceived: number } {
    return { framesSent: this.framesSent, framesReceived: this.framesReceived };
  }

  isConnected(agentName: string): boolean {
    return this.find(agentName) !== undefined;
  }

  /** Connections not authenticated yet (what HUB_MAX_PENDING caps). */
  pendingConnections(): number {
    return this.pending?.size() ?? 0;
  }

  connected(): string[] {
    return [...this.connections.values()].map((c) => c.name);
  }

  disconnect(agentName: string, reason: string): void {
    const conn = this.find(agentName);
    if (conn) this.drop(conn, CLOSE_REMOVED, reason);
  }

  // ---- internals ----------------------------------------------------------------------------

  /** By name, case-insensitively, or by alias (e.g. `localhost`). */
  private find(agentName: string): Connection | undefined {
    if (!isValidAgentName(agentName)) return undefined;
    const direct = this.connections.get(nameKey(agentName));
    if (direct) return direct;
    const resolved = this.registry.resolve(agentName);
    return resolved === undefined ? undefined : this.connections.get(nameKey(resolved));
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    this.pending?.upgraded(req.socket);
    this.sockets.add(ws);
    let conn: Connection | undefined;
    const helloTimer = setTimeout(() => {
      this.log.warn('agent connection closed: no hello in time', { remote });
      ws.close(CLOSE_PROTOCOL_ERROR, 'expected hello');
      setTimeout(() => ws.terminate(), 1000).unref();
    }, this.options.helloTimeoutMs ?? HELLO_TIMEOUT_MS);

    ws.on('error', (err) => this.log.warn('agent connection error', { remote, agent: conn?.name, error: err.message }));
    ws.on('close', (code, reasonBuf) => {
      clearTimeout(helloTimer);
      this.sockets.delete(ws);
      if (conn && this.connections.get(conn.key) === conn) {
        this.forget(conn, `connection closed (${code}${reasonBuf.length ? `: ${reasonBuf.toString()}` : ''})`);
      }
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) return this.protocolError(ws, remote, conn, 'binary frames are not accepted');
      const parsed = parseAgentMessage(rawToString(data));
      if (!parsed.ok) return this.protocolError(ws, remote, conn, parsed.reason);
      const msg = parsed.message;
      if (!conn) {
        clearTimeout(helloTimer);
        if (msg.op !== 'hello') return this.protocolError(ws, remote, conn, 'the first frame must be hello');
        try {
          conn = this.handshake(ws, msg, remote);
          if (conn) this.pending?.authenticated(req.socket);
        } catch (e) {
          // e.g. the database is unavailable: refuse this one connection, keep the bot up.
          this.log.error('agent handshake failed', { remote, error: e instanceof Error ? e.message : String(e) });
          ws.close(1011, 'the hub could not check this agent');
          setTimeout(() => ws.terminate(), 1000).unref();
        }
        return;
      }
      if (this.connections.get(conn.key) !== conn) return; // cut off: ignore stragglers
      this.framesReceived++;
      conn.awaitingPong = false;
      switch (msg.op) {
        case 'hello':
          return this.protocolError(ws, remote, conn, 'hello sent twice');
        case 'pong':
          return;
        case 'output':
        case 'state':
          this.enqueueRunMessage(conn, msg);
          return;
        case 'session':
          for (const h of this.handlers) {
            try {
              h.sessionMessage?.(conn.name, msg);
            } catch (e) {
              this.log.error('session handler failed', { agent: conn.name, error: String(e) });
            }
          }
          return;
      }
    });
  }

  private handshake(ws: WebSocket, hello: HelloMessage, remote: string): Connection | undefined {
    // Nothing a hello presents is registered for masking: an unverified value would let a forged
    // hello blank out what the log shows (and grow the mask list). Tokens and secrets are never
    // logged, and any credential of our own format is masked by its shape (log.ts).
    const refuse = (code: RefusalCode, reason: string): undefined => {
      this.log.warn('agent refused', { agent: hello.name.slice(0, 80), remote, code, reason });
      ws.send(JSON.stringify({ op: 'refused', code, reason } satisfies HubToAgent));
      ws.close(CLOSE_REFUSED, code);
      setTimeout(() => ws.terminate(), 1000).unref();
      return undefined;
    };
    if (hello.protocol !== PROTOCOL_VERSION) {
      return refuse('ProtocolMismatch', `The hub speaks protocol ${PROTOCOL_VERSION}, the agent ${hello.protocol}.`);
    }
    if (!isValidAgentName(hello.name)) {
      return refuse('InvalidName', 'The computer name is not valid: use 1-63 ASCII letters, digits, ., _ or -.');
    }
    const info: AgentInfo = {
      os: hello.os,
      version: hello.version,
      tags: hello.tags,
      configurations: hello.configurations,
      defaultConfiguration: hello.defaultConfiguration,
    };
    let secret: string | undefined;
    if (hello.token !== undefined) {
      try {
        secret = this.registry.enroll(hello.name, hello.token, info).secret;
        this.log.info('agent enrolled', { agent: hello.name, remote });
        this.auditEnrolment(hello.name, remote, 'allowed', 'enrolled with a valid enrolment token');
      } catch (e) {
        if (!isChatOpsError(e)) throw e;
        const code = (['TokenInvalid', 'TokenExpired', 'TokenUsedUp', 'NameTaken', 'InvalidName'] as const).find((c) => c === e.code);
        this.auditEnrolment(hello.name, remote, 'refused', `${code ?? 'BadHello'}: ${e.message}`);
        return refuse(code ?? 'BadHello', e.message);
      }
    } else if (!this.registry.authenticate(hello.name, hello.secret ?? '')) {
      return refuse('AuthenticationFailed', `The agent ${hello.name} is not enrolled or its secret is wrong.`);
    }
    const name = this.registry.resolve(hello.name) ?? hello.name;
    const key = nameKey(name);
    const existing = this.connections.get(key);
    if (existing) {
      // The newcomer holds the right secret, so the old connection may be half-open (the agent
      // restarted or lost its network): probe it now rather than wait for the next heartbeats.
      this.probe(existing);
      return refuse('NameInUse', `Another agent is connected as ${name}.`);
    }
    const conn: Connection = { ws, name, key, awaitingPong: false, nonce: 0, queued: 0, paused: false };
    this.registry.markOnline(name, info);
    // Tags are the registry's (set at enrolment, then by `npm run admin -- agent tag`): a tag the
    // agent claims on its own widens nothing; say so when it asks for more.
    const registered = this.registry.get(name)?.tags ?? [];
    const unregistered = unregisteredTags(info.tags, registered);
    if (unregistered.length > 0) {
      this.log.warn('agent claims tags it is not registered with; they are ignored', { agent: name, claimed: unregistered, registered });
    }
    // The sessions alive on the agent go to the handlers only (the registry keeps what is lasting).
    const known: AgentInfo = { ...info, tags: registered, sessions: hello.sessions ?? [] };
    this.connections.set(key, conn);
    ws.send(JSON.stringify({ op: 'welcome', heartbeatMs: this.options.heartbeatMs, ...(secret ? { secret } : {}) } satisfies HubToAgent));
    this.log.info('agent connected', { agent: name, remote });
    for (const h of this.handlers) {
      try {
        h.connected?.(name, known);
      } catch (e) {
        this.log.error('connected handler failed', { agent: name, error: String(e) });
      }
    }
    return conn;
  }

  /** Never carries the token or secret: only the claimed name, the address and the registry's reason. */
  private auditEnrolment(name: string, remote: string, decision: AgentEvent['decision'], reason: string): void {
    if (!this.options.audit) return;
    const agent = name.slice(0, 80);
    try {
      this.options.audit.append(
        agentAuditRecord({ kind: 'enrolment', agent, decision, reason, by: `agent:${agent}@${remote}`, where: 'hub' }),
      );
    } catch (e) {
      this.log.error('could not write the enrolment audit record', { agent, error: e instanceof Error ? e.message : String(e) });
    }
  }

  /**
   * Run messages wait for the end of the event loop's turn, then go to the handlers as one batch
   * (one transaction for everything that arrived together). Batches are handled one after
   * another, so cumulative acks are never premature. Each agent has its own queue and a batch
   * takes a few messages from each in turn (MAX_PER_AGENT_PER_BATCH, at most MAX_BATCH in all),
   * so a quiet computer's answer is stored within a turn or two while a thousand others stream.
   */
  private enqueueRunMessage(conn: Connection, msg: OutputMessage | StateMessage): void {
    let queue = this.inbox.get(conn);
    if (!queue) this.inbox.set(conn, (queue = []));
    queue.push(msg);
    if (++conn.queued >= MAX_QUEUED_PER_AGENT && !conn.paused) {
      conn.paused = true;
      conn.ws.pause();
    }
    this.scheduleInbox();
  }

  private scheduleInbox(): void {
    if (this.inboxScheduled || this.handling || this.inbox.size === 0) return;
    this.inboxScheduled = true;
    setImmediate(() => {
      this.inboxScheduled = false;
      this.handleInbox();
    });
  }

  /** Up to MAX_BATCH messages, a few from each agent's queue; served agents go to the back. */
  private takeBatch(): Array<{ conn: Connection; msg: OutputMessage | StateMessage }> {
    const taken: Array<{ conn: Connection; msg: OutputMessage | StateMessage }> = [];
    for (const [conn, queue] of this.inbox) {
      if (taken.length >= MAX_BATCH) break;
      this.inbox.delete(conn);
      for (const msg of queue.splice(0, MAX_PER_AGENT_PER_BATCH)) taken.push({ conn, msg });
      if (queue.length > 0) this.inbox.set(conn, queue);
      conn.queued = queue.length;
      if (conn.paused && conn.queued < MAX_QUEUED_PER_AGENT / 2) {
        conn.paused = false;
        conn.ws.resume();
      }
    }
    return taken;
  }

  private handleInbox(): void {
    if (this.handling) return;
    const taken = this.takeBatch();
    // The rest waits for the next turn, after whatever I/O came meanwhile.
    this.scheduleInbox();
    const batch = taken.filter((e) => this.connections.get(e.conn.key) === e.conn); // cut off: ignore stragglers
    if (batch.length === 0) return;
    const messages: RunMessageFrom[] = batch.map((e) => ({ agent: e.conn.name, message: e.msg }));
    let result: readonly number[] | Promise<readonly number[]> = [];
    try {
      for (const h of this.handlers) if (h.runMessages) result = h.runMessages(messages);
    } catch (e) {
      this.acknowledge(batch, undefined, e);
      return;
    }
    if (!(result instanceof Promise)) {
      this.acknowledge(batch, result);
      return;
    }
    this.handling = true;
    result
      .then(
        (failed) => this.acknowledge(batch, failed),
        (e: unknown) => this.acknowledge(batch, undefined, e),
      )
      .finally(() => {
        this.handling = false;
        this.scheduleInbox();
      });
  }

  /**
   * After a batch was handled: each connection gets one cumulative ack per run (the highest seq
   * stored), or, when any of its messages was not stored (`failed`; undefined: none was), is cut
   * off so that its agent resends what is unacknowledged.
   */
  private acknowledge(
    batch: Array<{ conn: Connection; msg: OutputMessage | StateMessage }>,
    failed?: readonly number[],
    error?: unknown,
  ): void {
    const lost = new Set<Connection>();
    if (failed === undefined) for (const e of batch) lost.add(e.conn);
    else for (const i of failed) if (batch[i]) lost.add(batch[i].conn);
    for (const conn of lost) {
      const first = batch.find((e) => e.conn === conn)!.msg;
      this.log.error('storing agent output failed; dropping the connection so the agent resends', {
        agent: conn.name,
        runId: first.runId,
        seq: first.seq,
        ...(error !== undefined ? { error: error instanceof Error ? error.message : String(error) } : {}),
      });
      if (this.connections.get(conn.key) === conn) this.drop(conn, 1011, 'the hub could not store a message');
    }
    const acks = new Map<Connection, Map<string, number>>();
    for (const { conn, msg } of batch) {
      if (lost.has(conn)) continue;
      let runs = acks.get(conn);
      if (!runs) acks.set(conn, (runs = new Map()));
      runs.set(msg.runId, Math.max(runs.get(msg.runId) ?? -1, msg.seq));
    }
    for (const [conn, runs] of acks) {
      if (this.connections.get(conn.key) !== conn || conn.ws.readyState !== conn.ws.OPEN) continue;
      for (const [runId, seq] of runs) this.sendRaw(conn, JSON.stringify({ op: 'ack', runId, seq } satisfies HubToAgent));
    }
  }

  /** Every frame the hub sends goes through here (counted: see stats()). */
  private sendRaw(conn: Connection, frame: string): void {
    this.framesSent++;
    conn.ws.send(frame);
  }

  /** Pings at once; a connection that does not answer within min(heartbeatMs, 2 s) is cut off. */
  private probe(conn: Connection): void {
    if (conn.probe) return;
    conn.awaitingPong = true;
    conn.nonce = ++this.nonce;
    if (conn.ws.readyState === conn.ws.OPEN) this.sendRaw(conn, `{"op":"ping","nonce":${conn.nonce}}`);
    conn.probe = setTimeout(
      () => {
        conn.probe = undefined;
        if (conn.awaitingPong && this.connections.get(conn.key) === conn) {
          this.log.warn('agent did not answer a liveness probe; cutting it off', { agent: conn.name });
          this.drop(conn, CLOSE_HEARTBEAT, 'heartbeat missed');
        }
      },
      Math.min(this.options.heartbeatMs, 2000),
    );
    conn.probe.unref();
  }

  private heartbeat(): void {
    this.checkRemovals(true);
    const alive: string[] = [];
    for (const conn of [...this.connections.values()]) {
      if (conn.probe) {
        alive.push(conn.name);
        continue;
      }
      if (conn.awaitingPong) {
        this.log.warn('agent missed a heartbeat; cutting it off', { agent: conn.name });
        this.drop(conn, CLOSE_HEARTBEAT, 'heartbeat missed');
        continue;
      }
      conn.awaitingPong = true;
      conn.nonce = ++this.nonce;
      if (conn.ws.readyState === conn.ws.OPEN) this.sendRaw(conn, `{"op":"ping","nonce":${conn.nonce}}`);
      alive.push(conn.name);
    }
    try {
      this.registry.touch(alive);
    } catch (e) {
      this.log.warn('could not record agent heartbeats', { error: String(e) });
    }
  }

  /** Cuts off connections whose agent record is gone (removed by the admin CLI or the bot). */
  private checkRemovals(force: boolean): void {
    if (this.connections.size === 0) return;
    let enrolled: Set<string>;
    try {
      const change = this.registry.changeCounter();
      if (!force && change === this.lastChange) return;
      this.lastChange = change;
      enrolled = this.registry.enrolledNameKeys();
    } catch (e) {
      this.log.warn('could not check the agent registry', { error: String(e) });
      return;
    }
    for (const conn of [...this.connections.values()]) {
      if (!enrolled.has(conn.key)) {
        this.log.warn('agent was removed; cutting it off', { agent: conn.name });
        if (conn.ws.readyState === conn.ws.OPEN) {
          conn.ws.send(
            JSON.stringify({
              op: 'refused',
              code: 'AuthenticationFailed',
              reason: `The agent ${conn.name} was removed.`,
            } satisfies HubToAgent),
          );
        }
        this.drop(conn, CLOSE_REMOVED, 'the agent was removed');
        for (const h of this.handlers) {
          try {
            h.removed?.(conn.name);
          } catch (e) {
            this.log.error('removed handler failed', { agent: conn.name, error: String(e) });
          }
        }
      }
    }
  }

  private protocolError(ws: WebSocket, remote: string, conn: Connection | undefined, reason: string): void {
    this.log.warn('agent protocol error; closing the connection', { remote, agent: conn?.name, reason });
    if (conn && this.connections.get(conn.key) === conn) {
      this.drop(conn, CLOSE_PROTOCOL_ERROR, reason);
    } else {
      ws.close(CLOSE_PROTOCOL_ERROR, reason.slice(0, 120));
      setTimeout(() => ws.terminate(), 1000).unref();
    }
  }

  /** Removes the connection at once (no more frames are handled) and closes the socket. */
  private drop(conn: Connection, code: number, reason: string): void {
    if (this.connections.get(conn.key) === conn) this.forget(conn, reason);
    const ws = conn.ws;
    if (code === CLOSE_HEARTBEAT) {
      ws.terminate();
      return;
    }
    try {
      ws.close(code, reason.slice(0, 120));
    } catch {
      ws.terminate();
    }
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  private forget(conn: Connection, reason: string): void {
    this.connections.delete(conn.key);
    clearTimeout(conn.probe);
    conn.probe = undefined;
    try {
      this.registry.markOffline(conn.name);
    } catch (e) {
      this.log.warn('could not mark agent offline', { agent: conn.name, error: String(e) });
    }
    this.log.info('agent disconnected', { agent: conn.name, reason });
    for (const h of this.handlers) {
      try {
        h.disconnected?.(conn.name, reason);
      } catch (e) {
        this.log.error('disconnected handler failed', { agent: conn.name, error: String(e) });
      }
    }
  }
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
