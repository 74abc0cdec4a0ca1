import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { createProcessExecutor, type RunResult } from '../../agent/executors.js';
import { HubHarness, waitFor } from '../hub/harness.js';

function runDirect(script: string, options: { killGraceMs: number; stopAfterMs?: number; maxRuntimeMs?: number }) {
  const exec = createProcessExecutor({ killGraceMs: options.killGraceMs });
  const out: string[] = [];
  return new Promise<{ result: RunResult; out: string; ms: number }>((resolve) => {
    const t0 = Date.now();
    const running = exec(
      { runId: 'r', configuration: 'bash', kind: 'bash', script, arguments: [], using: {}, maxRuntimeMs: options.maxRuntimeMs ?? 0 },
      {
        output: (_s, d) => out.push(d),
        finish: (result) => resolve({ result, out: out.join(''), ms: Date.now() - t0 }),
      },
    );
    if (options.stopAfterMs !== undefined) setTimeout(() => running.stop(), options.stopAfterMs);
  });
}

describe('process executor', () => {
  it('escalates to SIGKILL when the process group ignores SIGTERM', async () => {
    const r = await runDirect(`trap '' TERM; echo ready; sleep 30 & wait; sleep 30`, { killGraceMs: 200, stopAfterMs: 300 });
    expect(r.result).toEqual({ state: 'Stopped', reason: 'The command was stopped' });
    expect(r.out).toBe('ready\n');
    expect(r.ms).toBeLessThan(3000);
  });

  it('reports a missing interpreter as a failed run', async () => {
    const exec = createProcessExecutor({ env: { PATH: '/nonexistent' } });
    const result = await new Promise<RunResult>((resolve) => {
      exec(
        { runId: 'r', configuration: 'bash', kind: 'bash', script: 'echo', arguments: [], using: {}, maxRuntimeMs: 0 },
        { output: () => {}, finish: resolve },
      );
    });
    expect(result.state).toBe('Failed');
    expect(result.reason).toMatch(/^Could not start bash: /);
  });

  it('an ArgumentList value with a NUL byte fails the run instead of being cut short', async () => {
    const exec = createProcessExecutor();
    const result = await new Promise<RunResult>((resolve) => {
      exec(
        { runId: 'r', configuration: 'bash', kind: 'bash', script: 'echo "$1"', arguments: ['a\0b'], using: {}, maxRuntimeMs: 0 },
        { output: () => {}, finish: resolve },
      );
    });
    expect(result.state).toBe('Failed');
    expect(result.reason).toMatch(/^Could not start bash/);
  });
});

describe('agent shutdown', () => {
  const h = new HubHarness();
  afterAll(() => h.destroy());

  it('stopping the agent stops its runs and reports them Stopped', async () => {
    await h.start();
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const a = new Agent({ hubUrl: h.url, name: 'inproc1', token, stateDir: null, configurations: [{ name: 'bash', kind: 'bash' }] });
    a.start();
    await a.waitConnected();
    const runId = 'shutdown-1';
    h.hub.send('inproc1', {
      op: 'run',
      runId,
      configurationName: 'bash',
      script: 'echo up; sleep 30',
      arguments: [],
      using: {},
      maxRuntimeMs: 0,
    });
    await waitFor(() => h.text(runId, 'output') === 'up\n', 'run started');
    await a.stop();
    const final = await waitFor(() => h.final(runId), 'Stopped state');
    expect(final).toMatchObject({ state: 'Stopped' });
    await waitFor(() => !h.hub.isConnected('inproc1'), 'agent gone');
  });
});
