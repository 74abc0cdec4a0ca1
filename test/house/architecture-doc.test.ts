import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * docs/architecture.md stays true: every file or folder it names exists (a path from the
 * repository root, or a bare file name somewhere in the code), so a move or a rename that forgets
 * the map fails here.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

it('names only files and folders that exist', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const names = [...doc.matchAll(/`([A-Za-z0-9_./-]+\.(?:ts|md|json)|(?:src|adapters|agent|test|bench)\/[A-Za-z0-9_./-]*)`/g)].map(
    (m) => m[1]!,
  );
  expect(names.length).toBeGreaterThan(30);
  const files = new Set(['src', 'adapters', 'agent', 'test', 'bench'].flatMap((d) => walk(join(ROOT, d))).map((f) => basename(f)));
  const missing = names.filter((n) => (n.includes('/') ? !existsSync(join(ROOT, n)) : !files.has(n) && !existsSync(join(ROOT, n))));
  expect(missing).toEqual([]);
});
