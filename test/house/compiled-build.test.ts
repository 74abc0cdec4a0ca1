import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runStartupBench } from '../../bench/startup-bench.js';

/**
 * `npm start`, `npm run agent` and `npm run admin` run the compiled JavaScript in dist/ (built by
 * `npm install` through `prepare`, or `npm run build`), not TypeScript through tsx. Built here
 * first (incremental: quick when nothing changed), then used exactly as the README says.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'chatops-compiled-'));
const env: NodeJS.ProcessEnv = {};
for (const [k, v] of Object.entries(process.env)) if (!/^(SLACK|DISCORD|CHATOPS|HUB|EMBEDDED|LOG|npm)_/i.test(k)) env[k] = v;
const botEnv = { ...env, CHATOPS_DB: join(dir, 'chatops.db'), HUB_LISTEN: '127.0.0.1:0', RUNBOOKS_DIR: join(dir, 'rb') };

beforeAll(async () => {
  await run('npm', ['run', 'build'], { cwd: REPO, env });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('npm start runs the compiled bot: piped lines run on the embedded agent', async () => {
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn('npm', ['start', '--silent'], { cwd: REPO, env: botEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('exit', (code) => resolve({ code, text }));
    child.stdin.end('icm localhost -ConfigurationName bash { echo "compiled $((6 * 7))" }\n');
  });
  expect(out.text).toContain('compiled 42');
  expect(out.code).toBe(0);
  // Nothing was transpiled on the way: the process ran dist/ (tsx is not loaded).
  const { stdout } = await run('npm', ['pkg', 'get', 'scripts.start'], { cwd: REPO, env });
  expect(JSON.parse(stdout)).toMatch(/^node .*dist\/src\/main\.js$/);
}, 60_000);

it('npm run agent and npm run admin run compiled too', async () => {
  const agent = await run('npm', ['run', '--silent', 'agent', '--', '--help'], { cwd: REPO, env });
  expect(agent.stdout).toContain('Usage: npm run agent -- --hub ws://HOST:5985');
  const admin = await run('npm', ['run', '--silent', 'admin', '--', 'agent', 'list'], { cwd: REPO, env: botEnv });
  expect(admin.stdout).toMatch(/localhost|No agents are enrolled/);
  const { stdout } = await run('npm', ['pkg', 'get', 'scripts.agent', 'scripts.admin'], { cwd: REPO, env });
  expect(Object.values(JSON.parse(stdout) as Record<string, string>)).toEqual([
    expect.stringMatching(/^node .*dist\/agent\/main\.js$/),
    expect.stringMatching(/^node .*dist\/src\/admin\/main\.js$/),
  ]);
}, 60_000);

it('npm run console runs the compiled attach client (here with no bot to attach to)', async () => {
  const { stdout } = await run('npm', ['pkg', 'get', 'scripts.console'], { cwd: REPO, env });
  expect(JSON.parse(stdout)).toMatch(/^node .*dist\/adapters\/console\/attach-main\.js$/);
  const client = await run('npm', ['run', '--silent', 'console'], { cwd: REPO, env: botEnv }).then(
    () => ({ code: 0, stderr: '' }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
  );
  expect(client.code).toBe(1);
  expect(client.stderr).toMatch(/^chatops: no running bot to attach to on .*chatops\.db: no bot is listening at /);
}, 60_000);

/** The modules a compiled `printf '' | npm start` loads through Node's CommonJS loader. */
function loadedModules(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...botEnv, NODE_DEBUG: 'module' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(err));
    child.stdin.end();
  });
}

it('the console start loads neither Slack nor Discord (they are loaded only when configured)', async () => {
  const main = join(REPO, 'dist', 'src', 'main.js');
  const consoleStart = await loadedModules([main]);
  expect(consoleStart).toMatch(/better-sqlite3/); // the loader's trace is there
  expect(consoleStart).not.toMatch(/@slack[\\/]bolt|discord\.js/);
  // The same trace does show them once the Slack adapter is imported.
  const slack = await loadedModules(['-e', `import(${JSON.stringify(join(REPO, 'dist', 'adapters', 'slack', 'index.js'))})`]);
  expect(slack).toMatch(/@slack[\\/]bolt/);
}, 60_000);

it('npm run bench measures the compiled start-up beside node -e 0 (the harness; timings live in the bench)', async () => {
  const rows = await runStartupBench({ repetitions: 1 });
  expect(rows.map((r) => r.name)).toEqual(['printf "" | npm start (compiled, dist/)', 'the same through tsx (TypeScript sources)']);
  for (const r of rows) {
    expect(r.skipped).toBeUndefined();
    expect(r.ms).toBeGreaterThan(0);
    expect(r.baselineMs).toBeGreaterThan(0);
  }
}, 60_000);
