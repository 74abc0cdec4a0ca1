import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent } from '../agent/agent.js';
import { createProcessExecutor } from '../agent/executors.js';
import { silentLogger } from '../src/log.js';
import type { BenchReply, BenchRequest } from './hub-process.js';

/**
 * Fan-out bench: the bot (real app: store, hub, jobs, core) runs in a child process; N agents
 * are simulated in this process as N real WebSocket connections, each enrolled under its own
 * name with its own secret, each running `echo` through the agent's real process executor
 * (`sh -c`). Beside it, the baseline: Node spawning the same N `sh -c echo` processes at the
 * same concurrency in this same process. ratio = fan-out time / baseline time.
 */

export interface FanoutRow {
  n: number;
  throttleLimit: number;
  fanoutMs: number;
  spawnMs: number;
  ratio: number;
  completed: number;
}

export interface FanoutResult {
  rows: FanoutRow[];
  idleAgents: number;
  hubBytesPerIdleAgent: { rss: number; heap: number };
}

type Pending = Map<number, (r: BenchReply) => void>;
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

class HubClient {
  private next = 1;
  private readonly pending: Pending = new Map();
  constructor(private readonly child: ChildProcess) {
    child.on('message', (r: BenchReply) => {
      this.pending.get(r.id)?.(r);
      this.pending.delete(r.id);
    });
  }
  call<T>(req: WithoutId<BenchRequest>): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (r) => (r.ok ? resolve(r.value as T) : reject(new Error(r.error))));
      this.child.send({ ...req, id });
    });
  }
}

/** Baseline: N `sh -c 'echo hi'` with at most `concurrency` at a time, output collected. */
export async function spawnBaseline(n: number, concurrency: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  let started = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const launch = (): void => {
      while (started < n && started - done < concurrency) {
        started++;
        const c = spawn('sh', ['-c', 'echo hi', 'chatops'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        c.stdout.on('data', (b: Buffer) => (out += b.toString()));
        c.stderr.on('data', () => {});
        c.on('error', reject);
        c.on('close', () => {
          if (out !== 'hi\n') reject(new Error(`unexpected output ${JSON.stringify(out)}`));
          done++;
          if (done === n) resolve();
          else launch();
        });
      }
    };
    launch();
  });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function waitUntil(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runFanoutBench(
  options: {
    sizes?: number[];
    throttleLimits?: number[];
    /** Each figure is the median of this many runs, fan-out and baseline interleaved (default 3). */
    repetitions?: number;
    log?: (line: string) => void;
  } = {},
): Promise<FanoutResult> {
  const reps = Math.max(1, options.repetitions ?? 3);
  const sizes = options.sizes ?? [1, 10, 100, 1000];
  const throttles = options.throttleLimits ?? [1000, 32];
  const log = options.log ?? (() => {});
  const maxN = Math.max(...sizes);
  const child = fork(fileURLToPath(new URL('./hub-process.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const hub = new HubClient(child);
  const agents: Agent[] = [];
  try {
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    const before = await hub.call<{ rss: number; heapUsed: number; external: number; arrayBuffers: number }>({ op: 'memory' });

    const names = Array.from({ length: maxN }, (_, i) => `bench${String(i + 1).padStart(4, '0')}`);
    const { url, secrets } = await hub.call<{ url: string; secrets: string[] }>({ op: 'provision', names });
    const executor = createProcessExecutor();
    log(`connecting ${maxN} simulated agents to ${url} ...`);
    for (const [i, name] of names.entries()) {
      const a = new Agent({
        hubUrl: url,
        name,
        secret: secrets[i]!,
        stateDir: null,
        configurations: [{ name: 'sh', kind: 'sh' }],
        executor,
        log: silentLogger,
        reconnect: { initialMs: 500, maxMs: 5000 },
      });
      a.start();
      agents.push(a);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
    }
    await waitUntil(async () => (await hub.call<number>({ op: 'connected', names })) === maxN, 60_000, 'agents to connect');
    await new Promise((r) => setTimeout(r, 500));
    const after = await hub.call<{ rss: number; heapUsed: number; external: number; arrayBuffers: number }>({ op: 'memory' });
    const hubBytesPerIdleAgent = {
      rss: Math.round((after.rss - before.rss) / maxN),
      heap: Math.round((after.heapUsed + after.external - before.heapUsed - before.external) / maxN),
    };
    log(`hub memory per idle agent: ${(hubBytesPerIdleAgent.rss / 1024).toFixed(1)} KB RSS`);

    // Warm up both paths once (JIT, SQLite statements, process spawning).
    await hub.call({ op: 'fanout', names: names.slice(0, Math.min(10, maxN)), throttleLimit: 32 });
    await spawnBaseline(Math.min(10, maxN), 32);

    const rows: FanoutRow[] = [];
    for (const throttleLimit of throttles) {
      for (const n of sizes) {
        const fan: number[] = [];
        const base: number[] = [];
        let completed = 0;
        for (let i = 0; i < reps; i++) {
          const r = await hub.call<{ ms: number; completed: number; state: string }>({
            op: 'fanout',
            names: names.slice(0, n),
            throttleLimit,
          });
          if (r.completed !== n) throw new Error(`bench: only ${r.completed} of ${n} children completed (job ${r.state})`);
          completed = r.completed;
          fan.push(r.ms);
          await pause(200);
          base.push(await spawnBaseline(n, Math.min(throttleLimit, n)));
          await pause(200);
        }
        const fanoutMs = median(fan);
        const spawnMs = median(base);
        const row = { n, throttleLimit, fanoutMs, spawnMs, ratio: fanoutMs / spawnMs, completed };
        rows.push(row);
        log(
          `N=${n} ThrottleLimit=${throttleLimit}: fan-out ${fanoutMs.toFixed(0)} ms, spawn ${spawnMs.toFixed(0)} ms, ratio ${row.ratio.toFixed(2)} (median of ${reps})`,
        );
      }
    }
    return { rows, idleAgents: maxN, hubBytesPerIdleAgent };
  } finally {
    await Promise.all(agents.map((a) => a.stop()));
    await hub.call({ op: 'stop' }).catch(() => {});
    child.kill();
  }
}
