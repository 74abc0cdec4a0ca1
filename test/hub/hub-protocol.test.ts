import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import type { Executor } from '../../agent/executors.js';
import { startEmbeddedAgent, embeddedAgentName } from '../../src/hub/embedded-agent.js';
import { silentLogger } from '../../src/log.js';
import { CLOSE_PROTOCOL_ERROR, PROTOCOL_VERSION, type HelloMessage } from '../../src/protocol/agent-protocol.js';
import { HubHarness, waitFor } from './harness.js';

interface Closed {
  code: number;
  reason: string;
  frames: string[];
}

/** Opens a raw WebSocket, sends the frames, and reports what came back until the hub closed it. */
function rawSession(url: string, frames: Array<string | Buffer>): Promise<Closed> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got: string[] = [];
    ws.on('open', () => {
      for (const f of frames) ws.send(f);
    });
    ws.on('message', (d) => got.push(d.toString()));
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), frames: got }));
    ws.on('error', reject);
  });
}

const hello = (over: Partial<HelloMessage>): string =>
  JSON.stringify({
    op: 'hello',
    protocol: PROTOCOL_VERSION,
    name: 'raw1',
    os: 'test',
    version: '0',
    tags: [],
    configurations: ['bash'],
    defaultConfiguration: 'bash',
    ...over,
  });

