import type { BoundCall } from '../../language/bound-call.js';
import type { ObjectRefValue, PsValue } from '../../language/values.js';
import type { OutputBufferingMode } from '../../protocol/agent-protocol.js';
import type { Block } from '../../messages/model.js';
import type { PSSessionRecord } from '../../store/session-store.js';
import type { AuthorizationRequest } from '../authorizer.js';
import { type CoreServices, type ExecContext, safePost, showError, userKey } from '../context.js';
import { ChatOpsError } from '../../errors.js';
import { asArray, asNumber, asNumbers, asString, asStrings, hasWildcard, wildcard } from '../value-helpers.js';

export async function refuseStartJob(_call: BoundCall, _ctx: ExecContext): Promise<PsValue> {
  throw new ChatOpsError(
    'NotSupported',
    "Start-Job is not supported: it would run the script inside the bot. Use Invoke-Command -ComputerName localhost { ... } -AsJob to run it on this computer's agent as a job.",
  );
}

/** PowerShell's default IdleTimeout of a session (2 hours). */
export const DEFAULT_IDLE_TIMEOUT_MS = 2 * 60 * 60 * 1000;

const SESSION_DISPLAY = 'System.Management.Automation.Runspaces.PSSession';

export function sessionRef(rec: PSSessionRecord): ObjectRefValue {
  return { kind: 'session', id: rec.id, display: `[PSSession]${rec.name}` };
}

/** Get-PSSession's columns, as PowerShell's table view of PSSession shows them. */
export const SESSION_COLUMNS = ['Id', 'Name', 'ComputerName', 'ComputerType', 'State', 'ConfigurationName', 'Availability'];

/** Availability as PowerShell computes it from the state: Available when Opened, else None. */
function availability(rec: PSSessionRecord, busy: boolean): string {
  if (rec.state !== 'Opened') return 'None';
  return busy ? 'Busy' : 'Available';
}

export function sessionTable(services: Pick<CoreServices, 'jobs'>, sessions: PSSessionRecord[]): Block {
  const busy = services.jobs.busySessions();
  return {
    kind: 'table',
    columns: SESSION_COLUMNS,
    rows: sessions.map((s) => [
      String(s.id),
      s.name,
      s.computer,
      'RemoteMachine',
      s.state,
      s.configurationName,
      availability(s, busy.has(s.instanceId)),
    ]),
  };
}

/** Notes under the table: why sessions are Broken or Closed. */
function reasons(sessions: PSSessionRecord[]): Block[] {
  const lines = sessions.filter((s) => s.reason !== undefined && s.state !== 'Opened').map((s) => `${s.name} (${s.computer}): ${s.reason}`);
  return lines.length === 0 ? [] : [{ kind: 'text', text: lines.join('\n') }];
}

export async function showSessions(ctx: ExecContext, sessions: PSSessionRecord[]): Promise<void> {
  if (!ctx.display || sessions.length === 0) return;
  await safePost(ctx, { blocks: [sessionTable(ctx.services, sessions), ...reasons(sessions)] });
}

/** The sessions a channel may see (admins: all). */
export function visible(ctx: ExecContext): PSSessionRecord[] {
  return ctx.services.sessionStore.listSessions(ctx.admin ? undefined : ctx.channel);
}

/** Session objects (`$s`) as records; another channel's session is as if it did not exist. */
export function sessionsOf(ctx: ExecContext, value: PsValue | undefined): PSSessionRecord[] {
  const out: PSSessionRecord[] = [];
  for (const v of asArray(value)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || v.kind !== 'session') continue;
    const rec = ctx.services.sessionStore.getSession(Number(v.id));
    if (!rec || (!ctx.admin && rec.channel !== ctx.channel)) {
      throw new ChatOpsError(
        'PSSessionNotFound',
        `The session ${v.display.replace(/^\[PSSession\]/, '')} is not available: it was removed (Remove-PSSession), or it belongs to another channel.`,
        { target: String(v.id) },
      );
    }
    out.push(rec);
  }
  return out;
}

const TARGETED_PARAMETERS = new Set(['ComputerName', 'Name', 'ConfigurationName', 'SessionOption', 'ThrottleLimit', 'Session']);

