import { type Config, loadConfig, readDotEnv } from '../../src/config.js';
import { isChatOpsError } from '../../src/errors.js';
import { attachToBot } from './attach-client.js';
import { attachSocketPath } from './attach-socket.js';
import { runMain } from '../../src/run-main.js';

/**
 * `npm run console`: attaches to the bot running on this database (CHATOPS_DB, from the
 * environment and `.env` as for `npm start`) and runs commands in it as its console channel.
 * A prompt when stdin is a terminal; otherwise one command per line, each waited for, exit 1 if
 * any failed. Never opens the database: the running bot does everything.
 */
async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig(readDotEnv('.env', process.env));
  } catch (e) {
    process.stderr.write(`${isChatOpsError(e) ? e.message : String(e)}\n`);
    return 2;
  }
  if (config.dbPath === ':memory:') {
    process.stderr.write('chatops: a bot on CHATOPS_DB=:memory: cannot be attached to (it has no socket beside a database file)\n');
    return 2;
  }
  const outcome = await attachToBot({
    socketPath: attachSocketPath(config.dbPath),
    input: process.stdin,
    output: process.stdout,
    errorOutput: process.stderr,
    terminal: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  });
  if (!outcome.attached) {
    process.stderr.write(`chatops: no running bot to attach to on ${config.dbPath}: ${outcome.reason}\n`);
    return 1;
  }
  return outcome.exitCode;
}

runMain(main);
