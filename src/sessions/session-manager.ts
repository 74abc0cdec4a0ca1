import type { Logger } from '../log.js';
import { ChatOpsError } from '../errors.js';
import type {
  AgentInfo,
  ConnectSessionMessage,
  DisconnectSessionMessage,
  OutputBufferingMode,
  SessionStateMessage,
} from '../protocol/agent-protocol.js';
import type { NewPSSession, PSSessionRecord, PSSessionState, SessionStore } from '../store/session-store.js';
import type { AgentTransport } from '../transport/agent-transport.js';

/** How long New-PSSession waits for an agent to open a session (pwsh takes a second or two). */
export const OPEN_TIMEOUT_MS = 60_000;
/** How long Remove-PSSession waits for an agent to confirm a close. */
export const CLOSE_TIMEOUT_MS = 10_000;

/**
 * The bot's side of sessions: opens and closes them on agents (openSession/closeSession, answered
 * by `session` messages) and keeps their records true: an agent that reconnects without a session
 * the bot has as Opened restarted, so that session is Broken; a session the agent closed by itself
 * (idle timeout, its shell exited) is Closed with the agent's reason; a session the agent still
 * has but the bot closed (the close was lost with a connection) is closed again.
 */
export class SessionManager {
  private readonly waiting = new Map<string, (m: SessionStateMessage | undefined) => void>();
  private readonly endedListeners = new Set<(rec: PSSessionRecord) => void>();

  constructor(
    private readonly deps: {
      store: SessionStore;
      transport: Pick<AgentTransport, 'send' | 'isConnected' | 'on'>;
      log: Logger;
    },
  ) {}

  start(): void {
    this.deps.transport.on({
      connected: (agent, info) => this.reconciled(agent, info),
      sessionMessage: (agent, m) => this.received(agent, m),
    });
  }

