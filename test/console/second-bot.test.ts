import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, afterEach, expect, it } from 'vitest';

/**
 * One bot per database. A second `npm start` on a database a bot is using refuses to start with
 * one line naming the running bot, and leaves everything of the first one alone: its running
 * job, the embedded agent's state, the audit trail. The lock dies with the bot, so a bot stopped
 * cleanly or SIGKILLed never blocks the next one. The admin CLI still works beside a running bot.
 *
 * Every bot is the real entry point, `node --import tsx src/main.ts` with the console channel
 * (stdin piped and kept open while it must run), its embedded agent, and the hub on a free port.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = ['--import', 'tsx'];

interface Proc {
  label: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
}

const procs: Proc[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(procs.map((p) => kill(p)));
  procs.length = 0;
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The parent's environment without any of the bot's settings (a developer's shell may set some). */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX|AGENT|JOB)_/.test(k)) env[k] = v;
  }
  return env;
}

function setup(): { dir: string; dbPath: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-second-bot-'));
  dirs.push(dir);
  const dbPath = join(dir, 'data', 'chatops.db');
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    CHATOPS_DB: dbPath,
    HUB_LISTEN: '127.0.0.1:0',
    RUNBOOKS_DIR: join(dir, 'runbooks'),
    LOG_LEVEL: 'warn',
  };
  return { dir, dbPath, env };
}

/**
 * The same bot configured for Discord: refused before any adapter starts, so the settings are
 * never used; chat mode has no console input to forward to the running bot.
 */
function chatEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, DISCORD_TOKEN: 'never-used', DISCORD_APPLICATION_ID: '123456789012345678' };
}

function startBot(label: string, env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [...TSX, join(REPO, 'src', 'main.ts')], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // A write to the stdin of a bot that refused to start must not crash the test runner.
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', (e) => resolve(`spawn error: ${e.message}`));
  });
  const p: Proc = { label, child, stdout: () => out, stderr: () => err, exited };
  procs.push(p);
  return p;
}

function running(p: Proc): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

async function kill(p: Proc): Promise<void> {
  if (!running(p)) return;
  p.child.kill('SIGKILL');
  await p.exited;
}

/** What every bot said: attached to every failure so a red run explains itself. */
function diagnostics(): string {
  return procs
    .map(
      (p) =>
        `--- ${p.label} (${running(p) ? 'running' : `exited ${String(p.child.exitCode ?? p.child.signalCode)}`}) ---\nstdout:\n${p.stdout().slice(-3000)}\nstderr:\n${p.stderr().slice(-3000)}`,
    )
    .join('\n');
}

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function exitWithin(p: Proc, timeoutMs: number): Promise<number | string> {
  return Promise.race([
    p.exited,
    new Promise<string>((r) => setTimeout(() => r(`still running after ${timeoutMs} ms`), timeoutMs).unref()),
  ]);
}

/** Starts `icm` on the bot's console and returns the new job's Id. */
async function startJob(bot: Proc, line: string): Promise<number> {
  const mark = bot.stdout().length;
  bot.child.stdin!.write(`${line}\n`);
  await waitUntil(() => /\(Id \d+\)/.test(bot.stdout().slice(mark)), 30_000, `${bot.label} to start a job`);
  return Number(/\(Id (\d+)\)/.exec(bot.stdout().slice(mark))![1]);
}

/** Reads the bot's database the way an operator's sqlite3 would: read-only, beside the live bot. */
function query<T>(dbPath: string, sql: string): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** Everything a second bot could have spoiled: jobs, children, agents (secrets), audit, schema. */
function databaseSnapshot(dbPath: string): unknown {
  return {
    jobs: query(dbPath, 'SELECT id, state FROM jobs ORDER BY id'),
    children: query(dbPath, 'SELECT id, state, agent, reason FROM child_jobs ORDER BY id'),
    agents: query(dbPath, 'SELECT name_key, secret_hash, enrolled_at FROM agents ORDER BY name_key'),
    aliases: query(dbPath, 'SELECT alias_key, agent_key FROM agent_aliases ORDER BY alias_key'),
    audit: query(dbPath, 'SELECT count(*) AS n, max(id) AS last FROM audit_log'),
    migrations: query(dbPath, 'SELECT count(*) AS n FROM schema_migrations'),
  };
}

/** The embedded agent's state directory: every file with its size and modification time. */
function stateSnapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .sort()
    .map((f) => {
      const s = statSync(join(dir, f));
      // The first bot itself appends acks to its running job's outbox at any moment: only the
      // file's presence is compared there. runs.log is what a second bot would touch (it would
      // end the first bot's runs as left over from a restart).
      if (f.startsWith('outbox/')) return f;
      return `${f} ${s.isDirectory() ? 'dir' : `${s.size} ${s.mtimeMs}`}`;
    });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The one line a refused bot prints, naming the running bot's pid, host, start time and hub. */
function refusalLine(dbPath: string, pid: number, hub: string): RegExp {
  return new RegExp(
    `^chatops: another bot is running on ${escapeRegExp(dbPath)} \\(pid ${pid} on host ${escapeRegExp(hostname())} since \\d\\d:\\d\\d, hub ${escapeRegExp(hub)}\\); stop it first, or give this one its own CHATOPS_DB\\n$`,
  );
}

