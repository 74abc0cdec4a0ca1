// The sessions an agent holds (New-PSSession): a long-lived shell or pwsh per session, opened and
// closed at the hub's request, closed by itself after its idle timeout, each running one command
// at a time. The hub learns of every change through `session` messages (see agent-protocol.ts).
import type { Logger } from '../src/log.js';
import type { OutputBufferingMode, OutputStream, SessionStateMessage } from '../src/protocol/agent-protocol.js';
import { type ExecutorRun, type RunningRun, type RunResult, type RunSink, signalGroup } from './executors.js';
import { PwshSession } from './pwsh-session.js';
import { currentUser, scriptEnvironment, scriptWorkingDirectory, type ScriptUser } from './script-environment.js';
import { findConfiguration, type SessionConfiguration } from './session-configurations.js';
import { ShellSession } from './shell-session.js';

/** What a session runs commands with: a shell or a pwsh runspace. */
export interface LiveSession {
  readonly busy: boolean;
  readonly alive: boolean;
  readonly pgid: number | undefined;
  run(run: ExecutorRun, sink: RunSink, kill: () => void): RunningRun;
  kill(): void;
}

export interface AgentSessionsOptions {
  agent: string;
  log: Logger;
  configurations: SessionConfiguration[];
  defaultConfiguration: string;
  /** Sends a session message to the hub (dropped when not connected: the next hello tells). */
  send: (m: SessionStateMessage) => void;
  scriptEnv?: Record<string, string>;
  runAs?: ScriptUser;
  env?: NodeJS.ProcessEnv;
  killGraceMs?: number;
}

interface Held {
  id: string;
  configuration: SessionConfiguration;
  session: LiveSession;
  idleTimeoutMs: number;
  idleTimer: NodeJS.Timeout | undefined;
  /** Set when the agent ends the session itself, for the `session` Closed message. */
  closing?: string;
  /** Disconnected: what the command sent meanwhile, kept for the next connect. */
  disconnected?: OutputBuffer;
  /** Where the running command's output and end go while connected. */
  sink?: RunSink;
}

/**
 * The output a disconnected session's command produced, kept in order with its end, at most
 * `maxBytes` of data: when full, Block pauses the command (SIGSTOP of its process group, SIGCONT
 * at connect), Drop drops the oldest output and counts what it dropped.
 */
interface OutputBuffer {
  mode: OutputBufferingMode;
  maxBytes: number;
  items: Array<{ stream: OutputStream; data: string }>;
  bytes: number;
  droppedBytes: number;
  end?: RunResult;
  paused: boolean;
}

