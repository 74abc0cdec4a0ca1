import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminProcess } from '../hub/harness.js';
import { startTestRuntime, waitFor, whileFrozen, type TestRuntime } from '../helpers/runtime.js';

/**
 * An agent that goes away mid-job: its children are Disconnected for AGENT_LOST_GRACE, then end
 * Failed saying the agent was lost, while the children on the other agents run to the end. Runs
 * given up (or stopped) while their agent was away are stopped there when it comes back.
 */

const GRACE = '1500ms';
let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: ['web1', 'web2', 'web3'].map((name) => ({ name, env: { AGENT_ID: name } })),
    env: { AGENT_LOST_GRACE: GRACE },
  });
});

afterAll(async () => {
  await rt?.stop();
});

const lostMessage = (agent: string): RegExp =>
  new RegExp(
    `^The agent ${agent} was lost: it did not reconnect within ${GRACE} \\(AGENT_LOST_GRACE\\)\\. Output it sent before that is kept\\.$`,
  );

/** Whether the hub still has to tell `agent` to stop the run of this child. */
function stopPending(jobId: number, computer: string): boolean {
  const c = child(jobId, computer);
  return rt.app.store.pendingStopsOn(c.agent!, new Date().toISOString()).includes(c.runId);
}

function child(jobId: number, computer: string) {
  const c = rt.app.store.children(jobId).find((x) => x.computer === computer);
  if (!c) throw new Error(`no child on ${computer}`);
  return c;
}

/** Resolves once the agent process is running the command (its first line is stored). */
async function started(jobId: number, computer: string): Promise<void> {
  await waitFor(() => rt.app.store.output(jobId).some((o) => o.computer === computer), 10_000, `output from ${computer}`);
}

