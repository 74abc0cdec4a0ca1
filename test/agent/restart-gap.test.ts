import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubHarness, startAgentProcess, waitFor, type AgentProcess } from '../hub/harness';

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
    agents.push(startAgentProcess(['--hub', h.url, '--name', 'gap1', '--token', token, '--state-dir', stateDir, '--configuration', 'bash']));
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

    h.hub.send('gap1', { op: 'run', runId, configurationName: 'bash', script: 'echo must-not-run', arguments: [], using: {}, maxRuntimeMs: 0 });
    const final = await waitFor(() => h.final(runId), 'a final state for the resent run', 10_000);
    expect(final).toMatchObject({ state: 'Failed', reason: 'The agent gap1 restarted while the command was running' });
    expect(h.text(runId, 'output')).toBe('');

    // The completed run, resent after the restart: not run again, and no second final state.
    const before = h.messages(done.runId).length;
    h.hub.send('gap1', { op: 'run', runId: done.runId, configurationName: 'bash', script: 'echo again', arguments: [], using: {}, maxRuntimeMs: 0 });
    // The failed one resent too: answered once only.
    h.hub.send('gap1', { op: 'run', runId, configurationName: 'bash', script: 'echo again', arguments: [], using: {}, maxRuntimeMs: 0 });
    await new Promise((r) => setTimeout(r, 400));
    expect(h.messages(done.runId).length).toBe(before);
    expect(h.messages(runId).filter((m) => m.op === 'state')).toHaveLength(1);
    expect(h.text(done.runId, 'output')).toBe('done\n');
  });
});
