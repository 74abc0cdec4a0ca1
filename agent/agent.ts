import { EventEmitter } from 'node:events';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { platform, release } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { silentLogger, type Logger } from '../src/log';
import { ensurePrivateDir } from '../src/private-files';
import {
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  TRANSIENT_REFUSALS,
  type AgentToHub,
  type HelloMessage,
  type HubToAgent,
  type RunMessage,
} from '../src/protocol/agent-protocol';
import { parseHubMessage } from '../src/protocol/validate';
import {
  availableKinds,
  createProcessExecutor,
  EXECUTOR_KINDS,
  killLeftoverGroup,
  processStartTime,
  type Executor,
  type ExecutorKind,
  type RunningRun,
} from './executors';
import { isFinal, Outbox, StartedRuns, type RunMessageOut } from './outbox';
import type { ScriptUser } from './script-environment';

export const AGENT_VERSION = '0.1.0';

/** A session configuration the agent offers: its name and the executor that runs it. */
export interface SessionConfiguration {
  name: string;
  kind: ExecutorKind;
}

export interface AgentOptions {
  /** ws://HOST:PORT or wss://HOST:PORT */
  hubUrl: string;
  name: string;
  /** Enrolment token; used only while no secret is known. */
  token?: string;
  /** The agent's secret, when the caller keeps it (the embedded agent); otherwise read from the state file. */
  secret?: string;
  /**
   * Where the state file (`state.json`, mode 0600), the outbox spool and the started-run log
   * live. `null` keeps everything in memory (simulated agents in the bench).
   */
  stateDir: string | null;
  tags?: string[];
  /** Default: every executor found on PATH (Microsoft.PowerShell if pwsh, bash, sh). */
  configurations?: SessionConfiguration[];
  /** Default: Microsoft.PowerShell when offered, else bash, else the first configuration. */
  defaultConfiguration?: string;
  /** Where restricted configurations find their runbooks. */
  runbooksDir?: string;
  /** Configurations that only run runbooks from runbooksDir (JEA-like endpoints). */
  restrictToRunbooks?: string[];
  /** Default: a process executor with `scriptEnv` and `runAs`. */
  executor?: Executor;
  /** Variables every script gets besides the fixed set (script-environment.ts). */
  scriptEnv?: Record<string, string>;
  /** Run scripts as this OS user (the agent must be root); default the agent's own user. */
  runAs?: ScriptUser;
  log?: Logger;
  /** Reconnect backoff: first retry after about initialMs (default 200), doubling up to maxMs (default 10000), with jitter. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** For wss:// hubs with a private CA. */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
  os?: string;
  version?: string;
}

/**
 * Events: `connected` (after welcome), `disconnected` (reason), `enrolled` (secret saved),
 * `refused` (code, reason), `fatal` (Error: refused for good, the agent stopped retrying),
 * `run` (runId), `finished` (runId, state).
 */
export class Agent extends EventEmitter {
  readonly name: string;
  private readonly opts: AgentOptions;
  private readonly log: Logger;
  private readonly configurations: SessionConfiguration[];
  private readonly defaultConfiguration: string;
  private readonly restricted: Set<string>;
  private readonly executor: Executor;
  private readonly outbox: Outbox;
  private readonly started: StartedRuns;
  private readonly active = new Map<string, RunningRun>();
  private secret: string | undefined;
  private ws: WebSocket | undefined;
  private welcomed = false;
  private stopped = true;
  private attempt = 0;
  /** Why the last attempt failed before a welcome (logged once per distinct reason). */
  private lastFailure: string | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastHeard = 0;
  private heartbeatMs = 0;

  constructor(options: AgentOptions) {
    super();
    this.opts = options;
    this.name = options.name;
    this.log = options.log ?? silentLogger;
    this.configurations =
      options.configurations ?? availableKinds().map((kind) => ({ name: kind, kind }) satisfies SessionConfiguration);
    const names = this.configurations.map((c) => c.name);
    this.defaultConfiguration =
      options.defaultConfiguration ??
      (names.includes('Microsoft.PowerShell') ? 'Microsoft.PowerShell' : names.includes('bash') ? 'bash' : (names[0] ?? ''));
    this.restricted = new Set((options.restrictToRunbooks ?? []).map(lower));
    this.executor =
      options.executor ??
      createProcessExecutor({
        ...(options.scriptEnv ? { scriptEnv: options.scriptEnv } : {}),
        ...(options.runAs ? { runAs: options.runAs } : {}),
      });
    if (options.token) this.log.addSecret(options.token);
    const dir = options.stateDir;
    if (dir !== null) ensurePrivateDir(dir);
    this.outbox = new Outbox(dir === null ? undefined : join(dir, 'outbox'));
    this.started = new StartedRuns(dir === null ? undefined : join(dir, 'runs.log'));
    this.secret = options.secret ?? (dir === null ? undefined : readState(dir)?.secret);
    if (this.secret) this.log.addSecret(this.secret);
  }

