import type { CompiledCmdlet } from './registry.js';

/**
 * What the runtime refuses although the binder accepts it as PowerShell does (so parse and bind
 * errors stay PowerShell's): whole cmdlets and parameter sets. Help marks them; the binder's
 * own refusals (`unsupported`, `unsupportedSets`) are marked from the definitions.
 */
/** Whole cmdlets the runtime refuses although the binder accepts them (none today: Start-Job's refusal is its definition's). */
const REFUSED_CMDLETS: Readonly<Record<string, string>> = {};

const REFUSED_SETS: Readonly<Record<string, Readonly<Record<string, string>>>> = {};

/** Why the whole cmdlet is refused here, if it is. */
export function cmdletRefusal(cmd: CompiledCmdlet): string | undefined {
  return cmd.definition.unsupported ?? REFUSED_CMDLETS[cmd.name];
}

/**
 * Why a parameter set is refused here, if it is: named as refused (by the binder or the runtime),
 * or chosen by a parameter that is refused (mandatory or first positional in the set, and not in
 * every set), such as -ConnectionUri for Uri or -HostName for SSHHost.
 */
export function setRefusal(cmd: CompiledCmdlet, set: string): string | undefined {
  const named = cmd.definition.unsupportedSets?.[set] ?? REFUSED_SETS[cmd.name]?.[set];
  if (named !== undefined) return named;
  const bit = 1 << cmd.setNames.indexOf(set);
  for (const p of cmd.parameters) {
    const d = p.definition;
    if (p.common || d.unsupported === undefined || d.supportedValues !== undefined) continue;
    const m = p.memberships.find((x) => !x.inAllSets && x.bit === bit)?.membership;
    if (m !== undefined && (m.mandatory || m.position === 0)) return `-${p.name}: ${d.unsupported}`;
  }
  return undefined;
}
