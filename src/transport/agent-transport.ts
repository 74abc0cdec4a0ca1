import type { AgentInfo, HubToAgent, OutputMessage, SessionStateMessage, StateMessage } from '../protocol/agent-protocol.js';

/**
 * The port between the job runtime and the agents. The embedded implementation is a WebSocket
 * hub; a scaled one would carry the same messages over NATS. Authentication, enrolment and
 * heartbeats are the transport's business: the runtime only ever sees authenticated agents.
 */
export interface AgentTransport {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Delivers to a connected agent; false when the agent is not connected (nothing is queued). */
  send(agentName: string, message: HubToAgent): boolean;
  isConnected(agentName: string): boolean;
  /** Names of agents connected right now. */
  connected(): string[];
  /** Cut an agent off at once (e.g. after `agent remove`). */
  disconnect(agentName: string, reason: string): void;
  on(handlers: AgentTransportHandlers): void;
}

export interface AgentTransportHandlers {
  /** An authenticated agent connected (or reconnected) and reported what it offers. */
  connected?(agentName: string, info: AgentInfo): void;
  /** Connection lost or heartbeat missed twice. */
  disconnected?(agentName: string, reason: string): void;
  /**
   * The agent was removed from the registry (`npm run admin -- agent remove`) while connected:
   * it can never connect again. Called after `disconnected`.
   */
  removed?(agentName: string): void;
  /**
   * Run-scoped data from an agent. The handler must persist it before resolving; the transport
   * acknowledges `seq` to the agent only after the returned promise resolves.
   */
  runMessage?(agentName: string, message: OutputMessage | StateMessage): Promise<void> | void;
  /** A session opened or closed on the agent (an answer to openSession/closeSession, or unasked). */
  sessionMessage?(agentName: string, message: SessionStateMessage): void;
}
