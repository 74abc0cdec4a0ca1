/**
 * How much of a terminal a text takes: columns per character (East Asian wide characters and
 * most emoji take two, combining marks none) and rows once long lines wrap. A redraw must clear
 * every row the previous drawing took, so a status wider than the terminal is counted as the
 * several rows it wrapped onto.
 */

/** Columns `c` (one code point) takes; 0 for combining marks and zero-width characters. */
export function charWidth(c: string): number {
  const code = c.codePointAt(0) ?? 0;
  if (code === 0) return 0;
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0;
  if (
    (code >= 0x0300 && code <= 0x036f) || // combining diacritical marks
    (code >= 0x200b && code <= 0x200f) || // zero-width space, joiners, marks
    (code >= 0xfe00 && code <= 0xfe0f) || // variation selectors
    (code >= 0x20d0 && code <= 0x20ff) ||
    code === 0xfeff
  ) {
    return 0;
  }
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0x303e) ||
    (code >= 0x3041 && code <= 0x33ff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0xa000 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Columns of one line of text (no newlines); a tab advances to the next multiple of 8. */
export function displayWidth(line: string): number {
  let width = 0;
  for (const c of line) {
    if (c === '\t') width += 8 - (width % 8);
    else width += charWidth(c);
  }
  return width;
}

/**
 * Rows `text` takes when printed from the start of a row on a terminal `columns` wide: each
 * line takes at least one row, and one more per full width it runs past. A line exactly as wide
 * as the terminal takes one row (the terminal waits to wrap until the next character).
 */
export function screenRows(text: string, columns: number | undefined): number {
  const lines = text.split('\n');
  if (columns === undefined || columns <= 0) return lines.length;
  let rows = 0;
  for (const line of lines) rows += Math.max(1, Math.ceil(displayWidth(line.replace(/\r$/, '')) / columns));
  return rows;
}
