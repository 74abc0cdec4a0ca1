/**
 * Durations in settings and messages: an integer with a unit, `500ms`, `90s`, `30m`, `12h`, `7d`
 * (`0` alone means zero). A bare number other than 0 is refused rather than guessed at: `7`
 * could be days or milliseconds.
 */

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  const m = /^(\d{1,12})\s*(ms|s|m|h|d)$/i.exec(t);
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
}

/** The shortest exact spelling in the largest whole unit: 300000 → `5m`, 1500 → `1500ms`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNITS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