function formatIdle(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

export class AgentSessions {
  private readonly held = new Map<string, Held>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly cwd: string;

  constructor(private readonly options: AgentSessionsOptions) {
    const agentEnv = options.env ?? process.env;
    const user = options.runAs ?? currentUser(agentEnv);
    this.env = scriptEnvironment(agentEnv, user, options.scriptEnv);
    this.cwd = scriptWorkingDirectory(user);
  }

  /** Ids of the sessions alive now (for the hello). */
  ids(): string[] {
    return [...this.held.keys()];
  }

  /** The hub's `openSession`; answered with a `session` message. Opening an open one answers again. */
  open(sessionId: string, configurationName: string, idleTimeoutMs: number): void {
    const { options } = this;
    const answer = (state: 'Opened' | 'Closed', reason?: string): void =>
      options.send({ op: 'session', sessionId, state, ...(reason !== undefined ? { reason } : {}), at: Date.now() });
    if (this.held.has(sessionId)) {
      answer('Opened');
      return;
    }
    const wanted = configurationName === '' ? options.defaultConfiguration : configurationName;
    const configuration = findConfiguration(options.configurations, wanted);
    if (!configuration) {
      const offers = options.configurations.map((c) => c.name).join(', ') || 'none';
      answer('Closed', `The agent ${options.agent} has no session configuration '${wanted}'; it offers: ${offers}`);
      return;
    }
    const onExit = (reason: string): void => this.ended(sessionId, reason);
    const killGraceMs = options.killGraceMs ?? 2000;
    const base = { env: this.env, cwd: this.cwd, killGraceMs, onExit, ...(options.runAs ? { runAs: options.runAs } : {}) };
    let session: LiveSession;
    try {
      session =
        configuration.kind === 'Microsoft.PowerShell' ? new PwshSession(base) : new ShellSession({ ...base, kind: configuration.kind });
    } catch (e) {
      answer('Closed', `Could not open a ${configuration.name} session on ${options.agent}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const held: Held = { id: sessionId, configuration, session, idleTimeoutMs, idleTimer: undefined };
    this.held.set(sessionId, held);
    this.armIdle(held);
    options.log.info('session opened', { sessionId, configuration: configuration.name });
    answer('Opened');
  }

  /** The hub's `closeSession`: ends the session (and a command running in it). */
  close(sessionId: string): void {
    const held = this.held.get(sessionId);
    if (!held) {
      this.options.send({ op: 'session', sessionId, state: 'Closed', at: Date.now() });
      return;
    }
    held.closing = 'Closed by Remove-PSSession';
    // A paused (Block) command must be able to receive the signals that end it.
    if (held.disconnected?.paused) this.signal(held, 'SIGCONT');
    held.session.kill();
  }

  /** Ends every session (agent stopping). */
  closeAll(): void {
    for (const held of this.held.values()) {
      held.closing = `The agent ${this.options.agent} stopped`;
      held.session.kill();
    }
  }

  /**
   * Runs a command in a session, or says why it cannot: no such session (closed, or the agent
   * restarted since it was opened), or the session is busy with another command.
   */
  run(sessionId: string, run: ExecutorRun, sink: RunSink): RunningRun | { refused: string } {
    const held = this.held.get(sessionId);
    if (!held?.session.alive) {
      return {
        refused: `The session is not available on ${this.options.agent}: it was closed, or the agent restarted since it was opened (its state is Broken). Open a new one with New-PSSession.`,
      };
    }
    if (held.session.busy) {
      return {
        // PowerShell's words for a second pipeline in a busy runspace (Invoke-Command -AsJob).
        refused: 'The pipeline was not run because a pipeline is already running. Pipelines cannot be run concurrently.',
      };
    }
    clearTimeout(held.idleTimer);
    held.idleTimer = undefined;
    held.sink = sink;
    // While disconnected the output is kept (see OutputBuffer); connected, it goes on at once.
    const wrapped: RunSink = {
      output: (stream, data) => {
        const buf = held.disconnected;
        if (buf) this.keep(held, buf, stream, data);
        else sink.output(stream, data);
      },
      finish: (r) => {
        this.armIdle(held);
        if (held.disconnected) held.disconnected.end = r;
        else {
          held.sink = undefined;
          sink.finish(r);
        }
      },
    };
    return held.session.run({ ...run, configuration: held.configuration.name, kind: held.configuration.kind }, wrapped, () => {
      held.closing = 'The command running in it was stopped';
      held.session.kill();
    });
  }

  /** The hub's `disconnectSession`: from now on the command's output is kept here. */
  disconnect(sessionId: string, mode: OutputBufferingMode, maxBytes: number): void {
    const held = this.held.get(sessionId);
    if (!held) {
      this.options.send({ op: 'session', sessionId, state: 'Closed', at: Date.now() });
      return;
    }
    held.disconnected ??= { mode, maxBytes, items: [], bytes: 0, droppedBytes: 0, paused: false };
    this.options.send({ op: 'session', sessionId, state: 'Disconnected', at: Date.now() });
  }

  /** The hub's `connectSession`: sends what was kept (and the end, if the command ended), resumes a paused command. */
  connect(sessionId: string): void {
    const held = this.held.get(sessionId);
    if (!held) {
      this.options.send({ op: 'session', sessionId, state: 'Closed', at: Date.now() });
      return;
    }
    const buf = held.disconnected;
    held.disconnected = undefined;
    this.options.send({ op: 'session', sessionId, state: 'Opened', at: Date.now() });
    if (buf) this.flush(held, buf);
  }

  /** Sends what a disconnected session kept, in order, and its command's end; resumes a paused command. */
  private flush(held: Held, buf: OutputBuffer): void {
    held.disconnected = undefined;
    const sink = held.sink;
    if (sink) {
      if (buf.droppedBytes > 0) {
        const text = `${buf.droppedBytes} bytes of output were dropped while the session was disconnected (OutputBufferingMode Drop).`;
        sink.output('warning', held.configuration.kind === 'Microsoft.PowerShell' ? `${JSON.stringify({ text })}\n` : `${text}\n`);
      }
      for (const item of buf.items) sink.output(item.stream, item.data);
      if (buf.end) {
        held.sink = undefined;
        sink.finish(buf.end);
      }
    }
    if (buf.paused) this.signal(held, 'SIGCONT');
  }

  private keep(held: Held, buf: OutputBuffer, stream: OutputStream, data: string): void {
    buf.items.push({ stream, data });
    buf.bytes += data.length;
    if (buf.bytes <= buf.maxBytes) return;
    if (buf.mode === 'Drop') {
      // The oldest output goes first, whole lines at a time (a chunk can hold many lines).
      while (buf.bytes > buf.maxBytes && buf.items.length > 0) {
        const first = buf.items[0]!;
        const excess = buf.bytes - buf.maxBytes;
        const nl = first.data.indexOf('\n', excess - 1);
        const cut = excess >= first.data.length || nl < 0 || nl + 1 >= first.data.length ? first.data.length : nl + 1;
        if (cut === first.data.length) buf.items.shift();
        else first.data = first.data.slice(cut);
        buf.bytes -= cut;
        buf.droppedBytes += cut;
      }
    } else if (!buf.paused) {
      // Block: the command waits, as PowerShell's does, until someone connects and reads.
      buf.paused = true;
      this.signal(held, 'SIGSTOP');
    }
  }

  private signal(held: Held, signal: NodeJS.Signals): void {
    const pid = held.session.pgid;
    if (pid !== undefined) signalGroup(pid, signal);
  }

  /** The configuration a session runs, for the runbook restriction. */
  configurationOf(sessionId: string): SessionConfiguration | undefined {
    return this.held.get(sessionId)?.configuration;
  }

  private armIdle(held: Held): void {
    clearTimeout(held.idleTimer);
    if (held.idleTimeoutMs <= 0) return;
    held.idleTimer = setTimeout(() => {
      if (held.session.busy) return;
      held.closing = `The session was closed after ${formatIdle(held.idleTimeoutMs)} without a command (IdleTimeout)`;
      held.session.kill();
    }, held.idleTimeoutMs);
    held.idleTimer.unref();
  }

  private ended(sessionId: string, reason: string): void {
    const held = this.held.get(sessionId);
    if (!held) return;
    clearTimeout(held.idleTimer);
    // What a disconnected session kept is sent, not lost with it.
    if (held.disconnected) this.flush(held, held.disconnected);
    this.held.delete(sessionId);
    const why = held.closing ?? reason;
    this.options.log.info('session closed', { sessionId, reason: why });
    this.options.send({ op: 'session', sessionId, state: 'Closed', reason: why, at: Date.now() });
  }
}
