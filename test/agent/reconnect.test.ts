import { createServer, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { createLogger } from '../../src/log.js';

/**
 * Reconnecting: each failed attempt waits about twice as long as the one before, up to a
 * maximum, with jitter ("equal jitter": between half and all of the current step), so a hub
 * restart is not met by every agent at the same instant. The "hub" here is a real TCP server
 * on loopback that cuts every connection at once; it records when each attempt arrives.
 */

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

it('backs off exponentially up to the maximum, with jitter between attempts', async () => {
  const arrivals: number[] = [];
  const server = createServer((socket: Socket) => {
    arrivals.push(Date.now());
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  const port = (server.address() as { port: number }).port;

  const initialMs = 40;
  const maxMs = 320;
  const agent = new Agent({
    hubUrl: `ws://127.0.0.1:${port}`,
    name: 'web1',
    token: 'cht_x',
    stateDir: null,
    reconnect: { initialMs, maxMs },
  });
  cleanups.push(() => void agent.stop());
  agent.start();
  const deadline = Date.now() + 10_000;
  while (arrivals.length < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(arrivals.length).toBe(10);

  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
  gaps.forEach((gap, i) => {
    const step = Math.min(maxMs, initialMs * 2 ** i);
    // Half to all of the step, plus time to dial and be cut off (generous: a loaded CI machine
    // delays timers; they never fire early, so the lower bound is exact).
    expect(gap, `gap ${i} (${gaps.join(', ')})`).toBeGreaterThanOrEqual(step / 2 - 5);
    expect(gap, `gap ${i} (${gaps.join(', ')})`).toBeLessThanOrEqual(step + 400);
  });
  // At the cap the step is fixed; jitter makes the waits differ.
  const capped = gaps.slice(4);
  expect(Math.max(...capped) - Math.min(...capped)).toBeGreaterThan(20);
}, 20_000);

it('says why it cannot reach the hub, once per distinct reason, while it keeps retrying', async () => {
  // A port that refuses connections: bind, note the port, close.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));

  const lines: string[] = [];
  const agent = new Agent({
    hubUrl: `ws://127.0.0.1:${port}`,
    name: 'web1',
    token: 'cht_x',
    stateDir: null,
    reconnect: { initialMs: 20, maxMs: 40 },
    log: createLogger('debug', (l) => lines.push(l)),
  });
  cleanups.push(() => void agent.stop());
  agent.start();
  // Several failed attempts, however slow the machine is.
  const attempts = (): number => lines.filter((l) => /DEBUG reconnecting/.test(l)).length;
  const deadline = Date.now() + 10_000;
  while (attempts() < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(attempts()).toBeGreaterThanOrEqual(5);
  const failures = lines.filter((l) => /cannot reach the hub/.test(l));
  expect(failures.length, lines.join('\n')).toBe(1);
  expect(failures[0]).toMatch(/WARN .*ECONNREFUSED/);
});
