// The Agent facade: what the agent CLI, the embedded agent, the bench and tests build and drive.
// It wires the hub connection (hub-connection.ts) to the runs it executes (runs.ts); options,
// session configurations and the state file live in their own files and are re-exported here.
import { EventEmitter } from 'node:events';
import { silentLogger } from '../src/log.js';
import { ensureStateDir } from '../src/private-files.js';
import type { AgentOptions } from './agent-options.js';
import { createProcessExecutor } from './executors.js';
import { HubConnection } from './hub-connection.js';
import { RunbookRestriction } from './runbook-restriction.js';
import { Runs } from './runs.js';
import { AgentSessions } from './sessions.js';
import { availableConfigurations, defaultConfigurationOf, type SessionConfiguration } from './session-configurations.js';

export { AGENT_VERSION, type AgentOptions } from './agent-options.js';
export { parseConfiguration, type SessionConfiguration } from './session-configurations.js';
export { readState, writeState, type AgentState } from './state-file.js';

/**
 * Events: `connected` (after welcome), `disconnected` (reason), `enrolled` (secret saved),
 * `refused` (code, reason), `fatal` (Error: refused for good, the agent stopped retrying),
 * `run` (runId), `finished` (runId, state).
 */
export class Agent extends EventEmitter {
  readonly name: string;
  private readonly configurations: SessionConfiguration[];
  private readonly defaultConfiguration: string;
  private readonly runs: Runs;
  private readonly sessions: AgentSessions;
  private readonly connection: HubConnection;

  constructor(options: AgentOptions) {
    super();
    this.name = options.name;
    const log = options.log ?? silentLogger;
    this.configurations = options.configurations ?? availableConfigurations();
    this.defaultConfiguration = options.defaultConfiguration ?? defaultConfigurationOf(this.configurations);
    const runbooks = new RunbookRestriction({
      agent: options.name,
      restrictToRunbooks: options.restrictToRunbooks,
      runbooksDir: options.runbooksDir,
    });
    const executor =
      options.executor ??
      createProcessExecutor({
        ...(options.scriptEnv ? { scriptEnv: options.scriptEnv } : {}),
        ...(options.runAs ? { runAs: options.runAs } : {}),
      });
    if (options.token) log.addSecret(options.token);
    const dir = options.stateDir;
    if (dir !== null && !ensureStateDir(dir)) {
      log.warn(
        'the state directory is open to other users and holds more than agent state, so it was left as it is: give the agent a directory of its own (--state-dir)',
        { stateDir: dir },
      );
    }
    this.sessions = new AgentSessions({
      agent: this.name,
      log,
      configurations: this.configurations,
      defaultConfiguration: this.defaultConfiguration,
      send: (m) => this.connection.send(m),
      ...(options.scriptEnv ? { scriptEnv: options.scriptEnv } : {}),
      ...(options.runAs ? { runAs: options.runAs } : {}),
    });
    this.runs = new Runs({
      agent: this.name,
      stateDir: dir,
      log,
      configurations: this.configurations,
      defaultConfiguration: this.defaultConfiguration,
      runbooks,
      executor,
      sessions: this.sessions,
      events: this,
      send: (m) => this.connection.send(m),
    });
    this.connection = new HubConnection({
      options,
      log,
      info: () => this.info(),
      events: this,
      handler: {
        welcomed: () => this.runs.resend(),
        ack: (runId, seq) => this.runs.ack(runId, seq),
        stop: (runId) => this.runs.stop(runId),
        run: (msg) => this.runs.start(msg),
        openSession: (msg) => this.sessions.open(msg.sessionId, msg.configurationName, msg.idleTimeoutMs),
        closeSession: (sessionId) => this.sessions.close(sessionId),
        disconnectSession: (msg) => this.sessions.disconnect(msg.sessionId, msg.mode, msg.maxBytes),
        connectSession: (sessionId) => this.sessions.connect(sessionId),
      },
    });
  }

  /** The configuration names the agent offers, and its default. */
  info(): { configurations: string[]; defaultConfiguration: string; sessions: string[] } {
    return {
      configurations: this.configurations.map((c) => c.name),
      defaultConfiguration: this.defaultConfiguration,
      sessions: this.sessions.ids(),
    };
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** Recovers the outbox and starts dialling the hub (returns at once; see events). */
  start(): void {
    if (!this.connection.begin()) return;
    this.runs.recover();
    this.connection.connect();
  }

  /** Resolves after the next welcome (or at once when connected). */
  waitConnected(timeoutMs = 10_000): Promise<void> {
    if (this.connected) return Promise.resolve();
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
    this.connection.halt();
    this.runs.stopAll();
    this.sessions.closeAll();
    // Give stopped commands a moment to end so their final state is in the outbox.
    const deadline = Date.now() + 3000;
    while (this.runs.running() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.connection.close();
  }

  /** Number of messages waiting for the hub's acknowledgement. */
  unacknowledged(): number {
    return this.runs.unacknowledged();
  }
}
