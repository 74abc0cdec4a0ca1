import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteAgentRegistry, isValidAgentName, nameKey } from '../../src/hub/agent-registry';
import type { AgentInfo } from '../../src/protocol/agent-protocol';
import { openDatabase, type Db } from '../../src/store/database';
import { tempDir } from './harness';

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
    const dump = JSON.stringify([
      db.prepare('SELECT * FROM enrolment_tokens').all(),
      db.prepare('SELECT * FROM agents').all(),
    ]);
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
    expect(rec).toMatchObject({ online: true, tags: ['role=db'], configurations: ['sh'], defaultConfiguration: 'sh' });
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

  it('changeCounter moves when another connection commits', () => {
    const other = openDatabase(join(dir, 'db.sqlite'));
    const before = reg.changeCounter();
    new SqliteAgentRegistry(other).provision('web9', info);
    other.close();
    expect(reg.changeCounter()).not.toBe(before);
    expect(reg.resolve('web9')).toBe('web9');
  });
});
