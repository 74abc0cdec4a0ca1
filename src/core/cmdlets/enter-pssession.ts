import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue, ScriptBlockValue } from '../../language/values.js';
import type { PSSessionRecord } from '../../store/session-store.js';
import type { AuthorizationRequest } from '../authorizer.js';
import { type ExecContext, safePost } from '../context.js';
import { ChatOpsError } from '../../errors.js';
import { asNumber, asString } from '../value-helpers.js';
import { openChannelSession, sessionIdleTimeout, sessionRef, sessionsOf } from './sessions.js';

/** PowerShell's remote prompt prefix for a session. */
export function promptFor(rec: PSSessionRecord): string {
  return `[${rec.computer}]: PS>`;
}

/** `exit` or `Exit-PSSession` typed at a remote prompt (the only lines that do not run remotely). */
export function isExitLine(text: string): boolean {
  return /^\s*(exit|exit-pssession)\s*;?\s*$/i.test(text);
}

function existingSession(call: BoundCall, ctx: ExecContext): PSSessionRecord | undefined {
  const p = call.parameters;
  if (p.Session !== undefined) return sessionsOf(ctx, p.Session)[0];
  const all = ctx.services.sessionStore.listSessions(ctx.admin ? undefined : ctx.channel);
  let found: PSSessionRecord | undefined;
  let what = '';
  if (p.Id !== undefined) {
    const id = asNumber(p.Id);
    found = all.find((s) => s.id === id);
    what = `the session ID ${id}`;
  } else if (p.Name !== undefined) {
    const name = asString(p.Name)?.toLowerCase();
    found = all.find((s) => s.name.toLowerCase() === name);
    what = `the name ${asString(p.Name)}`;
  } else if (p.InstanceId !== undefined) {
    const id = asString(p.InstanceId)?.toLowerCase();
    found = all.find((s) => s.instanceId.toLowerCase() === id);
    what = `the instance ID ${asString(p.InstanceId)}`;
  } else return undefined;
  if (!found) throw new ChatOpsError('PSSessionNotFound', `The remote session with ${what} is not available.`);
  return found;
}

/** Enter-PSSession reaches the session's computer (or the one named): authorized as New-PSSession would be. */
export function describeEnterSession(call: BoundCall, ctx: ExecContext): AuthorizationRequest {
  const rec = existingSession(call, ctx);
  const computer = rec?.computer ?? asString(call.parameters.ComputerName) ?? 'localhost';
  const configurationName = rec?.configurationName ?? (asString(call.parameters.ConfigurationName) || undefined);
  return {
    channel: ctx.channel,
    user: ctx.command.user,
    cmdlet: call.cmdlet,
    computers: [rec?.agent ?? ctx.services.directory.resolve(computer) ?? computer],
    typedComputers: [computer],
    ...(configurationName !== undefined ? { configurationName } : {}),
    // Each line typed at the prompt is authorized as the Invoke-Command it runs as.
    adHocScript: false,
  };
}

export async function enterPSSession(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  if (ctx.services.remotePrompts.get(ctx.command)) {
    throw new ChatOpsError('NestedEnterPSSession', 'Enter-PSSession: a remote prompt is already entered here. Type Exit-PSSession first.');
  }
  let rec = existingSession(call, ctx);
  let temporary = false;
  if (!rec) {
    const computer = asString(call.parameters.ComputerName) ?? 'localhost';
    const agent = ctx.services.directory.resolve(computer);
    if (agent === undefined) {
      throw new ChatOpsError(
        'PSSessionOpenFailed',
        `Connecting to remote server ${computer} failed: no agent is enrolled under that name. Get-Agent lists them.`,
      );
    }
    const named = asString(call.parameters.ConfigurationName) || undefined;
    const opened = await openChannelSession(ctx, {
      computer,
      agent,
      ...(named !== undefined ? { configurationName: named } : {}),
      idleTimeoutMs: sessionIdleTimeout(call, ctx),
    });
    if ('failed' in opened)
      throw new ChatOpsError('PSSessionOpenFailed', `Connecting to remote server ${computer} failed: ${opened.failed}`);
    rec = opened;
    temporary = true;
  } else if (rec.state !== 'Opened') {
    throw new ChatOpsError(
      'InvalidRunspaceState',
      `Because the session state for session ${rec.name}, ${rec.instanceId}, ${rec.computer} is not equal to Open, you cannot enter it.  The session state is ${rec.state}.`,
    );
  }
  ctx.services.remotePrompts.set(ctx.command, { sessionId: rec.id, temporary });
  if (ctx.display) {
    await safePost(ctx, {
      blocks: [
        {
          kind: 'text',
          text: `${promptFor(rec)} every line here now runs in ${rec.name} on ${rec.computer}; Exit-PSSession (or exit) leaves it.`,
        },
      ],
    });
  }
  return null;
}

/** Exit-PSSession outside a remote prompt does nothing, as in PowerShell. */
export async function exitPSSession(_call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  await leavePrompt(ctx);
  return null;
}

/** Leaves the remote prompt of the command's scope; a temporary session is closed. */
export async function leavePrompt(ctx: ExecContext): Promise<void> {
  const entered = ctx.services.remotePrompts.get(ctx.command);
  if (!entered) return;
  ctx.services.remotePrompts.delete(ctx.command);
  const rec = ctx.services.sessionStore.getSession(entered.sessionId);
  if (rec && entered.temporary) {
    await ctx.services.sessions.close(rec);
    ctx.services.sessionStore.deleteSession(rec.id);
  }
  if (ctx.display && rec) await safePost(ctx, { blocks: [{ kind: 'text', text: `Left ${rec.name} on ${rec.computer}.` }] });
}

/** A line typed at a remote prompt, as the Invoke-Command -Session call that runs it there. */
export function remoteLineCall(text: string, rec: PSSessionRecord): BoundCall {
  const block: ScriptBlockValue = { kind: 'scriptblock', text, usings: [] };
  return {
    cmdlet: 'Invoke-Command',
    parameterSet: 'Session',
    parameters: { Session: sessionRef(rec), ScriptBlock: block },
    text: `${promptFor(rec)} ${text}`,
  };
}
