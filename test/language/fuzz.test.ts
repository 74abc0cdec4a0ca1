import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatOpsError } from '../../src/errors.js';
import { bindPipelineInput, parseAndBind, MAX_SCRIPT_BYTES, type BindContext, type PsValue } from '../../src/language/index.js';
import { agentWeb1, job3, makeContext, session1 } from './helpers.js';

/**
 * Random and mutated lines: the language must answer with a bound statement or a ChatOpsError,
 * never another exception, and never hang (each input is bounded in time generously; the real
 * performance target lives in bench/language-bench.ts).
 */

const SEEDS = [
  'Invoke-Command -ComputerName web1,web2 -ScriptBlock { uptime } -ThrottleLimit 8',
  'icm –cn ‘web1’ { Get-Item "a}b" # } comment\n @\'\n}\n\'@ } -AsJob:$false',
  '$s = New-PSSession web1,web2; Invoke-Command -Session $s {$using:Foo; "$(1+$USING:bar)"}',
  "$servers = 'web1','web2'\nInvoke-Command -ComputerName $servers -FilePath deploy.ps1 -ArgumentList Process, Service",
  'Invoke-Command -ComputerName (Get-Agent -Tag role=web) -InDisconnectedSession -FilePath x.ps1 -SessionOption @{OutputBufferingMode="Drop";IdleTimeout=43200000}',
  'Get-Job | Receive-Job -Keep',
  '$j | Wait-Job -Any -Timeout 0',
  'Get-PSSession | Remove-PSSession -WhatIf',
  'Receive-PSSession web1 -OutTarget Job -JobName n',
  'Get-Job -State run -HasMoreData:$true -Newest 1kb',
  'Remove-Job -F 0x10 -ea SilentlyContinue',
  'New-PSSessionOption -IdleTimeoutMSec -1 -OutputBufferingMode Drop',
  'Get-Help icm -Parameter ComputerName; Get-Command Invoke-Command -Syntax',
  'Enter-PSSession 3\nExit-PSSession',
  'Get-Agent -Name web* -Tag role=web,env=prod | New-PSSession -Name a,b',
];

const TOKENS = [
  'Invoke-Command',
  'icm',
  'Get-Job',
  'Receive-Job',
  'Wait-Job',
  'New-PSSession',
  'Get-PSSession',
  'Remove-Job',
  'Get-Agent',
  'Receive-PSSession',
  'New-PSSessionOption',
  'Get-Help',
  'Get-Variable',
  'Remove-Variable',
  'Bogus-Cmd',
  '-cn',
  '-ComputerName',
  '–Id',
  '—Name',
  '-AsJob',
  '-AsJob:$false',
  '-Name:',
  '-Session',
  '-ScriptBlock',
  '-FilePath',
  '-State',
  '-Keep',
  '-Wait',
  '-Force',
  '-ThrottleLimit',
  '-JobName',
  '-InDisconnectedSession',
  '-SessionName',
  '-C',
  '-E',
  '-Wa',
  '-F',
  '-zzz',
  '--',
  '-5',
  'web1',
  "'a''b'",
  '"x`"y"',
  '‘smart’',
  '“dq”',
  '{',
  '}',
  '{ 1 }',
  '(',
  ')',
  '@(',
  '@{',
  'a=1',
  '=',
  '$s',
  '$j',
  '$servers',
  '$nope',
  '$using:x',
  '$true',
  '$null',
  ',',
  '|',
  ';',
  '\n',
  '`',
  '`\n',
  '#',
  '<#',
  '#>',
  "@'\n",
  "\n'@",
  '@"\n',
  '\n"@',
  '1kb',
  '0x10',
  '007',
  '1.5',
  '3',
  '$x =',
  'Running',
  'Stop',
  '$(',
  '&',
  '>',
  '@x',
];

const SPECIAL = [
  '{',
  '}',
  '(',
  ')',
  "'",
  '"',
  '‘',
  '“',
  '@',
  '$',
  '-',
  '–',
  ',',
  ';',
  '|',
  '`',
  '#',
  '<',
  '>',
  '\n',
  ' ',
  '=',
  ':',
  '\u0000',
  '\uD800',
];

