import type { BoundCall } from '../../language/bound-call.js';
import { DEFAULT_THROTTLE_LIMIT, type PsValue, type ScriptBlockValue } from '../../language/values.js';
import type { AuthorizationRequest } from '../authorizer.js';
import { type ExecContext, showError, userKey } from '../context.js';
import { ChatOpsError } from '../../errors.js';
import { maskCommandLine } from '../../audit/mask.js';
import { isShellConfiguration, loadRunbook } from '../../jobs/runbooks.js';
import { JobPresenter } from '../job-presenter.js';
import { asBool, asNumber, asString, asStrings, asArray, jobRef, toJson } from '../value-helpers.js';
import { openChannelSession, outputBuffering, sessionIdleTimeout, sessionRef, sessionsOf, showSessions } from './sessions.js';
import type { JobRecord } from '../../store/job-store.js';
import type { PSSessionRecord } from '../../store/session-store.js';
import { shellUsingHint, shellUsingName, shellUsingReferences } from '../shell-using.js';
import { finishedOrStopped } from '../cancel.js';
import { pwshOutputValues } from '../../messages/pwsh-output.js';

/** Parameters this runtime implements; anything else bound is refused, never ignored. */
const SUPPORTED = new Set([
  'ComputerName',
  'ScriptBlock',
  'FilePath',
  'ArgumentList',
  'ThrottleLimit',
  'AsJob',
  'JobName',
  'HideComputerName',
  'ConfigurationName',
  'Session',
  // Common parameters the language lets through only with their default meaning
  // (-Verbose:$false, -ErrorAction Continue, -WarningAction Continue); other values are refused there.
  'Verbose',
  'ErrorAction',
  'WarningAction',
]);

const SESSION_PARAMETERS = new Set(['InDisconnectedSession', 'SessionName', 'SessionOption']);

/** DNS name, IPv4 or bracket-less IPv6 literal (PowerShell's Uri.CheckHostName), ASCII only. */
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

interface InvokePlan {
  computers: string[];
  /** Agent names the computers resolve to (the name itself when unknown). */
  resolved: string[];
  script: string;
  runbook?: string;
  configurationName?: string;
  arguments: unknown[];
  using: Record<string, unknown>;
  throttleLimit: number;
  asJob: boolean;
  jobName?: string;
  hideComputerName: boolean;
  /** -Session: the sessions, in the order of `computers`. */
  sessions?: PSSessionRecord[];
}

function checkParameters(call: BoundCall): void {
  const disconnected = asBool(call.parameters.InDisconnectedSession);
  for (const name of Object.keys(call.parameters)) {
    // -SessionName and -SessionOption name and tune the sessions -InDisconnectedSession opens.
    if (SESSION_PARAMETERS.has(name) && !disconnected) {
      throw new ChatOpsError(
        'NotSupported',
        `Invoke-Command -${name} is used here only with -InDisconnectedSession (it names and tunes the sessions that opens); a -ComputerName call runs without a session to tune. Add -InDisconnectedSession, or open one with New-PSSession -SessionOption ... and use -Session.`,
        { target: name },
      );
    }
    if (SESSION_PARAMETERS.has(name)) continue;
    if (!SUPPORTED.has(name)) {
      throw new ChatOpsError(
        'NotSupported',
        `Invoke-Command -${name} is not supported by this bot: the agents are reached through the hub, not ${name === 'Credential' || name === 'Authentication' ? 'with per-command credentials' : 'WinRM/SSH connection settings'}. Remove -${name} and run the command again.`,
        { target: name },
      );
    }
  }
  if (call.parameterSet === 'InProcess') {
    throw new ChatOpsError(
      'NotSupported',
      "Invoke-Command without -ComputerName would run inside the bot itself, which this bot does not do. Name the computer: Invoke-Command -ComputerName localhost { ... } runs on this computer's agent.",
    );
  }
}

