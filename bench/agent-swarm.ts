/**
 * The agent side of the bench, in its own process (so neither the hub's figures nor the floors
 * are measured beside a heap of simulated agents): N simulated agents, each the real `Agent`
 * class with its own WebSocket connection, enrolled name and secret, all running one executor:
 *
 * - `null`: answers at once, no process (bench/null-executor.ts); a script containing `stream`
 *   streams output instead, for the latency-under-load figure.
 * - `process`: the agent's real process executor (`sh -c`).
 *
 * Driven over IPC by the bench (bench/ipc.ts): connect, connected, spawnFloor, memory, stop.
 */
import { Agent } from '../agent/agent.js';
import { createProcessExecutor } from '../agent/executors.js';
import { silentLogger } from '../src/log.js';
import { createNullExecutor } from './null-executor.js';
import { spawnBaseline } from './spawn-baseline.js';

export type SwarmMode = 'null' | 'process';

export type SwarmRequest =
  | { id: number; op: 'connect'; url: string; mode: SwarmMode; agents: Array<{ name: string; secret: string }>; batch?: number }
  | { id: number; op: 'connected' }
  | { id: number; op: 'spawnFloor'; n: number; concurrency: number }
  | { id: number; op: 'memory' }
  | { id: number; op: 'stop' };

type SwarmReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

const agents: Agent[] = [];
const send = (r: SwarmReply): void => void process.send!(r);

/** Starts the agents `batch` at a time, each batch connected (welcomed) before the next starts. */
async function connect(req: Extract<SwarmRequest, { op: 'connect' }>): Promise<{ connected: number; ms: number }> {
  const t0 = process.hrtime.bigint();
  const executor = req.mode === 'null' ? createNullExecutor() : createProcessExecutor();
  const batch = Math.max(1, req.batch ?? 250);
  for (let i = 0; i < req.agents.length; i += batch) {
    const started: Agent[] = [];
    for (const { name, secret } of req.agents.slice(i, i + batch)) {
      const a = new Agent({
        hubUrl: req.url,
        name,
        secret,
        stateDir: null,
        configurations: [{ name: 'sh', kind: 'sh' }],
        executor,
        log: silentLogger,
        reconnect: { initialMs: 500, maxMs: 5000 },
      });
      a.start();
      agents.push(a);
      started.push(a);
    }
    await Promise.all(started.map((a) => a.waitConnected(120_000)));
  }
  return { connected: agents.filter((a) => a.connected).length, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
}

process.on('message', (req: SwarmRequest) => {
  void (async () => {
    try {
      switch (req.op) {
        case 'connect':
          send({ id: req.id, ok: true, value: await connect(req) });
          return;
        case 'connected':
          send({ id: req.id, ok: true, value: agents.filter((a) => a.connected).length });
          return;
        case 'spawnFloor':
          send({ id: req.id, ok: true, value: await spawnBaseline(req.n, req.concurrency) });
          return;
        case 'memory': {
          const m = process.memoryUsage();
          send({ id: req.id, ok: true, value: { rss: m.rss, heapUsed: m.heapUsed } });
          return;
        }
        case 'stop':
          await Promise.all(agents.map((a) => a.stop()));
          agents.length = 0;
          send({ id: req.id, ok: true, value: null });
          setTimeout(() => process.exit(0), 50);
          return;
      }
    } catch (e) {
      send({ id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  })();
});
process.on('disconnect', () => process.exit(0));
send({ id: 0, ok: true, value: 'ready' });
