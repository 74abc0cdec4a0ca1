/**
 * Schema migrations, applied in `id` order, each once. A migration is never edited after it
 * has landed: change the schema with a new one. Ids are grouped by area so parallel work does
 * not collide: 100s agents/enrolment, 200s jobs/output/variables, 300s permissions/audit,
 * 400s adapters.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [];

import { JOB_MIGRATIONS } from './jobs';
MIGRATIONS.push(...JOB_MIGRATIONS);

import { AGENT_MIGRATIONS } from './agents';
MIGRATIONS.push(...AGENT_MIGRATIONS);

import { PERMISSIONS_MIGRATIONS } from './permissions';
MIGRATIONS.push(...PERMISSIONS_MIGRATIONS);
