import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';

/**
 * A network cut, neither a crash nor a frozen process: a TCP proxy between the agent and the hub
 * silently drops everything on the connections open at the cut (as a dead NAT entry would),
 * while new connections get through. A stop (or a run) sent into the dead connection is lost;
 * the agent's watchdog dials again, and the hub must send the stop again, never the run.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let rt: TestRuntime;
let agent: ChildProcess | undefined;
let proxy: Server | undefined;
const links: Array<{ dead: boolean }> = [];

beforeAll(async () => {
  rt = await startTestRuntime({ env: { AGENT_LOST_GRACE: '60s' } });
  const hubPort = rt.app.hub.address().port;
  proxy = createServer((a: Socket) => {
    const b = connect(hubPort, '127.0.0.1');
    const link = { dead: false };
    links.push(link);
    a.on('data', (d) => void (link.dead || b.write(d)));
    b.on('data', (d) => void (link.dead || a.write(d)));
    for (const s of [a, b]) s.on('error', () => undefined);
    a.on('close', () => void (link.dead || b.destroy()));
    b.on('close', () => void (link.dead || a.destroy()));
  });
  await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as { port: number }).port;
  const token = rt.app.registry.createToken({ ttlMs: 60_000, uses: 1 });
  agent = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO, 'agent', 'main.ts'),
      '--hub',
      `ws://127.0.0.1:${port}`,
      '--name',
      'px',
      '--state-dir',
      join(rt.dir, 'px'),
      '--token',
      token,
      '--log-level',
      'error',
    ],
    { cwd: REPO, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  await rt.waitConnected(['px']);
});

afterAll(async () => {
  agent?.kill('SIGKILL');
  proxy?.close();
  await rt?.stop();
});

/** Cuts every connection open now; the next one the agent dials gets through. */
function cut(): number {
  for (const l of links) l.dead = true;
  return links.length;
}

async function reconnected(after: number): Promise<void> {
  await waitFor(() => links.length > after && rt.app.hub.isConnected('px'), 30_000, 'the agent to dial in again');
}

it('a Stop-Job lost with the connection is sent again when the agent is back: the run ends Stopped', async () => {
  const { jobIds } = await rt.run('icm px { while true; do echo tick; sleep 0.2; done } -AsJob');
  const id = jobIds[0]!;
  await waitFor(() => rt.app.store.output(id).length > 2, 10_000, 'ticks');
  const open = cut();
  // Stop-Job waits up to 10 s: the agent may be back and confirm within it, or not.
  const stopped = await rt.run(`Stop-Job ${id}`);
  expect(stopped.ok).toBe(true);
  await reconnected(open);
  const job = await rt.app.jobs.waitFor(id, 15_000);
  expect(job?.state).toBe('Stopped');
  expect(rt.app.store.children(id)[0]?.reason).toBe('The command was stopped');
  const ticks = rt.app.store.output(id).length;
  await new Promise((r) => setTimeout(r, 600));
  expect(rt.app.store.output(id).length).toBe(ticks);
}, 60_000);

it('a stopped command whose run was lost with the connection never starts', async () => {
  const marker = join(rt.dir, 'ran-after-stop');
  const open = cut();
  const { jobIds } = await rt.run(`icm px { touch "$1"; sleep 30 } -ArgumentList '${marker}' -AsJob`);
  const id = jobIds[0]!;
  await rt.run(`Stop-Job ${id}`);
  await reconnected(open);
  const job = await rt.app.jobs.waitFor(id, 15_000);
  expect(job?.state).toBe('Stopped');
  expect(rt.app.store.children(id)[0]?.reason).toBe('The command was stopped before it started on px.');
  expect(existsSync(marker)).toBe(false);
  expect(rt.app.store.pendingStopsOn('px', new Date().toISOString())).toEqual([]);
}, 60_000);
