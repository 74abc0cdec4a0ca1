import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PWSH_WRAPPER } from '../../agent/executors.js';
import { HubHarness, startAgentProcess, waitFor, type AgentProcess } from '../hub/harness.js';

/**
 * Real agent processes running real shells, driven through a real hub.
 */
describe('agent executors', () => {
  const h = new HubHarness();
  const agents: AgentProcess[] = [];
  let pwshRecord: string;
  let runbooks: string;

  beforeAll(async () => {
    await h.start({ heartbeatMs: 1000 });
    // Plain agent offering bash and sh.
    const t1 = h.registry.createToken({ ttlMs: 60_000, uses: 3 });
    agents.push(
      startAgentProcess([
        '--hub',
        h.url,
        '--name',
        'shell1',
        '--token',
        t1,
        '--state-dir',
        join(h.dir, 's-shell1'),
        '--configuration',
        'bash',
        '--configuration',
        'sh',
        '--configuration',
        'ops=bash',
        '--restrict-to-runbooks',
        'ops',
        '--runbooks-dir',
        (runbooks = join(h.dir, 'runbooks')),
      ]),
    );
    mkdirSync(runbooks, { recursive: true });
    writeFileSync(join(runbooks, 'restart.sh'), 'echo "agent copy of restart: $1"\n');

    // Agent with a stand-in pwsh first on PATH: records argv and stdin, answers with JSON lines.
    const bin = join(h.dir, 'bin');
    mkdirSync(bin, { recursive: true });
    pwshRecord = join(h.dir, 'pwsh-record.json');
    writeFileSync(
      join(bin, 'pwsh'),
      `#!/usr/bin/env node
const fs = require('fs');
const stdin = fs.readFileSync(0, 'utf8');
fs.writeFileSync(${JSON.stringify(pwshRecord)}, JSON.stringify({ argv: process.argv.slice(2), stdin }));
const run = JSON.parse(stdin);
// Answer as the wrapper would: one compressed JSON object per output object.
process.stdout.write(JSON.stringify({ Name: 'svc1', Status: 'Running', Args: run.arguments }) + '\\n');
process.stdout.write(JSON.stringify({ Name: 'svc2', Status: 'Stopped', Using: run.using }) + '\\n');
process.stderr.write('a non-terminating error\\n');
`,
    );
    chmodSync(join(bin, 'pwsh'), 0o755);
    agents.push(
      startAgentProcess(['--hub', h.url, '--name', 'win1', '--token', t1, '--state-dir', join(h.dir, 's-win1')], {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
      }),
    );
    await waitFor(() => h.hub.isConnected('shell1') && h.hub.isConnected('win1'), 'agents to connect', 20_000);
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill('SIGKILL')));
    await h.destroy();
  });

  it('passes ArgumentList to bash as data: spaces, quotes, $(...) and backticks arrive literally', async () => {
    const tricky = ['two words', `it's "quoted"`, '$(touch /tmp/chatops-pwned)', '`id`', '; rm -rf /', '', 42, true, null, { a: 1 }];
    const r = await h.run('shell1', {
      configurationName: 'bash',
      script: 'echo "argc=$#"; echo "zero=$0"; for a in "$@"; do printf "[%s]\\n" "$a"; done',
      arguments: tricky,
    });
    expect(r.final).toMatchObject({ state: 'Completed', exitCode: 0 });
    expect(r.stdout).toBe(
      [
        'argc=10',
        'zero=chatops',
        '[two words]',
        `[it's "quoted"]`,
        '[$(touch /tmp/chatops-pwned)]',
        '[`id`]',
        '[; rm -rf /]',
        '[]',
        '[42]',
        '[true]',
        '[]',
        '[{"a":1}]',
        '',
      ].join('\n'),
    );
    expect(() => readFileSync('/tmp/chatops-pwned')).toThrow();
  });

  it('passes $Using: values to bash and sh as USING_ environment variables', async () => {
    for (const shell of ['bash', 'sh']) {
      const r = await h.run('shell1', {
        configurationName: shell,
        script: 'printf "%s|%s\\n" "$USING_SERVICE" "$USING_MAX_COUNT"',
        using: { service: 'nginx $(id)', 'max-count': 3 },
      });
      expect(r.final.state).toBe('Completed');
      expect(r.stdout).toBe('nginx $(id)|3\n');
    }
  });

  it('sends stderr as the error stream and fails a non-zero exit with its code', async () => {
    const r = await h.run('shell1', { configurationName: 'bash', script: 'echo out; echo "bad thing" >&2; exit 7' });
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('bad thing\n');
    expect(r.final).toMatchObject({ state: 'Failed', exitCode: 7, reason: 'The command exited with code 7' });
    const seqs = h.messages(r.runId).map((m) => m.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(h.messages(r.runId)[0]).toMatchObject({ op: 'state', state: 'Running', seq: 1 });
  });

  it('stop kills the whole process tree', async () => {
    const pidFile = join(h.dir, 'tree-pids');
    const runId = `stop-${Date.now()}`;
    expect(
      h.hub.send('shell1', {
        op: 'run',
        runId,
        configurationName: 'bash',
        // a child and a grandchild that ignore nothing special; both must die with the group
        script: `sleep 300 & echo $! >> ${pidFile}; bash -c 'sleep 300 & echo $! >> ${pidFile}; wait' & wait`,
        arguments: [],
        using: {},
        maxRuntimeMs: 0,
      }),
    ).toBe(true);
    await waitFor(() => {
      try {
        return readFileSync(pidFile, 'utf8').trim().split('\n').length === 2;
      } catch {
        return false;
      }
    }, 'both sleeps to start');
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    h.hub.send('shell1', { op: 'stop', runId });
    const final = await waitFor(() => h.final(runId), 'stopped');
    expect(final).toMatchObject({ state: 'Stopped', reason: 'The command was stopped' });
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('stops a run that exceeds its maximum runtime', async () => {
    const t0 = Date.now();
    const r = await h.run('shell1', { configurationName: 'bash', script: 'echo started; sleep 30', maxRuntimeMs: 300 });
    expect(r.final.state).toBe('Failed');
    expect(r.final.reason).toMatch(/maximum runtime of 300 ms/);
    expect(r.stdout).toBe('started\n');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('fails a configuration the agent does not offer with a clear reason', async () => {
    const r = await h.run('shell1', { configurationName: 'Microsoft.PowerShell', script: 'Get-Date' });
    expect(r.final).toMatchObject({
      state: 'Failed',
      reason: "The agent shell1 has no session configuration 'Microsoft.PowerShell'; it offers: bash, sh, ops",
    });
  });

  it('does not start a run twice when the hub resends it', async () => {
    const marker = join(h.dir, 'once');
    const run = {
      op: 'run' as const,
      runId: `dup-${Date.now()}`,
      configurationName: 'bash',
      script: `echo x >> ${marker}`,
      arguments: [],
      using: {},
      maxRuntimeMs: 0,
    };
    h.hub.send('shell1', run);
    h.hub.send('shell1', run);
    await waitFor(() => h.final(run.runId), 'dup final');
    await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(marker, 'utf8')).toBe('x\n');
  });

  it('a configuration restricted to runbooks refuses scripts and runs its own copy of the runbook', async () => {
    const plain = await h.run('shell1', { configurationName: 'ops', script: 'echo hi' });
    expect(plain.final.state).toBe('Failed');
    expect(plain.final.reason).toMatch(/runs only runbooks/);
    const rb = await h.run('shell1', { configurationName: 'ops', script: 'echo hub copy', runbook: 'restart.sh', arguments: ['web'] });
    expect(rb.final.state).toBe('Completed');
    expect(rb.stdout).toBe('agent copy of restart: web\n');
    for (const bad of ['../etc/passwd', 'sub/x.sh', '..']) {
      const r = await h.run('shell1', { configurationName: 'ops', script: '', runbook: bad });
      expect(r.final.state).toBe('Failed');
      expect(r.final.reason).toMatch(/not allowed/);
    }
  });

  it('runs Microsoft.PowerShell as pwsh -NoLogo -NoProfile -NonInteractive with a fixed wrapper and the run as data on stdin', async () => {
    const rec = h.registry.get('win1')!;
    expect(rec.defaultConfiguration).toBe('Microsoft.PowerShell');
    expect(rec.configurations).toEqual(['Microsoft.PowerShell', 'bash', 'sh']);
    const script = 'param($Name, $Count) Get-Service $Name | Select-Object -First $Count; $Using:Limit';
    const args = ['svc "x"; $(Remove-Item /)', 3];
    const r = await h.run('win1', { configurationName: '', script, arguments: args, using: { limit: 'a`b' } });
    expect(r.final).toMatchObject({ state: 'Completed', exitCode: 0 });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { Name: 'svc1', Status: 'Running', Args: args },
      { Name: 'svc2', Status: 'Stopped', Using: { limit: 'a`b' } },
    ]);
    expect(r.stderr).toBe('a non-terminating error\n');

    const recorded = JSON.parse(readFileSync(pwshRecord, 'utf8')) as { argv: string[]; stdin: string };
    expect(recorded.argv.slice(0, 4)).toEqual(['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand']);
    expect(recorded.argv).toHaveLength(5);
    // The command line is the fixed wrapper: nothing of the run is in it.
    expect(Buffer.from(recorded.argv[4]!, 'base64').toString('utf16le')).toBe(PWSH_WRAPPER);
    expect(recorded.argv.join(' ')).not.toContain('Get-Service');
    expect(JSON.parse(recorded.stdin)).toEqual({ script, arguments: args, using: { limit: 'a`b' } });
  });

  it('the pwsh wrapper binds ArgumentList by splatting and emits one JSON line per object', () => {
    // A structural check of the fixed wrapper (pwsh itself is not installed here).
    expect(PWSH_WRAPPER).toContain('& $__sb @__argv');
    expect(PWSH_WRAPPER).toContain('ConvertTo-Json -InputObject $_ -Compress -Depth 4');
    expect(PWSH_WRAPPER).toContain('[Console]::In.ReadToEnd()');
    expect(PWSH_WRAPPER).not.toMatch(/Invoke-Expression|iex /);
  });
});

function alive(pid: number): boolean {
  // A killed child not yet reaped by its (also killed) parent is a zombie: count that as dead.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
