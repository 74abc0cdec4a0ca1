import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ChatOpsError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { alreadyRunningMessage, type BotLock, type BotLockHolder, takeBotLock } from '../../src/store/bot-lock.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * The bot's lock within one process (startApp as tests and tools call it) and its description
 * file. The cross-process behaviour, with real bots, is test/console/second-bot.test.ts.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
const locks: BotLock[] = [];
let rt: TestRuntime | undefined;

afterEach(async () => {
  for (const l of locks.splice(0)) l.release();
  await rt?.stop();
  rt = undefined;
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-bot-lock-'));
  dirs.push(dir);
  return join(dir, 'chatops.db');
}

function take(dbPath: string, now?: () => Date): BotLock {
  const lock = takeBotLock(dbPath, now ? { now } : {});
  locks.push(lock);
  return lock;
}

function refusal(fn: () => unknown): ChatOpsError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ChatOpsError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

/** A pid no process has now: one that has just exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

/** What takeBotLock says in a separate process: the OS lock as another bot would meet it. */
function lockFromAnotherProcess(dbPath: string): string {
  const script = `import(${JSON.stringify(join(REPO, 'src', 'store', 'bot-lock.ts'))}).then((m) => {
    try { m.takeBotLock(${JSON.stringify(dbPath)}).release(); console.log('taken'); } catch (e) { console.log(e.code); }
  })`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return `${r.stdout.trim()}${r.stderr.trim() ? ` (stderr: ${r.stderr.trim()})` : ''}`;
}

const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

it('refuses a second app on the same database, keeps the first one’s lock and job, and is let go by stop()', async () => {
  rt = await startTestRuntime({ embeddedAgent: true });
  const started = await rt.run('icm localhost -ConfigurationName bash { sleep 1; echo kept } -AsJob');
  const jobId = started.jobIds[0]!;

  const second = await startApp(rt.config, { log: silentLogger }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(second).toBeInstanceOf(ChatOpsError);
  expect((second as ChatOpsError).code).toBe('BotAlreadyRunning');
  const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  expect((second as ChatOpsError).message).toMatch(
    new RegExp(
      `^${esc(`another bot is running on ${rt.config.dbPath} (pid ${process.pid} on host ${hostname()} since `)}\\d\\d:\\d\\d${esc(
        `, hub ${rt.app.hubUrl}); stop it first, or give this one its own CHATOPS_DB`,
      )}$`,
    ),
  );
  // The refused attempt closed its own handle on the lock file; the first app's lock survived it
  // (closing any descriptor of a locked file drops the process's POSIX locks, unless SQLite defers it).
  expect(refusal(() => takeBotLock(rt!.config.dbPath)).code).toBe('BotAlreadyRunning');
  expect(lockFromAnotherProcess(rt.config.dbPath)).toBe('BotAlreadyRunning');

  const done = await rt.app.jobs.waitFor(jobId);
  expect(done?.state).toBe('Completed');
  expect(rt.app.store.output(jobId).map((o) => o.data.trim())).toEqual(['kept']);

  // stop() then start in one process: the lock is released by stop() and taken again.
  await rt.restartApp();
  expect((await rt.run('Get-Job')).ok).toBe(true);
  expect(refusal(() => takeBotLock(rt!.config.dbPath)).message).toContain(`hub ${rt.app.hubUrl})`);
}, 60_000);

it('lets apps on different databases of one directory run side by side', () => {
  const a = tempDb();
  const b = join(a, '..', 'other.db');
  take(a);
  expect(() => take(b)).not.toThrow();
});

it('describes the holder beside the lock, 0600, and removes the description on release', () => {
  const dbPath = tempDb();
  const started = new Date('2026-03-04T10:42:00');
  const lock = take(dbPath, () => started);
  expect(lock.path).toBe(`${dbPath}.lock`);
  expect(lock.holderPath).toBe(`${dbPath}.lock.json`);
  expect(mode(lock.path)).toBe('600');
  expect(mode(lock.holderPath)).toBe('600');
  const read = (): BotLockHolder => JSON.parse(readFileSync(lock.holderPath, 'utf8')) as BotLockHolder;
  expect(read()).toEqual({ pid: process.pid, host: hostname(), startedAt: started.toISOString(), database: dbPath });
  lock.setHub('ws://127.0.0.1:5985');
  expect(read().hub).toBe('ws://127.0.0.1:5985');

  lock.release();
  lock.release(); // idempotent
  expect(existsSync(lock.holderPath)).toBe(false);
  // The lock file stays: deleting it would let a bot waiting on the old file and one creating a
  // new file both think they hold it.
  expect(existsSync(lock.path)).toBe(true);
  expect(lockFromAnotherProcess(dbPath)).toBe('taken');
  expect(() => take(dbPath)).not.toThrow();
});

it('is not blocked by a description a crashed bot left, and does not name that dead bot', () => {
  const dbPath = tempDb();
  const dead = deadPid();
  const stale: BotLockHolder = {
    pid: dead,
    host: hostname(),
    startedAt: new Date().toISOString(),
    database: dbPath,
    hub: 'ws://127.0.0.1:1',
  };
  writeFileSync(`${dbPath}.lock.json`, JSON.stringify(stale));
  const lock = take(dbPath);
  expect((JSON.parse(readFileSync(lock.holderPath, 'utf8')) as BotLockHolder).pid).toBe(process.pid);

  // Locked, described by a pid that is gone (the instant between a new bot's lock and its
  // description): the message names no one rather than the dead bot.
  writeFileSync(lock.holderPath, JSON.stringify(stale));
  const e = refusal(() => takeBotLock(dbPath));
  expect(e.code).toBe('BotAlreadyRunning');
  expect(e.message).toBe(
    `another bot is running on ${dbPath} (it holds ${dbPath}.lock); stop it first, or give this one its own CHATOPS_DB`,
  );
});

it('says when the holder started (the date when not today) and whether its hub listens yet', () => {
  const holder: BotLockHolder = { pid: 1234, host: 'vm', startedAt: new Date(2026, 2, 4, 9, 5).toISOString(), database: '/d/chatops.db' };
  expect(alreadyRunningMessage('./data/chatops.db', { ...holder, hub: 'ws://127.0.0.1:5985' }, new Date(2026, 2, 4, 18, 0))).toBe(
    'another bot is running on ./data/chatops.db (pid 1234 on host vm since 09:05, hub ws://127.0.0.1:5985); stop it first, or give this one its own CHATOPS_DB',
  );
  expect(alreadyRunningMessage('./data/chatops.db', holder, new Date(2026, 2, 6, 8, 0))).toBe(
    'another bot is running on ./data/chatops.db (pid 1234 on host vm since 2026-03-04 09:05, hub not listening yet); stop it first, or give this one its own CHATOPS_DB',
  );
});

it('refuses to start on a lock file that is not its own, before creating the database', async () => {
  const dbPath = tempDb();
  writeFileSync(`${dbPath}.lock`, 'not a lock\n');
  const config = loadConfig({ CHATOPS_DB: dbPath, HUB_LISTEN: '127.0.0.1:0', EMBEDDED_AGENT: 'false' });
  const e = await startApp(config, { log: silentLogger }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ChatOpsError);
  expect((e as ChatOpsError).code).toBe('BotLockFailed');
  expect((e as ChatOpsError).message).toContain(`${dbPath}.lock`);
  expect((e as ChatOpsError).message).toContain('if no bot is running on this database, delete it');
  expect(existsSync(dbPath)).toBe(false);
});