describe('an agent lost mid-job', () => {
  it('SIGKILLed: its child fails with the lost-agent message after the grace period, the others complete', async () => {
    const { jobIds } = await rt.run('icm web1,web2,web3 { echo "start $AGENT_ID"; sleep 2; echo "done $AGENT_ID" } -AsJob');
    const id = jobIds[0]!;
    await started(id, 'web3');
    const killedAt = Date.now();
    await rt.agent('web3').kill('SIGKILL');

    await waitFor(() => child(id, 'web3').state === 'Disconnected', 10_000, 'web3 Disconnected');
    // Within the grace period the child waits: it is not failed yet.
    expect(child(id, 'web3').state).toBe('Disconnected');

    const job = await rt.app.jobs.waitFor(id, 20_000);
    expect(job?.state).toBe('Failed');
    const web3 = child(id, 'web3');
    expect(web3.state).toBe('Failed');
    expect(web3.reason).toMatch(lostMessage('web3'));
    // Not before the grace period, counted from when the hub noticed (up to two heartbeats).
    expect(Date.parse(web3.endTime!) - killedAt).toBeGreaterThanOrEqual(1500);
    expect([child(id, 'web1').state, child(id, 'web2').state]).toEqual(['Completed', 'Completed']);

    const received = await rt.run(`Receive-Job ${id}`);
    expect(received.ok).toBe(false);
    const shown = received.sink.postBlocks();
    const code = shown.flatMap((b) => (b.kind === 'code' ? [`${b.title}: ${b.text}`] : []));
    expect(code).toEqual(expect.arrayContaining(['web1: start web1\ndone web1', 'web2: start web2\ndone web2']));
    // What web3 sent before it was lost is kept, and its failure says why.
    expect(code.some((c) => c.startsWith('web3') && c.includes('start web3') && !c.includes('done web3'))).toBe(true);
    expect(JSON.stringify(shown)).toContain('The agent web3 was lost');

    // The agent comes back after its crash: its report on the old run does not change the result.
    await rt.agent('web3').restart();
    await waitFor(() => !stopPending(id, 'web3'), 10_000, 'web3 to report on its old run');
    expect(child(id, 'web3')).toMatchObject({ state: 'Failed', reason: expect.stringMatching(lostMessage('web3')) });
  });

  it('cut off but alive: the run it kept going is stopped when the agent reconnects after being given up', async () => {
    const marker = join(rt.dir, 'late');
    const { jobIds } = await rt.run(
      `icm web1,web2 { echo "start $AGENT_ID"; if [ "$AGENT_ID" = web2 ]; then sleep 30; else sleep 1; fi; touch "$1-$AGENT_ID" } -ArgumentList '${marker}' -AsJob`,
    );
    const id = jobIds[0]!;
    await started(id, 'web2');
    // Frozen, the agent answers no heartbeat: the hub cuts it off, while its command keeps running.
    await frozen('web2', () => waitFor(() => child(id, 'web2').state === 'Failed', 15_000, 'web2 given up as lost'));
    expect(child(id, 'web2').reason).toMatch(lostMessage('web2'));
    expect(stopPending(id, 'web2')).toBe(true);
    await rt.waitConnected(['web2']);
    // The hub told it to stop the run; its final report on that run is the confirmation.
    await waitFor(() => !stopPending(id, 'web2'), 10_000, 'web2 to confirm the stop');
    expect(existsSync(`${marker}-web2`)).toBe(false);
    expect(child(id, 'web2').state).toBe('Failed');
    const job = await rt.app.jobs.waitFor(id, 15_000);
    expect(job?.state).toBe('Failed');
    expect(child(id, 'web1').state).toBe('Completed');
    expect(existsSync(`${marker}-web1`)).toBe(true);
  });

  it('Stop-Job while the agent is away: Stopped at once, and the run is stopped when the agent is back', async () => {
    const marker = join(rt.dir, 'stopped-late');
    const { jobIds } = await rt.run(`icm web3 { echo started; sleep 30; touch "$1" } -ArgumentList '${marker}' -AsJob`);
    const id = jobIds[0]!;
    await started(id, 'web3');
    await frozen('web3', async () => {
      await waitFor(() => child(id, 'web3').state === 'Disconnected', 10_000, 'web3 Disconnected');
      const stopped = await rt.run(`Stop-Job ${id}`);
      expect(stopped.ok).toBe(true);
      expect(child(id, 'web3').state).toBe('Stopped');
      expect(stopPending(id, 'web3')).toBe(true);
      expect(rt.app.store.getJob(id)?.state).toBe('Stopped');
    });
    await rt.waitConnected(['web3']);
    await waitFor(() => !stopPending(id, 'web3'), 10_000, 'web3 to confirm the stop');
    expect(existsSync(marker)).toBe(false);
    expect(child(id, 'web3').state).toBe('Stopped');
  });

  it('Wait-Job returns as soon as the job is Disconnected, with the warning; -Force waits on to Failed', async () => {
    const { jobIds } = await rt.run('icm web2 { echo started; sleep 30 } -AsJob');
    const id = jobIds[0]!;
    await started(id, 'web2');
    await frozen('web2', async () => {
      const waited = await rt.run(`Wait-Job ${id} -Timeout 60`);
      expect(rt.app.store.getJob(id)?.state).toBe('Disconnected');
      const table = waited.sink.postBlocks().find((b) => b.kind === 'table');
      expect(table && table.kind === 'table' && table.rows.map((r) => [r[0], r[3]])).toEqual([[String(id), 'Disconnected']]);
      expect(waited.sink.replies().join('\n')).toContain('One or more jobs are in a suspended or disconnected state');
      // -Force waits through Disconnected: here until the agent is given up as lost.
      const forced = await rt.run(`Wait-Job ${id} -Force`);
      const row = forced.sink.postBlocks().find((b) => b.kind === 'table');
      expect(row && row.kind === 'table' && row.rows[0]?.[3]).toBe('Failed');
    });
    await rt.waitConnected(['web2']);
  });

  it('the parent is Disconnected once its only unfinished children are, even when another child finishes after', async () => {
    const go = join(rt.dir, 'web1-may-finish');
    const { jobIds, sink } = await rt.run(
      `icm web1,web2 { echo started; if [ "$AGENT_ID" = web2 ]; then sleep 30; else while [ ! -e "$1" ]; do sleep 0.05; done; fi } -ArgumentList '${go}' -AsJob`,
    );
    const id = jobIds[0]!;
    await started(id, 'web2');
    await started(id, 'web1');
    await frozen('web2', async () => {
      await waitFor(() => child(id, 'web2').state === 'Disconnected', 10_000, 'web2 Disconnected');
      // web1 still runs: the parent is Running.
      expect(rt.app.store.getJob(id)?.state).toBe('Running');
      writeFileSync(go, '');
      await waitFor(() => child(id, 'web1').state === 'Completed', 5_000, 'web1 Completed');
      // All that is left is Disconnected, so the parent is too, before web2's grace runs out.
      expect(child(id, 'web2').state).toBe('Disconnected');
      expect(rt.app.store.getJob(id)?.state).toBe('Disconnected');
      // The status says what the bot waits for, and until when.
      const deadline = child(id, 'web2').lostDeadline!;
      expect(Date.parse(deadline) - Date.now()).toBeLessThanOrEqual(1500);
      await waitFor(
        () => (sink.latestStatus()?.detail ?? []).length > 0 && sink.latestStatus()?.state === 'Disconnected',
        3_000,
        'the status to show the wait',
      );
      expect(sink.latestStatus()?.detail).toEqual([
        `web2 disconnected: waiting for it until ${deadline.slice(11, 19)} UTC (AGENT_LOST_GRACE)`,
      ]);
      await rt.run(`Stop-Job ${id}`);
    });
    await rt.waitConnected(['web2']);
  });

  it('Remove-Job -Force while the agent is away: the job is gone, and its run is still stopped when the agent is back', async () => {
    const marker = join(rt.dir, 'removed-late');
    const { jobIds } = await rt.run(`icm web3 { echo started; sleep 30; touch "$1" } -ArgumentList '${marker}' -AsJob`);
    const id = jobIds[0]!;
    await started(id, 'web3');
    const runId = child(id, 'web3').runId;
    await frozen('web3', async () => {
      await waitFor(() => child(id, 'web3').state === 'Disconnected', 10_000, 'web3 Disconnected');
      const removed = await rt.run(`Remove-Job ${id} -Force`);
      expect(removed.ok).toBe(true);
      expect(rt.app.store.getJob(id)).toBeUndefined();
      expect(rt.app.store.pendingStopsOn('web3', new Date().toISOString())).toContain(runId);
    });
    await rt.waitConnected(['web3']);
    await waitFor(() => !rt.app.store.pendingStopsOn('web3', new Date().toISOString()).includes(runId), 10_000, 'web3 to confirm the stop');
    expect(existsSync(marker)).toBe(false);
  });

  it('a pending stop ends with the maximum runtime of its run: the agent has stopped it by then anyway', () => {
    const store = rt.app.store;
    store.addPendingStop('web9', 'run-expiring', '2026-01-01T00:00:00.000Z');
    store.addPendingStop('web9', 'run-forever');
    expect(store.pendingStopsOn('web9', '2025-12-31T23:59:59.000Z')).toEqual(['run-expiring', 'run-forever']);
    expect(store.pendingStopsOn('web9', '2026-01-01T00:00:01.000Z')).toEqual(['run-forever']);
    // Only the agent that runs it confirms it.
    store.clearPendingStop('web8', 'run-forever');
    expect(store.pendingStopsOn('web9', '2026-01-01T00:00:01.000Z')).toEqual(['run-forever']);
    store.clearPendingStop('web9', 'run-forever');
    expect(store.pendingStopsOn('web9', '2026-01-01T00:00:01.000Z')).toEqual([]);
  });

  it('an agent that does not come back after a bot restart is lost too; the others complete', async () => {
    const { jobIds } = await rt.run('icm web1,web3 { echo "start $AGENT_ID"; sleep 1; echo "done $AGENT_ID" } -AsJob');
    const id = jobIds[0]!;
    await started(id, 'web3');
    await rt.agent('web3').kill('SIGKILL');
    await rt.restartApp();
    // The new bot gives its agents two heartbeats to dial in again: web1 does, web3 is away
    // (already Disconnected when the first bot stopped, or once the settle time has passed).
    expect(child(id, 'web1').state).toBe('Running');
    await waitFor(() => child(id, 'web3').state === 'Disconnected', 10_000, 'web3 Disconnected after the restart');
    const job = await rt.app.jobs.waitFor(id, 20_000);
    expect(job?.state, JSON.stringify(rt.app.store.children(id))).toBe('Failed');
    expect(child(id, 'web1').state).toBe('Completed');
    expect(
      rt.app.store
        .output(id)
        .filter((o) => o.computer === 'web1')
        .map((o) => o.data.trim()),
    ).toEqual(['start web1', 'done web1']);
    expect(child(id, 'web3').reason).toMatch(lostMessage('web3'));
    await rt.agent('web3').restart();
  });

  // Last: web1 does not come back from this.
  it('an agent removed with the admin CLI fails its running children at once, saying why; the others complete', async () => {
    // web1 runs long enough that the admin CLI (a node process, slow to start on a busy machine)
    // removes it while it runs; web2 ends on its own.
    const { jobIds } = await rt.run(
      'icm web1,web2 { echo "start $AGENT_ID"; if [ "$AGENT_ID" = web1 ]; then sleep 30; else sleep 3; fi; echo "done $AGENT_ID" } -AsJob',
    );
    const id = jobIds[0]!;
    await started(id, 'web1');
    const admin = await runAdminProcess(['agent', 'remove', 'web1'], rt.config.dbPath);
    const removedAt = Date.now();
    expect(admin.code).toBe(0);
    await waitFor(() => child(id, 'web1').state === 'Failed', 5_000, 'web1 Failed');
    // At once (the hub notices a removal within 250 ms): not after the grace period (1.5 s).
    expect(Date.parse(child(id, 'web1').endTime!) - removedAt).toBeLessThan(1000);
    expect(child(id, 'web1').reason).toBe(
      'The agent web1 was removed (npm run admin -- agent remove), so it can never come back. Output it sent before that is kept.',
    );
    const job = await rt.app.jobs.waitFor(id, 10_000);
    expect(job?.state).toBe('Failed');
    expect(child(id, 'web2').state).toBe('Completed');
  });
});

function frozen(name: string, fn: () => Promise<void>): Promise<void> {
  return whileFrozen(rt.agent(name), fn);
}
