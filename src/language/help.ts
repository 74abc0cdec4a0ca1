import { ChatOpsError } from '../errors.js';
import { clip } from './conversion.js';
import { ALL_SETS } from './definition.js';
import { allCmdlets, allCommandWords, lookupCmdlet, type CompiledCmdlet, type CompiledParameter } from './registry.js';
import { nearest } from './suggest.js';
import { HELP_EXAMPLES } from './help-examples/index.js';
import { cmdletRefusal, setRefusal } from './help-refusals.js';

/**
 * Get-Help and Get-Command -Syntax text, generated from the definitions the binder uses, in
 * PowerShell's syntax notation: `[[-Name] <type>]` optional positional, `[-Name] <type>`
 * mandatory positional, `-Name <type>` mandatory named, `[-Name <type>]` optional named.
 */

function requireCmdlet(name: string, forHelp: boolean): CompiledCmdlet {
  const cmd = lookupCmdlet(name.trim());
  if (cmd !== undefined) return cmd;
  const suggestion = nearest(name, allCommandWords(), (c) => c.word);
  const hint = suggestion === undefined ? ' Run Get-Command to list the commands.' : ` Did you mean ${suggestion.cmdlet}?`;
  if (forHelp) {
    throw new ChatOpsError('HelpNotFound', `Get-Help could not find ${clip(name)} in a help file in this session.${hint}`, {
      target: name,
    });
  }
  throw new ChatOpsError(
    'CommandNotFound',
    `The term '${clip(name)}' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.${hint}`,
    { target: name },
  );
}

/** Sets in display order: the default set first, then declaration order. */
function displaySets(cmd: CompiledCmdlet): Array<{ name: string; bit: number }> {
  const sets = cmd.setNames.map((name, i) => ({ name, bit: 1 << i }));
  const d = sets.findIndex((s) => s.bit === cmd.defaultMask);
  if (d > 0) sets.unshift(...sets.splice(d, 1));
  return sets;
}

function membershipIn(p: CompiledParameter, bit: number) {
  return p.memberships.find((m) => m.inAllSets || m.bit === bit)?.membership;
}

function syntaxLine(cmd: CompiledCmdlet, bit: number): string {
  const inSet = cmd.parameters
    .filter((p) => !p.common)
    .map((p) => ({ p, m: membershipIn(p, bit) }))
    .filter((x): x is { p: CompiledParameter; m: NonNullable<typeof x.m> } => x.m !== undefined);
  const positional = inSet.filter((x) => x.m.position !== undefined).sort((a, b) => (a.m.position as number) - (b.m.position as number));
  const named = inSet.filter((x) => x.m.position === undefined);
  const parts: string[] = [cmd.name];
  for (const { p, m } of positional) {
    const type = p.definition.type.kind === 'switch' ? '' : ` <${p.definition.type.display}>`;
    parts.push(m.mandatory ? `[-${p.name}]${type}` : `[[-${p.name}]${type}]`);
  }
  for (const { p, m } of [...named.filter((x) => x.m.mandatory), ...named.filter((x) => !x.m.mandatory)]) {
    const type = p.definition.type.kind === 'switch' ? '' : ` <${p.definition.type.display}>`;
    parts.push(m.mandatory ? `-${p.name}${type}` : `[-${p.name}${type}]`);
  }
  if (cmd.definition.supportsShouldProcess) parts.push('[-WhatIf]', '[-Confirm]');
  parts.push('[<CommonParameters>]');
  return parts.join(' ');
}

