import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { AuditLog, AuthorizationRequest, Authorizer, Decision } from '../core/authorizer.js';
import type { Invoker } from '../core/ports.js';
import { ChatOpsError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Db } from '../store/database.js';
import { ChatRuleStore } from './chat-rules.js';
import { invalidCmdletPattern, invalidComputerPattern, showName } from './names.js';
import {
  ADMIN_CMDLETS,
  embeddedDefaultRule,
  embeddedRuleProblem,
  NO_EMBEDDED_AGENT,
  type EmbeddedGuard,
  evaluate,
  isCmdlet,
  mayTarget,
  userKey,
  type Policy,
  type PolicyRule,
  type TagLookup,
} from './policy.js';
import { parsePolicy, readPolicyText, type PolicyFile } from './policy-file.js';

export interface PolicyAuthorizerOptions {
  db: Db;
  /** CHATOPS_POLICY_FILE; validated now (throws ChatOpsError `InvalidPolicy`) and watched. */
  policyFile?: string;
  /** config.admins: `console`, `slack:U1`, `discord:123`. */
  admins: readonly string[];
  /** Tags of a computer from the agent registry, e.g. `(n) => registry.get(n)?.tags`. */
  tags: TagLookup;
  /** Names of the local (embedded) agent for the default console rule; default hostname + localhost. */
  localNames?: readonly string[];
  /** The embedded agent chat channels may not reach (EMBEDDED_AGENT_CHAT); default: none. */
  embedded?: EmbeddedGuard;
  log?: Logger;
  /** Where grants and revocations from chat are recorded (kind `admin`). */
  audit?: AuditLog;
  /** Quiet period after a change to the policy file before it is reloaded. */
  reloadDebounceMs?: number;
  /** Called after each reload attempt (tests, and the core to post a notice if it wants). */
  onReload?: (result: { ok: true; rules: number } | { ok: false; error: string }) => void;
}

export interface PolicyStatus {
  policyFile?: string;
  /** When the policy in force was read from the file. */
  loadedAt?: string;
  /** Set while the file on disk is broken and the last good policy is still in force. */
  error?: string;
}

/** What Grant-ChannelPermission asks for (parameters as bound, names canonical). */
export interface GrantInput {
  channel: string;
  computers?: string[];
  cmdlets: string[];
  configurations?: string[];
  runbooksOnly?: boolean;
  runbooks?: string[];
  users?: string[];
  roles?: string[];
  maxComputers?: number;
  maxThrottleLimit?: number;
}

export interface PolicyAuthorizer extends Authorizer {
  /** The same decision, synchronously. */
  decide(request: AuthorizationRequest): Decision;
  /** Rules that apply to `channel` (directly or through a group); every rule when `channel` is `*`. */
  listRules(channel: string): PolicyRule[];
  /** Adds a chat rule; `by` must be an admin (throws ChatOpsError `PermissionDenied` otherwise). */
  grant(input: GrantInput, by: Invoker, channel: string): PolicyRule;
  /** Removes chat rule `chat:<n>`; file and default rules cannot be revoked from chat. */
  revoke(id: string, by: Invoker, channel: string): PolicyRule;
  status(): PolicyStatus;
  /** Re-reads the policy file now; false (and the last good policy kept) when it is broken. */
  reload(): Promise<boolean>;
  /** Stops watching the policy file. */
  close(): void;
}

const CHANNEL = /^(console|(slack|discord):[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)?)$/;
const PRINCIPAL = /^(console|(slack|discord):[A-Za-z0-9_-]+)$/;
const ROLE = /^(slack|discord):[A-Za-z0-9_-]+$/;
const CONFIGURATION = /^[A-Za-z0-9_.-]+$/;
const RUNBOOK = /^[A-Za-z0-9_.*?/-]+$/;

