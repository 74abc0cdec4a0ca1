import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import yargsParser from 'yargs-parser';
import { loadConfig, readDotEnv, type Env } from '../config.js';
import { isChatOpsError } from '../errors.js';
import { openDatabase } from '../store/database.js';
import { ADMIN_COMMANDS } from './commands.js';

function usage(): string {
  return ['Usage: npm run admin -- COMMAND', '', ...ADMIN_COMMANDS.map((c) => `  ${c.usage}`), ''].join('\n');
}

/**
 * Runs one admin command line. Settings come from `env` (and `.env`) exactly as for the bot,
 * so the CLI opens the same database. Returns the process exit code.
 */
export async function runAdmin(
  argv: string[],
  io: { env: Env; out: (line: string) => void; err: (line: string) => void; dotEnvPath?: string },
): Promise<number> {
  const words = argv.filter((a) => !a.startsWith('-'));
  const command = ADMIN_COMMANDS.find((c) => c.words.every((w, i) => words[i] === w));
  if (!command) {
    if (argv.length > 0 && !argv.includes('--help')) io.err(`admin: unknown command '${argv.join(' ')}'`);
    io.err(usage());
    return argv.includes('--help') ? 0 : 2;
  }
  const rest = [...argv];
  for (const w of command.words) rest.splice(rest.indexOf(w), 1);
  const args = yargsParser(rest, {
    string: command.flags.string ?? [],
    boolean: command.flags.boolean ?? [],
    number: command.flags.number ?? [],
    configuration: { 'camel-case-expansion': false, 'dot-notation': false, 'parse-numbers': false, 'parse-positional-numbers': false },
  });
  const known = new Set([...(command.flags.string ?? []), ...(command.flags.boolean ?? []), ...(command.flags.number ?? [])]);
  for (const k of Object.keys(args)) {
    if (k !== '_' && !known.has(k)) {
      io.err(`admin: ${command.words.join(' ')} does not take --${k}\n\n${usage()}`);
      return 2;
    }
  }
  try {
    const config = loadConfig(readDotEnv(io.dotEnvPath ?? '.env', io.env));
    const db = openDatabase(config.dbPath);
    try {
      return await command.run({ args, config, db, out: io.out });
    } finally {
      db.close();
    }
  } catch (e) {
    if (isChatOpsError(e)) {
      io.err(`admin: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  void runAdmin(process.argv.slice(2), {
    env: process.env,
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  }).then((code) => {
    process.exitCode = code;
  });
}