export function sessionIdleTimeout(call: BoundCall, ctx: ExecContext): number {
  const option = call.parameters.SessionOption;
  const opts =
    option !== null && typeof option === 'object' && !Array.isArray(option) && option.kind === 'sessionoption' ? option.options : undefined;
  const asked = asNumber(opts?.IdleTimeout);
  // -1 (the default) asks for the server's default; the bot's maximum cuts either, as WinRM's
  // MaxIdleTimeoutms does.
  const wanted = asked === undefined || asked < 0 ? DEFAULT_IDLE_TIMEOUT_MS : asked;
  return Math.min(wanted, ctx.services.sessionMaxIdleMs);
}

/**
 * Opens a session of the channel on an agent, in the configuration asked for or the agent's
 * default (named, as Get-PSSession shows it). A session the agent could not open is not kept:
 * the result then says why.
 */
export async function openChannelSession(
  ctx: ExecContext,
  o: { computer: string; agent: string; name?: string; configurationName?: string; idleTimeoutMs: number },
): Promise<PSSessionRecord | { failed: string }> {
  const { directory, sessions, sessionStore } = ctx.services;
  const rec = await sessions.open({
    ...(o.name !== undefined ? { name: o.name } : {}),
    channel: ctx.channel,
    computer: o.computer,
    agent: o.agent,
    configurationName: o.configurationName ?? directory.get(o.agent)?.defaultConfiguration ?? '',
    idleTimeoutMs: o.idleTimeoutMs,
    createdBy: userKey(ctx.command.user),
  });
  if (rec.state === 'Opened') return rec;
  sessionStore.deleteSession(rec.id);
  return { failed: rec.reason ?? rec.state };
}

/** New-PSSession's computers: -ComputerName (default localhost) or the computers of -Session. */
function newSessionTargets(call: BoundCall, ctx: ExecContext): Array<{ computer: string; configurationName?: string }> {
  if (call.parameters.Session !== undefined) {
    return sessionsOf(ctx, call.parameters.Session).map((s) => ({ computer: s.computer, configurationName: s.configurationName }));
  }
  const names = call.parameters.ComputerName === undefined ? ['localhost'] : asStrings(call.parameters.ComputerName);
  return names.map((n) => ({ computer: n === '.' ? 'localhost' : n }));
}

export function describeNewSession(call: BoundCall, ctx: ExecContext): AuthorizationRequest {
  const targets = newSessionTargets(call, ctx);
  const configurationName = asString(call.parameters.ConfigurationName) || undefined;
  return {
    channel: ctx.channel,
    user: ctx.command.user,
    cmdlet: call.cmdlet,
    computers: targets.map((t) => ctx.services.directory.resolve(t.computer) ?? t.computer),
    typedComputers: targets.map((t) => t.computer),
    ...(configurationName !== undefined ? { configurationName } : {}),
    // A session runs what Invoke-Command -Session sends later, each call authorized then.
    adHocScript: false,
  };
}

export async function newPSSession(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  for (const name of Object.keys(call.parameters)) {
    if (!TARGETED_PARAMETERS.has(name) && !['Verbose', 'ErrorAction', 'WarningAction'].includes(name)) {
      throw new ChatOpsError(
        'NotSupported',
        `New-PSSession -${name} is not supported by this bot. Remove -${name} and run the command again.`,
        {
          target: name,
        },
      );
    }
  }
  const targets = newSessionTargets(call, ctx);
  const names = call.parameters.Name !== undefined ? asStrings(call.parameters.Name) : [];
  const named = asString(call.parameters.ConfigurationName) || undefined;
  const idleTimeoutMs = sessionIdleTimeout(call, ctx);
  const { directory } = ctx.services;
  // All at once: each agent opens its own (pwsh takes a second or two to start).
  const opened = await Promise.all(
    targets.map(async (t, i) => {
      const agent = directory.resolve(t.computer);
      if (agent === undefined) {
        await showError(
          ctx,
          `[${t.computer}] Connecting to remote server ${t.computer} failed: no agent is enrolled under that name. Get-Agent lists them.`,
        );
        return undefined;
      }
      const name = names[i];
      const configurationName = named ?? t.configurationName;
      const rec = await openChannelSession(ctx, {
        computer: t.computer,
        agent,
        ...(name !== undefined ? { name } : {}),
        ...(configurationName !== undefined ? { configurationName } : {}),
        idleTimeoutMs,
      });
      if ('failed' in rec) {
        await showError(ctx, `[${t.computer}] Could not open a session: ${rec.failed}`);
        return undefined;
      }
      return rec;
    }),
  );
  const ok = opened.filter((r): r is PSSessionRecord => r !== undefined);
  await showSessions(ctx, ok);
  return ok.length === 1 ? sessionRef(ok[0]!) : ok.map(sessionRef);
}

