import { describe, expect, it } from 'vitest';
import { parseAndBind, parseScript, MAX_SCRIPT_BYTES, type ExpressionNode, type PsValue } from '../../src/language/index.js';
import { bindLine, errorOf, makeContext } from './helpers.js';
import {
  DASH_LINES,
  NUMBER_LINES,
  PARSE_ERROR_TEXTS,
  PARSE_ERRORS,
  QUOTE_LINES,
  SCRIPT_BLOCKS,
  STRING_LINES,
} from './fixtures/parse-cases.js';

/** The value of the only argument of a one-command line (literals only). */
function onlyArgument(line: string): ExpressionNode {
  const command = parseScript(line).statements[0]?.commands[0];
  const element = command?.elements.find((e) => e.kind === 'argument');
  if (element === undefined || element.kind !== 'argument') throw new Error('no argument');
  return element.value;
}
function literalOf(line: string): PsValue {
  const node = onlyArgument(line);
  if (node.kind !== 'literal') throw new Error(`not a literal: ${node.kind}`);
  return node.value;
}
function scriptText(line: string): { text: string; usings: string[] } {
  const v = literalOf(line);
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v.kind !== 'scriptblock') throw new Error('not a script block');
  return { text: v.text, usings: v.usings };
}

describe('typographic dashes and quotes (chat clients)', () => {
  it.each(DASH_LINES)('%s (%s) is a parameter', async (line) => {
    expect((await bindLine(line)).parameters).toEqual({ Id: [3] });
  });

  it.each(QUOTE_LINES)('%s', async (line, name) => {
    expect((await bindLine(line)).parameters).toEqual({ Name: [name] });
  });

  it('a quote inside a would-be parameter name makes the token an argument', async () => {
    expect((await bindLine('Get-Job -"Name"')).parameters).toEqual({ Name: ['-Name'] });
  });

  it('`--` ends the parameters: later dash tokens are arguments', async () => {
    expect((await bindLine('Get-Job -- -Name')).parameters).toEqual({ Name: ['-Name'] });
  });

  it('a dash followed by a digit is a bareword string in command mode', async () => {
    expect((await bindLine('Get-Job -5')).parameters).toEqual({ Name: ['-5'] });
  });
});

describe('strings and escapes', () => {
  it.each(STRING_LINES)('%s', (line, expected) => {
    expect(literalOf(line)).toBe(expected);
  });

  it('expands channel variables in double quotes and barewords, not in single quotes', async () => {
    expect((await bindLine('Get-Job -Name "job-$servers"')).parameters).toEqual({ Name: ['job-web1 web2'] });
    expect((await bindLine('Get-Job -Name x$servers')).parameters).toEqual({ Name: ['xweb1 web2'] });
    expect((await bindLine("Get-Job -Name '$servers'")).parameters).toEqual({ Name: ['$servers'] });
    expect((await bindLine('Get-Job -Name "${servers}!"')).parameters).toEqual({ Name: ['web1 web2!'] });
  });

  it('an argument that starts with a variable and goes on is one expandable word ($PSHOME\\foo)', async () => {
    for (const [line, name] of [
      ['Get-Job -Name $servers\\x', 'web1 web2\\x'],
      ['Get-Job -Name $servers$servers', 'web1 web2web1 web2'],
      ['Get-Job -Name ${servers}!', 'web1 web2!'],
      ['Get-Job -Name $servers-x', 'web1 web2-x'],
      ['Get-Job -Name $true$false', 'TrueFalse'],
      ['Get-Job -Name $servers"!"', 'web1 web2!'],
    ] as const) {
      expect((await bindLine(line)).parameters, line).toEqual({ Name: [name] });
    }
  });

  it('refuses $( ) subexpressions inside strings with a clear error', async () => {
    const e = await errorOf(() => parseScript('Get-Job "$(Get-Date)"'));
    expect(e.code).toBe('NotSupported');
  });

  it('here-strings: single is literal, double expands; footer must start a line', async () => {
    expect(literalOf("Get-Job @'\nline1\n  'quoted' $x\n'@")).toBe("line1\n  'quoted' $x");
    expect((await bindLine('Get-Job -Name @"\n$servers\n"@')).parameters).toEqual({ Name: ['web1 web2'] });
    expect(literalOf("Get-Job @'\r\nwindows\r\n'@")).toBe('windows');
    expect((await errorOf(() => parseScript("Get-Job @'\nnever closed\n '@"))).code).toBe('WhitespaceBeforeHereStringFooter');
    expect((await errorOf(() => parseScript("Get-Job @'\nnever closed"))).code).toBe('TerminatorExpectedAtEndOfString');
    expect((await errorOf(() => parseScript("Get-Job @'text'@"))).code).toBe('UnexpectedCharactersAfterHereStringHeader');
  });
});