/** PowerShell wildcard match (`*`, `?`), case-insensitive; greedy two-pointer, no backtracking blow-up. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let i = 0;
  let j = 0;
  let star = -1;
  let mark = 0;
  while (j < t.length) {
    if (i < p.length && (p[i] === '?' || p[i] === t[j])) {
      i++;
      j++;
    } else if (i < p.length && p[i] === '*') {
      star = i++;
      mark = j;
    } else if (star >= 0) {
      i = star + 1;
      j = ++mark;
    } else {
      return false;
    }
  }
  while (i < p.length && p[i] === '*') i++;
  return i === p.length;
}

function isPattern(name: string): boolean {
  return name.includes('*') || name.includes('?');
}

/** Cmdlets whose name or an alias matches the wildcard pattern, in Get-Command order. */
function matching(pattern: string): CompiledCmdlet[] {
  return allCmdlets().filter((c) => wildcardMatch(pattern, c.name) || c.definition.aliases.some((a) => wildcardMatch(pattern, a)));
}

function syntaxOf(cmd: CompiledCmdlet): string {
  return displaySets(cmd)
    .map((s) => syntaxLine(cmd, s.bit))
    .join('\n\n');
}

/**
 * Get-Command <name> -Syntax: one line per parameter set, the default set first. A wildcard
 * pattern (`*`, `Get-*`) gives the syntax of every matching cmdlet, each block separated by a
 * blank line; a pattern that matches nothing gives an empty string, as Get-Command does.
 */
export function renderSyntax(name: string): string {
  if (isPattern(name)) return matching(name).map(syntaxOf).join('\n\n');
  return syntaxOf(requireCmdlet(name, false));
}

function describeBySet(
  cmd: CompiledCmdlet,
  p: CompiledParameter,
  pick: (m: NonNullable<ReturnType<typeof membershipIn>>) => string,
): string {
  const values = new Map<string, string[]>();
  for (const m of p.memberships) {
    const setName = m.inAllSets ? '(All)' : (cmd.setNames[31 - Math.clz32(m.bit)] ?? ALL_SETS);
    const v = pick(m.membership);
    const list = values.get(v) ?? [];
    list.push(setName);
    values.set(v, list);
  }
  if (values.size === 1) return [...values.keys()][0] as string;
  return [...values.entries()].map(([v, sets]) => `${v} (${sets.join(', ')})`).join('; ');
}

function parameterHelp(cmd: CompiledCmdlet, p: CompiledParameter, view: 'detailed' | 'full' = 'full'): string {
  const d = p.definition;
  const type = d.type.kind === 'switch' ? '' : ` <${d.type.display}>`;
  if (view === 'detailed') {
    const refused =
      d.unsupported === undefined
        ? ''
        : d.supportedValues
          ? ` (only ${d.supportedValues.join(', ')} here)`
          : ` (not supported here: ${d.unsupported})`;
    return `    -${p.name}${type}
        ${d.description}${refused}`;
  }
  const sets = p.memberships.map((m) => (m.inAllSets ? '(All)' : (cmd.setNames[31 - Math.clz32(m.bit)] ?? ALL_SETS)));
  const pipeline = describeBySet(cmd, p, (m) => {
    const kinds = [m.valueFromPipeline ? 'ByValue' : '', m.valueFromPipelineByPropertyName ? 'ByPropertyName' : ''].filter(Boolean);
    return kinds.length === 0 ? 'false' : `true (${kinds.join(', ')})`;
  });
  const lines = [
    `    -${p.name}${type}`,
    `        ${d.description}`,
    '',
    `        Required?                    ${describeBySet(cmd, p, (m) => String(m.mandatory))}`,
    `        Position?                    ${describeBySet(cmd, p, (m) => (m.position === undefined ? 'Named' : String(m.position)))}`,
    `        Accept pipeline input?       ${pipeline}`,
    `        Parameter set name           ${sets.join(', ')}`,
    `        Aliases                      ${d.aliases.length === 0 ? 'None' : d.aliases.join(', ')}`,
  ];
  const validations = d.validations.map((v) => {
    switch (v.kind) {
      case 'range':
        return `range ${v.min}..${v.max}`;
      case 'set':
        return `one of ${v.values.join(', ')}`;
      case 'notNull':
        return 'not null';
      case 'notNullOrEmpty':
        return 'not null or empty';
      case 'notNullOrWhiteSpace':
        return 'not null, empty or white space';
      case 'variableName':
        return 'a variable name';
    }
    throw new Error(`unknown validation ${JSON.stringify(v)}`);
  });
  if (d.type.enumDefinition !== undefined) validations.push(`one of ${d.type.enumDefinition.members.map(([n]) => n).join(', ')}`);
  if (validations.length > 0) lines.push(`        Accepted values              ${validations.join('; ')}`);
  lines.push(
    `        Supported here?              ${d.unsupported === undefined ? 'Yes' : d.supportedValues ? `Only ${d.supportedValues.join(', ')}: ${d.unsupported}` : `No: ${d.unsupported}`}`,
  );
  return lines.join('\n');
}

