/**
 * What the job runtime needs to know about registered agents. The app adapts the agent registry
 * (SQLite today) to it, so the runtime does not depend on how agents are stored.
 */
export interface AgentSummary {
  name: string;
  aliases: string[];
  tags: string[];
  os?: string;
  version?: string;
  configurations: string[];
  defaultConfiguration?: string;
  connected: boolean;
  lastSeen?: string;
}

export interface AgentDirectory {
  /** The registered agent a computer name or alias names (case-insensitive), if any. */
  resolve(nameOrAlias: string): string | undefined;
  /** One agent by name or alias (a map lookup: a fan-out asks this per computer). */
  get(nameOrAlias: string): AgentSummary | undefined;
  list(): AgentSummary[];
}
