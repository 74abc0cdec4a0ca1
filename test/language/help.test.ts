import { describe, expect, it } from 'vitest';
import { cmdletNames, findCommands, renderHelp, renderParameterHelp, renderSyntax, resolveCmdletName } from '../../src/language/index.js';
import { CMDLETS } from '../../src/language/cmdlets/index.js';
import { errorOf } from './helpers.js';

describe('Get-Command -Syntax lines come from the binder definitions', () => {
  it('Get-Job: one line per parameter set, default set first, PowerShell notation', () => {
    expect(renderSyntax('gjb').split('\n\n')).toEqual([
      'Get-Job [[-Id] <int[]>] [-IncludeChildJob] [-ChildJobState <JobState>] [-HasMoreData <bool>] [-Before <datetime>] [-After <datetime>] [-Newest <int>] [<CommonParameters>]',
      'Get-Job [-InstanceId] <guid[]> [-IncludeChildJob] [-ChildJobState <JobState>] [-HasMoreData <bool>] [-Before <datetime>] [-After <datetime>] [-Newest <int>] [<CommonParameters>]',
      'Get-Job [-Name] <string[]> [-IncludeChildJob] [-ChildJobState <JobState>] [-HasMoreData <bool>] [-Before <datetime>] [-After <datetime>] [-Newest <int>] [<CommonParameters>]',
      'Get-Job [-State] <JobState> [-IncludeChildJob] [-ChildJobState <JobState>] [-HasMoreData <bool>] [-Before <datetime>] [-After <datetime>] [-Newest <int>] [<CommonParameters>]',
      'Get-Job [-IncludeChildJob] [-ChildJobState <JobState>] [-HasMoreData <bool>] [-Before <datetime>] [-After <datetime>] [-Newest <int>] [-Command <string[]>] [<CommonParameters>]',
      'Get-Job [-Filter] <hashtable> [<CommonParameters>]',
    ]);
  });

  it('shows ShouldProcess parameters, mandatory named and positional parameters', () => {
    const removeJob = renderSyntax('Remove-Job').split('\n\n');
    expect(removeJob[0]).toBe('Remove-Job [-Id] <int[]> [-Force] [-WhatIf] [-Confirm] [<CommonParameters>]');
    expect(removeJob).toContain('Remove-Job [-State] <JobState> [-WhatIf] [-Confirm] [<CommonParameters>]');
    const receive = renderSyntax('Receive-Job').split('\n\n');
    expect(receive[0]).toBe(
      'Receive-Job [-Job] <Job[]> [[-Location] <string[]>] [-Keep] [-NoRecurse] [-Force] [-Wait] [-AutoRemoveJob] [-WriteEvents] [-WriteJobInResults] [<CommonParameters>]',
    );
    expect(renderSyntax('New-PSSession')).toContain('New-PSSession -UseWindowsPowerShell [-Name <string[]>] [<CommonParameters>]');
    expect(renderSyntax('Exit-PSSession')).toBe('Exit-PSSession [<CommonParameters>]');
  });

  it('has one syntax line per parameter set for every cmdlet', () => {
    for (const definition of CMDLETS) {
      expect(renderSyntax(definition.name).split('\n\n'), definition.name).toHaveLength(definition.sets.length);
    }
  });

  /** Parameter names of the PowerShell 4.0 syntax lines in the seed document (PS 7 adds RemoteDebug). */
  const seedSyntax: Record<string, string> = {
    InProcess: 'ScriptBlock ArgumentList InputObject NoNewScope',
    ComputerName:
      'ComputerName ScriptBlock ApplicationName ArgumentList AsJob Authentication CertificateThumbprint ConfigurationName Credential EnableNetworkAccess HideComputerName InDisconnectedSession InputObject JobName Port SessionName SessionOption ThrottleLimit UseSSL',
    FilePathComputerName:
      'ComputerName FilePath ApplicationName ArgumentList AsJob Authentication ConfigurationName Credential EnableNetworkAccess HideComputerName InDisconnectedSession InputObject JobName Port SessionName SessionOption ThrottleLimit UseSSL',
    FilePathRunspace: 'Session FilePath ArgumentList AsJob HideComputerName InputObject JobName ThrottleLimit',
    FilePathUri:
      'ConnectionUri FilePath AllowRedirection ArgumentList AsJob Authentication ConfigurationName Credential EnableNetworkAccess HideComputerName InDisconnectedSession InputObject JobName SessionOption ThrottleLimit',
    Session: 'Session ScriptBlock ArgumentList AsJob HideComputerName InputObject JobName ThrottleLimit',
    Uri: 'ConnectionUri ScriptBlock AllowRedirection ArgumentList AsJob Authentication CertificateThumbprint ConfigurationName Credential EnableNetworkAccess HideComputerName InDisconnectedSession InputObject JobName SessionOption ThrottleLimit',
  };

  it("Invoke-Command sets hold the parameters of the seed document (plus PowerShell 7's -RemoteDebug)", () => {
    const lines = renderSyntax('Invoke-Command').split('\n\n');
    const definition = CMDLETS.find((c) => c.name === 'Invoke-Command');
    const order = definition?.sets ?? [];
    for (const [set, names] of Object.entries(seedSyntax)) {
      const line = lines[order.indexOf(set)] ?? '';
      const ours = [...line.matchAll(/-([A-Za-z]+)/g)].map((m) => m[1]).filter((n) => n !== 'RemoteDebug' && n !== 'Command');
      expect(new Set(ours), set).toEqual(new Set(names.split(' ')));
    }
    expect(lines[0]).toBe(
      'Invoke-Command [-ScriptBlock] <scriptblock> [-NoNewScope] [-InputObject <psobject>] [-ArgumentList <Object[]>] [<CommonParameters>]',
    );
  });

  it('wildcards give the syntax of every matching cmdlet; no match gives nothing', () => {
    const jobs = renderSyntax('*-Job');
    for (const name of ['Get-Job', 'Receive-Job', 'Wait-Job', 'Stop-Job', 'Remove-Job', 'Start-Job']) expect(jobs).toContain(`${name} [`);
    expect(jobs).not.toContain('Invoke-Command');
    expect(renderSyntax('*').split('\n\n').length).toBe(CMDLETS.reduce((n, c) => n + c.sets.length, 0));
    expect(renderSyntax('Nothing-*')).toBe('');
    expect(renderSyntax('icm?')).toBe('');
    expect(renderSyntax('ic?')).toBe(renderSyntax('Invoke-Command'));
  });

  it('unknown names get CommandNotFound with a suggestion', async () => {
    const e = await errorOf(() => renderSyntax('Get-Jbo'));
    expect(e.code).toBe('CommandNotFound');
    expect(e.message).toContain('Did you mean Get-Job?');
  });
});

