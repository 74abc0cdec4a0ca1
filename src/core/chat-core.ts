import type { BoundCall, BoundStatement } from '../language/bound-call.js';
import type { ObjectRefValue, PsValue } from '../language/values.js';
import type { AuthorizationRequest, Decision } from './authorizer.js';
import type { ChatSink, CommandOutcome, Core, CoreNotice, IncomingCommand, Invoker } from './ports.js';
import type { PSSessionRecord } from '../store/session-store.js';
import type { CallDescriber, CmdletHandler, CoreServices, ExecContext } from './context.js';
import { maskSecrets } from '../log.js';
import { ChatOpsError, isChatOpsError } from '../errors.js';
import { bindPipelineInput, bindStatement, parseScript, type ParsedStatement } from '../language/index.js';
import { safePost, showError, userKey } from './context.js';
import { describeInvoke, invokeCommand } from './cmdlets/invoke-command.js';
import { getJob, removeJob, stopJob, waitJob } from './cmdlets/jobs.js';
import { receiveJob } from './cmdlets/receive-job.js';
import { getAgent, getVariable, removeVariable } from './cmdlets/agents-and-variables.js';
import { clearHost, getCommand, getHelp } from './cmdlets/help.js';
import { RemotePrompts } from './remote-prompts.js';
import {
  describeEnterSession,
  enterPSSession,
  exitPSSession,
  isExitLine,
  leavePrompt,
  promptFor,
  remoteLineCall,
} from './cmdlets/enter-pssession.js';
import { connectPSSession, disconnectPSSession, receivePSSession } from './cmdlets/disconnected-sessions.js';
import {
  describeNewSession,
  getPSSession,
  newPSSession,
  newPSSessionOption,
  refuseStartJob,
  removePSSession,
  sessionTable,
} from './cmdlets/sessions.js';
import { toText } from './value-helpers.js';
import { jobTable } from '../messages/results.js';
import type { Block } from '../messages/model.js';
import { JobLocks } from './job-locks.js';
import { checkMessageLimits } from './limits.js';
import { PostBudget } from './post-budget.js';
import { isFollowed, JobPresenter } from './job-presenter.js';

/** A running job's status is redrawn at least every 2 s: Slack allows about one edit a second. */
export const DEFAULT_STATUS_TICK_MS = 2000;

/** Stands in for a nested call's result while a statement is bound dry (see preflightMessage). */
const DEFERRED = 'chatops:deferred-nested-result';

/** Errors thrown by a cmdlet after its call was allowed and audited. */
const AUDITED = new WeakSet<object>();

export interface ChatCoreOptions extends Omit<CoreServices, 'statusIntervalMs' | 'statusTickMs' | 'jobLocks' | 'remotePrompts'> {
  /** How often a running job's status is redrawn even when nothing changed; default 2000. */
  statusTickMs?: number;
  /** Minimum ms between two edits of a live status message; default 500. */
  statusIntervalMs?: number;
  /**
   * More cmdlets (e.g. the permissions module's Get-/Grant-/Revoke-ChannelPermission). They are
   * authorized and audited like every other call; `describe` names their targets.
   */
  extraCmdlets?: Record<string, Handler>;
}

type Handler = { run: CmdletHandler; describe?: CallDescriber };

/**
 * The platform-neutral core: parses each line, binds it with the channel's variables, asks the
 * authorizer about every call before anything reaches an agent, audits every decision, and
 * runs the cmdlets. Jobs and variables belong to the channel that made them.
 */
export class ChatCore implements Core {
  private readonly services: CoreServices;
  private readonly handlers = new Map<string, Handler>();
  private readonly noticeListeners = new Set<(notice: CoreNotice) => boolean>();

