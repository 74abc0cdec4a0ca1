// Throttled dispatch: the pump sends queued children to their agents, at most ThrottleLimit of a
// job in flight at once, and fails those whose agent is not connected or lacks the configuration.
import type { AgentInfo, RunMessage } from '../protocol/agent-protocol.js';
import type { JobRunSpec, JobStore } from '../store/job-store.js';
import type { AgentTransport } from '../transport/agent-transport.js';
import type { ActiveJob, ChildInfo } from './active-jobs.js';
import type { JobCompletion } from './job-completion.js';
import type { JobEvents } from './job-events.js';
import { isFinished } from './job-state.js';

function notConnectedReason(computer: string): string {
  return `Connecting to remote server ${computer} failed: the agent is not connected`;
}

export class Dispatcher {
  constructor(
    private readonly deps: {
      store: Pick<JobStore, 'transaction' | 'updateChild'>;
      transport: Pick<AgentTransport, 'isConnected' | 'send'>;
      events: JobEvents;
      completion: JobCompletion;
      /** What the connected agent reported (configurations, default configuration). */
      infoOf: (agent: string) => AgentInfo | undefined;
    },
  ) {}

  /** Dispatches queued children of `job` while it is under its throttle limit. */
  pump(job: ActiveJob): void {
    if (job.queue.length === 0 || job.inFlight.size >= job.limit) return;
    // One transaction for a whole wave of dispatches (a fan-out to 1000 computers).
    this.deps.store.transaction(() => this.pumpNow(job));
  }

  private pumpNow(job: ActiveJob): void {
    const waiting: number[] = [];
    while (job.inFlight.size < job.limit && job.queue.length > 0) {
      const childId = job.queue.shift()!;
      const child = job.children.get(childId);
      if (!child || isFinished(child.state)) continue;
      if (job.recovering && (child.agent === undefined || !this.deps.transport.isConnected(child.agent))) {
        waiting.push(childId);
        continue;
      }
      this.dispatch(job, child);
    }
    job.queue.unshift(...waiting);
  }

  private dispatch(job: ActiveJob, child: ChildInfo): void {
    const { store, transport, completion } = this.deps;
    if (child.agent === undefined || !transport.isConnected(child.agent)) {
      completion.finishChild(job, child, 'Failed', notConnectedReason(child.computer));
      return;
    }
    const spec = job.spec;
    const info = this.deps.infoOf(child.agent);
    if (spec.configurationName !== undefined && info) {
      const wanted = spec.configurationName.toLowerCase();
      if (!info.configurations.some((c) => c.toLowerCase() === wanted)) {
        completion.finishChild(job, child, 'Failed', notOfferedReason(child.computer, spec.configurationName, info.configurations));
        return;
      }
    }
    const position = child.id - job.id - 1;
    // A child that runs in a session runs in the session's configuration.
    const configuration = spec.sessions?.[position]?.configurationName ?? spec.configurationName ?? info?.defaultConfiguration ?? '';
    // Stored before it is sent: after a crash the run is resent, and agents start a runId once.
    store.updateChild(child.id, {
      state: 'Running',
      dispatched: true,
      beginTime: new Date().toISOString(),
      configurationName: configuration,
    });
    child.state = 'Running';
    child.dispatched = true;
    job.inFlight.add(child.id);
    if (!transport.send(child.agent, runMessage(child.runId, spec, configuration, position))) {
      store.updateChild(child.id, { dispatched: false });
      child.dispatched = false;
      completion.finishChild(job, child, 'Failed', notConnectedReason(child.computer));
      return;
    }
    this.deps.events.emit({ type: 'child', jobId: job.id, childId: child.id, state: 'Running' });
  }
}

/**
 * The `run` sent to an agent: first at dispatch, again whenever the agent reconnects. `position`
 * is the child's place among its job's children (its Id minus the parent's, minus 1: children
 * have consecutive Ids), which picks its session for Invoke-Command -Session.
 */
export function runMessage(runId: string, spec: JobRunSpec, configurationName: string, position: number): RunMessage {
  const session = spec.sessions?.[position];
  return {
    op: 'run',
    runId,
    script: spec.script,
    configurationName,
    arguments: spec.arguments,
    using: spec.using,
    maxRuntimeMs: spec.maxRuntimeMs,
    ...(spec.runbook !== undefined ? { runbook: spec.runbook } : {}),
    ...(session !== undefined ? { session: session.instanceId } : {}),
  };
}

/**
 * The configuration asked for (named, or a `.ps1` runbook's Microsoft.PowerShell) is not offered:
 * names it and how to choose another, e.g. a PowerShell script block sent to a computer without
 * pwsh (`-ConfigurationName bash` runs the block as a bash script instead).
 */
export function notOfferedReason(computer: string, wanted: string, offered: readonly string[]): string {
  const why = wanted.toLowerCase() === 'microsoft.powershell' ? ' (pwsh is not on its PATH)' : '';
  const base = `Connecting to remote server ${computer} failed: the session configuration '${wanted}' is not offered by this agent${why}; it offers: ${offered.join(', ') || 'none'}.`;
  const other = offered.find((c) => c.toLowerCase() !== wanted.toLowerCase());
  if (other === undefined) return base;
  return `${base} Choose another with -ConfigurationName ${other} (the script block then runs as ${other === 'Microsoft.PowerShell' ? 'PowerShell' : `a ${other} script`}), or run it on a computer whose agent offers ${wanted}.`;
}