/** The running bot's hub address, from the description it keeps beside its lock. */
function hubOf(dbPath: string): string {
  return (JSON.parse(readFileSync(`${dbPath}.lock.json`, 'utf8')) as { hub: string }).hub;
}

it('a second bot on the same database refuses, naming the first, and the first one’s running job completes', async () => {
  const { dir, dbPath, env } = setup();
  const go = join(dir, 'go');
  const first = startBot('first bot', env);
  // The script waits for the test: it is certainly running while the second bot tries to start.
  const jobId = await startJob(
    first,
    `icm localhost -ConfigurationName bash { while [ ! -e ${go} ]; do sleep 0.1; done; echo done-first } -AsJob`,
  );
  await waitUntil(
    () => query<{ state: string }>(dbPath, `SELECT state FROM child_jobs WHERE parent_id = ${jobId}`)[0]?.state === 'Running',
    20_000,
    'the child job to run',
  );
  const hub = hubOf(dbPath);
  expect(hub).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  const dbBefore = databaseSnapshot(dbPath);
  const agentState = `${dbPath}.embedded-agent`;
  const stateBefore = stateSnapshot(agentState);

  // A second bot service (chat mode): piped console input would be forwarded to the running bot
  // (attach.test.ts), a chat bot has nothing to forward and refuses.
  const second = startBot('second bot', chatEnv(env));
  // Were it to start, it would run this and end with 0.
  second.child.stdin!.end('Get-Job\n');
  const exit = await exitWithin(second, 30_000);
  expect(exit, diagnostics()).toBe(1);
  expect(second.stderr(), diagnostics()).toMatch(refusalLine(dbPath, first.child.pid!, hub));
  expect(second.stdout()).toBe('');

  // The first bot noticed nothing: same jobs, same agent secret, no audit row, no state file moved.
  expect(running(first), diagnostics()).toBe(true);
  expect(databaseSnapshot(dbPath)).toEqual(dbBefore);
  expect(stateSnapshot(agentState)).toEqual(stateBefore);
  expect(hubOf(dbPath)).toBe(hub);

  // The admin CLI opens the same database on purpose, beside the running bot.
  const admin = await promisify(execFile)(process.execPath, [...TSX, join(REPO, 'src', 'admin', 'main.ts'), 'agent', 'list'], {
    cwd: REPO,
    env,
    timeout: 60_000,
  });
  expect(admin.stdout).toMatch(/localhost/);

  // The job ends as it would have without the second bot, its output there for Receive-Job.
  writeFileSync(go, '');
  const mark = first.stdout().length;
  first.child.stdin!.write(`Receive-Job -Id ${jobId} -Wait\nGet-Job -Id ${jobId}\n`);
  const jobRow = new RegExp(`^\\s*${jobId}\\s+\\S+\\s+RemoteJob\\s+Completed\\s`, 'm');
  await waitUntil(() => jobRow.test(first.stdout().slice(mark)), 30_000, 'Receive-Job -Wait and Get-Job on the first bot');
  expect(first.stdout().slice(mark)).toMatch(/^done-first$/m);
  expect(first.stderr(), diagnostics()).not.toMatch(/ ERROR |restarted|Internal error/);

  // Stopped cleanly (end of input), the first bot lets the next one start on the database.
  first.child.stdin!.end();
  expect(await exitWithin(first, 30_000), diagnostics()).toBe(0);
  expect(existsSync(`${dbPath}.lock.json`)).toBe(false);
  const third = startBot('third bot', env);
  third.child.stdin!.end(`Get-Job -Id ${jobId}\nicm localhost { echo third-runs }\n`);
  expect(await exitWithin(third, 60_000), diagnostics()).toBe(0);
  expect(third.stdout()).toMatch(jobRow);
  expect(third.stdout()).toMatch(/^third-runs$/m);
}, 180_000);

it('a SIGKILLed bot leaves no lock behind: the next one starts at once, and is the one a later bot names', async () => {
  const { dbPath, env } = setup();
  const first = startBot('bot killed', env);
  first.child.stdin!.write('icm localhost { echo first-life }\n');
  await waitUntil(() => /^first-life$/m.test(first.stdout()), 30_000, 'the first bot to run a command');
  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  // Its description stays behind, as after any crash; only the OS lock counts, and it died with it.
  expect(existsSync(`${dbPath}.lock.json`)).toBe(true);

  const next = startBot('bot after the crash', env);
  next.child.stdin!.write('icm localhost { echo second-life }\n');
  await waitUntil(() => /^second-life$/m.test(next.stdout()), 30_000, 'the bot after the crash to run a command');
  expect(next.stderr(), diagnostics()).not.toMatch(/another bot|ERROR/);

  // A third names the bot that runs now, not the dead one.
  const third = startBot('bot refused', chatEnv(env));
  third.child.stdin!.end('Get-Job\n');
  expect(await exitWithin(third, 30_000), diagnostics()).toBe(1);
  expect(third.stderr(), diagnostics()).toMatch(refusalLine(dbPath, next.child.pid!, hubOf(dbPath)));
  expect(running(next)).toBe(true);

  next.child.stdin!.end();
  expect(await exitWithin(next, 30_000), diagnostics()).toBe(0);
}, 180_000);
