// The lean physical floor of `npm run bench`: a plain Node script with nothing else loaded that
// spawns N `sh -c 'echo hi'` processes, at most CONCURRENCY at a time, detached (own process
// group, as the agent's executor starts scripts), output collected and checked. Prints
// {"ms": ..., "n": ..., "concurrency": ...} on stdout: from the first spawn to the last exit.
//
//   node bench/spawn-floor.mjs N CONCURRENCY
import { spawn } from 'node:child_process';

const n = Number(process.argv[2] ?? 1);
const concurrency = Number(process.argv[3] ?? 32);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: node bench/spawn-floor.mjs N CONCURRENCY\n');
  process.exit(2);
}

const t0 = process.hrtime.bigint();
let started = 0;
let done = 0;
await new Promise((resolve, reject) => {
  const launch = () => {
    while (started < n && started - done < concurrency) {
      started++;
      const c = spawn('sh', ['-c', 'echo hi'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (b) => (out += b.toString()));
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
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(`${JSON.stringify({ ms, n, concurrency })}\n`);
