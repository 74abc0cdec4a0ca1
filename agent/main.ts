import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import yargsParser from 'yargs-parser';
import { isValidAgentName, isValidTag } from '../src/hub/agent-registry.js';
import { createLogger, type LogLevel } from '../src/log.js';
import { Agent, parseConfiguration, readState, type SessionConfiguration } from './agent.js';
import { availableKinds } from './executors.js';
import { lookupUser, parseScriptEnv, type ScriptUser } from './script-environment.js';

const USAGE = `Usage: npm run agent -- --hub ws://HOST:5985 --name NAME [--token-file FILE] [options]

  --hub URL                     the bot's agent hub (ws:// or wss://)
  --name NAME                   this computer's name (letters, digits, . _ -)
  --token-file FILE             read the enrolment token from 'npm run admin -- token create' from
                                FILE (first start only); or set CHATOPS_AGENT_TOKEN instead
  --token TOKEN                 the token on the command line: other users of this computer can
                                read it in the process list (ps) while the agent runs
  --state-dir DIR               where the secret and the outbox are kept (default ./.agent-state/NAME)
  --tag KEY=VALUE               a tag to enrol with (repeatable); only the first start counts,
                                later changes are an admin's: npm run admin -- agent tag NAME KEY=VALUE
  --configuration NAME[=KIND]   a session configuration to offer (repeatable); KIND is
                                Microsoft.PowerShell, bash or sh (default: NAME). Default: every one found on PATH
  --runbooks-dir DIR            where restricted configurations find their runbooks
  --restrict-to-runbooks NAME   this configuration runs only runbooks from --runbooks-dir (repeatable)
  --script-env NAME[=VALUE]     give every script this variable (repeatable): NAME alone copies it from
                                the agent's environment. Scripts see nothing else of it: they start with
                                PATH, HOME, USER, LOGNAME, SHELL, the locale and TZ only
  --run-as USER                 run scripts as this OS user (the agent must run as root)
  --tls-ca FILE                 CA certificate to trust for a wss:// hub
  --log-level LEVEL             debug, info, warn or error (default info)

Environment:
  CHATOPS_AGENT_TOKEN           the enrolment token (instead of --token-file or --token)
`;

/** The environment variable an agent reads its enrolment token from. */
export const TOKEN_ENV = 'CHATOPS_AGENT_TOKEN';

/** The flags that take a value; every flag the agent knows is one of these or --help. */
const VALUE_FLAGS = [
  'hub',
  'name',
  'token',
  'token-file',
  'state-dir',
  'tag',
  'configuration',
  'runbooks-dir',
  'restrict-to-runbooks',
  'tls-ca',
  'script-env',
  'run-as',
  'log-level',
];
const FLAGS = [...VALUE_FLAGS, 'help'];

export interface AgentCliOptions {
  hubUrl: string;
  name: string;
  /** From --token or CHATOPS_AGENT_TOKEN. */
  token?: string;
  /** --token-file: read (readTokenFile) only while the agent is not enrolled yet. */
  tokenFile?: string;
  /** Where the token comes from; `--token` is warned about (it shows in the process list). */
  tokenSource?: '--token' | '--token-file' | typeof TOKEN_ENV;
  stateDir: string;
  tags: string[];
  configurations?: SessionConfiguration[];
  runbooksDir?: string;
  restrictToRunbooks: string[];
  tlsCa?: string;
  /** --script-env, resolved against the agent's environment. */
  scriptEnv: Record<string, string>;
  /** --run-as. */
  runAs?: ScriptUser;
  logLevel: LogLevel;
}

/**
 * Parses and validates the agent's flags (and, for the token, `env`: CHATOPS_AGENT_TOKEN).
 * Returns every problem at once.
 */
