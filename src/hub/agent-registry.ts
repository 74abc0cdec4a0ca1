import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ChatOpsError } from '../errors.js';
import type { AgentInfo } from '../protocol/agent-protocol.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../store/database.js';

/**
 * Who may connect to the hub: enrolled agents (name + hashed secret), one-time enrolment
 * tokens, and aliases (other names for an enrolled computer, e.g. `localhost` for the embedded
 * agent). Computer names match case-insensitively by ASCII lower-casing only, and a trailing
 * dot is no part of a name (`web1.` is DNS's fully qualified spelling of `web1`): see nameKey.
 *
 * Tags (`role=web`) are the registry's, not the agent's: they are taken from the agent's hello
 * only when it enrols (and from the bot itself for the embedded agent), and changed afterwards
 * only by an admin (`setTags`). Rules match tags, so what an agent claims when it reconnects
 * must not widen what it may be sent.
 *
 * Sync by design for the embedded SQLite store; a scaled (PostgreSQL) implementation would
 * keep these semantics behind the same methods.
 */
export interface AgentRecord {
  name: string;
  os: string;
  version: string;
  /** Registered tags (set at enrolment, then by admins): what rules match, not what the agent claims now. */
  tags: string[];
  configurations: string[];
  defaultConfiguration: string;
  online: boolean;
  /** ISO time of the last connect, disconnect or heartbeat; undefined before the first. */
  lastSeen?: string;
  enrolledAt: string;
  /** Other names this computer answers to (e.g. `localhost`). */
  aliases: string[];
}

export interface AgentRegistry {
  /** A new enrolment token (`cht_...`), shown once; only its sha256 is stored. */
  createToken(options: { ttlMs: number; uses: number }): string;
  /**
   * Enrols `name` with a token and returns the agent's own secret (`chs_...`), shown once.
   * Throws ChatOpsError with code TokenInvalid (unknown/forged), TokenExpired, TokenUsedUp,
   * InvalidName, or NameTaken (name or alias already in use).
   */
  enroll(name: string, token: string, info: AgentInfo): { secret: string };
  /**
   * Registers (or re-keys) an agent without a token, for the bot's own embedded agent: the
   * caller is the trusted bot process itself. Returns a fresh secret; any previous secret stops
   * working.
   */
  provision(name: string, info: AgentInfo): { secret: string };
  /** True when `name` is enrolled and `secret` is its secret (constant-time comparison). */
  authenticate(name: string, secret: string): boolean;
  list(): AgentRecord[];
  /** By name or alias, case-insensitive. */
  get(nameOrAlias: string): AgentRecord | undefined;
  /** The enrolled name for a name or alias (case-insensitive), or undefined. */
  resolve(nameOrAlias: string): string | undefined;
  /** Removes the agent (and its aliases); false when there was none. */
  remove(name: string): boolean;
  /**
   * Makes `alias` another name for `agentName`. Throws NameTaken if it is an enrolled name, or
   * an alias of another agent unless `replace` (then the alias moves to `agentName`).
   */
  addAlias(alias: string, agentName: string, options?: { replace?: boolean }): void;
  /** Records the connection; `info` updates os, version and configurations, never tags. */
  markOnline(name: string, info?: AgentInfo): void;
  markOffline(name: string): void;
  /** Marks every agent offline (a hub starting after a crash knows of no live connection). */
  markAllOffline(): void;
  /** Records that these agents were seen alive now (one batch per heartbeat round). */
  touch(names: string[]): void;
  /**
   * Records what a connected agent reports about itself: os, version and configurations. Its
   * claimed tags are ignored: the registered ones stay (see setTags).
   */
  updateInfo(name: string, info: AgentInfo): void;
  /**
   * Replaces the registered tags of the agent `nameOrAlias` names (admin changes; a running hub
   * and policy see them at the next lookup). Returns the agent's name and its tags as stored.
   * Throws ChatOpsError AgentNotFound, or InvalidTag naming the first tag that is not KEY=VALUE.
   */
  setTags(nameOrAlias: string, tags: string[]): { name: string; tags: string[] };
  /**
   * A number that changes whenever another process may have changed the registry (e.g. `agent
   * remove` run from the admin CLI). The hub polls it cheaply and re-checks its connections.
   */
  changeCounter(): number;
  /** Lower-cased names of every enrolled agent (one query; the hub diffs it to spot removals). */
  enrolledNameKeys(): Set<string>;
}

