import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { waitFor } from '../hub/harness.js';

/**
 * The agent against a hub that goes silent after welcoming it (a half-open connection seen from
 * the agent's side): a raw WebSocket peer speaking the protocol, at the edge of the agent.
 */
describe('agent watchdog', () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const agents: Agent[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await new Promise((r) => wss.close(r));
  });

  it('reconnects when the hub sends nothing for 2.5 heartbeat intervals', async () => {
    let connections = 0;
    const hellos: Array<Record<string, unknown>> = [];
    wss.on('connection', (ws) => {
      connections++;
      ws.once('message', (d) => {
        hellos.push(JSON.parse(d.toString()) as Record<string, unknown>);
        ws.send(JSON.stringify({ op: 'welcome', heartbeatMs: 200 })); // and then silence
      });
    });
    const port = (wss.address() as AddressInfo).port;
    const a = new Agent({
      hubUrl: `ws://127.0.0.1:${port}`,
      name: 'quiet1',
      secret: 'chs_' + 'q'.repeat(43),
      stateDir: null,
      tags: ['role=test'],
      configurations: [{ name: 'sh', kind: 'sh' }],
    });
    agents.push(a);
    a.start();
    await a.waitConnected();
    const t0 = Date.now();
    await waitFor(() => connections >= 2, 'a second connection', 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(hellos[0]).toMatchObject({
      op: 'hello',
      name: 'quiet1',
      secret: 'chs_' + 'q'.repeat(43),
      tags: ['role=test'],
      configurations: ['sh'],
      defaultConfiguration: 'sh',
    });
    expect(hellos[0]).not.toHaveProperty('token');
  });
});