/** Get-PSSession's filters over the channel's sessions. */
export function selectSessions(call: BoundCall, all: PSSessionRecord[]): { found: PSSessionRecord[]; missing: string[] } {
  let found = all;
  const missing: string[] = [];
  const p = call.parameters;
  if (p.Id !== undefined) {
    const ids = asNumbers(p.Id);
    found = found.filter((s) => ids.includes(s.id));
    for (const id of ids)
      if (!found.some((s) => s.id === id)) missing.push(`The remote session with the session ID ${id} is not available.`);
  }
  if (p.InstanceId !== undefined) {
    const ids = asStrings(p.InstanceId).map((x) => x.toLowerCase());
    found = found.filter((s) => ids.includes(s.instanceId.toLowerCase()));
    for (const id of ids)
      if (!found.some((s) => s.instanceId.toLowerCase() === id))
        missing.push(`The remote session with the instance ID ${id} is not available.`);
  }
  if (p.ComputerName !== undefined) {
    const matchers = asStrings(p.ComputerName).map((n) => wildcard(n));
    found = found.filter((s) => matchers.some((m) => m(s.computer) || m(s.agent)));
  }
  if (p.Name !== undefined) {
    const patterns = asStrings(p.Name);
    found = found.filter((s) => patterns.some((n) => wildcard(n)(s.name)));
    for (const n of patterns) {
      if (!hasWildcard(n) && !found.some((s) => s.name.toLowerCase() === n.toLowerCase()))
        missing.push(`The remote session with the name ${n} is not available.`);
    }
  }
  const state = asString(p.State);
  if (state !== undefined && state !== 'All') found = found.filter((s) => s.state === state);
  return { found, missing };
}

export async function getPSSession(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const { found, missing } = selectSessions(call, visible(ctx));
  for (const m of missing) await showError(ctx, m);
  await showSessions(ctx, found);
  return found.map(sessionRef);
}

export async function removePSSession(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  let targets: PSSessionRecord[];
  if (call.parameters.Session !== undefined) targets = sessionsOf(ctx, call.parameters.Session);
  else {
    const { found, missing } = selectSessions(call, visible(ctx));
    for (const m of missing) await showError(ctx, m);
    targets = found;
  }
  for (const s of targets) {
    await ctx.services.sessions.close(s);
    // Removed as Remove-PSSession removes it from the runspace: Get-PSSession no longer lists it,
    // and `$s` still holds it, Closed.
    ctx.services.sessionStore.removeSession(s.id);
  }
  return null;
}

/** New-PSSessionOption: the options as an object for -SessionOption (only IdleTimeout acts on sessions here). */
export async function newPSSessionOption(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const options: Record<string, PsValue> = { ...call.parameters };
  const value: ObjectRefValue = {
    kind: 'sessionoption',
    id: 'options',
    display: 'System.Management.Automation.Remoting.PSSessionOption',
    options,
  };
  if (ctx.display) {
    const rows = Object.entries(options).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)]);
    await safePost(ctx, { blocks: [{ kind: 'table', columns: ['Name', 'Value'], rows }] });
  }
  return value;
}

export { SESSION_DISPLAY };

/** How much output an agent keeps for a disconnected session's command by default (1 MiB). */
export const DEFAULT_OUTPUT_BUFFER_BYTES = 1024 * 1024;

/**
 * A disconnected session's buffering from -SessionOption (or Disconnect-PSSession's own
 * -OutputBufferingMode): OutputBufferingMode Block (PowerShell's default) or Drop, and the buffer
 * size from MaximumReceivedDataSizePerCommand (bytes), else DEFAULT_OUTPUT_BUFFER_BYTES.
 */
export function outputBuffering(call: BoundCall): { mode: OutputBufferingMode; maxBytes: number } {
  const option = call.parameters.SessionOption;
  const opts =
    option !== null && typeof option === 'object' && !Array.isArray(option) && option.kind === 'sessionoption' ? option.options : undefined;
  const named = asString(call.parameters.OutputBufferingMode) ?? asString(opts?.OutputBufferingMode);
  const size = asNumber(opts?.MaximumReceivedDataSizePerCommand);
  return { mode: named === 'Drop' ? 'Drop' : 'Block', maxBytes: size !== undefined && size > 0 ? size : DEFAULT_OUTPUT_BUFFER_BYTES };
}