/** Computer names: ASCII letters, digits, `.`, `_`, `-`; 1-63 characters; starts alphanumeric. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function isValidAgentName(name: string): boolean {
  return AGENT_NAME_PATTERN.test(name);
}

/**
 * A computer name as stored and shown: without trailing dots. In DNS `web1.` is the fully
 * qualified spelling of the same name as `web1`, so the two must never be two agents.
 */
export function canonicalName(name: string): string {
  return name.replace(/\.+$/, '');
}

/**
 * The one comparison key for computer names: ASCII-only lower-casing (no Unicode folding can
 * make two different names collide) of the name without trailing dots.
 */
export function nameKey(name: string): string {
  return asciiLower(canonicalName(name));
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** An agent tag: KEY=VALUE, no spaces, a non-empty key (the agent's `--tag` rule). */
export const TAG_PATTERN = /^[^=\s]+=\S*$/;

export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}

/** A tag's key, ASCII lower-cased: rules match tags case-insensitively, so `Role=` and `role=` are one key. */
export function tagKey(tag: string): string {
  const i = tag.indexOf('=');
  return asciiLower(i < 0 ? tag : tag.slice(0, i));
}

/**
 * `current` with every tag whose key is among `add`'s keys replaced by `add`'s tags: re-tagging
 * `role=db` over `role=web` must not leave the agent matching both, while one change may still
 * give a key several values (`role=web role=cache`).
 */
export function withTags(current: readonly string[], add: readonly string[]): string[] {
  const keys = new Set(add.map(tagKey));
  const out = current.filter((t) => !keys.has(tagKey(t)));
  for (const t of add) if (!out.some((o) => sameTag(o, t))) out.push(t);
  return out;
}

/** Whether two tags are one for rules, which match tags ASCII case-insensitively. */
export function sameTag(a: string, b: string): boolean {
  return asciiLower(a) === asciiLower(b);
}

/** Tags in `claimed` that `registered` lacks: what an agent asks for that rules will not give it. */
export function unregisteredTags(claimed: readonly string[], registered: readonly string[]): string[] {
  return claimed.filter((c) => !registered.some((r) => sameTag(r, c)));
}

/** `current` without the tags whose key is one of `keys` (case-insensitive). */
export function withoutTags(current: readonly string[], keys: readonly string[]): string[] {
  const drop = new Set(keys.map(tagKey));
  return current.filter((t) => !drop.has(tagKey(t)));
}

export const TOKEN_PREFIX = 'cht_';
export const SECRET_PREFIX = 'chs_';

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function newCredential(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

function sameHash(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The registry's kept copy of every agent (by name key) and alias (alias key to name key). */
interface AgentIndex {
  version: number;
  byKey: Map<string, AgentRecord>;
  aliasOf: Map<string, string>;
}

interface AgentRow {
  name_key: string;
  name: string;
  secret_hash: string;
  os: string;
  version: string;
  tags: string;
  configurations: string;
  default_configuration: string;
  online: number;
  last_seen: string | null;
  enrolled_at: string;
}

function parseList(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export class SqliteAgentRegistry implements AgentRegistry {
  private readonly db: Db;
  private readonly now: () => number;

  /** Statements prepared once (preparing is as dear as running a small one). */
  private readonly statements = new Map<string, Statement>();
  /**
   * Every agent and alias, read once and kept: a fan-out resolves each of its thousand names, and
   * rules match each one's tags. Our own writes keep it true; another process's (the admin CLI on
   * the same file) show in SQLite's data_version, checked at most once per turn of the event loop.
   */
  private index: AgentIndex | undefined;
  private versionChecked = false;

  constructor(db: Db, options: { now?: () => number } = {}) {
    this.db = db;
    this.now = options.now ?? Date.now;
  }

  private stmt(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private dataVersion(): number {
    return Number(this.stmt('PRAGMA data_version').pluck().get());
  }

  private agents(): AgentIndex {
    if (this.index && !this.versionChecked) {
      this.versionChecked = true;
      setImmediate(() => {
        this.versionChecked = false;
      }).unref();
      if (this.dataVersion() !== this.index.version) this.index = undefined;
    }
    if (!this.index) {
      const version = this.dataVersion();
      const byKey = new Map<string, AgentRecord>();
      const aliasOf = new Map<string, string>();
      const aliases = this.aliasesByAgent();
      for (const r of this.stmt('SELECT * FROM agents ORDER BY name_key').all() as AgentRow[]) {
        byKey.set(r.name_key, this.toRecord(r, aliases.get(r.name_key) ?? []));
      }
      for (const r of this.stmt('SELECT alias_key, agent_key FROM agent_aliases').all() as Array<{
        alias_key: string;
        agent_key: string;
      }>) {
        aliasOf.set(r.alias_key, r.agent_key);
      }
      this.index = { version, byKey, aliasOf };
    }
    return this.index;
  }

  /** After a write that adds, removes or renames agents or aliases: read again when next asked. */
  private changed(): void {
    this.index = undefined;
  }

  /** After a write to one agent's row (online, last seen, what it offers): the kept copy follows. */
  private patch(key: string, change: Partial<AgentRecord>): void {
    const rec = this.index?.byKey.get(key);
    if (rec) this.index!.byKey.set(key, { ...rec, ...change });
  }

  createToken(options: { ttlMs: number; uses: number }): string {
    if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0) {
      throw new ChatOpsError('InvalidArgument', 'The token lifetime must be a positive duration.');
    }
    if (!Number.isInteger(options.uses) || options.uses < 1) {
      throw new ChatOpsError('InvalidArgument', 'The token use count must be a whole number of at least 1.');
    }
    const token = newCredential(TOKEN_PREFIX);
    this.stmt('INSERT INTO enrolment_tokens (token_hash, expires_at, uses_left, created_at) VALUES (?, ?, ?, ?)').run(
      sha256(token),
      this.now() + options.ttlMs,
      options.uses,
      new Date(this.now()).toISOString(),
    );
    return token;
  }

  enroll(name: string, token: string, info: AgentInfo): { secret: string } {
    this.checkName(name);
    if (nameKey(name) === 'localhost') {
      // Always the bot's own computer (the console's default rule trusts it): never a remote agent.
      throw new ChatOpsError('NameTaken', "The computer name localhost is reserved for the bot's own computer.", { target: name });
    }
    try {
      return this.db.transaction(() => {
        // Looked up by the digest of a 256-bit random token: the index lookup reveals nothing useful.
        const row = this.stmt('SELECT token_hash, expires_at, uses_left FROM enrolment_tokens WHERE token_hash = ?').get(sha256(token)) as
          | { token_hash: string; expires_at: number; uses_left: number }
          | undefined;
        if (!row || !sameHash(row.token_hash, sha256(token))) {
          throw new ChatOpsError('TokenInvalid', 'The enrolment token is not valid.', { target: name });
        }
        if (row.expires_at <= this.now()) {
          throw new ChatOpsError('TokenExpired', 'The enrolment token has expired.', { target: name });
        }
        if (row.uses_left <= 0) {
          throw new ChatOpsError('TokenUsedUp', 'The enrolment token has already been used.', { target: name });
        }
        this.checkFree(name);
        this.stmt('UPDATE enrolment_tokens SET uses_left = uses_left - 1 WHERE token_hash = ?').run(row.token_hash);
        return this.insertAgent(name, info);
      })();
    } finally {
      this.changed();
    }
  }

  provision(name: string, info: AgentInfo): { secret: string } {
    this.checkName(name);
    try {
      return this.db.transaction(() => {
        const key = nameKey(name);
        const alias = this.stmt('SELECT agent_key FROM agent_aliases WHERE alias_key = ?').get(key) as { agent_key: string } | undefined;
        if (alias && alias.agent_key !== key) {
          throw new ChatOpsError('NameTaken', `The name ${name} is already an alias of another computer.`, { target: name });
        }
        const secret = newCredential(SECRET_PREFIX);
        const existing = this.stmt('SELECT tags FROM agents WHERE name_key = ?').get(key) as { tags: string } | undefined;
        if (existing) {
          // The bot's own tags (embedded=true) are set again; tags an admin added are kept.
          this.db
            .prepare('UPDATE agents SET secret_hash = ?, tags = ? WHERE name_key = ?')
            .run(sha256(secret), JSON.stringify(withTags(parseList(existing.tags), info.tags)), key);
          this.updateInfo(name, info);
          return { secret };
        }
        return this.insertAgent(name, info, secret);
      })();
    } finally {
      this.changed();
    }
  }

  authenticate(name: string, secret: string): boolean {
    if (!isValidAgentName(name)) return false;
    const row = this.stmt('SELECT secret_hash FROM agents WHERE name_key = ?').get(nameKey(name)) as { secret_hash: string } | undefined;
    // Hash even when there is no such agent so both paths cost the same.
    const presented = sha256(secret);
    return sameHash(row?.secret_hash ?? '0'.repeat(64), presented) && row !== undefined;
  }

  list(): AgentRecord[] {
    return [...this.agents().byKey.values()];
  }

  get(nameOrAlias: string): AgentRecord | undefined {
    const key = this.resolveKey(nameOrAlias);
    return key === undefined ? undefined : this.agents().byKey.get(key);
  }

  resolve(nameOrAlias: string): string | undefined {
    return this.get(nameOrAlias)?.name;
  }

  remove(name: string): boolean {
    if (!isValidAgentName(name)) return false;
    try {
      return this.db.transaction(() => {
        const key = nameKey(name);
        this.stmt('DELETE FROM agent_aliases WHERE agent_key = ?').run(key);
        return this.stmt('DELETE FROM agents WHERE name_key = ?').run(key).changes > 0;
      })();
    } finally {
      this.changed();
    }
  }

  addAlias(alias: string, agentName: string, options: { replace?: boolean } = {}): void {
    this.checkName(alias);
    try {
      this.db.transaction(() => {
        const agentKey = nameKey(agentName);
        if (!this.stmt('SELECT 1 FROM agents WHERE name_key = ?').get(agentKey)) {
          throw new ChatOpsError('AgentNotFound', `There is no enrolled computer named ${agentName}.`, { target: agentName });
        }
        const aliasKey = nameKey(alias);
        if (aliasKey === agentKey) return;
        if (this.stmt('SELECT 1 FROM agents WHERE name_key = ?').get(aliasKey)) {
          throw new ChatOpsError('NameTaken', `The name ${alias} is already an enrolled computer.`, { target: alias });
        }
        const existing = this.stmt('SELECT agent_key FROM agent_aliases WHERE alias_key = ?').get(aliasKey) as
          | { agent_key: string }
          | undefined;
        if (existing && existing.agent_key !== agentKey && !options.replace) {
          throw new ChatOpsError('NameTaken', `The name ${alias} is already an alias of another computer.`, { target: alias });
        }
        this.stmt('INSERT OR REPLACE INTO agent_aliases (alias_key, alias, agent_key) VALUES (?, ?, ?)').run(
          aliasKey,
          canonicalName(alias),
          agentKey,
        );
      })();
    } finally {
      this.changed();
    }
  }

  markOnline(name: string, info?: AgentInfo): void {
    if (info) this.updateInfo(name, info);
    const at = new Date(this.now()).toISOString();
    this.stmt('UPDATE agents SET online = 1, last_seen = ? WHERE name_key = ?').run(at, nameKey(name));
    this.patch(nameKey(name), { online: true, lastSeen: at });
  }

  markOffline(name: string): void {
    const at = new Date(this.now()).toISOString();
    this.stmt('UPDATE agents SET online = 0, last_seen = ? WHERE name_key = ?').run(at, nameKey(name));
    this.patch(nameKey(name), { online: false, lastSeen: at });
  }

  markAllOffline(): void {
    this.stmt('UPDATE agents SET online = 0 WHERE online = 1').run();
    for (const key of this.index?.byKey.keys() ?? []) this.patch(key, { online: false });
  }

  touch(names: string[]): void {
    if (names.length === 0) return;
    const at = new Date(this.now()).toISOString();
    const stmt = this.stmt('UPDATE agents SET last_seen = ? WHERE name_key = ?');
    this.db.transaction(() => {
      for (const n of names) stmt.run(at, nameKey(n));
    })();
    for (const n of names) this.patch(nameKey(n), { lastSeen: at });
  }

  updateInfo(name: string, info: AgentInfo): void {
    // No tags: an enrolled agent that restarts with `--tag role=web` must not start matching
    // rules for role=web. Tags change only at enrolment and through setTags (an admin).
    this.stmt('UPDATE agents SET os = ?, version = ?, configurations = ?, default_configuration = ? WHERE name_key = ?').run(
      info.os,
      info.version,
      JSON.stringify(info.configurations),
      info.defaultConfiguration,
      nameKey(name),
    );
    this.patch(nameKey(name), {
      os: info.os,
      version: info.version,
      configurations: [...info.configurations],
      defaultConfiguration: info.defaultConfiguration,
    });
  }

  setTags(nameOrAlias: string, tags: string[]): { name: string; tags: string[] } {
    const bad = tags.find((t) => !isValidTag(t));
    if (bad !== undefined) {
      throw new ChatOpsError('InvalidTag', `The tag '${bad.slice(0, 80)}' is not valid: write KEY=VALUE without spaces.`, { target: bad });
    }
    try {
      return this.db.transaction(() => {
        const key = this.resolveKey(nameOrAlias);
        const row =
          key === undefined
            ? undefined
            : (this.stmt('SELECT name FROM agents WHERE name_key = ?').get(key) as { name: string } | undefined);
        if (key === undefined || row === undefined) {
          throw new ChatOpsError('AgentNotFound', `There is no enrolled computer named ${nameOrAlias.slice(0, 80)}.`, {
            target: nameOrAlias,
          });
        }
        const stored = withTags([], tags);
        this.stmt('UPDATE agents SET tags = ? WHERE name_key = ?').run(JSON.stringify(stored), key);
        return { name: row.name, tags: stored };
      })();
    } finally {
      this.changed();
    }
  }

  changeCounter(): number {
    // SQLite's data_version changes when another connection commits to the file.
    return this.dataVersion();
  }

  enrolledNameKeys(): Set<string> {
    return new Set((this.stmt('SELECT name_key FROM agents').all() as Array<{ name_key: string }>).map((r) => r.name_key));
  }

  private resolveKey(nameOrAlias: string): string | undefined {
    if (!isValidAgentName(nameOrAlias)) return undefined;
    const key = nameKey(nameOrAlias);
    const index = this.agents();
    if (index.byKey.has(key)) return key;
    return index.aliasOf.get(key);
  }

  private checkName(name: string): void {
    if (!isValidAgentName(name)) {
      throw new ChatOpsError(
        'InvalidName',
        `The computer name '${name.slice(0, 80)}' is not valid: use 1-63 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit.`,
        { target: name },
      );
    }
  }

  private checkFree(name: string): void {
    const key = nameKey(name);
    if (
      this.stmt('SELECT 1 FROM agents WHERE name_key = ?').get(key) ||
      this.stmt('SELECT 1 FROM agent_aliases WHERE alias_key = ?').get(key)
    ) {
      throw new ChatOpsError('NameTaken', `The computer name ${name} is already enrolled.`, { target: name });
    }
  }

  private insertAgent(name: string, info: AgentInfo, secret = newCredential(SECRET_PREFIX)): { secret: string } {
    this.stmt(
      `INSERT INTO agents (name_key, name, secret_hash, os, version, tags, configurations, default_configuration, online, enrolled_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
    ).run(
      nameKey(name),
      canonicalName(name),
      sha256(secret),
      info.os,
      info.version,
      JSON.stringify(info.tags),
      JSON.stringify(info.configurations),
      info.defaultConfiguration,
      new Date(this.now()).toISOString(),
    );
    return { secret };
  }

  private aliasesByAgent(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    const rows = this.stmt('SELECT alias, agent_key FROM agent_aliases ORDER BY alias_key').all() as Array<{
      alias: string;
      agent_key: string;
    }>;
    for (const r of rows) {
      const list = out.get(r.agent_key) ?? [];
      list.push(r.alias);
      out.set(r.agent_key, list);
    }
    return out;
  }

  private toRecord(r: AgentRow, aliases: string[]): AgentRecord {
    return {
      name: r.name,
      os: r.os,
      version: r.version,
      tags: parseList(r.tags),
      configurations: parseList(r.configurations),
      defaultConfiguration: r.default_configuration,
      online: r.online === 1,
      ...(r.last_seen ? { lastSeen: r.last_seen } : {}),
      enrolledAt: r.enrolled_at,
      aliases,
    };
  }
}
