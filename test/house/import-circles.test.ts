import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { circles, importGraph } from './import-graph.js';

/**
 * No import circles in the shipped code: each module can be read (and changed) after the ones
 * it imports. Type-only imports count too. A circle that comes back fails here, named.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('the import graph of src, adapters, agent and bench has no circle', () => {
  const graph = importGraph(ROOT, ['src', 'adapters', 'agent', 'bench']);
  // The reader saw the code: the graph is the real one, not an empty walk.
  expect(graph.get('src/app.ts')).toContain('src/store/database.ts');
  expect(circles(graph)).toEqual([]);
});

it('finds a circle when there is one', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts']],
    ['c.ts', ['a.ts', 'd.ts']],
    ['d.ts', []],
    ['e.ts', ['e.ts']],
  ]);
  expect(circles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
});
