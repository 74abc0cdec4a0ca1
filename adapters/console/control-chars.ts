/**
 * Text that came from outside (agent output, error text, computer and job names, the command as
 * typed) is drawn on the operator's terminal with its control characters made visible, so that
 * output cannot drive the terminal: `printf '\033]0;PWNED\007\033[2J'` on an agent must not
 * retitle and clear the screen, and OSC 52 must not write the clipboard.
 *
 * Notation (one, documented in the README):
 * - C0 controls and DEL in caret notation, as `cat -v` and terminals' own echo show them:
 *   ESC `^[`, BEL `^G`, NUL `^@`, a lone CR `^M`, DEL `^?`.
 * - C1 controls (U+0080-U+009F, e.g. the one-character CSI U+009B) as `\u{9B}`: they have no
 *   caret form, and some terminals act on them.
 * - Kept as they are: newline, tab, and the CR of a CRLF line end (harmless: it only returns to
 *   the start of a line that the LF then ends).
 * Colours (SGR sequences) are not kept either: telling a colour from a harmful sequence means
 * parsing the terminal's language, and output is shown as data. A literal `^[` in output looks
 * the same as an escaped ESC, as with `cat -v`.
 */

const CONTROL = /\r\n|[\x00-\x08\x0B-\x1F\x7F-\x9F]/g;

export function showControlChars(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\r\n') return c;
    const code = c.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return '^?';
    return `\\u{${code.toString(16).toUpperCase()}}`;
  });
}
