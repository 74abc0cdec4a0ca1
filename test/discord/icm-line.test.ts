import { describe, expect, it } from 'vitest';
import { commandToLine } from '../../adapters/discord/commands.js';
import { checkScriptBlock, icmOptionsToLine, psQuote, splitList, unwrapScriptBlock } from '../../adapters/discord/icm-line.js';
import { parseScript } from '../../src/language/index.js';

describe('psQuote', () => {
  it('doubles every single-quote character, typographic ones included', () => {
    expect(psQuote("it's")).toBe("'it''s'");
    expect(psQuote('a\u2019b')).toBe("'a\u2019\u2019b'");
    expect(psQuote('$(rm -rf /) `n "x"')).toBe('\'$(rm -rf /) `n "x"\'');
  });
});

describe('splitList', () => {
  it('splits on commas outside quotes and keeps quoted items literal', () => {
    expect(splitList('web1, web2 ,web3', 'computername')).toEqual(['web1', 'web2', 'web3']);
    expect(splitList(`'a, b', "c ""d""", e`, 'argumentlist')).toEqual(['a, b', 'c "d"', 'e']);
    expect(splitList(`'it''s'`, 'argumentlist')).toEqual(["it's"]);
  });

  it('refuses empty items, trailing commas and unterminated quotes with the option named', () => {
    expect(() => splitList('a,,b', 'computername')).toThrow(/computername option has an empty item/);
    expect(() => splitList('a,', 'computername')).toThrow(/ends with a comma/);
    expect(() => splitList("'a", 'argumentlist')).toThrow(/unterminated ' quote/);
    expect(() => splitList("'a' b", 'argumentlist')).toThrow(/text after a quoted item/);
  });
});

describe('checkScriptBlock', () => {
  it('accepts balanced blocks, braces hidden in strings, comments and here-strings', () => {
    for (const ok of [
      'uptime',
      'if ($x) { 1 } else { 2 }',
      "echo '}'",
      'echo "}"',
      'echo `}',
      '# }\nuptime',
      '<# } #> uptime',
      "@'\n}\n'@",
      'f() { echo hi; }; f',
    ]) {
      expect(() => checkScriptBlock(ok), ok).not.toThrow();
    }
  });

  it('refuses text that would close the block and start another statement', () => {
    expect(() => checkScriptBlock('uptime }; Stop-Job 1; {')).toThrow(/a } closes a brace that was never opened/);
    expect(() => checkScriptBlock('uptime {')).toThrow(/a \{ is never closed/);
    expect(() => checkScriptBlock("echo 'x")).toThrow(/single-quoted string is not closed/);
  });

  it('refuses text whose braces only look balanced: a # inside a word is not a comment', () => {
    // PowerShell starts a comment with # only at the start of a token: in `a#b }` the brace is live
    // and would close the block, making `Stop-Job -Id 5` a statement of its own.
    for (const sneaky of ['echo a#b }; Stop-Job -Id 5; {', 'echo a#{\nx }; Get-Job; {\necho b#}\n', 'x } -ArgumentList {']) {
      expect(() => icmOptionsToLine({ computername: 'web1', scriptblock: sneaky }), sneaky).toThrow(/not one script block/);
    }
  });

  it('every script block it accepts is exactly one script block argument of one statement', () => {
    for (const sb of [
      'uptime',
      'if ($x) { 1 } else { 2 }',
      "echo '}'",
      'echo "}"',
      'echo `}',
      '# }\nuptime',
      '<# } #> uptime',
      "@'\n}\n'@",
      'f() { echo hi; }; f',
      'echo a#b',
      'uptime # load',
    ]) {
      const line = icmOptionsToLine({ computername: 'web1', scriptblock: sb });
      const [statement, ...rest] = parseScript(line).statements;
      expect(rest, sb).toEqual([]);
      expect(statement!.commands, sb).toHaveLength(1);
      const els = statement!.commands[0]!.elements;
      const at = els.findIndex((e) => e.kind === 'parameter' && e.name === 'ScriptBlock');
      const arg = els[at + 1];
      expect(
        arg?.kind === 'argument' &&
          arg.value.kind === 'literal' &&
          typeof arg.value.value === 'object' &&
          arg.value.value !== null &&
          'text' in arg.value.value
          ? String(arg.value.value.text).trim()
          : undefined,
        sb,
      ).toBe(sb.trim());
    }
  });

  it('notices a trailing line comment', () => {
    expect(checkScriptBlock('uptime # why').endsInLineComment).toBe(true);
    expect(checkScriptBlock('uptime # why\nw').endsInLineComment).toBe(false);
  });
});

describe('unwrapScriptBlock: one balanced outer pair of braces typed out of habit', () => {
  it('takes off one pair, so `{ echo x }` builds the same line as `echo x`', () => {
    const line = (scriptblock: string) => icmOptionsToLine({ computername: 'web1', scriptblock });
    for (const typed of ['{ echo x }', '{echo x}', '  {  echo x  }  ', '{\n  echo x\n}']) {
      expect(line(typed), JSON.stringify(typed)).toBe(line('echo x'));
    }
    expect(line('{ echo x }')).toBe("Invoke-Command -ComputerName 'web1' -ScriptBlock { echo x }");
    expect(unwrapScriptBlock('{ f() { echo "}"; }; f }')).toBe('f() { echo "}"; }; f');
    // One pair only: a block inside a block stays a block.
    expect(unwrapScriptBlock('{ { echo x } }')).toBe('{ echo x }');
    // A trailing comment inside still gets its closing brace on a line of its own.
    expect(line('{ uptime # load\n}')).toBe("Invoke-Command -ComputerName 'web1' -ScriptBlock { uptime # load\n}");
  });

  it('leaves braces that are not one outer pair', () => {
    for (const keep of ['{ a }; { b }', 'echo { x }', '{ a } | b', "{ echo '}", '{ echo x `}', '{ echo x # }']) {
      expect(unwrapScriptBlock(keep), keep).toBe(keep);
    }
    // ...and the check that follows judges them as before.
    expect(icmOptionsToLine({ computername: 'web1', scriptblock: '{ a }; { b }' })).toBe(
      "Invoke-Command -ComputerName 'web1' -ScriptBlock { { a }; { b } }",
    );
    expect(() => icmOptionsToLine({ computername: 'web1', scriptblock: "{ echo '}" })).toThrow(/single-quoted string is not closed/);
  });
});

describe('/icm → /ps line', () => {
  it('writes every option as the named parameter, values as single-quoted literals', () => {
    expect(
      icmOptionsToLine({
        computername: 'web1, web2',
        scriptblock: 'uptime',
        asjob: true,
        jobname: "nightly's",
        hidecomputername: true,
        throttlelimit: 8,
        configurationname: 'bash',
        argumentlist: `'a b', $(whoami)`,
      }),
    ).toBe(
      "Invoke-Command -ComputerName 'web1','web2' -ScriptBlock { uptime } -ConfigurationName 'bash' -ThrottleLimit 8" +
        " -AsJob -JobName 'nightly''s' -HideComputerName -ArgumentList 'a b','$(whoami)'",
    );
  });

  it('passes a lone $variable for computername, and FilePath as a literal', () => {
    expect(icmOptionsToLine({ computername: '$servers', filepath: 'restart.ps1' })).toBe(
      "Invoke-Command -ComputerName $servers -FilePath 'restart.ps1'",
    );
    expect(icmOptionsToLine({ computername: '$servers; Stop-Job 1' })).toBe("Invoke-Command -ComputerName '$servers; Stop-Job 1'");
  });

  it('leaves false switches out and moves the closing brace after a trailing comment', () => {
    expect(icmOptionsToLine({ computername: 'web1', scriptblock: 'uptime # load', asjob: false })).toBe(
      "Invoke-Command -ComputerName 'web1' -ScriptBlock { uptime # load\n}",
    );
  });

  it('maps /ps, /icm and /job through commandToLine', () => {
    expect(commandToLine('ps', null, { line: 'Get-Job' })).toBe('Get-Job');
    expect(() => commandToLine('ps', null, { line: '  ' })).toThrow(/line option is empty/);
    expect(commandToLine('icm', null, { computername: 'web1', scriptblock: 'id' })).toBe(
      "Invoke-Command -ComputerName 'web1' -ScriptBlock { id }",
    );
    expect(commandToLine('job', 'receive', { id: 7, keep: true })).toBe('Receive-Job -Id 7 -Keep');
    expect(commandToLine('job', 'stop', { id: 3 })).toBe('Stop-Job -Id 3');
    expect(commandToLine('job', 'get', {})).toBe('Get-Job');
    expect(() => commandToLine('job', 'explode', { id: 1 })).toThrow(/Unknown \/job subcommand/);
  });
});