/** A seed line with a few random edits (insert, delete, duplicate, replace). */
const mutatedLine = fc
  .tuple(
    fc.constantFrom(...SEEDS),
    fc.array(
      fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.constantFrom(...SPECIAL), fc.constantFrom('insert', 'delete', 'duplicate', 'replace')),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([seed, edits]) => {
    let text = seed;
    for (const [at, length, char, kind] of edits) {
      const i = text.length === 0 ? 0 : at % (text.length + 1);
      if (kind === 'insert') text = text.slice(0, i) + char + text.slice(i);
      else if (kind === 'delete') text = text.slice(0, i) + text.slice(i + length);
      else if (kind === 'duplicate') text = text.slice(0, i + length) + text.slice(i, i + length) + text.slice(i + length);
      else text = text.slice(0, i) + char + text.slice(i + 1);
    }
    return text;
  });

const tokenSoup = fc
  .array(fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom(' ', '', '  ', '\t')), { maxLength: 30 })
  .map((parts) => parts.map(([t, sep]) => t + sep).join(''));

const anyLine = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...SPECIAL, 'a', 'b', '1'), maxLength: 200 }),
  tokenSoup,
  mutatedLine,
);

const INPUTS: PsValue[] = [job3, session1, agentWeb1, 3, 'web1', null, true, [job3, session1], { kind: 'hashtable', entries: [] }];

function fuzzContext(): BindContext {
  const base = makeContext({ x: 'value', so: { kind: 'sessionoption', id: 'o', display: 'o', options: { IdleTimeout: 5 } } });
  let n = 0;
  return {
    variables: base.variables,
    async evaluate() {
      n++;
      return INPUTS[n % INPUTS.length] ?? null;
    },
  };
}

async function exercise(line: string): Promise<void> {
  const started = performance.now();
  try {
    const statements = await parseAndBind(line, fuzzContext());
    for (const statement of statements) {
      for (const call of statement.pipeline.slice(statement.input === undefined ? 1 : 0)) {
        for (const input of INPUTS) {
          try {
            bindPipelineInput(call, input);
          } catch (e) {
            if (!(e instanceof ChatOpsError)) throw e;
          }
        }
      }
    }
  } catch (e) {
    if (!(e instanceof ChatOpsError)) {
      throw new Error(`non-ChatOpsError for ${JSON.stringify(line)}: ${String(e)}`, { cause: e });
    }
    expect(typeof e.code).toBe('string');
    expect(e.message.length).toBeGreaterThan(0);
  }
  expect(performance.now() - started, JSON.stringify(line)).toBeLessThan(2000);
}

describe('fuzz: only ChatOpsError escapes, nothing hangs', () => {
  it('random, token-soup and mutated lines', async () => {
    await fc.assert(fc.asyncProperty(anyLine, exercise), { numRuns: 3000 });
  });

  it('pathological 40 KB inputs finish', async () => {
    const fill = (unit: string, prefix = 'Invoke-Command -cn a '): string =>
      (prefix + unit.repeat(Math.ceil(MAX_SCRIPT_BYTES / unit.length))).slice(0, MAX_SCRIPT_BYTES);
    for (const unit of [
      '{',
      '(',
      '@(',
      '@{a=',
      '"',
      "'",
      '"$(',
      '{"',
      "{'",
      '<#',
      '`',
      '$',
      '-a ',
      'a,',
      '{ @"\n',
      '|',
      ';',
      '}',
      '\n',
      '@{',
      ',',
      '-a:',
      '$Using:',
      '$Using:x ',
      '${Using:',
      '$Using:env:x ',
      '‘',
      '“',
      '–a ',
      'Get-Job | ',
      'icm a {1}\n',
    ]) {
      await exercise(fill(unit));
      await exercise(fill(unit, 'Invoke-Command -cn a { '));
      await exercise(fill(unit, ''));
    }
    await exercise(fill('x', 'Get-Agent -Name ') + 'overflow');
  });
});
