import type { BoundCall } from '../../language/bound-call';
import type { PsValue } from '../../language/values';
import type { AgentSummary } from '../../jobs/agent-directory';
import { type ExecContext, safePost, showError } from '../context';
import { agentRef, asStrings, hasWildcard, toText, wildcard } from '../value-helpers';

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
export async function getVariable(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const vars = ctx.services.store.getVariables(ctx.channel);
  const names = call.parameters.Name !== undefined ? asStrings(call.parameters.Name) : ['*'];
  const out: Array<[string, PsValue]> = [];
  for (const n of names) {
    const m = wildcard(n);
    const hits = [...vars.entries()].filter(([k]) => m(k));
    if (hits.length === 0 && !hasWildcard(n)) {
      await showError(ctx, `Cannot find a variable with the name '${n}'.`);
    }
    for (const h of hits) if (!out.some(([k]) => k === h[0])) out.push(h);
  }
  out.sort(([a], [b]) => a.localeCompare(b));
  if (ctx.display) {
    await safePost(ctx, {
      blocks: [
        out.length === 0 && names.every(hasWildcard)
          ? { kind: 'text', text: 'No variables in this channel.' }
          : { kind: 'table', columns: ['Name', 'Value'], rows: out.map(([k, v]) => [k, valueText(v)]) },
      ],
    });
  }
  // The values, with or without -ValueOnly: the bot has no PSVariable objects to return.
  return out.map(([, v]) => v);
}

export async function removeVariable(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const vars = ctx.services.store.getVariables(ctx.channel);
  const removed: string[] = [];
  for (const n of asStrings(call.parameters.Name)) {
    const m = wildcard(n);
    const hits = [...vars.keys()].filter((k) => m(k));
    if (hits.length === 0 && !hasWildcard(n)) {
      await showError(ctx, `Cannot find a variable with the name '${n}'.`);
    }
    for (const k of hits) if (ctx.services.store.removeVariable(ctx.channel, k)) removed.push(`$${k}`);
  }
  if (ctx.display && removed.length > 0) {
    await safePost(ctx, { blocks: [{ kind: 'text', text: `Removed ${removed.join(', ')}.` }] });
  }
  return [];
}
