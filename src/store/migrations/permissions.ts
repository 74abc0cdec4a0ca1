import type { Migration } from './index';

/**
 * Permissions and audit (ids 300-399). `audit_log` is append-only: triggers refuse UPDATE and
 * DELETE, and each row carries `hash = sha256(prev_hash + canonical JSON of the row)`, so a row
 * edited or deleted behind SQLite's back (triggers dropped, file edited) breaks the chain.
 * `audit_head` keeps the last id and hash, so cutting rows off the end is detectable too.
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
];
