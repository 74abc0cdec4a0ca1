import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubHarness, startAgentProcess, waitFor, type AgentProcess } from '../hub/harness.js';

/**
 * An agent killed after it recorded a run as started (runs.log) but before it saved the run's
 * process or any message: when the hub resends that run after the restart, the agent answers
 * with a Failed state instead of ignoring it (which left the child Running forever). Runs that
 * really ended are still not started, nor answered, again.
 */

describe('a resent run the agent knows but has no trace of', () => {
  const h = new HubHarness();
  const agents: AgentProcess[] = [];
  let stateDir: string;

  beforeAll(async () => {
    await h.start({ heartbeatMs: 1000 });
    stateDir = join(h.dir, 's-gap1');
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    agents.push(
      startAgentProcess(['--hub', h.url, '--name', 'gap1', '--token', token, '--state-dir', stateDir, '--configuration', 'bash']),
    );
    await waitFor(() => h.hub.isConnected('gap1'), 'gap1', 15_000);
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill('SIGKILL')));
    await h.destroy();
  });

  it('is answered Failed after a restart; an ended run resent is still ignored', async () => {
    // A run that really completes (its final state acknowledged, its spool gone).
    const done = await h.run('gap1', { script: 'echo done' });
    expect(done.final.state).toBe('Completed');

    // Crash in the gap: runs.log has the id, nothing else does.
    await agents[0]!.kill('SIGKILL');
    await waitFor(() => !h.hub.isConnected('gap1'), 'gap1 to go');
    const runId = `gap-${Date.now()}`;
    appendFileSync(join(stateDir, 'runs.log'), JSON.stringify(runId) + '\n');
    agents.push(startAgentProcess(['--hub', h.url, '--name', 'gap1', '--state-dir', stateDir]));
    await waitFor(() => h.hub.isConnected('gap1'), 'gap1 to reconnect', 15_000);

    h.hub.send('gap1', {
      op: 'run',
      runId,
      configurationName: 'bash',
      script: 'echo must-not-run',
      arguments: [],
      using: {},
      maxRuntimeMs: 0,
    });
    const final = await waitFor(() => h.final(runId), 'a final state for the resent run', 10_000);
    expect(final).toMatchObject({ state: 'Failed', reason: 'The agent gap1 restarted while the command was running' });
    expect(h.text(runId, 'output')).toBe('');

    // The completed run, resent after the restart: not run again, and no second final state.
    const before = h.messages(done.runId).length;
    h.hub.send('gap1', {
      op: 'run',
      runId: done.runId,
      configurationName: 'bash',
      script: 'echo again',
      arguments: [],
      using: {},
      maxRuntimeMs: 0,
    });
    // The failed one resent too: answered once only.
    h.hub.send('gap1', { op: 'run', runId, configurationName: 'bash', script: 'echo again', arguments: [], using: {}, maxRuntimeMs: 0 });
    await new Promise((r) => setTimeout(r, 400));
    expect(h.messages(done.runId).length).toBe(before);
    expect(h.messages(runId).filter((m) => m.op === 'state')).toHaveLength(1);
    expect(h.text(done.runId, 'output')).toBe('done\n');
  });
});

describe('a stop for a run the agent never received', () => {
  const h = new HubHarness();
  let agent: AgentProcess;

  beforeAll(async () => {
    await h.start({ heartbeatMs: 1000 });
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    agent = startAgentProcess([
      '--hub',
      h.url,
      '--name',
      'lost1',
      '--token',
      token,
      '--state-dir',
      join(h.dir, 's-lost1'),
      '--configuration',
      'bash',
    ]);
    await waitFor(() => h.hub.isConnected('lost1'), 'lost1', 15_000);
  });

  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await h.destroy();
  });

  it('is answered Stopped, and the run arriving late is never started', async () => {
    const runId = `late-${Date.now()}`;
    h.hub.send('lost1', { op: 'stop', runId });
    const final = await waitFor(() => h.final(runId), 'a final state for the stopped run', 10_000);
    expect(final).toMatchObject({ state: 'Stopped', reason: 'The command was stopped before it started on lost1.' });
    // The `run` lost with the old connection, resent after it: the stopped command never starts.
    h.hub.send('lost1', {
      op: 'run',
      runId,
      configurationName: 'bash',
      script: 'echo must-not-run',
      arguments: [],
      using: {},
      maxRuntimeMs: 0,
    });
    // A run the agent does start, after it: once it has finished, the late one had its chance.
    const after = await h.run('lost1', { script: 'echo later' });
    expect(after.final.state).toBe('Completed');
    expect(h.text(runId, 'output')).toBe('');
    expect(h.messages(runId).filter((m) => m.op === 'state')).toHaveLength(1);
  });
});
