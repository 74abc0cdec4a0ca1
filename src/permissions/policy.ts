import { posix } from 'node:path';
import type { AuthorizationRequest, Decision } from '../core/authorizer.js';
import type { Invoker } from '../core/ports.js';
import { userKey } from '../core/context.js';
import { DEFAULT_THROTTLE_LIMIT } from '../language/values.js';
import { canonicalName } from '../hub/agent-registry.js';
import { asciiLower, invalidComputerName, showName, wildcardMatcher } from './names.js';

/**
 * The channel policy: rules that grant a channel (or a named group of channels) the right to
 * run some cmdlets on some computers. Deny by default: a request is allowed only when, for
 * every target computer, one rule matches every dimension of it (channel, user, cmdlet,
 * configuration, script kind, runbook, the computer itself, and the rule's limits). Rules
 * from the file, from chat and the embedded default are evaluated the same way.
 */

export type RuleSource = 'default' | 'file' | 'chat';

export interface PolicyRule {
  /** `default`, `file:<name>`, `chat:<n>`: what Get-ChannelPermission shows and Revoke takes. */
  id: string;
  source: RuleSource;
  /** Platform-qualified channel ids (`slack:T1/C123`, `console`) or names of channel groups. */
  channels: string[];
  /** Computer names, wildcards (`web*`) or agent tags (`role=web`, from the agent registry). */
  computers: string[];
  /** Session configurations allowed; undefined means any. `default` stands for "none named". */
  configurations?: string[];
  /** Canonical cmdlet names or wildcards over them (`Get-*`, `*`). */
  cmdlets: string[];
  /** When true, only `-FilePath` runbooks; ad-hoc script blocks are refused. */
  runbooksOnly: boolean;
  /** Runbook names allowed (relative to the runbook library); undefined means any. */
  runbooks?: string[];
  /** Platform-qualified user ids (`slack:U1`, `discord:123`, `console`); undefined means anyone. */
  users?: string[];
  /** Platform-qualified role ids (`discord:987`); a user with any of them matches. */
  roles?: string[];
  maxComputers?: number;
  maxThrottleLimit?: number;
  /** Where it came from, for people: `policy.yaml line 12`, `granted by slack:U1 at ...`. */
  origin?: string;
}

export interface Policy {
  /** Channel groups by lower-cased name. */
  groups: ReadonlyMap<string, readonly string[]>;
  rules: readonly PolicyRule[];
}

/** Tags the agent registry holds for a computer (`role=web`); never taken from user input. */
export type TagLookup = (computer: string) => readonly string[] | undefined;

/**
 * The bot's own computer. Its embedded agent runs scripts as the bot's OS user, within reach of
 * the database, the audit trail and the bot's settings, so only the console may target it unless
 * an admin turns on EMBEDDED_AGENT_CHAT. Rules cannot lift this: a rule that names it for a chat
 * channel is refused when it is loaded or granted, and a wildcard or tag never reaches it.
 */
export interface EmbeddedGuard {
  /** Names of the embedded agent (its name and `localhost`); empty when there is none. */
  names: readonly string[];
  /** EMBEDDED_AGENT_CHAT. */
  allowChat: boolean;
}

export const NO_EMBEDDED_AGENT: EmbeddedGuard = { names: [], allowChat: false };

/** The comparison key of a computer name: ASCII lower case, a trailing dot dropped (DNS). */
function computerKey(name: string): string {
  return asciiLower(name).replace(/\.+$/, '');
}

export function isEmbeddedTarget(guard: EmbeddedGuard, computer: string): boolean {
  const key = computerKey(computer);
  return guard.names.some((n) => computerKey(n) === key);
}

/** Why `channel` may not target `computer` as the embedded agent, or undefined when it may. */
export function embeddedRefusal(guard: EmbeddedGuard, channel: string, computer: string): string | undefined {
  if (guard.allowChat || channel === 'console' || !isEmbeddedTarget(guard, computer)) return undefined;
  return (
    `This channel may not target ${computer}: it is the bot's own computer, whose embedded agent runs scripts as the bot's OS user ` +
    `(its database and settings within reach). Only the console may target it; an admin can run an agent under its own OS user ` +
    `for this computer, or set EMBEDDED_AGENT_CHAT=true (README: Security)`
  );
}

/**
 * Why `rule` may not stand, when it names the embedded agent for a chat channel (by name, alias
 * or the `embedded=true` tag); undefined otherwise. Wildcards are not refused: they skip it.
 */
