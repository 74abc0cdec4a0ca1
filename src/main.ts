import { dirname, join, resolve } from 'node:path';
import { type Config, loadConfig, readDotEnv } from './config.js';
import { createLogger } from './log.js';
import { openToOthers } from './private-files.js';
import { isChatOpsError } from './errors.js';
import { startApp, type App } from './app.js';
import { ENROLLED_AGENTS_WAIT_MS, waitForEnrolledAgents } from './wait-for-agents.js';
import { forwardToRunningBot, startAttachListener } from './console-attach.js';
import { runMain } from './run-main.js';

/**
 * `npm start`: settings from the environment and `.env`, then the runtime (store, hub, core,
 * embedded agent) and the channels: Slack and/or Discord when configured, otherwise the
 * interactive console. SIGINT/SIGTERM stop everything cleanly.
 */
async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(readDotEnv('.env', process.env));
  } catch (e) {
    process.stderr.write(`${isChatOpsError(e) ? e.message : String(e)}\n`);
    return 2;
  }
  // Log lines go to stderr; at the console's prompt they are printed above it (captureLog).
  let logLine = (line: string): void => void process.stderr.write(`${line}\n`);
  const log = createLogger(config.logLevel, (line) => logLine(line));
  if (openToOthers('.env')) log.warn(".env holds the bot's settings and other users can read it: chmod 600 .env");
  for (const s of [config.slack?.botToken, config.slack?.signingSecret, config.slack?.appToken, config.discord?.token]) {
    if (s) log.addSecret(s);
  }
  // Last resort. A rejection nobody handled is a bug, but Node's default (exit) would take down
  // every channel and every job's live status with it: log it, masked, and keep running.
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled rejection (a bug): the bot keeps running', {
      error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
    });
  });

  let app: App;
  try {
    // Channel permissions (policy file, chat rules, deny by default) and the audit trail are
    // startApp's defaults.
    app = await startApp(config, { log });
  } catch (e) {
    // Another bot on this database is not a failure of this start but a reason not to: one line
    // naming the running bot (pid, host, hub), which is left to run undisturbed.
    const refused = isChatOpsError(e) && e.code === 'BotAlreadyRunning';
    // Piped input for the console (`printf ... | npm start` from a script) goes to the running
    // bot's console over its attach socket; this process never opens the database.
    if (refused && !config.slack && !config.discord && !process.stdin.isTTY && config.dbPath !== ':memory:') {
      const forwarded = await forwardToRunningBot(config.dbPath);
      if (forwarded.attached) return forwarded.exitCode;
      process.stderr.write(`chatops: ${e.message}\nchatops: could not attach to it: ${forwarded.reason}\n`);
      return 1;
    }
    process.stderr.write(`chatops: ${refused ? '' : 'could not start: '}${isChatOpsError(e) ? e.message : String(e)}\n`);
    // At a terminal the user wanted a console: the running bot's is one command away.
    if (refused && !config.slack && !config.discord) process.stderr.write('chatops: `npm run console` attaches to its console\n');
    return 1;
  }

  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  // `npm run console` attaches here, in console and chat mode alike. Started after startApp took
  // the bot's lock: a socket left at the path can only be a crashed bot's, and is replaced.
  const attach = await startAttachListener(app, config);
  if (attach) stops.push(() => attach.stop());
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      for (const s of stops.reverse()) {
        try {
          await s();
        } catch (e) {
          log.warn('error while stopping', { error: String(e) });
        }
      }
      await app.stop();
    })();
    return stopping;
  };

  if (config.slack || config.discord) {
    try {
      if (config.slack) {
        // Loaded only when configured: bolt and discord.js are most of the start-up time.
        const { startSlackAdapter } = await import('../adapters/slack/index.js');
        const slack = await startSlackAdapter({ core: app.core, config, log });
        stops.push(() => slack.stop());
        log.info('slack adapter started', { mode: slack.mode });
      }
      if (config.discord) {
        const { startDiscordAdapter } = await import('../adapters/discord/index.js');
        const discord = await startDiscordAdapter({ core: app.core, config, log });
        stops.push(() => discord.stop());
        log.info('discord adapter started');
      }
    } catch (e) {
      // A channel that cannot start (port taken, token refused) is a setting to fix: say which
      // in one line, stop what did start, and exit non-zero for the service manager.
      process.stderr.write(`chatops: could not start: ${isChatOpsError(e) ? e.message : String(e)}\n`);
      await shutdown();
      return 1;
    }
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string): void => {
        log.info(`${signal}: shutting down`);
        void shutdown().then(resolve);
      };
      process.once('SIGINT', () => onSignal('SIGINT'));
      process.once('SIGTERM', () => onSignal('SIGTERM'));
    });
    return 0;
  }

  // The console channel. Wait for agents first, so that the first line (`icm localhost { ... }`)
  // does not fail because they are still dialling in: in a pipe every enrolled agent (bounded,
  // wait-for-agents.ts), at a prompt only the embedded one (the user can retry).
  const embedded = app.embeddedAgentName;
  await waitForEnrolledAgents(
    {
      enrolled: () => (process.stdin.isTTY ? [] : app.registry.list().map((a) => a.name)).concat(embedded ?? []),
      isConnected: (n) => app.hub.isConnected(n),
    },
    { timeoutMs: ENROLLED_AGENTS_WAIT_MS, pollMs: 20 },
  );
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(143)));
  process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
  const { runConsole } = await import('../adapters/console/index.js');
  const code = await runConsole(app.core, {
    input: process.stdin,
    output: process.stdout,
    errorOutput: process.stderr,
    // Beside the database: the whole of each large output (a terminal has no attachments).
    ...(config.dbPath !== ':memory:' ? { attachmentsDir: join(dirname(resolve(config.dbPath)), 'console-output') } : {}),
    // The prompt's history, beside the database too (Up-arrow recalls earlier sessions).
    ...(config.dbPath !== ':memory:' ? { historyFile: join(dirname(resolve(config.dbPath)), 'console-history') } : {}),
    captureLog: (write) => {
      logLine = write ?? ((line) => void process.stderr.write(`${line}\n`));
    },
  });
  await shutdown();
  return code;
}

runMain(main);