  constructor(options: ChatCoreOptions) {
    const { extraCmdlets, statusIntervalMs, statusTickMs, ...services } = options;
    this.services = {
      ...services,
      statusIntervalMs: statusIntervalMs ?? 500,
      statusTickMs: statusTickMs ?? DEFAULT_STATUS_TICK_MS,
      jobLocks: new JobLocks(),
      remotePrompts: new RemotePrompts(),
    };
    const builtins: Record<string, Handler> = {
      'Invoke-Command': { run: invokeCommand, describe: describeInvoke },
      'Get-Job': { run: getJob },
      'Receive-Job': { run: receiveJob },
      'Wait-Job': { run: waitJob },
      'Stop-Job': { run: stopJob },
      'Remove-Job': { run: removeJob },
      'Get-Agent': { run: getAgent },
      'Get-Variable': { run: getVariable },
      'Remove-Variable': { run: removeVariable },
      'Get-Help': { run: getHelp },
      'Get-Command': { run: getCommand },
      'Clear-Host': { run: clearHost },
      'Start-Job': { run: refuseStartJob },
    };
    builtins['New-PSSession'] = { run: newPSSession, describe: describeNewSession };
    builtins['Get-PSSession'] = { run: getPSSession };
    builtins['Remove-PSSession'] = { run: removePSSession };
    builtins['New-PSSessionOption'] = { run: newPSSessionOption };
    builtins['Enter-PSSession'] = { run: enterPSSession, describe: describeEnterSession };
    builtins['Exit-PSSession'] = { run: exitPSSession };
    builtins['Disconnect-PSSession'] = { run: disconnectPSSession };
    builtins['Connect-PSSession'] = { run: connectPSSession };
    builtins['Receive-PSSession'] = { run: receivePSSession };
    for (const [name, h] of Object.entries({ ...builtins, ...(extraCmdlets ?? {}) })) {
      this.handlers.set(name.toLowerCase(), h);
    }
    this.services.sessions.onEnded((rec) => this.sessionEnded(rec));
  }

  /**
   * A listener returns true when it showed the notice where it belongs: for one that ends a
   * remote prompt, the adapter has then gone back to its own prompt, so the core leaves it too.
   */
  onNotice(listener: (notice: CoreNotice) => boolean): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  private notify(notice: CoreNotice): boolean {
    let shown = false;
    for (const l of this.noticeListeners) {
      try {
        if (l(notice)) shown = true;
      } catch (e) {
        this.services.log.error('a notice listener failed', { error: e instanceof Error ? e.message : String(e) });
      }
    }
    return shown;
  }

  /**
   * A session ended without being asked to (its agent closed it after the idle timeout, its shell
   * exited, its agent restarted): the remote prompts entered in it end, each told where it is
   * drawn, and a session no prompt had entered is told to its channel.
   */
  private sessionEnded(rec: PSSessionRecord): void {
    const why =
      rec.state === 'Broken'
        ? `the session ${rec.name} on ${rec.computer} is Broken${rec.reason ? `: ${rec.reason}` : ''}`
        : `the session ${rec.name} on ${rec.computer} was closed by its agent${rec.reason ? `: ${rec.reason}` : ''}`;
    const { remotePrompts } = this.services;
    const places = remotePrompts.endSession(rec.id, why);
    for (const place of places) {
      const prompt = promptFor(rec);
      const shown = this.notify({
        ...place,
        endedPrompt: prompt,
        message: { blocks: [{ kind: 'error', text: `The remote prompt ${prompt} has ended: ${why}.` }] },
      });
      // Shown: the place is back at its own prompt. Otherwise the next line typed there is told.
      if (shown) this.dropPrompt(place);
    }
    if (places.length === 0) {
      this.notify({
        channel: rec.channel,
        message: { blocks: [{ kind: 'error', text: `${why.charAt(0).toUpperCase()}${why.slice(1)}.` }] },
      });
    }
  }

  /** Forgets a remote prompt that ended; a temporary session (Enter-PSSession -ComputerName) goes with it. */
  private dropPrompt(place: Pick<IncomingCommand, 'channel' | 'scope'>): void {
    const entered = this.services.remotePrompts.get(place);
    if (!entered) return;
    this.services.remotePrompts.delete(place);
    if (entered.temporary) this.services.sessionStore.deleteSession(entered.sessionId);
  }

  async handle(command: IncomingCommand, sink: ChatSink): Promise<CommandOutcome> {
    const outcome: CommandOutcome = { ok: true, jobIds: [] };
    await this.handleHere(command, sink, outcome);
    // The remote prompt of this place, if one is entered (for the console's prompt).
    const entered = this.services.remotePrompts.get(command);
    const rec = entered && entered.ended === undefined ? this.services.sessionStore.getSession(entered.sessionId) : undefined;
    if (rec) outcome.prompt = promptFor(rec);
    return outcome;
  }