function targetComputers(call: BoundCall): string[] {
  const names = call.parameters.ComputerName === undefined ? ['localhost'] : asStrings(call.parameters.ComputerName);
  const out = names.map((n) => (n === '.' ? 'localhost' : n));
  for (const n of out) {
    if (!(HOST_NAME.test(n) || (n.includes(':') && IPV6.test(n)))) {
      throw new ChatOpsError(
        'PSSessionInvalidComputerName',
        'One or more computer names are not valid. If you are trying to pass a URI, use the -ConnectionUri parameter, or pass URI objects instead of strings.',
        { target: n },
      );
    }
  }
  return out;
}

/** Validates and resolves everything before authorization; nothing has reached an agent yet. */
/** PowerShell's terminating error when none of -Session's sessions can run the command. */
export const NO_VALID_SESSIONS =
  'No valid sessions were specified.  Ensure you provide valid sessions that are in the Opened state and are available to run commands.';

/**
 * -Session's sessions that can run a command. PowerShell refuses a session that is not Opened,
 * and (unless -AsJob) one that is Busy running another command, as a non-terminating error per
 * session (the others run); when none can, the call fails with NO_VALID_SESSIONS. With -AsJob a
 * busy session is taken, and its child fails as PowerShell's does ("a pipeline is already
 * running", from the agent).
 */
function usableSessions(call: BoundCall, ctx: ExecContext): { usable: PSSessionRecord[]; refused: string[] } {
  const all = sessionsOf(ctx, call.parameters.Session);
  const busy = asBool(call.parameters.AsJob) ? new Set<string>() : ctx.services.jobs.busySessions();
  const refused: string[] = [];
  const usable: PSSessionRecord[] = [];
  for (const s of all) {
    if (s.state !== 'Opened') {
      refused.push(
        `Because the session state for session ${s.name}, ${s.instanceId}, ${s.computer} is not equal to Open, you cannot run a command in the session.  The session state is ${s.state}.${s.reason !== undefined ? ` (${s.reason})` : ''}`,
      );
    } else if (busy.has(s.instanceId)) {
      refused.push(
        `The session ${s.name}, ${s.instanceId}, ${s.computer} is not available to run commands.  The session availability is Busy.`,
      );
    } else usable.push(s);
  }
  if (usable.length === 0) {
    throw new ChatOpsError('InvalidRunspaceState', [...refused, NO_VALID_SESSIONS].join('\n'), { target: 'Session' });
  }
  return { usable, refused };
}

