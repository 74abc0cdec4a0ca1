import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Invoker } from '../../src/core/ports.js';
import { embeddedAgentName } from '../../src/hub/embedded-agent.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * The embedded agent runs scripts as the bot itself, so no chat channel may reach it unless an
 * admin deliberately turns that on: a rule naming it for a chat channel is refused when loaded
 * or granted, a wildcard never covers it, and a command targeting it is refused. The console
 * keeps its built-in rule. With EMBEDDED_AGENT_USER (bot running as root) scripts run as that user.
 */

const CHAT = 'slack:T1/C1';
const ALICE: Invoker = { platform: 'slack', userId: 'U1', displayName: 'alice' };
const HOST = embeddedAgentName();
const dirs: string[] = [];
const runtimes: TestRuntime[] = [];

afterAll(async () => {
  for (const rt of runtimes) await rt.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function policy(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-embedded-'));
  dirs.push(dir);
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function start(policyLines: string[], env: Record<string, string> = {}, agents: string[] = []): Promise<TestRuntime> {
  const rt = await startTestRuntime({
    embeddedAgent: true,
    env: { CHATOPS_POLICY_FILE: policy(policyLines), CHATOPS_ADMINS: 'console', ...env },
    agents: agents.map((name) => ({ name })),
  });
  runtimes.push(rt);
  return rt;
}

const rule = (computers: string): string[] => [
  'rules:',
  '  - name: ops',
  `    channels: [${CHAT}]`,
  `    computers: [${computers}]`,
  "    cmdlets: ['*']",
];

describe('chat channels and the embedded agent', () => {
  it.each([HOST, HOST.toUpperCase() + '.', 'localhost', 'embedded=true'])(
    'a policy rule naming %s for a chat channel refuses to load, saying why and what to do',
    async (name) => {
      const err = await start(rule(`'${name}'`)).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(err?.code).toBe('InvalidPolicy');
      expect(err?.message).toContain('rule file:ops');
      expect(err?.message).toContain(`target ${name}, the bot's own computer`);
      expect(err?.message).toContain('runs scripts as the bot');
      expect(err?.message).toContain('EMBEDDED_AGENT_CHAT=true');
    },
  );

  it('a wildcard rule never reaches it: the chat channel is refused with the reason, other agents run, the console keeps its rule', async () => {
    const rt = await start(rule("'*'"), {}, ['web1']);
    const refused = await rt.run(`icm localhost,web1 -ConfigurationName bash { echo chat-ran }`, { channel: CHAT, user: ALICE });
    expect(refused.ok).toBe(false);
    expect(refused.sink.replies().join('\n')).toContain('This channel may not target ' + HOST + ": it is the bot's own computer");
    expect(refused.sink.text()).not.toContain('chat-ran');
    const byName = await rt.run(`icm ${HOST} { echo chat-ran }`, { channel: CHAT, user: ALICE });
    expect(byName.ok).toBe(false);

    const remote = await rt.run('icm web1 -ConfigurationName bash { echo remote-ran }', { channel: CHAT, user: ALICE });
    expect(remote.ok).toBe(true);
    expect(remote.sink.text()).toContain('remote-ran');
    // Autocomplete does not offer it either.
    expect(await rt.core.complete(CHAT, ALICE, 'computer', '')).toEqual(['web1']);

    const console = await rt.run('icm localhost -ConfigurationName bash { echo console-ran }');
    expect(console.ok).toBe(true);
    expect(console.sink.text()).toContain('console-ran');
  });

  it('Grant-ChannelPermission naming it for a chat channel is refused; for the console it is granted', async () => {
    const rt = await start(rule("'web*'"));
    const grant = await rt.run(`Grant-ChannelPermission -Channel ${CHAT} -Cmdlet Invoke-Command -ComputerName localhost`);
    expect(grant.ok).toBe(false);
    expect(grant.sink.replies().join('\n')).toMatch(
      /Cannot grant: -ComputerName: it lets chat channels \(slack:T1\/C1\) target localhost, the bot's own computer/,
    );
    const toConsole = await rt.run(`Grant-ChannelPermission -Channel console -Cmdlet Get-Job -ComputerName ${HOST}`);
    expect(toConsole.ok).toBe(true);
  });

  it('EMBEDDED_AGENT_CHAT=true is the explicit way to allow it', async () => {
    const rt = await start(rule(`'${HOST}'`), { EMBEDDED_AGENT_CHAT: 'true' });
    const r = await rt.run('icm localhost -ConfigurationName bash { echo allowed-by-admin }', { channel: CHAT, user: ALICE });
    expect(r.ok).toBe(true);
    expect(r.sink.text()).toContain('allowed-by-admin');
  });
});

describe('EMBEDDED_AGENT_USER', () => {
  const root = process.getuid?.() === 0;

  it(
    root ? "runs the embedded agent's scripts as that user, who cannot read the database" : 'needs the bot to run as root, and says so',
    async () => {
      if (!root) {
        const err = await start(rule("'web*'"), { EMBEDDED_AGENT_USER: 'nobody' }).catch((e: Error) => e);
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message).toContain('EMBEDDED_AGENT_USER=nobody needs the bot to run as root');
        return;
      }
      const rt = await start(rule("'web*'"), { EMBEDDED_AGENT_USER: 'nobody' });
      const db = rt.config.dbPath;
      const r = await rt.run(
        `icm localhost -ConfigurationName bash { id -un; echo "home=$HOME user=$USER"; cat '${db}' >/dev/null 2>&1 && echo READ-THE-DB || echo cannot-read-db }`,
      );
      expect(r.ok).toBe(true);
      const text = r.sink
        .threadBlocks()
        .flatMap((b) => (b.kind === 'code' ? [b.text] : []))
        .join('\n');
      expect(text).toMatch(/^nobody$/m);
      expect(text).toContain('user=nobody');
      expect(text).toContain('cannot-read-db');
      expect(text).not.toContain('READ-THE-DB');
    },
  );

  it("refuses root itself as the scripts' user", async () => {
    const err = await start(rule("'web*'"), { EMBEDDED_AGENT_USER: 'root' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(root ? /EMBEDDED_AGENT_USER=root is root \(uid 0\)/ : /needs the bot to run as root/);
  });
});
