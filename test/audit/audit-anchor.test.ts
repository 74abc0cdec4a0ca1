import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditRow, chainHash, readAudit, SqliteAuditLog } from '../../src/audit/audit-log.js';
import { openDatabase } from '../../src/store/database.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * The audit anchor against someone who can write the database file: the real bot makes the
 * database and its anchor (commands run through the core, jobs stored), an attacker edits the
 * file with plain SQL after dropping the triggers, and the real admin CLI process judges it.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));

let rt: TestRuntime;
let dbPath: string;
let anchorPath: string;

function admin(...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/admin/main.ts', ...argv], {
    env: { ...process.env, CHATOPS_DB: dbPath },
    cwd: REPO,
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** What someone with the database file does: open it with plain SQLite, drop every guard, edit. */
function attack(edit: (db: Database.Database) => void): void {
  const db = new Database(dbPath);
  try {
    db.pragma('busy_timeout = 5000');
    db.exec(`
      DROP TRIGGER IF EXISTS audit_log_no_update;
      DROP TRIGGER IF EXISTS audit_log_no_delete;
      DROP TRIGGER IF EXISTS audit_head_no_delete;
      DROP TRIGGER IF EXISTS audit_head_insert_last_row;
      DROP TRIGGER IF EXISTS audit_head_update_last_row;
    `);
    db.transaction(() => edit(db))();
  } finally {
    db.close();
  }
}

/** Recomputes every hash from the first row on and points the head at the last row: a chain that verifies on its own. */
function rehash(db: Database.Database): void {
  let prev = '0'.repeat(64);
  const rows = db.prepare('SELECT * FROM audit_log ORDER BY id').all() as AuditRow[];
  const set = db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?');
  for (const row of rows) {
    const { prev_hash: _p, hash: _h, ...content } = row;
    const hash = chainHash(prev, content);
    set.run(prev, hash, row.id);
    prev = hash;
  }
  db.prepare('UPDATE audit_head SET last_id = ?, hash = ? WHERE one = 1').run(rows.at(-1)?.id ?? 0, prev);
}

function anchorLines(): string[] {
  return readFileSync(anchorPath, 'utf8').trim().split('\n');
}

beforeEach(async () => {
  rt = await startTestRuntime();
  dbPath = join(rt.dir, 'chatops.db');
  anchorPath = `${dbPath}.audit-anchor`;
  // Real traffic through the core: two jobs (their computers are not connected, so they fail) and a listing.
  expect((await rt.run('Invoke-Command -ComputerName web9 { uptime }')).jobIds.length).toBe(1);
  expect((await rt.run('Invoke-Command -ComputerName web8 -AsJob { hostname }')).jobIds.length).toBe(1);
  await rt.run('Get-Job');
  expect(readAudit(rt.app.db).length).toBeGreaterThanOrEqual(3);
});

afterEach(async () => {
  await rt?.stop();
});

describe('audit verify against the anchor file', () => {
  it('passes an untouched trail written by the bot and the admin CLI at once, naming its 0600 anchor file', () => {
    expect(admin('token', 'create').status).toBe(0);
    const rows = readAudit(rt.app.db);
    const lines = anchorLines();
    expect(lines).toHaveLength(rows.length);
    // One line per record, whichever process wrote it, each naming its hash.
    expect(new Set(lines.map((l) => l.split(' ').slice(0, 2).join(' ')))).toEqual(new Set(rows.map((r) => `${r.id} ${r.hash}`)));
    expect(statSync(anchorPath).mode & 0o777).toBe(0o600);

    const r = admin('audit', 'verify');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      `audit anchor ${anchorPath}: ${rows.length} lines, up to record ${rows.length}`,
      `audit chain intact: ${rows.length} records; head hash ${rows.at(-1)!.hash}`,
    ]);
  });

  it('catches an edited row', () => {
    attack((db) => db.prepare("UPDATE audit_log SET decision = 'refused' WHERE id = 2").run());
    const r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('admin: audit chain BROKEN at record 2: row 2 was edited (its content does not match its hash)');
  });

  it('catches an edited row whose hash, every later hash and the head were recomputed', () => {
    attack((db) => {
      db.prepare("UPDATE audit_log SET command = 'Get-Job' WHERE id = 1").run();
      rehash(db);
    });
    const r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /^admin: audit chain BROKEN at record 1: record 1 does not match line \d+ of the anchor file .*\.audit-anchor: the chain was rewritten/,
    );
  });

  it('catches a deleted row, also when the later rows were renumbered and rehashed', () => {
    attack((db) => db.prepare('DELETE FROM audit_log WHERE id = 2').run());
    let r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('admin: audit chain BROKEN at record 3: row 2 is missing (deleted) before row 3');

    attack((db) => {
      db.prepare('UPDATE audit_log SET id = id - 1 WHERE id > 2').run();
      rehash(db);
    });
    r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^admin: audit chain BROKEN at record 2: record 2 does not match line \d+ of the anchor file/);
  });

  it('catches rows deleted from the end with the head rewritten to match', () => {
    const rows = readAudit(rt.app.db);
    const last = rows.length;
    attack((db) => {
      db.prepare('DELETE FROM audit_log WHERE id > 1').run();
      db.prepare('UPDATE audit_head SET last_id = 1, hash = ? WHERE one = 1').run(rows[0]!.hash);
    });
    const r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `admin: audit chain BROKEN at record 2: records 2-${last} are missing from the end although the head was rewritten to match: ` +
        `the anchor file ${anchorPath} names record ${last} (or the database was restored from an older copy)`,
    );
  });

  it('catches a wiped trail (both audit tables emptied)', () => {
    const n = readAudit(rt.app.db).length;
    attack((db) => db.exec('DELETE FROM audit_log; DELETE FROM audit_head;'));
    const r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `admin: audit chain BROKEN at record 1: the audit trail is empty, but the anchor file ${anchorPath} names ${n} records up to record ${n}: the audit tables were wiped`,
    );
  });

  it('catches a wiped trail whose anchor file was deleted too, since the database has run jobs', () => {
    attack((db) => db.exec('DELETE FROM audit_log; DELETE FROM audit_head;'));
    renameSync(anchorPath, `${anchorPath}.gone`);
    const r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      'admin: audit chain BROKEN at record 1: the audit trail is empty, but this database has run jobs (ids up to 4) and every job is audited: the audit tables were wiped',
    );
  });

  it('refuses a missing anchor file; audit anchor starts a new one deliberately, once', () => {
    renameSync(anchorPath, `${anchorPath}.moved`);
    let r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`admin: audit chain BROKEN: the anchor file ${anchorPath} is missing, but the database holds`);
    expect(r.stderr).toContain('npm run admin -- audit anchor');

    r = admin('audit', 'anchor');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rec = readAudit(rt.app.db).at(-1)!;
    expect(rec).toMatchObject({ kind: 'audit-anchored', platform: 'admin', command: 'audit anchor', user: expect.stringMatching(/^os:/) });
    expect(r.stdout.trim()).toBe(`audit anchor ${anchorPath} started at record ${rec.id}`);
    expect(anchorLines()).toEqual([expect.stringMatching(new RegExp(`^${rec.id} ${rec.hash} \\S+$`))]);
    expect(statSync(anchorPath).mode & 0o777).toBe(0o600);
    expect(admin('audit', 'verify').status).toBe(0);

    r = admin('audit', 'anchor');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`admin: the anchor file ${anchorPath} already exists`);
  });

  it('accepts records stored without their anchor line (a crash in between) and says so', async () => {
    // A process that stored its record and died before the anchor write.
    const other = openDatabase(dbPath);
    new SqliteAuditLog(other, { anchorPath: null }).append({
      at: new Date().toISOString(),
      platform: 'console',
      channel: 'console',
      user: 'console',
      command: 'Get-Job',
      targets: [],
      decision: 'allowed',
      reason: 'test',
      kind: 'command',
    });
    other.close();
    const n = readAudit(rt.app.db).length;
    let r = admin('audit', 'verify');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`: ${n - 1} lines, up to record ${n - 1}; the newest record is not anchored yet`);

    // The bot's next record anchors a hash that covers the one before it.
    await rt.run('Get-Job');
    r = admin('audit', 'verify');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`: ${n} lines, up to record ${n + 1}\n`);
  });

  it('does not run a command whose record cannot be anchored, and verify says why', async () => {
    renameSync(anchorPath, `${anchorPath}.moved`);
    mkdirSync(anchorPath); // the anchor path taken by something that cannot be appended to
    const n = readAudit(rt.app.db).length;
    await expect(rt.run('Get-Job')).rejects.toMatchObject({
      code: 'AuditFailed',
      message: 'The command was not run: the audit trail could not be written.',
    });
    // Each row is stored before its anchor write fails: the trail shows the decision and that
    // the command was not run.
    expect(
      readAudit(rt.app.db)
        .slice(n)
        .map((r) => [r.command, r.decision, r.reason]),
    ).toEqual([
      ['Get-Job', 'allowed', expect.any(String)],
      ['Get-Job', 'refused', 'The command was not run: the audit trail could not be written.'],
    ]);
    const r = admin('audit', 'verify');
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`admin: audit chain BROKEN: the anchor file ${anchorPath} is not a regular file`);
  });

  it('guards audit_head like audit_log, and the bot still appends', async () => {
    const db = openDatabase(dbPath);
    try {
      const head = db.prepare('SELECT last_id, hash FROM audit_head').get() as { last_id: number; hash: string };
      const first = readAudit(db)[0]!;
      expect(() => db.prepare('DELETE FROM audit_head').run()).toThrow(/audit_head is written by the audit log only/);
      expect(() => db.prepare('UPDATE audit_head SET last_id = 1, hash = ?').run(first.hash)).toThrow(/must name the last audit_log row/);
      expect(() => db.prepare('UPDATE audit_head SET hash = ?').run('f'.repeat(64))).toThrow(/must name the last audit_log row/);
      expect(() => db.prepare('INSERT OR REPLACE INTO audit_head (one, last_id, hash) VALUES (1, 1, ?)').run(first.hash)).toThrow(
        /must name the last audit_log row/,
      );
      expect(() => db.prepare('DELETE FROM audit_log WHERE id > 1').run()).toThrow(/append-only/);
      expect(db.prepare('SELECT last_id, hash FROM audit_head').get()).toEqual(head);
    } finally {
      db.close();
    }
    await rt.run('Get-Job');
    const r = admin('audit', 'verify');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`audit chain intact: ${readAudit(rt.app.db).length} records`);
    expect(existsSync(anchorPath)).toBe(true);
  });
});
