/**
 * The bot side of the fan-out bench, in its own process so its memory can be measured apart
 * from the simulated agents: the real app (SQLite store, WebSocket hub, job manager, core) on a
 * temp directory. Driven over IPC by bench/fanout-bench.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { startApp, type App } from '../src/app.js';
import { silentLogger } from '../src/log.js';
import type { ChatSink } from '../src/core/ports.js';
import { messageToText } from '../src/messages/plain-text.js';

export type BenchRequest =
  | { id: number; op: 'provision'; names: string[] }
  | { id: number; op: 'connected'; names: string[] }
  | { id: number; op: 'memory' }
  | { id: number; op: 'fanout'; names: string[]; throttleLimit: number }
  | { id: number; op: 'stop' };

export type BenchReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

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
    RUNBOOKS_DIR: dir,
    EMBEDDED_AGENT: 'false',
    LOG_LEVEL: 'error',
  });
  const app: App = await startApp(config, { log: silentLogger, statusIntervalMs: 1000 });
  const send = (r: BenchReply): void => void process.send!(r);

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
            // From the command line to every child's final state (and all output) stored.
            const text = `Invoke-Command -ComputerName ${req.names.join(',')} -ThrottleLimit ${req.throttleLimit} -AsJob -ScriptBlock { echo hi }`;
            const t0 = process.hrtime.bigint();
            const outcome = await app.core.handle(
              { channel: 'console', user: { platform: 'console', userId: 'console', displayName: 'bench' }, text, source: 'command' },
              nullSink,
            );
            const jobId = outcome.jobIds[0];
            if (jobId === undefined) throw new Error(`the bench command created no job: ${lastPrivateReply}`);
            const job = await app.jobs.waitFor(jobId);
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            const children = app.store.children(jobId);
            const completed = children.filter((c) => c.state === 'Completed').length;
            const outputs = app.store.output(jobId).filter((o) => o.stream === 'output').length;
            app.store.deleteJob(jobId);
            send({ id: req.id, ok: true, value: { ms, state: job?.state, completed, outputs } });
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
  send({ id: 0, ok: true, value: 'ready' });
}

void main();
