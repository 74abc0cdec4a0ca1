import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { silentLogger } from '../../src/log.js';
import { RecordingSink } from '../helpers/runtime.js';

/**
 * The embedded agent keeps its outbox and started-run log beside the database. Two bots whose
 * database files share a directory (two test or staging setups, a copy for an experiment) must
 * not share that state: a second bot starting must not treat the first one's running script as
 * "left over from before a restart" and kill it, nor take (and acknowledge) its output.
 */

const dir = mkdtempSync(join(tmpdir(), 'chatops-two-bots-'));
const apps: App[] = [];
afterAll(async () => {
  for (const a of apps) await a.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function bot(db: string): Promise<App> {
  const config = loadConfig({
    CHATOPS_DB: join(dir, db),
    HUB_LISTEN: '127.0.0.1:0',
    RUNBOOKS_DIR: join(dir, 'rb'),
    HUB_HEARTBEAT_MS: '1000',
  });
  const app = await startApp(config, { log: silentLogger, statusIntervalMs: 50 });
  apps.push(app);
  return app;
}

it('a second bot with its database in the same directory leaves the first one’s running script alone', async () => {
  const a = await bot('a.db');
  const sink = new RecordingSink();
  const started = await a.core.handle(
    {
      channel: 'console',
      user: { platform: 'console', userId: 'console', displayName: 't' },
      text: 'icm localhost { sleep 1.5; echo survived } -AsJob',
      source: 'command',
    },
    sink,
  );
  const id = started.jobIds[0]!;
  expect(id).toBeGreaterThan(0);
  await new Promise((r) => setTimeout(r, 300)); // the script is running

  await bot('b.db');
  const done = await a.jobs.waitFor(id);
  expect(done?.state).toBe('Completed');
  expect(a.store.output(id).map((o) => o.data.trim())).toEqual(['survived']);
}, 30_000);
