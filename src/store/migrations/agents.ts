import type { Migration } from './index';

/**
 * Agents, enrolment tokens and computer-name aliases (ids 100-199).
 *
 * Names are matched case-insensitively by ASCII lower-casing only: `name_key` holds the
 * lower-cased name and carries the uniqueness constraint, so `WEB1` and `web1` are one computer
 * while no Unicode folding can make two different names collide. Tokens and secrets are stored
 * as sha256 hex digests, never in the clear.
 */
export const AGENT_MIGRATIONS: Migration[] = [
  {
    id: 100,
    name: 'agents, enrolment tokens, aliases',
    sql: `
      CREATE TABLE agents (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        os TEXT NOT NULL DEFAULT '',
        version TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        configurations TEXT NOT NULL DEFAULT '[]',
        default_configuration TEXT NOT NULL DEFAULT '',
        online INTEGER NOT NULL DEFAULT 0,
        last_seen TEXT,
        enrolled_at TEXT NOT NULL
      );
      CREATE TABLE enrolment_tokens (
        token_hash TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        uses_left INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE agent_aliases (
        alias_key TEXT PRIMARY KEY,
        alias TEXT NOT NULL,
        agent_key TEXT NOT NULL REFERENCES agents(name_key) ON DELETE CASCADE
      );
    `,
  },
];
