import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentAuditRecord } from '../../src/audit/agent-events.js';
import { exportAudit, readAudit, SqliteAuditLog, verifyAuditChain } from '../../src/audit/audit-log.js';
import { runAdmin } from '../../src/admin/main.js';
import { maskCommandLine } from '../../src/audit/mask.js';
import type { AuditRecord } from '../../src/core/authorizer.js';
import { openDatabase, type Db } from '../../src/store/database.js';

let dir: string;
let db: Db;
let audit: SqliteAuditLog;

const record = (n: number, extra: Partial<AuditRecord> = {}): AuditRecord => ({
  at: `2026-01-0${n}T10:00:00.000Z`,
  platform: 'slack',
  channel: 'slack:T1/C1',
  user: 'slack:U1',
  command: `Invoke-Command -ComputerName web${n} { uptime }`,
  targets: [`web${n}`],
  decision: 'allowed',
  reason: 'allowed by rule file:ops',
  jobId: n,
  kind: 'command',
  ...extra,
});

/** What someone with the database file can do: drop the append-only triggers, then edit. */
function tamper(sql: string, ...params: unknown[]): void {
  db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;');
  db.prepare(sql).run(...params);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'audit-'));
  db = openDatabase(join(dir, 'chatops.db'));
  audit = new SqliteAuditLog(db);
  for (let n = 1; n <= 5; n++) audit.append(record(n));
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit chain', () => {
  it('verifies an intact chain and stores every field', () => {
    const v = verifyAuditChain(db);
    expect(v).toMatchObject({ ok: true, count: 5 });
    const rows = readAudit(db);
    expect(rows[2]).toMatchObject({
      id: 3,
      platform: 'slack',
      user: 'slack:U1',
      targets: ['web3'],
      jobId: 3,
      kind: 'command',
      decision: 'allowed',
    });
    expect(rows[2]!.prevHash).toBe(rows[1]!.hash);
  });

  it('refuses UPDATE and DELETE through SQLite', () => {
    expect(() => db.prepare("UPDATE audit_log SET decision = 'refused' WHERE id = 2").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE id = 2').run()).toThrow(/append-only/);
  });

  it('catches an edited row', () => {
    tamper("UPDATE audit_log SET command = 'Get-Job' WHERE id = 3");
    expect(verifyAuditChain(db)).toEqual({ ok: false, brokenAt: 3, reason: 'row 3 was edited (its content does not match its hash)' });
  });

  it('catches an edited row whose own hash was recomputed (the next row no longer follows)', () => {
    tamper("UPDATE audit_log SET hash = 'f00d' WHERE id = 3");
    const v = verifyAuditChain(db);
    expect(v).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('catches a deleted row in the middle', () => {
    tamper('DELETE FROM audit_log WHERE id = 2');
    expect(verifyAuditChain(db)).toEqual({ ok: false, brokenAt: 3, reason: 'row 2 is missing (deleted) before row 3' });
  });

  it('catches rows deleted from the end, and keeps the gap visible after new appends', () => {
    tamper('DELETE FROM audit_log WHERE id >= 4');
    expect(verifyAuditChain(db)).toEqual({ ok: false, brokenAt: 4, reason: 'rows 4-5 are missing from the end (deleted)' });
    audit.append(record(6));
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 6 });
  });

  it('catches a forged row inserted with a made-up hash', () => {
    tamper(
      `INSERT INTO audit_log (id, at, platform, channel, user, command, targets, decision, reason, job_id, kind, prev_hash, hash)
       SELECT 6, at, platform, channel, user, 'nothing to see', targets, decision, reason, job_id, kind, hash, hash FROM audit_log WHERE id = 5`,
    );
    expect(verifyAuditChain(db)).toMatchObject({ ok: false, brokenAt: 6 });
  });

  it('records agent enrolment and removal in the same chain', () => {
    audit.append(
      agentAuditRecord({
        kind: 'enrolment',
        agent: 'web9',
        decision: 'refused',
        reason: 'The enrolment token is not valid.',
        by: 'agent:web9@127.0.0.1',
        where: 'hub',
      }),
    );
    audit.append(
      agentAuditRecord({
        kind: 'agent-removed',
        agent: 'web1',
        decision: 'info',
        reason: 'removed with the admin CLI',
        by: 'admin:ops',
        where: 'admin',
      }),
    );
    const [enrol, removed] = readAudit(db).slice(-2);
    expect(enrol).toMatchObject({ kind: 'enrolment', decision: 'refused', targets: ['web9'], command: 'enrol web9', platform: 'hub' });
    expect(removed).toMatchObject({ kind: 'agent-removed', targets: ['web1'], command: 'agent remove web1', user: 'admin:ops' });
    expect(verifyAuditChain(db)).toMatchObject({ ok: true, count: 7 });
  });

  it('is shared by several connections appending to one file', () => {
    const other = new SqliteAuditLog(openDatabase(join(dir, 'chatops.db')));
    for (let n = 0; n < 5; n++) {
      other.append(record(7, { kind: 'enrolment' }));
      audit.append(record(8, { kind: 'button' }));
    }
    expect(verifyAuditChain(db)).toMatchObject({ ok: true, count: 15 });
  });
});

