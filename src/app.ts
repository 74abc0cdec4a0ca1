import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Config } from './config.js';
import type { AuditLog, Authorizer } from './core/authorizer.js';
import type { Core } from './core/ports.js';
import { createLogger, type Logger } from './log.js';
import { openDatabase, type Db } from './store/database.js';
import { takeBotLock, type BotLock } from './store/bot-lock.js';
import { SqliteJobStore } from './store/sqlite-job-store.js';
import { SqliteSessionStore } from './store/sqlite-session-store.js';
import { SessionManager } from './sessions/session-manager.js';
import type { JobStore } from './store/job-store.js';
import { SqliteAgentRegistry, type AgentRecord, type AgentRegistry } from './hub/agent-registry.js';
import { embeddedAgentName, embeddedScriptUser, startEmbeddedAgent } from './hub/embedded-agent.js';
import { WebSocketHub } from './hub/ws-hub.js';
import { RetentionPruner } from './jobs/retention.js';
import { JobManager } from './jobs/job-manager.js';
import type { AgentDirectory, AgentSummary } from './jobs/agent-directory.js';
import { ChatCore, type ChatCoreOptions } from './core/chat-core.js';
import { createPermissionsModule } from './permissions/module.js';
import { SqliteAuditLog } from './audit/audit-log.js';
import type { Agent } from '../agent/agent.js';
import type { ScriptUser } from '../agent/script-environment.js';
import type { AppDeps } from './app-deps.js';

export type { AppDeps } from './app-deps.js';

export interface App {
  core: Core;
  authorizer: Authorizer;
  audit: AuditLog;
  hub: WebSocketHub;
  registry: AgentRegistry;
  db: Db;
  config: Config;
  store: JobStore;
  jobs: JobManager;
  /** JOB_RETENTION pruning (runs by itself; `pruneNow` for tests and tools). */
  retention: RetentionPruner;
  log: Logger;
  /** The hub's URL as agents dial it (`ws://127.0.0.1:PORT`), with the real port. */
  hubUrl: string;
  /** Name of the embedded agent, when one runs. */
  embeddedAgentName?: string;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  log?: Logger;
  /** Default: the permissions module (policy file, chat rules, the built-in console rule). */
  authorizer?: Authorizer | ((deps: AppDeps) => Authorizer);
  /** Default: the SQLite hash-chained audit log. */
  audit?: AuditLog | ((deps: AppDeps) => AuditLog);
  /** Overrides config.embeddedAgent. */
  embeddedAgent?: boolean;
  /** More cmdlets for the core (permissions admin cmdlets). */
  extraCmdlets?: ChatCoreOptions['extraCmdlets'];
  /** Status message edit interval (ms). */
  statusIntervalMs?: number;
  /** How long children of jobs resumed after a restart wait for their agents (ms). */
  recoveryGraceMs?: number;
  /** Called with every SQL statement the bot runs: tests and the bench count the work per computer. */
  onSqlStatement?: (sql: string) => void;
}

/** The registry seen by the job runtime: names, aliases, tags and who is online. */
function registryDirectory(registry: AgentRegistry, hub: WebSocketHub): AgentDirectory {
  const summary = (a: AgentRecord): AgentSummary => ({
    name: a.name,
    aliases: a.aliases,
    tags: a.tags,
    os: a.os,
    version: a.version,
    configurations: a.configurations,
    defaultConfiguration: a.defaultConfiguration,
    connected: hub.isConnected(a.name),
    ...(a.lastSeen !== undefined ? { lastSeen: a.lastSeen } : {}),
  });
  return {
    resolve: (n) => registry.resolve(n),
    get: (n) => {
      const a = registry.get(n);
      return a ? summary(a) : undefined;
    },
    list: () => registry.list().map(summary),
  };
}

/**
 * Starts the bot's runtime: the bot's lock on the database (one bot per database; the lock is
 * released by stop()), the SQLite store (migrations applied), the agent hub, the job
 * manager (which resumes jobs that were running before a restart), the core and, when
 * configured, an embedded agent for this computer registered under its host name and as
 * `localhost`. Adapters are started by main.
 */
export async function startApp(config: Config, options: StartAppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.logLevel);
  const embedded = options.embeddedAgent ?? config.embeddedAgent;
  // Checked before anything starts: scripts must never run as the wrong user.
  const runAs = embedded && config.embeddedAgentUser !== undefined ? embeddedScriptUser(config.embeddedAgentUser) : undefined;
  // Before anything touches the database (migrations, jobs resumed as left over from a restart),
  // the embedded agent's state or the hub port: a second bot on this database stops here
  // (BotAlreadyRunning, naming the running one) and the first one's jobs never notice it.
  const lock = config.dbPath === ':memory:' ? undefined : takeBotLock(config.dbPath);
  try {
    return await startLocked(config, options, { log, embedded, runAs, lock });
  } catch (e) {
    lock?.release();
    throw e;
  }
}