function planInvoke(call: BoundCall, ctx: ExecContext): InvokePlan {
  checkParameters(call);
  const sessions = call.parameters.Session !== undefined ? usableSessions(call, ctx).usable : undefined;
  const computers = sessions ? sessions.map((s) => s.computer) : targetComputers(call);
  const resolved = sessions ? sessions.map((s) => s.agent) : computers.map((c) => ctx.services.directory.resolve(c) ?? c);
  const configurationName = asString(call.parameters.ConfigurationName) || undefined;
  let script: string;
  let runbook: string | undefined;
  let effectiveConfiguration = configurationName;
  let usings: string[] = [];
  const filePath = asString(call.parameters.FilePath);
  if (filePath !== undefined) {
    const rb = loadRunbook(ctx.services.runbooksDir, filePath, configurationName);
    script = rb.text;
    runbook = rb.name;
    effectiveConfiguration = rb.configurationName;
    // In a session the session's configuration runs it: a .ps1 runbook needs a pwsh session, a .sh one a shell.
    const wrong = sessions?.find((x) => isShellConfiguration(x.configurationName) !== isShellConfiguration(rb.configurationName));
    if (wrong !== undefined) {
      throw new ChatOpsError(
        'RunbookSessionMismatch',
        `The runbook ${rb.name} runs under ${rb.configurationName}, but the session ${wrong.name} on ${wrong.computer} runs ${wrong.configurationName}. Use a session opened with -ConfigurationName ${rb.configurationName}.`,
        { target: wrong.name },
      );
    }
  } else {
    const sb = call.parameters.ScriptBlock as ScriptBlockValue | undefined;
    if (!sb || typeof sb !== 'object' || Array.isArray(sb) || sb.kind !== 'scriptblock') {
      throw new ChatOpsError('MissingScriptBlock', 'Invoke-Command needs a script block ({ ... }) or -FilePath.');
    }
    script = sb.text;
    usings = sb.usings;
  }
  const variables = ctx.services.store.getVariables(ctx.channel);
  const using: Record<string, unknown> = {};
  // The configuration each target runs: the one named (or the runbook's), else the agent's default.
  const shell = sessions
    ? sessions.map((x) => x.configurationName).find(isShellConfiguration)
    : shellConfiguration(resolved, effectiveConfiguration, ctx);
  if (shell !== undefined) {
    const first = usings[0];
    if (first !== undefined) {
      throw new ChatOpsError(
        'UsingVariableNotSupported',
        `$Using:${first} does not work in a ${shell} script: ${shell} reads it as $Using followed by ':${first}'. ${shellUsingHint(shell, first)}; the value arrives as that environment variable.`,
        { target: first },
      );
    }
    for (const envName of shellUsingReferences(script)) {
      const key =
        [...variables.keys()].find((k) => k === envName.slice('USING_'.length).toLowerCase()) ??
        [...variables.keys()].find((k) => shellUsingName(k) === envName);
      if (key === undefined) {
        const name = envName.slice('USING_'.length).toLowerCase();
        throw new ChatOpsError(
          'UsingVariableIsUndefined',
          `The value of the using variable '$${envName}' ($Using:${name}) cannot be retrieved because it has not been set in the local session.`,
          { target: name },
        );
      }
      using[key] = toJson(variables.get(key)!);
    }
  }
  for (const name of usings) {
    const v = variables.get(name.toLowerCase());
    if (v === undefined) {
      throw new ChatOpsError(
        'UsingVariableIsUndefined',
        `The value of the using variable '$using:${name}' cannot be retrieved because it has not been set in the local session.`,
        { target: name },
      );
    }
    using[name.toLowerCase()] = toJson(v);
  }
  const throttle = asNumber(call.parameters.ThrottleLimit) ?? 0;
  const jobName = asString(call.parameters.JobName) || undefined;
  return {
    computers,
    resolved,
    script,
    ...(runbook !== undefined ? { runbook } : {}),
    ...(effectiveConfiguration !== undefined ? { configurationName: effectiveConfiguration } : {}),
    arguments: asArray(call.parameters.ArgumentList as PsValue | undefined).map(toJson),
    using,
    throttleLimit: throttle > 0 ? throttle : DEFAULT_THROTTLE_LIMIT,
    // The binder applies -JobName's AsJob in typed order (`-JobName x -AsJob:$false` is not a job).
    asJob: asBool(call.parameters.AsJob),
    ...(jobName !== undefined ? { jobName } : {}),
    hideComputerName: asBool(call.parameters.HideComputerName),
    ...(sessions !== undefined ? { sessions } : {}),
  };
}

/**
 * The shell (`bash`/`sh`) some target runs this script with, if any: the configuration named
 * (or implied by the runbook), else the target agent's default configuration.
 */
function shellConfiguration(resolved: string[], configuration: string | undefined, ctx: ExecContext): string | undefined {
  if (configuration !== undefined) return isShellConfiguration(configuration) ? configuration : undefined;
  for (const name of resolved) {
    const configuration = ctx.services.directory.get(name)?.defaultConfiguration;
    if (isShellConfiguration(configuration)) return configuration;
  }
  return undefined;
}