describe('masking', () => {
  it('masks credentials, token shapes and registered secrets in stored commands', () => {
    const secret = 'hunter2-very-secret';
    const log = new SqliteAuditLog(db, { secrets: () => [secret] });
    const id = log.append(
      record(9, {
        command: `icm web1 -Cred:'admin' -pass "p@ss word" { curl -H "Authorization: Bearer abcdefghijklmnop" https://u:pw@x/ ; echo ${secret} xoxb-123-456-abc }`,
        reason: `refused for token=abcdef123456`,
      }),
    );
    const row = readAudit(db).find((r) => r.id === id)!;
    expect(row.command).toBe(`icm web1 -Cred:*** -pass *** { curl -H "Authorization: Bearer ***" https://u:***@x/ ; echo *** *** }`);
    expect(row.reason).toBe('refused for token=***');
    expect(verifyAuditChain(db).ok).toBe(true);
  });

  it('masks values of credential-like parameters however they are abbreviated, but keeps variables and switches', () => {
    const cases: Array<[string, string]> = [
      ['New-PSSession db1 -Credential (Get-Credential admin)', 'New-PSSession db1 -Credential ***'],
      ['icm db1 -CR admin {x}', 'icm db1 -CR *** {x}'],
      ['icm db1 -Password:"a b" -Token abc123 -ApiKey 1', 'icm db1 -Password:*** -Token *** -ApiKey ***'],
      ['icm db1 -Credential $cred -ThrottleLimit 4', 'icm db1 -Credential $cred -ThrottleLimit 4'],
      ['Receive-Job 3 -Keep', 'Receive-Job 3 -Keep'],
      ["icm x { ConvertTo-SecureString 'Pa55' -AsPlainText -Force }", 'icm x { ConvertTo-SecureString *** -AsPlainText -Force }'],
      ['icm x { export TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789 }', 'icm x { export TOKEN=*** }'],
      ['icm x { aws --key AKIAABCDEFGHIJKLMNOP }', 'icm x { aws --key *** }'],
      ['icm x { psql "postgres://app:s3cret@db1/app" }', 'icm x { psql "postgres://app:***@db1/app" }'],
      ['Invoke-Command web1 { uptime }', 'Invoke-Command web1 { uptime }'],
    ];
    for (const [input, expected] of cases) expect(maskCommandLine(input), input).toBe(expected);
  });
});

describe('export and admin CLI', () => {
  it('exports JSON lines since a date', () => {
    const lines = exportAudit(db, new Date('2026-01-04T00:00:00Z')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([4, 5]);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      channel: 'slack:T1/C1',
      targets: ['web4'],
      jobId: 4,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('npm run admin -- audit verify / audit export: exit 1 when broken, JSON lines since a date', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const admin = (...argv: string[]): Promise<number> =>
      runAdmin(argv, {
        env: { CHATOPS_DB: join(dir, 'chatops.db') },
        out: (l) => out.push(l),
        err: (l) => err.push(l),
        dotEnvPath: join(dir, 'no.env'),
      });
    expect(await admin('audit', 'verify')).toBe(0);
    expect(out.at(-1)).toMatch(/^audit chain intact: 5 records; head hash [0-9a-f]{64}$/);
    expect(await admin('audit', 'export', '--since', '2026-01-04')).toBe(0);
    expect(
      out
        .at(-1)!
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: number }).id),
    ).toEqual([4, 5]);
    expect(await admin('audit', 'export', '--since', 'yesterday')).toBe(1);
    expect(err.at(-1)).toBe("admin: --since must be a date like 2026-01-01, got 'yesterday'");
    tamper('DELETE FROM audit_log WHERE id = 1');
    expect(await admin('audit', 'verify')).toBe(1);
    expect(err.at(-1)).toBe('admin: audit chain BROKEN at record 2: row 1 is missing (deleted) before row 2');
  });

  it('the real npm run admin process exits non-zero on a broken chain', () => {
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/admin/main.ts', 'audit', 'verify'], {
        env: { ...process.env, CHATOPS_DB: join(dir, 'chatops.db') },
        cwd: process.cwd(),
        encoding: 'utf8',
      });
    const good = run();
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('audit chain intact: 5 records');
    tamper("UPDATE audit_log SET reason = 'allowed by rule default' WHERE id = 4");
    const bad = run();
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('audit chain BROKEN at record 4: row 4 was edited');
  });
});
