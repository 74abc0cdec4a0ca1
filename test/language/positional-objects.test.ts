import { describe, expect, it } from 'vitest';
import { parseAndBind, type BindContext, type PsValue } from '../../src/language/index.js';
import { errorOf } from './helpers.js';

/**
 * Objects at Invoke-Command's position 0 (reference 1.5 four passes, 1.8 conversions): agent
 * objects are neither ScriptBlock, PSSession nor Uri, and only a string is made into a Uri, so
 * the fourth pass (any set, with coercion) binds them to -ComputerName alone via ToString().
 */

const agent = (name: string): PsValue => ({ kind: 'agent', id: name, display: name });

function context(result: PsValue): BindContext {
  return { variables: new Map([['dbs', [agent('db1'), agent('db2')]]]), evaluate: async () => result };
}

async function bind(line: string, result: PsValue) {
  const statements = await parseAndBind(line, context(result));
  return statements[0]!.pipeline[0]!;
}

describe('agent objects at position 0 of Invoke-Command', () => {
  it('an object[] of agents from a subexpression binds to -ComputerName, as when named', async () => {
    const positional = await bind('icm (Get-Agent -Tag role=db) { hostname }', [agent('db1'), agent('db2')]);
    const named = await bind('icm -ComputerName (Get-Agent -Tag role=db) { hostname }', [agent('db1'), agent('db2')]);
    expect(positional.parameterSet).toBe('ComputerName');
    expect(positional.parameters.ComputerName).toEqual(['db1', 'db2']);
    expect(positional.parameters).toEqual(named.parameters);
  });

  it('one agent object, and a variable holding agent objects, bind the same way', async () => {
    expect((await bind('icm (Get-Agent db1) { hostname }', agent('db1'))).parameters.ComputerName).toEqual(['db1']);
    const fromVariable = await bind('Invoke-Command $dbs { hostname } -AsJob', null);
    expect(fromVariable.parameterSet).toBe('ComputerName');
    expect(fromVariable.parameters.ComputerName).toEqual(['db1', 'db2']);
  });

  it('an agent object does not convert to a Uri (named -ConnectionUri is a conversion error, not a silent string)', async () => {
    const e = await errorOf(() => bind('icm -ConnectionUri (Get-Agent db1) { hostname }', agent('db1')));
    expect(e.message).toContain("Cannot bind parameter 'ConnectionUri'");
  });

  it('an empty result still fails as in PowerShell, and says why', async () => {
    const e = await errorOf(() => bind('icm (Get-Agent -Tag role=none) { hostname }', []));
    expect(e.message).toContain("Cannot validate argument on parameter 'Session'.");
    expect(e.message).toContain('(Get-Agent -Tag role=none) gave no objects, so the empty collection was bound to -Session');
  });
});
