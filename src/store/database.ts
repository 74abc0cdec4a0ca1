import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensureParentDir, ensurePrivateFile, openToOthers, tightenIfPresent } from '../private-files.js';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the SQLite file in WAL mode and applies pending migrations in one
 * transaction each. Every table of the embedded store lives in this one file.
 *
 * The file is created 0600 before SQLite opens it, and SQLite gives its -wal and -shm files the
 * database file's mode, so all three are readable by the bot's OS user alone whatever the umask
 * (files left by an older version are tightened). A data directory the bot creates is 0700.
 * `onWarning` hears about an existing data directory that other users may enter.
 */
export function openDatabase(
  path: string,
  onWarning?: (message: string) => void,
  options: {
    /** Called with the text of every statement run (better-sqlite3's `verbose`): tests and the bench count the work. */
    onStatement?: (sql: string) => void;
  } = {},
): Db {
  if (path !== ':memory:') {
    if (!ensureParentDir(path) && openToOthers(dirname(path))) {
      onWarning?.(
        `the data directory ${dirname(path)} is open to other users; the database files in it are 0600, but chmod 700 it to hide them`,
      );
    }
    ensurePrivateFile(path);
    tightenIfPresent([`${path}-wal`, `${path}-shm`, `${path}-journal`]);
  }
  const db = new Database(path, options.onStatement ? { verbose: (sql) => options.onStatement!(String(sql)) } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  applyMigrations(db);
  if (path !== ':memory:') tightenIfPresent([`${path}-wal`, `${path}-shm`]);
  return db;
}

function applyMigrations(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: number }>).map((r) => r.id));
  const ids = new Set<number>();
  for (const m of MIGRATIONS) {
    if (ids.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
    ids.add(m.id);
  }
  for (const m of [...MIGRATIONS].sort((a, b) => a.id - b.id)) {
    if (applied.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)').run(m.id, m.name, new Date().toISOString());
    })();
  }
}
