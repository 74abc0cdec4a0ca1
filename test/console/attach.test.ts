import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, expect, it } from 'vitest';
import { FakeSlack } from '../fakes/slack-server.js';

/**
 * A console that attaches to the running bot. `printf ... | npm start` beside a running bot, and
 * `npm run console`, send their lines over `<db>.sock` to that bot, which runs them as its
 * console channel and sends back what its console prints; the second process never opens the
 * database. The socket is 0600 (only the bot's OS user can connect), gone when the bot stops,
 * replaced when a crashed bot left it, and never used by a client when it is not the user's own.
 * A piped bot that has just started waits (bounded) for its enrolled agents before its first line.
 *
 * Every process is the real entry point (`src/main.ts`, `adapters/console/attach-main.ts` for
 * `npm run console`, `src/admin/main.ts`, `agent/main.ts`) under tsx.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = ['--import', 'tsx'];
const MAIN = join(REPO, 'src', 'main.ts');
const CONSOLE = join(REPO, 'adapters', 'console', 'attach-main.ts');

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
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(procs.map((p) => kill(p)));
  procs.length = 0;
  for (const s of servers) s.close();
  servers.length = 0;
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

function setup(): { dir: string; dbPath: string; sock: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-attach-'));
  dirs.push(dir);
  const dbPath = join(dir, 'data', 'chatops.db');
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(),
    CHATOPS_DB: dbPath,
    HUB_LISTEN: '127.0.0.1:0',
    RUNBOOKS_DIR: join(dir, 'runbooks'),
    LOG_LEVEL: 'warn',
  };
  return { dir, dbPath, sock: `${dbPath}.sock`, env };
}

function start(label: string, args: string[], env: NodeJS.ProcessEnv, options: { uid?: number; gid?: number } = {}): Proc {
  const child = spawn(process.execPath, args, { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'], ...options });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  // A write to the stdin of a process that ended must not crash the test runner.
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', (e) => resolve(`spawn error: ${e.message}`));
  });
  const p: Proc = { label, child, stdout: () => out, stderr: () => err, exited };
  procs.push(p);
  return p;
}

/** `printf input | node src/main.ts` (or another entry): stdin ended at once. */
function piped(label: string, entry: string, env: NodeJS.ProcessEnv, input: string): Proc {
  const p = start(label, [...TSX, entry], env);
  p.child.stdin!.end(input);
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

/** What every process said: attached to every failure so a red run explains itself. */
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

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/** A console bot (stdin kept open), once its own console answers and (unless told) its socket listens. */
async function startConsoleBot(label: string, env: NodeJS.ProcessEnv, sock: string | undefined): Promise<Proc> {
  const bot = start(label, [...TSX, MAIN], env);
  // The socket is bound before the console starts, so the console's answer comes after it.
  bot.child.stdin!.write('icm localhost { echo bot-ready }\n');
  await waitUntil(
    () => /^bot-ready$/m.test(bot.stdout()) && (sock === undefined || isSocket(sock)),
    30_000,
    `${label} to be ready${sock === undefined ? '' : ' with its socket'}`,
  );
  return bot;
}

function attachedLine(pid: number, dbPath: string): RegExp {
  return new RegExp(`^chatops: attached to the running bot pid ${pid} \\(${dbPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm');
}

it('a piped npm start beside a running bot runs its lines in that bot: results printed, exit code from the commands; the socket is 0600', async () => {
  const { dbPath, sock, env } = setup();
  const bot = await startConsoleBot('running bot', env, sock);
  const st = statSync(sock);
  expect(st.isSocket()).toBe(true);
  expect((st.mode & 0o777).toString(8)).toBe('600');
  expect(st.uid).toBe(process.getuid!());

  // The second command is a block of lines, sent as one script as the console's own pipe reads it.
  const ok = piped('piped start', MAIN, env, 'icm localhost { echo attached }\n# a comment\nicm localhost {\n  echo block-line\n}\n');
  expect(await exitWithin(ok, 30_000), diagnostics()).toBe(0);
  expect(ok.stdout(), diagnostics()).toMatch(/^attached$/m);
  expect(ok.stdout(), diagnostics()).toMatch(/^block-line$/m);
  // Exactly one line on stderr: which bot it is attached to (no refusal, no log of a bot of its own).
  expect(ok.stderr(), diagnostics()).toMatch(new RegExp(`${attachedLine(bot.child.pid!, dbPath).source.slice(0, -1)}\\n$`));
  expect(
    ok
      .stderr()
      .split('\n')
      .filter((l) => l !== ''),
  ).toHaveLength(1);
  // It ran in the running bot (its job), printed by the client, not on the bot's own console;
  // the refused process left the bot's socket as it was (it never got the lock to replace it).
  expect(bot.stdout()).not.toMatch(/^attached$/m);
  expect(statSync(sock).ino).toBe(st.ino);

  // A failing command makes the exit code 1; the lines after it still run, as in the console.
  const failing = piped(
    'piped start, failing',
    MAIN,
    env,
    'icm localhost -ConfigurationName sh { exit 3 }\nicm localhost { echo after-the-failure }\n',
  );
  expect(await exitWithin(failing, 30_000), diagnostics()).toBe(1);
  expect(failing.stdout(), diagnostics()).toMatch(/^after-the-failure$/m);
  expect(failing.stdout(), diagnostics()).toMatch(/Failed/);

  bot.child.stdin!.end();
  expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
}, 60_000);

it('npm run console runs piped lines in the running bot’s console channel; the socket goes when the bot stops', async () => {
  const { dbPath, sock, env } = setup();
  const bot = await startConsoleBot('running bot', env, sock);
  // The channel's jobs are the console's: the bot's own first command is Job1.
  const client = piped('npm run console', CONSOLE, env, 'Get-Job\nGet-Job 999\n');
  expect(await exitWithin(client, 30_000), diagnostics()).toBe(1);
  expect(client.stderr(), diagnostics()).toMatch(attachedLine(bot.child.pid!, dbPath));
  expect(client.stdout(), diagnostics()).toMatch(/^\s*1\s+Job1\s+RemoteJob\s+Completed\s/m);
  expect(client.stderr(), diagnostics()).toMatch(/ERROR: .*999/);

  // Stopped (end of its own input), the bot removes its socket; then there is nothing to attach to.
  bot.child.stdin!.end();
  expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
  expect(existsSync(sock)).toBe(false);
  const none = piped('npm run console, no bot', CONSOLE, env, 'Get-Job\n');
  expect(await exitWithin(none, 30_000), diagnostics()).toBe(1);
  expect(none.stderr(), diagnostics()).toMatch(/^chatops: no running bot to attach to on .*: no bot is listening at /m);
  expect(none.stdout()).toBe('');
}, 60_000);

it('a crashed bot’s socket is replaced by the next bot, once it holds the lock; a client finds nothing answering there before', async () => {
  const { dbPath, sock, env } = setup();
  const first = await startConsoleBot('bot killed', env, sock);
  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  // Left behind by the crash: nothing answers there, and a client says so instead of hanging.
  expect(isSocket(sock)).toBe(true);
  const stale = statSync(sock).ino;
  const orphan = piped('npm run console, crashed bot', CONSOLE, env, 'Get-Job\n');
  expect(await exitWithin(orphan, 30_000), diagnostics()).toBe(1);
  expect(orphan.stderr(), diagnostics()).toMatch(/nothing answers at .*ECONNREFUSED/);

  // The next bot takes the lock, then replaces the socket; a piped start attaches to it.
  const next = await startConsoleBot('bot after the crash', env, sock);
  expect(statSync(sock).ino).not.toBe(stale);
  expect((statSync(sock).mode & 0o777).toString(8)).toBe('600');
  const via = piped('piped start', MAIN, env, 'icm localhost { echo via-next }\n');
  expect(await exitWithin(via, 30_000), diagnostics()).toBe(0);
  expect(via.stderr(), diagnostics()).toMatch(attachedLine(next.child.pid!, dbPath));
  expect(via.stdout()).toMatch(/^via-next$/m);
  next.child.stdin!.end();
  expect(await exitWithin(next, 30_000), diagnostics()).toBe(0);
  expect(existsSync(sock)).toBe(false);
}, 60_000);

it('anything but a socket at the socket’s path is left alone: the bot runs without the listener and a piped start refuses, saying why', async () => {
  const { dbPath, sock, env } = setup();
  mkdirSync(join(dbPath, '..'), { mode: 0o700 });
  writeFileSync(sock, 'not a socket\n');
  const third = await startConsoleBot('bot beside a file', env, undefined);
  await waitUntil(() => /cannot attach to this bot.*something other than a socket/.test(third.stderr()), 30_000, 'the warning');
  const refused = piped('piped start, no socket', MAIN, env, 'Get-Job\n');
  expect(await exitWithin(refused, 30_000), diagnostics()).toBe(1);
  expect(refused.stderr(), diagnostics()).toMatch(
    new RegExp(
      `^chatops: another bot is running on .*pid ${third.child.pid}.*\\nchatops: could not attach to it: will not attach: .* is not a socket\\n$`,
    ),
  );
  expect(refused.stdout()).toBe('');
  expect(readFileSync(sock, 'utf8')).toBe('not a socket\n');
  third.child.stdin!.end();
  expect(await exitWithin(third, 30_000), diagnostics()).toBe(0);
  expect(readFileSync(sock, 'utf8')).toBe('not a socket\n');
}, 60_000);

it('a world-writable directory gets no socket, and a client sends nothing to a socket that is open to others or not its own', async () => {
  const { dir, sock, env } = setup();
  // The bot refuses to listen where anyone could swap the socket (the console itself still runs).
  const shared = join(dir, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o777);
  const sharedDb = join(shared, 'chatops.db');
  const bot = start('bot in a world-writable directory', [...TSX, MAIN], { ...env, CHATOPS_DB: sharedDb });
  bot.child.stdin!.end('icm localhost { echo still-runs }\n');
  expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
  expect(bot.stdout()).toMatch(/^still-runs$/m);
  expect(bot.stderr()).toMatch(/cannot attach to this bot.*world-writable/);
  expect(existsSync(`${sharedDb}.sock`)).toBe(false);

  // Someone's listener at the path, open to everyone: the client does not even connect.
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  const connections: string[] = [];
  const impostor = createServer((s) => {
    connections.push('connected');
    s.destroy();
  });
  servers.push(impostor);
  await new Promise<void>((r) => impostor.listen(sock, r));
  chmodSync(sock, 0o666);
  const open = piped('npm run console, open socket', CONSOLE, env, 'Get-Job\n');
  expect(await exitWithin(open, 30_000), diagnostics()).toBe(1);
  expect(open.stderr(), diagnostics()).toMatch(/will not attach: .* is open to other users \(mode 0666\)/);

  if (process.getuid!() === 0) {
    // As root the test can play another user: a socket owned by someone else is refused even
    // at 0600 (root could connect to it, the client will not) ...
    chmodSync(sock, 0o600);
    chownSync(sock, 65534, 65534);
    const foreign = piped('npm run console, foreign socket', CONSOLE, env, 'Get-Job\n');
    expect(await exitWithin(foreign, 30_000), diagnostics()).toBe(1);
    expect(foreign.stderr(), diagnostics()).toMatch(/will not attach: .* belongs to uid 65534, not to you \(uid 0\)/);
  }
  expect(connections).toEqual([]);
}, 60_000);

it('another OS user’s script cannot connect to the bot’s socket (the kernel checks the 0600 mode)', async () => {
  const { dir, sock, env } = setup();
  // Traversable directories, so that only the socket's own mode stands in the way.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'data'), { mode: 0o755 });
  chmodSync(join(dir, 'data'), 0o755);
  const bot = await startConsoleBot('running bot', env, sock);
  const probe = `require('net').connect(${JSON.stringify(sock)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(3); })`;
  // Same user, any script: the socket answers (so the refusal below is about the user).
  const same = start('probe, same user', ['-e', probe], baseEnv());
  expect(await exitWithin(same, 30_000), diagnostics()).toBe(0);
  expect(same.stdout()).toBe('CONNECTED\n');
  const uid = process.getuid!();
  if (uid === 0) {
    const other = start('probe, user nobody', ['-e', probe], baseEnv(), { uid: 65534, gid: 65534 });
    expect(await exitWithin(other, 30_000), diagnostics()).toBe(3);
    expect(other.stdout()).toBe('EACCES\n');
  } else {
    // Not root: no other user to be. What decides is still shown: 0600, owned by this user.
    const st = statSync(sock);
    expect([st.uid, (st.mode & 0o777).toString(8)]).toEqual([uid, '600']);
  }
  bot.child.stdin!.end();
  expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
}, 60_000);

/** Sends `lines` on a raw connection to `sock`, then ends; returns everything the bot wrote until it closed. */
function rawExchange(sock: string, lines: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(sock);
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('error', reject);
    s.on('close', () => resolve(got));
    // Half-closed, as the client does: the bot finishes what was asked, then closes.
    s.end(lines);
    setTimeout(() => s.destroy(new Error(`the bot did not close the connection; it sent: ${got}`)), 20_000).unref();
  });
}

it('the bot answers only the console-attach protocol: hello first, its version, bounded lines', async () => {
  const { sock, env } = setup();
  const bot = await startConsoleBot('running bot', env, sock);
  expect(await rawExchange(sock, '{"op":"run","id":1,"text":"Get-Job"}\n')).toBe('{"op":"refused","message":"expected hello first"}\n');
  expect(await rawExchange(sock, '{"op":"hello","version":99,"terminal":false}\n')).toMatch(
    /^\{"op":"refused","message":"this bot speaks console-attach protocol 1, not 99: .*"\}\n$/,
  );
  expect(await rawExchange(sock, 'Get-Job\n')).toBe('{"op":"refused","message":"not a request of the console-attach protocol"}\n');
  expect(await rawExchange(sock, 'x'.repeat(1024 * 1024 + 1))).toBe(
    '{"op":"refused","message":"line too long for the console-attach protocol"}\n',
  );
  // The protocol itself: welcome, the command's output with its id, done.
  const ok = await rawExchange(
    sock,
    '{"op":"hello","version":1,"terminal":false}\n{"op":"run","id":7,"text":"icm localhost { echo raw-client }"}\n',
  );
  expect(ok).toMatch(new RegExp(`^\\{"op":"welcome","version":1,"pid":${bot.child.pid},"database":"[^"]+"\\}\\n`));
  expect(ok).toMatch(/\{"op":"out","id":7,"text":"[^"]*\\nraw-client\\n"\}\n/);
  expect(ok).toMatch(/\n\{"op":"done","id":7,"ok":true\}\n$/);
  bot.child.stdin!.end();
  expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
}, 60_000);

it('npm run console in a terminal: a prompt, commands run in the bot, exit detaches and leaves the bot running', async () => {
  const { dbPath, sock, env } = setup();
  const bot = await startConsoleBot('running bot', env, sock);
  const child = spawn('script', ['-qfec', `${process.execPath} --import tsx ${CONSOLE}`, '/dev/null'], {
    cwd: REPO,
    env: { ...env, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitUntil(() => out.includes('PS chatops (attached)>'), 30_000, `the prompt; the terminal showed:\n${out}`);
    expect(out).toMatch(attachedLine(bot.child.pid!, dbPath));
    child.stdin.write('icm localhost { echo tty-attached }\r');
    await waitUntil(
      () => /^tty-attached\r?$/m.test(out) && out.split('PS chatops (attached)>').length >= 3,
      30_000,
      `the result; the terminal showed:\n${out}`,
    );
    child.stdin.write('exit\r');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref())]);
    expect(code, out).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  expect(running(bot)).toBe(true);
  bot.child.stdin!.end();
  expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
}, 60_000);

it('npm run console at a remote prompt whose session ends by itself: told, and back at its own prompt', async () => {
  const { sock, env } = setup();
  const bot = await startConsoleBot('running bot', { ...env, SESSION_MAX_IDLE: '2s' }, sock);
  const child = spawn('script', ['-qfec', `${process.execPath} --import tsx ${CONSOLE}`, '/dev/null'], {
    cwd: REPO,
    env: { ...env, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitUntil(() => out.includes('PS chatops (attached)>'), 30_000, `the prompt; the terminal showed:\n${out}`);
    child.stdin.write('Enter-PSSession localhost\r');
    await waitUntil(() => out.includes('[localhost]: PS> '), 30_000, `the remote prompt; the terminal showed:\n${out}`);
    const mark = out.length;
    await waitUntil(
      () => /has ended: the session \S+ on localhost was closed by its agent: .*IdleTimeout/.test(out.slice(mark)),
      30_000,
      `the notice; the terminal showed:\n${out}`,
    );
    await waitUntil(() => out.slice(mark).includes('PS chatops (attached)>'), 30_000, `its own prompt again:\n${out}`);
    // exit now detaches (at a remote prompt it would leave the session instead).
    child.stdin.write('exit\r');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref())]);
    expect(code, out).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
  expect(running(bot)).toBe(true);
  bot.child.stdin!.end();
  expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
}, 60_000);

it('a chat-mode bot serves npm run console too; a second chat bot on its database still refuses', async () => {
  const { dbPath, sock, env } = setup();
  const fake = await FakeSlack.start();
  try {
    const slackEnv: NodeJS.ProcessEnv = {
      ...env,
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: 'attach-test-secret',
      SLACK_API_URL: fake.apiUrl,
      SLACK_LISTEN: '127.0.0.1:0',
    };
    const bot = start('slack bot', [...TSX, MAIN], slackEnv);
    await waitUntil(() => isSocket(sock), 30_000, 'the Slack bot’s attach socket');
    const client = piped('npm run console', CONSOLE, env, 'icm localhost { echo console-beside-slack }\n');
    expect(await exitWithin(client, 30_000), diagnostics()).toBe(0);
    expect(client.stderr(), diagnostics()).toMatch(attachedLine(bot.child.pid!, dbPath));
    expect(client.stdout(), diagnostics()).toMatch(/^console-beside-slack$/m);
    // A service started twice: chat mode has no console input to forward, so it refuses as before.
    const second = piped('second slack bot', MAIN, slackEnv, 'Get-Job\n');
    expect(await exitWithin(second, 30_000), diagnostics()).toBe(1);
    expect(second.stderr(), diagnostics()).toMatch(
      new RegExp(`^chatops: another bot is running on .*pid ${bot.child.pid} .*CHATOPS_DB\\n$`),
    );
    bot.child.kill('SIGTERM');
    expect(await exitWithin(bot, 30_000), diagnostics()).toBe(0);
    expect(existsSync(sock)).toBe(false);
  } finally {
    await fake.stop();
  }
}, 60_000);

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
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitPortOpen(port: number, bot: Proc): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await portOpen(port))) {
    if (!running(bot) || Date.now() > deadline) throw new Error(`the bot's hub did not listen on ${port}\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('a piped bot just started waits for an enrolled agent that connects a few seconds later, then runs on it', async () => {
  const { dir, env } = setup();
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    ['rules:', '  - name: tests-console', '    channels: [console]', "    computers: ['*']", "    cmdlets: ['*']", ''].join('\n'),
  );
  const port = await freePort();
  const botEnv: NodeJS.ProcessEnv = { ...env, CHATOPS_POLICY_FILE: policyFile, HUB_LISTEN: `127.0.0.1:${port}`, EMBEDDED_AGENT: 'false' };
  const token = (
    await promisify(execFile)(
      process.execPath,
      [...TSX, join(REPO, 'src', 'admin', 'main.ts'), 'token', 'create', '--ttl', '10m', '--uses', '1'],
      {
        cwd: REPO,
        env: botEnv,
        timeout: 30_000,
      },
    )
  ).stdout.trim();
  const stateDir = join(dir, 'agent-web1');
  const agentArgs = [...TSX, join(REPO, 'agent', 'main.ts'), '--hub', `ws://127.0.0.1:${port}`, '--name', 'web1', '--state-dir', stateDir];

  // Enrol web1 with a first bot, then stop both.
  const enrolBot = start('bot for the enrolment', [...TSX, MAIN], botEnv);
  await waitPortOpen(port, enrolBot);
  const enrolAgent = start('agent web1 (enrolment)', [...agentArgs, '--token', token], baseEnv());
  await waitUntil(() => /connected to the hub/.test(enrolAgent.stderr()), 30_000, 'web1 to enrol');
  enrolAgent.child.kill('SIGTERM');
  await exitWithin(enrolAgent, 15_000);
  enrolBot.child.stdin!.end();
  expect(await exitWithin(enrolBot, 30_000), diagnostics()).toBe(0);

  // A fresh piped bot; web1 dials in only once the bot's hub has listened for a while.
  const bot = piped('piped bot', MAIN, botEnv, 'icm web1 { echo late-agent }\n');
  await waitPortOpen(port, bot);
  const listening = Date.now();
  // The late start is the scenario, not a wait for something: web1 comes 2 s after the hub is up.
  await new Promise((r) => setTimeout(r, 2_000));
  const agent = start('agent web1 (late)', agentArgs, baseEnv());
  expect(await exitWithin(bot, 40_000), diagnostics()).toBe(0);
  expect(bot.stdout(), diagnostics()).toMatch(/^late-agent$/m);
  expect(bot.stdout() + bot.stderr(), diagnostics()).not.toMatch(/not connected/i);
  expect(/connected to the hub/.test(agent.stderr()), diagnostics()).toBe(true);
  // Within the bound: the wait ended when web1 came, not at the end of the 10 s.
  expect(Date.now() - listening).toBeLessThan(10_000 + 8_000);
}, 60_000);
