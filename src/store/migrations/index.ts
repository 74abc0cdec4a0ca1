/**
 * Schema migrations, applied in `id` order, each once. A migration is never edited after it
 * has landed: change the schema with a new one. Ids are grouped by area so parallel work does
 * not collide: 100s agents/enrolment, 200s jobs/output/variables, 300s permissions/audit,
 * 400s adapters.
 */
import { AGENT_MIGRATIONS } from './agents.js';
import { JOB_MIGRATIONS } from './jobs.js';
import type { Migration } from './migration.js';
import { PERMISSIONS_MIGRATIONS } from './permissions.js';

export type { Migration } from './migration.js';

export const MIGRATIONS: Migration[] = [...JOB_MIGRATIONS, ...AGENT_MIGRATIONS, ...PERMISSIONS_MIGRATIONS];
