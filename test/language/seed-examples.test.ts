import { describe, expect, it } from 'vitest';
import { bindPipelineInput, parseAndBind, parseScript } from '../../src/language/index.js';
import { bindNth, errorOf, job3, makeContext, session1 } from './helpers.js';

/**
 * The 16 examples of the Invoke-Command document (shared/seeds/004_*), rewritten for chat:
 * local script paths become runbook names (`-FilePath test.ps1`), `(Get-Content Servers.txt)`
 * becomes the channel variable `$servers`. Where the original line uses something this bot
 * refuses (credentials, URIs, session configurations) the original is checked for the refusal
 * and the chat form for the binding.
 */
const AMBIGUOUS_SET =
  'Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.';

describe('Invoke-Command seed examples, rewritten for chat', () => {
  it('1: runs a runbook script on one computer', async () => {
    const [s] = await parseAndBind('Invoke-Command -FilePath test.ps1 -ComputerName Server01', makeContext());
    expect(s?.pipeline[0]).toMatchObject({
      cmdlet: 'Invoke-Command',
      parameterSet: 'FilePathComputerName',
      parameters: { FilePath: 'test.ps1', ComputerName: ['Server01'] },
    });
  });

  it('2: -Credential is refused (agents authenticate themselves); without it the command binds', async () => {
    const e = await errorOf(() =>
      parseAndBind('Invoke-Command -ComputerName server01 -Credential domain01\\user01 -ScriptBlock {Get-Culture}', makeContext()),
    );
    expect(e).toMatchObject({ code: 'NotSupported', target: 'Credential' });
    expect(e.message).toBe(
      '-Credential is not supported: agents authenticate with their enrolment secret; the channel permissions decide who may run what',
    );
    const [s] = await parseAndBind('Invoke-Command -ComputerName server01 -ScriptBlock {Get-Culture}', makeContext());
    expect(s?.pipeline[0]?.parameters).toEqual({
      ComputerName: ['server01'],
      ScriptBlock: { kind: 'scriptblock', text: 'Get-Culture', usings: [] },
    });
  });

  it('3: a session in $s, then Invoke-Command -Session $s', async () => {
    const text = '$s = New-PSSession -ComputerName Server02\nInvoke-Command -Session $s -ScriptBlock {Get-Culture}';
    const first = await bindNth(text, 0);
    expect(first).toMatchObject({ assignTo: 's', pipeline: [{ cmdlet: 'New-PSSession', parameterSet: 'ComputerName' }] });
    // The second line depends on the first one's result: parseAndBind says so, bindStatement binds it later.
    expect((await errorOf(() => parseAndBind(text, makeContext()))).code).toBe('DependsOnEarlierCommand');
    const second = await bindNth(text, 1, makeContext({ s: session1 }));
    expect(second.pipeline[0]).toMatchObject({ parameterSet: 'Session', parameters: { Session: [session1] } });
    const original = await errorOf(() => bindNth('$s = New-PSSession -ComputerName Server02 -Credential Domain01\\User01', 0));
    expect(original.code).toBe('NotSupported');
  });

  it('4: -ComputerName vs -Session, script text kept as typed', async () => {
    const text = [
      'Invoke-Command -ComputerName Server02 -ScriptBlock {$p = Get-Process PowerShell}',
      'Invoke-Command -ComputerName Server02 -ScriptBlock {$p.VirtualMemorySize}',
      '$s = New-PSSession -ComputerName Server02',
      'Invoke-Command -Session $s -ScriptBlock {$p = Get-Process PowerShell}',
      'Invoke-Command -Session $s -ScriptBlock {$p.VirtualMemorySize}',
    ].join('\n');
    const statements = parseScript(text).statements;
    expect(statements).toHaveLength(5);
    const bound = [];
    for (let i = 0; i < 5; i++) bound.push(await bindNth(text, i));
    expect(bound.map((b) => b.pipeline[0]?.parameterSet)).toEqual(['ComputerName', 'ComputerName', 'ComputerName', 'Session', 'Session']);
    expect(bound[0]?.pipeline[0]?.parameters['ScriptBlock']).toEqual({
      kind: 'scriptblock',
      text: '$p = Get-Process PowerShell',
      usings: [],
    });
    expect(bound[1]?.pipeline[0]?.parameters['ScriptBlock']).toEqual({ kind: 'scriptblock', text: '$p.VirtualMemorySize', usings: [] });
  });

  it('5: a script block stored in a variable', async () => {
    const text =
      '$command = { Get-EventLog -log "Windows PowerShell" | where {$_.Message -like "*certificate*"} }\nInvoke-Command -ComputerName S1, S2 -ScriptBlock $command';
    const [assign, run] = await parseAndBind(text, makeContext());
    const block = {
      kind: 'scriptblock',
      text: ' Get-EventLog -log "Windows PowerShell" | where {$_.Message -like "*certificate*"} ',
      usings: [],
    };
    expect(assign).toMatchObject({ assignTo: 'command', value: block, pipeline: [] });
    expect(run?.pipeline[0]).toMatchObject({
      parameterSet: 'ComputerName',
      parameters: { ComputerName: ['S1', 'S2'], ScriptBlock: block },
    });
  });

  it("6: several computers and a session configuration (the agent's executor)", async () => {
    const [s] = await parseAndBind(
      'Invoke-Command -ComputerName Server01, Server02, TST-0143, localhost -ConfigurationName MySession.PowerShell -ScriptBlock {Get-EventLog "Windows PowerShell"}',
      makeContext(),
    );
    expect(s?.pipeline[0]).toMatchObject({
      parameterSet: 'ComputerName',
      parameters: { ComputerName: ['Server01', 'Server02', 'TST-0143', 'localhost'], ConfigurationName: 'MySession.PowerShell' },
    });
  });

  it('7: computers from a channel variable, result assigned', async () => {
    const [s] = await parseAndBind('$version = Invoke-Command -ComputerName $servers -ScriptBlock {(Get-Host).Version}', makeContext());
    expect(s).toMatchObject({
      assignTo: 'version',
      pipeline: [{ parameters: { ComputerName: ['web1', 'web2'], ScriptBlock: { text: '(Get-Host).Version' } } }],
    });
    const e = await errorOf(() =>
      parseAndBind('$version = Invoke-Command -ComputerName (Get-Content Machines.txt) -ScriptBlock {(Get-Host).Version}', makeContext()),
    );
    expect(e.code).toBe('CommandNotFound');
    expect(e.message).toContain("The term 'Get-Content' is not recognized");
  });

  it('8: sessions, -AsJob, $j = Get-Job, $j | Receive-Job', async () => {
    const text = [
      '$s = New-PSSession -ComputerName Server01, Server02',
      'Invoke-Command -Session $s -ScriptBlock {Get-EventLog system} -AsJob',
      '$j = Get-Job',
      '$j | Format-List -Property *',
      '$results = $j | Receive-Job',
    ].join('\n');
    const context = makeContext({ s: [session1, { kind: 'session', id: 2, display: '[PSSession]Runspace2' }], j: job3 });
    expect((await bindNth(text, 1, context)).pipeline[0]).toMatchObject({ parameterSet: 'Session', parameters: { AsJob: true } });
    expect(await bindNth(text, 2, context)).toMatchObject({
      assignTo: 'j',
      pipeline: [{ cmdlet: 'Get-Job', parameterSet: 'SessionIdParameterSet' }],
    });
    expect((await errorOf(() => bindNth(text, 3, context))).code).toBe('CommandNotFound');
    const receive = await bindNth(text, 4, context);
    expect(receive).toMatchObject({ assignTo: 'results', input: job3, pipeline: [{ cmdlet: 'Receive-Job', parameterSet: '' }] });
    const call = receive.pipeline[0];
    if (call === undefined) throw new Error('no call');
    expect(bindPipelineInput(call, job3)).toMatchObject({ parameterSet: 'Location', parameters: { Job: [job3] } });
  });

  it('9: $Using: a channel variable', async () => {
    const text =
      '$MWFO_Log = "Microsoft-Windows-Forwarding/Operational"\nInvoke-Command -ComputerName Server01 -ScriptBlock {Get-EventLog -LogName $Using:MWFO_Log -Newest 10}';
    const [assign, run] = await parseAndBind(text, makeContext());
    expect(assign).toMatchObject({ assignTo: 'mwfo_log', value: 'Microsoft-Windows-Forwarding/Operational' });
    expect(run?.pipeline[0]?.parameters['ScriptBlock']).toEqual({
      kind: 'scriptblock',
      text: 'Get-EventLog -LogName $Using:MWFO_Log -Newest 10',
      usings: ['mwfo_log'],
    });
  });

  it('10: -HideComputerName', async () => {
    const [a, b] = await parseAndBind(
      'Invoke-Command -ComputerName S1, S2 -ScriptBlock {Get-Process PowerShell}\nInvoke-Command -ComputerName S1, S2 -ScriptBlock {Get-Process PowerShell} -HideComputerName',
      makeContext(),
    );
    expect(a?.pipeline[0]?.parameters['HideComputerName']).toBeUndefined();
    expect(b?.pipeline[0]?.parameters['HideComputerName']).toBe(true);
  });

  it('11: a runbook on the computers in $servers with -ArgumentList', async () => {
    const [s] = await parseAndBind(
      'Invoke-Command -ComputerName $servers -FilePath Sample.ps1 -ArgumentList Process, Service',
      makeContext(),
    );
    expect(s?.pipeline[0]).toMatchObject({
      parameterSet: 'FilePathComputerName',
      parameters: { ComputerName: ['web1', 'web2'], FilePath: 'Sample.ps1', ArgumentList: ['Process', 'Service'] },
    });
  });

  it('12: -ConnectionUri/-Credential/-Authentication are refused (first in binding order); Get-Credential does not exist here', async () => {
    expect((await errorOf(() => bindNth('$LiveCred = Get-Credential', 0))).code).toBe('CommandNotFound');
    const e = await errorOf(() =>
      parseAndBind(
        'Invoke-Command -ConfigurationName Microsoft.Exchange -ConnectionUri https://ps.exchangelabs.com/PowerShell -Credential $LiveCred -Authentication Basic -ScriptBlock {Set-Mailbox Dan -DisplayName "Dan Park"}',
        makeContext(),
      ),
    );
    expect(e).toMatchObject({ code: 'NotSupported', target: 'ConnectionUri' });
    const uri = await errorOf(() =>
      parseAndBind('Invoke-Command -ConnectionUri https://ps.exchangelabs.com/PowerShell -ScriptBlock {Get-Mailbox dan}', makeContext()),
    );
    expect(uri.message).toBe(
      '-ConnectionUri is not supported: agents dial in to the hub; there is no WinRM endpoint, port or URL to address',
    );
  });

  it('13: -MaximumRedirection and -AllowRedirection are refused', async () => {
    const option = await errorOf(() => bindNth('$max = New-PSSessionOption -MaximumRedirection 1', 0));
    expect(option).toMatchObject({ code: 'NotSupported', target: 'MaximumRedirection' });
    const e = await errorOf(() =>
      parseAndBind(
        'Invoke-Command -ConnectionUri https://ps.exchangelabs.com/PowerShell -ScriptBlock {Get-Mailbox dan} -AllowRedirection -SessionOption $max',
        makeContext(),
      ),
    );
    expect(e).toMatchObject({ code: 'NotSupported', target: 'ConnectionUri' });
    // -AllowRedirection binds (set Uri) and is refused in its turn when -ConnectionUri is not the first refusal.
    const allow = await errorOf(() =>
      parseAndBind('Invoke-Command -AllowRedirection -ConnectionUri https://ps.exchangelabs.com/PowerShell {1}', makeContext()),
    );
    expect(allow).toMatchObject({ code: 'NotSupported', target: 'AllowRedirection' });
  });

  it('14: -SessionOption with -Session is a parameter-set conflict, as in PowerShell', async () => {
    expect((await errorOf(() => bindNth('$so = New-PSSessionOption -SkipCACheck', 0))).code).toBe('NotSupported');
    const e = await errorOf(() =>
      parseAndBind('Invoke-Command -Session $s -ScriptBlock { Get-Hotfix } -SessionOption $so -Credential server01\\user01', makeContext()),
    );
    expect(e).toMatchObject({
      code: 'AmbiguousParameterSet',
      message: `${AMBIGUOUS_SET} (-SessionOption cannot be used together with -Session.)`,
    });
    const so = { kind: 'sessionoption' as const, id: 'so', display: 'so', options: { OperationTimeout: 60000 } };
    const [ok] = await parseAndBind(
      'Invoke-Command -ComputerName $servers -ScriptBlock { Get-Hotfix } -SessionOption $so',
      makeContext({ so }),
    );
    expect(ok?.pipeline[0]?.parameters['SessionOption']).toEqual(so);
  });

  it('15: other cmdlets are unknown; -Authentication does not combine with -Session', async () => {
    const text = [
      'Enable-WSManCredSSP -Delegate Server02',
      'Connect-WSMan Server02',
      'Set-Item WSMan:\\Server02*\\Service\\Auth\\CredSSP -Value $true',
      '$s = New-PSSession Server02',
      'Invoke-Command -Session $s -ScriptBlock {Get-Item \\\\Net03\\Scripts\\LogFiles.ps1} -Authentication CredSSP -Credential Domain01\\Admin01',
    ].join('\n');
    for (const i of [0, 1, 2]) expect((await errorOf(() => bindNth(text, i))).code).toBe('CommandNotFound');
    expect((await bindNth(text, 3)).pipeline[0]).toMatchObject({
      parameterSet: 'ComputerName',
      parameters: { ComputerName: ['Server02'] },
    });
    expect(await errorOf(() => bindNth(text, 4))).toMatchObject({
      code: 'AmbiguousParameterSet',
      message: `${AMBIGUOUS_SET} (-Authentication cannot be used together with -Session.)`,
      target: 'Authentication',
    });
    const chat = await bindNth('Invoke-Command -Session $s -ScriptBlock {Get-Item \\\\Net03\\Scripts\\LogFiles.ps1}', 0);
    expect(chat.pipeline[0]?.parameters['ScriptBlock']).toMatchObject({ text: 'Get-Item \\\\Net03\\Scripts\\LogFiles.ps1' });
  });

  it('16: a runbook in disconnected sessions with a hashtable session option', async () => {
    const [s] = await parseAndBind(
      'Invoke-Command -ComputerName $servers -InDisconnectedSession -FilePath ConfigInventory.ps1 -SessionOption @{OutputBufferingMode="Drop";IdleTimeout=43200000}',
      makeContext(),
    );
    expect(s?.pipeline[0]).toMatchObject({
      parameterSet: 'FilePathComputerName',
      parameters: {
        ComputerName: ['web1', 'web2'],
        InDisconnectedSession: true,
        FilePath: 'ConfigInventory.ps1',
        SessionOption: { kind: 'sessionoption', options: { OutputBufferingMode: 'Drop', IdleTimeout: 43200000 } },
      },
    });
  });
});
