import { describe, expect, it } from 'vitest';
import { commonPrefix, completionContext, consoleCompleter } from '../../adapters/console/completion.js';
import { KeyDecoder } from '../../adapters/console/keys.js';
import type { Core, Invoker } from '../../src/core/ports.js';

/** What Tab completes where, and how terminal input decodes into keys. */

const user: Invoker = { platform: 'console', userId: 'console', displayName: 'me' };
const asked: Array<{ kind: string; prefix: string }> = [];
const core = {
  complete: async (_channel: string, _user: Invoker, kind: 'computer' | 'job', prefix: string) => {
    asked.push({ kind, prefix });
    return kind === 'computer' ? ['web1', 'web2', 'localhost'].filter((n) => n.startsWith(prefix)) : ['3', '7'];
  },
} as unknown as Core;
const complete = consoleCompleter(core, 'console', user);

async function candidates(text: string): Promise<string[] | undefined> {
  return (await complete(text, text.length))?.candidates;
}

describe('Tab completion', () => {
  it('completes cmdlet names and aliases in command position', async () => {
    expect(await candidates('Invoke-Comm')).toEqual(['Invoke-Command']);
    expect(await candidates('Get-Job; Receive-J')).toEqual(['Receive-Job']);
    expect(await candidates('Get-Job | Stop-')).toEqual(['Stop-Job']);
    expect(await candidates('$r = (Get-Ag')).toEqual(['Get-Agent']);
    expect(await candidates('ic')).toContain('icm');
  });

  it('completes the parameters of the cmdlet being typed, by its alias too', async () => {
    expect(await candidates('Invoke-Command -Comp')).toEqual(['-ComputerName']);
    expect(await candidates('icm -Comp')).toEqual(['-ComputerName']);
    expect(await candidates('Get-Job -Sta')).toEqual(['-State']);
    expect(await candidates('Get-Job -Id 3 | Receive-Job -Ke')).toEqual(['-Keep']);
  });

  it('completes computer names after -ComputerName (and its alias, a comma list, the first position)', async () => {
    asked.length = 0;
    expect(await candidates('icm -ComputerName we')).toEqual(['web1', 'web2']);
    expect(await candidates('icm -cn web1,we')).toEqual(['web1', 'web2']);
    expect(await candidates('icm loc')).toEqual(['localhost']);
    expect(await candidates('icm -ComputerName:lo')).toEqual(['localhost']);
    expect(asked.every((a) => a.kind === 'computer')).toBe(true);
    expect(await candidates('Stop-Job ')).toEqual(['3', '7']);
    expect(await candidates('Receive-Job -Id ')).toEqual(['3', '7']);
  });

  it('offers nothing inside a script block or a string (the remote script is not ours)', async () => {
    expect(completionContext('icm localhost { Get-J', 21)).toBeUndefined();
    expect(completionContext("Get-Job -Name 'Get-J", 20)).toBeUndefined();
    expect(await candidates('icm localhost { echo } -AsJ')).toEqual(['-AsJob']);
  });

  it('shares the longest common prefix, case-insensitively', () => {
    expect(commonPrefix(['Get-Job', 'get-jobx', 'Get-JobY'])).toBe('Get-Job');
    expect(commonPrefix(['web1', 'web2'])).toBe('web');
  });
});

describe('KeyDecoder', () => {
  it('decodes text, Enter, Tab, Ctrl keys and escape sequences, also when a read cuts one', () => {
    const d = new KeyDecoder();
    expect(d.decode('ab\r\t\x03\x04\x7f')).toEqual([
      { name: 'text', text: 'ab' },
      { name: 'enter' },
      { name: 'tab' },
      { name: 'interrupt' },
      { name: 'eof' },
      { name: 'backspace' },
    ]);
    expect(d.decode('\x1b[A\x1bOB\x1b[3~\x1b[1;5D\x1b[200~x\x1b[201~')).toEqual([
      { name: 'up' },
      { name: 'down' },
      { name: 'delete' },
      { name: 'word-left' },
      { name: 'paste-start' },
      { name: 'text', text: 'x' },
      { name: 'paste-end' },
    ]);
    expect(d.decode('a\x1b[')).toEqual([{ name: 'text', text: 'a' }]);
    expect(d.decode('Cb')).toEqual([{ name: 'right' }, { name: 'text', text: 'b' }]);
    // Unknown sequences and other controls never reach the command line.
    expect(d.decode('\x1b[99Zq\x1b]\x07')).toEqual([{ name: 'text', text: 'q' }]);
    expect(d.decode('é漢\r\n')).toEqual([{ name: 'text', text: 'é漢' }, { name: 'enter' }]);
  });
});
