import { describe, expect, it } from 'vitest';
import { bindPipelineInput, parseAndBind, parseScript, bindStatement, type BoundCall, type PsValue } from '../../src/language/index.js';
import { agentWeb1, bindNth, errorOf, job3, makeContext, session1, type Recorded } from './helpers.js';

async function pipelineCalls(line: string, vars: Record<string, PsValue> = {}): Promise<BoundCall[]> {
  const [statement] = await parseAndBind(line, makeContext(vars));
  return statement?.pipeline ?? [];
}

function second(calls: BoundCall[]): BoundCall {
  const call = calls[1] ?? calls[0];
  if (call === undefined) throw new Error('no call');
  return call;
}

describe('pipelines: calls after the first wait for pipeline input', () => {
  it('Get-Job | Receive-Job: the set is deferred, then a job binds -Job by value', async () => {
    const calls = await pipelineCalls('Get-Job | Receive-Job -Keep');
    expect(calls[0]).toMatchObject({ cmdlet: 'Get-Job', parameterSet: 'SessionIdParameterSet' });
    const receive = second(calls);
    expect(receive).toMatchObject({ cmdlet: 'Receive-Job', parameterSet: '', parameters: { Keep: true } });
    expect(receive.pendingSets).toContain('Location');
    const bound = bindPipelineInput(receive, job3);
    expect(bound).toEqual({
      cmdlet: 'Receive-Job',
      parameterSet: 'Location',
      parameters: { Keep: true, Job: [job3] },
      text: 'Receive-Job -Keep',
    });
    // The call itself is not modified: it is bound again for the next object.
    expect(receive.parameters).toEqual({ Keep: true });
  });

  it('$j | Wait-Job binds -Job (JobParameterSet); the statement carries the input value', async () => {
    const [statement] = await parseAndBind('$j | Wait-Job -Any', makeContext());
    expect(statement).toMatchObject({ input: job3, pipeline: [{ cmdlet: 'Wait-Job', parameterSet: '' }] });
    const call = statement?.pipeline[0] as BoundCall;
    expect(bindPipelineInput(call, job3)).toMatchObject({ parameterSet: 'JobParameterSet', parameters: { Any: true, Job: [job3] } });
  });

  it('Get-PSSession | Remove-PSSession binds -Session by value, not -Id by property', async () => {
    const call = second(await pipelineCalls('Get-PSSession | Remove-PSSession'));
    expect(bindPipelineInput(call, session1)).toMatchObject({ parameterSet: 'Session', parameters: { Session: [session1] } });
  });

  it('Get-PSSession | Disconnect-PSSession / Connect-PSSession / Receive-PSSession take sessions', async () => {
    for (const cmdlet of ['Disconnect-PSSession', 'Connect-PSSession', 'Receive-PSSession']) {
      const call = second(await pipelineCalls(`Get-PSSession | ${cmdlet}`));
      expect(bindPipelineInput(call, session1).parameterSet, cmdlet).toBe('Session');
    }
  });

  it('Get-Job | Stop-Job / Remove-Job take jobs', async () => {
    for (const cmdlet of ['Stop-Job -PassThru', 'Remove-Job -Force']) {
      const call = second(await pipelineCalls(`Get-Job | ${cmdlet}`));
      expect(bindPipelineInput(call, job3)).toMatchObject({ parameterSet: 'JobParameterSet', parameters: { Job: [job3] } });
    }
  });

  it('strings bind New-PSSession -ComputerName by value; agents by property name', async () => {
    const [statement] = await parseAndBind("'web1','web2' | New-PSSession", makeContext());
    expect(statement?.input).toEqual(['web1', 'web2']);
    const call = statement?.pipeline[0] as BoundCall;
    expect(bindPipelineInput(call, 'web1')).toMatchObject({ parameterSet: 'ComputerName', parameters: { ComputerName: ['web1'] } });
    const fromAgents = second(await pipelineCalls('Get-Agent role* | New-PSSession'));
    expect(bindPipelineInput(fromAgents, agentWeb1)).toMatchObject({
      parameterSet: 'ComputerName',
      parameters: { ComputerName: ['web1'] },
    });
  });

  it('an object binds by property name (Id) when nothing takes it by value', async () => {
    const call = second(await pipelineCalls('Get-Job | Get-Job'));
    expect(bindPipelineInput(call, job3)).toMatchObject({ parameterSet: 'SessionIdParameterSet', parameters: { Id: [3] } });
  });

  it('an array input is enumerated: each object binds, array parameters are merged into one call', async () => {
    const job5: PsValue = { kind: 'job', id: 5, display: 'Job5' };
    const receive = second(await pipelineCalls('Get-Job | Receive-Job'));
    expect(bindPipelineInput(receive, [job3, job5])).toMatchObject({ parameterSet: 'Location', parameters: { Job: [job3, job5] } });
    const [statement] = await parseAndBind("'web1','web2' | New-PSSession -Name a,b", makeContext());
    expect(bindPipelineInput(statement?.pipeline[0] as BoundCall, statement?.input ?? null)).toMatchObject({
      parameters: { ComputerName: ['web1', 'web2'], Name: ['a', 'b'] },
    });
    const remove = second(await pipelineCalls('Get-PSSession | Remove-PSSession'));
    const e = await errorOf(() => bindPipelineInput(remove, [session1, job3]));
    expect(e.code).toBe('PipelineInputNotUniform');
    expect((await errorOf(() => bindPipelineInput(remove, []))).code).toBe('InputObjectNotBound');
  });

  it('refuses input that binds to nothing, per object', async () => {
    const call = second(await pipelineCalls('Get-PSSession | Remove-PSSession'));
    const e = await errorOf(() => bindPipelineInput(call, 3));
    expect(e.code).toBe('InputObjectNotBound');
    expect(e.message).toContain('The input object cannot be bound to any parameters for the command');
  });

  it('an object that binds only some parameters leaves a mandatory one missing', async () => {
    const call = second(await pipelineCalls('Get-Agent | Receive-Job'));
    const e = await errorOf(() => bindPipelineInput(call, agentWeb1));
    expect(e).toMatchObject({
      code: 'InputObjectMissingMandatory',
      message:
        'The input object cannot be bound because it did not contain the information required to bind all mandatory parameters:  Job',
    });
  });

  it('refuses pipelines into cmdlets that take no pipeline input, when binding', async () => {
    for (const line of ['Get-Job | New-PSSessionOption', 'Get-Job | Get-Agent', 'Get-Job | Exit-PSSession', '$j | Get-Variable']) {
      expect((await errorOf(() => parseAndBind(line, makeContext()))).code, line).toBe('InputObjectNotBound');
    }
  });

  it('runs BeginProcessing checks before any input arrives (Receive-Job -Force without -Wait)', async () => {
    const e = await errorOf(() => parseAndBind('Get-Job | Receive-Job -Force', makeContext()));
    expect(e).toMatchObject({ code: 'InvalidOperation', message: 'The -Force parameter cannot be used without the -Wait parameter.' });
  });

  it('reports parameter-set conflicts that no input can fix at bind time', async () => {
    expect((await errorOf(() => parseAndBind('Get-Job | Remove-Job -State Completed -Force', makeContext()))).code).toBe(
      'AmbiguousParameterSet',
    );
  });

  it('Invoke-Command with only pipeline input would run in the bot: refused once the set resolves', async () => {
    const call = second(await pipelineCalls('Get-Agent | Invoke-Command -ScriptBlock { $input }'));
    expect((await errorOf(() => bindPipelineInput(call, agentWeb1))).code).toBe('NotSupported');
  });

  it('a pipeline-expected call with a complete command line still resolves later', async () => {
    const call = second(await pipelineCalls('Get-Agent | Invoke-Command -ComputerName web1 -ScriptBlock { $input }'));
    expect(bindPipelineInput(call, agentWeb1)).toMatchObject({ parameterSet: 'ComputerName', parameters: { InputObject: agentWeb1 } });
  });
});

