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

/** One run message and the authenticated agent it came from. */
export interface RunMessageFrom {
  agent: string;
  message: OutputMessage | StateMessage;
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
   * Run-scoped data from agents: what arrived in one turn of the event loop, in arrival order
   * (so a fan-out's thousand answers are stored in one transaction, not a thousand). The handler
   * persists the batch before it returns (or before the returned promise resolves) and returns
   * the indexes of the messages it could not store. Only then does the transport acknowledge
   * each stored message's `seq`; an agent with a message not stored is cut off (it resends
   * everything unacknowledged). Batches are handed over one at a time, in order.
   */
  runMessages?(batch: readonly RunMessageFrom[]): readonly number[] | Promise<readonly number[]>;
  /** A session opened or closed on the agent (an answer to openSession/closeSession, or unasked). */
  sessionMessage?(agentName: string, message: SessionStateMessage): void;
}
