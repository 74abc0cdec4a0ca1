import { charWidth } from '../../adapters/console/display-width.js';

/**
 * A small model of an xterm-like screen for tests: automatic wrap with the pending-wrap state
 * (a character written in the last column leaves the cursor there until the next one), `\n` as
 * the pty's ONLCR makes it (CR LF), and the few sequences the console writes: cursor up/down/
 * right/left (CSI n A/B/C/D), erase to the end of the screen (CSI J) or all of it (CSI 2J),
 * erase to the end of the line (CSI K), home (CSI H). Anything else is dropped.
 */
export class VirtualTerminal {
  private grid: string[][] = [];
  private row = 0;
  private col = 0;
  private pendingWrap = false;

  constructor(readonly columns: number) {}

  write(text: string): void {
    let i = 0;
    while (i < text.length) {
      const c = text.charAt(i);
      if (c === '\x1b' && text.charAt(i + 1) === '[') {
        let j = i + 2;
        while (j < text.length && !/[@-~]/.test(text.charAt(j))) j++;
        this.csi(text.slice(i + 2, j), text.charAt(j));
        i = j + 1;
        continue;
      }
      if (c === '\r') {
        this.col = 0;
        this.pendingWrap = false;
      } else if (c === '\n') {
        this.col = 0;
        this.row++;
        this.pendingWrap = false;
      } else if (c.charCodeAt(0) >= 0x20) {
        const cp = String.fromCodePoint(text.codePointAt(i) ?? 0);
        this.put(cp);
        i += cp.length;
        continue;
      }
      i++;
    }
  }

  /** The screen's rows, trailing blanks and empty rows at the bottom left out. */
  lines(): string[] {
    const out = this.grid.map((r) => (r ?? []).join('').replace(/\s+$/, ''));
    while (out.length > 0 && out[out.length - 1] === '') out.pop();
    return out;
  }

  /** Where the cursor is (row, column), as a terminal would show it. */
  cursor(): { row: number; col: number } {
    return { row: this.row, col: Math.min(this.col, this.columns - 1) };
  }

  private line(r: number): string[] {
    while (this.grid.length <= r) this.grid.push([]);
    return this.grid[r] as string[];
  }

  private put(c: string): void {
    const w = charWidth(c);
    if (w === 0) return;
    if (this.pendingWrap || this.col + w > this.columns) {
      this.row++;
      this.col = 0;
      this.pendingWrap = false;
    }
    const l = this.line(this.row);
    while (l.length < this.col) l.push(' ');
    l[this.col] = c;
    if (w === 2) l[this.col + 1] = '';
    this.col += w;
    if (this.col >= this.columns) {
      this.col = this.columns - 1;
      this.pendingWrap = true;
    }
  }

  private csi(params: string, final: string): void {
    const n = Number.parseInt(params, 10);
    const count = Number.isNaN(n) || n === 0 ? 1 : n;
    const wasPending = this.pendingWrap;
    this.pendingWrap = false;
    switch (final) {
      case 'A':
        this.row = Math.max(0, this.row - count);
        break;
      case 'B':
        this.row += count;
        break;
      case 'C':
        this.col = Math.min(this.columns - 1, this.col + count);
        break;
      case 'D':
        this.col = Math.max(0, this.col - count);
        break;
      case 'H':
        this.row = 0;
        this.col = 0;
        break;
      case 'J':
        if (params === '2') this.grid = [];
        else {
          this.line(this.row).length = this.col;
          this.grid.length = this.row + 1;
        }
        break;
      case 'K':
        this.line(this.row).length = this.col;
        break;
      default:
        this.pendingWrap = wasPending;
    }
  }
}
