import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import type { Invoker } from '../../src/core/ports.js';
import { ConsoleSink } from '../../adapters/console/console-sink.js';
import { HELP_EXAMPLES } from '../../src/language/help-examples/index.js';

/**
 * Get-Help -Examples (the seed document's 16 Invoke-Command examples), bare Get-Help's overview,
 * `help`, and Clear-Host (`cls`, `clear`), through the real core: in the console printed, in a
 * chat channel answered to the asker privately.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime();
});

afterAll(async () => {
  await rt?.stop();
});

const run = (text: string, user?: Invoker) => rt.run(text, user ? { user } : {});
const chatUser: Invoker = { platform: 'slack', userId: 'U1', displayName: 'ann' };

describe('Get-Help', () => {
  it('Get-Help Invoke-Command -Examples shows the 16 examples of the reference, each with what works here', async () => {
    const shown = await run('Get-Help Invoke-Command -Examples');
    expect(shown.ok).toBe(true);
    const text = shown.sink.posts().join('\n');
    expect(text).toMatch(/^NAME\n {4}Invoke-Command\n\nSYNOPSIS\n/);
    for (let n = 1; n <= 16; n++) expect(text).toContain(`-------------------------- EXAMPLE ${n} --------------------------`);
    expect(text).not.toContain('EXAMPLE 17');
    // PowerShell's own text, verbatim from the reference.
    expect(text).toContain('    PS C:\\> Invoke-Command -FilePath c:\\scripts\\test.ps1 -ComputerName Server01');
    expect(text).toContain('    This command runs the Test.ps1 script on the Server01 computer.');
    expect(text).toContain(
      '    PS C:\\> Invoke-Command -ComputerName (Get-Content Servers.txt) -InDisconnectedSession -FilePath \\\\Scripts\\Public\\ConfigInventory.ps1',
    );
    // Each example says what of it works with this bot; refused parts are marked.
    expect(text.match(/^ {4}(Works here|Partly here|Not here)[:,] /gm)).toHaveLength(16);
    expect(text).toContain('    Not here: -Credential');
    // The alias and a wildcard name reach the same examples; the help data holds them once.
    expect((await run('help icm -Examples')).sink.posts().join('\n')).toBe(text);
    expect(HELP_EXAMPLES['Invoke-Command']).toHaveLength(16);
  });

  it('marks the parameter sets refused here under their syntax lines, and the cmdlets refused here', async () => {
    const help = (await run('Get-Help Invoke-Command')).sink.posts().join('\n');
    const sets = help
      .slice(help.indexOf('SYNTAX'), help.indexOf('ALIASES'))
      .split('\n\n')
      .filter((s) => s.trim() !== '');
    const marked = (first: string) => sets.find((s) => s.includes(`Invoke-Command ${first}`))!;
    expect(marked('[[-ComputerName] <string[]>] [-ScriptBlock]')).not.toContain('Not here');
    expect(marked('[[-ComputerName] <string[]>] [-FilePath]')).not.toContain('Not here');
    expect(marked('[[-Session] <PSSession[]>] [-ScriptBlock]')).not.toContain('Not here');
    expect(marked('[[-ConnectionUri] <uri[]>] [-ScriptBlock]')).toContain('        Not here: -ConnectionUri: agents dial in to the hub');
    expect(marked('[-ScriptBlock] <scriptblock> -HostName')).toContain('        Not here: -HostName: targets are registered agents');
    expect(marked('[-ScriptBlock] <scriptblock> [-NoNewScope]')).toContain(
      '        Not here: it would run the command inside the bot itself',
    );
    // 17 sets in PowerShell, 4 usable here (-ComputerName and -Session, each with a script block or -FilePath).
    expect(sets.filter((s) => !s.includes('Not here'))).toHaveLength(4);
    const session = (await run('Get-Help Receive-PSSession')).sink.posts().join('\n');
    expect(session).not.toContain('NOT SUPPORTED HERE');
  });

  it('a cmdlet without examples says so', async () => {
    const shown = await run('Get-Help Get-Job -Examples');
    expect(shown.sink.posts().join('\n')).toContain('No examples for Get-Job yet.');
  });

  it('bare Get-Help (and help) gives an overview: the commands by group, what is refused, how to get more help', async () => {
    const shown = await run('Get-Help');
    expect(shown.ok).toBe(true);
    const text = shown.sink.posts().join('\n');
    expect(text).toContain('RUN COMMANDS ON COMPUTERS (THEIR AGENTS)');
    expect(text).toMatch(/ {4}Invoke-Command \(icm\) +Runs commands on registered agents/);
    expect(text).toContain('BACKGROUND JOBS (INVOKE-COMMAND -ASJOB)');
    expect(text).toMatch(/ {4}Clear-Host \(cls, clear\) +Clears the console screen/);
    expect(text).toContain('SESSIONS (INVOKE-COMMAND -SESSION)');
    expect(text).toMatch(/NOT AVAILABLE HERE\n {4}Start-Job/);
    expect(text).toContain('Get-Help NAME -Examples');
    expect((await run('help')).sink.posts().join('\n')).toBe(text);
  });

  it('in a chat channel, help goes privately to the one who asked (one private answer, nothing in the channel)', async () => {
    for (const line of ['Get-Help Invoke-Command -Examples', 'Get-Help', 'help icm -Full', 'Get-Command', 'Get-Command icm -Syntax']) {
      const shown = await run(line, chatUser);
      expect(shown.ok).toBe(true);
      expect(shown.sink.posts()).toEqual([]);
      expect(shown.sink.events.map((e) => e.type)).toEqual(['reply']);
    }
  });
});

describe('Clear-Host (cls, clear)', () => {
  it('clears a terminal as pwsh does (cursor home, screen, scrollback)', async () => {
    let written = '';
    const sink = new ConsoleSink({ write: (t) => (written += t), writeError: (t) => (written += t), tty: true });
    for (const line of ['cls', 'clear', 'Clear-Host']) {
      written = '';
      const outcome = await rt.core.handle(
        { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text: line, source: 'command' },
        sink,
      );
      expect(outcome.ok).toBe(true);
      expect(written).toBe('\x1b[H\x1b[2J\x1b[3J');
    }
    // Piped (not a terminal): nothing is written.
    let piped = '';
    const plain = new ConsoleSink({ write: (t) => (piped += t), writeError: (t) => (piped += t), tty: false });
    await rt.core.handle(
      { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'tester' }, text: 'cls', source: 'command' },
      plain,
    );
    expect(piped).toBe('');
  });

  it('in a chat channel answers privately that a channel is not cleared', async () => {
    const shown = await run('cls', chatUser);
    expect(shown.ok).toBe(true);
    expect(shown.sink.posts()).toEqual([]);
    expect(shown.sink.replies()).toEqual([
      'Clear-Host: a chat channel cannot be cleared (messages stay for everyone); nothing was deleted.',
    ]);
  });
});
