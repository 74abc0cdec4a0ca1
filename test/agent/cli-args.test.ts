import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfiguration } from '../../agent/agent.js';
import { Chunker } from '../../agent/executors.js';
import { parseAgentArgs, readTokenFile } from '../../agent/main.js';
import { runAdmin } from '../../src/admin/main.js';
import { tempDir } from '../hub/harness.js';
import { openDatabase } from '../../src/store/database.js';
import { SqliteAgentRegistry } from '../../src/hub/agent-registry.js';
import { readAudit } from '../../src/audit/audit-log.js';

describe('agent command line', () => {
  it('parses the documented flags', () => {
    const r = parseAgentArgs(
      [
        '--hub',
        'ws://127.0.0.1:5985',
        '--name',
        'web1',
        '--token',
        'cht_abc',
        '--tag',
        'role=web',
        '--tag',
        'dc=eu',
        '--configuration',
        'bash',
        '--configuration',
        'ops=sh',
        '--restrict-to-runbooks',
        'ops',
        '--runbooks-dir',
        '/srv/runbooks',
        '--script-env',
        'FROM_AGENT',
        '--script-env',
        'SET=to this',
        '--script-env',
        'NOT_SET',
      ],
      { FROM_AGENT: 'copied', SLACK_BOT_TOKEN: 'xoxb-never' },
    );
    expect(r).toEqual({
      ok: true,
      options: {
        hubUrl: 'ws://127.0.0.1:5985',
        name: 'web1',
        token: 'cht_abc',
        tokenSource: '--token',
        stateDir: join('.agent-state', 'web1'),
        tags: ['role=web', 'dc=eu'],
        configurations: [
          { name: 'bash', kind: 'bash' },
          { name: 'ops', kind: 'sh' },
        ],
        runbooksDir: '/srv/runbooks',
        restrictToRunbooks: ['ops'],
        scriptEnv: { FROM_AGENT: 'copied', SET: 'to this' },
        logLevel: 'info',
      },
    });
  });

  it('never hands a bot setting or a USING_ name to scripts, and --run-as needs root and a plain user', () => {
    const base = ['--hub', 'ws://127.0.0.1:5985', '--name', 'web1'];
    const r = parseAgentArgs(
      [...base, '--script-env', 'SLACK_BOT_TOKEN', '--script-env', 'chatops_db=x', '--script-env', 'USING_X=1', '--script-env', '1BAD'],
      {},
      1000,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      "--script-env 'SLACK_BOT_TOKEN': SLACK_BOT_TOKEN is a setting of the bot (SLACK_*, DISCORD_*, CHATOPS_*, HUB_*) and is never given to scripts",
      "--script-env 'chatops_db=x': chatops_db is a setting of the bot (SLACK_*, DISCORD_*, CHATOPS_*, HUB_*) and is never given to scripts",
      "--script-env 'USING_X=1': USING_* names carry $Using: values and cannot be set by the agent",
      "--script-env '1BAD': '1BAD' is not an environment variable name",
    ]);
    const notRoot = parseAgentArgs([...base, '--run-as', 'nobody'], {}, 1000);
    expect(notRoot.ok ? [] : notRoot.problems).toEqual([
      '--run-as nobody needs the agent to run as root (it switches to that user for each script)',
    ]);
    const asRoot = parseAgentArgs([...base, '--run-as', 'root'], {}, 0);
    expect(asRoot.ok ? [] : asRoot.problems).toEqual(['--run-as root is root (uid 0): name an unprivileged user for scripts']);
    const nobody = parseAgentArgs([...base, '--run-as', 'nobody'], {}, 0);
    expect(nobody.ok && nobody.options.runAs).toMatchObject({ name: 'nobody', uid: 65534 });
  });

  it('reports every problem at once', () => {
    const r = parseAgentArgs([
      '--hub',
      'http://x',
      '--name',
      'bad name',
      '--tag',
      'novalue',
      '--configuration',
      'cmd',
      '--restrict-to-runbooks',
      'nope',
      '--bogus',
      '1',
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual(
      expect.arrayContaining([
        'unknown option --bogus',
        "--hub must be a ws:// or wss:// URL, got 'http://x'",
        "--name 'bad name' is not valid: use 1-63 letters, digits, '.', '_' or '-'",
        "--tag must be KEY=VALUE, got 'novalue'",
        "--configuration 'cmd' is not NAME or NAME=KIND with KIND Microsoft.PowerShell, bash or sh",
        "--restrict-to-runbooks 'nope' is not a configuration this agent offers",
        '--restrict-to-runbooks needs --runbooks-dir',
      ]),
    );
    expect(parseAgentArgs(['--name', 'a', '--name', 'b', '--hub', 'ws://h'])).toMatchObject({
      ok: false,
      problems: ['--name needs one value'],
    });
  });

  it('takes the enrolment token from a file or CHATOPS_AGENT_TOKEN, and from one source only', () => {
    const dir = tempDir();
    const file = join(dir, 'token');
    const base = ['--hub', 'ws://h:1', '--name', 'web1'];
    const token = (argv: string[], env: Record<string, string> = {}) => {
      const r = parseAgentArgs([...base, ...argv], env);
      return r.ok
        ? { token: r.options.token, tokenFile: r.options.tokenFile, tokenSource: r.options.tokenSource }
        : { problems: r.problems };
    };
    expect(token(['--token-file', file])).toEqual({ token: undefined, tokenFile: file, tokenSource: '--token-file' });
    expect(token([], { CHATOPS_AGENT_TOKEN: ' cht_fromenv ' })).toEqual({
      token: 'cht_fromenv',
      tokenFile: undefined,
      tokenSource: 'CHATOPS_AGENT_TOKEN',
    });
    expect(token(['--token', 'cht_argv'])).toEqual({ token: 'cht_argv', tokenFile: undefined, tokenSource: '--token' });
    // Already enrolled agents start with none; an empty variable is no token.
    const none = { token: undefined, tokenFile: undefined, tokenSource: undefined };
    expect(token([], { CHATOPS_AGENT_TOKEN: '' })).toEqual(none);
    // The environment is only what the caller passes: the test runner's own is not read.
    expect(token([])).toEqual(none);

    expect(token(['--token', 'cht_a', '--token-file', file])).toEqual({
      problems: ['give the enrolment token one way only, not --token and --token-file'],
    });
    expect(token(['--token-file', file], { CHATOPS_AGENT_TOKEN: 'cht_b' })).toEqual({
      problems: ['give the enrolment token one way only, not --token-file and CHATOPS_AGENT_TOKEN'],
    });
    expect(token(['--token', 'cht_a', '--token-file', file], { CHATOPS_AGENT_TOKEN: 'cht_b' })).toEqual({
      problems: ['give the enrolment token one way only, not --token and --token-file and CHATOPS_AGENT_TOKEN'],
    });
    expect(token(['--token-file'])).toEqual({ problems: ['--token-file needs one value'] });

    // The file is read (trimmed) only when the agent still has to enrol: it may be deleted after.
    expect(readTokenFile(file)).toEqual({ ok: false, problem: `--token-file '${file}' cannot be read: ENOENT` });
    writeFileSync(file, '  cht_fromfile\n', { mode: 0o600 });
    expect(readTokenFile(file)).toEqual({ ok: true, token: 'cht_fromfile' });
    writeFileSync(file, ' \n');
    expect(readTokenFile(file)).toEqual({ ok: false, problem: `--token-file '${file}' is empty` });
  });

  it('reads configuration specs case-insensitively into canonical names', () => {
    expect(parseConfiguration('microsoft.powershell')).toEqual({ name: 'Microsoft.PowerShell', kind: 'Microsoft.PowerShell' });
    expect(parseConfiguration('Ops=BASH')).toEqual({ name: 'Ops', kind: 'bash' });
    expect(parseConfiguration('x=cmd')).toBeUndefined();
  });
});

describe('output chunking', () => {
  it('cuts at line ends, keeps UTF-8 intact, and bounds chunk size', async () => {
    const chunks: string[] = [];
    const c = new Chunker((d) => chunks.push(d), { flushMs: 5, maxChunkChars: 10 });
    const euro = Buffer.from('€'); // 3 bytes, split across writes
    c.write(Buffer.from('ab\ncd'));
    c.write(euro.subarray(0, 1));
    c.write(euro.subarray(1));
    await new Promise((r) => setTimeout(r, 15));
    expect(chunks).toEqual(['ab\n']);
    await new Promise((r) => setTimeout(r, 40));
    expect(chunks).toEqual(['ab\n', 'cd€']); // a partial line goes after a short wait
    c.write(Buffer.from('0123456789abcdef\nxy'));
    expect(chunks.slice(2)).toEqual(['0123456789']);
    c.end();
    expect(chunks.join('')).toBe('ab\ncd€0123456789abcdef\nxy');
    expect(chunks.every((x) => x.length <= 10)).toBe(true);
  });
});

describe('admin command line', () => {
  const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdmin(argv, {
      env: { CHATOPS_DB: join(tempDir(), 'db.sqlite') },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      dotEnvPath: '/nonexistent/.env',
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('validates flags and commands', async () => {
    expect(await run(['token', 'create', '--ttl', 'forever'])).toMatchObject({
      code: 1,
      err: expect.stringContaining('--ttl must be a duration'),
    });
    expect(await run(['token', 'create', '--uses', '0'])).toMatchObject({
      code: 1,
      err: expect.stringContaining('--uses must be a whole number'),
    });
    expect(await run(['token', 'create', '--color'])).toMatchObject({ code: 2, err: expect.stringContaining('does not take --color') });
    expect(await run(['agent', 'frobnicate'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("unknown command 'agent frobnicate'"),
    });
    expect(await run(['agent', 'list'])).toMatchObject({ code: 0, out: expect.stringContaining('No agents are enrolled') });
    const made = await run(['token', 'create', '--ttl', '30m', '--uses', '5']);
    expect(made.code).toBe(0);
    expect(made.out).toMatch(/^cht_[A-Za-z0-9_-]{43}$/);
  });

  it('agent list refuses extra arguments and does not call an agent online that a stopped or crashed hub last saw long ago', async () => {
    const dbPath = join(tempDir(), 'db.sqlite');
    const db = openDatabase(dbPath);
    const reg = new SqliteAgentRegistry(db);
    const info = { os: 'linux 6', version: '0.1.0', tags: [], configurations: ['bash'], defaultConfiguration: 'bash' };
    for (const name of ['fresh1', 'stale1']) {
      reg.enroll(name, reg.createToken({ ttlMs: 60_000, uses: 1 }), info);
      reg.markOnline(name, info);
    }
    // The hub touches live agents every heartbeat; stale1 was last seen a minute ago (the bot died).
    db.prepare("UPDATE agents SET last_seen = ? WHERE name = 'stale1'").run(new Date(Date.now() - 60_000).toISOString());
    db.close();
    const out: string[] = [];
    const err: string[] = [];
    const list = (argv: string[]) =>
      runAdmin(argv, {
        env: { CHATOPS_DB: dbPath, HUB_HEARTBEAT_MS: '1000' },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        dotEnvPath: '/nonexistent/.env',
      });
    expect(await list(['agent', 'list'])).toBe(0);
    expect(out.find((l) => l.startsWith('fresh1'))).toMatch(/^fresh1\s+online\s/);
    expect(out.find((l) => l.startsWith('stale1'))).toMatch(/^stale1\s+offline\s/);
    expect(await list(['agent', 'list', 'extra'])).not.toBe(0);
    expect(err.join('\n')).toContain("agent list takes no arguments, got 'extra'");
  });

  it('agent tag and agent untag change registered tags, validated, audited, by name, alias or trailing-dot name', async () => {
    const dbPath = join(tempDir(), 'db.sqlite');
    const db = openDatabase(dbPath);
    const reg = new SqliteAgentRegistry(db);
    reg.enroll('web1', reg.createToken({ ttlMs: 60_000, uses: 1 }), {
      os: 'linux',
      version: '0.1.0',
      tags: ['dc=eu'],
      configurations: ['bash'],
      defaultConfiguration: 'bash',
    });
    reg.addAlias('w1', 'web1');
    db.close();
    const admin = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAdmin(argv, {
        env: { CHATOPS_DB: dbPath },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        dotEnvPath: '/nonexistent/.env',
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const tags = () => {
      const d = openDatabase(dbPath);
      try {
        return new SqliteAgentRegistry(d).get('web1')!.tags;
      } finally {
        d.close();
      }
    };
    expect(await admin(['agent', 'tag', 'web1.', 'role=web', 'role=cache'])).toMatchObject({
      code: 0,
      out: 'Tags of web1: dc=eu,role=web,role=cache. A running bot uses them from its next command.',
    });
    expect(await admin(['agent', 'tag', 'W1', 'Role=db'])).toMatchObject({ code: 0 });
    expect(tags()).toEqual(['dc=eu', 'Role=db']);
    expect(await admin(['agent', 'tag', 'web1', 'role web'])).toMatchObject({
      code: 1,
      err: "admin: tags must be KEY=VALUE without spaces, got 'role web'",
    });
    expect(await admin(['agent', 'tag', 'web1', 'novalue'])).toMatchObject({ code: 1, err: expect.stringContaining("got 'novalue'") });
    expect(await admin(['agent', 'tag', 'web1'])).toMatchObject({
      code: 1,
      err: expect.stringContaining('needs a NAME and at least one KEY=VALUE'),
    });
    expect(await admin(['agent', 'tag', 'web9', 'role=web'])).toMatchObject({
      code: 1,
      err: 'admin: There is no enrolled agent named web9.',
    });
    expect(tags()).toEqual(['dc=eu', 'Role=db']);
    expect(await admin(['agent', 'untag', 'web1', 'role=DB'])).toMatchObject({
      code: 0,
      out: expect.stringContaining('Tags of web1: dc=eu.'),
    });
    expect(await admin(['agent', 'untag', 'web1', 'DC'])).toMatchObject({ code: 0, out: expect.stringContaining('Tags of web1: (none).') });
    expect(await admin(['agent', 'untag', 'web1', 'a b'])).toMatchObject({ code: 1 });
    expect(await admin(['agent', 'list'])).toMatchObject({ code: 0, out: expect.stringMatching(/^web1\s.*\sw1\s/m) });

    const d = openDatabase(dbPath);
    const audited = readAudit(d).filter((r) => r.kind === 'agent-tags');
    d.close();
    expect(audited.map((r) => [r.command, r.targets, r.reason])).toEqual([
      ['agent tag web1. role=web role=cache', ['web1'], 'tags of web1 changed with the admin CLI: dc=eu -> dc=eu,role=web,role=cache'],
      ['agent tag W1 Role=db', ['web1'], 'tags of web1 changed with the admin CLI: dc=eu,role=web,role=cache -> dc=eu,Role=db'],
      ['agent untag web1 role=DB', ['web1'], 'tags of web1 changed with the admin CLI: dc=eu,Role=db -> dc=eu'],
      ['agent untag web1 DC', ['web1'], 'tags of web1 changed with the admin CLI: dc=eu -> (none)'],
    ]);
    expect(audited.every((r) => r.user.startsWith('os:') && r.platform === 'admin' && r.decision === 'allowed')).toBe(true);
  });
});