export function createPolicyAuthorizer(options: PolicyAuthorizerOptions): PolicyAuthorizer {
  const log = options.log ?? silentLogger;
  const admins = new Set(options.admins);
  const chat = new ChatRuleStore(options.db);
  const localNames = options.localNames ?? [hostname(), 'localhost'];
  const policyPath = options.policyFile === undefined ? undefined : resolve(options.policyFile);
  const guard = options.embedded ?? NO_EMBEDDED_AGENT;
  /** The file's rules that name the embedded agent for chat channels refuse the whole file. */
  const checked = (parsed: PolicyFile, fileName: string): PolicyFile => {
    const problems = parsed.rules.flatMap((r) => {
      const why = embeddedRuleProblem(guard, r, parsed.groups);
      return why === undefined ? [] : [`rule ${r.id} (${r.origin ?? fileName}): ${why}`];
    });
    if (problems.length > 0) throw new ChatOpsError('InvalidPolicy', `Policy file ${fileName} is not valid:\n- ${problems.join('\n- ')}`);
    return parsed;
  };

  let file: PolicyFile = { embeddedDefault: true, groups: new Map(), rules: [] };
  let fileText: string | undefined;
  const status: PolicyStatus = {};
  if (policyPath !== undefined) {
    status.policyFile = policyPath;
    fileText = readPolicyText(policyPath);
    file = checked(parsePolicy(fileText, basename(policyPath)), basename(policyPath)); // throws InvalidPolicy naming lines: refuse to start
    status.loadedAt = new Date().toISOString();
    log.info('policy file loaded', { file: policyPath, rules: file.rules.length });
  }
  const defaultRule = embeddedDefaultRule(localNames);

  const policy = (): Policy => ({
    groups: file.groups,
    rules: [...(file.embeddedDefault ? [defaultRule] : []), ...file.rules, ...chat.list()],
  });

  const isAdmin = (user: Invoker): boolean => admins.has(userKey(user));

  const decide = (request: AuthorizationRequest): Decision => {
    if (isCmdlet(request.cmdlet, ADMIN_CMDLETS)) {
      return isAdmin(request.user)
        ? { allowed: true, reason: `${userKey(request.user)} is a bot admin` }
        : { allowed: false, reason: `Only bot admins may run ${request.cmdlet}; ${userKey(request.user)} is not one (CHATOPS_ADMINS)` };
    }
    return evaluate(policy(), request, options.tags, guard);
  };

  const requireAdmin = (by: Invoker, cmdlet: string): void => {
    if (!isAdmin(by)) {
      throw new ChatOpsError('PermissionDenied', `Only bot admins may run ${cmdlet}; ${userKey(by)} is not one (CHATOPS_ADMINS)`);
    }
  };

  const reload = async (): Promise<boolean> => {
    if (policyPath === undefined) return true;
    let text: string;
    try {
      text = await readFile(policyPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // Deleted (a rename-save is atomic, so this is not a half-written file): keep the policy.
      fileText = undefined;
      status.error = `Policy file ${policyPath} is missing; the last good policy stays in force`;
      log.error(status.error);
      options.onReload?.({ ok: false, error: status.error });
      return false;
    }
    if (text === fileText) return status.error === undefined;
    fileText = text;
    try {
      file = checked(parsePolicy(text, basename(policyPath)), basename(policyPath));
      status.loadedAt = new Date().toISOString();
      delete status.error;
      log.info('policy file reloaded', { file: policyPath, rules: file.rules.length });
      options.onReload?.({ ok: true, rules: file.rules.length });
      return true;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      status.error = message;
      log.error(`policy file has errors; keeping the last good policy (loaded at ${status.loadedAt}): ${message}`);
      options.onReload?.({ ok: false, error: message });
      return false;
    }
  };

  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (policyPath !== undefined) {
    // Watch the directory: editors often save by writing a new file and renaming it over.
    const name = basename(policyPath);
    const debounce = options.reloadDebounceMs ?? 150;
    watcher = watch(dirname(policyPath), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        reload().catch((e: unknown) => log.error('policy reload failed', { error: String(e) }));
      }, debounce);
      timer.unref();
    });
    watcher.on('error', (e) => log.error('policy file watch failed', { error: String(e) }));
  }

  const listRules = (channel: string): PolicyRule[] => {
    const all = policy().rules;
    if (channel === '*') return [...all];
    return all.filter((r) => r.channels.some((c) => c === channel || (file.groups.get(c.toLowerCase())?.includes(channel) ?? false)));
  };

  const grant = (input: GrantInput, by: Invoker, channel: string): PolicyRule => {
    requireAdmin(by, 'Grant-ChannelPermission');
    const problems: string[] = [];
    const check = (list: string[] | undefined, what: string, why: (s: string) => string | undefined): void => {
      for (const s of list ?? []) {
        const w = why(s);
        if (w !== undefined) problems.push(`-${what}: ${w}`);
      }
    };
    const target = input.channel;
    if (!CHANNEL.test(target) && !file.groups.has(target.toLowerCase())) {
      problems.push(
        `-Channel: '${showName(target)}' is not a channel id (console, slack:TEAM/CHANNEL, discord:GUILD/CHANNEL) or a group from the policy file`,
      );
    }
    if (input.cmdlets.length === 0) problems.push('-Cmdlet: name at least one cmdlet');
    check(input.cmdlets, 'Cmdlet', invalidCmdletPattern);
    check(input.cmdlets, 'Cmdlet', (s) => (isCmdlet(s, ADMIN_CMDLETS) ? `${s} is for bot admins only and cannot be granted` : undefined));
    check(input.computers, 'ComputerName', invalidComputerPattern);
    check(input.configurations, 'ConfigurationName', (s) =>
      CONFIGURATION.test(s) ? undefined : `'${showName(s)}' is not a configuration name`,
    );
    check(input.runbooks, 'Runbook', (s) =>
      RUNBOOK.test(s) && !s.split('/').includes('..') && !s.startsWith('/')
        ? undefined
        : `'${showName(s)}' is not a runbook name inside the library`,
    );
    check(input.users, 'User', (s) =>
      PRINCIPAL.test(s) ? undefined : `'${showName(s)}' is not a user id (console, slack:USERID, discord:USERID)`,
    );
    check(input.roles, 'Role', (s) => (ROLE.test(s) ? undefined : `'${showName(s)}' is not a role id (discord:ROLEID)`));
    for (const [k, v] of [
      ['MaxComputers', input.maxComputers],
      ['MaxThrottleLimit', input.maxThrottleLimit],
    ] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) problems.push(`-${k} must be a whole number of at least 1, got ${v}`);
    }
    if (problems.length === 0) {
      const why = embeddedRuleProblem(guard, { channels: [target], computers: input.computers ?? [] }, file.groups);
      if (why !== undefined) problems.push(`-ComputerName: ${why}`);
    }
    if (problems.length > 0) throw new ChatOpsError('InvalidArgument', `Cannot grant: ${problems.join('; ')}`);

    const rule: Omit<PolicyRule, 'id' | 'source' | 'origin'> = {
      channels: [target],
      computers: input.computers ?? [],
      cmdlets: input.cmdlets,
      runbooksOnly: input.runbooksOnly ?? false,
      ...(input.configurations?.length ? { configurations: input.configurations } : {}),
      ...(input.runbooks?.length ? { runbooks: input.runbooks } : {}),
      ...(input.users?.length ? { users: input.users } : {}),
      ...(input.roles?.length ? { roles: input.roles } : {}),
      ...(input.maxComputers !== undefined ? { maxComputers: input.maxComputers } : {}),
      ...(input.maxThrottleLimit !== undefined ? { maxThrottleLimit: input.maxThrottleLimit } : {}),
    };
    const added = chat.add(rule, userKey(by));
    options.audit?.append({
      at: new Date().toISOString(),
      platform: by.platform,
      channel,
      user: userKey(by),
      command: `Grant-ChannelPermission ${describeRule(added)}`,
      targets: added.computers,
      decision: 'info',
      reason: `rule ${added.id} granted to ${target}`,
      kind: 'admin',
    });
    log.info('channel permission granted', { id: added.id, by: userKey(by), channel: target });
    return added;
  };

  const revoke = (id: string, by: Invoker, channel: string): PolicyRule => {
    requireAdmin(by, 'Revoke-ChannelPermission');
    const trimmed = id.trim();
    const existing = policy().rules.find((r) => r.id === trimmed || r.id === `chat:${trimmed}`);
    if (existing !== undefined && existing.source !== 'chat') {
      throw new ChatOpsError(
        'InvalidArgument',
        existing.source === 'file'
          ? `Rule ${existing.id} comes from the policy file (${existing.origin}); change the file to remove it`
          : `Rule ${existing.id} is the embedded default; set embeddedDefault: false in the policy file to drop it`,
      );
    }
    const removed = chat.remove(trimmed);
    if (removed === undefined) throw new ChatOpsError('NotFound', `No chat rule with id ${trimmed} (Get-ChannelPermission lists them)`);
    options.audit?.append({
      at: new Date().toISOString(),
      platform: by.platform,
      channel,
      user: userKey(by),
      command: `Revoke-ChannelPermission -Id ${removed.id}`,
      targets: removed.computers,
      decision: 'info',
      reason: `rule ${removed.id} (${describeRule(removed)}) revoked`,
      kind: 'admin',
    });
    log.info('channel permission revoked', { id: removed.id, by: userKey(by) });
    return removed;
  };

  return {
    authorize: async (request) => decide(request),
    decide,
    isAdmin,
    mayTarget: (channel, user, computer) => mayTarget(policy(), channel, user, computer, options.tags, guard),
    listRules,
    grant,
    revoke,
    status: () => ({ ...status }),
    reload,
    close: () => {
      if (timer) clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
    },
  };
}

/** One line per rule, in the command language's own terms (for audit records and listings). */
export function describeRule(rule: PolicyRule): string {
  const parts = [`-Channel ${rule.channels.join(',')}`, `-Cmdlet ${rule.cmdlets.join(',')}`];
  if (rule.computers.length > 0) parts.push(`-ComputerName ${rule.computers.join(',')}`);
  if (rule.configurations) parts.push(`-ConfigurationName ${rule.configurations.join(',')}`);
  if (rule.runbooksOnly) parts.push('-RunbooksOnly');
  if (rule.runbooks) parts.push(`-Runbook ${rule.runbooks.join(',')}`);
  if (rule.users) parts.push(`-User ${rule.users.join(',')}`);
  if (rule.roles) parts.push(`-Role ${rule.roles.join(',')}`);
  if (rule.maxComputers !== undefined) parts.push(`-MaxComputers ${rule.maxComputers}`);
  if (rule.maxThrottleLimit !== undefined) parts.push(`-MaxThrottleLimit ${rule.maxThrottleLimit}`);
  return parts.join(' ');
}