/**
 * Get-Help's views, as in PowerShell: `default` (name, synopsis, syntax, aliases, remarks),
 * `detailed` (plus each parameter's description), `full` (plus each parameter's attributes).
 */
export type HelpView = 'default' | 'detailed' | 'full';

/**
 * Get-Help <name> [-Detailed | -Full]: synopsis, per-set syntax, aliases, and (detailed, full) the
 * parameters. A wildcard pattern matching several cmdlets gives PowerShell's topic list (Name,
 * Category, Synopsis).
 */
export function renderHelp(name: string, view: HelpView = 'full'): string {
  if (isPattern(name)) {
    const found = matching(name);
    if (found.length === 0) throw requireCmdlet(name, true);
    if (found.length > 1) {
      const width = Math.max(...found.map((c) => c.name.length), 4);
      return [
        `${'Name'.padEnd(width)}  Category  Synopsis`,
        `${'----'.padEnd(width)}  --------  --------`,
        ...found.map((c) => `${c.name.padEnd(width)}  Cmdlet    ${c.definition.synopsis}`),
      ].join('\n');
    }
  }
  const cmd = isPattern(name) ? (matching(name)[0] as CompiledCmdlet) : requireCmdlet(name, true);
  const d = cmd.definition;
  const common = cmd.parameters.filter((p) => p.common);
  const supportedCommon = common
    .filter((p) => p.definition.unsupported === undefined || p.definition.supportedValues !== undefined)
    .map((p) => `-${p.name}${p.definition.supportedValues ? ` ${p.definition.supportedValues.join('|')}` : ''}`);
  const refusedCommon = common
    .filter((p) => p.definition.unsupported !== undefined)
    .map((p) => `-${p.name}${p.definition.supportedValues ? ` (other values)` : ''}: ${p.definition.unsupported}`);
  const unsupportedSets = Object.entries(d.unsupportedSets ?? {}).map(([set, reason]) => `    Parameter set ${set}: ${reason}`);
  const refusedCmdlet = cmdletRefusal(cmd);
  if (refusedCmdlet !== undefined) unsupportedSets.unshift(`    ${cmd.name}: ${refusedCmdlet}`);
  const sections = [
    `NAME\n    ${cmd.name}`,
    `SYNOPSIS\n    ${d.synopsis}`,
    // Sets refused here keep their line (it is PowerShell's syntax) and say why under it.
    `SYNTAX\n${displaySets(cmd)
      .map((s) => {
        const refused = setRefusal(cmd, s.name);
        return `    ${syntaxLine(cmd, s.bit)}${refused === undefined ? '' : `\n        Not here: ${refused}`}`;
      })
      .join('\n\n')}`,
    `ALIASES\n    ${d.aliases.length === 0 ? 'None' : d.aliases.join(', ')}`,
  ];
  if (view !== 'default') {
    sections.push(
      `PARAMETERS\n${cmd.parameters
        .filter((p) => !p.common)
        .map((p) => parameterHelp(cmd, p, view))
        .join('\n\n')}\n\n    <CommonParameters>\n        Supported: ${supportedCommon.join(', ')}.\n${refusedCommon
        .map((r) => `        Not supported ${r}`)
        .join('\n')}`,
    );
  }
  if (unsupportedSets.length > 0) sections.push(`NOT SUPPORTED HERE\n${unsupportedSets.join('\n')}`);
  const more =
    view === 'full'
      ? ''
      : `    For parameter descriptions, type: Get-Help ${cmd.name} -Detailed; for everything: Get-Help ${cmd.name} -Full; for one parameter: Get-Help ${cmd.name} -Parameter NAME.\n`;
  sections.push(`REMARKS\n${more}    Get-Command ${cmd.name} -Syntax shows only the syntax lines.`);
  return sections.join('\n\n');
}