describe('numbers (command mode)', () => {
  it.each(NUMBER_LINES)('%s', (line, expected) => {
    expect(literalOf(line)).toEqual(expected);
  });

  it('round-trips the typed text of a lone number bound to a string parameter; array elements are plain numbers', async () => {
    for (const n of ['1kb', '0x10', '007', '1.50', '5']) expect((await bindLine(`Get-Agent -Name ${n}`)).parameters).toEqual({ Name: [n] });
    expect((await bindLine('Get-Agent -Name 1kb,0x10,007,1.50,5')).parameters).toEqual({ Name: ['1024', '16', '7', '1.5', '5'] });
  });

  it('converts numeric literals to int parameters by value', async () => {
    expect((await bindLine('Get-Job -Id 1kb,0x10')).parameters).toEqual({ Id: [1024, 16] });
    expect((await bindLine('Get-Job -Newest 2.5')).parameters).toEqual({ Newest: 2 });
    expect((await bindLine("Get-Job -Newest '0x10'")).parameters).toEqual({ Newest: 16 });
  });

  it('a quoted number is a string, a bare one an int', async () => {
    expect((await bindLine("Get-Job '3'")).parameterSet).toBe('NameParameterSet');
    expect((await bindLine('Get-Job 3')).parameterSet).toBe('SessionIdParameterSet');
  });
});

describe('values', () => {
  it('$true, $false, $null are literals in any case', () => {
    expect(literalOf('Get-Job $TRUE')).toBe(true);
    expect(literalOf('Get-Job $False')).toBe(false);
    expect(literalOf('Get-Job $null')).toBe(null);
  });

  it('comma arrays with spaces and newlines after commas are one argument', async () => {
    const call = await bindLine('Invoke-Command -cn web1 , web2,\n  web3 -ScriptBlock {1}');
    expect(call.parameters['ComputerName']).toEqual(['web1', 'web2', 'web3']);
  });

  it('@( ) and @{ } literals', async () => {
    expect((await bindLine("Get-Job -Name @('a', 'b')")).parameters).toEqual({ Name: ['a', 'b'] });
    expect((await bindLine('Get-Job -Name @(\n  "a"\n  "b"; \'c\'\n)')).parameters).toEqual({ Name: ['a', 'b', 'c'] });
    const node = onlyArgument("Get-Job @{ A = 1; \"b c\" = 'x','y'\n D = @{E=$true} }");
    expect(node.kind).toBe('hashtable');
    expect((await errorOf(() => parseScript('Get-Job @{a=1;A=2}'))).code).toBe('DuplicateKeyInHashLiteral');
    expect((await errorOf(() => parseScript('Get-Job @{a 1}'))).code).toBe('MissingEqualsInHashLiteral');
    expect((await errorOf(() => parseScript('Get-Job @{a=1'))).code).toBe('MissingEndCurlyBrace');
  });

  it('a hashtable key that is a variable or expression is refused, never kept as the text "$k"', async () => {
    for (const line of ['$h = @{$k=1}', '$h = @{"$k"=1}', '$h = @{(Get-Agent)=1}', 'New-PSSession web1 -SessionOption @{$k=60000}']) {
      const e = await errorOf(() => parseScript(line));
      expect(e.code, line).toBe('NotSupported');
      expect(e.message, line).toMatch(
        /^A variable or expression as a hashtable key \(.+\) is not supported; write the key as a name or in single quotes\.$/,
      );
    }
    const [assign] = await parseAndBind('$h = @{\'$k\'=1; "`$x"=2; a=3}', makeContext());
    expect(assign?.value).toEqual({
      kind: 'hashtable',
      entries: [
        { key: '$k', value: 1 },
        { key: '$x', value: 2 },
        { key: 'a', value: 3 },
      ],
    });
  });

  it('colon syntax: -Name:value, -Name: value, switches with :$false/:0/:1', async () => {
    expect((await bindLine('Get-Job -Name:web')).parameters).toEqual({ Name: ['web'] });
    expect((await bindLine('Get-Job -Name: web')).parameters).toEqual({ Name: ['web'] });
    expect((await bindLine('Get-Job -Id:1,2')).parameters).toEqual({ Id: [1, 2] });
    expect((await bindLine('Receive-Job 3 -Keep:0')).parameters).toMatchObject({ Keep: false });
    expect((await bindLine('Receive-Job 3 -Keep:1')).parameters).toMatchObject({ Keep: true });
    const e = await errorOf(() => bindLine("Receive-Job 3 -Keep:'false'"));
    expect(e.code).toBe('CannotConvertArgument');
    const end = await errorOf(() => parseScript('Get-Job -Name:'));
    expect(end).toMatchObject({ code: 'ParameterRequiresArgument', message: 'Parameter -Name: requires an argument.' });
  });
});

