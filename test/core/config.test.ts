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
    const read = new Set([...source.matchAll(/\b(?:str|int|bool|duration)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!));
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
});
