import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotEnv } from 'dotenv';
import { ChatOpsError } from './errors.js';
import { formatDuration, parseDuration } from './duration.js';

/**
 * Every setting, read once at start from the environment (and `.env`, see `readDotEnv`).
 * `loadConfig` validates all of them and reports every problem in one error, so an operator
 * fixes a broken deployment in one pass. Nothing else in the project reads `process.env`.
 */
export interface Config {
  dbPath: string;
  hub: {
    host: string;
    port: number;
    tls?: { certPath: string; keyPath: string };
    heartbeatMs: number;
    /** Connections not yet authenticated (upgrade and hello pending), in total (HUB_MAX_PENDING). */
    maxPending: number;
    /** ...and from one remote address (HUB_MAX_PENDING_PER_ADDRESS). */
    maxPendingPerAddress: number;
  };
  runbooksDir: string;
  /** Per-child runtime limit in ms (JOB_MAX_RUNTIME); 0 = none. The agent enforces it. */
  maxRuntimeMs: number;
  /**
   * The longest idle timeout a session may have (SESSION_MAX_IDLE), as WinRM's MaxIdleTimeoutms:
   * a longer -SessionOption IdleTimeout, or the 2-hour default, is cut to it.
   */
  sessionMaxIdleMs: number;
  /** How long a finished job and its output are kept (JOB_RETENTION); 0 = forever. */
  jobRetentionMs: number;
  /**
   * How long children on an agent that went away wait for it (AGENT_LOST_GRACE) before they
   * end Failed, their agent lost.
   */
  agentLostGraceMs: number;
  /** Most output bytes stored per computer per command (JOB_MAX_OUTPUT); the rest is dropped, with a note. */
  maxOutputBytes: number;
  /** Start an agent for this computer inside the bot (the embedded default). */
  embeddedAgent: boolean;
  /**
   * May rules let chat channels target the embedded agent (EMBEDDED_AGENT_CHAT)? Off by default:
   * its scripts run as the bot's OS user unless `embeddedAgentUser` is set.
   */
  embeddedAgentChat: boolean;
  /** Run the embedded agent's scripts as this OS user (EMBEDDED_AGENT_USER; the bot must be root). */
  embeddedAgentUser?: string;
  policyFile?: string;
  /** Platform-qualified user ids (`slack:U123`, `discord:123`, `console`) allowed to administer. */
  admins: string[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  slack?: {
    botToken: string;
    /** Required in HTTP mode; unused (may be empty) in Socket Mode. */
    signingSecret: string;
    appToken?: string;
    /** HTTP mode: where /slack/events listens (SLACK_LISTEN; SLACK_PORT is its older, port-only form). */
    host: string;
    port: number;
    apiUrl?: string;
    psCommand: string;
    icmCommand: string;
  };
  discord?: {
    token: string;
    applicationId: string;
    guildId?: string;
    apiUrl?: string;
  };
}

export type Env = Record<string, string | undefined>;

const DAY = 86_400_000;
const MIB = 1024 * 1024;

/** `512KB`, `16MB`, `1GB` (powers of 1024) or a plain number of bytes. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+)\s*(B|KB|K|MB|M|GB|G)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = (m[2] ?? 'B').toUpperCase()[0]!;
  const factor = unit === 'K' ? 1024 : unit === 'M' ? MIB : unit === 'G' ? 1024 * MIB : 1;
  return Number(m[1]) * factor;
}

/**
 * `.env` files read by dotenv drop a ` # comment` after a value, but a value can still arrive
 * with one: from a Docker `--env-file`, a systemd `EnvironmentFile` or a shell that quoted the
 * line. Problems with such a value say so.
 */
const COMMENT_HINT = ' (a # comment on the same line? put comments on their own line)';
const commentHint = (raw: string): string => (/\s#/.test(raw) ? COMMENT_HINT : '');

export function loadConfig(env: Env): Config {
  const problems: string[] = [];

  const str = (key: string, fallback?: string): string | undefined => {
    const v = env[key]?.trim();
    return v === undefined || v === '' ? fallback : v;
  };
  /**
   * Tokens, ids, URLs and command names: one word. A space inside is never part of the value
   * (Slack would answer 401 to every request, Discord would register commands nowhere), so it is
   * refused here, naming the key; the value itself is not shown, it may be a secret.
   */
  const word = (key: string, fallback?: string): string | undefined => {
    const v = str(key, fallback);
    if (v !== undefined && /\s/.test(v)) {
      problems.push(`${key} must not contain spaces${/#/.test(v) ? COMMENT_HINT : ''}`);
    }
    return v;
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be an integer from ${min} to ${max}, got '${raw}'${commentHint(raw)}`);
      return fallback;
    }
    return n;
  };
  const duration = (key: string, fallback: number, min: number, max: number): number => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    const ms = parseDuration(raw);
    if (ms === undefined || ms < min || ms > max) {
      problems.push(
        `${key} must be a duration from ${formatDuration(min)} to ${formatDuration(max)} such as 90s, 30m, 12h or 7d, got '${raw}'${commentHint(raw)}`,
      );
      return fallback;
    }
    return ms;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const raw = str(key);
    if (raw === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${key} must be true or false, got '${raw}'${commentHint(raw)}`);
    return fallback;
  };
  /**
   * `HOST:PORT` (`[::1]:PORT` for IPv6). A host is required: an empty one would listen on every
   * interface without anyone asking.
   */
  const address = (key: string, raw: string, fallback: { host: string; port: number }): { host: string; port: number } => {
    const m = /^(\S+):(\d+)$/.exec(raw);
    if (!m || Number(m[2]) > 65535) {
      problems.push(`${key} must be HOST:PORT, got '${raw}'${commentHint(raw)}`);
      return fallback;
    }
    return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
  };

  const certPath = str('HUB_TLS_CERT');
  const keyPath = str('HUB_TLS_KEY');
  if ((certPath === undefined) !== (keyPath === undefined)) {
    problems.push('HUB_TLS_CERT and HUB_TLS_KEY must be set together');
  }
  for (const [k, p] of [
    ['HUB_TLS_CERT', certPath],
    ['HUB_TLS_KEY', keyPath],
  ] as const) {
    if (p !== undefined && !existsSync(p)) problems.push(`${k} names a file that does not exist: ${p}`);
  }
  const tls = certPath && keyPath ? { certPath, keyPath } : undefined;

  const hubDefault = { host: '127.0.0.1', port: tls ? 5986 : 5985 };
  const hubListen = str('HUB_LISTEN');
  const { host, port } = hubListen === undefined ? hubDefault : address('HUB_LISTEN', hubListen, hubDefault);

  const logLevel = str('LOG_LEVEL', 'info')!;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    problems.push(`LOG_LEVEL must be debug, info, warn or error, got '${logLevel}'${commentHint(logLevel)}`);
  }

