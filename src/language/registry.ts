import { CMDLETS } from './cmdlets/index.js';
import { COMMON_PARAMETERS, SHOULD_PROCESS_PARAMETERS } from './common-parameters.js';
import { ALL_SETS, type CmdletDefinition, type ParameterDefinition, type SetMembership } from './definition.js';

/**
 * Definitions compiled into the bit-mask form PowerShell's binder works with: each parameter
 * set is one bit; a parameter's `flags` is the union of its sets (allMask for all-set ones).
 */

export interface CompiledMembership {
  /** The set's bit, or allMask for `__AllParameterSets`. */
  bit: number;
  inAllSets: boolean;
  membership: SetMembership;
}

export interface CompiledParameter {
  definition: ParameterDefinition;
  name: string;
  lowerName: string;
  lowerAliases: string[];
  flags: number;
  inAllSets: boolean;
  memberships: CompiledMembership[];
  common: boolean;
  takesPipelineInput: boolean;
}

export interface CompiledCmdlet {
  definition: CmdletDefinition;
  name: string;
  setNames: string[];
  allMask: number;
  /** 0 when the cmdlet declares no default set. */
  defaultMask: number;
  parameters: CompiledParameter[];
}

function compile(definition: CmdletDefinition): CompiledCmdlet {
  const setNames = definition.sets.length === 0 ? [ALL_SETS] : [...definition.sets];
  const allMask = setNames.length >= 31 ? -1 : (1 << setNames.length) - 1;
  const bitOf = (set: string): number => {
    const index = setNames.indexOf(set);
    if (index < 0) throw new Error(`${definition.name}: unknown parameter set ${set}`);
    return 1 << index;
  };
  const all: ParameterDefinition[] = [
    ...definition.parameters,
    ...COMMON_PARAMETERS,
    ...(definition.supportsShouldProcess ? SHOULD_PROCESS_PARAMETERS : []),
  ];
  const parameters = all.map((p): CompiledParameter => {
    const memberships: CompiledMembership[] = [];
    let flags = 0;
    let inAllSets = false;
    for (const [set, membership] of p.sets) {
      if (set === ALL_SETS) {
        inAllSets = true;
        flags = allMask;
        memberships.push({ bit: allMask, inAllSets: true, membership });
      } else {
        const bit = bitOf(set);
        flags |= bit;
        memberships.push({ bit, inAllSets: false, membership });
      }
    }
    if (flags === allMask) inAllSets = inAllSets || setNames.length === 1;
    return {
      definition: p,
      name: p.name,
      lowerName: p.name.toLowerCase(),
      lowerAliases: p.aliases.map((a) => a.toLowerCase()),
      flags,
      inAllSets,
      memberships,
      common: p.common === true,
      takesPipelineInput: memberships.some((m) => m.membership.valueFromPipeline || m.membership.valueFromPipelineByPropertyName),
    };
  });
  return {
    definition,
    name: definition.name,
    setNames,
    allMask,
    defaultMask: definition.defaultSet === undefined ? 0 : bitOf(definition.defaultSet),
    parameters,
  };
}

const compiled = CMDLETS.map(compile);
const byName = new Map<string, CompiledCmdlet>();
for (const c of compiled) {
  byName.set(c.name.toLowerCase(), c);
  for (const alias of c.definition.aliases) byName.set(alias.toLowerCase(), c);
}

/** Exact, case-insensitive lookup by name or alias (cmdlet names are never prefix-matched). */
export function lookupCmdlet(nameOrAlias: string): CompiledCmdlet | undefined {
  return byName.get(nameOrAlias.toLowerCase());
}

export function allCmdlets(): readonly CompiledCmdlet[] {
  return compiled;
}

/** Every name and alias, for suggestions. */
export function allCommandWords(): Array<{ word: string; cmdlet: string }> {
  const words: Array<{ word: string; cmdlet: string }> = [];
  for (const c of compiled) {
    words.push({ word: c.name, cmdlet: c.name });
    for (const alias of c.definition.aliases) words.push({ word: alias, cmdlet: c.name });
  }
  return words;
}

export function popcount(mask: number): number {
  let n = 0;
  let m = mask >>> 0;
  while (m !== 0) {
    m &= m - 1;
    n++;
  }
  return n;
}

export function setNameOf(cmd: CompiledCmdlet, mask: number): string {
  const index = 31 - Math.clz32(mask & -mask);
  return cmd.setNames[index] ?? ALL_SETS;
}

export function setMaskOf(cmd: CompiledCmdlet, names: readonly string[]): number {
  let mask = 0;
  for (const name of names) {
    const index = cmd.setNames.indexOf(name);
    if (index >= 0) mask |= 1 << index;
  }
  return mask;
}
