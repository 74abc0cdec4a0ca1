import { fileURLToPath } from 'node:url';
import type { SwarmMode, SwarmRequest } from './agent-swarm.js';
import type { BenchRequest } from './hub-process.js';
import { IpcChild, pause, waitUntil } from './ipc.js';

/**
 * The bench's rig: the real bot in its own process (bench/hub-process.ts) and N simulated agents
 * in another (bench/agent-swarm.ts), each agent enrolled under its own name and secret and
 * connected over its own WebSocket. Connections are opened in batches, each batch welcomed
 * before the next starts; the hub's cap on unauthenticated connections (HUB_MAX_PENDING, 512 in
 * total and 64 per address by default) is raised for the bench, whose agents all dial from
 * 127.0.0.1.
 */

const HUB_PROCESS = fileURLToPath(new URL('./hub-process.ts', import.meta.url));
const AGENT_SWARM = fileURLToPath(new URL('./agent-swarm.ts', import.meta.url));

export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export interface Rig {
  hub: IpcChild<BenchRequest>;
  swarm: IpcChild<SwarmRequest>;
  names: string[];
  /** Time to connect all agents (ms), batches included. */
  connectMs: number;
  /** Hub memory per connected idle agent: after connecting minus before provisioning, over N. */
  hubBytesPerIdleAgent: { rss: number; heap: number };
  stop(): Promise<void>;
}

export async function startRig(options: {
  n: number;
  mode: SwarmMode;
  /** Name prefix; the bench's permission rule allows `bench*`. */
  prefix: string;
  batch?: number;
  log?: (line: string) => void;
}): Promise<Rig> {
  const log = options.log ?? (() => {});
  const hub = await IpcChild.start<BenchRequest>(HUB_PROCESS, {
    env: { HUB_MAX_PENDING: '100000', HUB_MAX_PENDING_PER_ADDRESS: '100000' },
  });
  let swarm: IpcChild<SwarmRequest> | undefined;
  try {
    const before = await hub.call<MemorySample>({ op: 'memory' });
    const width = String(options.n).length;
    const names = Array.from({ length: options.n }, (_, i) => `${options.prefix}${String(i + 1).padStart(width, '0')}`);
    const { url, secrets } = await hub.call<{ url: string; secrets: string[] }>({ op: 'provision', names });
    swarm = await IpcChild.start<SwarmRequest>(AGENT_SWARM, { execArgv: ['--max-old-space-size=8192'] });
    log(`connecting ${options.n} simulated agents (${options.mode} executor) to ${url} ...`);
    const agents = names.map((name, i) => ({ name, secret: secrets[i]! }));
    const { ms: connectMs } = await swarm.call<{ connected: number; ms: number }>({
      op: 'connect',
      url,
      mode: options.mode,
      agents,
      batch: options.batch ?? 250,
    });
    await waitUntil(async () => (await hub.call<number>({ op: 'connected', names })) === options.n, 120_000, 'agents to connect');
    log(`${options.n} agents connected in ${(connectMs / 1000).toFixed(1)} s`);
    await pause(500);
    const after = await hub.call<MemorySample>({ op: 'memory' });
    const hubBytesPerIdleAgent = {
      rss: Math.round((after.rss - before.rss) / options.n),
      heap: Math.round((after.heapUsed + after.external - before.heapUsed - before.external) / options.n),
    };
    const s = swarm;
    return {
      hub,
      swarm: s,
      names,
      connectMs,
      hubBytesPerIdleAgent,
      async stop() {
        await s.stop();
        await hub.stop();
      },
    };
  } catch (e) {
    await swarm?.stop();
    await hub.stop();
    throw e;
  }
}