async function startLocked(
  config: Config,
  options: StartAppOptions,
  { log, embedded, runAs, lock }: { log: Logger; embedded: boolean; runAs: ScriptUser | undefined; lock: BotLock | undefined },
): Promise<App> {
  const db = openDatabase(config.dbPath, (m) => log.warn(m), options.onSqlStatement ? { onStatement: options.onSqlStatement } : {});
  const registry = new SqliteAgentRegistry(db);
  const store = new SqliteJobStore(db);
  const localName = embedded ? embeddedAgentName() : undefined;
  const deps: AppDeps = { db, registry, config, log, embeddedAgentNames: localName === undefined ? [] : [localName, 'localhost'] };
  // Before the hub: enrolments are audited from the first connection on.
  const audit = typeof options.audit === 'function' ? options.audit(deps) : (options.audit ?? new SqliteAuditLog(db));
  const hub = new WebSocketHub({
    host: config.hub.host,
    port: config.hub.port,
    ...(config.hub.tls ? { tls: config.hub.tls } : {}),
    heartbeatMs: config.hub.heartbeatMs,
    maxPending: config.hub.maxPending,
    maxPendingPerAddress: config.hub.maxPendingPerAddress,
    registry,
    log,
    audit,
  });
  const directory = registryDirectory(registry, hub);
  const jobs = new JobManager({
    store,
    transport: hub,
    directory,
    log,
    // Children not dispatched before a restart wait for their agent as long as running ones do.
    recoveryGraceMs: options.recoveryGraceMs ?? config.agentLostGraceMs,
    lostGraceMs: config.agentLostGraceMs,
    reconnectSettleMs: 2 * config.hub.heartbeatMs,
    maxOutputBytes: config.maxOutputBytes,
  });
  const sessionStore = new SqliteSessionStore(db);
  const sessions = new SessionManager({ store: sessionStore, transport: hub, log });
  // Handlers are wired before the hub listens, so no early message is missed.
  jobs.start();
  sessions.start();
  const retention = new RetentionPruner({ store, jobs, log, retentionMs: config.jobRetentionMs });
  retention.start();
  try {
    await hub.start();
  } catch (e) {
    retention.stop();
    jobs.stop();
    db.close();
    throw e;
  }
  const address = hub.address();
  const dialHost = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
  const hubUrl = `${config.hub.tls ? 'wss' : 'ws'}://${dialHost.includes(':') ? `[${dialHost}]` : dialHost}:${address.port}`;
  lock?.setHub(hubUrl);

  // Default: channel permissions from the policy file, chat rules and the built-in console rule,
  // with their admin cmdlets. A broken policy file refuses to start (InvalidPolicy, lines named).
  const permissions = options.authorizer === undefined ? createPermissionsModule() : undefined;
  let authorizer: Authorizer;
  try {
    authorizer = permissions
      ? permissions.authorizer(deps)
      : typeof options.authorizer === 'function'
        ? options.authorizer(deps)
        : options.authorizer!;
  } catch (e) {
    retention.stop();
    jobs.stop();
    await hub.stop();
    db.close();
    throw e;
  }
  const extraCmdlets = { ...(permissions?.extraCmdlets ?? {}), ...(options.extraCmdlets ?? {}) };
  const core = new ChatCore({
    store,
    jobs,
    sessionStore,
    sessions,
    directory,
    authorizer,
    audit,
    log,
    runbooksDir: resolve(config.runbooksDir),
    maxRuntimeMs: config.maxRuntimeMs,
    sessionMaxIdleMs: config.sessionMaxIdleMs,
    ...(options.statusIntervalMs !== undefined ? { statusIntervalMs: options.statusIntervalMs } : {}),
    extraCmdlets,
  });

  let agent: Agent | undefined;
  if (localName !== undefined) {
    // In-process, registered under the host name and as `localhost`; its outbox lives beside
    // the database so unacknowledged output survives a restart of the bot. Named after the
    // database file: two bots whose databases share a directory must not share it (the second
    // would kill the first one's runs as left over from a restart and take their output).
    try {
      agent = await startEmbeddedAgent({
        registry,
        hubUrl,
        log,
        name: localName,
        stateDir: config.dbPath === ':memory:' ? null : join(dirname(resolve(config.dbPath)), `${basename(config.dbPath)}.embedded-agent`),
        runbooksDir: resolve(config.runbooksDir),
        ...(config.hub.tls ? { tlsCa: readFileSync(config.hub.tls.certPath) } : {}),
        ...(runAs ? { runAs } : {}),
      });
    } catch (e) {
      log.error('the embedded agent could not connect', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  let stopped = false;
  return {
    core,
    authorizer,
    audit,
    hub,
    registry,
    db,
    config,
    store,
    jobs,
    retention,
    log,
    hubUrl,
    ...(localName !== undefined ? { embeddedAgentName: localName } : {}),
    async stop() {
      if (stopped) return;
      stopped = true;
      // The job manager first: connections dropped by the shutdown are not agents going away.
      retention.stop();
      jobs.stop();
      permissions?.close();
      try {
        if (agent) await agent.stop();
        await hub.stop();
        db.close();
      } finally {
        // Last, once the port, the agent's state and the database are let go: a bot started
        // next (restartApp, or systemd's restart) may take them all.
        lock?.release();
      }
    },
  };
}
