import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, afterEach, expect, it } from 'vitest';

/**
 * The bot is SIGKILLed in the middle of a job (no clean shutdown: no final writes, the SQLite
 * WAL left as it is) while real agents keep running their scripts and spool what the dead hub
 * never acknowledged. The bot is started again on the same database and port; the agents find
 * it, resend, and the job completes with every output line stored once and shown once: what a
 * Receive-Job showed before the crash is not shown again, everything else is.
 *
 * Everything is a real process: `node --import tsx src/main.ts` (console channel, stdin piped),
 * `src/admin/main.ts token create`, and `agent/main.ts` for each computer.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const AGENTS = ['web1', 'web2', 'web3'];
const LINES = 40;
const TSX = ['--import', 'tsx'];

interface Proc {
  label: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
}

/** The processes of the test that runs now. */
const procs: Proc[] = [];
const dirs: string[] = [];

afterEach(async () => {
  // Every process the test started, even when an assertion failed half-way.
  await Promise.all(procs.map((p) => stop(p)));
  procs.length = 0;
});

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The parent's environment without any of the bot's settings (a developer's shell may set some). */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX|AGENT)_/.test(k)) env[k] = v;
  }
  return env;
}

function start(label: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [...TSX, ...args], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // A write to the stdin of a process that died must not crash the test runner.
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

async function stop(p: Proc): Promise<void> {
  if (!running(p)) return;
  p.child.kill('SIGKILL');
  await p.exited;
}

function tail(text: string, lines = 25): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** What every process said last: attached to every failure so a red run explains itself. */
function diagnostics(): string {
  return procs
    .map(
      (p) =>
        `--- ${p.label} (${running(p) ? 'running' : `exited ${String(p.child.exitCode ?? p.child.signalCode)}`}) ---\nstdout:\n${tail(p.stdout())}\nstderr:\n${tail(p.stderr())}`,
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

async function waitPortOpen(port: number, bot: Proc, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (!running(bot)) throw new Error(`the bot exited before its hub listened\n${diagnostics()}`);
    if (Date.now() > deadline) throw new Error(`the bot's hub did not listen on ${port} within ${timeoutMs} ms\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Reads the bot's database the way an operator's sqlite3 would: read-only, beside the live bot. */
function query<T>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** Output lines stored per computer for a job (chunks may hold several lines or split one). */
function storedLines(dbPath: string, jobId: number): Map<string, string[]> {
  const rows = query<{ computer: string; data: string }>(
    dbPath,
    "SELECT computer, data FROM job_output WHERE job_id = ? AND stream = 'output' ORDER BY child_id, seq",
    jobId,
  );
  const text = new Map<string, string>();
  for (const r of rows) text.set(r.computer, (text.get(r.computer) ?? '') + r.data);
  const out = new Map<string, string[]>();
  for (const [c, t] of text)
    out.set(
      c,
      t.split('\n').filter((l) => l !== ''),
    );
  return out;
}

/** What an agent's outbox spool holds (messages are stored there before they are sent, until acknowledged). */
function spool(stateDir: string): { unackedOutputs: number; finalStates: number } {
  const outbox = join(stateDir, 'outbox');
  let unackedOutputs = 0;
  let finalStates = 0;
  if (!existsSync(outbox)) return { unackedOutputs, finalStates };
  for (const f of readdirSync(outbox)) {
    if (!f.endsWith('.jsonl')) continue;
    let text = '';
    try {
      text = readFileSync(join(outbox, f), 'utf8');
    } catch {
      continue; // deleted meanwhile: its run's end was acknowledged
    }
    let acked = 0;
    const outputSeqs: number[] = [];
    for (const line of text.split('\n')) {
      let v: { ack?: number; op?: string; seq?: number; state?: string };
      try {
        v = JSON.parse(line) as typeof v;
      } catch {
        continue; // empty, or torn while being appended
      }
      if (typeof v.ack === 'number') acked = Math.max(acked, v.ack);
      else if (v.op === 'output' && typeof v.seq === 'number') outputSeqs.push(v.seq);
      else if (v.op === 'state' && v.state !== undefined && v.state !== 'Running') finalStates++;
    }
    unackedOutputs += outputSeqs.filter((seq) => seq > acked).length;
  }
  return { unackedOutputs, finalStates };
}

function count(text: string, re: RegExp): number {
  return (text.match(re) ?? []).length;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Scenario {
  /** Before the crash, Receive-Job takes what is stored so far (it must not be shown again). */
  receiveBeforeCrash: boolean;
  /** Start the bot again only once every agent's script ended (its final state waits in the spool). */
  restartAfterScriptsEnd: boolean;
}

async function crashMidJob(scenario: Scenario): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-bot-crash-'));
  dirs.push(dir);
  const dbPath = join(dir, 'chatops.db');
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    ['rules:', '  - name: tests-console', '    channels: [console]', "    computers: ['*']", "    cmdlets: ['*']", ''].join('\n'),
  );
  mkdirSync(join(dir, 'runbooks'));
  // One fixed port for both lives of the bot: the agents dial the same URL after the crash.
  const port = await freePort();
  const botEnv: NodeJS.ProcessEnv = {
    ...baseEnv(),
    CHATOPS_DB: dbPath,
    CHATOPS_POLICY_FILE: policyFile,
    HUB_LISTEN: `127.0.0.1:${port}`,
    HUB_HEARTBEAT_MS: '500',
    RUNBOOKS_DIR: join(dir, 'runbooks'),
    EMBEDDED_AGENT: 'false',
    // Far longer than the agents take to come back (their reconnect backoff stays under ~10 s):
    // the children must wait for them, not be given up as lost.
    AGENT_LOST_GRACE: '2m',
    LOG_LEVEL: 'warn',
  };

  // One enrolment token for all the agents, from the admin CLI on the same database.
  const admin = await promisify(execFile)(
    process.execPath,
    [...TSX, join(REPO, 'src', 'admin', 'main.ts'), 'token', 'create', '--ttl', '10m', '--uses', String(AGENTS.length)],
    { cwd: REPO, env: botEnv, timeout: 60_000 },
  );
  const token = admin.stdout.trim();
  expect(token, `admin token create printed:\n${admin.stdout}\n${admin.stderr}`).toMatch(/^\S+$/);

  const bot1 = start('bot (first life)', [join(REPO, 'src', 'main.ts')], botEnv);
  await waitPortOpen(port, bot1, 30_000);

  const agents = AGENTS.map((name) => {
    const stateDir = join(dir, 'agents', name);
    const proc = start(
      `agent ${name}`,
      [
        join(REPO, 'agent', 'main.ts'),
        '--hub',
        `ws://127.0.0.1:${port}`,
        '--name',
        name,
        '--state-dir',
        stateDir,
        '--token',
        token,
        '--log-level',
        'info',
        '--script-env',
        'CRASH_TEST_AGENT',
      ],
      // The script names its computer from this (given to scripts by --script-env), so each
      // agent's lines are told apart (and not merged into one result block, as identical outputs are).
      { ...baseEnv(), CRASH_TEST_AGENT: name },
    );
    return { name, stateDir, proc, connections: () => count(proc.stderr(), /connected to the hub/g) };
  });
  await waitUntil(() => agents.every((a) => a.connections() >= 1), 30_000, 'the agents to enrol and connect');

  // About 4 s of numbered lines on each agent: long enough to kill the bot in the middle.
  bot1.child.stdin!.write(
    `icm ${AGENTS.join(',')} { for i in $(seq 1 ${LINES}); do echo "$CRASH_TEST_AGENT line $i"; sleep 0.1; done } -AsJob\n`,
  );
  await waitUntil(() => /\(Id \d+\)/.test(bot1.stdout()), 20_000, 'the job to be created');
  const jobId = Number(/\(Id (\d+)\)/.exec(bot1.stdout())![1]);
  // The job's row in Get-Job's table: Id, Name, PSJobTypeName, State, HasMoreData.
  const jobRow = (state: string, more: string): RegExp => new RegExp(`^\\s*${jobId}\\s+\\S+\\s+RemoteJob\\s+${state}\\s+${more}\\s`, 'm');

  // Some output of every computer is stored, not all of it: the job is mid-way.
  await waitUntil(
    () => {
      const stored = storedLines(dbPath, jobId);
      return AGENTS.every((a) => (stored.get(a)?.length ?? 0) >= 3);
    },
    20_000,
    'the first lines of every computer to be stored',
  );
  let shownBefore = '';
  if (scenario.receiveBeforeCrash) {
    // Get-Job after it: the console runs lines one by one, so once its table is printed,
    // Receive-Job has finished, read positions included.
    const mark = bot1.stdout().length;
    bot1.child.stdin!.write(`Receive-Job -Id ${jobId}\nGet-Job -Id ${jobId}\n`);
    await waitUntil(() => jobRow('Running', '\\S+').test(bot1.stdout().slice(mark)), 20_000, 'Receive-Job and Get-Job on the first bot');
    shownBefore = bot1.stdout().slice(mark);
  }
  bot1.child.kill('SIGKILL');
  expect(await bot1.exited).toBe('SIGKILL');

  const atCrash = storedLines(dbPath, jobId);
  const storedAtCrash = AGENTS.map((a) => `${a}: ${atCrash.get(a)?.length ?? 0}`).join(', ');
  // Otherwise this test would prove nothing about a crash mid-job.
  expect(
    AGENTS.every((a) => (atCrash.get(a)?.length ?? 0) < LINES),
    `a computer had stored all its lines before the bot was killed (${storedAtCrash}); the job was not mid-way`,
  ).toBe(true);
  expect(query<{ state: string }>(dbPath, 'SELECT state FROM jobs WHERE id = ?', jobId)).toEqual([{ state: 'Running' }]);

  // No bot runs: the agents keep running the scripts and spool what they cannot deliver.
  if (scenario.restartAfterScriptsEnd) {
    await waitUntil(() => agents.every((a) => spool(a.stateDir).finalStates === 1), 30_000, 'the scripts to end while the bot is down');
  } else {
    await waitUntil(
      () => agents.every((a) => spool(a.stateDir).unackedOutputs >= 2),
      20_000,
      'the agents to spool output while the bot is down',
    );
  }
  expect(
    agents.every((a) => running(a.proc)),
    `an agent died with the bot\n${diagnostics()}`,
  ).toBe(true);

  const bot2 = start('bot (second life)', [join(REPO, 'src', 'main.ts')], botEnv);
  await waitPortOpen(port, bot2, 30_000);
  // The new bot is asked through its own console; end of input then ends it (exit 0: no command
  // failed). -Force: wait through Disconnected (children wait so until their agents are back) to
  // the end, as PowerShell's Receive-Job -Wait -Force does.
  bot2.child.stdin!.end(`Receive-Job -Id ${jobId} -Wait -Force\nGet-Job -Id ${jobId}\n`);
  const exit = await Promise.race([
    bot2.exited,
    new Promise<string>((r) => setTimeout(() => r('still running after 45 s'), 45_000).unref()),
  ]);
  const context = `(stored at the crash: ${storedAtCrash})\nshown before the crash:\n${shownBefore}\nshown after:\n${bot2.stdout()}\n${diagnostics()}`;
  expect(exit, `the restarted bot did not complete Receive-Job -Wait and Get-Job ${context}`).toBe(0);
  expect(
    agents.every((a) => a.connections() >= 2),
    `every agent reconnected to the new bot ${context}`,
  ).toBe(true);
  // Recovering from the crash is routine, not an error (a stale WAL, a job left Running, resends).
  expect(bot2.stderr(), `the restarted bot logged errors ${context}`).not.toMatch(/ ERROR |Internal error|unhandled|SQLITE_/i);

  const shownAfter = bot2.stdout();
  expect(shownAfter).toMatch(jobRow('Completed', 'False'));
  // Each computer's lines are its own block of at most LINES lines, shown inline: were one cut to
  // head and tail (whole output in a file), the counts below would not see every line.
  expect(shownBefore + shownAfter, `a result was cut ${context}`).not.toMatch(/lines cut/);
  const failures: string[] = [];
  for (const a of AGENTS) {
    for (let i = 1; i <= LINES; i++) {
      const line = new RegExp(`^${escapeRegExp(`${a} line ${i}`)}$`, 'gm');
      const n = count(shownBefore, line) + count(shownAfter, line);
      if (n !== 1) failures.push(`${a} line ${i} shown ${n} times`);
    }
  }
  expect(failures, `every line is shown exactly once across both lives ${context}`).toEqual([]);
  if (scenario.receiveBeforeCrash) expect(count(shownBefore, /^web\d line \d+$/gm)).toBeGreaterThanOrEqual(3 * AGENTS.length);

  // The store itself: final states, each line once and in order, and per run one row per seq
  // with no gap (nothing lost, no line stored again under a second seq).
  expect(query<{ state: string }>(dbPath, 'SELECT state FROM jobs WHERE id = ?', jobId)).toEqual([{ state: 'Completed' }]);
  expect(
    query<{ computer: string; state: string }>(
      dbPath,
      'SELECT computer, state FROM child_jobs WHERE parent_id = ? ORDER BY computer',
      jobId,
    ),
  ).toEqual(AGENTS.map((computer) => ({ computer, state: 'Completed' })));
  const stored = storedLines(dbPath, jobId);
  for (const a of AGENTS) {
    expect(stored.get(a), `stored lines of ${a}`).toEqual(Array.from({ length: LINES }, (_, i) => `${a} line ${i + 1}`));
  }
  const seqs = query<{ run_id: string; n: number; distinct_seqs: number; lo: number; hi: number }>(
    dbPath,
    'SELECT run_id, count(*) AS n, count(DISTINCT seq) AS distinct_seqs, min(seq) AS lo, max(seq) AS hi FROM job_output WHERE job_id = ? GROUP BY run_id',
    jobId,
  );
  expect(seqs).toHaveLength(AGENTS.length);
  for (const s of seqs) {
    expect(s.distinct_seqs, `run ${s.run_id}: rows per seq`).toBe(s.n);
    expect(s.hi - s.lo + 1, `run ${s.run_id}: seqs ${s.lo}..${s.hi} have gaps`).toBe(s.n);
  }
  // Acknowledged at last: nothing is left in the agents' spools.
  await waitUntil(
    () => agents.every((a) => spool(a.stateDir).unackedOutputs === 0 && spool(a.stateDir).finalStates === 0),
    10_000,
    'the agents to drop their acknowledged spools',
  );
}

it('a bot SIGKILLed mid-job and started at once completes the job; each line is shown once, before or after the crash', async () => {
  await crashMidJob({ receiveBeforeCrash: true, restartAfterScriptsEnd: false });
}, 120_000);

it('a bot SIGKILLed mid-job and started after the scripts ended gets the rest and the end from the agents, each line once', async () => {
  await crashMidJob({ receiveBeforeCrash: false, restartAfterScriptsEnd: true });
}, 120_000);
