import { describe, expect, it } from 'vitest';
import { MarkedStream } from '../../agent/shell-session.js';

/**
 * A session command's end marker on the shell's stdout (`\n<marker> <status>\n`, see
 * SHELL_SESSION_DRIVER): the script's output comes out exactly, whatever it printed and wherever
 * the pipe split it into chunks.
 */
const marker = 'abcdef0123456789abcdef0123456789';

describe('MarkedStream', () => {
  it('passes the output on exactly and ends with the status, for every split of the stream into three chunks', () => {
    const bad: string[] = [];
    for (const out of ['up\n', 'up', '', 'a\nb\n', 'x\n\n', `${marker.slice(0, 5)}\n`, `\n${marker.slice(0, 8)}`]) {
      const full = `${out}\n${marker} 7\n`;
      for (let i = 0; i <= full.length; i++) {
        for (let j = i; j <= full.length; j++) {
          let got = '';
          let status: number | undefined = -1;
          const m = new MarkedStream(
            marker,
            true,
            (t) => (got += t),
            (st) => (status = st),
          );
          for (const part of [full.slice(0, i), full.slice(i, j), full.slice(j)]) if (part !== '') m.write(Buffer.from(part));
          if (got !== out || status !== 7) bad.push(`${JSON.stringify(out)} split ${i},${j}: ${JSON.stringify(got)} status ${status}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('a line of a running script is passed on whole, its newline after a short hold, and not repeated when the marker comes', async () => {
    let got = '';
    const seen: string[] = [];
    let status: number | undefined;
    const m = new MarkedStream(
      marker,
      true,
      (t) => {
        got += t;
        seen.push(t);
      },
      (st) => (status = st),
    );
    m.write(Buffer.from('before\n'));
    expect(got).toBe('before');
    await new Promise((r) => setTimeout(r, MarkedStream.HOLD_MS + 50));
    expect(got).toBe('before\n');
    m.write(Buffer.from(`after\n\n${marker} 0\n`));
    expect(got).toBe('before\nafter\n');
    expect(status).toBe(0);
    expect(seen[0]).toBe('before');
  });
});
