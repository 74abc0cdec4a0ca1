import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/duration.js';

describe('durations', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    [' 5M ', 300_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['7', '', '-1s', '1.5h', '5 minutes', '1w', 'h', '0s0'])('refuses %j (no unit, or not a whole number of a unit)', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('writes the largest whole unit, and reads back what it writes', () => {
    expect([0, 1500, 90_000, 300_000, 5_400_000, 86_400_000, 90_061_001].map(formatDuration)).toEqual([
      '0',
      '1500ms',
      '90s',
      '5m',
      '90m',
      '1d',
      '90061001ms',
    ]);
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 172_800_000]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});