export function embeddedRuleProblem(
  guard: EmbeddedGuard,
  rule: Pick<PolicyRule, 'channels' | 'computers'>,
  groups: Policy['groups'],
): string | undefined {
  if (guard.allowChat || guard.names.length === 0) return undefined;
  const members = rule.channels.flatMap((c) => groups.get(asciiLower(c)) ?? [c]);
  const chat = members.filter((c) => c !== 'console');
  if (chat.length === 0) return undefined;
  const named = rule.computers.find((p) =>
    p.includes('=')
      ? !/[*?]/.test(p.slice(0, p.indexOf('='))) && wildcardMatcher(p)('embedded=true')
      : !/[*?]/.test(p) && isEmbeddedTarget(guard, p),
  );
  if (named === undefined) return undefined;
  return (
    `it lets chat channels (${chat.join(', ')}) target ${named}, the bot's own computer: its embedded agent runs scripts as the bot's ` +
    `OS user, with the database and the bot's settings within reach. Name an agent that runs under its own OS user instead ` +
    `(README: Security), or set EMBEDDED_AGENT_CHAT=true to allow it`
  );
}

/** Allowed in every channel, with or without rules: they reach no agent. */
export const ALWAYS_ALLOWED: readonly string[] = ['Get-Help', 'Get-Command', 'Clear-Host'];

/** Managed by bot admins only, whatever the channel's rules say. */
export const ADMIN_CMDLETS: readonly string[] = ['Get-ChannelPermission', 'Grant-ChannelPermission', 'Revoke-ChannelPermission'];

/** `console` for the local user, otherwise `platform:userId`: the form config.admins uses. */
export { userKey };

export function isCmdlet(cmdlet: string, names: readonly string[]): boolean {
  const c = asciiLower(cmdlet);
  return names.some((n) => asciiLower(n) === c);
}

/** The embedded default: the console may use everything on the local agent. */
export function embeddedDefaultRule(localNames: readonly string[]): PolicyRule {
  return {
    id: 'default',
    source: 'default',
    channels: ['console'],
    computers: [...new Set(localNames.filter((n) => invalidComputerName(n) === undefined))],
    cmdlets: ['*'],
    runbooksOnly: false,
    origin: 'embedded default: the console may use the local agent',
  };
}

/** Normalises a runbook name so `./a.ps1` and `x/../a.ps1` cannot dodge a list; undefined if it leaves the library. */
export function normalizeRunbook(name: string): string | undefined {
  const n = posix.normalize(name.replace(/\\/g, '/'));
  if (n.startsWith('/') || n === '..' || n.startsWith('../') || n === '.') return undefined;
  return n;
}

// Stages of a rule match, in the order they are explained to users. A refusal names the stage
// the closest rule failed at, so the message points at what would have to change.
const enum Stage {
  Channel = 0,
  User = 1,
  Cmdlet = 2,
  Script = 3,
  Runbook = 4,
  Configuration = 5,
  Passed = 6,
}

interface Compiled {
  rule: PolicyRule;
  stage: Stage;
}

function channelMatches(rule: PolicyRule, channel: string, groups: Policy['groups']): boolean {
  for (const entry of rule.channels) {
    if (entry === channel) return true;
    const members = groups.get(asciiLower(entry));
    if (members?.includes(channel)) return true;
  }
  return false;
}

function userMatches(rule: PolicyRule, user: Invoker): boolean {
  if (rule.users === undefined && rule.roles === undefined) return true;
  if (rule.users?.includes(userKey(user))) return true;
  const roles = (user.roles ?? []).map((r) => `${user.platform}:${r}`);
  return rule.roles?.some((r) => roles.includes(r)) ?? false;
}

function stageOf(rule: PolicyRule, req: AuthorizationRequest, groups: Policy['groups']): Stage {
  if (!channelMatches(rule, req.channel, groups)) return Stage.Channel;
  if (!userMatches(rule, req.user)) return Stage.User;
  if (!rule.cmdlets.some((p) => wildcardMatcher(p)(req.cmdlet))) return Stage.Cmdlet;
  if (req.adHocScript && rule.runbooksOnly) return Stage.Script;
  if (req.runbook !== undefined && rule.runbooks !== undefined) {
    const n = normalizeRunbook(req.runbook);
    if (n === undefined || !rule.runbooks.some((p) => runbookMatches(p, n))) return Stage.Runbook;
  }
  if (rule.configurations !== undefined) {
    const wanted = asciiLower(req.configurationName ?? 'default');
    if (!rule.configurations.some((c) => asciiLower(c) === wanted)) return Stage.Configuration;
  }
  return Stage.Passed;
}

function runbookMatches(pattern: string, name: string): boolean {
  // `*` stays within one path segment; runbook names are case-sensitive like the file system.
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
        .join('') +
      '$',
  );
  return re.test(name);
}

