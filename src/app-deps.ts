import type { Config } from './config.js';
import type { AgentRegistry } from './hub/agent-registry.js';
import type { Logger } from './log.js';
import type { Db } from './store/database.js';

/** What an authorizer or audit log factory gets (they usually keep state in the same database). */
export interface AppDeps {
  db: Db;
  registry: AgentRegistry;
  config: Config;
  log: Logger;
  /** The embedded agent's names (its name and `localhost`); empty when it does not run. */
  embeddedAgentNames: string[];
}
