import { hostname, platform, release } from 'node:os';
import { Agent, AGENT_VERSION, type SessionConfiguration } from '../../agent/agent.js';
import { availableKinds, type Executor } from '../../agent/executors.js';
import { lookupUser, type ScriptUser } from '../../agent/script-environment.js';
import { ChatOpsError } from '../errors.js';
import type { Logger } from '../log.js';
import { isValidAgentName, nameKey, type AgentRegistry } from './agent-registry.js';

/**
 * This computer's name as an agent name: the host name's first label, with characters a name
 * may not hold replaced by `-` (e.g. `my_box.example.com` → `my_box`).
 */
export function embeddedAgentName(host: string = hostname()): string {
  const first = host.split('.')[0] ?? '';
  let name = first
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 63);
  if (!isValidAgentName(name)) name = 'localhost';
  return name;
}

export interface EmbeddedAgentOptions {
  registry: AgentRegistry;
  /** The hub's own URL, e.g. `ws://127.0.0.1:5985` (use hub.address()). */
  hubUrl: string;
  log: Logger;
  /** Outbox and started-run log; null keeps them in memory. */
  stateDir: string | null;
  /** Default: embeddedAgentName(). */
  name?: string;
  runbooksDir?: string;
  executor?: Executor;
  /** For a wss:// hub: the hub's certificate (or its CA). */
  tlsCa?: string | Buffer;
  /** Run scripts as this OS user (EMBEDDED_AGENT_USER; the bot is root). */
  runAs?: ScriptUser;
}

/**
 * Registers this computer under its host name and as `localhost` (the bot trusts itself: no
 * token; a fresh secret each start, kept only in memory) and connects an in-process agent.
 * Resolves once the hub has welcomed it.
 */
export async function startEmbeddedAgent(options: EmbeddedAgentOptions): Promise<Agent> {
  const name = options.name ?? embeddedAgentName();
  const configurations: SessionConfiguration[] = availableKinds().map((kind) => ({ name: kind, kind }));
  const names = configurations.map((c) => c.name);
  const defaultConfiguration = names.includes('Microsoft.PowerShell')
    ? 'Microsoft.PowerShell'
    : names.includes('bash')
      ? 'bash'
      : (names[0] ?? '');
  const { secret } = options.registry.provision(name, {
    os: `${platform()} ${release()}`,
    version: AGENT_VERSION,
    tags: ['embedded=true'],
    configurations: names,
    defaultConfiguration,
  });
  options.log.addSecret(secret);
  if (nameKey(name) !== 'localhost') {
    try {
      // The bot's own computer is always `localhost`, even if the host was renamed since.
      options.registry.addAlias('localhost', name, { replace: true });
    } catch (e) {
      options.log.warn('could not register localhost for the embedded agent', { error: e instanceof Error ? e.message : String(e) });
    }
  }
  const agent = new Agent({
    hubUrl: options.hubUrl,
    name,
    secret,
    stateDir: options.stateDir,
    tags: ['embedded=true'],
    configurations,
    defaultConfiguration,
    log: options.log,
    ...(options.runbooksDir ? { runbooksDir: options.runbooksDir } : {}),
    ...(options.executor ? { executor: options.executor } : {}),
    ...(options.runAs ? { runAs: options.runAs } : {}),
    ...(options.tlsCa !== undefined ? { tls: { ca: options.tlsCa } } : {}),
  });
  agent.start();
  await agent.waitConnected();
  return agent;
}

/**
 * The OS user EMBEDDED_AGENT_USER names, checked: the bot must be root to switch to it, and it
 * must not be root itself. Throws ChatOpsError `InvalidConfig` saying what to do.
 */
export function embeddedScriptUser(name: string, uid: number | undefined = process.getuid?.()): ScriptUser {
  if (uid !== 0) {
    throw new ChatOpsError(
      'InvalidConfig',
      `EMBEDDED_AGENT_USER=${name} needs the bot to run as root (it switches to that user for each script); ` +
        'unset it, or run an agent under its own OS user for this computer (README: Security)',
    );
  }
  let user: ScriptUser;
  try {
    user = lookupUser(name);
  } catch (e) {
    throw new ChatOpsError('InvalidConfig', `EMBEDDED_AGENT_USER=${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (user.uid === 0) {
    throw new ChatOpsError('InvalidConfig', `EMBEDDED_AGENT_USER=${name} is root (uid 0): name an unprivileged user for scripts`);
  }
  return user;
}
