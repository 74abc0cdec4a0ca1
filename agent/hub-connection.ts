// The agent's connection to the hub: dialling with backoff, the hello (enrolment token or secret),
// welcome and refusals, pings and the heartbeat watchdog. Runs, stops and acks are handed on.
import type { EventEmitter } from 'node:events';
import { platform, release } from 'node:os';
import WebSocket from 'ws';
import type { Logger } from '../src/log.js';
import {
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  TRANSIENT_REFUSALS,
  type AgentToHub,
  type HelloMessage,
  type HubToAgent,
  type DisconnectSessionMessage,
  type OpenSessionMessage,
  type RunMessage,
} from '../src/protocol/agent-protocol.js';
import { parseHubMessage } from '../src/protocol/validate.js';
import { AGENT_VERSION, type AgentOptions } from './agent-options.js';
import type { RunMessageOut } from './outbox.js';
import { readState, writeState } from './state-file.js';

/** What the connection hands on: everything but the handshake and the heartbeat. */
export interface HubHandler {
  /** After each welcome, before `connected` is emitted. */
  welcomed(): void;
  ack(runId: string, seq: number): void;
  stop(runId: string): void;
  run(msg: RunMessage): void;
  openSession(msg: OpenSessionMessage): void;
  closeSession(sessionId: string): void;
  disconnectSession(msg: DisconnectSessionMessage): void;
  connectSession(sessionId: string): void;
}

export class HubConnection {
  private secret: string | undefined;
  private ws: WebSocket | undefined;
  private welcomed = false;
  private halted = true;
  private attempt = 0;
  /** Why the last attempt failed before a welcome (logged once per distinct reason). */
  private lastFailure: string | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private heartbeatMs = 0;

  constructor(
    private readonly deps: {
      options: Pick<AgentOptions, 'hubUrl' | 'name' | 'token' | 'secret' | 'stateDir' | 'tags' | 'reconnect' | 'tls' | 'os' | 'version'>;
      log: Logger;
      /** The configuration names the agent offers, and its default (for the hello). */
      info: () => { configurations: string[]; defaultConfiguration: string; sessions?: string[] };
      /** The Agent: hears `connected`, `disconnected`, `enrolled`, `refused` and `fatal`. */
      events: EventEmitter;
      handler: HubHandler;
    },
  ) {
    const { options } = deps;
    const dir = options.stateDir;
    this.secret = options.secret ?? (dir === null ? undefined : readState(dir)?.secret);
    if (this.secret) deps.log.addSecret(this.secret);
  }

  /** Welcomed by the hub on the current connection. */
  get connected(): boolean {
    return this.welcomed;
  }

  /** Not dialling: never started, stopped, or refused for good. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Dialling is wanted from now on; false when it already was. Call connect() next. */
  begin(): boolean {
    if (!this.halted) return false;
    this.halted = false;
    return true;
  }

