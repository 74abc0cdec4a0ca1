// The runs an agent executes: starting each runId at most once (in its session configuration,
// runbook-only ones included), stopping them, and reporting their output and states through the
// outbox, which keeps every message until the hub acknowledges it.
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from '../src/log.js';
import type { RunMessage } from '../src/protocol/agent-protocol.js';
import { killLeftoverGroup, processStartTime, type Executor, type RunningRun, type RunSink } from './executors.js';
import { isFinal, Outbox, StartedRuns, type RunMessageOut } from './outbox.js';
import type { RunbookRestriction } from './runbook-restriction.js';
import { findConfiguration, type SessionConfiguration } from './session-configurations.js';
import type { AgentSessions } from './sessions.js';

export class Runs {
  private readonly outbox: Outbox;
  private readonly started: StartedRuns;
  private readonly active = new Map<string, RunningRun>();

  constructor(
    private readonly deps: {
      /** The agent's name, for messages. */
      agent: string;
      /** Where the outbox spool and the started-run log live; null: memory only. */
      stateDir: string | null;
      log: Logger;
      configurations: SessionConfiguration[];
      defaultConfiguration: string;
      runbooks: RunbookRestriction;
      executor: Executor;
      /** The sessions a `run` with `session` runs in. */
      sessions: AgentSessions;
      /** The Agent: hears `run` (runId) and `finished` (runId, state). */
      events: EventEmitter;
      /** Sends to the hub if connected and welcomed; the outbox keeps the message either way. */
      send: (m: RunMessageOut) => void;
    },
  ) {
    const dir = deps.stateDir;
    this.outbox = new Outbox(dir === null ? undefined : join(dir, 'outbox'));
    this.started = new StartedRuns(dir === null ? undefined : join(dir, 'runs.log'));
  }

  /** At start: runs left unfinished in the outbox by a previous agent end Failed. */
  recover(): void {
    for (const { runId, process: proc } of this.outbox.load()) {
      // The previous agent died while this ran: end what is left of it and say so.
      if (proc && killLeftoverGroup(proc.pid, proc.start)) {
        this.deps.log.warn('killed the leftover processes of a run from before the restart', { runId, pgid: proc.pid });
      }
      this.outbox.append({ op: 'state', runId, state: 'Failed', reason: this.restartedReason(), at: Date.now() });
      this.started.markEnded(runId);
    }
  }

  /** Resend everything the hub has not acknowledged, each run in seq order. */
  resend(): void {
    for (const m of this.outbox.pending()) this.deps.send(m);
  }

  ack(runId: string, seq: number): void {
    this.outbox.ack(runId, seq);
  }

  /** Number of messages waiting for the hub's acknowledgement. */
  unacknowledged(): number {
    return this.outbox.size();
  }

  /** The hub's `stop`. */
  stop(runId: string): void {
    const run = this.active.get(runId);
    if (run) run.stop();
    else if (!this.started.has(runId)) this.stopUnstarted(runId);
    // Otherwise it ended already and its final state is on its way or was acknowledged.
  }

  /** Stops every running command; each reports its final state when its process has ended. */
  stopAll(): void {
    for (const run of this.active.values()) run.stop();
  }

  /** How many commands are running now. */
  running(): number {
    return this.active.size;
  }

  /** The hub's `run`. */
  start(run: RunMessage): void {
    const { events, log } = this.deps;
    if (this.started.has(run.runId)) {
      if (this.active.has(run.runId) || this.outbox.has(run.runId) || this.started.hasEnded(run.runId)) {
        // Running, or its messages (final state included) are on their way: nothing to add.
        log.debug('run already known; not starting it again', { runId: run.runId });
        return;
      }
      // Recorded as started, but no process, no message and no end: a previous agent died right
      // after recording it. Say so, as for runs found unfinished in the outbox at start.
      log.warn('a run recorded before a restart left no trace; reporting it failed', { runId: run.runId });
      this.emitRun({ op: 'state', runId: run.runId, state: 'Failed', reason: this.restartedReason(), at: Date.now() });
      events.emit('finished', run.runId, 'Failed');
      return;
    }
    this.started.add(run.runId);
    const at = (): number => Date.now();
    const fail = (reason: string): void => {
      this.emitRun({ op: 'state', runId: run.runId, state: 'Failed', reason, at: at() });
      events.emit('finished', run.runId, 'Failed');
    };

    const { configurations, agent } = this.deps;
    const wanted = run.configurationName === '' ? this.deps.defaultConfiguration : run.configurationName;
    // A run in a session runs in the session's configuration.
    const config = run.session !== undefined ? this.deps.sessions.configurationOf(run.session) : findConfiguration(configurations, wanted);
    if (!config && run.session !== undefined) {
      fail(
        `The session is not available on ${agent}: it was closed, or the agent restarted since it was opened (its state is Broken). Open a new one with New-PSSession.`,
      );
      return;
    }
    if (!config) {
      const offers = configurations.map((c) => c.name).join(', ') || 'none';
      fail(`The agent ${agent} has no session configuration '${wanted}'; it offers: ${offers}`);
      return;
    }
    const chosen = this.deps.runbooks.scriptFor(config.name, run);
    if (!chosen.ok) {
      fail(chosen.reason);
      return;
    }
    const script = chosen.script;

    this.emitRun({ op: 'state', runId: run.runId, state: 'Running', at: at() });
    events.emit('run', run.runId);
    let done = false;
    const executorRun = {
      runId: run.runId,
      configuration: config.name,
      kind: config.kind,
      script,
      arguments: run.arguments,
      using: run.using,
      maxRuntimeMs: run.maxRuntimeMs,
    };
    const sink: RunSink = {
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
        events.emit('finished', run.runId, r.state);
      },
    };
    let running: RunningRun;
    if (run.session !== undefined) {
      const r = this.deps.sessions.run(run.session, executorRun, sink);
      if ('refused' in r) {
        done = true;
        this.emitRun({ op: 'state', runId: run.runId, state: 'Failed', reason: r.refused, at: at() });
        events.emit('finished', run.runId, 'Failed');
        return;
      }
      running = r;
    } else running = this.deps.executor(executorRun, sink);
    if (!done) {
      this.active.set(run.runId, running);
      const start = running.pgid === undefined || this.deps.stateDir === null ? undefined : processStartTime(running.pgid);
      if (running.pgid !== undefined && start !== undefined) this.outbox.recordProcess(run.runId, running.pgid, start);
    }
  }

  /** Stores first, then sends (when connected); unacknowledged messages go again after a reconnect. */
  private emitRun(m: Parameters<Outbox['append']>[0]): void {
    const full = this.outbox.append(m);
    if (isFinal(full)) this.started.markEnded(full.runId);
    this.deps.send(full);
  }

  /**
   * A stop for a run this agent never started (its `run` was lost with a connection): it is
   * recorded as ended, so a `run` arriving later is not started, and reported Stopped, which
   * confirms the stop to the hub.
   */
  private stopUnstarted(runId: string): void {
    this.started.add(runId);
    this.emitRun({
      op: 'state',
      runId,
      state: 'Stopped',
      reason: `The command was stopped before it started on ${this.deps.agent}.`,
      at: Date.now(),
    });
    this.deps.events.emit('finished', runId, 'Stopped');
  }

  private restartedReason(): string {
    return `The agent ${this.deps.agent} restarted while the command was running`;
  }
}
