import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, type HubToAgent, type RunMessage } from '../../src/protocol/agent-protocol.js';
import { OUTPUT_ROW_OVERHEAD } from '../../src/store/sqlite-job-store.js';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';

/**
 * An enrolled agent that misbehaves (its computer was taken over) writes only into its own runs,
 * and only within limits: nothing after a run's final state, and at most JOB_MAX_OUTPUT bytes per
 * run, with a note where the output was cut. The real bot (core, job manager, SQLite file) and a
 * hand-driven agent speaking the real protocol with a real enrolment token.
 */

let rt: TestRuntime;
let ws: WebSocket;
const runs: RunMessage[] = [];
const acks = new Map<string, number>();

beforeAll(async () => {
  rt = await startTestRuntime({ env: { JOB_MAX_OUTPUT: '64KB' } });
  const token = rt.app.registry.createToken({ ttlMs: 60_000, uses: 1 });
  ws = new WebSocket(rt.app.hubUrl);
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () =>
      ws.send(
        JSON.stringify({
          op: 'hello',
          protocol: PROTOCOL_VERSION,
          name: 'evil',
          token,
          os: 'x',
          version: '1',
          tags: [],
          configurations: ['bash'],
          defaultConfiguration: 'bash',
        }),
      ),
    );
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as HubToAgent;
      if (m.op === 'welcome') resolve();
      if (m.op === 'refused') reject(new Error(m.reason));
      if (m.op === 'run') runs.push(m);
      if (m.op === 'ack') acks.set(m.runId, Math.max(acks.get(m.runId) ?? 0, m.seq));
      if (m.op === 'ping') ws.send(JSON.stringify({ op: 'pong', nonce: m.nonce }));
    });
    ws.on('error', reject);
  });
}, 30_000);

afterAll(async () => {
  ws?.terminate();
  await rt?.stop();
});

const send = (m: object): void => ws.send(JSON.stringify({ at: Date.now(), ...m }));

async function startJob(): Promise<{ jobId: number; runId: string }> {
  const before = runs.length;
  const r = await rt.run('icm evil { echo hi } -AsJob');
  expect(r.ok).toBe(true);
  await waitFor(() => runs.length > before, 10_000, 'the run to reach the agent');
  return { jobId: r.jobIds[0]!, runId: runs[runs.length - 1]!.runId };
}

const storedBytes = (jobId: number): number => rt.app.store.output(jobId).reduce((n, o) => n + Buffer.byteLength(o.data), 0);

describe('a misbehaving agent', () => {
  it("cannot add output at or after its run's final state, nor rows of nothing", async () => {
    const { jobId, runId } = await startJob();
    send({ op: 'state', runId, seq: 1, state: 'Running' });
    send({ op: 'output', runId, seq: 2, stream: 'output', data: 'honest line\n' });
    for (let seq = 3; seq < 503; seq++) send({ op: 'output', runId, seq, stream: 'output', data: '' });
    send({ op: 'state', runId, seq: 503, state: 'Completed', exitCode: 0 });
    send({ op: 'output', runId, seq: 503, stream: 'output', data: 'same seq as the final state\n' });
    const big = 'x'.repeat(500_000) + '\n';
    for (let seq = 504; seq < 524; seq++) send({ op: 'output', runId, seq, stream: 'output', data: big });
    // Everything was handled (acknowledged, so the agent would not resend), nothing was stored.
    await waitFor(() => acks.get(runId) === 523, 20_000, 'acks up to seq 523');
    expect(rt.app.store.getJob(jobId)?.state).toBe('Completed');
    expect(rt.app.store.output(jobId).map((o) => o.data)).toEqual(['honest line\n']);
  }, 30_000);

  it('charges each row its bookkeeping: a flood of one-byte chunks stops at the limit too', async () => {
    const { jobId, runId } = await startJob();
    send({ op: 'state', runId, seq: 1, state: 'Running' });
    for (let seq = 2; seq < 3002; seq++) send({ op: 'output', runId, seq, stream: 'output', data: 'z' });
    send({ op: 'state', runId, seq: 3002, state: 'Completed', exitCode: 0 });
    await waitFor(() => rt.app.store.getJob(jobId)?.state === 'Completed', 20_000, 'the job to complete');
    const rows = rt.app.store.output(jobId).filter((o) => o.stream === 'output');
    expect(rows.length).toBe(Math.floor((64 * 1024) / (1 + OUTPUT_ROW_OVERHEAD)));
  }, 30_000);

  it('stores at most JOB_MAX_OUTPUT per run, says where it was cut, and the job ends as the agent says', async () => {
    const { jobId, runId } = await startJob();
    send({ op: 'state', runId, seq: 1, state: 'Running' });
    const chunk = 'y'.repeat(9_999) + '\n';
    for (let seq = 2; seq < 102; seq++) send({ op: 'output', runId, seq, stream: 'output', data: chunk });
    send({ op: 'state', runId, seq: 102, state: 'Completed', exitCode: 0 });
    await waitFor(() => rt.app.store.getJob(jobId)?.state === 'Completed', 20_000, 'the job to complete');
    const rows = rt.app.store.output(jobId);
    const output = rows.filter((o) => o.stream === 'output');
    // Text plus 64 bytes of bookkeeping per row, up to the limit exactly.
    expect(output.reduce((n, o) => n + Buffer.byteLength(o.data) + OUTPUT_ROW_OVERHEAD, 0)).toBe(64 * 1024);
    expect(output.length).toBeLessThan(10);
    expect(storedBytes(jobId)).toBeLessThan(64 * 1024 + 200);
    const note = rows.filter((o) => o.stream === 'warning');
    expect(note.map((o) => o.data)).toEqual([
      "Output was cut at 64 KiB (JOB_MAX_OUTPUT): the rest of this command's output on evil was not stored.\n",
    ]);
    // The user sees the note where the output is shown.
    const received = await rt.run(`Receive-Job ${jobId}`);
    expect(received.sink.text()).toContain('WARNING: Output was cut at 64 KiB (JOB_MAX_OUTPUT)');
  }, 30_000);
});
