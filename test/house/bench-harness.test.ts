import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * `npm run bench` end to end in its smoke mode (`--quick`: a few agents, one run each; peers
 * skipped): every row and every target of issue 16 is in the JSON. The harness, not its speed:
 * no timing is asserted (timings live in the bench).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runBench(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['tsx', 'bench/main.ts', ...args],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 280_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

const num = expect.any(Number);

it('npm run bench -- --quick --json --no-peers reports every row and target (no timings asserted)', async () => {
  const out = JSON.parse(await runBench(['--quick', '--json', '--no-peers', '--max-n=10']));
  expect(out.options).toEqual({ repetitions: 1, maxN: 10, quick: true, peers: false, peerRepetitions: 1 });
  expect(out.machine).toMatchObject({ cpus: num, node: process.version });

  // Hub alone: agents in their own process answering at once, every size, memory, latency.
  expect(out.hub).toMatchObject({ agents: 10, connectMs: num, hubBytesPerIdleAgent: { rss: num, heap: num } });
  expect(out.hub.rows.map((r: { n: number; completed: number }) => [r.n, r.completed])).toEqual([
    [1, 1],
    [10, 10],
  ]);
  for (const r of out.hub.rows) expect(r).toMatchObject({ ms: num, usPerComputer: num, via: 'line' });
  expect(out.hub.latency).toMatchObject({ loadComputers: 9, probes: 5, p50Ms: num, p95Ms: num, maxMs: num, loadJobs: num });
  expect(out.hub.latency.probesMs).toHaveLength(5);
  expect(out.hub.latency.loadOutputs).toBeGreaterThan(0);

  // Real fan-out beside both floors.
  expect(out.fanout.rows.map((r: { n: number; throttleLimit: number; completed: number }) => [r.n, r.throttleLimit, r.completed])).toEqual([
    [1, 32, 1],
    [5, 32, 5],
  ]);
  for (const r of out.fanout.rows) expect(r).toMatchObject({ fanoutMs: num, leanMs: num, spawnMs: num, ratio: num, ratioInProcess: num });

  // Peers: a row per peer and size, skipped here.
  expect(out.peers.map((p: { peer: string; n: number; status: string }) => [p.peer, p.n, p.status])).toEqual([
    ['pdshExec', 1, 'skipped'],
    ['pdshExec', 2, 'skipped'],
    ['pdshSsh', 1, 'skipped'],
    ['pdshSsh', 2, 'skipped'],
    ['pwshSsh', 1, 'skipped'],
    ['pwshSsh', 2, 'skipped'],
  ]);

  // Every target, each with its limit, value and verdict (null: not measured at this size).
  expect(Object.keys(out.targets)).toEqual([
    'hubAlone1',
    'hubAlone1000',
    'hubAlone10000',
    'fanoutRatio100',
    'fanoutRatio1000',
    'latencyP95',
    'bytesPerIdleAgent',
    'languageParseBind',
    'startupMs',
  ]);
  for (const t of Object.values(out.targets) as Array<Record<string, unknown>>) {
    expect(t).toMatchObject({ what: expect.any(String), target: num, compare: expect.stringMatching(/^<=?$/) });
    expect(t.met === null || typeof t.met === 'boolean').toBe(true);
  }
  expect(out.targets.hubAlone1.met).not.toBeNull();
  expect(out.targets.hubAlone1000.met).toBeNull();
  expect(out.targets.latencyP95.met).not.toBeNull();
  expect(out.targets.bytesPerIdleAgent.met).not.toBeNull();

  expect(out.language).toHaveLength(3);
  expect(out.startup.map((r: { name: string }) => r.name)).toEqual([
    'printf "" | npm start (compiled, dist/)',
    'the same through tsx (TypeScript sources)',
  ]);
}, 300_000);
