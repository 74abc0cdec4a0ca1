/**
 * One schema migration, applied once, in `id` order (see index.ts). A migration is never edited
 * after it has landed: change the schema with a new one.
 */
export interface Migration {
  id: number;
  name: string;
  sql: string;
}