export function parseAgentArgs(
  argv: string[],
  env: Readonly<Record<string, string | undefined>> = {},
  uid: number | undefined = process.getuid?.(),
): { ok: true; options: AgentCliOptions } | { ok: false; problems: string[]; help?: boolean } {
  const a = yargsParser(argv, {
    string: VALUE_FLAGS,
    boolean: ['help'],
    array: ['tag', 'configuration', 'restrict-to-runbooks', 'script-env'],
    configuration: { 'camel-case-expansion': false, 'dot-notation': false },
  });
  if (a.help) return { ok: false, problems: [], help: true };
  const problems: string[] = [];
  for (const k of Object.keys(a)) if (k !== '_' && !FLAGS.includes(k)) problems.push(`unknown option --${k}`);
  if (a._.length > 0) problems.push(`unexpected argument '${String(a._[0])}'`);
  const one = (k: string): string | undefined => {
    const v: unknown = a[k];
    if (v === undefined) return undefined;
    if (Array.isArray(v) || typeof v !== 'string' || v === '') {
      problems.push(`--${k} needs one value`);
      return undefined;
    }
    return v;
  };
  const many = (k: string): string[] => ((a[k] as string[] | undefined) ?? []).map(String);

  const hubUrl = one('hub');
  if (a.hub === undefined) problems.push('--hub is required');
  else if (hubUrl !== undefined && !/^wss?:\/\/[^\s/]+/.test(hubUrl)) problems.push(`--hub must be a ws:// or wss:// URL, got '${hubUrl}'`);
  const name = one('name');
  if (a.name === undefined) problems.push('--name is required');
  else if (name !== undefined && !isValidAgentName(name))
    problems.push(`--name '${name}' is not valid: use 1-63 letters, digits, '.', '_' or '-'`);
  const { token, tokenFile, tokenSource } = enrolmentToken(one('token'), one('token-file'), env, problems);
  const tags = many('tag');
  for (const t of tags) if (!isValidTag(t)) problems.push(`--tag must be KEY=VALUE, got '${t}'`);

  let configurations: SessionConfiguration[] | undefined;
  const specs = many('configuration');
  if (specs.length > 0) {
    configurations = [];
    const here = availableKinds();
    for (const s of specs) {
      const c = parseConfiguration(s);
      if (!c) problems.push(`--configuration '${s}' is not NAME or NAME=KIND with KIND Microsoft.PowerShell, bash or sh`);
      else if (!here.includes(c.kind)) problems.push(`--configuration '${s}': ${c.kind} is not installed on this computer`);
      else configurations.push(c);
    }
  }
  const restrictToRunbooks = many('restrict-to-runbooks');
  const offered = (configurations ?? availableKinds().map((k) => ({ name: k, kind: k }))).map((c) => c.name.toLowerCase());
  for (const r of restrictToRunbooks) {
    if (!offered.includes(r.toLowerCase())) problems.push(`--restrict-to-runbooks '${r}' is not a configuration this agent offers`);
  }
  const runbooksDir = one('runbooks-dir');
  if (restrictToRunbooks.length > 0 && runbooksDir === undefined) problems.push('--restrict-to-runbooks needs --runbooks-dir');
  const logLevel = (one('log-level') ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) problems.push(`--log-level must be debug, info, warn or error`);
  const tlsCa = one('tls-ca');
  const scriptEnv = parseScriptEnv(many('script-env'), env);
  if (!scriptEnv.ok) problems.push(...scriptEnv.problems);
  const runAsName = one('run-as');
  let runAs: ScriptUser | undefined;
  if (runAsName !== undefined) {
    if (uid !== 0) problems.push(`--run-as ${runAsName} needs the agent to run as root (it switches to that user for each script)`);
    else {
      try {
        runAs = lookupUser(runAsName);
        if (runAs.uid === 0) problems.push(`--run-as ${runAsName} is root (uid 0): name an unprivileged user for scripts`);
      } catch (e) {
        problems.push(`--run-as ${runAsName}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  if (problems.length > 0 || !scriptEnv.ok) return { ok: false, problems };
  const stateDir = one('state-dir') ?? join('.agent-state', name!);
  return {
    ok: true,
    options: {
      hubUrl: hubUrl!,
      name: name!,
      ...(token !== undefined ? { token } : {}),
      ...(tokenFile !== undefined ? { tokenFile } : {}),
      ...(tokenSource !== undefined ? { tokenSource } : {}),
      stateDir,
      tags,
      ...(configurations ? { configurations } : {}),
      ...(runbooksDir ? { runbooksDir } : {}),
      restrictToRunbooks,
      ...(tlsCa ? { tlsCa } : {}),
      scriptEnv: scriptEnv.env,
      ...(runAs ? { runAs } : {}),
      logLevel,
    },
  };
}

/**
 * The token source: at most one of --token, --token-file and CHATOPS_AGENT_TOKEN (two are
 * refused rather than one picked silently); problems are added to `problems`.
 */
function enrolmentToken(
  flag: string | undefined,
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): Pick<AgentCliOptions, 'token' | 'tokenFile' | 'tokenSource'> {
  const fromEnv = env[TOKEN_ENV]?.trim() || undefined;
  const given = [
    ...(flag !== undefined ? ['--token' as const] : []),
    ...(file !== undefined ? ['--token-file' as const] : []),
    ...(fromEnv !== undefined ? [TOKEN_ENV] : []),
  ];
  if (given.length > 1) {
    problems.push(`give the enrolment token one way only, not ${given.join(' and ')}`);
    return {};
  }
  if (flag !== undefined) return { token: flag, tokenSource: '--token' };
  if (fromEnv !== undefined) return { token: fromEnv, tokenSource: TOKEN_ENV };
  if (file !== undefined) return { tokenFile: file, tokenSource: '--token-file' };
  return {};
}

/**
 * The enrolment token in `file`, trimmed. Read only while the agent is not enrolled, so the
 * file may be deleted once the agent has its secret.
 */
export function readTokenFile(file: string): { ok: true; token: string } | { ok: false; problem: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return {
      ok: false,
      problem: `--token-file '${file}' cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e))}`,
    };
  }
  const token = text.trim();
  return token === '' ? { ok: false, problem: `--token-file '${file}' is empty` } : { ok: true, token };
}

async function main(): Promise<void> {
  const parsed = parseAgentArgs(process.argv.slice(2), process.env);
  // Read once; nothing this agent starts needs it, so it does not stay in the environment.
  delete process.env[TOKEN_ENV];
  if (!parsed.ok) {
    if (parsed.help) {
      process.stdout.write(USAGE);
      return;
    }
    process.stderr.write(parsed.problems.map((p) => `agent: ${p}\n`).join('') + '\n' + USAGE);
    process.exitCode = 2;
    return;
  }
  const o = parsed.options;
  const log = createLogger(o.logLevel);
  // Last resort: a rejection nobody handled is a bug, but exiting would kill the commands this
  // agent runs and drop their unacknowledged output. Log it (masked) and keep running.
  process.on('unhandledRejection', (reason) => {
    log.error('unhandled rejection (a bug): the agent keeps running', {
      error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason),
    });
  });
  if (o.token) log.addSecret(o.token);
  if (o.tokenSource === '--token') {
    log.warn(
      'the enrolment token was given with --token: other users of this computer can read it in the process list (ps) ' +
        `while the agent runs; use --token-file FILE or ${TOKEN_ENV} instead`,
    );
  }
  const state = readState(o.stateDir);
  let token = o.token;
  if (!state && o.tokenFile !== undefined) {
    const read = readTokenFile(o.tokenFile);
    if (!read.ok) {
      process.stderr.write(`agent: ${read.problem}\n`);
      process.exitCode = 2;
      return;
    }
    token = read.token;
    log.addSecret(token);
  }
  if (!state && !token) {
    process.stderr.write(
      `agent: ${o.name} is not enrolled yet (no secret in ${o.stateDir}): pass --token-file FILE (or set ${TOKEN_ENV})\n`,
    );
    process.exitCode = 2;
    return;
  }
  if (state && o.tokenSource) log.info('already enrolled: using the secret from the state directory, not the token');
  const agent = new Agent({
    hubUrl: o.hubUrl,
    name: o.name,
    ...(token ? { token } : {}),
    stateDir: o.stateDir,
    tags: o.tags,
    ...(o.configurations ? { configurations: o.configurations } : {}),
    ...(o.runbooksDir ? { runbooksDir: o.runbooksDir } : {}),
    restrictToRunbooks: o.restrictToRunbooks,
    ...(o.tlsCa ? { tls: { ca: readFileSync(o.tlsCa) } } : {}),
    scriptEnv: o.scriptEnv,
    ...(o.runAs ? { runAs: o.runAs } : {}),
    log,
  });
  agent.on('fatal', (e: Error & { code?: string }) => {
    process.stderr.write(`agent: refused by the hub (${e.code ?? 'error'}): ${e.message}\n`);
    void agent.stop().then(() => process.exit(3));
  });
  const info = agent.info();
  log.info('agent starting', { name: o.name, hub: o.hubUrl, configurations: info.configurations, default: info.defaultConfiguration });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    void agent.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  agent.start();
}

// Run only as the entry point, so tests and tools can import parseAgentArgs.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main();
