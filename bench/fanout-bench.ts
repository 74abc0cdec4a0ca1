import type { FanoutReply } from './hub-process.js';
import { median, pause } from './ipc.js';
import { startRig } from './rig.js';
import { leanFloor } from './spawn-baseline.js';

export { spawnBaseline } from './spawn-baseline.js';

/**
 * Real fan-out: the bot (real app: store, hub, jobs, core) in one process, N agents in another
 * (bench/agent-swarm.ts, `process` mode), each its own WebSocket connection with its own name
 * and secret, each running `echo hi` through the agent's real process executor (`sh -c`).
 * Beside it, two floors for the same N `sh -c 'echo hi'` at the same concurrency, interleaved
 * with the fan-out runs:
 * - the lean floor: bench/spawn-floor.mjs, a plain Node process that only spawns (the physical
 *   floor); ratio = fan-out / lean floor;
 * - the in-process floor: the same spawns from inside the agent-swarm process, which holds the
 *   N simulated agents (the floor this bench used to report, spawned beside a big heap).
 */

export interface FanoutRow {
  n: number;
  throttleLimit: number;
  fanoutMs: number;
  /** In-process floor: spawned in the agent-swarm process. */
  spawnMs: number;
  /** Lean floor: bench/spawn-floor.mjs. */
  leanMs: number;
  /** fanoutMs / leanMs. */
  ratio: number;
  /** fanoutMs / spawnMs. */
  ratioInProcess: number;
  completed: number;
}

export interface FanoutResult {
  rows: FanoutRow[];
  idleAgents: number;
  hubBytesPerIdleAgent: { rss: number; heap: number };
}

export async function runFanoutBench(
  options: {
    sizes?: number[];
    throttleLimits?: number[];
    /** Each figure is the median of this many runs, fan-out and floors interleaved (default 3). */
    repetitions?: number;
    log?: (line: string) => void;
  } = {},
): Promise<FanoutResult> {
  const reps = Math.max(1, options.repetitions ?? 3);
  const sizes = options.sizes ?? [1, 100, 1000];
  const throttles = options.throttleLimits ?? [32];
  const log = options.log ?? (() => {});
  const maxN = Math.max(...sizes);
  const rig = await startRig({ n: maxN, mode: 'process', prefix: 'benchp', log });
  try {
    const { hub, swarm, names } = rig;
    const inProcess = (n: number, concurrency: number): Promise<number> => swarm.call<number>({ op: 'spawnFloor', n, concurrency });
    // Warm up every path once (JIT, SQLite statements, process spawning).
    await hub.call({ op: 'fanout', names: names.slice(0, Math.min(10, maxN)), throttleLimit: 32 });
    await inProcess(Math.min(10, maxN), 32);
    await leanFloor(Math.min(10, maxN), 32);

    const rows: FanoutRow[] = [];
    for (const throttleLimit of throttles) {
      for (const n of sizes) {
        const fan: number[] = [];
        const base: number[] = [];
        const lean: number[] = [];
        let completed = 0;
        const concurrency = Math.min(throttleLimit, n);
        for (let i = 0; i < reps; i++) {
          const r = await hub.call<FanoutReply>({ op: 'fanout', names: names.slice(0, n), throttleLimit });
          if (r.completed !== n) throw new Error(`bench: only ${r.completed} of ${n} children completed (job ${r.state})`);
          completed = r.completed;
          fan.push(r.ms);
          await pause(200);
          lean.push(await leanFloor(n, concurrency));
          await pause(200);
          base.push(await inProcess(n, concurrency));
          await pause(200);
        }
        const fanoutMs = median(fan);
        const spawnMs = median(base);
        const leanMs = median(lean);
        const row: FanoutRow = {
          n,
          throttleLimit,
          fanoutMs,
          spawnMs,
          leanMs,
          ratio: fanoutMs / leanMs,
          ratioInProcess: fanoutMs / spawnMs,
          completed,
        };
        rows.push(row);
        log(
          `real fan-out N=${n} ThrottleLimit=${throttleLimit}: ${fanoutMs.toFixed(0)} ms, lean floor ${leanMs.toFixed(0)} ms (x${row.ratio.toFixed(2)}), in-process floor ${spawnMs.toFixed(0)} ms (median of ${reps})`,
        );
      }
    }
    return { rows, idleAgents: maxN, hubBytesPerIdleAgent: rig.hubBytesPerIdleAgent };
  } finally {
    await rig.stop();
  }
}