export function describeInvoke(call: BoundCall, ctx: ExecContext): AuthorizationRequest {
  const plan = planInvoke(call, ctx);
  return {
    channel: ctx.channel,
    user: ctx.command.user,
    cmdlet: call.cmdlet,
    computers: plan.resolved,
    typedComputers: plan.computers,
    ...(plan.configurationName !== undefined ? { configurationName: plan.configurationName } : {}),
    adHocScript: plan.runbook === undefined,
    ...(plan.runbook !== undefined ? { runbook: plan.runbook } : {}),
    // Only a typed -ThrottleLimit (0 or less already reads 32) is a request; without one the
    // authorizer checks the concurrency the default really gives, min(32, computers).
    ...(call.parameters.ThrottleLimit !== undefined ? { throttleLimit: plan.throttleLimit } : {}),
  };
}

/** The job of an Invoke-Command: one child per computer (or session), dispatched within the ThrottleLimit. */
function startInvokeJob(call: BoundCall, ctx: ExecContext, plan: InvokePlan): JobRecord {
  const { jobs, maxRuntimeMs, sessionStore } = ctx.services;
  const job = jobs.startJob({
    // Masked as the audit trail masks it: the job's Command is shown in status and Get-Job.
    command: maskCommandLine(call.text),
    channel: ctx.channel,
    invokedBy: ctx.command.user.displayName,
    invokedById: userKey(ctx.command.user),
    computers: plan.computers,
    run: {
      script: plan.script,
      arguments: plan.arguments,
      using: plan.using,
      ...(plan.configurationName !== undefined ? { configurationName: plan.configurationName } : {}),
      ...(plan.runbook !== undefined ? { runbook: plan.runbook } : {}),
      maxRuntimeMs,
      ...(plan.sessions !== undefined
        ? { sessions: plan.sessions.map((x) => ({ instanceId: x.instanceId, configurationName: x.configurationName })) }
        : {}),
    },
    throttleLimit: plan.throttleLimit,
    asJob: plan.asJob,
    hideComputerName: plan.hideComputerName,
    ...(plan.jobName !== undefined ? { name: plan.jobName } : {}),
    beforeDispatch: (j) => {
      if (ctx.decision && !ctx.decision.audited) {
        ctx.decision.audited = true;
        ctx.auditAllowed(call, ctx.decision.request, ctx.decision.reason, j.id);
      }
    },
  });
  ctx.outcome.jobIds.push(job.id);
  // Receive-PSSession reads a session's last command.
  for (const s of plan.sessions ?? []) sessionStore.setSessionJob(s.id, job.id);
  return job;
}

/**
 * -InDisconnectedSession: a new session per computer (named by -SessionName), disconnected before
 * the command starts in it, so the agent keeps all its output for Receive-PSSession (up to the
 * buffer, then -SessionOption's OutputBufferingMode: Block, PowerShell's default, or Drop).
 * Returns the sessions, as PowerShell does; the command's job is in Get-Job too.
 */
