import type { RemotePrompts } from './remote-prompts.js';
import type { SessionStore } from '../store/session-store.js';
import type { SessionManager } from '../sessions/session-manager.js';
import type { BoundCall } from '../language/bound-call.js';
import type { PsValue } from '../language/values.js';
import type { Logger } from '../log.js';
import type { NeutralMessage } from '../messages/model.js';
import type { JobStore } from '../store/job-store.js';
import type { AgentDirectory } from '../jobs/agent-directory.js';
import type { JobManager } from '../jobs/job-manager.js';
import type { AuditLog, AuthorizationRequest, Authorizer } from './authorizer.js';
import type { ChatSink, IncomingCommand, Invoker, MessageHandle } from './ports.js';
import { maskSecrets } from '../log.js';
import { isChatOpsError } from '../errors.js';
import type { JobLocks } from './job-locks.js';

export interface CoreServices {
  store: JobStore;
  jobs: JobManager;
  /** Sessions (New-PSSession): their records, and opening and closing them on agents. */
  sessionStore: SessionStore;
  sessions: SessionManager;
  directory: AgentDirectory;
  authorizer: Authorizer;
  audit: AuditLog;
  log: Logger;
  runbooksDir: string;
  maxRuntimeMs: number;
  /** The longest idle timeout of a session (SESSION_MAX_IDLE). */
  sessionMaxIdleMs: number;
  /** Minimum ms between two edits of a live status message (adapters coalesce further). */
  statusIntervalMs: number;
  /**
   * While a job runs its status is redrawn at least this often (elapsed time, who is still
   * running), so a long quiet command never looks hung. Adapters pace edits to their platform.
   */
  statusTickMs: number;
  /** Per-job locks around receiving output (read, post, mark read): one instance per core. */
  jobLocks: JobLocks;
  /** Remote prompts entered (Enter-PSSession), by channel and scope: one instance per core. */
  remotePrompts: RemotePrompts;
}

/** Everything a cmdlet implementation sees while it runs for one command. */
export interface ExecContext {
  command: IncomingCommand;
  sink: ChatSink;
  channel: string;
  /** Bot admins see and touch every channel's jobs and variables. */
  admin: boolean;
  /**
   * False inside subexpressions, assignments and non-final pipeline elements: the cmdlet
   * returns its value and shows only what must be seen (e.g. the status of a job it started).
   */
  display: boolean;
  outcome: { ok: boolean; jobIds: number[] };
  services: CoreServices;
  /** Appends the audit record for `call` once its job id is known (Invoke-Command). */
  auditAllowed(call: BoundCall, request: AuthorizationRequest, reason: string, jobId?: number): void;
  /** The decision for the call being run (its audit record is written by the cmdlet for jobs). */
  decision?: { request: AuthorizationRequest; reason: string; audited: boolean };
}

/**
 * A cmdlet implementation. Throws ChatOpsError for terminating errors; shows non-terminating
 * ones with `showError` (which also marks the outcome failed) and goes on.
 */
export type CmdletHandler = (call: BoundCall, ctx: ExecContext) => Promise<PsValue>;

/**
 * Describes a call for the authorizer. Cmdlets that reach agents override it to name their
 * resolved targets; others reach no agent (`computers: []`).
 */
export type CallDescriber = (call: BoundCall, ctx: ExecContext) => AuthorizationRequest;

/** `console` for the local user, otherwise `platform:userId`: the id jobs and the audit trail record. */
export function userKey(user: Invoker): string {
  return user.platform === 'console' ? 'console' : `${user.platform}:${user.userId}`;
}

export async function showError(ctx: ExecContext, text: string): Promise<void> {
  ctx.outcome.ok = false;
  // Error texts quote what was typed (`the job name xoxb-... was not found`): token shapes are
  // masked, as in the audit trail and the job's Command.
  await safeReply(ctx, { blocks: [{ kind: 'error', text: maskSecrets(text) }] });
}

export async function safeReply(ctx: ExecContext, message: NeutralMessage): Promise<void> {
  try {
    await ctx.sink.replyPrivately(message);
  } catch (e) {
    ctx.services.log.warn('could not reply privately', { error: String(e) });
  }
}

/**
 * A long answer meant for the one person who asked (Get-Help, Get-Command): in a chat channel it
 * goes privately (Slack ephemeral, Discord's ephemeral interaction reply), so the channel does not
 * fill with several messages nobody else asked for; on the console it is printed as any answer.
 * If the private reply cannot be given, it is posted.
 */
export async function answerAsker(ctx: ExecContext, message: NeutralMessage): Promise<void> {
  if (ctx.command.user.platform === 'console') {
    await safePost(ctx, message);
    return;
  }
  try {
    await ctx.sink.replyPrivately(message);
  } catch (e) {
    ctx.services.log.warn('could not answer privately; posting instead', { error: String(e) });
    await safePost(ctx, message);
  }
}

/** Posts; returns undefined (and logs) when the platform refused. */
export async function safePost(ctx: ExecContext, message: NeutralMessage): Promise<MessageHandle | undefined> {
  try {
    return await ctx.sink.post(message);
  } catch (e) {
    ctx.services.log.warn('could not post', { error: String(e) });
    // Past the message's post limit the notice says it all; a private copy would be one more post.
    if (isChatOpsError(e) && e.code === 'PostLimit') return undefined;
    // Not swallowed: the person who asked gets the answer privately, with why the channel did not.
    const why = e instanceof Error ? e.message : String(e);
    await ctx.sink
      .replyPrivately({ blocks: [{ kind: 'error', text: `This could not be posted in the channel: ${why}` }, ...message.blocks] })
      .catch(() => undefined);
    return undefined;
  }
}

export type { ChatSink };
