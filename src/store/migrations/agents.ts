import type { Migration } from './migration.js';

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
  {
    id: 101,
    name: 'computer names without trailing dots',
    // `web1.` is DNS's fully qualified spelling of `web1`, and name_key now drops trailing dots.
    // Rows stored under a dotted key before that would be unreachable by their own name (and
    // `agent remove web1.` would remove web1), so they are rewritten. A dotted agent whose plain
    // name is already an agent or an alias (e.g. `localhost.` beside the embedded `localhost`)
    // is the duplicate this change exists to prevent: it is removed (its aliases with it) and
    // must enrol again under a free name. Aliases follow the same rules; an alias never shadows
    // an agent. Foreign keys are enforced, so agents are copied to their new key, their aliases
    // repointed, and then the old rows deleted.
    sql: `
      DELETE FROM agents
       WHERE name_key LIKE '%.'
         AND (rtrim(name_key, '.') = 'localhost'
              OR EXISTS (SELECT 1 FROM agents b
                          WHERE rtrim(b.name_key, '.') = rtrim(agents.name_key, '.')
                            AND length(b.name_key) < length(agents.name_key))
              OR EXISTS (SELECT 1 FROM agent_aliases a
                          WHERE rtrim(a.alias_key, '.') = rtrim(agents.name_key, '.') AND a.agent_key <> agents.name_key));
      INSERT INTO agents (name_key, name, secret_hash, os, version, tags, configurations, default_configuration, online, last_seen, enrolled_at)
        SELECT rtrim(name_key, '.'), rtrim(name, '.'), secret_hash, os, version, tags, configurations, default_configuration, online, last_seen, enrolled_at
          FROM agents WHERE name_key LIKE '%.';
      UPDATE agent_aliases SET agent_key = rtrim(agent_key, '.') WHERE agent_key LIKE '%.';
      DELETE FROM agents WHERE name_key LIKE '%.';
      DELETE FROM agent_aliases
       WHERE rtrim(alias_key, '.') IN (SELECT name_key FROM agents)
          OR (alias_key LIKE '%.'
              AND EXISTS (SELECT 1 FROM agent_aliases b
                           WHERE rtrim(b.alias_key, '.') = rtrim(agent_aliases.alias_key, '.')
                             AND length(b.alias_key) < length(agent_aliases.alias_key)));
      UPDATE agent_aliases SET alias_key = rtrim(alias_key, '.'), alias = rtrim(alias, '.') WHERE alias_key LIKE '%.';
    `,
  },
];
