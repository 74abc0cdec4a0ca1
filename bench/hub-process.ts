/**
 * The bot side of the bench, in its own process so its memory can be measured apart from the
 * simulated agents (bench/agent-swarm.ts): the real app (SQLite store, WebSocket hub, job
 * manager, core) on a temp directory. Driven over IPC (bench/ipc.ts) by bench/fanout-bench.ts
 * and bench/hub-bench.ts.
 *
 * HUB_MAX_PENDING and HUB_MAX_PENDING_PER_ADDRESS are taken from this process's environment (the
 * bench raises them: all its agents dial in from 127.0.0.1).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startApp, type App } from '../src/app.js';
import { silentLogger } from '../src/log.js';
import type { ChatSink } from '../src/core/ports.js';
import { MAX_SCRIPT_BYTES } from '../src/language/index.js';
import { messageToText } from '../src/messages/plain-text.js';

export type BenchRequest =
  | { id: number; op: 'provision'; names: string[] }
  | { id: number; op: 'connected'; names: string[] }
  | { id: number; op: 'memory' }
  | { id: number; op: 'fanout'; names: string[]; throttleLimit: number; script?: string }
  | { id: number; op: 'latency'; loadNames: string[]; probeName: string; probes: number }
  | { id: number; op: 'stop' };

export type BenchReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface FanoutReply {
  ms: number;
  state: string | undefined;
  completed: number;
  outputs: number;
  /** `line`: the names were typed in the command; `variable`: too long for one line (40 KB), set beforehand. */
  via: 'line' | 'variable';
}

export interface LatencyReply {
  /** Command to result stored, per probe, in ms. */
  probesMs: number[];
  /** Probes that ended while a load job was still running. */
  underLoad: number;
  /** Load jobs started (a new one starts whenever the previous ends, until the probes are done). */
  loadJobs: number;
  /** Output records the load jobs stored. */
  loadOutputs: number;
}

/** How long a job may take before the bench gives up on it (plus 50 ms per computer). */
const JOB_TIMEOUT_MS = 120_000;

/** What the core said privately (a refusal, a bind error): reported if a run creates no job. */
let lastPrivateReply = '';