/**
 * Get-Help <name> -Parameter <pattern,...>: only the matching parameters' sections (wildcards,
 * case-insensitive, common parameters included). A pattern matching nothing is PowerShell's
 * NoParmsFound error.
 */
export function renderParameterHelp(name: string, patterns: string[]): string {
  const cmd = isPattern(name) ? matching(name)[0] : requireCmdlet(name, true);
  if (cmd === undefined) throw requireCmdlet(name, true);
  const shown: CompiledParameter[] = [];
  for (const pattern of patterns) {
    const found = cmd.parameters.filter((p) => wildcardMatch(pattern, p.name));
    if (found.length === 0) throw new ChatOpsError('NoParmsFound', `No parameter matches criteria ${clip(pattern)}.`, { target: pattern });
    for (const p of found) if (!shown.includes(p)) shown.push(p);
  }
  return shown.map((p) => parameterHelp(cmd, p)).join('\n\n');
}

export interface CommandSummary {
  name: string;
  synopsis: string;
}

/**
 * Get-Command's selection: every command matching one of `names` (wildcards; an alias names its
 * cmdlet) and, when given, one of `verbs` and one of `nouns`, sorted by name as Get-Command
 * sorts. A name without wildcards that matches nothing is PowerShell's CommandNotFound error.
 */
export function findCommands(filter: { names?: string[]; verbs?: string[]; nouns?: string[] }): CommandSummary[] {
  for (const n of filter.names ?? []) if (!isPattern(n)) requireCmdlet(n, false);
  const part = (c: CompiledCmdlet, i: 0 | 1): string => c.name.split('-')[i] ?? '';
  return allCmdlets()
    .filter(
      (c) => filter.names === undefined || filter.names.some((n) => (isPattern(n) ? matching(n) : [requireCmdlet(n, false)]).includes(c)),
    )
    .filter((c) => filter.verbs === undefined || filter.verbs.some((v) => wildcardMatch(v, part(c, 0))))
    .filter((c) => filter.nouns === undefined || filter.nouns.some((n) => wildcardMatch(n, part(c, 1))))
    .map((c) => ({ name: c.name, synopsis: c.definition.synopsis }))
    .sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0));
}

/** Canonical names of every cmdlet the language knows, in Get-Command order. */
export function cmdletNames(): string[] {
  return allCmdlets().map((c) => c.name);
}

/** Canonical name for a name or alias (case-insensitive, exact), or undefined. */
export function resolveCmdletName(nameOrAlias: string): string | undefined {
  return lookupCmdlet(nameOrAlias)?.name;
}

/**
 * Get-Help <name> -Examples: PowerShell's view (name, synopsis, the examples) from the help data
 * (`help-examples/`, PowerShell's own text), each followed by what of it works here. A cmdlet
 * without examples says so and where to look instead.
 */
export function renderExamples(name: string): string {
  const cmd = isPattern(name) ? matching(name)[0] : requireCmdlet(name, true);
  if (cmd === undefined) throw requireCmdlet(name, true);
  const head = [`NAME\n    ${cmd.name}`, `SYNOPSIS\n    ${cmd.definition.synopsis}`];
  const examples = HELP_EXAMPLES[cmd.name] ?? [];
  if (examples.length === 0) {
    return [...head, `EXAMPLES\n    No examples for ${cmd.name} yet. Get-Help ${cmd.name} -Full shows every parameter.`].join('\n\n');
  }
  const rendered = examples.map((e, i) => {
    const lines = [`    -------------------------- EXAMPLE ${i + 1} --------------------------`, ''];
    for (const c of e.code) lines.push(c === '' ? '' : `    ${c}`);
    lines.push('');
    for (const r of e.remarks) lines.push(`    ${r}`, '');
    if (e.here !== undefined) lines.push(`    ${e.here}`, '');
    return lines.join('\n').trimEnd();
  });
  return [...head, ...rendered].join('\n\n');
}

