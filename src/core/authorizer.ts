import type { Invoker } from './ports.js';

/**
 * The port the core calls before anything reaches an agent, and after every decision.
 * Deny by default: an implementation that has no rule for a request refuses it.
 */
export interface AuthorizationRequest {
  channel: string;
  user: Invoker;
  /** Canonical cmdlet name. */
  cmdlet: string;
  /** Resolved target computer names (empty for cmdlets that reach no agent). */
  computers: string[];
  /**
   * The names as typed, in the same order as `computers` (they differ when an alias such as
   * `localhost` names an enrolled agent). Optional: added by the runtime, compatible extension.
   */
  typedComputers?: string[];
  configurationName?: string;
  /** True when an ad-hoc script block is sent; false for -FilePath runbooks. */
  adHocScript: boolean;
  /** Runbook name for -FilePath. */
  runbook?: string;
  throttleLimit?: number;
}

export interface Decision {
  allowed: boolean;
  /** Why, in words for the user: `This channel may not target db1: no rule allows it`. */
  reason: string;
  /**
   * For a refusal: the smallest grant that would allow it, for the user to pass to an admin
   * (`Grant-ChannelPermission -Channel slack:T1/C2 -Cmdlet Invoke-Command -ComputerName db1`).
   * Shown with the refusal, not audited (the reason is).
   */
  hint?: string;
}

export interface Authorizer {
  authorize(request: AuthorizationRequest): Promise<Decision>;
  /** Bot admins may see and touch every channel's jobs, sessions and variables. */
  isAdmin(user: Invoker): boolean;
  /**
   * Autocomplete: whether `user` in `channel` may target `computer` with some Invoke-Command.
   * A hint only; every command is still decided by `authorize`.
   */
  mayTarget(channel: string, user: Invoker, computer: string): boolean;
}

export interface AuditRecord {
  at: string;
  platform: string;
  channel: string;
  user: string;
  /** The command line with secrets masked. */
  command: string;
  targets: string[];
  decision: 'allowed' | 'refused' | 'info';
  reason: string;
  jobId?: number;
  /** `command`, `button`, `admin`, `enrolment`, `agent-removed`. */
  kind: string;
}

export interface AuditLog {
  append(record: AuditRecord): void;
}