describe('script blocks are kept byte for byte', () => {
  it.each(SCRIPT_BLOCKS)('%s', (block, inner) => {
    expect(scriptText(`Invoke-Command ${block}`).text).toBe(inner);
  });

  it('collects $Using: references (lower-cased, de-duplicated, in order), also inside strings', () => {
    const { usings } = scriptText(
      'icm { Get-EventLog -LogName $Using:MWFO_Log -Newest $using:n; "$USING:Log"; ${using:x}; \'$using:notme\' # $using:comment\n $using:mwfo_log }',
    );
    expect(usings).toEqual(['mwfo_log', 'n', 'log', 'x']);
  });

  it('a braced ${Using:name} may hold any characters up to the closing brace', () => {
    expect(scriptText('icm { "${Using:Log Name}" ; ${using:a-b}x }').usings).toEqual(['log name', 'a-b']);
  });

  it('$Using: of a drive-qualified variable ($Using:env:PATH) is refused, not sent as a channel variable', async () => {
    for (const line of ['icm web1 { $Using:env:PATH }', 'icm web1 { "$using:Env:x" }', 'icm web1 { ${Using:env:x} }']) {
      const e = await errorOf(() => parseScript(line));
      expect(e.code, line).toBe('NotSupported');
      expect(e.message, line).toMatch(
        /^\$Using:env:(PATH|x) is not supported: \$Using: sends channel variables only; the bot's environment and drives are not available to chat\.$/i,
      );
    }
  });

  it('reports unterminated blocks, strings and comments inside them', async () => {
    for (const [line, code] of [
      ['icm { {', 'MissingEndCurlyBrace'],
      ['icm { "abc }', 'TerminatorExpectedAtEndOfString'],
      ["icm { 'abc }", 'TerminatorExpectedAtEndOfString'],
      ['icm { @"\nabc }', 'TerminatorExpectedAtEndOfString'],
      ['icm { <# abc }', 'MissingTerminatorMultiLineComment'],
      ['icm { "$(abc }', 'IncompleteDollarSubexpressionReference'],
      ['icm { ) }', 'MissingEndCurlyBrace'],
    ] as const) {
      expect((await errorOf(() => parseScript(line))).code, line).toBe(code);
    }
  });
});

describe('statements, assignments, pipelines', () => {
  it('splits on newlines and semicolons and keeps each statement text', () => {
    const script = parseScript('Get-Job; Get-PSSession\n\n  # comment only\n$a = 1 ; Get-Agent -Tag role=web  ');
    expect(script.statements.map((s) => s.text)).toEqual(['Get-Job', 'Get-PSSession', '$a = 1', 'Get-Agent -Tag role=web']);
    expect(script.statements[2]?.assignTo).toBe('a');
  });

  it('statement and command texts leave out trailing comments', () => {
    const script = parseScript('Get-Job -Id 3 # why\n$a = 1, 2 <# c #>\nGet-Job | Receive-Job -Keep  # done');
    expect(script.statements.map((s) => s.text)).toEqual(['Get-Job -Id 3', '$a = 1, 2', 'Get-Job | Receive-Job -Keep']);
    expect(script.statements[2]?.commands.map((c) => c.text)).toEqual(['Get-Job', 'Receive-Job -Keep']);
  });

  it('continues a line after a backtick, a pipe or a comma', () => {
    const script = parseScript('Invoke-Command -cn a `\n  -ScriptBlock {1}\nGet-Job |\n  Receive-Job');
    expect(script.statements).toHaveLength(2);
    expect(script.statements[1]?.commands.map((c) => c.name)).toEqual(['Get-Job', 'Receive-Job']);
  });

  it('records the variables a statement reads', () => {
    const statement = parseScript('Invoke-Command -Session $S -ArgumentList "$Servers", (Get-Agent $pattern) { $using:notread }')
      .statements[0];
    expect(statement?.variables.sort()).toEqual(['pattern', 's', 'servers']);
  });

  it.each(PARSE_ERRORS)('%j -> %s', async (line, code) => {
    expect((await errorOf(() => parseScript(line))).code).toBe(code);
  });
});