describe('variables and statements', () => {
  it('pure value assignments are visible to later statements of the same message', async () => {
    const statements = await parseAndBind(
      "$targets = 'web1','web2'\n$n = 8; Invoke-Command -ComputerName $Targets -ThrottleLimit $n { uptime }",
      makeContext(),
    );
    expect(statements.map((s) => s.assignTo)).toEqual(['targets', 'n', undefined]);
    expect(statements[0]?.value).toEqual(['web1', 'web2']);
    expect(statements[2]?.pipeline[0]?.parameters).toMatchObject({ ComputerName: ['web1', 'web2'], ThrottleLimit: 8 });
  });

  it("does not modify the caller's variables", async () => {
    const context = makeContext();
    await parseAndBind("$servers = 'db1'", context);
    expect(context.variables.get('servers')).toEqual(['web1', 'web2']);
  });

  it('a statement using a variable assigned by an earlier command cannot be bound in the same pass', async () => {
    const e = await errorOf(() => parseAndBind('$s = New-PSSession web1,web2\nInvoke-Command -Session $s { 1 }', makeContext()));
    expect(e).toMatchObject({ code: 'DependsOnEarlierCommand', target: 's' });
    // Independent statements are fine; bindStatement binds the dependent one once $s exists.
    const ok = await parseAndBind('$s = New-PSSession web1,web2\nGet-Job', makeContext());
    expect(ok[0]).toMatchObject({ assignTo: 's', pipeline: [{ cmdlet: 'New-PSSession' }] });
    const statement = parseScript('$s = New-PSSession web1\nInvoke-Command -Session $s { 1 }').statements[1];
    if (statement === undefined) throw new Error('missing');
    const bound = await bindStatement(statement, makeContext({ s: [session1] }));
    expect(bound.pipeline[0]?.parameterSet).toBe('Session');
  });

  it('a bare expression statement yields its value', async () => {
    expect((await parseAndBind('$servers', makeContext()))[0]).toMatchObject({ value: ['web1', 'web2'], pipeline: [] });
    expect((await parseAndBind('$undefinedThing', makeContext()))[0]).toMatchObject({ value: null });
    expect((await parseAndBind('@{a=1}', makeContext()))[0]?.value).toEqual({ kind: 'hashtable', entries: [{ key: 'a', value: 1 }] });
  });

  it('subexpressions run one of our cmdlets through the runtime', async () => {
    const recorded: Recorded = { calls: [] };
    const [s] = await parseAndBind(
      'Invoke-Command -ComputerName (Get-Agent -Tag role=web) -ScriptBlock { uptime }',
      makeContext({}, recorded),
    );
    expect(recorded.calls).toEqual([
      { cmdlet: 'Get-Agent', parameterSet: '__AllParameterSets', parameters: { Tag: ['role=web'] }, text: 'Get-Agent -Tag role=web' },
    ]);
    expect(s?.pipeline[0]?.parameters['ComputerName']).toEqual(['web1', 'web2']);
    const inArray = await parseAndBind('Invoke-Command -ComputerName @(Get-Agent web*; "db1") { 1 }', makeContext());
    expect(inArray[0]?.pipeline[0]?.parameters['ComputerName']).toEqual(['web1', 'web2', 'db1']);
  });

  it('$( ) subexpressions: one result stays scalar, several make an array', async () => {
    const [a] = await parseAndBind('Get-Job -Name $(Get-Agent web*)', makeContext());
    expect(a?.pipeline[0]?.parameters).toEqual({ Name: ['web1', 'web2'] });
    const [b] = await parseAndBind("Get-Job -Name $('one')", makeContext());
    expect(b?.pipeline[0]?.parameters).toEqual({ Name: ['one'] });
    const [c] = await parseAndBind('$x = $()', makeContext());
    expect(c).toMatchObject({ assignTo: 'x', value: null });
  });

  it("subexpression errors are the inner command's errors", async () => {
    expect((await errorOf(() => parseAndBind('Invoke-Command -cn (Get-Content servers.txt) {1}', makeContext()))).code).toBe(
      'CommandNotFound',
    );
    expect((await errorOf(() => parseAndBind('Invoke-Command -cn (Get-Agent -Bogus) {1}', makeContext()))).code).toBe(
      'NamedParameterNotFound',
    );
    expect((await errorOf(() => parseAndBind('Invoke-Command -cn (Get-Job | Get-Agent) {1}', makeContext()))).code).toBe('NotSupported');
  });

  it('$Using: outside a script block and $env: are refused', async () => {
    expect((await errorOf(() => parseAndBind('Get-Job -Name $Using:x', makeContext()))).code).toBe('UsingWithoutInvokeCommand');
    expect((await errorOf(() => parseAndBind('Get-Job -Name $env:PATH', makeContext()))).code).toBe('NotSupported');
    expect((await bindNth('Get-Job -Name $global:servers', 0)).pipeline[0]?.parameters).toEqual({ Name: ['web1', 'web2'] });
  });

  it('a bare word where a value is expected is a command, as in PowerShell, with a hint to quote it', async () => {
    const list = await errorOf(() => parseAndBind('$targets = web1,web2', makeContext()));
    expect(list).toMatchObject({
      code: 'MissingArgument',
      message: "Missing argument in parameter list. If 'web1' is meant as text, quote the values: 'web1',...",
    });
    const assign = await errorOf(() => parseAndBind('$targets = web1', makeContext()));
    expect(assign.code).toBe('CommandNotFound');
    expect(assign.message).toContain("The term 'web1' is not recognized");
    expect(assign.message).toContain("To use it as text, quote it: 'web1'.");
    const table = await errorOf(() => parseAndBind('Invoke-Command -cn a {1} -SessionOption @{OutputBufferingMode=Drop}', makeContext()));
    expect(table.message).toContain("To use it as text, quote it: 'Drop'.");
    const paren = await errorOf(() => parseAndBind('Invoke-Command -cn (Get-Content x.txt) {1}', makeContext()));
    expect(paren.message).not.toContain('quote it');
  });

  it('a delay-bind script block with pipeline input is refused', async () => {
    const e = await errorOf(() => parseAndBind('Get-Job | Receive-Job -Job { $_ }', makeContext()));
    expect(e).toMatchObject({ code: 'NotSupported', target: 'Job' });
  });

  it('Get-Variable and Remove-Variable are ordinary calls', async () => {
    const [a, b] = await parseAndBind('Get-Variable\nRemove-Variable servers, s', makeContext());
    expect(a?.pipeline[0]).toMatchObject({ cmdlet: 'Get-Variable', parameters: {} });
    expect(b?.pipeline[0]).toMatchObject({ cmdlet: 'Remove-Variable', parameters: { Name: ['servers', 's'] } });
  });
});