describe('hub protocol checks', () => {
  const hubs: HubHarness[] = [];
  const agents: Agent[] = [];
  const start = async (opts: Parameters<HubHarness['start']>[0] = {}): Promise<HubHarness> => {
    const h = await new HubHarness().start({ heartbeatMs: 1000, ...opts });
    hubs.push(h);
    return h;
  };
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
  });
  afterAll(async () => {
    for (const h of hubs) await h.destroy();
  });

  it('closes connections whose first frame is malformed, not a hello, or late', async () => {
    const h = await start({ helloTimeoutMs: 300 });
    expect(await rawSession(h.url, ['{not json'])).toMatchObject({ code: CLOSE_PROTOCOL_ERROR, reason: 'frame is not valid JSON' });
    expect(await rawSession(h.url, ['{"op":"pong","nonce":1}'])).toMatchObject({
      code: CLOSE_PROTOCOL_ERROR,
      reason: 'the first frame must be hello',
    });
    expect(await rawSession(h.url, [hello({ token: 'cht_x', secret: 'chs_y' })])).toMatchObject({
      code: CLOSE_PROTOCOL_ERROR,
      reason: 'hello needs exactly one of token or secret',
    });
    expect(await rawSession(h.url, [Buffer.from([1, 2, 3])])).toMatchObject({ code: CLOSE_PROTOCOL_ERROR });
    const t0 = Date.now();
    expect(await rawSession(h.url, [])).toMatchObject({ code: CLOSE_PROTOCOL_ERROR, reason: 'expected hello' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const mismatch = await rawSession(h.url, [hello({ protocol: 99, token: 'cht_x' })]);
    expect(JSON.parse(mismatch.frames[0]!)).toMatchObject({ op: 'refused', code: 'ProtocolMismatch' });
    expect(h.logs.join('\n')).toContain('agent protocol error');
  });

  it('refuses frames over the size limit and closes an authenticated agent that sends a malformed frame', async () => {
    const h = await start({ maxFrameBytes: 4096 });
    expect((await rawSession(h.url, ['x'.repeat(5000)])).code).toBe(1009);

    const { secret } = h.registry.provision('raw1', { os: '', version: '', tags: [], configurations: [], defaultConfiguration: '' });
    const ws = new WebSocket(h.url);
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    await new Promise((r) => ws.on('open', r));
    ws.send(hello({ secret }));
    await waitFor(() => h.hub.isConnected('raw1'), 'raw1');
    ws.send(JSON.stringify({ op: 'output', runId: 'r1', seq: 0, stream: 'output', data: 'x', at: 1 }));
    expect(await closed).toBe(CLOSE_PROTOCOL_ERROR);
    await waitFor(() => h.events.some((e) => e.startsWith('disconnected raw1')), 'disconnected event');
    expect(h.stored.size).toBe(0);
  });

  it('acknowledges only what the handler stored: a failed store drops the connection and the agent resends', async () => {
    const h = await start();
    let failOnce = true;
    h.beforeStore = (_a, m) => {
      if (m.seq === 2 && failOnce) {
        failOnce = false;
        throw new Error('disk full');
      }
    };
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const lines: Executor = (run, sink) => {
      sink.output('output', `hello ${String(run.arguments[0])}\n`);
      setTimeout(() => sink.finish({ state: 'Completed', exitCode: 0 }), 10);
      return { stop: () => {} };
    };
    const a = new Agent({
      hubUrl: h.url,
      name: 'mem1',
      token,
      stateDir: null,
      executor: lines,
      configurations: [{ name: 'bash', kind: 'bash' }],
    });
    agents.push(a);
    a.start();
    await a.waitConnected();
    const r = await h.run('mem1', { script: 'ignored', arguments: ['world'] });
    expect(r.final.state).toBe('Completed');
    expect(r.stdout).toBe('hello world\n');
    expect(h.deliveries.get(`${r.runId}#2`)).toBe(2);
    expect(h.messages(r.runId).map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(h.logs.join('\n')).toContain('storing agent output failed');
    await waitFor(() => a.unacknowledged() === 0, 'outbox empty');
  });

  it('a newcomer with the right secret gets in quickly when the live connection is half-open', async () => {
    const h = await start({ heartbeatMs: 20_000 });
    const { secret } = h.registry.provision('half1', { os: '', version: '', tags: [], configurations: [], defaultConfiguration: '' });
    const stale = new WebSocket(h.url); // authenticates, then never answers a ping
    await new Promise((r) => stale.on('open', r));
    stale.send(hello({ name: 'half1', secret }));
    await waitFor(() => h.hub.isConnected('half1'), 'stale half1');
    const t0 = Date.now();
    const a = new Agent({ hubUrl: h.url, name: 'half1', secret, stateDir: null, configurations: [{ name: 'sh', kind: 'sh' }] });
    agents.push(a);
    const refusals: string[] = [];
    a.on('refused', (code: string) => refusals.push(code));
    a.start();
    await a.waitConnected(8000);
    expect(refusals[0]).toBe('NameInUse');
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(h.events).toContain('disconnected half1 heartbeat missed');
    stale.terminate();
  });

  it('serves many in-process agents, each its own identity, from one process', async () => {
    const h = await start();
    const n = 50;
    const token = h.registry.createToken({ ttlMs: 60_000, uses: n });
    const echo: Executor = (run, sink) => {
      sink.output('output', `${run.script}\n`);
      sink.finish({ state: 'Completed', exitCode: 0 });
      return { stop: () => {} };
    };
    for (let i = 0; i < n; i++) {
      const a = new Agent({
        hubUrl: h.url,
        name: `sim${i}`,
        token,
        stateDir: null,
        executor: echo,
        configurations: [{ name: 'sh', kind: 'sh' }],
      });
      agents.push(a);
      a.start();
    }
    await Promise.all(agents.map((a) => a.waitConnected()));
    expect(h.hub.connected()).toHaveLength(n);
    const results = await Promise.all(agents.map((a) => h.run(a.name, { script: `echo ${a.name}` })));
    for (const [i, r] of results.entries()) {
      expect(r.final.state).toBe('Completed');
      expect(r.stdout).toBe(`echo sim${i}\n`);
    }
    expect(h.registry.list().filter((r) => r.online)).toHaveLength(n);
  });

  it('serves wss with TLS; the embedded agent registers under its host name and as localhost', async () => {
    const dir = hubs[0]!.dir;
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const h = await start({ tls: { certPath: cert, keyPath: key } });
    expect(h.url).toMatch(/^wss:/);
    const a = await startEmbeddedAgent({
      registry: h.registry,
      hubUrl: h.url,
      log: silentLogger,
      stateDir: join(h.dir, 'embedded'),
      tlsCa: readFileSync(cert),
    });
    agents.push(a);
    const name = embeddedAgentName();
    expect(a.name).toBe(name);
    expect(h.registry.resolve('LocalHost')).toBe(name);
    expect(h.hub.isConnected('localhost')).toBe(true);
    const r = await h.run('LOCALHOST', { configurationName: 'bash', script: 'echo "$1"', arguments: ['over tls'] });
    expect(r.final.state).toBe('Completed');
    expect(r.stdout).toBe('over tls\n');
    // plain ws:// is not served on a TLS port
    await expect(rawSession(h.url.replace('wss:', 'ws:'), [])).rejects.toThrow();
  });

  it('names this computer from its host name', () => {
    expect(embeddedAgentName('web1.example.com')).toBe('web1');
    expect(embeddedAgentName('my box')).toBe('my-box');
    expect(embeddedAgentName('über')).toBe('ber');
    expect(embeddedAgentName('')).toBe('localhost');
  });
});
