import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue } from '../../language/values.js';
import type { AgentSummary } from '../../jobs/agent-directory.js';
import { type ExecContext, safePost, showError, userKey } from '../context.js';
import { agentRef, asString, asStrings, hasWildcard, toText, wildcard } from '../value-helpers.js';
import { ChatOpsError } from '../../errors.js';

/**
 * Get-Agent (this bot's own cmdlet): the registered computers, `-Name` with wildcards (names
 * and aliases), `-Tag key=value` (every tag given must be present).
 */
export async function getAgent(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const names = call.parameters.Name !== undefined ? asStrings(call.parameters.Name) : undefined;
  const tags = call.parameters.Tag !== undefined ? asStrings(call.parameters.Tag).map((t) => t.toLowerCase()) : [];
  // A channel sees the agents it may target (admins see all), as if the others did not exist.
  let agents = ctx.services.directory
    .list()
    .filter((a) => ctx.admin || ctx.services.authorizer.mayTarget(ctx.channel, ctx.command.user, a.name));
  if (names) {
    const matchers = names.map((n) => ({ name: n, matches: wildcard(n) }));
    const named = (a: AgentSummary, m: (s: string) => boolean): boolean => m(a.name) || a.aliases.some(m);
    agents = agents.filter((a) => matchers.some(({ matches }) => named(a, matches)));
    for (const { name, matches } of matchers) {
      if (!hasWildcard(name) && !agents.some((a) => named(a, matches))) {
        await showError(ctx, `Cannot find an agent with the name '${name}'.`);
      }
    }
  }
  if (tags.length > 0) {
    agents = agents.filter((a) => tags.every((t) => a.tags.some((x) => x.toLowerCase() === t)));
  }
  agents.sort((a, b) => a.name.localeCompare(b.name));
  if (ctx.display) {
    await safePost(ctx, {
      blocks: [
        agents.length === 0
          ? { kind: 'text', text: 'No agents.' }
          : {
              kind: 'table',
              columns: ['Name', 'State', 'OS', 'Version', 'Configurations', 'Tags', 'Aliases'],
              rows: agents.map((a) => [
                a.name,
                a.connected ? 'Online' : 'Offline',
                a.os ?? '',
                a.version ?? '',
                a.configurations.join(', '),
                a.tags.join(', '),
                a.aliases.join(', '),
              ]),
            },
      ],
    });
  }
  return agents.map((a) => agentRef(a.name));
}

function valueText(v: PsValue): string {
  const t = toText(v);
  const one = t.split('\n').join(', ');
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}

/** Get-Variable: the channel's variables (shared by everyone in it). */
/**
 * `-Scope`: the channel whose variables a call uses. The channel is the team's session, so a
 * scope is a channel id (`*` for every channel, when listing); only bot admins may name a channel
 * other than their own.
 */
function variableScope(call: BoundCall, ctx: ExecContext, allowAll: boolean): string | undefined {
  const scope = asString(call.parameters.Scope) ?? ctx.channel;
  if (scope === '*' && !allowAll) {
    throw new ChatOpsError('InvalidScope', `${call.cmdlet} -Scope takes one channel id, not *.`, { target: 'Scope' });
  }
  if (scope !== ctx.channel && !ctx.admin) {
    throw new ChatOpsError(
      'PermissionDenied',
      `Only bot admins may use another channel's variables; ${userKey(ctx.command.user)} is not one (CHATOPS_ADMINS).`,
      { target: 'Scope' },
    );
  }
  return scope === '*' ? undefined : scope;
}

export async function getVariable(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const scope = variableScope(call, ctx, true);
  const vars = ctx.services.store.listVariables(scope);
  const names = call.parameters.Name !== undefined ? asStrings(call.parameters.Name) : ['*'];
  const out: typeof vars = [];
  for (const n of names) {
    const m = wildcard(n);
    const hits = vars.filter((v) => m(v.name));
    if (hits.length === 0 && !hasWildcard(n)) {
      await showError(ctx, `Cannot find a variable with the name '${n}'.`);
    }
    for (const h of hits) if (!out.includes(h)) out.push(h);
  }
  out.sort((a, b) => a.channel.localeCompare(b.channel) || a.name.localeCompare(b.name));
  if (ctx.display) {
    const elsewhere = scope !== ctx.channel;
    await safePost(ctx, {
      blocks: [
        out.length === 0 && names.every(hasWildcard)
          ? {
              kind: 'text',
              text:
                scope === undefined
                  ? 'No variables in any channel.'
                  : elsewhere
                    ? `No variables in ${scope}.`
                    : 'No variables in this channel.',
            }
          : elsewhere
            ? { kind: 'table', columns: ['Channel', 'Name', 'Value'], rows: out.map((v) => [v.channel, v.name, valueText(v.value)]) }
            : { kind: 'table', columns: ['Name', 'Value'], rows: out.map((v) => [v.name, valueText(v.value)]) },
      ],
    });
  }
  // The values, with or without -ValueOnly: the bot has no PSVariable objects to return.
  return out.map((v) => v.value);
}

export async function removeVariable(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const channel = variableScope(call, ctx, false)!;
  const vars = ctx.services.store.getVariables(channel);
  const removed: string[] = [];
  for (const n of asStrings(call.parameters.Name)) {
    const m = wildcard(n);
    const hits = [...vars.keys()].filter((k) => m(k));
    if (hits.length === 0 && !hasWildcard(n)) {
      await showError(ctx, `Cannot find a variable with the name '${n}'.`);
    }
    for (const k of hits) if (ctx.services.store.removeVariable(channel, k)) removed.push(`$${k}`);
  }
  if (ctx.display && removed.length > 0) {
    await safePost(ctx, { blocks: [{ kind: 'text', text: `Removed ${removed.join(', ')}.` }] });
  }
  return [];
}
