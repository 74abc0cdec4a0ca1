import { describe, expect, it } from 'vitest';
import { bindLine, errorOf, makeContext } from './helpers.js';
import { convertEnum } from '../../src/language/conversion.js';
import { AuthenticationMechanism } from '../../src/language/enums.js';
import { invokeCommand, jobs, ours, sb, sessions, splatting, type BindingCase as Case } from './fixtures/binding-cases.js';

async function check(c: Case): Promise<void> {
  const context = makeContext(c.vars ?? {});
  if (c.code !== undefined) {
    const error = await errorOf(() => bindLine(c.line, context));
    expect(error.code).toBe(c.code);
    if (c.message !== undefined) expect(error.message).toBe(c.message);
    if (c.contains !== undefined) expect(error.message).toContain(c.contains);
    if (c.target !== undefined) expect(error.target).toBe(c.target);
    return;
  }
  const call = await bindLine(c.line, context);
  if (c.set !== undefined) expect(call.parameterSet).toBe(c.set);
  if (c.params !== undefined) {
    expect(call.parameters).toMatchObject(c.params);
    if (Object.keys(c.params).length === 0) expect(call.parameters).toEqual({});
  }
  expect(call.pendingSets).toBeUndefined();
}

describe('reference 3.1 Invoke-Command worked examples and rules', () => {
  it.each(invokeCommand)('$line', check);
});
describe('reference 3.2-3.10 session cmdlets', () => {
  it.each(sessions)('$line', check);
});
describe('reference 3.11 job cmdlets', () => {
  it.each(jobs)('$line', check);
});
describe('our cmdlets and command lookup', () => {
  it.each(ours)('$line', check);
});
describe('splatting', () => {
  it.each(splatting)('$line', check);
});

describe('enum conversion (reference 1.8, gotcha 6.12)', () => {
  // -Authentication is refused after binding, so the conversion is checked directly.
  it.each([
    ['Negotiate', 'Negotiate'],
    ['negotiatew', 'NegotiateWithImplicitCredential'],
    ['kerb', 'Kerberos'],
    ['6', 'Kerberos'],
  ])('%s -> %s', (text, member) => {
    expect(convertEnum(text, AuthenticationMechanism, 'Authentication')).toEqual({ ok: true, value: member });
  });

  it('a prefix shared by several names without an exact match is ambiguous', () => {
    const r = convertEnum('Neg', AuthenticationMechanism, 'Authentication');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe(
        'Cannot bind parameter \'Authentication\'. Cannot convert value "Neg" to type "System.Management.Automation.Runspaces.AuthenticationMechanism". Error: "The identifier name Neg cannot be processed because it is either too similar or identical to the following enumerator names: Negotiate, NegotiateWithImplicitCredential. Use a more specific identifier name."',
      );
    }
  });
});

describe('bound call shape', () => {
  it('uses canonical cmdlet and parameter names and keeps the typed text', async () => {
    const call = await bindLine('icm –cn web1 –Scr { uptime }   -thr 4');
    expect(call).toEqual({
      cmdlet: 'Invoke-Command',
      parameterSet: 'ComputerName',
      parameters: { ComputerName: ['web1'], ScriptBlock: sb(' uptime '), ThrottleLimit: 4 },
      text: 'icm –cn web1 –Scr { uptime }   -thr 4',
    });
  });

  it('binds every parameter of a long line under its canonical name', async () => {
    const call = await bindLine(
      'Invoke-Command -ComputerName web1,web2 -ScriptBlock { uptime } -ThrottleLimit 8 -AsJob -JobName nightly -HideComputerName -ArgumentList 1',
    );
    expect(Object.keys(call.parameters).sort()).toEqual(
      ['ArgumentList', 'AsJob', 'ComputerName', 'HideComputerName', 'JobName', 'ScriptBlock', 'ThrottleLimit'].sort(),
    );
  });
});