  /**
   * Calls `listener` with the session's record (Closed or Broken, with the reason) whenever a
   * session ends without the bot asking: its agent closed it (idle timeout, its shell exited) or
   * came back without it. A close the bot asked for (Remove-PSSession) is not reported.
   */
  onEnded(listener: (rec: PSSessionRecord) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  private ended(id: number): void {
    const rec = this.deps.store.getSession(id);
    if (!rec) return;
    for (const l of this.endedListeners) {
      try {
        l(rec);
      } catch (e) {
        this.deps.log.error('a session-ended listener failed', { session: rec.name, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /**
   * Opens a session on an agent: stored as Opening first, then Opened when the agent answers;
   * Closed with the agent's reason when it cannot, Broken when it does not answer in time.
   */
  async open(s: NewPSSession): Promise<PSSessionRecord> {
    const { store, transport } = this.deps;
    const rec = store.createSession(s);
    const answer = this.answerFor(rec.instanceId, OPEN_TIMEOUT_MS);
    const sent = transport.send(s.agent, {
      op: 'openSession',
      sessionId: rec.instanceId,
      configurationName: s.configurationName,
      idleTimeoutMs: s.idleTimeoutMs,
    });
    if (!sent) {
      this.cancel(rec.instanceId);
      store.updateSession(rec.id, {
        state: 'Broken',
        reason: `Connecting to remote server ${s.computer} failed: the agent is not connected`,
      });
      return store.getSession(rec.id)!;
    }
    const m = await answer;
    if (m === undefined) {
      store.updateSession(rec.id, {
        state: 'Broken',
        reason: `The agent ${s.agent} did not open the session within ${OPEN_TIMEOUT_MS / 1000} s`,
      });
    }
    // An answer was stored by `received`.
    return store.getSession(rec.id)!;
  }

  /**
   * Disconnect-PSSession: the agent keeps the session's output from now on (up to `maxBytes`,
   * then Block or Drop). Throws when the agent is not connected or does not answer.
   */
  async disconnect(rec: PSSessionRecord, mode: OutputBufferingMode, maxBytes: number): Promise<PSSessionRecord> {
    return this.change(rec, { op: 'disconnectSession', sessionId: rec.instanceId, mode, maxBytes }, 'Disconnected');
  }

  /** Connect-/Receive-PSSession: the agent sends what it kept and the session is Opened again. */
  async connect(rec: PSSessionRecord): Promise<PSSessionRecord> {
    return this.change(rec, { op: 'connectSession', sessionId: rec.instanceId }, 'Opened');
  }

  private async change(
    rec: PSSessionRecord,
    message: DisconnectSessionMessage | ConnectSessionMessage,
    wanted: PSSessionState,
  ): Promise<PSSessionRecord> {
    const { store, transport } = this.deps;
    const answer = this.answerFor(rec.instanceId, CLOSE_TIMEOUT_MS);
    if (!transport.send(rec.agent, message)) {
      this.cancel(rec.instanceId);
      throw new ChatOpsError(
        'PSSessionStateChangeFailed',
        `The session ${rec.name} cannot be changed now: the agent ${rec.agent} is not connected.`,
      );
    }
    const m = await answer;
    const now = store.getSession(rec.id) ?? rec;
    if (m === undefined) {
      throw new ChatOpsError(
        'PSSessionStateChangeFailed',
        `The agent ${rec.agent} did not answer within ${CLOSE_TIMEOUT_MS / 1000} s; the session ${rec.name} is ${now.state}.`,
      );
    }
    if (now.state !== wanted) {
      throw new ChatOpsError(
        'PSSessionStateChangeFailed',
        `The session ${rec.name} on ${rec.computer} is ${now.state}${now.reason !== undefined ? `: ${now.reason}` : ''}.`,
      );
    }
    return now;
  }

  /** Closes a session (Remove-PSSession): Closed once the agent confirms, or at once when it cannot be reached. */
  async close(rec: PSSessionRecord): Promise<void> {
    const { store, transport } = this.deps;
    if (rec.state === 'Closed' || rec.state === 'Broken') return;
    const answer = this.answerFor(rec.instanceId, CLOSE_TIMEOUT_MS);
    if (transport.send(rec.agent, { op: 'closeSession', sessionId: rec.instanceId })) await answer;
    else this.cancel(rec.instanceId);
    store.updateSession(rec.id, { state: 'Closed', reason: null });
  }

  private answerFor(sessionId: string, timeoutMs: number): Promise<SessionStateMessage | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(sessionId);
        resolve(undefined);
      }, timeoutMs);
      timer.unref();
      this.waiting.set(sessionId, (m) => {
        clearTimeout(timer);
        this.waiting.delete(sessionId);
        resolve(m);
      });
    });
  }

  private cancel(sessionId: string): void {
    this.waiting.get(sessionId)?.(undefined);
  }

  private received(agent: string, m: SessionStateMessage): void {
    const { store, log } = this.deps;
    const rec = store.sessionByInstanceId(m.sessionId);
    if (!rec || rec.agent !== agent) {
      // Not ours (or another agent's id): nothing to record. A stray open session is closed.
      if (m.state === 'Opened') this.deps.transport.send(agent, { op: 'closeSession', sessionId: m.sessionId });
      this.waiting.get(m.sessionId)?.(m);
      return;
    }
    if (m.state === 'Disconnected') {
      if (rec.state === 'Opened') store.updateSession(rec.id, { state: 'Disconnected', reason: null });
    } else if (m.state === 'Opened') {
      if (rec.state === 'Opening' || rec.state === 'Disconnected') store.updateSession(rec.id, { state: 'Opened', reason: null });
      else if (rec.state === 'Closed' || rec.state === 'Broken')
        this.deps.transport.send(agent, { op: 'closeSession', sessionId: m.sessionId });
    } else if (rec.state !== 'Closed' && rec.state !== 'Broken') {
      store.updateSession(rec.id, { state: 'Closed', ...(m.reason !== undefined ? { reason: m.reason } : {}) });
      log.info('session closed by its agent', { session: rec.name, agent, reason: m.reason });
      // Answering a close the bot asked for is not news; anything else is.
      if (!this.waiting.has(m.sessionId)) this.ended(rec.id);
    }
    this.waiting.get(m.sessionId)?.(m);
  }

  /** After a (re)connect: the agent's live sessions against ours. */
  private reconciled(agent: string, info: AgentInfo): void {
    const { store, transport, log } = this.deps;
    const alive = new Set(info.sessions ?? []);
    for (const rec of store.liveSessionsOfAgent(agent)) {
      if (alive.has(rec.instanceId) || this.waiting.has(rec.instanceId)) continue;
      store.updateSession(rec.id, {
        state: 'Broken',
        reason: `The agent ${agent} restarted (or lost the session) since it was opened: the session's state is gone`,
      });
      log.info('session broken: its agent came back without it', { session: rec.name, agent });
      this.ended(rec.id);
    }
    for (const id of alive) {
      const rec = store.sessionByInstanceId(id);
      if (!rec || rec.state === 'Closed' || rec.state === 'Broken') transport.send(agent, { op: 'closeSession', sessionId: id });
    }
  }
}
