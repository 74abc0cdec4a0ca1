/**
 * A freshly started bot has no agent connected yet: the embedded one dials in within moments,
 * enrolled ones when their reconnect backoff next fires. Piped input (`printf ... | npm start`)
 * runs its first line at once, so without a wait `icm web1 { ... }` would report web1 as not
 * connected although it is a second away. So before a pipe's first command the bot waits for
 * every enrolled agent, bounded: an agent that is really gone costs this wait once, then the
 * command reports it as not connected, as it always did.
 */

/** Default bound of the wait: longer than an agent's first reconnect attempts, short for a script. */
export const ENROLLED_AGENTS_WAIT_MS = 10_000;

export interface AgentsToWaitFor {
  /** Every enrolled agent's name (the embedded agent included when it runs). */
  enrolled(): string[];
  isConnected(name: string): boolean;
}

/**
 * Resolves once every agent enrolled when it is called is connected, or at `timeoutMs`; returns
 * the names still not connected then.
 */
export async function waitForEnrolledAgents(
  agents: AgentsToWaitFor,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<string[]> {
  const deadline = Date.now() + (options.timeoutMs ?? ENROLLED_AGENTS_WAIT_MS);
  // Read once: the list is a database query, the connections are in memory.
  let missing = agents.enrolled().filter((n) => !agents.isConnected(n));
  while (missing.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
    missing = missing.filter((n) => !agents.isConnected(n));
  }
  return missing;
}