function coversComputer(rule: PolicyRule, computer: string, tags: TagLookup): boolean {
  // `web1.` is the fully qualified spelling of `web1` (the registry stores and matches it
  // so): compared without the dot, a pattern such as `web1?` cannot take `web1.` for another
  // computer, and a rule naming `web1.` means web1.
  const name = canonicalName(computer);
  for (const p of rule.computers) {
    if (p.includes('=')) {
      const known = tags(name);
      if (known?.some((t) => wildcardMatcher(p)(t))) return true;
    } else if (wildcardMatcher(canonicalName(p))(name)) {
      return true;
    }
  }
  return false;
}

function limitFailure(rule: PolicyRule, req: AuthorizationRequest): string | undefined {
  const n = req.computers.length;
  if (rule.maxComputers !== undefined && n > rule.maxComputers) {
    return `This channel may target at most ${rule.maxComputers} computers per command; this command targets ${n}`;
  }
  if (rule.maxThrottleLimit !== undefined) {
    if (req.throttleLimit !== undefined && req.throttleLimit > rule.maxThrottleLimit) {
      return `This channel allows a ThrottleLimit of at most ${rule.maxThrottleLimit}; this command asks for ${req.throttleLimit}`;
    }
    // Without -ThrottleLimit the default of 32 applies: what matters is how many run at once.
    if (req.throttleLimit === undefined && Math.min(n, DEFAULT_THROTTLE_LIMIT) > rule.maxThrottleLimit) {
      return `This channel allows a ThrottleLimit of at most ${rule.maxThrottleLimit}; this command would run ${Math.min(n, DEFAULT_THROTTLE_LIMIT)} at once (add -ThrottleLimit ${rule.maxThrottleLimit})`;
    }
  }
  return undefined;
}

function explain(stage: Stage, req: AuthorizationRequest, rules: Compiled[], target?: string): string {
  const on = target === undefined ? '' : ` on ${target}`;
  switch (stage) {
    case Stage.Channel:
      return target === undefined
        ? `This channel may not run ${req.cmdlet}: no rule allows it`
        : `This channel may not target ${target}: no rule allows it`;
    case Stage.User:
      return `This channel may not run ${req.cmdlet}${on} for ${userKey(req.user)}: no rule allows this user`;
    case Stage.Cmdlet:
      return `This channel may not run ${req.cmdlet}${on}: no rule allows it`;
    case Stage.Configuration: {
      const allowed = [...new Set(rules.filter((r) => r.stage === Stage.Configuration).flatMap((r) => r.rule.configurations ?? []))];
      return req.configurationName === undefined
        ? `This channel may not use the default configuration${on}: name one with -ConfigurationName (allowed: ${allowed.join(', ')})`
        : `This channel may not use configuration ${req.configurationName}${on}: no rule allows it`;
    }
    case Stage.Script:
      return `This channel may not send ad-hoc script blocks${target === undefined ? '' : ` to ${target}`}: only runbooks (-FilePath) are allowed`;
    case Stage.Runbook:
      return `This channel may not run runbook ${req.runbook}${on}: no rule allows it`;
    case Stage.Passed:
      return 'allowed';
  }
}

function best(list: Compiled[]): Compiled | undefined {
  let top: Compiled | undefined;
  for (const c of list) if (top === undefined || c.stage > top.stage) top = c;
  return top;
}

function refuse(reason: string, hint?: string): Decision {
  return hint === undefined ? { allowed: false, reason } : { allowed: false, reason, hint };
}

/**
 * The smallest grant that would let this request through at the stage it failed, as the line an
 * admin would run (and the rule it stands for in the policy file). Only where one line says it:
 * limits and users are left to the admin.
 */
function grantHint(stage: Stage, req: AuthorizationRequest, computer?: string): string | undefined {
  const parts = [`-Channel ${req.channel}`, `-Cmdlet ${req.cmdlet}`];
  const yaml = [`channels: [${req.channel}]`, `cmdlets: [${req.cmdlet}]`];
  if (computer !== undefined) {
    parts.push(`-ComputerName ${computer}`);
    yaml.push(`computers: [${computer}]`);
  }
  switch (stage) {
    case Stage.Channel:
    case Stage.Cmdlet:
      break;
    case Stage.Configuration:
      parts.push(`-ConfigurationName ${req.configurationName ?? 'default'}`);
      yaml.push(`configurations: [${req.configurationName ?? 'default'}]`);
      break;
    case Stage.Runbook:
      if (req.runbook === undefined) return undefined;
      parts.push(`-Runbook ${req.runbook}`);
      yaml.push(`runbooks: [${req.runbook}]`);
      break;
    default:
      return undefined;
  }
  return `A bot admin can allow it with: Grant-ChannelPermission ${parts.join(' ')} (in the policy file: { ${yaml.join(', ')} })`;
}

