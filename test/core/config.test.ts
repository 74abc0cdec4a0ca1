import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig, readDotEnv } from '../../src/config.js';
import { isChatOpsError } from '../../src/errors.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (e) {
    expect(isChatOpsError(e) && e.code).toBe('InvalidConfig');
    return (e as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.replace(/^- /, ''));
  }
  return [];
}

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.dbPath).toBe('./data/chatops.db');
    expect(c.hub).toMatchObject({ host: '127.0.0.1', port: 5985 });
    expect(c.hub.tls).toBeUndefined();
    expect(c.runbooksDir).toBe('./runbooks');
    expect(c).toMatchObject({ maxRuntimeMs: 86_400_000, jobRetentionMs: 7 * 86_400_000, agentLostGraceMs: 300_000 });
    expect(c.slack).toBeUndefined();
    expect(c.discord).toBeUndefined();
  });

  it('has safe defaults for the security settings, and reads sizes and users', () => {
    const c = loadConfig({});
    expect(c.hub).toMatchObject({ maxPending: 512, maxPendingPerAddress: 64 });
    expect(c).toMatchObject({ maxOutputBytes: 16 * 1024 * 1024, embeddedAgentChat: false });
    expect(c.embeddedAgentUser).toBeUndefined();
    const set = loadConfig({
      JOB_MAX_OUTPUT: '512KB',
      EMBEDDED_AGENT_CHAT: 'true',
      EMBEDDED_AGENT_USER: 'chatops-scripts',
      HUB_MAX_PENDING: '10',
    });
    expect(set).toMatchObject({ maxOutputBytes: 512 * 1024, embeddedAgentChat: true, embeddedAgentUser: 'chatops-scripts' });
    expect(set.hub.maxPending).toBe(10);
    expect(problems({ JOB_MAX_OUTPUT: '12 parsecs', EMBEDDED_AGENT_USER: 'a b', HUB_MAX_PENDING_PER_ADDRESS: '0' }).sort()).toEqual([
      "EMBEDDED_AGENT_USER must be an OS user name, got 'a b'",
      "HUB_MAX_PENDING_PER_ADDRESS must be an integer from 1 to 100000, got '0'",
      "JOB_MAX_OUTPUT must be a size from 1KB to 1GB such as 512KB, 16MB or 1GB, got '12 parsecs'",
    ]);
  });

  it('defaults to port 5986 with TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    try {
      writeFileSync(join(dir, 'c.pem'), 'x');
      writeFileSync(join(dir, 'k.pem'), 'x');
      const c = loadConfig({ HUB_TLS_CERT: join(dir, 'c.pem'), HUB_TLS_KEY: join(dir, 'k.pem') });
      expect(c.hub.port).toBe(5986);
      expect(c.hub.tls).toEqual({ certPath: join(dir, 'c.pem'), keyPath: join(dir, 'k.pem') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every problem at once', () => {
    const found = problems({
      HUB_LISTEN: 'nowhere',
      HUB_TLS_CERT: '/nonexistent/cert.pem',
      HUB_HEARTBEAT_MS: 'soon',
      JOB_MAX_RUNTIME: '-1',
      JOB_RETENTION: '7',
      AGENT_LOST_GRACE: '25d',
      MAX_RUNTIME_MS: '1000',
      EMBEDDED_AGENT: 'maybe',
      LOG_LEVEL: 'loud',
      CHATOPS_ADMINS: 'root',
      SLACK_BOT_TOKEN: 'xoxb-1',
      DISCORD_TOKEN: 'd',
    });
    const expected = [
      /HUB_TLS_CERT and HUB_TLS_KEY must be set together/,
      /HUB_TLS_CERT names a file that does not exist/,
      /HUB_LISTEN must be HOST:PORT, got 'nowhere'/,
      /HUB_HEARTBEAT_MS must be an integer/,
      /JOB_MAX_RUNTIME must be a duration from 0 to 24d such as 90s, 30m, 12h or 7d, got '-1'/,
      /JOB_RETENTION must be a duration from 0 to 3650d such as 90s, 30m, 12h or 7d, got '7'/,
      /AGENT_LOST_GRACE must be a duration from 0 to 24d .* got '25d'/,
      /MAX_RUNTIME_MS was renamed JOB_MAX_RUNTIME/,
      /EMBEDDED_AGENT must be true or false, got 'maybe'/,
      /LOG_LEVEL must be debug, info, warn or error, got 'loud'/,
      /CHATOPS_ADMINS entries must be .* got 'root'/,
      /SLACK_SIGNING_SECRET is required for Slack in HTTP mode/,
      /DISCORD_APPLICATION_ID is required/,
    ];
    for (const re of expected)
      expect(
        found.some((p) => re.test(p)),
        `${re} in\n${found.join('\n')}`,
      ).toBe(true);
    expect(found.length).toBe(expected.length);
  });

  it('reads durations with a unit; 0 alone turns a limit off', () => {
    expect(loadConfig({ JOB_MAX_RUNTIME: '90s', JOB_RETENTION: '12h', AGENT_LOST_GRACE: '1500ms' })).toMatchObject({
      maxRuntimeMs: 90_000,
      jobRetentionMs: 43_200_000,
      agentLostGraceMs: 1500,
    });
    expect(loadConfig({ JOB_MAX_RUNTIME: '0', JOB_RETENTION: '0' })).toMatchObject({ maxRuntimeMs: 0, jobRetentionMs: 0 });
    expect(problems({ AGENT_LOST_GRACE: '5 minutes' })).toEqual([
      "AGENT_LOST_GRACE must be a duration from 0 to 24d such as 90s, 30m, 12h or 7d, got '5 minutes'",
    ]);
  });

  it('refuses a HUB_LISTEN without a host instead of listening on every interface', () => {
    expect(problems({ HUB_LISTEN: ':5985' })).toEqual(["HUB_LISTEN must be HOST:PORT, got ':5985'"]);
    expect(loadConfig({ HUB_LISTEN: '0.0.0.0:5985' }).hub).toMatchObject({ host: '0.0.0.0', port: 5985 });
    expect(loadConfig({ HUB_LISTEN: '[::1]:5985' }).hub).toMatchObject({ host: '::1', port: 5985 });
  });

  it('lets the environment win over .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    try {
      writeFileSync(join(dir, '.env'), '# comment\nCHATOPS_DB=./from-file.db\nexport RUNBOOKS_DIR="./rb"\n');
      const env = readDotEnv(join(dir, '.env'), { CHATOPS_DB: './from-env.db' });
      expect(loadConfig(env)).toMatchObject({ dbPath: './from-env.db', runbooksDir: './rb' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('.env.example', () => {
  it('lists every key loadConfig reads, each with a one-line comment above it', () => {
    const source = readFileSync(join(REPO, 'src', 'config.ts'), 'utf8');
    const read = new Set([...source.matchAll(/\b(?:str|word|int|bool|duration)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
    expect(read.size).toBeGreaterThan(10);
    const lines = readFileSync(join(REPO, '.env.example'), 'utf8').split('\n');
    const listed = new Map<string, number>();
    lines.forEach((l, i) => {
      const m = /^([A-Z][A-Z0-9_]*)=/.exec(l);
      if (m) listed.set(m[1]!, i);
    });
    for (const key of read) {
      expect(listed.has(key), `${key} missing from .env.example`).toBe(true);
      // The line above is the key's comment, or the comment of a pair set together (TLS).
      let above = listed.get(key)! - 1;
      while (above >= 0 && /^[A-Z][A-Z0-9_]*=/.test(lines[above]!)) above--;
      expect(lines[above], `${key} has no comment`).toMatch(/^# \S/);
    }
    for (const key of listed.keys()) expect(read.has(key), `${key} is listed but never read`).toBe(true);
    // The example as shipped is a valid configuration (the console default).
    expect(() => loadConfig(readDotEnv(join(REPO, '.env.example'), {}))).not.toThrow();
  });
});

describe('Slack modes', () => {
  it('needs the signing secret in HTTP mode only', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET is required for Slack in HTTP mode/);
    const socket = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slack!;
    expect(socket).toMatchObject({ appToken: 'xapp-1', signingSecret: '' });
  });

  it('listens on 127.0.0.1:3000 unless SLACK_LISTEN (or the older SLACK_PORT) says otherwise', () => {
    const http = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    expect(loadConfig(http).slack).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(loadConfig({ ...http, SLACK_PORT: '4000' }).slack).toMatchObject({ host: '127.0.0.1', port: 4000 });
    expect(loadConfig({ ...http, SLACK_LISTEN: '0.0.0.0:3001' }).slack).toMatchObject({ host: '0.0.0.0', port: 3001 });
    expect(loadConfig({ ...http, SLACK_LISTEN: '[::1]:3002' }).slack).toMatchObject({ host: '::1', port: 3002 });
    // An empty SLACK_PORT (as .env.example ships it) is unset, not a conflict.
    expect(loadConfig({ ...http, SLACK_LISTEN: '127.0.0.2:3003', SLACK_PORT: '' }).slack).toMatchObject({ host: '127.0.0.2', port: 3003 });
    expect(problems({ ...http, SLACK_LISTEN: ':3000' })).toEqual(["SLACK_LISTEN must be HOST:PORT, got ':3000'"]);
    expect(problems({ ...http, SLACK_LISTEN: '127.0.0.1:3000', SLACK_PORT: '3000' })).toEqual([
      'SLACK_LISTEN and SLACK_PORT are both set: keep SLACK_LISTEN (HOST:PORT); SLACK_PORT is its older, port-only form',
    ]);
  });

  it('refuses a slash command name without its slash', () => {
    expect(problems({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', SLACK_PS_COMMAND: 'ps' })).toEqual([
      "SLACK_PS_COMMAND must be a slash command such as /ps, got 'ps'",
    ]);
  });
});

describe('values with a comment or a space in them', () => {
  const HINT = '(a # comment on the same line? put comments on their own line)';

  it('refuses whitespace in tokens and ids, naming the key and not showing the value', () => {
    const found = problems({
      SLACK_BOT_TOKEN: 'xoxb-1-secretpart   # Bot User OAuth Token',
      SLACK_SIGNING_SECRET: 'abc\tdef',
      SLACK_APP_TOKEN: 'xapp-1-secretpart # Socket Mode',
      SLACK_API_URL: 'http://fake/api/ # proxy',
      SLACK_ICM_COMMAND: '/icm # renamed',
      DISCORD_TOKEN: 'dtoken-secretpart # bot token',
      DISCORD_APPLICATION_ID: '123456789012345678 # General Information',
      DISCORD_GUILD_ID: '234567890123456789   # optional: register the commands in this server only',
      DISCORD_API_URL: 'http://fake/api # tests',
    });
    expect(found.sort()).toEqual(
      [
        `SLACK_BOT_TOKEN must not contain spaces ${HINT}`,
        'SLACK_SIGNING_SECRET must not contain spaces',
        `SLACK_APP_TOKEN must not contain spaces ${HINT}`,
        `SLACK_API_URL must not contain spaces ${HINT}`,
        `SLACK_ICM_COMMAND must not contain spaces ${HINT}`,
        `DISCORD_TOKEN must not contain spaces ${HINT}`,
        `DISCORD_APPLICATION_ID must not contain spaces ${HINT}`,
        `DISCORD_GUILD_ID must not contain spaces ${HINT}`,
        `DISCORD_API_URL must not contain spaces ${HINT}`,
      ].sort(),
    );
    expect(found.join('\n')).not.toContain('secretpart');
  });

  it('points at the comment in the other settings that would swallow one', () => {
    expect(
      problems({
        HUB_LISTEN: '127.0.0.1:5985 # agents dial here',
        JOB_MAX_RUNTIME: '24h # a day',
        EMBEDDED_AGENT: 'true # this computer',
        HUB_MAX_PENDING: '512 # in total',
        CHATOPS_ADMINS: 'console, slack:U1 # alice',
      }).sort(),
    ).toEqual(
      [
        `HUB_LISTEN must be HOST:PORT, got '127.0.0.1:5985 # agents dial here' ${HINT}`,
        `JOB_MAX_RUNTIME must be a duration from 0 to 24d such as 90s, 30m, 12h or 7d, got '24h # a day' ${HINT}`,
        `EMBEDDED_AGENT must be true or false, got 'true # this computer' ${HINT}`,
        `HUB_MAX_PENDING must be an integer from 1 to 100000, got '512 # in total' ${HINT}`,
        `CHATOPS_ADMINS entries must be console, slack:USERID or discord:USERID, got 'slack:U1 # alice' ${HINT}`,
      ].sort(),
    );
  });

  it('wants Discord ids as digits', () => {
    expect(problems({ DISCORD_TOKEN: 'd', DISCORD_APPLICATION_ID: 'my-app', DISCORD_GUILD_ID: '2001' })).toEqual([
      "DISCORD_APPLICATION_ID must be a Discord id (digits only), got 'my-app'",
    ]);
  });
});

describe('readDotEnv', () => {
  const withFile = <T>(text: string, f: (path: string) => T): T => {
    const dir = mkdtempSync(join(tmpdir(), 'dotenv-'));
    try {
      writeFileSync(join(dir, '.env'), text);
      return f(join(dir, '.env'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("follows dotenv's rules: inline comments dropped, quotes keep #, odd lines ignored", () => {
    const env = withFile(
      [
        'SLACK_BOT_TOKEN=xoxb-1   # Bot User OAuth Token',
        'SLACK_APP_TOKEN=xapp-1# no space before the hash',
        '  # an indented comment line',
        'DISCORD_GUILD_ID=2001',
        'not a setting at all',
        'CHATOPS_DB=./data/chatops.db',
        'RUNBOOKS_DIR="./run # books"   # quoted: the # is part of it',
        "CHATOPS_POLICY_FILE='./policy.yml' # single quotes",
        'export LOG_LEVEL=warn',
        'EMBEDDED_AGENT_USER=\r',
        'HUB_LISTEN=127.0.0.1:5999\r',
      ].join('\n'),
      (path) => readDotEnv(path, {}),
    );
    expect(env).toMatchObject({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1',
      DISCORD_GUILD_ID: '2001',
      CHATOPS_DB: './data/chatops.db',
      RUNBOOKS_DIR: './run # books',
      CHATOPS_POLICY_FILE: './policy.yml',
      LOG_LEVEL: 'warn',
      HUB_LISTEN: '127.0.0.1:5999',
    });
    expect(Object.keys(env).some((k) => /\s|#/.test(k))).toBe(false);
  });

  it('keeps values already in the environment, even empty ones', () => {
    const env = withFile('SLACK_PORT=3000\nLOG_LEVEL=debug\n', (path) => readDotEnv(path, { SLACK_PORT: '', LOG_LEVEL: 'warn' }));
    expect(env).toMatchObject({ SLACK_PORT: '', LOG_LEVEL: 'warn' });
  });

  it('is the environment alone when there is no .env', () => {
    expect(readDotEnv(join(tmpdir(), 'no-such-dir', '.env'), { A: '1' })).toEqual({ A: '1' });
  });
});

/**
 * The `.env` blocks of README.md are what operators paste. Each is written to a file as pasted
 * (from the rendered page, and raw from the Markdown source with its list indentation), read
 * with the real readDotEnv and loadConfig, and every value must arrive without its comment.
 */
describe('README .env blocks', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^([ \t]*)```sh\n([\s\S]*?)^[ \t]*```$/gm)]
    .map((m) => ({ raw: m[2]!, indent: m[1]! }))
    .filter(({ raw }) => {
      const lines = raw.split('\n').filter((l) => l.trim() !== '' && !/^\s*#/.test(l));
      return lines.length > 0 && lines.every((l) => /^\s*[A-Z][A-Z0-9_]*=/.test(l));
    });

  it('are found (the Slack and Discord setup blocks)', () => {
    const keys = blocks.flatMap(({ raw }) => [...raw.matchAll(/^\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    expect(keys).toEqual(expect.arrayContaining(['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'DISCORD_TOKEN', 'DISCORD_GUILD_ID']));
    // The blocks that broke setup had `KEY=value   # comment` lines: they are among those checked.
    expect(blocks.some(({ raw }) => /^\s*[A-Z_]+=\S+\s+#/m.test(raw))).toBe(true);
  });

  it('work when pasted into .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'readme-env-'));
    try {
      for (const { raw, indent } of blocks) {
        const rendered = raw
          .split('\n')
          .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
          .join('\n');
        for (const pasted of [rendered, raw]) {
          writeFileSync(join(dir, '.env'), pasted);
          const env = readDotEnv(join(dir, '.env'), {});
          for (const [, key, shown] of pasted.matchAll(/^\s*([A-Z][A-Z0-9_]*)=(\S*)/gm)) {
            // The value is the word after `=`: no comment, no space.
            expect(env[key!], `${key} in\n${pasted}`).toBe(shown);
          }
          const config = loadConfig(env);
          if (env.SLACK_BOT_TOKEN !== undefined) expect(config.slack?.botToken).toBe(env.SLACK_BOT_TOKEN);
          if (env.SLACK_APP_TOKEN !== undefined) expect(config.slack?.appToken).toBe(env.SLACK_APP_TOKEN);
          if (env.DISCORD_GUILD_ID !== undefined) expect(config.discord?.guildId).toMatch(/^\d+$/);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