describe("bad input: typed errors with PowerShell's text (or ours where PowerShell has none)", () => {
  it.each(PARSE_ERROR_TEXTS)('%j -> %s', async (line, code, message, target) => {
    const e = await errorOf(() => parseScript(line));
    expect({ code: e.code, message: e.message }).toEqual({ code, message });
    if (target !== undefined) expect(e.target).toBe(target);
  });

  it('a line over the limit says how long it is', async () => {
    const e = await errorOf(() => parseScript(`Get-Agent -Name ${'a'.repeat(MAX_SCRIPT_BYTES)}`));
    expect(e.code).toBe('LineTooLong');
    expect(e.message).toBe(`The command is ${MAX_SCRIPT_BYTES + 16} bytes long; the limit is ${MAX_SCRIPT_BYTES} bytes (40 KB).`);
  });
});

describe('limits', () => {
  it(`accepts a ${MAX_SCRIPT_BYTES}-byte line and refuses one byte more (UTF-8 bytes, not characters)`, async () => {
    const prefix = 'Get-Agent -Name ';
    const ok = prefix + 'a'.repeat(MAX_SCRIPT_BYTES - prefix.length);
    expect(parseScript(ok).statements).toHaveLength(1);
    expect((await errorOf(() => parseScript(ok + 'a'))).code).toBe('LineTooLong');
    const multibyte = prefix + 'é'.repeat((MAX_SCRIPT_BYTES - prefix.length) / 2 + 1);
    expect((await errorOf(() => parseScript(multibyte))).code).toBe('LineTooLong');
  });

  it('refuses deep nesting with NestingTooDeep instead of overflowing the stack', async () => {
    expect((await errorOf(() => parseScript(`Get-Job ${'('.repeat(20000)}`))).code).toBe('NestingTooDeep');
    expect((await errorOf(() => parseScript(`Get-Job ${'@('.repeat(40)}1${')'.repeat(40)}`))).code).toBe('NestingTooDeep');
    expect((await errorOf(() => parseScript(`Get-Job ${'@{a='.repeat(40)}`))).code).toBe('NestingTooDeep');
    expect((await errorOf(() => parseScript(`icm ${'{'.repeat(20000)}${'}'.repeat(20000)}`))).code).toBe('NestingTooDeep');
    expect((await errorOf(() => parseScript(`icm ${'{'.repeat(20000)}`))).code).toBe('NestingTooDeep');
  });

  it('error texts cut long user text, so every error fits in one chat message', async () => {
    const X = 'Q'.repeat(40_000);
    const lines = [
      `Get-Job -State ${X}`,
      `Get-Job -State R${X}`,
      `Get-Job -${X}:`,
      `Remove-Job 3 -ErrorVariable "a ${X}"`,
      `$a = Get-Agent\nGet-Job -Name $a ${X}`,
      `Get-Job $${X}.x`,
      `Get-Job -Name $nope${X}`,
      `icm -cn a -Authentication ${X} {1}`,
      `Get-Job -After ${X}`,
      `New-PSSession web1 -SessionOption @{${X}=1}`,
      `Receive-PSSession 3 -OutTarget ${X}`,
      `$env:${X}`,
      `Get-Job $env:${X}`,
      `icm web1 {1} -wa ${X}`,
      `Remove-Job 3 -ea S${X}`,
      `$${X.slice(0, 20_000)} = 1; Get-Job -Name $${X.slice(0, 20_000)}x`,
      `Get-Job $global:${X}`,
      `Get-Job 1 ${X}`,
      `Get-Job | ${X}`,
      `Get-Job -InstanceId ${X}`,
      `icm web1 {1} -ThrottleLimit ${X}`,
      `Get-Job -Na ${X} -Na b`,
      `Get-Job @${X}`,
    ].map((line) => line.slice(0, MAX_SCRIPT_BYTES));
    for (const line of lines) {
      const e = await errorOf(() => parseAndBind(line, makeContext({ a: ['x'] })));
      expect(e.message.length, `${e.code} for ${line.slice(0, 40)}`).toBeLessThan(1200);
    }
  });

  it('accepts nesting within the limits', () => {
    expect(scriptText(`icm ${'{'.repeat(100)}${'}'.repeat(100)}`).text).toBe(`${'{'.repeat(99)}${'}'.repeat(99)}`);
    expect(parseScript(`Get-Job ${'('.repeat(30)}1${')'.repeat(30)}`).statements).toHaveLength(1);
  });
});
