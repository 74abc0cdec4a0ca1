import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackAdapter } from '../../adapters/slack/index.js';
import { silentLogger } from '../../src/log.js';
import { FakeSlack } from '../fakes/slack-server.js';
import { startTestRuntime } from '../helpers/runtime.js';

/**
 * Where the Slack HTTP receiver listens comes from the settings (SLACK_LISTEN, or the older
 * SLACK_PORT on 127.0.0.1), not from every interface. The real bolt App is started from the
 * configuration alone (no host or port override) against the fake Slack, and probed from two
 * loopback addresses: the bound one answers Slack's endpoint, the other refuses the connection.
 */

let fake: FakeSlack;

beforeAll(async () => {
  fake = await FakeSlack.start();
});

afterAll(async () => {
  await fake?.stop();
});

/** `connected` or the connect error's code (ECONNREFUSED when nothing listens there). */
function probe(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

async function listening(settings: Record<string, string>): Promise<{ port: number; stop(): Promise<void> }> {
  const rt = await startTestRuntime({
    env: { SLACK_BOT_TOKEN: fake.botToken, SLACK_SIGNING_SECRET: 'listen-test-secret', SLACK_API_URL: fake.apiUrl, ...settings },
  });
  try {
    const adapter = await startSlackAdapter({ core: rt.core, config: rt.config, log: silentLogger });
    return {
      port: adapter.port!,
      async stop() {
        await adapter.stop();
        await rt.stop();
      },
    };
  } catch (e) {
    await rt.stop();
    throw e;
  }
}

describe('the Slack HTTP receiver listens where the settings say', () => {
  it('SLACK_LISTEN=127.0.0.1:PORT: Slack requests are served there, and 127.0.0.2 is refused', async () => {
    const bot = await listening({ SLACK_LISTEN: '127.0.0.1:0' });
    try {
      // bolt's receiver, checking signatures: an unsigned request is refused with 401.
      const res = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, { method: 'POST', body: 'command=%2Fps' });
      expect(res.status).toBe(401);
      expect(await probe('127.0.0.2', bot.port)).toBe('ECONNREFUSED');
    } finally {
      await bot.stop();
    }
  });

  it('SLACK_LISTEN=127.0.0.2:PORT: only that address', async () => {
    const bot = await listening({ SLACK_LISTEN: '127.0.0.2:0' });
    try {
      expect(await probe('127.0.0.2', bot.port)).toBe('connected');
      expect(await probe('127.0.0.1', bot.port)).toBe('ECONNREFUSED');
    } finally {
      await bot.stop();
    }
  });

  it('the older SLACK_PORT alone binds 127.0.0.1, not every interface', async () => {
    const bot = await listening({ SLACK_PORT: '0' });
    try {
      expect(await probe('127.0.0.1', bot.port)).toBe('connected');
      expect(await probe('127.0.0.2', bot.port)).toBe('ECONNREFUSED');
    } finally {
      await bot.stop();
    }
  });

  it('a taken port fails start with one line naming SLACK_LISTEN', async () => {
    const held = await listening({ SLACK_LISTEN: '127.0.0.1:0' });
    try {
      await expect(listening({ SLACK_LISTEN: `127.0.0.1:${held.port}` })).rejects.toMatchObject({
        code: 'ListenFailed',
        message: `could not listen on 127.0.0.1:${held.port}: in use (another bot? set SLACK_LISTEN)`,
      });
    } finally {
      await held.stop();
    }
  });

  it('an address this computer does not have fails start saying so', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): assigned to no host.
    await expect(listening({ SLACK_LISTEN: '192.0.2.1:3000' })).rejects.toMatchObject({
      code: 'ListenFailed',
      message: 'could not listen on 192.0.2.1:3000: this computer has no such address (set SLACK_LISTEN)',
    });
  });
});