  private async handleHere(command: IncomingCommand, sink: ChatSink, outcome: CommandOutcome): Promise<void> {
    const admin = this.services.authorizer.isAdmin(command.user);
    // Everything run for this message (jobs it starts included) posts through the budget.
    const budget = new PostBudget(sink, this.services.log);
    const base = {
      command,
      sink: budget as ChatSink,
      channel: command.channel,
      admin,
      outcome,
      services: this.services,
      auditAllowed: (call: BoundCall, request: AuthorizationRequest, reason: string, jobId?: number) =>
        this.auditDecision(command, call.text, request.computers, 'allowed', reason, jobId),
    };
    // The one error that ends the message is always shown, even past the post budget.
    const failed = { ...base, sink: budget.unbounded };
    const entered = this.services.remotePrompts.get(command);
    if (entered) {
      // At a remote prompt every line runs in the session, but `exit` / Exit-PSSession.
      try {
        if (entered.ended !== undefined) {
          this.dropPrompt(command);
          throw new ChatOpsError('RemotePromptEnded', `The remote prompt has ended: ${entered.ended}. This line was not run.`);
        }
        const rec = this.services.sessionStore.getSession(entered.sessionId);
        if (isExitLine(command.text) || !rec) await leavePrompt({ ...base, display: true });
        else await this.runCall(remoteLineCall(command.text, rec), { ...base, display: true });
      } catch (e) {
        await this.fail(failed, e, command.text);
      } finally {
        await budget.close();
      }
      return;
    }
    let statements: ParsedStatement[];
    try {
      statements = parseScript(command.text).statements;
      // Before anything is bound, authorized or audited per statement: one refusal, one row.
      checkMessageLimits(statements);
      await this.preflightMessage(statements, { ...base, display: false });
    } catch (e) {
      await this.fail(failed, e, command.text);
      return;
    }
    try {
      for (const stmt of statements) {
        if (command.signal?.aborted) {
          // Cancelled (Ctrl-C): the rest of the message is not run, as in a PowerShell host.
          outcome.ok = false;
          break;
        }
        try {
          await this.runStatement(stmt, base);
        } catch (e) {
          await this.fail(failed, e, stmt.text);
          // A statement that failed terminally ends the message: later lines of a runbook in chat
          // usually depend on it.
          break;
        }
      }
    } finally {
      await budget.close();
    }
    return;
  }

  reattach(sinkFor: (channel: string) => ChatSink | undefined): number {
    let picked = 0;
    for (const job of this.services.store.jobsWithLiveStatus()) {
      if (job.statusHandle === undefined || isFollowed(this.services, job.id)) continue;
      const sink = sinkFor(job.channel);
      if (!sink) continue;
      JobPresenter.resume(this.services, sink, { ...job, statusHandle: job.statusHandle });
      picked++;
    }
    return picked;
  }

  async complete(channel: string, user: Invoker, kind: 'computer' | 'job', prefix: string): Promise<string[]> {
    const p = prefix.toLowerCase();
    if (kind === 'computer') {
      const { authorizer, directory } = this.services;
      const names = new Set<string>();
      for (const a of directory.list()) {
        // Rules name enrolled agents (aliases resolve to them), so the agent decides for its aliases.
        if (!authorizer.mayTarget(channel, user, a.name)) continue;
        for (const n of [a.name, ...a.aliases]) if (n.toLowerCase().startsWith(p)) names.add(n);
      }
      return [...names].sort().slice(0, 25);
    }
    const out: string[] = [];
    for (const j of this.services.store.listJobs(channel)) {
      if (String(j.id).startsWith(p) || j.name.toLowerCase().startsWith(p)) out.push(String(j.id));
    }
    return out.slice(-25);
  }

  // ---- internals ---------------------------------------------------------------------------

