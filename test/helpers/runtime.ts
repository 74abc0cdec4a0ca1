import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config, type Env } from '../../src/config.js';
import { startApp, type App, type StartAppOptions } from '../../src/app.js';
import type { Core, Invoker } from '../../src/core/ports.js';
import { RecordingSink } from './recording-sink.js';
import { BOT_SETTING_NAME, PASSED_FROM_AGENT } from '../../agent/script-environment.js';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';

export { RecordingSink } from './recording-sink.js';

/**
 * A real runtime for integration tests: the app on a temp SQLite file with the hub on a free
 * loopback port (no embedded agent unless asked), plus real agent child processes enrolled with
 * real tokens. Used by the core, console, Slack, Discord and permissions tests.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface TestAgentSpec {
  name: string;
  /** `key=value` tags. */
  tags?: string[];
  /** Extra agent CLI flags, e.g. `['--configuration', 'bash']`. */
  args?: string[];
  /**
   * Extra environment for the agent process (e.g. a PATH with real pwsh first, test/helpers/pwsh.ts).
   * Each name but the bot's settings is also given to its scripts (`--script-env NAME`), as an
   * agent's configuration would, unless `envToScripts` is false.
   */
  env?: Record<string, string>;
  /** Default true: name `env`'s variables with --script-env. */
  envToScripts?: boolean;
  /** Do not start it (enrol later with `runtime.addAgent`). */
  start?: boolean;
  /**
   * How its first start gets the enrolment token: `argument` (`--token`, the default), `file`
   * (`--token-file DIR/NAME.token`, a 0600 file in the runtime's directory, passed at every start)
   * or `environment` (CHATOPS_AGENT_TOKEN).
   */
  tokenVia?: 'argument' | 'file' | 'environment';
}

export interface TestAgent {
  name: string;
  stateDir: string;
  /** The running process, if any. */
  process(): ChildProcess | undefined;
  /** Stderr of every run of this agent so far (for debugging failed tests). */
  stderr(): string;
  /** Kills the agent process (SIGKILL by default: a crash; SIGTERM stops it cleanly). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Starts it again with the secret from its state directory and waits until connected;
   * `tags` replaces the spec's `--tag` flags for this start.
   */
  restart(options?: { tags?: string[] }): Promise<void>;
}

export interface TestRuntimeOptions {
  agents?: TestAgentSpec[];
  /**
   * Authorizer / audit (or factories given the app's database), as for startApp. Without an
   * authorizer the app uses its real permissions module, with a policy file (written here unless
   * `env.CHATOPS_POLICY_FILE` names one) that lets the `console` channel run every cmdlet on every
   * computer, so core tests reach any test agent and unknown names.
   */
  authorizer?: StartAppOptions['authorizer'];
  audit?: StartAppOptions['audit'];
  extraCmdlets?: StartAppOptions['extraCmdlets'];
  /** Extra or overriding settings (CHATOPS_*, HUB_*, SLACK_*, ...). */
  env?: Env;
  /** Runbook files to create: relative path → content. */
  runbooks?: Record<string, string>;
  embeddedAgent?: boolean;
  /** Log to stderr at this level (default: silent). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  statusIntervalMs?: number;
  recoveryGraceMs?: number;
}

export interface TestRuntime {
  app: App;
  core: Core;
  config: Config;
  agents: TestAgent[];
  agent(name: string): TestAgent;
  dir: string;
  /** Enrols and starts one more agent; resolves when it is connected. */
  addAgent(spec: TestAgentSpec): Promise<TestAgent>;
  /** Resolves when every named agent is connected to the hub. */
  waitConnected(names: string[], timeoutMs?: number): Promise<void>;
  /**
   * Stops the bot (not the agents) and starts it again on the same database and hub port,
   * after `downMs` (default 0) with no bot running: agents keep unacknowledged output meanwhile.
   */
  restartApp(options?: { downMs?: number }): Promise<void>;
  /**
   * Runs `text` through the core as a typed command (default: the console channel and user) and
   * returns what it showed and its outcome.
   */
  run(text: string, options?: { channel?: string; user?: Invoker }): Promise<{ sink: RecordingSink; ok: boolean; jobIds: number[] }>;
  stop(): Promise<void>;
}

const CONSOLE_USER: Invoker = { platform: 'console', userId: 'console', displayName: 'tester' };

/**
 * Runs `fn` with the agent's process stopped (SIGSTOP: alive but silent, so the hub cuts it off
 * while its commands keep running), and lets it go on afterwards, whatever `fn` did.
 */
