import { execFileSync, spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingSink, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Scripts start from a small fixed environment, never from their agent's process environment:
 * the embedded agent lives in the bot's process, which holds the bot's tokens. Attacked through
 * the real bot (in this process, with Slack and Discord tokens in its environment) and a real
 * agent process started with the same secrets in its own.
 */

const BOT_SECRETS: Record<string, string> = {
  SLACK_BOT_TOKEN: 'xoxb-111-222-botTokenInTheBotsEnvironment',
  SLACK_SIGNING_SECRET: 'signing0secret0in0the0bots0environment',
  DISCORD_TOKEN: 'discord.token.in-the-bots-environment',
  CHATOPS_DB: '/var/lib/chatops/secret-path.db',
  HUB_TLS_KEY: '/etc/chatops/hub-key-path.pem',
  SOME_OTHER_SECRET: 'an-unrelated-secret-of-the-operator',
};

const REPO = fileURLToPath(new URL('../..', import.meta.url));
let rt: TestRuntime;
const saved = new Map<string, string | undefined>();

/** Real PowerShell 7.6 (scripts/ensure-pwsh.sh installs it when missing). */
const pwshDir = dirname(
  execFileSync('bash', [join(REPO, 'scripts', 'ensure-pwsh.sh')], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!,
);

beforeAll(async () => {
  // The bot's own environment, as an operator who exported the tokens would start it.
  for (const [k, v] of Object.entries(BOT_SECRETS)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  rt = await startTestRuntime({
    embeddedAgent: true,
    agents: [
      {
        name: 'web1',
        // The agent's own environment holds secrets too; only what its configuration names reaches scripts.
        env: { ...BOT_SECRETS, GIVEN_TO_SCRIPTS: 'yes-by-config' },
        envToScripts: false,
        args: ['--script-env', 'GIVEN_TO_SCRIPTS', '--script-env', 'FIXED=set-by-config'],
      },
      {
        // The PowerShell executor starts pwsh from the same fixed environment.
        name: 'win1',
        env: { ...BOT_SECRETS, PATH: `${pwshDir}:${process.env.PATH ?? ''}` },
        envToScripts: false,
        args: ['--configuration', 'Microsoft.PowerShell'],
      },
    ],
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

function outputOf(sink: RecordingSink): string {
  return sink
    .threadBlocks()
    .flatMap((b) => (b.kind === 'code' || b.kind === 'error' ? [b.text] : []))
    .join('\n');
}

describe('what a script can see of its agent', () => {
  it("no setting of the bot, and nothing else of the agent process, is in a script's environment", async () => {
    await rt.run("$who = 'value-for-using'");
    const { sink, ok } = await rt.run('Invoke-Command -ComputerName localhost,web1 -ConfigurationName bash { env; echo "pwd=$(pwd)" }');
    expect(ok).toBe(true);
    const text = outputOf(sink);
    // Both computers answered, so there was something to leak.
    expect(text.match(/^PATH=/gm)).toHaveLength(2);
    for (const [k, v] of Object.entries(BOT_SECRETS)) {
      expect(text, k).not.toContain(k);
      expect(text, k).not.toContain(v);
    }
    for (const name of text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)) {
      expect(name[1]).toMatch(
        /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|DOTNET_ROOT|GIVEN_TO_SCRIPTS|FIXED|PWD|SHLVL|OLDPWD|_|pwd)$/,
      );
    }
    // What the agent's configuration names does arrive.
    expect(text).toContain('GIVEN_TO_SCRIPTS=yes-by-config');
    expect(text).toContain('FIXED=set-by-config');
    // Scripts start in their user's home directory, as a remote PowerShell session does.
    expect(text).toContain(`pwd=${process.env.HOME ?? homedir()}`);
  });

  it('pwsh gets the same fixed environment', async () => {
    const { sink, ok } = await rt.run(
      'Invoke-Command -ComputerName win1 -ConfigurationName Microsoft.PowerShell { Get-ChildItem env: | ForEach-Object { "$($_.Name)=$($_.Value)" } }',
    );
    expect(ok).toBe(true);
    const text = outputOf(sink);
    expect(text).toMatch(/PATH=/);
    expect(text).toContain(`HOME=${process.env.HOME ?? homedir()}`);
    for (const [k, v] of Object.entries(BOT_SECRETS)) {
      expect(text, k).not.toContain(k);
      expect(text, k).not.toContain(v);
    }
  });

  it('the tokens cannot be echoed by name, and $Using: values still arrive as USING_*', async () => {
    await rt.run("$servers = 'web1','web2'");
    const { sink, ok } = await rt.run(
      'icm localhost,web1 -ConfigurationName bash { echo "[$SLACK_BOT_TOKEN][$SLACK_SIGNING_SECRET][$DISCORD_TOKEN][$CHATOPS_DB]"; echo "servers=$USING_SERVERS" }',
    );
    expect(ok).toBe(true);
    const text = outputOf(sink);
    expect(text).toContain('[][][][]');
    expect(text).toContain('servers=["web1","web2"]');
  });

  it('an agent refuses a configuration that would hand a bot setting to scripts', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO, 'agent', 'main.ts'),
        '--hub',
        rt.app.hubUrl,
        '--name',
        'web9',
        '--script-env',
        'SLACK_BOT_TOKEN',
        '--script-env',
        'HUB_LISTEN=x',
      ],
      { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain("--script-env 'SLACK_BOT_TOKEN': SLACK_BOT_TOKEN is a setting of the bot");
    expect(err).toContain("--script-env 'HUB_LISTEN=x': HUB_LISTEN is a setting of the bot");
  });
});
