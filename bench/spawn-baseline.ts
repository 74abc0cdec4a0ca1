import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The two floors of the real fan-out: N `sh -c 'echo hi'` at a concurrency, detached, output
 * collected and checked. `spawnBaseline` spawns in the calling process (the bench's own,
 * in-process floor: the bench calls it in the agent-swarm process, which holds the simulated
 * agents); `leanFloor` runs bench/spawn-floor.mjs, a plain Node script with nothing else loaded
 * (the physical floor issue 16 measures against).
 */

export const SPAWN_FLOOR_SCRIPT = fileURLToPath(new URL('./spawn-floor.mjs', import.meta.url));

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

/** `node bench/spawn-floor.mjs N CONCURRENCY`: the ms it reports (first spawn to last exit). */
export function leanFloor(n: number, concurrency: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [SPAWN_FLOOR_SCRIPT, String(n), String(concurrency)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.stderr.on('data', (b: Buffer) => (err += b.toString()));
    c.on('error', reject);
    c.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`spawn-floor.mjs exited ${code}: ${err.slice(-500)}`);
        resolve((JSON.parse(out) as { ms: number }).ms);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