  const admins = (str('CHATOPS_ADMINS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const a of admins) {
    if (!/^(console|slack:\S+|discord:\S+)$/.test(a)) {
      problems.push(`CHATOPS_ADMINS entries must be console, slack:USERID or discord:USERID, got '${a}'${commentHint(a)}`);
    }
  }

  let slack: Config['slack'];
  const slackBot = word('SLACK_BOT_TOKEN');
  const slackSecret = word('SLACK_SIGNING_SECRET');
  const slackApp = word('SLACK_APP_TOKEN');
  if (slackBot || slackSecret || slackApp) {
    if (!slackBot) problems.push('SLACK_BOT_TOKEN is required when Slack is configured');
    // Socket Mode has no inbound HTTP to verify; HTTP mode cannot run without the secret.
    if (!slackSecret && !slackApp)
      problems.push('SLACK_SIGNING_SECRET is required for Slack in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)');
    const apiUrl = word('SLACK_API_URL');
    if (apiUrl !== undefined && !/^https?:\/\//.test(apiUrl)) {
      problems.push(`SLACK_API_URL must be an http(s) URL, got '${apiUrl}'`);
    }
    // Like the hub, loopback unless told otherwise: the reverse proxy in front usually runs on
    // this computer, and Slack's requests should not reach the bot around it.
    const slackListen = str('SLACK_LISTEN');
    const slackPort = str('SLACK_PORT');
    if (slackListen !== undefined && slackPort !== undefined) {
      problems.push('SLACK_LISTEN and SLACK_PORT are both set: keep SLACK_LISTEN (HOST:PORT); SLACK_PORT is its older, port-only form');
    }
    const slackDefault = { host: '127.0.0.1', port: int('SLACK_PORT', 3000, 0, 65535) };
    const slackAt = slackListen === undefined ? slackDefault : address('SLACK_LISTEN', slackListen, slackDefault);
    // Bolt matches the command name exactly: without its slash, no command would ever arrive.
    const slashCommand = (key: string, name: string, example: string): string => {
      if (!/^\/\S+$/.test(name) && !/\s/.test(name)) problems.push(`${key} must be a slash command such as ${example}, got '${name}'`);
      return name;
    };
    slack = {
      botToken: slackBot ?? '',
      signingSecret: slackSecret ?? '',
      ...(slackApp ? { appToken: slackApp } : {}),
      host: slackAt.host,
      port: slackAt.port,
      ...(apiUrl ? { apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` } : {}),
      psCommand: slashCommand('SLACK_PS_COMMAND', word('SLACK_PS_COMMAND', '/ps')!, '/ps'),
      icmCommand: slashCommand('SLACK_ICM_COMMAND', word('SLACK_ICM_COMMAND', '/icm')!, '/icm'),
    };
  }

  let discord: Config['discord'];
  const dToken = word('DISCORD_TOKEN');
  const dApp = word('DISCORD_APPLICATION_ID');
  if (dToken || dApp) {
    if (!dToken) problems.push('DISCORD_TOKEN is required when Discord is configured');
    if (!dApp) problems.push('DISCORD_APPLICATION_ID is required when Discord is configured');
    const apiUrl = word('DISCORD_API_URL');
    if (apiUrl !== undefined && !/^https?:\/\//.test(apiUrl)) {
      problems.push(`DISCORD_API_URL must be an http(s) URL, got '${apiUrl}'`);
    }
    const guildId = word('DISCORD_GUILD_ID');
    // Discord ids are snowflakes, all digits: anything else registers commands nowhere.
    for (const [key, id] of [
      ['DISCORD_APPLICATION_ID', dApp],
      ['DISCORD_GUILD_ID', guildId],
    ] as const) {
      if (id !== undefined && !/\s/.test(id) && !/^\d+$/.test(id)) problems.push(`${key} must be a Discord id (digits only), got '${id}'`);
    }
    discord = {
      token: dToken ?? '',
      applicationId: dApp ?? '',
      ...(guildId ? { guildId } : {}),
      ...(apiUrl ? { apiUrl } : {}),
    };
  }

  // A retired key is named, not ignored (read directly: it is not a setting any more).
  if (env.MAX_RUNTIME_MS !== undefined) {
    problems.push('MAX_RUNTIME_MS was renamed JOB_MAX_RUNTIME, a duration such as 90s, 30m or 24h (0 = no limit)');
  }
  const policyFile = str('CHATOPS_POLICY_FILE');
  const embeddedAgentUser = str('EMBEDDED_AGENT_USER');
  if (embeddedAgentUser !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$/.test(embeddedAgentUser)) {
    problems.push(`EMBEDDED_AGENT_USER must be an OS user name, got '${embeddedAgentUser}'${commentHint(embeddedAgentUser)}`);
  }
  const maxOutput = str('JOB_MAX_OUTPUT');
  let maxOutputBytes = 16 * MIB;
  if (maxOutput !== undefined) {
    const bytes = parseByteSize(maxOutput);
    if (bytes === undefined || bytes < 1024 || bytes > 1024 * MIB) {
      problems.push(
        `JOB_MAX_OUTPUT must be a size from 1KB to 1GB such as 512KB, 16MB or 1GB, got '${maxOutput}'${commentHint(maxOutput)}`,
      );
    } else {
      maxOutputBytes = bytes;
    }
  }
  const config: Config = {
    dbPath: str('CHATOPS_DB', './data/chatops.db')!,
    hub: {
      host,
      port,
      ...(tls ? { tls } : {}),
      heartbeatMs: int('HUB_HEARTBEAT_MS', 15_000, 100, 3_600_000),
      maxPending: int('HUB_MAX_PENDING', 512, 1, 100_000),
      maxPendingPerAddress: int('HUB_MAX_PENDING_PER_ADDRESS', 64, 1, 100_000),
    },
    runbooksDir: str('RUNBOOKS_DIR', './runbooks')!,
    // Timers cap these at 2^31-1 ms (24.8 days): 24d is the longest whole-day value.
    maxRuntimeMs: duration('JOB_MAX_RUNTIME', DAY, 0, 24 * DAY),
    sessionMaxIdleMs: duration('SESSION_MAX_IDLE', 12 * 60 * 60_000, 1000, 24 * DAY),
    jobRetentionMs: duration('JOB_RETENTION', 7 * DAY, 0, 3650 * DAY),
    agentLostGraceMs: duration('AGENT_LOST_GRACE', 5 * 60_000, 0, 24 * DAY),
    maxOutputBytes,
    embeddedAgent: bool('EMBEDDED_AGENT', true),
    embeddedAgentChat: bool('EMBEDDED_AGENT_CHAT', false),
    ...(embeddedAgentUser !== undefined ? { embeddedAgentUser } : {}),
    ...(policyFile ? { policyFile } : {}),
    admins,
    logLevel: logLevel as Config['logLevel'],
    ...(slack ? { slack } : {}),
    ...(discord ? { discord } : {}),
  };

  if (problems.length > 0) {
    throw new ChatOpsError('InvalidConfig', `Configuration is not valid:\n- ${problems.join('\n- ')}`);
  }
  return config;
}

/**
 * Reads a `.env` file, if present, by dotenv's rules (what the README, tutorials and hosting
 * platforms mean by `.env`): `KEY=value   # comment` is `value`, quotes keep a `#`, `export`
 * is allowed, other lines are ignored. Node 20's own `util.parseEnv` is not used: a comment
 * line that is indented swallows the next key. Values already in `env` win, as with every
 * dotenv loader. Returns a new object; `env` is not modified.
 */
export function readDotEnv(path: string, env: Env): Env {
  if (!existsSync(path)) return { ...env };
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (e) {
    throw new ChatOpsError('InvalidConfig', `${path} could not be read: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return { ...parseDotEnv(text), ...env };
}
