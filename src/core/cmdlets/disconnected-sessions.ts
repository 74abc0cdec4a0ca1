import type { BoundCall } from '../../language/bound-call.js';
import type { ObjectRefValue, PsValue } from '../../language/values.js';
import { jobTable } from '../../messages/results.js';
import type { PSSessionRecord } from '../../store/session-store.js';
import { type ExecContext, safePost, showError } from '../context.js';
import { ChatOpsError } from '../../errors.js';
import { asNumber, asString } from '../value-helpers.js';
import { receiveJob } from './receive-job.js';
import { outputBuffering, selectSessions, sessionRef, sessionsOf, showSessions, visible } from './sessions.js';

// Disconnected sessions: Disconnect-, Connect- and Receive-PSSession (Invoke-Command
// -InDisconnectedSession is in invoke-command.ts). While disconnected, the agent keeps the
// session's output (agent/sessions.ts); these cmdlets move the session between the two states.

/** The sessions a Disconnect-/Connect-PSSession call names (objects, Id, Name, InstanceId, ComputerName). */
function namedSessions(call: BoundCall, ctx: ExecContext): PSSessionRecord[] {
  if (call.parameters.Session !== undefined) return sessionsOf(ctx, call.parameters.Session);
  const { found, missing } = selectSessions(call, visible(ctx));
  if (missing.length > 0) throw new ChatOpsError('PSSessionNotFound', missing.join('\n'));
  return found;
}

/** Disconnect-PSSession: the agents keep the sessions' output until Connect- or Receive-PSSession. */
export async function disconnectPSSession(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const { mode, maxBytes } = outputBuffering(call);
  const done: PSSessionRecord[] = [];
  for (const rec of namedSessions(call, ctx)) {
    try {
      done.push(rec.state === 'Disconnected' ? rec : await ctx.services.sessions.disconnect(rec, mode, maxBytes));
    } catch (e) {
      await showError(ctx, e instanceof Error ? e.message : String(e));
    }
  }
  await showSessions(ctx, done);
  return done.map(sessionRef);
}

/** Connect-PSSession: Opened again; a command's output that was kept goes on to its job (Receive-Job shows it). */
export async function connectPSSession(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const done: PSSessionRecord[] = [];
  for (const rec of namedSessions(call, ctx)) {
    try {
      done.push(rec.state === 'Opened' ? rec : await ctx.services.sessions.connect(rec));
    } catch (e) {
      await showError(ctx, e instanceof Error ? e.message : String(e));
    }
  }
  await showSessions(ctx, done);
  return done.map(sessionRef);
}

/**
 * Receive-PSSession: connects the session and shows its last command's output, the part kept while
 * it was disconnected and what follows, until the command ends (-OutTarget Host, the default), or
 * returns that command's job (-OutTarget Job). The session is Opened afterwards.
 */
export async function receivePSSession(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  let rec: PSSessionRecord | undefined;
  if (p.Session !== undefined) rec = sessionsOf(ctx, p.Session)[0];
  else {
    const all = visible(ctx);
    const id = asNumber(p.Id);
    const name = asString(p.Name)?.toLowerCase();
    const instance = asString(p.InstanceId)?.toLowerCase();
    const computer = asString(p.ComputerName)?.toLowerCase();
    rec = all.find(
      (s) =>
        (id === undefined || s.id === id) &&
        (name === undefined || s.name.toLowerCase() === name) &&
        (instance === undefined || s.instanceId.toLowerCase() === instance) &&
        (computer === undefined || s.computer.toLowerCase() === computer || s.agent.toLowerCase() === computer),
    );
    if (!rec)
      throw new ChatOpsError('PSSessionNotFound', 'The remote session is not available: Get-PSSession lists the sessions of this channel.');
  }
  if (!rec) return null;
  if (rec.state === 'Disconnected') rec = await ctx.services.sessions.connect(rec);
  if (rec.jobId === undefined || ctx.services.store.getJob(rec.jobId) === undefined) {
    if (ctx.display) await safePost(ctx, { blocks: [{ kind: 'text', text: `${rec.name} on ${rec.computer} has no command to receive.` }] });
    return null;
  }
  if (asString(p.OutTarget) === 'Job') {
    const job: ObjectRefValue = { kind: 'job', id: rec.jobId, display: 'System.Management.Automation.PSRemotingJob' };
    if (ctx.display) await safePost(ctx, { blocks: [jobTable(ctx.services.store, [{ job: ctx.services.store.getJob(rec.jobId)! }])] });
    return job;
  }
  return receiveJob(
    {
      cmdlet: 'Receive-Job',
      parameterSet: 'SessionIdParameterSet',
      parameters: { Id: [rec.jobId], Wait: true, Location: [rec.computer] },
      text: call.text,
    },
    ctx,
  );
}
