import { expect, it } from 'vitest';
import { ReplayGuard } from '../../adapters/slack/replay-guard.js';

it('accepts an id once within the window, and forgets it after', () => {
  const g = new ReplayGuard(1000);
  expect(g.firstSeen('a', 0)).toBe(true);
  expect(g.firstSeen('b', 10)).toBe(true);
  expect(g.firstSeen('a', 500)).toBe(false);
  expect(g.firstSeen('b', 999)).toBe(false);
  expect(g.firstSeen('a', 1000)).toBe(true);
});