/** The overview's groups, in order; a cmdlet in none of them is listed under `Other`. */
const OVERVIEW_GROUPS: ReadonlyArray<{ title: string; cmdlets: readonly string[] }> = [
  { title: 'Run commands on computers (their agents)', cmdlets: ['Invoke-Command'] },
  { title: 'Background jobs (Invoke-Command -AsJob)', cmdlets: ['Get-Job', 'Receive-Job', 'Wait-Job', 'Stop-Job', 'Remove-Job'] },
  {
    title: 'Sessions (Invoke-Command -Session)',
    cmdlets: ['New-PSSession', 'Get-PSSession', 'Remove-PSSession', 'Enter-PSSession', 'Exit-PSSession', 'New-PSSessionOption'],
  },
  { title: 'Computers and channel variables', cmdlets: ['Get-Agent', 'Get-Variable', 'Remove-Variable'] },
  {
    title: 'Permissions (bot admins change them)',
    cmdlets: ['Get-ChannelPermission', 'Grant-ChannelPermission', 'Revoke-ChannelPermission'],
  },
  { title: 'Help', cmdlets: ['Get-Help', 'Get-Command', 'Clear-Host'] },
];

/**
 * Bare `Get-Help`: what the bot can do, by group (each command with its aliases and synopsis),
 * what it refuses (sessions, local jobs), and how to get more help. PowerShell's own bare
 * Get-Help describes its help system; a chat user first needs to know what is there.
 */
export function renderOverview(): string {
  const all = allCmdlets();
  const refused = all.filter((c) => cmdletRefusal(c) !== undefined);
  const listed = new Set<string>(OVERVIEW_GROUPS.flatMap((g) => g.cmdlets));
  const other = all.filter((c) => !listed.has(c.name) && !refused.includes(c)).map((c) => c.name);
  const groups = [...OVERVIEW_GROUPS, ...(other.length > 0 ? [{ title: 'Other', cmdlets: other }] : [])];
  const label = (c: CompiledCmdlet): string =>
    c.definition.aliases.length === 0 ? c.name : `${c.name} (${c.definition.aliases.join(', ')})`;
  const width = Math.max(...all.map((c) => label(c).length));
  const sections = [
    'OVERVIEW\n    This bot runs PowerShell remoting commands from chat on registered agents (computers):\n    Invoke-Command -ComputerName web1 { uptime } runs a script block there and shows the output per computer.',
  ];
  for (const g of groups) {
    const rows = g.cmdlets
      .map((n) => lookupCmdlet(n))
      .filter((c): c is CompiledCmdlet => c !== undefined)
      .map((c) => `    ${label(c).padEnd(width)}  ${c.definition.synopsis}`);
    if (rows.length > 0) sections.push(`${g.title.toUpperCase()}\n${rows.join('\n')}`);
  }
  if (refused.length > 0) {
    sections.push(`NOT AVAILABLE HERE\n    ${refused.map((c) => c.name).join(', ')}: refused with the reason (Get-Help NAME says why).`);
  }
  sections.push(
    [
      'MORE HELP',
      '    Get-Help NAME                 syntax and remarks of a command (NAME or an alias: Get-Help icm)',
      '    Get-Help NAME -Examples       examples (Get-Help Invoke-Command -Examples)',
      '    Get-Help NAME -Detailed       plus what each parameter does; -Full: everything',
      '    Get-Help NAME -Parameter P    one parameter',
      '    Get-Command                   every command; Get-Command NAME -Syntax: its syntax lines',
    ].join('\n'),
  );
  return sections.join('\n\n');
}