/**
 * Decides one request against the policy. Every target is checked; the first one no rule
 * allows is named. ALWAYS_ALLOWED (help, Clear-Host) is always allowed; admin cmdlets are decided by
 * the authorizer (they depend on config.admins, not on rules).
 */
export function evaluate(policy: Policy, req: AuthorizationRequest, tags: TagLookup, guard: EmbeddedGuard = NO_EMBEDDED_AGENT): Decision {
  if (isCmdlet(req.cmdlet, ALWAYS_ALLOWED)) return { allowed: true, reason: `${req.cmdlet} is always allowed` };

  for (const c of req.computers) {
    const why = invalidComputerName(c);
    if (why !== undefined) return refuse(`This channel may not target ${showName(c)}: ${why}`);
  }
  for (const c of req.computers) {
    const why = embeddedRefusal(guard, req.channel, c);
    if (why !== undefined) return refuse(why);
  }
  if (req.runbook !== undefined && normalizeRunbook(req.runbook) === undefined) {
    return refuse(`This channel may not run runbook ${req.runbook}: it is outside the runbook library`);
  }

  const compiled: Compiled[] = policy.rules.map((rule) => ({ rule, stage: stageOf(rule, req, policy.groups) }));
  const passing = compiled.filter((c) => c.stage === Stage.Passed);
  const closest = best(compiled);

  if (req.computers.length === 0) {
    if (passing.length === 0) {
      const stage = closest?.stage ?? Stage.Channel;
      return refuse(explain(stage, req, compiled), grantHint(stage, req));
    }
    const within = passing.filter((c) => limitFailure(c.rule, req) === undefined);
    if (within.length === 0) return refuse(limitFailure(passing[0]!.rule, req)!);
    return { allowed: true, reason: `allowed by rule ${within[0]!.rule.id}` };
  }

  if (passing.length === 0 && closest !== undefined && closest.stage > Stage.Channel) {
    // Nothing in this channel allows this kind of command at all; say what, not which computer.
    const aboutTarget = compiled.filter((c) => c.stage > Stage.Channel && coversAny(c.rule, req, tags));
    if (aboutTarget.length === 0) return refuse(explain(closest.stage, req, compiled));
  }

  // First every target (a forbidden one is named even when a limit would also refuse), then limits.
  const okByComputer: Compiled[][] = [];
  for (const [i, computer] of req.computers.entries()) {
    const covering = compiled.filter((c) => coversComputer(c.rule, computer, tags));
    const ok = covering.filter((c) => c.stage === Stage.Passed);
    if (ok.length === 0) {
      // Named as typed (`localhost`), with the agent it reached when that differs.
      const typed = req.typedComputers?.[i];
      const shown = typed !== undefined && computerKey(typed) !== computerKey(computer) ? `${typed} (the agent ${computer})` : computer;
      const near = best(covering.filter((c) => c.stage > Stage.Channel));
      const stage = near?.stage ?? Stage.Channel;
      return refuse(explain(stage, req, near !== undefined ? covering : compiled, shown), grantHint(stage, req, computer));
    }
    okByComputer.push(ok);
  }
  const used = new Set<string>();
  for (const ok of okByComputer) {
    const within = ok.find((c) => limitFailure(c.rule, req) === undefined);
    if (within === undefined) return refuse(limitFailure(ok[0]!.rule, req)!);
    used.add(within.rule.id);
  }
  return { allowed: true, reason: `allowed by rule${used.size > 1 ? 's' : ''} ${[...used].join(', ')}` };
}

function coversAny(rule: PolicyRule, req: AuthorizationRequest, tags: TagLookup): boolean {
  return req.computers.some((c) => coversComputer(rule, c, tags));
}

/**
 * For autocomplete: whether any rule lets `user` in `channel` run Invoke-Command on `computer`
 * in some form (ad-hoc or runbook, any configuration). Offering a name is a hint, never a grant:
 * every real command is still decided by `evaluate`.
 */
export function mayTarget(
  policy: Policy,
  channel: string,
  user: Invoker,
  computer: string,
  tags: TagLookup,
  guard: EmbeddedGuard = NO_EMBEDDED_AGENT,
): boolean {
  if (invalidComputerName(computer) !== undefined || embeddedRefusal(guard, channel, computer) !== undefined) return false;
  return policy.rules.some(
    (rule) =>
      channelMatches(rule, channel, policy.groups) &&
      userMatches(rule, user) &&
      rule.cmdlets.some((p) => wildcardMatcher(p)('Invoke-Command')) &&
      coversComputer(rule, computer, tags),
  );
}
