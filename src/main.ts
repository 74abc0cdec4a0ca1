import { dirname, join, resolve } from 'node:path';
import { type Config, loadConfig, readDotEnv } from './config.js';
import { createLogger } from './log.js';
import { openToOthers } from './private-files.js';
import { isChatOpsError } from './errors.js';
import { startApp, type App } from './app.js';

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
  const log = createLogger(config.logLevel);
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
    process.stderr.write(`chatops: ${refused ? '' : 'could not start: '}${isChatOpsError(e) ? e.message : String(e)}\n`);
    return 1;
  }

  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
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

  // The console channel. In a pipe, wait for the embedded agent first, so that the first line
  // (`icm localhost { ... }`) does not fail because the agent is still dialling in.
  if (app.embeddedAgentName !== undefined) {
    const deadline = Date.now() + 10_000;
    while (!app.hub.isConnected(app.embeddedAgentName) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  process.once('SIGTERM', () => void shutdown().then(() => process.exit(143)));
  process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
  const { runConsole } = await import('../adapters/console/index.js');
  const code = await runConsole(app.core, {
    input: process.stdin,
    output: process.stdout,
    errorOutput: process.stderr,
    // Beside the database: the whole of each large output (a terminal has no attachments).
    ...(config.dbPath !== ':memory:' ? { attachmentsDir: join(dirname(resolve(config.dbPath)), 'console-output') } : {}),
  });
  await shutdown();
  return code;
}

void main().then(
  (code) => {
    process.exitCode = code;
    // Nothing is left to wait for; do not let a stray handle keep the process alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (e: unknown) => {
    process.stderr.write(`chatops: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
