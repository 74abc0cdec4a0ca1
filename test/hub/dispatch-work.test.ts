import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SwarmRequest } from '../../bench/agent-swarm.js';
import { IpcChild } from '../../bench/ipc.js';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { RecordingSink } from '../helpers/runtime.js';

/**
 * The hub's work per dispatched computer does not grow with the fan-out: the SQL statements the
 * bot runs and the WebSocket frames it sends and receives for a command to N computers, from the
 * command to every result stored, grow by the same amount per computer from N = 10 to 100 as
 * from 100 to 1,000. (A quadratic path, such as a statement per computer per finished child,
 * would make the second step's cost per computer ten times the first's.) Counted, not timed.
 *
 * The bot is the real app; its 1,000 agents are real Agents with real WebSocket connections in
 * one other process (bench/agent-swarm.ts) that answer at once without spawning a process.
 */

const N = 1000;
let app: App;
let swarm: IpcChild<SwarmRequest>;
let dir: string;
let statements = 0;
const names = Array.from({ length: N }, (_, i) => `node${String(i + 1).padStart(4, '0')}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chatops-dispatch-work-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, "rules:\n  - channels: [console]\n    computers: ['node*']\n    cmdlets: [Invoke-Command]\n");
  const config = loadConfig({
    CHATOPS_POLICY_FILE: policy,
    CHATOPS_DB: join(dir, 'bot.db'),
    HUB_LISTEN: '127.0.0.1:0',
    HUB_HEARTBEAT_MS: '600000',
    HUB_MAX_PENDING: '5000',
    HUB_MAX_PENDING_PER_ADDRESS: '5000',
    RUNBOOKS_DIR: dir,
    EMBEDDED_AGENT: 'false',
    LOG_LEVEL: 'error',
  });
  app = await startApp(config, { log: silentLogger, statusIntervalMs: 1000, onSqlStatement: () => statements++ });
  const info = { os: 'test', version: 'test', tags: [], configurations: ['sh'], defaultConfiguration: 'sh' };
  const agents = names.map((name) => ({ name, secret: app.registry.provision(name, info).secret }));
  swarm = await IpcChild.start<SwarmRequest>(fileURLToPath(new URL('../../bench/agent-swarm.ts', import.meta.url)));
  const { connected } = await swarm.call<{ connected: number }>({ op: 'connect', url: app.hubUrl, mode: 'null', agents });
  expect(connected).toBe(N);
}, 180_000);

afterAll(async () => {
  await swarm?.stop();
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Work {
  statements: number;
  framesSent: number;
  framesReceived: number;
}

/** Runs `icm <first n> { echo hi } -AsJob` to the end and returns what it cost the bot. */
async function fanOut(n: number): Promise<Work> {
  const before = { statements, ...app.hub.stats() };
  const sink = new RecordingSink();
  const outcome = await app.core.handle(
    {
      channel: 'console',
      user: { platform: 'console', userId: 'console', displayName: 'test' },
      text: `Invoke-Command -ComputerName ${names.slice(0, n).join(',')} -ThrottleLimit 32 -AsJob { echo hi }`,
      source: 'command',
    },
    sink,
  );
  expect(outcome.ok, sink.text()).toBe(true);
  const job = await app.jobs.waitFor(outcome.jobIds[0]!);
  expect(job?.state).toBe('Completed');
  const after = { statements, ...app.hub.stats() };
  // Every computer's output is stored, once.
  expect(app.store.output(outcome.jobIds[0]!).filter((o) => o.stream === 'output')).toHaveLength(n);
  return {
    statements: after.statements - before.statements,
    framesSent: after.framesSent - before.framesSent,
    framesReceived: after.framesReceived - before.framesReceived,
  };
}

it('statements and frames per dispatched computer stay constant from N=10 to N=1,000', async () => {
  await fanOut(10); // warm up: statements prepared, presenter paths taken once
  const w10 = await fanOut(10);
  const w100 = await fanOut(100);
  const w1000 = await fanOut(1000);
  for (const k of ['statements', 'framesSent', 'framesReceived'] as const) {
    const first = (w100[k] - w10[k]) / 90;
    const second = (w1000[k] - w100[k]) / 900;
    // Per computer: a handful of statements and frames, and no more for the 1,000th than the 10th.
    expect(first, `${k}: ${JSON.stringify({ w10, w100, w1000 })}`).toBeGreaterThan(0);
    expect(second, `${k}: ${JSON.stringify({ w10, w100, w1000 })}`).toBeLessThanOrEqual(first * 1.25 + 0.5);
  }
  // The absolute budget per computer: a run and an ack or two out; its output and states (Running, Completed) in.
  expect((w1000.framesSent - w100.framesSent) / 900).toBeLessThanOrEqual(3);
  expect((w1000.framesReceived - w100.framesReceived) / 900).toBeLessThanOrEqual(3);
  expect((w1000.statements - w100.statements) / 900).toBeLessThanOrEqual(20);
}, 180_000);