export async function whileFrozen(agent: TestAgent, fn: () => Promise<void>): Promise<void> {
  const child = agent.process();
  if (!child) throw new Error(`agent ${agent.name} is not running`);
  child.kill('SIGSTOP');
  try {
    await fn();
  } finally {
    child.kill('SIGCONT');
  }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startTestRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-test-'));
  const runbooksDir = join(dir, 'runbooks');
  mkdirSync(runbooksDir, { recursive: true });
  for (const [rel, text] of Object.entries(options.runbooks ?? {})) {
    const p = join(runbooksDir, rel);
    mkdirSync(resolve(p, '..'), { recursive: true });
    writeFileSync(p, text);
  }
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    ['rules:', '  - name: tests-console', '    channels: [console]', "    computers: ['*']", "    cmdlets: ['*']", ''].join('\n'),
  );
  const env: Env = {
    ...(options.authorizer ? {} : { CHATOPS_POLICY_FILE: policyFile }),
    CHATOPS_DB: join(dir, 'chatops.db'),
    HUB_LISTEN: '127.0.0.1:0',
    HUB_HEARTBEAT_MS: '1000',
    RUNBOOKS_DIR: runbooksDir,
    EMBEDDED_AGENT: options.embeddedAgent ? 'true' : 'false',
    LOG_LEVEL: options.logLevel ?? 'error',
    ...options.env,
  };
  let config = loadConfig(env);
  const log: Logger = options.logLevel ? createLogger(options.logLevel) : silentLogger;
  const appOptions: StartAppOptions = {
    log,
    ...(options.authorizer ? { authorizer: options.authorizer } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.extraCmdlets ? { extraCmdlets: options.extraCmdlets } : {}),
    statusIntervalMs: options.statusIntervalMs ?? 50,
    recoveryGraceMs: options.recoveryGraceMs ?? 5_000,
  };
  let app = await startApp(config, appOptions);
  // Later restarts reuse the port, so running agents find the hub again.
  config = { ...config, hub: { ...config.hub, port: app.hub.address().port } };

  const agents: TestAgent[] = [];
  const runtime: TestRuntime = {
    get app() {
      return app;
    },
    get core() {
      return app.core;
    },
    get config() {
      return config;
    },
    agents,
    agent(name) {
      const a = agents.find((x) => x.name === name);
      if (!a) throw new Error(`no test agent ${name}`);
      return a;
    },
    dir,
    async run(text, options = {}) {
      const sink = new RecordingSink();
      const outcome = await app.core.handle(
        { channel: options.channel ?? 'console', user: options.user ?? CONSOLE_USER, text, source: 'command' },
        sink,
      );
      return { sink, ...outcome };
    },
    async addAgent(spec) {
      const a = createAgent(spec);
      agents.push(a);
      if (spec.start !== false) await a.restart();
      return a;
    },
    async waitConnected(names, timeoutMs = 20_000) {
      await waitFor(() => names.every((n) => app.hub.isConnected(n)), timeoutMs, `agents ${names.join(', ')} to connect`);
    },
    async restartApp(restart = {}) {
      await app.stop();
      if (restart.downMs) await new Promise((r) => setTimeout(r, restart.downMs));
      app = await startApp(config, appOptions);
    },
    async stop() {
      await Promise.all(agents.map((a) => a.kill('SIGKILL')));
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };

  function createAgent(spec: TestAgentSpec): TestAgent {
    const stateDir = join(dir, 'agents', spec.name);
    let child: ChildProcess | undefined;
    let enrolled = false;
    let err = '';
    const agent: TestAgent = {
      name: spec.name,
      stateDir,
      process: () => child,
      stderr: () => err,
      async kill(signal: NodeJS.Signals = 'SIGKILL') {
        const c = child;
        child = undefined;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        await new Promise<void>((res) => {
          c.once('exit', () => res());
          c.kill(signal);
        });
      },
      async restart(restartOptions = {}) {
        await agent.kill('SIGKILL');
        // Not the test runner's own CHATOPS_AGENT_TOKEN: an agent refuses two token sources.
        const { CHATOPS_AGENT_TOKEN: _inherited, ...inherited } = process.env;
        const childEnv: NodeJS.ProcessEnv = { ...inherited, ...spec.env };
        const args = [
          '--import',
          'tsx',
          join(REPO, 'agent', 'main.ts'),
          '--hub',
          app.hubUrl,
          '--name',
          spec.name,
          '--state-dir',
          stateDir,
          '--log-level',
          options.logLevel ?? 'warn',
          ...(restartOptions.tags ?? spec.tags ?? []).flatMap((t) => ['--tag', t]),
          // Scripts see only what the agent's configuration names: the test's variables are named.
          ...Object.keys(spec.envToScripts === false ? {} : (spec.env ?? {}))
            .filter((k) => !PASSED_FROM_AGENT.includes(k) && !BOT_SETTING_NAME.test(k))
            .flatMap((k) => ['--script-env', k]),
          ...(spec.args ?? []),
        ];
        // Passed at every start, as a service definition would; the agent reads it only to enrol.
        if (spec.tokenVia === 'file') args.push('--token-file', join(dir, `${spec.name}.token`));
        if (!enrolled) {
          const token = app.registry.createToken({ ttlMs: 60_000, uses: 1 });
          if (spec.tokenVia === 'file') {
            writeFileSync(join(dir, `${spec.name}.token`), `${token}\n`, { mode: 0o600 });
          } else if (spec.tokenVia === 'environment') {
            childEnv.CHATOPS_AGENT_TOKEN = token;
          } else {
            args.push('--token', token);
          }
          enrolled = true;
        }
        const c = spawn(process.execPath, args, {
          cwd: REPO,
          env: childEnv,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        c.stderr?.on('data', (d: Buffer) => {
          err += d.toString();
          if (options.logLevel) process.stderr.write(`[agent ${spec.name}] ${d.toString()}`);
        });
        child = c;
        await runtime.waitConnected([spec.name]);
      },
    };
    return agent;
  }

  try {
    for (const spec of options.agents ?? []) agents.push(createAgent(spec));
    await Promise.all(agents.filter((_, i) => options.agents?.[i]?.start !== false).map((a) => a.restart()));
  } catch (e) {
    await runtime.stop();
    throw e;
  }
  return runtime;
}
