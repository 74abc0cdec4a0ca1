import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, expect, it } from 'vitest';
import { FakeSlack } from '../fakes/slack-server.js';

/**
 * The real `npm start` entry point (`node --import tsx src/main.ts`) with a port it needs
 * already held by another process: it says so in one line naming the setting that moves it, no
 * Node stack trace, and exits non-zero for the service manager.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** tsx by absolute URL: the bot runs in a fresh directory, where `--import tsx` would not resolve. */
const TSX = pathToFileURL(createRequire(join(REPO, 'package.json')).resolve('tsx')).href;
const dirs: string[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A port on 127.0.0.1 that this test process holds. */
async function holdPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** The bot with these settings and none from the developer's shell; stdin closed. */
function runBot(settings: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-port-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX|AGENT|JOB)_/.test(k)) env[k] = v;
  }
  // cwd is a fresh directory: no `.env` of the developer's is read.
  const child = spawn(process.execPath, ['--import', TSX, join(REPO, 'src', 'main.ts')], {
    cwd: dir,
    env: { ...env, CHATOPS_DB: join(dir, 'chatops.db'), RUNBOOKS_DIR: join(dir, 'runbooks'), ...settings },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

it('a taken hub port: one line naming HUB_LISTEN, no stack trace, exit 1', async () => {
  const port = await holdPort();
  // The default log level: nothing else is said before the hub listens.
  const { code, stdout, stderr } = await runBot({ HUB_LISTEN: `127.0.0.1:${port}` });
  expect(stderr).toBe(`chatops: could not start: could not listen on 127.0.0.1:${port}: in use (another bot? set HUB_LISTEN)\n`);
  expect(stdout).toBe('');
  expect(code).toBe(1);
}, 30_000);

it('a taken Slack port: one line naming SLACK_LISTEN, the rest stopped cleanly, exit 1', async () => {
  const fake = await FakeSlack.start();
  try {
    const port = await holdPort();
    const { code, stdout, stderr } = await runBot({
      HUB_LISTEN: '127.0.0.1:0',
      EMBEDDED_AGENT: 'false',
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: 'port-test-secret',
      SLACK_API_URL: fake.apiUrl,
      SLACK_LISTEN: `127.0.0.1:${port}`,
      // Info lines (the hub listening) would precede it; warnings and errors would show.
      LOG_LEVEL: 'warn',
    });
    expect(stderr).toBe(`chatops: could not start: could not listen on 127.0.0.1:${port}: in use (another bot? set SLACK_LISTEN)\n`);
    expect(stdout).toBe('');
    expect(code).toBe(1);
    // It got as far as Slack (auth.test) before the port: the failure is the listen itself.
    expect(fake.calls.map((c) => c.method)).toContain('auth.test');
  } finally {
    await fake.stop();
  }
}, 30_000);
