/** Nearest-word suggestions ("Did you mean ...?") by case-insensitive edit distance. */

/** Levenshtein distance with an early exit once every cell exceeds `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  if (Math.abs(s.length - t.length) > limit) return limit + 1;
  let previous = new Array<number>(t.length + 1);
  let current = new Array<number>(t.length + 1);
  for (let j = 0; j <= t.length; j++) previous[j] = j;
  for (let i = 1; i <= s.length; i++) {
    current[0] = i;
    let rowMin = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s.charCodeAt(i - 1) === t.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      current[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [previous, current] = [current, previous];
  }
  return previous[t.length] as number;
}

/**
 * The candidate closest to `word`, if close enough to be a plausible typo: at most a third of the
 * word's length (at least 1) edits, or the word is a prefix of the candidate.
 */
export function nearest<T>(word: string, candidates: Iterable<T>, key: (c: T) => string): T | undefined {
  const typed = word.slice(0, 100);
  const limit = Math.max(1, Math.ceil(typed.length / 3));
  let best: T | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const k = key(candidate);
    const d = k.toLowerCase().startsWith(typed.toLowerCase()) && typed.length >= 2 ? 0.5 : editDistance(typed, k, limit);
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
