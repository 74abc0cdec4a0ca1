import { allCmdlets, lookupCmdlet } from './registry.js';

/**
 * Names for Tab completion (the console's line editor): cmdlet names and aliases, and the
 * parameter names of a cmdlet, as PowerShell's completion offers them. A hint only: what is then
 * typed is parsed and bound like anything else.
 */

function startsWith(word: string, prefix: string): boolean {
  return word.toLowerCase().startsWith(prefix.toLowerCase());
}

/** Cmdlet names, then aliases, that start with `prefix` (case-insensitive). */
export function completeCommandName(prefix: string): string[] {
  const names: string[] = [];
  const aliases: string[] = [];
  for (const c of allCmdlets()) {
    if (startsWith(c.name, prefix)) names.push(c.name);
    for (const a of c.definition.aliases) if (startsWith(a, prefix)) aliases.push(a);
  }
  return [...names.sort(), ...aliases.sort()];
}

/**
 * Parameter names of `cmdlet` (a name or alias) that start with `prefix` (without the dash):
 * its own parameters in declaration order, then the common ones. Aliases are not offered
 * (PowerShell completes to the parameter's name). An unknown cmdlet has none.
 */
export function completeParameterName(cmdlet: string, prefix: string): string[] {
  const c = lookupCmdlet(cmdlet);
  if (!c) return [];
  const own = c.parameters.filter((p) => !p.common && startsWith(p.name, prefix)).map((p) => p.name);
  const common = c.parameters.filter((p) => p.common && startsWith(p.name, prefix)).map((p) => p.name);
  return [...own, ...common];
}

/**
 * The parameter a typed name (without the dash) means for `cmdlet`: an exact name or alias, else
 * the one declared parameter (or, failing that, the one common parameter) it is a prefix of.
 * Undefined when unknown or ambiguous (the binder reports those when the line runs).
 */
export function resolveParameterName(cmdlet: string, typed: string): string | undefined {
  const c = lookupCmdlet(cmdlet);
  if (!c || typed === '') return undefined;
  const lower = typed.toLowerCase();
  const exact = c.parameters.find((p) => p.lowerName === lower || p.lowerAliases.includes(lower));
  if (exact) return exact.name;
  const matches = (common: boolean) =>
    c.parameters.filter((p) => p.common === common && (p.lowerName.startsWith(lower) || p.lowerAliases.some((a) => a.startsWith(lower))));
  const own = matches(false);
  if (own.length === 1) return own[0]?.name;
  if (own.length > 1) return undefined;
  const common = matches(true);
  return common.length === 1 ? common[0]?.name : undefined;
}

/** Whether `parameter` (a canonical name) of `cmdlet` is a switch, which takes no value. */
export function isSwitchParameter(cmdlet: string, parameter: string): boolean {
  const p = lookupCmdlet(cmdlet)?.parameters.find((x) => x.name === parameter);
  return p?.definition.type.kind === 'switch';
}

/** Canonical names of the parameters that take the `position`-th positional argument in some set. */
export function positionalParameterNames(cmdlet: string, position: number): string[] {
  const c = lookupCmdlet(cmdlet);
  if (!c) return [];
  return c.parameters.filter((p) => p.memberships.some((m) => m.membership.position === position)).map((p) => p.name);
}
