import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAgentRegistry, isValidAgentName, nameKey, unregisteredTags, withTags, withoutTags } from '../../src/hub/agent-registry.js';
import type { AgentInfo } from '../../src/protocol/agent-protocol.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { tempDir } from './harness.js';

const info: AgentInfo = {
  os: 'linux',
  version: '1.0',
  tags: ['role=web'],
  configurations: ['bash', 'sh'],
  defaultConfiguration: 'bash',
};

describe('SqliteAgentRegistry', () => {
  let dir: string;
  let db: Db;
  let now = 1_000_000;
  let reg: SqliteAgentRegistry;

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(join(dir, 'db.sqlite'));
    now = 1_000_000;
    reg = new SqliteAgentRegistry(db, { now: () => now });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores tokens and secrets only as hashes', () => {
    const token = reg.createToken({ ttlMs: 60_000, uses: 1 });
    expect(token).toMatch(/^cht_[A-Za-z0-9_-]{43}$/);
    const { secret } = reg.enroll('web1', token, info);
    expect(secret).toMatch(/^chs_[A-Za-z0-9_-]{43}$/);
    const dump = JSON.stringify([db.prepare('SELECT * FROM enrolment_tokens').all(), db.prepare('SELECT * FROM agents').all()]);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(token.slice(4));
    expect(reg.authenticate('web1', secret)).toBe(true);
    expect(reg.authenticate('WEB1', secret)).toBe(true);
    expect(reg.authenticate('web1', secret + 'x')).toBe(false);
    expect(reg.authenticate('web2', secret)).toBe(false);
  });

  it('refuses forged, expired and used-up tokens, and taken names', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return 'no error';
    };
    expect(code(() => reg.enroll('web1', 'cht_forgedforgedforgedforged', info))).toBe('TokenInvalid');
    const two = reg.createToken({ ttlMs: 60_000, uses: 2 });
    reg.enroll('web1', two, info);
    expect(code(() => reg.enroll('Web1', two, info))).toBe('NameTaken');
    reg.enroll('web2', two, info);
    expect(code(() => reg.enroll('web3', two, info))).toBe('TokenUsedUp');
    const short = reg.createToken({ ttlMs: 1000, uses: 5 });
    now += 1000;
    expect(code(() => reg.enroll('web4', short, info))).toBe('TokenExpired');
    expect(code(() => reg.enroll('bad name', reg.createToken({ ttlMs: 1000, uses: 1 }), info))).toBe('InvalidName');
    // `localhost` always means the bot's own computer: no remote agent may enrol under it.
    expect(code(() => reg.enroll('LocalHost', reg.createToken({ ttlMs: 1000, uses: 1 }), info))).toBe('NameTaken');
    expect(reg.list().map((a) => a.name)).toEqual(['web1', 'web2']);
  });

  it('matches names case-insensitively by ASCII only and resolves aliases', () => {
    const { secret } = reg.provision('Build-Host', info);
    reg.addAlias('localhost', 'build-host');
    expect(reg.resolve('LOCALHOST')).toBe('Build-Host');
    expect(reg.resolve('build-HOST')).toBe('Build-Host');
    expect(reg.get('localhost')?.aliases).toEqual(['localhost']);
    // Unicode look-alikes never fold onto ASCII names: they are not even valid names.
    expect(reg.resolve('bu\u0131ld-host')).toBeUndefined(); // dotless i
    expect(reg.resolve('\u212Aey')).toBeUndefined(); // Kelvin sign
    expect(isValidAgentName('web\u0130')).toBe(false);
    expect(nameKey('WEB1-Ab')).toBe('web1-ab');
    expect(() => reg.enroll('LocalHost', reg.createToken({ ttlMs: 1000, uses: 1 }), info)).toThrow(/reserved for the bot's own computer/);
    // provision re-keys: the old secret stops working
    const again = reg.provision('build-host', info).secret;
    expect(reg.authenticate('build-host', secret)).toBe(false);
    expect(reg.authenticate('build-host', again)).toBe(true);
    // an alias cannot authenticate
    expect(reg.authenticate('localhost', again)).toBe(false);
  });

  it('lists, marks online/offline, updates info and removes with aliases', () => {
    reg.provision('web1', info);
    reg.addAlias('w1', 'web1');
    reg.markOnline('web1', { ...info, tags: ['role=db'], configurations: ['sh'], defaultConfiguration: 'sh' });
    let rec = reg.get('web1')!;
    // What the agent reports about itself is kept, except its tags: those stay the registered ones.
    expect(rec).toMatchObject({ online: true, tags: ['role=web'], configurations: ['sh'], defaultConfiguration: 'sh' });
    expect(rec.lastSeen).toBe(new Date(now).toISOString());
    now += 5000;
    reg.markOffline('WEB1');
    rec = reg.get('web1')!;
    expect(rec.online).toBe(false);
    expect(rec.lastSeen).toBe(new Date(now).toISOString());
    expect(reg.enrolledNameKeys()).toEqual(new Set(['web1']));
    expect(reg.remove('Web1')).toBe(true);
    expect(reg.remove('web1')).toBe(false);
    expect(reg.resolve('w1')).toBeUndefined();
    expect(reg.list()).toEqual([]);
  });

  it('takes a trailing dot as no part of a name: web1. is web1, stored and shown without the dot', () => {
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return 'no error';
    };
    const token = () => reg.createToken({ ttlMs: 60_000, uses: 1 });
    const { secret } = reg.enroll('web1', token(), info);
    expect(code(() => reg.enroll('web1.', token(), info))).toBe('NameTaken');
    expect(code(() => reg.enroll('WEB1..', token(), info))).toBe('NameTaken');
    expect(code(() => reg.enroll('localhost.', token(), info))).toBe('NameTaken');
    expect(reg.resolve('web1.')).toBe('web1');
    expect(reg.get('Web1.')?.name).toBe('web1');
    expect(reg.authenticate('web1.', secret)).toBe(true);
    expect(nameKey('Web1.')).toBe('web1');
    // Enrolled with the dot, stored without it.
    reg.enroll('db1.', token(), info);
    expect(reg.resolve('db1')).toBe('db1');
    expect(reg.list().map((a) => a.name)).toEqual(['db1', 'web1']);
    // Aliases alike.
    reg.addAlias('w1.', 'web1.');
    expect(reg.get('web1')?.aliases).toEqual(['w1']);
    expect(reg.resolve('W1')).toBe('web1');
    expect(code(() => reg.addAlias('db1.', 'web1'))).toBe('NameTaken');
    expect(code(() => reg.addAlias('w1.', 'db1'))).toBe('NameTaken');
    expect(code(() => reg.provision('w1.', info))).toBe('NameTaken');
    expect(reg.remove('db1.')).toBe(true);
    expect(reg.resolve('db1')).toBeUndefined();
  });

  it('keeps registered tags: a reconnecting agent cannot change them, setTags (an admin) can', () => {
    const { secret } = reg.enroll('web1', reg.createToken({ ttlMs: 60_000, uses: 1 }), { ...info, tags: ['dc=eu'] });
    expect(reg.authenticate('web1', secret)).toBe(true);
    reg.markOnline('web1', { ...info, tags: ['role=web', 'dc=us'] });
    reg.updateInfo('web1', { ...info, tags: ['role=db'], version: '2.0' });
    expect(reg.get('web1')).toMatchObject({ tags: ['dc=eu'], version: '2.0' });
    expect(reg.setTags('WEB1.', ['dc=eu', 'role=web'])).toEqual({ name: 'web1', tags: ['dc=eu', 'role=web'] });
    expect(reg.get('web1')?.tags).toEqual(['dc=eu', 'role=web']);
    expect(() => reg.setTags('web1', ['role web'])).toThrow(expect.objectContaining({ code: 'InvalidTag' }));
    expect(() => reg.setTags('web1', ['=web'])).toThrow(expect.objectContaining({ code: 'InvalidTag' }));
    expect(() => reg.setTags('web9', ['role=web'])).toThrow(expect.objectContaining({ code: 'AgentNotFound' }));
    expect(reg.get('web1')?.tags).toEqual(['dc=eu', 'role=web']);
    // The bot's own agent: its provision tags are set again at each start, an admin's are kept.
    reg.provision('bot', { ...info, tags: ['embedded=true'] });
    reg.setTags('bot', ['embedded=true', 'role=ops']);
    reg.provision('bot', { ...info, tags: ['embedded=true'] });
    expect(reg.get('bot')?.tags).toEqual(['role=ops', 'embedded=true']);
  });

  it('tag changes replace every value of the keys given, case-insensitively as rules match', () => {
    expect(withTags(['role=web', 'Role=cache', 'dc=eu'], ['ROLE=db'])).toEqual(['dc=eu', 'ROLE=db']);
    expect(withTags(['dc=eu'], ['role=web', 'role=cache', 'role=WEB'])).toEqual(['dc=eu', 'role=web', 'role=cache']);
    expect(withoutTags(['role=web', 'ROLE=db', 'dc=eu'], ['Role'])).toEqual(['dc=eu']);
    expect(unregisteredTags(['Role=Web', 'role=db', 'dc=eu'], ['role=web', 'dc=eu', 'x=1'])).toEqual(['role=db']);
  });

  it('migration 101 rewrites names stored with a trailing dot and drops dotted duplicates', () => {
    // Rows as an older version could store them (keys kept the dot then).
    const insert = db.prepare("INSERT INTO agents (name_key, name, secret_hash, enrolled_at) VALUES (?, ?, '00', '2026-01-01T00:00:00Z')");
    reg.provision('web1', info);
    reg.provision('bot', info);
    reg.addAlias('localhost', 'bot');
    insert.run('web1.', 'web1.'); // a second agent for web1
    insert.run('localhost.', 'localhost.'); // a remote agent posing as the bot's own computer
    insert.run('db1.', 'DB1.'); // the only db1
    db.prepare("INSERT INTO agent_aliases (alias_key, alias, agent_key) VALUES ('d1.', 'd1.', 'db1.')").run();
    db.prepare("INSERT INTO agent_aliases (alias_key, alias, agent_key) VALUES ('dup.', 'dup.', 'web1.')").run();
    db.prepare('DELETE FROM schema_migrations WHERE id = 101').run();
    db.close();
    db = openDatabase(join(dir, 'db.sqlite'));
    reg = new SqliteAgentRegistry(db, { now: () => now });
    expect(reg.list().map((a) => [a.name, a.aliases])).toEqual([
      ['bot', ['localhost']],
      ['DB1', ['d1']],
      ['web1', []],
    ]);
    expect(reg.resolve('localhost.')).toBe('bot');
    expect(reg.resolve('db1.')).toBe('DB1');
    expect(reg.resolve('D1.')).toBe('DB1');
    expect(reg.resolve('dup')).toBeUndefined();
    expect(db.prepare('SELECT name_key FROM agents ORDER BY name_key').all()).toEqual([
      { name_key: 'bot' },
      { name_key: 'db1' },
      { name_key: 'web1' },
    ]);
  });

  it('changeCounter moves when another connection commits', () => {
    const other = openDatabase(join(dir, 'db.sqlite'));
    const before = reg.changeCounter();
    new SqliteAgentRegistry(other).provision('web9', info);
    other.close();
    expect(reg.changeCounter()).not.toBe(before);
    expect(reg.resolve('web9')).toBe('web9');
  });
});
