import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteAgentRegistry } from '../../src/hub/agent-registry.js';
import { WebSocketHub } from '../../src/hub/ws-hub.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { OutputMessage, RunMessage, StateMessage } from '../../src/protocol/agent-protocol.js';
import { openDatabase, type Db } from '../../src/store/database.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function tempDir(prefix = 'chatops-hub-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function waitFor<T>(fn: () => T | undefined | false | null, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type RunMsg = OutputMessage | StateMessage;

/**
 * A real hub on port 0 over a real SQLite file, with a store-like handler: messages are kept by
 * (runId, seq) once, and every delivery is counted so tests can see resends.
 */
export class HubHarness {
  readonly dir: string;
  readonly dbPath: string;
  db!: Db;
  registry!: SqliteAgentRegistry;
  hub!: WebSocketHub;
  readonly logs: string[] = [];
  /** The hub's logger (everything it logs lands in `logs`). */
  readonly log: Logger = createLogger('debug', (line) => this.logs.push(line));
  readonly stored = new Map<string, RunMsg>();
  readonly deliveries = new Map<string, number>();
  readonly events: string[] = [];
  /** Optional hook: runs before a message is stored; may block (never resolve) to simulate a stuck store. */
  beforeStore?: (agent: string, m: RunMsg) => Promise<void> | void;
  private portValue = 0;
  private tls = false;

  constructor(dir = tempDir()) {
    this.dir = dir;
    this.dbPath = join(dir, 'chatops.db');
  }

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `${this.tls ? 'wss' : 'ws'}://127.0.0.1:${this.portValue}`;
  }

  async start(
    options: {
      port?: number;
      heartbeatMs?: number;
      helloTimeoutMs?: number;
      maxFrameBytes?: number;
      maxPending?: number;
      maxPendingPerAddress?: number;
      tls?: { certPath: string; keyPath: string };
    } = {},
  ): Promise<this> {
    this.db = openDatabase(this.dbPath);
    this.registry = new SqliteAgentRegistry(this.db);
    this.hub = new WebSocketHub({
      host: '127.0.0.1',
      port: options.port ?? 0,
      heartbeatMs: options.heartbeatMs ?? 1000,
      ...(options.helloTimeoutMs ? { helloTimeoutMs: options.helloTimeoutMs } : {}),
      ...(options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {}),
      ...(options.maxPending ? { maxPending: options.maxPending } : {}),
      ...(options.maxPendingPerAddress ? { maxPendingPerAddress: options.maxPendingPerAddress } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
      registry: this.registry,
      log: this.log,
    });
    this.hub.on({
      connected: (name) => this.events.push(`connected ${name}`),
      disconnected: (name, reason) => this.events.push(`disconnected ${name} ${reason}`),
      runMessages: async (batch) => {
        const failed: number[] = [];
        for (const [i, { agent, message: m }] of batch.entries()) {
          const key = `${m.runId}#${m.seq}`;
          this.deliveries.set(key, (this.deliveries.get(key) ?? 0) + 1);
          try {
            if (this.beforeStore) await this.beforeStore(agent, m);
          } catch {
            failed.push(i);
            continue;
          }
          if (!this.stored.has(key)) this.stored.set(key, m);
        }
        return failed;
      },
    });
    this.tls = options.tls !== undefined;
    await this.hub.start();
    this.portValue = this.hub.address().port;
    return this;
  }

  /** Stops the hub and closes the database (the files stay for a restart). */
  async stop(): Promise<void> {
    await this.hub?.stop();
    this.db?.close();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  messages(runId: string): RunMsg[] {
    return [...this.stored.values()].filter((m) => m.runId === runId).sort((a, b) => a.seq - b.seq);
  }

  final(runId: string): StateMessage | undefined {
    return this.messages(runId).find((m): m is StateMessage => m.op === 'state' && m.state !== 'Running');
  }

  text(runId: string, stream: 'output' | 'error'): string {
    return this.messages(runId)
      .filter((m): m is OutputMessage => m.op === 'output' && m.stream === stream)
      .map((m) => m.data)
      .join('');
  }

  private runCounter = 0;

  /** Sends a run and waits for its final state. */
  async run(
    agent: string,
    run: Partial<Omit<RunMessage, 'op'>> & { script: string },
    timeoutMs = 15_000,
  ): Promise<{ runId: string; final: StateMessage; stdout: string; stderr: string }> {
    const runId = run.runId ?? `run-${process.pid}-${++this.runCounter}-${Date.now()}`;
    const msg: RunMessage = {
      op: 'run',
      runId,
      script: run.script,
      configurationName: run.configurationName ?? '',
      arguments: run.arguments ?? [],
      using: run.using ?? {},
      maxRuntimeMs: run.maxRuntimeMs ?? 0,
      ...(run.runbook !== undefined ? { runbook: run.runbook } : {}),
    };
    if (!this.hub.send(agent, msg)) throw new Error(`agent ${agent} is not connected`);
    const final = await waitFor(() => this.final(runId), `final state of ${runId}`, timeoutMs);
    return { runId, final, stdout: this.text(runId, 'output'), stderr: this.text(runId, 'error') };
  }
}

export interface AgentProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node --import tsx agent/main.ts ARGS` as a real child process. */
export function startAgentProcess(args: string[], env: NodeJS.ProcessEnv = process.env): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'agent', 'main.ts'), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the admin CLI as a real child process against the given database. */
export function runAdminProcess(args: string[], dbPath: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'admin', 'main.ts'), ...args], {
      cwd: ROOT, // CHATOPS_DB from the environment wins over any .env
      env: { PATH: process.env.PATH, CHATOPS_DB: dbPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