describe('Get-Help', () => {
  it('has name, synopsis, the same syntax lines, aliases and every parameter with its metadata', () => {
    const help = renderHelp('icm');
    expect(help).toMatch(/^NAME\n {4}Invoke-Command\n\nSYNOPSIS\n/);
    for (const line of renderSyntax('Invoke-Command').split('\n\n')) expect(help).toContain(`    ${line}`);
    expect(help).toContain('ALIASES\n    icm');
    const definition = CMDLETS.find((c) => c.name === 'Invoke-Command');
    for (const p of definition?.parameters ?? []) expect(help).toContain(`    -${p.name}`);
    expect(help).toContain('Aliases                      Cn');
    expect(help).toContain(
      'Position?                    1 (ComputerName, Session, Uri, VMId, VMName, ContainerId, SSHHost, SSHHostHashParam); 0 (InProcess)',
    );
    expect(help).toContain('Supported here?              No: targets are registered agents');
    expect(help).toContain('Parameter set InProcess: it would run the command inside the bot itself');
    expect(help).toContain('Not supported -OutVariable: assign the command to a channel variable instead');
  });

  it.each(CMDLETS.map((c) => [c.name, c] as const))('%s: help holds its syntax lines, aliases and every parameter', (name, definition) => {
    const help = renderHelp(name);
    expect(help.startsWith(`NAME\n    ${name}\n`)).toBe(true);
    const syntax = renderSyntax(name).split('\n\n');
    expect(syntax).toHaveLength(definition.sets.length);
    for (const line of syntax) expect(help).toContain(`    ${line}`);
    for (const p of definition.parameters) expect(help).toContain(`    -${p.name}`);
    for (const alias of definition.aliases ?? []) expect(renderHelp(alias)).toBe(help);
  });

  it('shows accepted enum values and validation ranges', () => {
    const help = renderHelp('New-PSSessionOption');
    expect(help).toContain('one of None, Drop, Block');
    expect(help).toContain('range -1..2147483647');
  });

  it('a wildcard matching several cmdlets lists them; matching one shows its help', async () => {
    const list = renderHelp('*-PSSession');
    expect(list.split('\n')[0]).toMatch(/^Name +Category +Synopsis$/);
    expect(list).toContain('Enter-PSSession       Cmdlet    ');
    expect(renderHelp('Get-Ag*')).toBe(renderHelp('Get-Agent'));
    expect((await errorOf(() => renderHelp('Zzz*'))).code).toBe('HelpNotFound');
  });

  it('a long unknown name is cut in the error, as in every other error text', async () => {
    const name = `Get-${'x'.repeat(5000)}`;
    const help = await errorOf(() => renderHelp(name));
    expect(help.message).toBe(
      `Get-Help could not find Get-${'x'.repeat(196)}… in a help file in this session. Run Get-Command to list the commands.`,
    );
    const syntax = await errorOf(() => renderSyntax(name));
    expect(syntax.message).toContain(`The term 'Get-${'x'.repeat(196)}…' is not recognized`);
    expect(syntax.message.length).toBeLessThan(500);
  });

  it('-Parameter shows only the matching parameters (wildcards, common ones too), as in Get-Help', async () => {
    const one = renderParameterHelp('icm', ['ComputerName']);
    expect(one.startsWith('    -ComputerName <string[]>\n')).toBe(true);
    expect(one).toContain('Aliases                      Cn');
    expect(one).not.toContain('-ScriptBlock');
    expect(renderHelp('icm')).toContain(one);
    const several = renderParameterHelp('Receive-Job', ['*Job*', 'Keep', 'wait', 'ErrorAction']);
    expect([...several.matchAll(/^ {4}-(\w+)/gm)].map((m) => m[1])).toEqual([
      'Job',
      'AutoRemoveJob',
      'WriteJobInResults',
      'Keep',
      'Wait',
      'ErrorAction',
    ]);
    const e = await errorOf(() => renderParameterHelp('Get-Job', ['Nope*']));
    expect(e).toMatchObject({ code: 'NoParmsFound', message: 'No parameter matches criteria Nope*.' });
    expect((await errorOf(() => renderParameterHelp('Get-Jbo', ['Id']))).code).toBe('HelpNotFound');
  });

  it('unknown names get HelpNotFound', async () => {
    const e = await errorOf(() => renderHelp('Get-Foo'));
    expect(e.code).toBe('HelpNotFound');
    expect(e.message).toContain('Get-Help could not find Get-Foo in a help file in this session.');
  });
});

