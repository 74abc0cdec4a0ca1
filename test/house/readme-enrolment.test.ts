import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';

/**
 * The README's "Agents on other computers" block, pasted as written (only `BOT` and the port are
 * replaced by where this bot's hub listens): a one-time token from the admin CLI into a file, an
 * agent enrolled with it. The console then cannot target the new agent, and the refusal says
 * why and the exact line that would allow it; run by a bot admin, that line lets the console
 * run on the agent. Sources through tsx, as the other end-to-end tests run them.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
/** tsx by absolute URL: the admin CLI and the agent run in their own directory, as on a server. */
const TSX = ['--import', pathToFileURL(join(REPO, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href];
const dir = mkdtempSync(join(tmpdir(), 'chatops-readme-enrol-'));
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function readmeLine(re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(readFileSync(join(REPO, 'README.md'), 'utf8'));
  if (!m) throw new Error(`the README has no ${what} line`);
  return m;
}

function started(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...TSX, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function until(cond: () => boolean, what: string, said: () => string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${said()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('an agent enrolled as the README says: the console is refused with the grant that allows it, and then runs there', async () => {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX|AGENT|JOB)_/.test(k)) env[k] = v;
  }
  const db = join(dir, 'data', 'chatops.db');
  Object.assign(env, {
    CHATOPS_DB: db,
    HUB_LISTEN: '127.0.0.1:0',
    RUNBOOKS_DIR: join(dir, 'runbooks'),
    LOG_LEVEL: 'warn',
    CHATOPS_ADMINS: 'console',
  });

  // The bot (npm start), its console kept open.
  const bot = started([join(REPO, 'src', 'main.ts')], REPO, env);
  const said = (): string => `stdout:\n${bot.out()}\nstderr:\n${bot.err()}`;
  bot.child.stdin.write('icm localhost { echo "bot-$((1+1))-ready" }\n');
  await until(() => /^bot-2-ready$/m.test(bot.out()), 'the bot', said);
  const hub = (JSON.parse(readFileSync(`${db}.lock.json`, 'utf8')) as { hub: string }).hub;
  expect(hub).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

  // npm run --silent admin -- token create --ttl 1h --uses 1 > web1.token
  const token = readmeLine(/^ {4}npm run --silent admin -- (token create [^>\n]*)> (\S+)/m, 'token create');
  const created = spawnSync(process.execPath, [...TSX, join(REPO, 'src', 'admin', 'main.ts'), ...token[1]!.trim().split(/\s+/)], {
    cwd: REPO,
    env,
    encoding: 'utf8',
  });
  expect(created.status, created.stderr).toBe(0);
  writeFileSync(join(dir, token[2]!), created.stdout);

  // npm run agent -- --hub ws://BOT:5985 --name web1 --token-file web1.token --tag role=web
  // (BOT and its port become this bot's hub, which listens on loopback without TLS here)
  const agentLine = readmeLine(/^ {4}npm run agent -- (--hub wss?:\/\/BOT:\d+ .*?)\s*$/m, 'agent');
  const agentArgs = agentLine[1]!.split(/\s+/).map((a) => (/^wss?:\/\/BOT:\d+$/.test(a) ? hub : a));
  const name = agentArgs[agentArgs.indexOf('--name') + 1]!;
  const agent = started([join(REPO, 'agent', 'main.ts'), ...agentArgs], dir, env);
  const both = (): string => `${said()}\nagent stderr:\n${agent.err()}`;
  await until(() => /connected to the hub/.test(agent.err()), 'the agent to enrol and connect', both);

  // Not covered by the console's built-in rule (this computer only): refused, saying why and how.
  let mark = bot.out().length + bot.err().length;
  const since = (): string => (bot.out() + bot.err()).slice(mark);
  bot.child.stdin.write(`icm ${name} { echo "enrolled-$((6*7))" }\n`);
  await until(() => /Grant-ChannelPermission/.test(since()), 'the refusal', both);
  expect(since()).toContain(`This channel may not target ${name}: no rule allows it`);
  const grant = /A bot admin can allow it with: (Grant-ChannelPermission -Channel console -Cmdlet Invoke-Command -ComputerName \S+)/.exec(
    since(),
  );
  expect(grant?.[1], since()).toBe(`Grant-ChannelPermission -Channel console -Cmdlet Invoke-Command -ComputerName ${name}`);
  expect(bot.out()).not.toMatch(/^enrolled-42$/m);

  // The line the refusal gave, typed by a bot admin, lets the console run there.
  mark = bot.out().length + bot.err().length;
  bot.child.stdin.write(`${grant![1]}\nicm ${name} { echo "enrolled-$((6*7))" }\n`);
  await until(() => /^enrolled-42$/m.test(bot.out()), 'the command on the enrolled agent', both);
  bot.child.stdin.end();
  expect(await bot.exited).toBe(1); // a command was refused on the way
}, 90_000);
