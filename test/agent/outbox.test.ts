import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HubHarness, startAgentProcess, waitFor, type AgentProcess } from '../hub/harness.js';

function spoolText(stateDir: string): string {
  const dir = join(stateDir, 'outbox');
  try {
    return readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
  } catch {
    return '';
  }
}

describe('agent outbox', () => {
  const agents: AgentProcess[] = [];
  const hubs: HubHarness[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill('SIGKILL')));
    for (const h of hubs) await h.stop();
    await hubs[0]?.destroy();
  });

  it('resends unacknowledged output exactly once to a hub restarted on the same port', async () => {
    const h1 = new HubHarness();
    hubs.push(h1);
    await h1.start({ heartbeatMs: 1000 });
    const stateDir = join(h1.dir, 's-out1');
    const token = h1.registry.createToken({ ttlMs: 60_000, uses: 1 });
    agents.push(
      startAgentProcess(['--hub', h1.url, '--name', 'out1', '--token', token, '--state-dir', stateDir, '--configuration', 'bash']),
    );
    await waitFor(() => h1.hub.isConnected('out1'), 'out1', 15_000);

    // Hub 1's store hangs from seq 3 on: nothing from there is acknowledged.
    h1.beforeStore = (_agent, m) => (m.seq >= 3 ? new Promise<void>(() => {}) : undefined);
    const runId = `outbox-${Date.now()}`;
    h1.hub.send('out1', {
      op: 'run',
      runId,
      configurationName: 'bash',
      script: 'echo one; sleep 0.2; echo two; sleep 0.2; echo three; sleep 0.2; echo four',
      arguments: [],
      using: {},
      maxRuntimeMs: 0,
    });
    // The run ends on the agent while the hub is stuck; everything is in the spool.
    await waitFor(() => spoolText(stateDir).includes('"state":"Completed"'), 'run to finish on the agent');
    expect([...h1.stored.keys()].sort()).toEqual([`${runId}#1`, `${runId}#2`]);

    await h1.stop();
    const h2 = new HubHarness(h1.dir);
    hubs.push(h2);
    await h2.start({ port: h1.port, heartbeatMs: 1000 });
    const final = await waitFor(() => h2.final(runId), 'final state at the restarted hub', 15_000);
    expect(final.state).toBe('Completed');

    const seqs1 = h1.messages(runId).map((m) => m.seq);
    const seqs2 = h2.messages(runId).map((m) => m.seq);
    expect(seqs1).toEqual([1, 2]);
    expect(seqs2[0]).toBe(3);
    expect(seqs2).toEqual(seqs2.map((_, i) => i + 3));
    expect(final.seq).toBe(seqs2[seqs2.length - 1]);
    // Exactly once: acknowledged messages are not resent, unacknowledged ones arrive once.
    for (const [key, n] of h2.deliveries) if (key.startsWith(runId)) expect(n, key).toBe(1);
    expect(h2.deliveries.has(`${runId}#1`)).toBe(false);
    expect(h2.deliveries.has(`${runId}#2`)).toBe(false);
    const text = [...h1.messages(runId), ...h2.messages(runId)].map((m) => (m.op === 'output' ? m.data : '')).join('');
    expect(text).toBe('one\ntwo\nthree\nfour\n');
    // Once the final state is acknowledged the spool is gone.
    await waitFor(() => spoolText(stateDir) === '', 'spool cleared');
  });

  it('an agent restarted mid-run reports the run as failed instead of leaving it open', async () => {
    const h = hubs[hubs.length - 1]!;
    const stateDir = join(h.dir, 's-crash1');
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const a = startAgentProcess(['--hub', h.url, '--name', 'crash1', '--token', token, '--state-dir', stateDir, '--configuration', 'bash']);
    agents.push(a);
    await waitFor(() => h.hub.isConnected('crash1'), 'crash1', 15_000);
    const runId = `crash-${Date.now()}`;
    const pidFile = join(h.dir, 'crash-sleep.pid');
    h.hub.send('crash1', {
      op: 'run',
      runId,
      configurationName: 'bash',
      script: `sleep 30 & echo $! > ${pidFile}; echo before; wait`,
      arguments: [],
      using: {},
      maxRuntimeMs: 0,
    });
    await waitFor(() => h.text(runId, 'output') === 'before\n', 'first output');
    const sleepPid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(sleepPid)).toBe(true);
    await a.kill('SIGKILL');
    agents.push(startAgentProcess(['--hub', h.url, '--name', 'crash1', '--state-dir', stateDir]));
    const final = await waitFor(() => h.final(runId), 'final state after the agent restart', 15_000);
    expect(final).toMatchObject({ state: 'Failed', reason: 'The agent crash1 restarted while the command was running' });
    // the run's leftover processes were ended by the restarted agent
    await waitFor(() => !alive(sleepPid), 'leftover sleep to be killed', 3000);
    // and the run is not started again when the hub resends it
    h.hub.send('crash1', { op: 'run', runId, configurationName: 'bash', script: 'echo again', arguments: [], using: {}, maxRuntimeMs: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.text(runId, 'output')).toBe('before\n');
  });
});

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
