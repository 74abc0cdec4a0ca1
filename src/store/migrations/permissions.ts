import type { Migration } from './migration.js';

/**
 * Permissions and audit (ids 300-399). `audit_log` is append-only: triggers refuse UPDATE and
 * DELETE, and each row carries `hash = sha256(prev_hash + canonical JSON of the row)`, so a row
 * edited or deleted behind SQLite's back (triggers dropped, file edited) breaks the chain.
 * `audit_head` keeps the last id and hash, so cutting rows off the end is detectable too; since
 * 302 it is guarded like `audit_log`: no DELETE, and a write must name the last audit_log row
 * with its hash, so the head cannot be wound back through SQL. (What a writer who drops the
 * triggers can still do is caught by the anchor file: see src/audit/audit-log.ts.)
 */
export const PERMISSIONS_MIGRATIONS: Migration[] = [
  {
    id: 300,
    name: 'channel permissions granted from chat',
    sql: `
      CREATE TABLE channel_permissions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        rule TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    id: 301,
    name: 'hash-chained audit log',
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        platform TEXT NOT NULL,
        channel TEXT NOT NULL,
        user TEXT NOT NULL,
        command TEXT NOT NULL,
        targets TEXT NOT NULL,
        decision TEXT NOT NULL,
        reason TEXT NOT NULL,
        job_id INTEGER,
        kind TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE INDEX audit_log_at ON audit_log (at);
      CREATE TABLE audit_head (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        last_id INTEGER NOT NULL,
        hash TEXT NOT NULL
      );
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
    `,
  },
  {
    id: 302,
    name: 'audit_head guarded like audit_log',
    // The append path writes the row, then the head (an upsert: the INSERT trigger sees the new
    // values first, the UPDATE trigger again on conflict), so both checks hold for it and only it.
    sql: `
      CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'audit_head is written by the audit log only'); END;
      CREATE TRIGGER audit_head_insert_last_row BEFORE INSERT ON audit_head
        WHEN NEW.last_id IS NOT (SELECT MAX(id) FROM audit_log)
          OR NEW.hash IS NOT (SELECT hash FROM audit_log WHERE id = NEW.last_id)
        BEGIN SELECT RAISE(ABORT, 'audit_head must name the last audit_log row and its hash'); END;
      CREATE TRIGGER audit_head_update_last_row BEFORE UPDATE ON audit_head
        WHEN NEW.one IS NOT OLD.one
          OR NEW.last_id <= OLD.last_id
          OR NEW.last_id IS NOT (SELECT MAX(id) FROM audit_log)
          OR NEW.hash IS NOT (SELECT hash FROM audit_log WHERE id = NEW.last_id)
        BEGIN SELECT RAISE(ABORT, 'audit_head must name the last audit_log row and its hash'); END;
    `,
  },
];