  /** The configuration names the agent offers, and its default. */
  info(): { configurations: string[]; defaultConfiguration: string } {
    return { configurations: this.configurations.map((c) => c.name), defaultConfiguration: this.defaultConfiguration };
  }

  get connected(): boolean {
    return this.welcomed;
  }

  /** Recovers the outbox and starts dialling the hub (returns at once; see events). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    for (const { runId, process: proc } of this.outbox.load()) {
      // The previous agent died while this ran: end what is left of it and say so.
      if (proc && killLeftoverGroup(proc.pid, proc.start)) {
        this.log.warn('killed the leftover processes of a run from before the restart', { runId, pgid: proc.pid });
      }
      this.outbox.append({ op: 'state', runId, state: 'Failed', reason: this.restartedReason(), at: Date.now() });
      this.started.markEnded(runId);
    }
    this.connect();
  }

  /** Resolves after the next welcome (or at once when connected). */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.welcomed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`agent ${this.name} did not connect within ${timeoutMs} ms`));
      }, timeoutMs);
      const onOk = (): void => {
        cleanup();
        resolve();
      };
      const onFatal = (e: Error): void => {
        cleanup();
        reject(e);
      };
      const cleanup = (): void => {
        clearTimeout(t);
        this.off('connected', onOk);
        this.off('fatal', onFatal);
      };
      this.on('connected', onOk);
      this.on('fatal', onFatal);
    });
  }

  /** Stops dialling, closes the connection and stops running commands (their state is kept to send later). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.watchdog);
    for (const run of this.active.values()) run.stop();
    // Give stopped commands a moment to end so their final state is in the outbox.
    const deadline = Date.now() + 3000;
    while (this.active.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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

  /** Number of messages waiting for the hub's acknowledgement. */
  unacknowledged(): number {
    return this.outbox.size();
  }

  // ---- connection ---------------------------------------------------------------------------

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.opts.hubUrl, {
      perMessageDeflate: false,
      maxPayload: MAX_FRAME_BYTES,
      handshakeTimeout: 10_000,
      ...(this.opts.tls?.ca !== undefined ? { ca: this.opts.tls.ca } : {}),
      ...(this.opts.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: this.opts.tls.rejectUnauthorized } : {}),
    });
    this.ws = ws;
    let reason = 'connection closed';
    ws.on('open', () => {
      if (!this.secret && !this.opts.token) {
        this.fatal('NotEnrolled', `The agent ${this.name} has no secret yet and no enrolment token was given (--token).`);
        return;
      }
      const hello: HelloMessage = {
        op: 'hello',
        protocol: PROTOCOL_VERSION,
        name: this.name,
        ...(this.secret ? { secret: this.secret } : { token: this.opts.token! }),
        os: this.opts.os ?? `${platform()} ${release()}`,
        version: this.opts.version ?? AGENT_VERSION,
        tags: this.opts.tags ?? [],
        ...this.info(),
      };
      ws.send(JSON.stringify(hello));
    });
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      const parsed = parseHubMessage(isBinary ? '' : data.toString());
      if (!parsed.ok) {
        reason = `protocol error: ${parsed.reason}`;
        this.log.warn('bad frame from the hub; reconnecting', { reason: parsed.reason });
        ws.terminate();
        return;
      }
      try {
        this.handle(ws, parsed.message);
      } catch (e) {
        // e.g. the state directory is not writable: drop this connection and try again later.
        reason = `agent error: ${e instanceof Error ? e.message : String(e)}`;
        this.log.error('could not handle a message from the hub', { op: parsed.message.op, error: reason });
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
        this.log.info('disconnected from the hub', { reason });
        this.emit('disconnected', reason);
        this.lastFailure = undefined;
      } else if (!this.stopped && reason !== this.lastFailure) {
        // A wrong URL, a refused port or an untrusted certificate: say so once, not per retry.
        this.lastFailure = reason;
        this.log.warn('cannot reach the hub; retrying', { hub: this.opts.hubUrl, reason });
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const initial = this.opts.reconnect?.initialMs ?? 200;
    const max = this.opts.reconnect?.maxMs ?? 10_000;
    const base = Math.min(max, initial * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    const delay = Math.round(base / 2 + Math.random() * (base / 2)); // "equal jitter"
    this.log.debug('reconnecting', { inMs: delay, attempt: this.attempt });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private fatal(code: string, reason: string): void {
    this.log.error('the hub refused this agent; not retrying', { code, reason });
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.ws?.terminate();
    const e = Object.assign(new Error(reason), { code });
    if (this.listenerCount('fatal') > 0) this.emit('fatal', e);
  }

  private handle(ws: WebSocket, msg: HubToAgent): void {
    switch (msg.op) {
      case 'welcome': {
        if (msg.secret) {
          this.secret = msg.secret;
          this.log.addSecret(msg.secret);
          if (this.opts.stateDir !== null) writeState(this.opts.stateDir, { name: this.name, secret: msg.secret });
          this.log.info('enrolled with the hub', { agent: this.name });
          this.emit('enrolled');
        }
        this.welcomed = true;
        this.attempt = 0;
        this.heartbeatMs = msg.heartbeatMs;
        this.startWatchdog(ws);
        this.log.info('connected to the hub', { agent: this.name });
        // Resend everything the hub has not acknowledged, each run in seq order.
        for (const m of this.outbox.pending()) this.sendRaw(m);
        this.emit('connected');
        return;
      }
      case 'refused': {
        this.emit('refused', msg.code, msg.reason);
        if (TRANSIENT_REFUSALS.has(msg.code)) {
          this.log.warn('the hub refused this agent for now; retrying', { code: msg.code, reason: msg.reason });
          return; // the close that follows schedules the retry
        }
        this.fatal(msg.code, msg.reason);
        return;
      }
      case 'ping':
        this.sendRaw({ op: 'pong', nonce: msg.nonce });
        return;
      case 'ack':
        this.outbox.ack(msg.runId, msg.seq);
        return;
      case 'stop': {
        const run = this.active.get(msg.runId);
        if (run) run.stop();
        else if (!this.started.has(msg.runId)) this.stopUnstarted(msg.runId);
        // Otherwise it ended already and its final state is on its way or was acknowledged.
        return;
      }
      case 'run':
        this.startRun(msg);
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
        this.log.warn('no heartbeat from the hub; reconnecting');
        ws.terminate();
      }
    }, this.heartbeatMs);
    this.watchdog.unref();
  }

  private sendRaw(m: AgentToHub | RunMessageOut): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (m.op !== 'pong' && m.op !== 'hello' && !this.welcomed) return;
    ws.send(JSON.stringify(m));
  }

  /** Stores first, then sends (when connected); unacknowledged messages go again after a reconnect. */
  private emitRun(m: Parameters<Outbox['append']>[0]): void {
    const full = this.outbox.append(m);
    if (isFinal(full)) this.started.markEnded(full.runId);
    this.sendRaw(full);
  }

  /**
   * A stop for a run this agent never started (its `run` was lost with a connection): it is
   * recorded as ended, so a `run` arriving later is not started, and reported Stopped, which
   * confirms the stop to the hub.
   */
  private stopUnstarted(runId: string): void {
    this.started.add(runId);
    this.emitRun({ op: 'state', runId, state: 'Stopped', reason: `The command was stopped before it started on ${this.name}.`, at: Date.now() });
    this.emit('finished', runId, 'Stopped');
  }

  private restartedReason(): string {
    return `The agent ${this.name} restarted while the command was running`;
  }

  // ---- runs ---------------------------------------------------------------------------------

  private startRun(run: RunMessage): void {
    if (this.started.has(run.runId)) {
      if (this.active.has(run.runId) || this.outbox.has(run.runId) || this.started.hasEnded(run.runId)) {
        // Running, or its messages (final state included) are on their way: nothing to add.
        this.log.debug('run already known; not starting it again', { runId: run.runId });
        return;
      }
      // Recorded as started, but no process, no message and no end: a previous agent died right
      // after recording it. Say so, as for runs found unfinished in the outbox at start.
      this.log.warn('a run recorded before a restart left no trace; reporting it failed', { runId: run.runId });
      this.emitRun({ op: 'state', runId: run.runId, state: 'Failed', reason: this.restartedReason(), at: Date.now() });
      this.emit('finished', run.runId, 'Failed');
      return;
    }
    this.started.add(run.runId);
    const at = (): number => Date.now();
    const fail = (reason: string): void => {
      this.emitRun({ op: 'state', runId: run.runId, state: 'Failed', reason, at: at() });
      this.emit('finished', run.runId, 'Failed');
    };

    const wanted = run.configurationName === '' ? this.defaultConfiguration : run.configurationName;
    const config = this.configurations.find((c) => lower(c.name) === lower(wanted));
    if (!config) {
      const offers = this.configurations.map((c) => c.name).join(', ') || 'none';
      return fail(`The agent ${this.name} has no session configuration '${wanted}'; it offers: ${offers}`);
    }
    let script = run.script;
    if (this.restricted.has(lower(config.name))) {
      if (run.runbook === undefined) {
        return fail(`The session configuration '${config.name}' on ${this.name} runs only runbooks (use -FilePath).`);
      }
      const loaded = this.loadRunbook(run.runbook);
      if (!loaded.ok) return fail(loaded.reason);
      script = loaded.script;
    }

    this.emitRun({ op: 'state', runId: run.runId, state: 'Running', at: at() });
    this.emit('run', run.runId);
    let done = false;
    const running = this.executor(
      {
        runId: run.runId,
        configuration: config.name,
        kind: config.kind,
        script,
        arguments: run.arguments,
        using: run.using,
        maxRuntimeMs: run.maxRuntimeMs,
      },
      {
        output: (stream, data) => {
          if (!done) this.emitRun({ op: 'output', runId: run.runId, stream, data, at: at() });
        },
        finish: (r) => {
          if (done) return;
          done = true;
          this.active.delete(run.runId);
          this.emitRun({
            op: 'state',
            runId: run.runId,
            state: r.state,
            ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
            at: at(),
          });
          this.emit('finished', run.runId, r.state);
        },
      },
    );
    if (!done) {
      this.active.set(run.runId, running);
      const start = running.pgid === undefined || this.opts.stateDir === null ? undefined : processStartTime(running.pgid);
      if (running.pgid !== undefined && start !== undefined) this.outbox.recordProcess(run.runId, running.pgid, start);
    }
  }

  private loadRunbook(name: string): { ok: true; script: string } | { ok: false; reason: string } {
    const dir = this.opts.runbooksDir;
    if (name === '' || /[/\\]/.test(name) || name.includes('..') || name.includes('\0')) {
      return { ok: false, reason: `The runbook name '${name}' is not allowed: give a file name inside the runbook directory.` };
    }
    if (!dir) return { ok: false, reason: `The agent ${this.name} has no runbook directory.` };
    try {
      return { ok: true, script: readFileSync(join(dir, name), 'utf8') };
    } catch {
      return { ok: false, reason: `The agent ${this.name} has no runbook named '${name}'.` };
    }
  }
}

function lower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

export interface AgentState {
  name: string;
  secret: string;
}

export function readState(stateDir: string): AgentState | undefined {
  try {
    const v = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as Partial<AgentState>;
    return typeof v.secret === 'string' && typeof v.name === 'string' ? { name: v.name, secret: v.secret } : undefined;
  } catch {
    return undefined;
  }
}

/** Written atomically with mode 0600: it holds the agent's secret. */
export function writeState(stateDir: string, state: AgentState): void {
  ensurePrivateDir(stateDir);
  const tmp = join(stateDir, `state.json.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(state) + '\n', { mode: 0o600 });
  renameSync(tmp, join(stateDir, 'state.json'));
}

/** Parses `NAME` or `NAME=KIND` (KIND one of EXECUTOR_KINDS, case-insensitive). */
export function parseConfiguration(spec: string): SessionConfiguration | undefined {
  const [name, kindRaw] = spec.includes('=') ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)] : [spec, spec];
  const kind = EXECUTOR_KINDS.find((k) => lower(k) === lower(kindRaw));
  if (!kind || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name)) return undefined;
  return { name: lower(name) === lower(kind) ? kind : name, kind };
}