const nullSink: ChatSink = {
  replyPrivately: async (m) => void (lastPrivateReply = messageToText(m)),
  post: async () => ({ id: 'x' }),
  update: async () => {},
  postInThread: async () => ({ id: 'y' }),
};

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-bench-'));
  // The real permissions module decides every run, as in production: one rule for the bench.
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, "rules:\n  - name: bench\n    channels: [console]\n    computers: ['bench*']\n    cmdlets: [Invoke-Command]\n");
  const config = loadConfig({
    CHATOPS_POLICY_FILE: policyFile,
    CHATOPS_DB: join(dir, 'bench.db'),
    HUB_LISTEN: '127.0.0.1:0',
    HUB_HEARTBEAT_MS: '60000',
    ...(process.env.HUB_MAX_PENDING ? { HUB_MAX_PENDING: process.env.HUB_MAX_PENDING } : {}),
    ...(process.env.HUB_MAX_PENDING_PER_ADDRESS ? { HUB_MAX_PENDING_PER_ADDRESS: process.env.HUB_MAX_PENDING_PER_ADDRESS } : {}),
    RUNBOOKS_DIR: dir,
    EMBEDDED_AGENT: 'false',
    LOG_LEVEL: 'error',
  });
  const app: App = await startApp(config, { log: silentLogger, statusIntervalMs: 1000 });
  const send = (r: BenchReply): void => void process.send!(r);
  const user = { platform: 'console', userId: 'console', displayName: 'bench' } as const;
  const handle = (text: string) => app.core.handle({ channel: 'console', user, text, source: 'command' }, nullSink);

  const set = async (line: string): Promise<void> => {
    if (!(await handle(line)).ok) throw new Error(`bench: '${line.slice(0, 60)}...' failed: ${lastPrivateReply}`);
  };

  /**
   * The target list as the command names it: typed in the line when it fits in one line
   * (40 KB), else a channel variable set beforehand (untimed) from lines that each fit.
   */
  const targetsFor = async (names: string[]): Promise<{ targets: string; via: 'line' | 'variable' }> => {
    const typed = names.join(',');
    if (Buffer.byteLength(typed) < MAX_SCRIPT_BYTES - 1024) return { targets: typed, via: 'line' };
    const parts: string[] = [];
    for (let i = 0, k = 0; i < names.length; k++) {
      const chunk: string[] = [];
      let bytes = 0;
      while (i < names.length && bytes < MAX_SCRIPT_BYTES - 2048) {
        chunk.push(`'${names[i]}'`);
        bytes += names[i]!.length + 3;
        i++;
      }
      await set(`$benchTargets${k} = ${chunk.join(',')}`);
      parts.push(`$benchTargets${k}`);
    }
    // The channel language has no operators: @(...; ...) joins the arrays, as in PowerShell.
    await set(`$benchTargets = @(${parts.join('; ')})`);
    return { targets: '$benchTargets', via: 'variable' };
  };

  /**
   * Waits for a job to finish; past the timeout (a hub that lost a message would otherwise hang
   * the bench) it fails, saying what its children's states are.
   */
  const finish = async (jobId: number, n: number): Promise<NonNullable<Awaited<ReturnType<App['jobs']['waitFor']>>>> => {
    const timeoutMs = JOB_TIMEOUT_MS + 50 * n;
    const job = await app.jobs.waitFor(jobId, timeoutMs);
    if (job) return job;
    const states = new Map<string, number>();
    for (const c of app.store.children(jobId)) states.set(c.state, (states.get(c.state) ?? 0) + 1);
    throw new Error(
      `bench: job ${jobId} on ${n} computers did not finish in ${timeoutMs} ms; children: ${JSON.stringify(Object.fromEntries(states))}`,
    );
  };

  /** Starts a job; resolves when the core has created it (its id). */
  const start = async (text: string): Promise<number> => {
    const outcome = await handle(text);
    const jobId = outcome.jobIds[0];
    if (jobId === undefined) throw new Error(`the bench command created no job: ${lastPrivateReply}`);
    return jobId;
  };

  process.on('message', (req: BenchRequest) => {
    void (async () => {
      try {
        switch (req.op) {
          case 'provision': {
            const info = { os: 'bench', version: 'bench', tags: [], configurations: ['sh'], defaultConfiguration: 'sh' };
            const secrets = req.names.map((n) => app.registry.provision(n, info).secret);
            send({ id: req.id, ok: true, value: { url: app.hubUrl, secrets } });
            return;
          }
          case 'connected':
            send({ id: req.id, ok: true, value: req.names.filter((n) => app.hub.isConnected(n)).length });
            return;
          case 'memory': {
            for (let i = 0; i < 3; i++) {
              (globalThis as { gc?: () => void }).gc?.();
              await new Promise((r) => setTimeout(r, 50));
            }
            const m = process.memoryUsage();
            send({ id: req.id, ok: true, value: { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers } });
            return;
          }
          case 'fanout': {
            const { targets, via } = await targetsFor(req.names);
            // From the command line to every child's final state (and all output) stored.
            const text = `Invoke-Command -ComputerName ${targets} -ThrottleLimit ${req.throttleLimit} -AsJob -ScriptBlock { ${req.script ?? 'echo hi'} }`;
            const t0 = process.hrtime.bigint();
            const jobId = await start(text);
            const job = await finish(jobId, req.names.length);
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const children = app.store.children(jobId);
            const completed = children.filter((c) => c.state === 'Completed').length;
            const outputs = app.store.output(jobId).filter((o) => o.stream === 'output').length;
            app.store.deleteJob(jobId);
            send({ id: req.id, ok: true, value: { ms, state: job.state, completed, outputs, via } satisfies FanoutReply });
            return;
          }
          case 'latency': {
            // One-computer commands, one after another, while a job on loadNames streams output
            // (the swarm's null executor streams for a script containing `stream`).
            const { targets } = await targetsFor(req.loadNames);
            const loadLine = `Invoke-Command -ComputerName ${targets} -ThrottleLimit ${req.loadNames.length} -AsJob -ScriptBlock { echo stream }`;
            const loadJobs: number[] = [];
            let loadRunning = true;
            let probing = true;
            let loadError: unknown;
            const loadLoop = (async () => {
              while (probing) {
                const id = await start(loadLine);
                loadJobs.push(id);
                loadRunning = true;
                await finish(id, req.loadNames.length);
                loadRunning = false;
              }
            })().catch((e: unknown) => void (loadError = e));
            // Let the load job start streaming before the first probe.
            await new Promise((r) => setTimeout(r, 300));
            const probesMs: number[] = [];
            let underLoad = 0;
            const probeJobs: number[] = [];
            try {
              for (let i = 0; i < req.probes && loadError === undefined; i++) {
                const t0 = process.hrtime.bigint();
                const id = await start(`Invoke-Command -ComputerName ${req.probeName} -AsJob -ScriptBlock { echo hi }`);
                const job = await finish(id, 1);
                probesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
                if (loadRunning) underLoad++;
                probeJobs.push(id);
                if (job.state !== 'Completed') throw new Error(`a latency probe ended ${job.state}`);
              }
            } finally {
              probing = false;
            }
            await loadLoop;
            if (loadError !== undefined) throw loadError;
            let loadOutputs = 0;
            for (const id of loadJobs) loadOutputs += app.store.output(id).length;
            for (const id of [...loadJobs, ...probeJobs]) app.store.deleteJob(id);
            send({
              id: req.id,
              ok: true,
              value: { probesMs, underLoad, loadJobs: loadJobs.length, loadOutputs } satisfies LatencyReply,
            });
            return;
          }
          case 'stop':
            await app.stop();
            rmSync(dir, { recursive: true, force: true });
            send({ id: req.id, ok: true, value: null });
            setTimeout(() => process.exit(0), 50);
            return;
        }
      } catch (e) {
        send({ id: req.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  send({ id: 0, ok: true, value: 'ready' });
}

void main();
