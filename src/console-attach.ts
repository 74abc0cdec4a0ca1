import { dirname, join, resolve } from 'node:path';
import type { App } from './app.js';
import type { Config } from './config.js';
import { isChatOpsError } from './errors.js';
import { ENROLLED_AGENTS_WAIT_MS, waitForEnrolledAgents } from './wait-for-agents.js';

/**
 * main.ts's two uses of the console-attach socket (adapters/console/attach-*.ts), loaded only
 * when used: the running bot's listener, and a second `npm start` forwarding its piped input.
 */

/** What main stops on shutdown. */
export interface AttachListener {
  stop(): Promise<void>;
}

/**
 * Serves `npm run console` at `<db>.sock`. A path that cannot be used safely (a world-writable
 * directory, something other than a socket there) is a warning, not a reason to stop the bot:
 * it runs on without the listener, and the warning says why.
 */
export async function startAttachListener(app: App, config: Config): Promise<AttachListener | undefined> {
  // No file to put a socket beside; and Windows has no Unix sockets with file modes.
  if (config.dbPath === ':memory:' || process.platform === 'win32') return undefined;
  const { startAttachServer } = await import('../adapters/console/attach-server.js');
  const { attachSocketPath } = await import('../adapters/console/attach-socket.js');
  // Within ENROLLED_AGENTS_WAIT_MS of the start, the first command waits for the enrolled agents
  // (once: later ones find it settled); a bot that has run longer does not wait.
  const startedAt = Date.now();
  let settled: Promise<unknown> | undefined;
  const agentsSettled = (): Promise<unknown> =>
    (settled ??= waitForEnrolledAgents(
      { enrolled: () => app.registry.list().map((a) => a.name), isConnected: (n) => app.hub.isConnected(n) },
      { timeoutMs: Math.max(0, startedAt + ENROLLED_AGENTS_WAIT_MS - Date.now()) },
    ));
  try {
    return await startAttachServer({
      beforeCommand: agentsSettled,
      core: app.core,
      socketPath: attachSocketPath(config.dbPath),
      database: config.dbPath,
      log: app.log,
      attachmentsDir: join(dirname(resolve(config.dbPath)), 'console-output'),
    });
  } catch (e) {
    app.log.warn('npm run console cannot attach to this bot', { reason: isChatOpsError(e) ? e.message : String(e) });
    return undefined;
  }
}

/**
 * Sends this process's stdin, line by line, to the console of the bot that holds the lock on
 * `dbPath`, printing what it prints. `attached: false` (nothing was sent) when its socket does
 * not answer within a few seconds (a bot still starting gets them).
 */
export async function forwardToRunningBot(
  dbPath: string,
): Promise<{ attached: true; exitCode: number } | { attached: false; reason: string }> {
  const { attachToBot } = await import('../adapters/console/attach-client.js');
  const { attachSocketPath } = await import('../adapters/console/attach-socket.js');
  return attachToBot({
    socketPath: attachSocketPath(dbPath),
    input: process.stdin,
    output: process.stdout,
    errorOutput: process.stderr,
    terminal: false,
    connectWaitMs: 3_000,
  });
}
