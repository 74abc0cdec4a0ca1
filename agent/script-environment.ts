import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';

/**
 * What a script starts from. Never the agent process's environment: the embedded agent lives
 * in the bot's process, whose environment holds the bot's tokens, and an agent's own
 * environment may hold its enrolment token. A script gets:
 *
 * - `HOME`, `USER`, `LOGNAME`, `SHELL` of the OS user it runs as;
 * - `PATH` and the locale and time-zone names below, copied from the agent when set there;
 * - what the agent's configuration names (`--script-env NAME` or `NAME=VALUE`);
 * - the run's `$Using:` values as `USING_*` (bash/sh), added by the executor.
 *
 * A name of the bot's settings (SLACK_*, DISCORD_*, CHATOPS_*, HUB_*) is never passed, even
 * when a configuration names it.
 */

export const PASSED_FROM_AGENT: readonly string[] = [
  'PATH',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_COLLATE',
  'LC_MESSAGES',
  'LC_MONETARY',
  'LC_NUMERIC',
  'LC_TIME',
  'TZ',
  'TMPDIR',
  // Where a pwsh installed as a .NET global tool finds the runtime.
  'DOTNET_ROOT',
];

/** PATH when the agent has none (the usual default of login shells). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Names of the bot's settings: never visible to a script. */
export const BOT_SETTING_NAME = /^(SLACK|DISCORD|CHATOPS|HUB)_/i;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The OS user a script runs as. */
export interface ScriptUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** The user this process runs as (HOME from the environment when set, as a login would have it). */
export function currentUser(env: NodeJS.ProcessEnv = process.env): ScriptUser {
  const u = userInfo();
  return { name: u.username, uid: u.uid, gid: u.gid, home: env.HOME || u.homedir, shell: u.shell ?? '/bin/sh' };
}

/**
 * Looks a user up in the system's user database (`getent passwd`, so NSS users work too).
 * Throws an Error naming the user when there is none.
 */
export function lookupUser(name: string): ScriptUser {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$/.test(name)) throw new Error(`'${name}' is not a user name`);
  let line: string;
  try {
    line = execFileSync('getent', ['passwd', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0] ?? '';
  } catch {
    throw new Error(`there is no user named '${name}' on this computer`);
  }
  const f = line.split(':');
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (f.length < 7 || !Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(`the user database entry for '${name}' is not readable`);
  return { name: f[0]!, uid, gid, home: f[5] || '/', shell: f[6] || '/bin/sh' };
}

/**
 * Parses `--script-env` entries: `NAME` (copied from the agent's environment when set there) or
 * `NAME=VALUE`. Returns the variables, or the problems (a bot setting, a bad name).
 */
export function parseScriptEnv(
  specs: readonly string[],
  agentEnv: NodeJS.ProcessEnv,
): { ok: true; env: Record<string, string> } | { ok: false; problems: string[] } {
  const env: Record<string, string> = {};
  const problems: string[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = eq < 0 ? spec : spec.slice(0, eq);
    if (!ENV_NAME.test(name)) {
      problems.push(`--script-env '${spec}': '${name}' is not an environment variable name`);
      continue;
    }
    if (BOT_SETTING_NAME.test(name)) {
      problems.push(
        `--script-env '${spec}': ${name} is a setting of the bot (SLACK_*, DISCORD_*, CHATOPS_*, HUB_*) and is never given to scripts`,
      );
      continue;
    }
    if (/^USING_/i.test(name)) {
      problems.push(`--script-env '${spec}': USING_* names carry $Using: values and cannot be set by the agent`);
      continue;
    }
    if (eq >= 0) env[name] = spec.slice(eq + 1);
    else if (agentEnv[name] !== undefined) env[name] = agentEnv[name]!;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, env };
}

/** The fixed environment every script of this agent starts from (before its USING_* values). */
export function scriptEnvironment(
  agentEnv: NodeJS.ProcessEnv,
  user: ScriptUser,
  configured: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSED_FROM_AGENT) {
    const v = agentEnv[k];
    if (v !== undefined && v !== '') env[k] = v;
  }
  env.PATH ??= DEFAULT_PATH;
  env.HOME = user.home;
  env.USER = user.name;
  env.LOGNAME = user.name;
  env.SHELL = user.shell;
  for (const [k, v] of Object.entries(configured)) {
    // Checked when the configuration is parsed; checked again here, where it matters.
    if (!BOT_SETTING_NAME.test(k) && !/^USING_/i.test(k)) env[k] = v;
  }
  return env;
}

/** Where a script starts: its user's home directory, as a remote PowerShell session does, else `/`. */
export function scriptWorkingDirectory(user: ScriptUser): string {
  return user.home !== '' && existsSync(user.home) ? user.home : '/';
}
