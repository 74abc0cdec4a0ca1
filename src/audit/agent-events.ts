import type { AuditRecord } from '../core/authorizer.js';

/**
 * Audit records for agent enrolment and removal, so the hub and the admin CLI each need one
 * line: `audit.append(agentAuditRecord({ kind: 'enrolment', agent, decision: 'allowed', ... }))`.
 * `platform`/`channel` say where it happened (`hub` for the WebSocket hub, `admin` for the CLI).
 */
export interface AgentEvent {
  kind: 'enrolment' | 'agent-removed';
  agent: string;
  decision: 'allowed' | 'refused' | 'info';
  reason: string;
  /** Who: `agent:NAME@ADDRESS` for an enrolling agent, the OS user for the admin CLI. */
  by: string;
  where: 'hub' | 'admin';
}

export function agentAuditRecord(event: AgentEvent): AuditRecord {
  return {
    at: new Date().toISOString(),
    platform: event.where,
    channel: event.where,
    user: event.by,
    command: event.kind === 'enrolment' ? `enrol ${event.agent}` : `agent remove ${event.agent}`,
    targets: [event.agent],
    decision: event.decision,
    reason: event.reason,
    kind: event.kind,
  };
}
