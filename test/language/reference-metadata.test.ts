import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CMDLETS } from '../../src/language/cmdlets/index.js';
import { ALL_SETS, type CmdletDefinition, type ParameterDefinition } from '../../src/language/definition.js';

/**
 * The cmdlet definitions the binder, Get-Help and Get-Command read must match reference
 * section 3 parameter for parameter: type, aliases, validation, and per set the position,
 * Mandatory and pipeline flags; and per cmdlet the default set and the set names. The tables
 * are a verbatim extract of the reference (fixtures/reference-parameter-tables.md).
 */

interface ReferenceCmdlet {
  name: string;
  defaultSet?: string;
  sets: string[];
  rows: string[][];
}

function readReference(): ReferenceCmdlet[] {
  const text = readFileSync(new URL('./fixtures/reference-parameter-tables.md', import.meta.url), 'utf8');
  const cmdlets: ReferenceCmdlet[] = [];
  let current: ReferenceCmdlet | undefined;
  for (const line of text.split('\n')) {
    const heading = /^## ([A-Za-z-]+)$/.exec(line);
    if (heading) {
      current = { name: heading[1] as string, sets: [], rows: [] };
      cmdlets.push(current);
      continue;
    }
    if (current === undefined) continue;
    const defaultSet = /DefaultParameterSetName: \*\*(\w+)\*\*/.exec(line);
    if (defaultSet) current.defaultSet = defaultSet[1];
    const set = /^- `(\w+)`/.exec(line);
    if (set) current.sets.push(set[1] as string);
    if (line.startsWith('| ') && !line.startsWith('| Parameter |'))
      current.rows.push(
        line
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
  }
  return cmdlets;
}

/** `Session [pos 0, **M**, pipe:value+byPropName]; Name` -> `Session=0/M/vp Name=-/-/--`, sorted. */
function referenceSets(cell: string): string {
  return cell
    .split(';')
    .map((part) => {
      const m = /^\s*(\(all sets\)|\w+)\s*(?:\[(.*)\])?\s*$/.exec(part);
      if (!m) throw new Error(`unparsed set membership: ${part}`);
      const attributes = m[2] ?? '';
      const position = /pos (\d+)/.exec(attributes)?.[1] ?? '-';
      const flags = `${attributes.includes('**M**') ? 'M' : '-'}/${/pipe:value/.test(attributes) ? 'v' : '-'}${/byPropName/.test(attributes) ? 'p' : '-'}`;
      return `${m[1] === '(all sets)' ? ALL_SETS : m[1]}=${position}/${flags}`;
    })
    .sort()
    .join(' ');
}

function ourSets(p: ParameterDefinition): string {
  return [...p.sets]
    .map(
      ([set, m]) =>
        `${set}=${m.position ?? '-'}/${m.mandatory ? 'M' : '-'}/${m.valueFromPipeline ? 'v' : '-'}${m.valueFromPipelineByPropertyName ? 'p' : '-'}`,
    )
    .sort()
    .join(' ');
}

function referenceValidations(cell: string): string[] {
  const out: string[] = [];
  for (const m of cell.matchAll(/Validate(NotNullOrEmpty|NotNullOrWhiteSpace|NotNull|Range\(([^)]*)\)|Set\(([^)]*)\))/g)) {
    const kind = m[1] as string;
    if (kind.startsWith('Range')) out.push(`range:${(m[2] as string).replace(/\s/g, '').replace('Int32.MaxValue', '2147483647')}`);
    else if (kind.startsWith('Set')) out.push(`set:${(m[3] as string).replace(/["\s]/g, '')}`);
    else out.push(kind.charAt(0).toLowerCase() + kind.slice(1));
  }
  return out.sort();
}

function ourValidations(p: ParameterDefinition): string[] {
  return p.validations
    .map((v) => (v.kind === 'range' ? `range:${v.min},${v.max}` : v.kind === 'set' ? `set:${v.values.join(',')}` : v.kind))
    .sort();
}

const reference = readReference();

describe('cmdlet definitions match reference section 3', () => {
  it('the extract covers the section 3 cmdlets', () => {
    expect(reference.map((c) => c.name)).toEqual([
      'Invoke-Command',
      'New-PSSession',
      'Get-PSSession',
      'Remove-PSSession',
      'Enter-PSSession',
      'Exit-PSSession',
      'Disconnect-PSSession',
      'Connect-PSSession',
      'Receive-PSSession',
      'New-PSSessionOption',
      'Get-Job',
      'Receive-Job',
      'Wait-Job',
      'Stop-Job',
      'Remove-Job',
      'Start-Job',
    ]);
    expect(reference.reduce((n, c) => n + c.rows.length, 0)).toBe(249);
  });

  it.each(reference.map((r) => [r.name, r] as const))('%s', (name, ref) => {
    const definition = CMDLETS.find((c) => c.name === name) as CmdletDefinition;
    expect(definition, name).toBeDefined();
    expect(definition.defaultSet).toBe(ref.defaultSet);
    if (ref.sets.length > 0) expect([...definition.sets].sort()).toEqual([...ref.sets].sort());
    const declared = definition.parameters.filter((p) => !p.common);
    expect(declared.map((p) => p.name).sort()).toEqual(ref.rows.map((r) => r[0]).sort());
    for (const [parameter, type, aliases, validation, sets] of ref.rows as Array<[string, string, string, string, string]>) {
      const p = declared.find((d) => d.name === parameter) as ParameterDefinition;
      const what = `${name} -${parameter}`;
      expect(p.type.display.toLowerCase(), what).toBe(type.toLowerCase());
      expect([...p.aliases].sort(), what).toEqual(
        aliases === '—'
          ? []
          : aliases
              .split(',')
              .map((a) => a.trim())
              .sort(),
      );
      expect(ourValidations(p), what).toEqual(referenceValidations(validation));
      expect(p.credential === true, what).toBe(validation.includes('[Credential]'));
      expect(ourSets(p), what).toBe(referenceSets(sets));
    }
  });
});