  private async fail(base: Omit<ExecContext, 'display'>, e: unknown, text: string): Promise<void> {
    const known = isChatOpsError(e);
    if (!known) this.services.log.error('command failed', { error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    const reason = known ? e.message : 'internal error';
    if (typeof e === 'object' && e !== null && AUDITED.has(e)) {
      // Allowed and audited already; the failure while running is recorded beside it.
      this.auditDecision(base.command, text, [], 'info', `failed: ${reason}`);
    } else if (!(known && e.code === 'PermissionDenied')) {
      // Parse and bind errors are refusals too (a refusal by the authorizer was audited when made).
      this.auditDecision(base.command, text, [], 'refused', reason);
    }
    await showError(
      { ...base, display: true },
      known ? e.message : 'Internal error: the command could not be run. The bot log has the details.',
    );
  }

  private auditDecision(
    command: IncomingCommand,
    text: string,
    targets: string[],
    decision: 'allowed' | 'refused' | 'info',
    reason: string,
    jobId?: number,
  ): void {
    try {
      this.services.audit.append({
        at: new Date().toISOString(),
        platform: command.user.platform,
        channel: command.channel,
        user: userKey(command.user),
        command: maskSecrets(text),
        targets,
        decision,
        reason,
        ...(jobId !== undefined ? { jobId } : {}),
        kind: command.source === 'button' ? 'button' : 'command',
      });
    } catch (e) {
      this.services.log.error('audit append failed', { error: String(e) });
      throw new ChatOpsError('AuditFailed', 'The command was not run: the audit trail could not be written.');
    }
  }

  private handler(call: BoundCall): Handler {
    const h = this.handlers.get(call.cmdlet.toLowerCase());
    // Never silently ignored: a cmdlet the language knows but the runtime does not.
    if (!h) throw new ChatOpsError('NotSupported', `${call.cmdlet} is not supported by this bot.`, { target: call.cmdlet });
    return h;
  }

  private describe(h: Handler, call: BoundCall, ctx: ExecContext): AuthorizationRequest {
    if (h.describe) return h.describe(call, ctx);
    return { channel: ctx.channel, user: ctx.command.user, cmdlet: call.cmdlet, computers: [], adHocScript: false };
  }

  /** Asks the authorizer; a refusal is audited and thrown (the whole statement is refused). */
  private async decide(call: BoundCall, ctx: ExecContext, request: AuthorizationRequest): Promise<Decision> {
    const decision = await this.services.authorizer.authorize(request);
    if (!decision.allowed) {
      this.auditDecision(ctx.command, call.text, request.computers, 'refused', decision.reason);
      throw new ChatOpsError('PermissionDenied', decision.hint === undefined ? decision.reason : `${decision.reason}.\n${decision.hint}`);
    }
    return decision;
  }

  /** Runs one call (authorize → audit → run). */
  private async runCall(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
    const h = this.handler(call);
    const request = this.describe(h, call, ctx);
    const decision = await this.decide(call, ctx, request);
    const decisionState = { request, reason: decision.reason, audited: false };
    const callCtx: ExecContext = { ...ctx, decision: decisionState };
    // Invoke-Command audits itself once its job id exists (before dispatch); others audit now.
    if (call.cmdlet !== 'Invoke-Command') {
      decisionState.audited = true;
      this.auditDecision(ctx.command, call.text, request.computers, 'allowed', decision.reason);
    }
    try {
      return await h.run(call, callCtx);
    } catch (e) {
      if (typeof e === 'object' && e !== null) AUDITED.add(e);
      throw e;
    } finally {
      if (!decisionState.audited) {
        decisionState.audited = true;
        this.auditDecision(ctx.command, call.text, request.computers, 'allowed', decision.reason);
      }
    }
  }

  /**
   * A value as PowerShell prints it: jobs (`$j`) as Get-Job's table (their current state, read
   * now), anything else as text.
   */
  private valueBlock(value: PsValue): Block {
    const items = Array.isArray(value) ? value : [value];
    const jobs = items.filter((v): v is ObjectRefValue => v !== null && typeof v === 'object' && !Array.isArray(v) && v.kind === 'job');
    if (jobs.length > 0 && jobs.length === items.length) {
      const { store } = this.services;
      const entries = jobs.flatMap((j) => {
        const job = store.getJob(Number(j.id));
        if (job) return [{ job }];
        const child = store.getChild(Number(j.id));
        const parent = child ? store.getJob(child.parentId) : undefined;
        return child && parent ? [{ job: parent, child }] : [];
      });
      if (entries.length > 0) return jobTable(store, entries);
    }
    const sessions = items.filter(
      (v): v is ObjectRefValue => v !== null && typeof v === 'object' && !Array.isArray(v) && v.kind === 'session',
    );
    if (sessions.length > 0 && sessions.length === items.length) {
      // `$s` as Get-PSSession's table (the sessions' state now); removed ones are left out.
      const records = sessions.flatMap((s) => this.services.sessionStore.getSession(Number(s.id)) ?? []);
      if (records.length > 0) return sessionTable(this.services, records);
    }
    const text = toText(value);
    return { kind: 'code', text: text === '' ? '(nothing)' : text };
  }

  private async runStatement(stmt: ParsedStatement, base: Omit<ExecContext, 'display'>): Promise<void> {
    const variables = this.services.store.getVariables(base.channel);
    const quiet: ExecContext = { ...base, display: false };
    const bound: BoundStatement = await bindStatement(stmt, {
      variables,
      evaluate: (call: BoundCall) => this.runCall(call, quiet),
    });
    if (bound.pipeline.length === 0) {
      const value = bound.value ?? bound.input ?? null;
      if (bound.assignTo !== undefined) {
        this.services.store.setVariable(base.channel, bound.assignTo, value);
        this.auditDecision(base.command, bound.text, [], 'allowed', 'variable assignment');
      } else {
        await safePost({ ...base, display: true }, { blocks: [this.valueBlock(value)] });
      }
      return;
    }

    // Every call whose targets are known up front is authorized before the first one runs, so
    // a refused later call never lets an earlier one reach an agent. (Each call is authorized
    // again, with its pipeline input bound, right before it runs.)
    if (bound.pipeline.length > 1 || bound.input !== undefined) {
      for (const call of bound.pipeline) await this.authorizeOnly(call, quiet);
    }

    let value: PsValue | undefined = bound.input;
    for (const [i, raw] of bound.pipeline.entries()) {
      const last = i === bound.pipeline.length - 1;
      const piped = i > 0 || bound.input !== undefined;
      if (piped && (value === null || (Array.isArray(value) && value.length === 0))) {
        // No input objects: as in PowerShell, the rest of the pipeline never runs.
        value = [];
        if (last && bound.assignTo === undefined) {
          await safePost({ ...base, display: true }, { blocks: [{ kind: 'text', text: `${raw.cmdlet}: no input.` }] });
        }
        break;
      }
      const call = piped && value !== undefined ? bindPipelineInput(raw, value) : raw;
      const ctx: ExecContext = { ...base, display: last && bound.assignTo === undefined };
      value = await this.runCall(call, ctx);
    }
    if (bound.assignTo !== undefined) {
      this.services.store.setVariable(base.channel, bound.assignTo, value ?? null);
    }
  }

  /**
   * A message is refused whole: before its first statement runs, every statement is bound dry
   * and every call in it authorized. Nested calls (`-ArgumentList (icm web1 {...})`) are
   * authorized but not run (their result stands in as DEFERRED); a call whose request depends
   * on such a result, or a statement that reads a variable an earlier statement of the message
   * assigns, is left to the check right before it runs. A refusal is audited and thrown, so no
   * part of a refused message reaches an agent.
   */
  private async preflightMessage(statements: ParsedStatement[], ctx: ExecContext): Promise<void> {
    const variables = this.services.store.getVariables(ctx.channel);
    const assigned = new Set<string>();
    for (const stmt of statements) {
      const dependent = stmt.variables.some((v) => assigned.has(v.toLowerCase()));
      if (stmt.assignTo !== undefined) assigned.add(stmt.assignTo.toLowerCase());
      if (dependent) continue;
      let bound: BoundStatement;
      try {
        bound = await bindStatement(stmt, {
          variables,
          evaluate: async (call: BoundCall) => {
            await this.authorizeOnly(call, ctx, true);
            return DEFERRED;
          },
        });
      } catch (e) {
        if (isChatOpsError(e) && e.code === 'PermissionDenied') throw e;
        continue; // the real binding reports it
      }
      for (const call of bound.pipeline) {
        try {
          await this.authorizeOnly(call, ctx, true);
        } catch (e) {
          if (isChatOpsError(e) && e.code === 'PermissionDenied') throw e;
          break;
        }
      }
    }
  }

  /** Pre-flight authorization: refusals are audited and thrown; allowed ones are audited when run. */
  private async authorizeOnly(call: BoundCall, ctx: ExecContext, dry = false): Promise<void> {
    const h = this.handler(call);
    let request: AuthorizationRequest;
    try {
      request = this.describe(h, call, ctx);
    } catch {
      return; // parameters still to come from the pipeline: checked when it runs
    }
    // A dry run's request built from a nested result it did not compute decides nothing.
    if (dry && JSON.stringify(request).includes(DEFERRED)) return;
    await this.decide(call, ctx, request);
  }
}