describe('command names', () => {
  it('lists every cmdlet by canonical name (registry order; other areas append theirs)', () => {
    expect(cmdletNames()).toEqual(CMDLETS.map((c) => c.name));
    expect(cmdletNames().slice(0, 21)).toEqual([
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
      'Get-Agent',
      'Get-Variable',
      'Remove-Variable',
      'Get-Help',
      'Get-Command',
    ]);
  });

  it.each([
    ['icm', 'Invoke-Command'],
    ['NSN', 'New-PSSession'],
    ['gsn', 'Get-PSSession'],
    ['rsn', 'Remove-PSSession'],
    ['etsn', 'Enter-PSSession'],
    ['exsn', 'Exit-PSSession'],
    ['dnsn', 'Disconnect-PSSession'],
    ['cnsn', 'Connect-PSSession'],
    ['rcsn', 'Receive-PSSession'],
    ['gjb', 'Get-Job'],
    ['rcjb', 'Receive-Job'],
    ['wjb', 'Wait-Job'],
    ['spjb', 'Stop-Job'],
    ['rjb', 'Remove-Job'],
    ['invoke-command', 'Invoke-Command'],
    ['GET-AGENT', 'Get-Agent'],
  ])('%s resolves to %s', (alias, name) => {
    expect(resolveCmdletName(alias)).toBe(name);
  });

  it('never prefix-matches command names', () => {
    expect(resolveCmdletName('Invoke-Comm')).toBeUndefined();
    expect(resolveCmdletName('gj')).toBeUndefined();
  });
});

describe('Get-Help views and Get-Command selection', () => {
  it('default leaves out parameters, -Detailed adds descriptions, -Full adds their attributes', () => {
    const brief = renderHelp('Wait-Job', 'default');
    const detailed = renderHelp('Wait-Job', 'detailed');
    const full = renderHelp('Wait-Job', 'full');
    expect(brief).not.toContain('PARAMETERS');
    expect(detailed).toContain('PARAMETERS\n    -Job <Job[]>\n');
    expect(detailed).toContain('-Timeout <int>');
    expect(detailed).not.toContain('Required?');
    expect(full).toContain('Required?');
    for (const view of [brief, detailed, full]) expect(view).toContain(renderSyntax('Wait-Job').split('\n\n')[0]);
    expect(renderHelp('Wait-Job')).toBe(full);
  });

  it('selects by name (wildcards, aliases), verb and noun, sorted by name; an unknown plain name is an error', async () => {
    expect(findCommands({ names: ['gjb', 'icm'] }).map((c) => c.name)).toEqual(['Get-Job', 'Invoke-Command']);
    expect(findCommands({ verbs: ['Re*'], nouns: ['*Job'] }).map((c) => c.name)).toEqual(['Receive-Job', 'Remove-Job']);
    expect(findCommands({ names: ['Zzz*'] })).toEqual([]);
    expect(findCommands({}).map((c) => c.name)).toEqual([...cmdletNames()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    expect((await errorOf(() => findCommands({ names: ['Get-Jbo'] }))).code).toBe('CommandNotFound');
  });
});
