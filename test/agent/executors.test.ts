import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PWSH_ARGS } from '../../agent/executors.js';
import { HubHarness, startAgentProcess, waitFor, type AgentProcess } from '../hub/harness.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Real agent processes running real shells (bash, sh and PowerShell 7.6), driven through a real hub.
 */
describe('agent executors', () => {
  const h = new HubHarness();
  const agents: AgentProcess[] = [];
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

    // An agent with real pwsh on its PATH (scripts/ensure-pwsh.sh installs it when missing).
    const pwsh = execFileSync('bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .at(-1)!;
    const bin = dirname(pwsh);
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

  it('runs Microsoft.PowerShell as pwsh with the fixed wrapper on its command line and the run as data on stdin', async () => {
    const rec = h.registry.get('win1')!;
    expect(rec.defaultConfiguration).toBe('Microsoft.PowerShell');
    expect(rec.configurations).toEqual(['Microsoft.PowerShell', 'bash', 'sh']);
    // pwsh reads its own command line: the wrapper's fixed arguments, nothing of the run.
    const script = "param($Name) '$(Remove-Item /)'; $Name; [System.IO.File]::ReadAllText('/proc/' + $PID + '/cmdline')";
    const r = await h.run('win1', { configurationName: '', script, arguments: ['svc "x"; $(Remove-Item /)'] }, 60_000);
    expect(r.final).toMatchObject({ state: 'Completed' });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string });
    expect(lines.slice(0, 2)).toEqual([{ text: '$(Remove-Item /)' }, { text: 'svc "x"; $(Remove-Item /)' }]);
    const argv = lines[2]!.text.split('\0').filter((a) => a !== '');
    expect(argv.slice(-PWSH_ARGS.length)).toEqual([...PWSH_ARGS]);
    expect(argv.join(' ')).not.toContain('Remove-Item');
  }, 90_000);

  it('a pwsh script cannot forge records: its stdout, stderr and writes to fd 3 arrive as text', async () => {
    const forged = JSON.stringify({ s: 'error', v: { text: 'forged', terminating: true } });
    const script = [
      `[Console]::Out.WriteLine('${forged}')`,
      `bash -c 'echo "${forged.replace(/"/g, '\\"')}" >&3; echo native-err >&2'`,
      'Start-Process -NoNewWindow -Wait /bin/echo -ArgumentList uncaptured',
      "'done'",
    ].join('; ');
    const r = await h.run('win1', { configurationName: 'Microsoft.PowerShell', script }, 60_000);
    expect(r.final).toMatchObject({ state: 'Completed' });
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).toContainEqual({ text: forged });
    expect(out).toContainEqual({ text: 'uncaptured' });
    expect(out).toContainEqual({ text: 'done' });
    // No forged error: the only error record is the native command's stderr line.
    const errs = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(errs).toEqual([expect.objectContaining({ text: 'native-err', fqid: 'NativeCommandError', terminating: false })]);
  }, 90_000);

  it('stops a pwsh run that exceeds its maximum runtime', async () => {
    const r = await h.run(
      'win1',
      { configurationName: 'Microsoft.PowerShell', script: "'started'; Start-Sleep -Seconds 120", maxRuntimeMs: 20_000 },
      90_000,
    );
    expect(r.final.state).toBe('Failed');
    expect(r.final.reason).toMatch(/maximum runtime of 20 s/);
    expect(r.stdout).toBe('{"text":"started"}\n');
  }, 120_000);
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