  /** Stops dialling (the current connection stays open until close()). */
  halt(): void {
    this.halted = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.watchdog);
  }

  /** Closes the current connection, if any (after halt()). */
  async close(): Promise<void> {
    const ws = this.ws;
    this.ws = undefined;
    this.welcomed = false;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        ws.close(1000, 'agent stopping');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1000).unref();
      });
    }
  }

  /** Sends if the connection is open (and welcomed, but for the hello and pongs); drops otherwise. */
  send(m: AgentToHub | RunMessageOut): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (m.op !== 'pong' && m.op !== 'hello' && !this.welcomed) return;
    ws.send(JSON.stringify(m));
  }

  connect(): void {
    if (this.halted) return;
    const { options, log, events } = this.deps;
    const ws = new WebSocket(options.hubUrl, {
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: 10_000,
      ...(options.tls?.ca !== undefined ? { ca: options.tls.ca } : {}),
      ...(options.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.tls.rejectUnauthorized } : {}),
    });
    this.ws = ws;
    let reason = 'connection closed';
    ws.on('open', () => {
      if (!this.secret && !options.token) {
        this.fatal('NotEnrolled', `The agent ${options.name} has no secret yet and no enrolment token was given (--token).`);
        return;
      }
      const hello: HelloMessage = {
        op: 'hello',
        protocol: PROTOCOL_VERSION,
        name: options.name,
        ...(this.secret ? { secret: this.secret } : { token: options.token! }),
        os: options.os ?? `${platform()} ${release()}`,
        version: options.version ?? AGENT_VERSION,
        tags: options.tags ?? [],
        ...this.deps.info(),
      };
      ws.send(JSON.stringify(hello));
    });
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      const parsed = parseHubMessage(isBinary ? '' : data.toString());
      if (!parsed.ok) {
        reason = `protocol error: ${parsed.reason}`;
        log.warn('bad frame from the hub; reconnecting', { reason: parsed.reason });
        ws.terminate();
        return;
      }
      try {
        this.handle(ws, parsed.message);
      } catch (e) {
        // e.g. the state directory is not writable: drop this connection and try again later.
        reason = `agent error: ${e instanceof Error ? e.message : String(e)}`;
        log.error('could not handle a message from the hub', { op: parsed.message.op, error: reason });
        ws.terminate();
      }
    });
    ws.on('error', (e) => {
      reason = e.message;
    });
    ws.on('close', (code, buf) => {
      if (buf.length > 0) reason = `${code}: ${buf.toString()}`;
      if (this.ws === ws) this.ws = undefined;
      clearInterval(this.watchdog);
      const wasWelcomed = this.welcomed;
      this.welcomed = false;
      if (wasWelcomed) {
        log.info('disconnected from the hub', { reason });
        events.emit('disconnected', reason);
        this.lastFailure = undefined;
      } else if (!this.halted && reason !== this.lastFailure) {
        // A wrong URL, a refused port or an untrusted certificate: say so once, not per retry.
        this.lastFailure = reason;
        log.warn('cannot reach the hub; retrying', { hub: options.hubUrl, reason });
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.halted) return;
    const initial = this.deps.options.reconnect?.initialMs ?? 200;
    const max = this.deps.options.reconnect?.maxMs ?? 10_000;
    const base = Math.min(max, initial * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = Math.round(base / 2 + Math.random() * (base / 2)); // "equal jitter"
    this.deps.log.debug('reconnecting', { inMs: delay, attempt: this.attempt });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private fatal(code: string, reason: string): void {
    const { log, events } = this.deps;
    log.error('the hub refused this agent; not retrying', { code, reason });
    this.halted = true;
    clearTimeout(this.reconnectTimer);
    this.ws?.terminate();
    const e = Object.assign(new Error(reason), { code });
    if (events.listenerCount('fatal') > 0) events.emit('fatal', e);
  }

  private handle(ws: WebSocket, msg: HubToAgent): void {
    const { options, log, events, handler } = this.deps;
    switch (msg.op) {
      case 'welcome': {
        if (msg.secret) {
          this.secret = msg.secret;
          log.addSecret(msg.secret);
          if (options.stateDir !== null) writeState(options.stateDir, { name: options.name, secret: msg.secret });
          log.info('enrolled with the hub', { agent: options.name });
          events.emit('enrolled');
        }
        this.welcomed = true;
        this.attempt = 0;
        this.heartbeatMs = msg.heartbeatMs;
        this.startWatchdog(ws);
        log.info('connected to the hub', { agent: options.name });
        handler.welcomed();
        events.emit('connected');
        return;
      }
      case 'refused': {
        events.emit('refused', msg.code, msg.reason);
        if (TRANSIENT_REFUSALS.has(msg.code)) {
          log.warn('the hub refused this agent for now; retrying', { code: msg.code, reason: msg.reason });
          return; // the close that follows schedules the retry
        }
        this.fatal(msg.code, msg.reason);
        return;
      }
      case 'ping':
        this.send({ op: 'pong', nonce: msg.nonce });
        return;
      case 'ack':
        handler.ack(msg.runId, msg.seq);
        return;
      case 'stop':
        handler.stop(msg.runId);
        return;
      case 'run':
        handler.run(msg);
        return;
      case 'openSession':
        handler.openSession(msg);
        return;
      case 'closeSession':
        handler.closeSession(msg.sessionId);
        return;
      case 'disconnectSession':
        handler.disconnectSession(msg);
        return;
      case 'connectSession':
        handler.connectSession(msg.sessionId);
        return;
    }
  }

  /** Cuts a half-open connection: no frame from the hub for 2.5 heartbeat intervals. */
  private startWatchdog(ws: WebSocket): void {
    clearInterval(this.watchdog);
    if (this.heartbeatMs <= 0) return;
    this.lastHeard = Date.now();
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastHeard > this.heartbeatMs * 2.5) {
        this.deps.log.warn('no heartbeat from the hub; reconnecting');
        ws.terminate();
      }
    }, this.heartbeatMs);
    this.watchdog.unref();
  }
}
