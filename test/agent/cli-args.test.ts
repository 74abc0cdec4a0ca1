import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfiguration } from '../../agent/agent';
import { Chunker } from '../../agent/executors';
import { parseAgentArgs } from '../../agent/main';
import { runAdmin } from '../../src/admin/main';
import { tempDir } from '../hub/harness';
import { openDatabase } from '../../src/store/database';
import { SqliteAgentRegistry } from '../../src/hub/agent-registry';

describe('agent command line', () => {
  it('parses the documented flags', () => {
    const r = parseAgentArgs([
      '--hub', 'ws://127.0.0.1:5985', '--name', 'web1', '--token', 'cht_abc',
      '--tag', 'role=web', '--tag', 'dc=eu', '--configuration', 'bash', '--configuration', 'ops=sh',
      '--restrict-to-runbooks', 'ops', '--runbooks-dir', '/srv/runbooks',
    ]);
    expect(r).toEqual({
      ok: true,
      options: {
        hubUrl: 'ws://127.0.0.1:5985',
        name: 'web1',
        token: 'cht_abc',
        stateDir: join('.agent-state', 'web1'),
        tags: ['role=web', 'dc=eu'],
        configurations: [
          { name: 'bash', kind: 'bash' },
          { name: 'ops', kind: 'sh' },
        ],
        runbooksDir: '/srv/runbooks',
        restrictToRunbooks: ['ops'],
        logLevel: 'info',
      },
    });
  });

  it('reports every problem at once', () => {
    const r = parseAgentArgs(['--hub', 'http://x', '--name', 'bad name', '--tag', 'novalue', '--configuration', 'cmd', '--restrict-to-runbooks', 'nope', '--bogus', '1']);
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
    expect(parseAgentArgs(['--name', 'a', '--name', 'b', '--hub', 'ws://h'])).toMatchObject({ ok: false, problems: ['--name needs one value'] });
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
    expect(await run(['token', 'create', '--ttl', 'forever'])).toMatchObject({ code: 1, err: expect.stringContaining('--ttl must be a duration') });
    expect(await run(['token', 'create', '--uses', '0'])).toMatchObject({ code: 1, err: expect.stringContaining('--uses must be a whole number') });
    expect(await run(['token', 'create', '--color'])).toMatchObject({ code: 2, err: expect.stringContaining('does not take --color') });
    expect(await run(['agent', 'frobnicate'])).toMatchObject({ code: 2, err: expect.stringContaining("unknown command 'agent frobnicate'") });
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
      runAdmin(argv, { env: { CHATOPS_DB: dbPath, HUB_HEARTBEAT_MS: '1000' }, out: (l) => out.push(l), err: (l) => err.push(l), dotEnvPath: '/nonexistent/.env' });
    expect(await list(['agent', 'list'])).toBe(0);
    expect(out.find((l) => l.startsWith('fresh1'))).toMatch(/^fresh1\s+online\s/);
    expect(out.find((l) => l.startsWith('stale1'))).toMatch(/^stale1\s+offline\s/);
    expect(await list(['agent', 'list', 'extra'])).not.toBe(0);
    expect(err.join('\n')).toContain("agent list takes no arguments, got 'extra'");
  });
});
