import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { addressGroup } from '../../src/hub/pending-connections.js';
import { createLogger, MAX_MASKED_SECRETS } from '../../src/log.js';
import { PROTOCOL_VERSION } from '../../src/protocol/agent-protocol.js';
import { HubHarness, startAgentProcess, waitFor, type AgentProcess } from '../hub/harness.js';

/**
 * What a peer can cost the hub before it has proved anything: forged hellos cannot change what
 * the log shows nor grow the mask list, and unauthenticated connections are capped in total and
 * per address and cut quickly when they never complete an upgrade. Real hub, real SQLite file,
 * a real agent process; the floods are bounded and come from loopback addresses only.
 */

const h = new HubHarness();
const agents: AgentProcess[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  // A long upgrade timeout (3 s): a socket the caps refuse is closed at once, one they admit only then.
  await h.start({ heartbeatMs: 1000, helloTimeoutMs: 3000, maxPending: 30, maxPendingPerAddress: 10 });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await h.destroy();
});

function forgedHello(secret: string, name = 'web1'): Promise<void> {
  return new Promise((resolve) => {
    const ws = new WebSocket(h.url);
    ws.on('open', () =>
      ws.send(
        JSON.stringify({
          op: 'hello',
          protocol: PROTOCOL_VERSION,
          name,
          secret,
          os: 'x',
          version: '1',
          tags: [],
          configurations: [],
          defaultConfiguration: '',
        }),
      ),
    );
    ws.on('close', () => resolve());
    ws.on('error', () => resolve());
  });
}

/** A TCP connection to the hub from `from` that sends nothing (or what `drip` sends). */
function idle(from: string): Promise<{ socket: Socket; closed: Promise<number> }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: h.port, localAddress: from });
    sockets.push(socket);
    const t0 = Date.now();
    const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - t0)));
    socket.on('error', () => {});
    socket.on('connect', () => resolve({ socket, closed }));
    socket.on('close', () => resolve({ socket, closed }));
  });
}

async function enrolledAgent(name: string): Promise<AgentProcess> {
  const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
  const a = startAgentProcess([
    '--hub',
    h.url,
    '--name',
    name,
    '--token',
    token,
    '--state-dir',
    `${h.dir}/${name}`,
    '--configuration',
    'bash',
  ]);
  agents.push(a);
  await waitFor(() => h.hub.isConnected(name), `${name} to connect`, 20_000);
  return a;
}

describe('forged hellos and the log', () => {
  it('a forged secret never masks later log lines, and a flood of them registers nothing', async () => {
    const before = h.log.maskedCount();
    await forgedHello('agent connected');
    await forgedHello('127.0.0.1');
    for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 30 }, (_, j) => forgedHello(`forged-secret-${i}-${j}-padding`)));
    expect(h.log.maskedCount()).toBe(before);
    await enrolledAgent('web1');
    const line = h.logs.find((l) => l.includes('"agent":"web1"') && l.includes('agent connected'));
    expect(line).toBeDefined();
    expect(line).toContain('"remote":"127.0.0.1:');
    expect(line).not.toContain('***');
  }, 60_000);
  it('a name full of terminal controls reaches the log escaped, never raw', async () => {
    await forgedHello('chs_whatever-secret-value-1234567890', '\u009d0;PWNED\u0007\u009b2J\u001b[31m');
    const line = h.logs.find((l) => l.includes('PWNED'));
    expect(line).toBeDefined();
    expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(line).toContain('\\u009d0;PWNED');
  });

  it('the mask list is bounded, and says so once when full', () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l));
    for (let i = 0; i < 3 * MAX_MASKED_SECRETS; i++) log.addSecret(`secret-number-${i}`);
    expect(log.maskedCount()).toBe(MAX_MASKED_SECRETS);
    expect(lines.filter((l) => l.includes(`more than ${MAX_MASKED_SECRETS} secrets`))).toHaveLength(1);
    log.info('secret-number-0 is masked');
    expect(lines.at(-1)).toContain('*** is masked');
  });
});

describe('connections that have not authenticated', () => {
  it('IPv6 peers are counted per /64, IPv4 per address', () => {
    expect(addressGroup('2001:db8:1:2::5')).toBe(addressGroup('2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd'));
    expect(addressGroup('2001:db8:1:2::5')).not.toBe(addressGroup('2001:db8:1:3::5'));
    expect(addressGroup('127.0.0.2')).not.toBe(addressGroup('127.0.0.3'));
    expect(addressGroup('::ffff:127.0.0.2')).toBe('::ffff:127.0.0.2');
  });

  it('are capped per address and in total, logged once, cut when they never upgrade; a real agent still gets in', async () => {
    // 25 idle connections from one address: at most 10 are kept.
    const one = await Promise.all(Array.from({ length: 25 }, () => idle('127.0.0.2')));
    const open = (list: Array<{ socket: Socket }>): number =>
      list.filter((c) => !c.socket.destroyed && c.socket.readyState === 'open').length;
    // The refused ones are closed long before the admitted ones time out.
    await waitFor(() => open(one) <= 10, 'the hub to refuse 15 of 25', 2500);
    expect(h.hub.pendingConnections()).toBeLessThanOrEqual(10);
    // From four more addresses: the total cap (30) holds.
    const many = await Promise.all(
      ['127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'].flatMap((a) => Array.from({ length: 10 }, () => idle(a))),
    );
    await waitFor(() => open([...one, ...many]) <= 30, 'the hub to refuse past 30 in total', 2500);
    expect(h.hub.pendingConnections()).toBeLessThanOrEqual(30);
    expect(h.logs.some((l) => l.includes('WARN agent hub: refusing connections') && l.includes('HUB_MAX_PENDING_PER_ADDRESS=10'))).toBe(
      true,
    );
    expect(h.logs.filter((l) => l.includes('refusing connections')).length).toBeLessThanOrEqual(2);

    // Idle sockets are cut after the upgrade timeout (3 s), so the slots come back.
    const times = await Promise.all([...one, ...many].map((c) => c.closed));
    expect(Math.max(...times)).toBeLessThan(8000);
    await waitFor(() => h.hub.pendingConnections() === 0, 'pending connections to drain', 5000);

    // A real agent connects and works meanwhile, from its own address.
    await enrolledAgent('web2');
    const r = await h.run('web2', { script: 'echo still-served', configurationName: 'bash' });
    expect(r.stdout).toBe('still-served\n');
  }, 60_000);

  it('cuts a slow upgrade that drips its headers', async () => {
    await waitFor(() => h.hub.pendingConnections() === 0, 'no pending connection', 10_000);
    const { socket, closed } = await idle('127.0.0.7');
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => {
      if (!socket.destroyed) socket.write('X');
    }, 100);
    const ms = await closed;
    clearInterval(drip);
    // Cut by the upgrade timeout (3 s) although it kept sending: not at once, not much later.
    expect(ms).toBeGreaterThanOrEqual(2900);
    expect(ms).toBeLessThan(6000);
  }, 20_000);
});
