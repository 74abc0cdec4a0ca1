import { STREAM_LINES, STREAM_MS } from './null-executor.js';
import type { FanoutReply, LatencyReply } from './hub-process.js';
import { median, pause, percentile } from './ipc.js';
import { startRig } from './rig.js';

/**
 * The hub alone: the bot in one process, N agents in another (bench/agent-swarm.ts, `null`
 * mode: each answers at once, no process), each its own connection and identity. Reports
 * - the scale curve: command to all results stored for each N, and the time per computer;
 * - latency under load: one-computer commands, one after another, while a job on up to 1,000
 *   other computers streams output (STREAM_LINES lines each over about STREAM_MS);
 * - the hub's memory per connected idle agent at the largest N.
 */

export interface HubScaleRow {
  n: number;
  /** Median ms, command to all results stored. */
  ms: number;
  /** ms / n in microseconds. */
  usPerComputer: number;
  runsMs: number[];
  completed: number;
  via: 'line' | 'variable';
}

export interface LatencyResult {
  loadComputers: number;
  linesPerComputer: number;
  streamMs: number;
  probes: number;
  underLoad: number;
  loadJobs: number;
  loadOutputs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  probesMs: number[];
}

export interface HubBenchResult {
  agents: number;
  connectMs: number;
  hubBytesPerIdleAgent: { rss: number; heap: number };
  rows: HubScaleRow[];
  latency: LatencyResult | null;
}

export async function runHubBench(options: {
  sizes: number[];
  repetitions?: number;
  /** Computers in the load job of the latency figure (default 1000, at most agents - 1). */
  latencyLoad?: number;
  /** One-computer commands measured under load (default 40; 0 skips the figure). */
  latencyProbes?: number;
  log?: (line: string) => void;
}): Promise<HubBenchResult> {
  const reps = Math.max(1, options.repetitions ?? 3);
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const log = options.log ?? (() => {});
  const maxN = sizes.at(-1)!;
  const rig = await startRig({ n: maxN, mode: 'null', prefix: 'benchn', log });
  try {
    const { hub, names } = rig;
    log(`hub memory per idle agent at ${maxN} agents: ${(rig.hubBytesPerIdleAgent.rss / 1024).toFixed(1)} KB RSS`);
    await hub.call({ op: 'fanout', names: names.slice(0, Math.min(100, maxN)), throttleLimit: 100 });

    const rows: HubScaleRow[] = [];
    for (const n of sizes) {
      const runsMs: number[] = [];
      let completed = 0;
      let via: 'line' | 'variable' = 'line';
      for (let i = 0; i < reps; i++) {
        const r = await hub.call<FanoutReply>({ op: 'fanout', names: names.slice(0, n), throttleLimit: Math.max(32, n) });
        if (r.completed !== n) throw new Error(`bench: only ${r.completed} of ${n} children completed (job ${r.state})`);
        completed = r.completed;
        via = r.via;
        runsMs.push(r.ms);
        await pause(100);
      }
      const ms = median(runsMs);
      rows.push({ n, ms, usPerComputer: (ms * 1000) / n, runsMs, completed, via });
      log(`hub alone N=${n}: ${ms.toFixed(1)} ms (${((ms * 1000) / n).toFixed(0)} µs per computer, median of ${reps})`);
    }

    let latency: LatencyResult | null = null;
    const probes = options.latencyProbes ?? 40;
    const loadComputers = Math.min(options.latencyLoad ?? 1000, maxN - 1);
    if (probes > 0 && loadComputers > 0) {
      log(`latency: ${probes} one-computer commands while ${loadComputers} computers stream ${STREAM_LINES} lines each ...`);
      const r = await hub.call<LatencyReply>({ op: 'latency', loadNames: names.slice(1, 1 + loadComputers), probeName: names[0]!, probes });
      latency = {
        loadComputers,
        linesPerComputer: STREAM_LINES,
        streamMs: STREAM_MS,
        probes,
        underLoad: r.underLoad,
        loadJobs: r.loadJobs,
        loadOutputs: r.loadOutputs,
        p50Ms: percentile(r.probesMs, 50),
        p95Ms: percentile(r.probesMs, 95),
        maxMs: Math.max(...r.probesMs),
        probesMs: r.probesMs,
      };
      log(
        `latency under load: p50 ${latency.p50Ms.toFixed(1)} ms, p95 ${latency.p95Ms.toFixed(1)} ms (${r.underLoad} of ${probes} under load, ${r.loadJobs} load jobs)`,
      );
    }
    return { agents: maxN, connectMs: rig.connectMs, hubBytesPerIdleAgent: rig.hubBytesPerIdleAgent, rows, latency };
  } finally {
    await rig.stop();
  }
}