async function invokeInDisconnectedSessions(call: BoundCall, ctx: ExecContext, plan: InvokePlan): Promise<PsValue> {
  const names = call.parameters.SessionName !== undefined ? asStrings(call.parameters.SessionName) : [];
  const { mode, maxBytes } = outputBuffering(call);
  const idleTimeoutMs = sessionIdleTimeout(call, ctx);
  const { sessions } = ctx.services;
  const opened = await Promise.all(
    plan.computers.map(async (computer, i) => {
      const agent = plan.resolved[i]!;
      const name = names[i];
      const rec = await openChannelSession(ctx, {
        computer,
        agent,
        ...(name !== undefined ? { name } : {}),
        ...(plan.configurationName !== undefined ? { configurationName: plan.configurationName } : {}),
        idleTimeoutMs,
      });
      if ('failed' in rec) {
        await showError(ctx, `[${computer}] Could not open a session: ${rec.failed}`);
        return undefined;
      }
      try {
        return await sessions.disconnect(rec, mode, maxBytes);
      } catch (e) {
        await showError(ctx, `[${computer}] ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    }),
  );
  const ready = opened.filter((r): r is PSSessionRecord => r !== undefined);
  if (ready.length === 0) {
    ctx.outcome.ok = false;
    return [];
  }
  startInvokeJob(call, ctx, {
    ...plan,
    computers: ready.map((r) => r.computer),
    resolved: ready.map((r) => r.agent),
    sessions: ready,
    asJob: true,
  });
  await showSessions(
    ctx,
    ready.map((r) => ctx.services.sessionStore.getSession(r.id) ?? r),
  );
  // One session is the value itself, as PowerShell's pipeline gives one object.
  return ready.length === 1 ? sessionRef(ready[0]!) : ready.map(sessionRef);
}

export async function invokeCommand(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const plan = planInvoke(call, ctx);
  if (call.parameters.Session !== undefined) for (const r of usableSessions(call, ctx).refused) await showError(ctx, r);
  if (asBool(call.parameters.InDisconnectedSession)) return invokeInDisconnectedSessions(call, ctx, plan);
  const { jobs, store } = ctx.services;
  const job = startInvokeJob(call, ctx, plan);
  const presenter = new JobPresenter(ctx.services, ctx.sink, job.id, plan.asJob, ctx.display);
  await presenter.start();
  if (plan.asJob) return jobRef(job.id);

  // Ends when the job finished, or when it was removed meanwhile (Remove-Job -Force in another
  // command): then there is no result to give, and the command fails saying so. Cancelled
  // (Ctrl-C), the job is stopped as Stop-Job stops it, and the call returns once it is Stopped.
  const confirmed = await finishedOrStopped(ctx.command.signal, presenter.finished, () => jobs.stopJob(job.id));
  if (!confirmed) {
    ctx.outcome.ok = false;
    throw new ChatOpsError(
      'StopNotConfirmed',
      `${job.name} (Id ${job.id}) was stopped (Ctrl-C), but not all its agents have confirmed yet; it becomes Stopped when they do (Get-Job shows it).`,
      { target: String(job.id) },
    );
  }
  const done = store.getJob(job.id);
  if (presenter.removed || done === undefined) {
    throw new ChatOpsError(
      'JobRemoved',
      `${job.name} (Id ${job.id}) was removed (Remove-Job) while Invoke-Command was waiting for it: the command ended, and its output was deleted with the job.`,
      { target: String(job.id) },
    );
  }
  if (done?.state === 'Failed' || done?.state === 'Stopped') ctx.outcome.ok = false;
  if (done?.notPosted !== undefined) ctx.outcome.ok = false;
  // The value of a synchronous call is its output, one item per line (for `$r = icm ...`).
  return outputValues(store.output(job.id), pwshComputers(store.children(job.id)));
}

/** The computers of a job's Microsoft.PowerShell children by child id: their output is records. */
export function pwshComputers(children: Array<{ id: number; computer: string; configurationName?: string }>): Map<number, string> {
  return new Map(
    children
      .filter((c) => c.configurationName !== undefined && c.configurationName !== '' && !isShellConfiguration(c.configurationName))
      .map((c) => [c.id, c.computer]),
  );
}

/**
 * Output records as values, one per line, per child in the order received; the records of
 * Microsoft.PowerShell children (`pwsh`: child id → computer) as their text or objects.
 */
export function outputValues(
  records: Array<{ childId: number; stream: string; data: string }>,
  pwsh: ReadonlyMap<number, string> = new Map(),
): PsValue[] {
  const byChild = new Map<number, string>();
  for (const r of records) {
    if (r.stream !== 'output') continue;
    byChild.set(r.childId, (byChild.get(r.childId) ?? '') + r.data);
  }
  const values: PsValue[] = [];
  for (const [childId, text] of byChild) {
    if (text === '') continue;
    const computer = pwsh.get(childId);
    if (computer !== undefined) values.push(...pwshOutputValues(text, computer));
    else for (const line of text.replace(/\n$/, '').split('\n')) values.push(line);
  }
  return values;
}
