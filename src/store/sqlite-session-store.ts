import { randomUUID } from 'node:crypto';
import type { Database as Db, Statement } from 'better-sqlite3';
import type { NewPSSession, PSSessionRecord, PSSessionState, SessionStore } from './session-store.js';

interface SessionRow {
  id: number;
  instance_id: string;
  name: string;
  channel: string;
  computer: string;
  agent: string;
  configuration_name: string;
  state: string;
  reason: string | null;
  idle_timeout_ms: number;
  created_by: string;
  created_at: string;
  job_id: number | null;
}

function toSession(r: SessionRow): PSSessionRecord {
  return {
    id: r.id,
    instanceId: r.instance_id,
    name: r.name,
    channel: r.channel,
    computer: r.computer,
    agent: r.agent,
    configurationName: r.configuration_name,
    state: r.state as PSSessionState,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    idleTimeoutMs: r.idle_timeout_ms,
    createdBy: r.created_by,
    createdAt: r.created_at,
    ...(r.job_id !== null ? { jobId: r.job_id } : {}),
  };
}

/** SessionStore on the bot's SQLite database (tables from migration 206). */
export class SqliteSessionStore implements SessionStore {
  private readonly stmts: Record<string, Statement>;

  constructor(private readonly db: Db) {
    this.stmts = {
      nextId: db.prepare("UPDATE job_counters SET value = value + 1 WHERE name = 'session_id' RETURNING value"),
      insert: db.prepare(`INSERT INTO ps_sessions (id, instance_id, name, channel, computer, agent, configuration_name, state,
        idle_timeout_ms, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'Opening', ?, ?, ?)`),
      get: db.prepare('SELECT * FROM ps_sessions WHERE id = ?'),
      byInstance: db.prepare('SELECT * FROM ps_sessions WHERE instance_id = ?'),
      list: db.prepare('SELECT * FROM ps_sessions WHERE channel = ? AND removed = 0 ORDER BY id'),
      listAll: db.prepare('SELECT * FROM ps_sessions WHERE removed = 0 ORDER BY id'),
      live: db.prepare("SELECT * FROM ps_sessions WHERE agent = ? AND state IN ('Opening', 'Opened', 'Disconnected') ORDER BY id"),
      setJob: db.prepare('UPDATE ps_sessions SET job_id = ? WHERE id = ?'),
      update: db.prepare('UPDATE ps_sessions SET state = ?, reason = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM ps_sessions WHERE id = ?'),
      remove: db.prepare("UPDATE ps_sessions SET removed = 1, state = 'Closed', reason = NULL WHERE id = ?"),
    };
  }

  createSession(s: NewPSSession): PSSessionRecord {
    return this.db.transaction(() => {
      const id = (this.stmts.nextId!.get() as { value: number }).value;
      this.stmts.insert!.run(
        id,
        randomUUID(),
        s.name ?? `Runspace${id}`,
        s.channel,
        s.computer,
        s.agent,
        s.configurationName,
        s.idleTimeoutMs,
        s.createdBy,
        new Date().toISOString(),
      );
      return this.getSession(id)!;
    })();
  }

  getSession(id: number): PSSessionRecord | undefined {
    const r = this.stmts.get!.get(id) as SessionRow | undefined;
    return r ? toSession(r) : undefined;
  }

  sessionByInstanceId(instanceId: string): PSSessionRecord | undefined {
    const r = this.stmts.byInstance!.get(instanceId) as SessionRow | undefined;
    return r ? toSession(r) : undefined;
  }

  listSessions(channel?: string): PSSessionRecord[] {
    const rows = (channel === undefined ? this.stmts.listAll!.all() : this.stmts.list!.all(channel)) as SessionRow[];
    return rows.map(toSession);
  }

  liveSessionsOfAgent(agent: string): PSSessionRecord[] {
    return (this.stmts.live!.all(agent) as SessionRow[]).map(toSession);
  }

  updateSession(id: number, update: { state: PSSessionState; reason?: string | null }): void {
    this.stmts.update!.run(update.state, update.reason ?? null, id);
  }

  setSessionJob(id: number, jobId: number): void {
    this.stmts.setJob!.run(jobId, id);
  }

  deleteSession(id: number): void {
    this.stmts.delete!.run(id);
  }

  removeSession(id: number): void {
    this.stmts.remove!.run(id);
  }
}
