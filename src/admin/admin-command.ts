import type { Arguments } from 'yargs-parser';
import type { Config } from '../config.js';
import type { Db } from '../store/database.js';

/** What a command gets: parsed flags (positionals after the command words in `args._`), config, the open store, output. */
export interface AdminContext {
  args: Arguments;
  config: Config;
  db: Db;
  out: (line: string) => void;
}

export interface AdminCommand {
  /** The command words, e.g. ['token', 'create']. */
  words: string[];
  usage: string;
  /** Flags this command accepts (besides the command words). */
  flags: { string?: string[]; boolean?: string[]; number?: string[] };
  /** Returns the exit code. Throw ChatOpsError for a user-facing failure. */
  run(ctx: AdminContext): number | Promise<number>;
}
