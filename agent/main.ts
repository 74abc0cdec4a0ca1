import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import yargsParser from 'yargs-parser';
import { isValidAgentName } from '../src/hub/agent-registry';
import { createLogger, type LogLevel } from '../src/log';
import { Agent, parseConfiguration, readState, type SessionConfiguration } from './agent';
import { availableKinds } from './executors';

const USAGE = `Usage: npm run agent -- --hub ws://HOST:5985 --name NAME [--token TOKEN] [options]

  --hub URL                     the bot's agent hub (ws:// or wss://)
  --name NAME                   this computer's name (letters, digits, . _ -)
  --token TOKEN                 enrolment token from 'npm run admin -- token create' (first start only)
  --state-dir DIR               where the secret and the outbox are kept (default ./.agent-state/NAME)
  --tag KEY=VALUE               a tag reported to the hub (repeatable)
  --configuration NAME[=KIND]   a session configuration to offer (repeatable); KIND is
                                Microsoft.PowerShell, bash or sh (default: NAME). Default: every one found on PATH
  --runbooks-dir DIR            where restricted configurations find their runbooks
  --restrict-to-runbooks NAME   this configuration runs only runbooks from --runbooks-dir (repeatable)
  --tls-ca FILE                 CA certificate to trust for a wss:// hub
  --log-level LEVEL             debug, info, warn or error (default info)
`;

const FLAGS = [
  'hub',
  'name',
  'token',
  'state-dir',
  'tag',
  'configuration',
  'runbooks-dir',
  'restrict-to-runbooks',
  'tls-ca',
  'log-level',
  'help',
];

export interface AgentCliOptions {
  hubUrl: string;
  name: string;
  token?: string;
  stateDir: string;
  tags: string[];
  configurations?: SessionConfiguration[];
  runbooksDir?: string;
  restrictToRunbooks: string[];
  tlsCa?: string;
  logLevel: LogLevel;
}

/** Parses and validates the agent's flags; returns every problem at once. */
export function parseAgentArgs(argv: string[]): { ok: true; options: AgentCliOptions } | { ok: false; problems: string[]; help?: boolean } {
  const a = yargsParser(argv, {
    string: ['hub', 'name', 'token', 'state-dir', 'tag', 'configuration', 'runbooks-dir', 'restrict-to-runbooks', 'tls-ca', 'log-level'],
    boolean: ['help'],
    array: ['tag', 'configuration', 'restrict-to-runbooks'],
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
  else if (name !== undefined && !isValidAgentName(name)) problems.push(`--name '${name}' is not valid: use 1-63 letters, digits, '.', '_' or '-'`);
  const token = one('token');
  const tags = many('tag');
  for (const t of tags) if (!/^[^=\s]+=\S*$/.test(t)) problems.push(`--tag must be KEY=VALUE, got '${t}'`);

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

  if (problems.length > 0) return { ok: false, problems };
  const stateDir = one('state-dir') ?? join('.agent-state', name!);
  return {
    ok: true,
    options: {
      hubUrl: hubUrl!,
      name: name!,
      ...(token ? { token } : {}),
      stateDir,
      tags,
      ...(configurations ? { configurations } : {}),
      ...(runbooksDir ? { runbooksDir } : {}),
      restrictToRunbooks,
      ...(tlsCa ? { tlsCa } : {}),
      logLevel,
    },
  };
}

async function main(): Promise<void> {
  const parsed = parseAgentArgs(process.argv.slice(2));
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
    log.error('unhandled rejection (a bug): the agent keeps running', { error: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) });
  });
  const state = readState(o.stateDir);
  if (!state && !o.token) {
    process.stderr.write(`agent: ${o.name} is not enrolled yet (no secret in ${o.stateDir}): pass --token TOKEN\n`);
    process.exitCode = 2;
    return;
  }
  if (state && o.token) log.info('already enrolled: using the secret from the state directory, not the token');
  const agent = new Agent({
    hubUrl: o.hubUrl,
    name: o.name,
    ...(o.token ? { token: o.token } : {}),
    stateDir: o.stateDir,
    tags: o.tags,
    ...(o.configurations ? { configurations: o.configurations } : {}),
    ...(o.runbooksDir ? { runbooksDir: o.runbooksDir } : {}),
    restrictToRunbooks: o.restrictToRunbooks,
    ...(o.tlsCa ? { tls: { ca: readFileSync(o.tlsCa) } } : {}),
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
