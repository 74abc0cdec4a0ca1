import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConsoleSink } from '../../adapters/console/index.js';
import type { JobStatusView, NeutralMessage } from '../../src/messages/model.js';

function status(state: JobStatusView['state'], running: number, done: number): NeutralMessage {
  return {
    blocks: [
      {
        kind: 'status',
        status: {
          jobId: 1,
          name: 'Job1',
          command: 'icm web1,web2 { x }',
          invokedBy: 'me',
          state,
          counts: { Running: running, Completed: done },
          total: 2,
          elapsedMs: 1500,
          asJob: false,
          hasMoreData: true,
        },
      },
    ],
  };
}

describe('ConsoleSink', () => {
  it('prints a computer heading once while its streamed output follows itself, again after another computer', async () => {
    let out = '';
    const sink = new ConsoleSink({ tty: true, write: (t) => (out += t), writeError: (t) => (out += t) });
    const h = await sink.post(status('Running', 2, 0));
    const chunk = (title: string, text: string): NeutralMessage => ({ blocks: [{ kind: 'code', title, text }] });
    out = '';
    await sink.postInThread(h, chunk('web1', '1'));
    await sink.postInThread(h, chunk('web1', '2'));
    await sink.postInThread(h, chunk('web2', 'a'));
    await sink.postInThread(h, chunk('web1', '3'));
    expect(out).toBe('── web1 ──\n1\n2\n── web2 ──\na\n── web1 ──\n3\n');
    // Anything else in between (here the prompt coming back) brings the heading back.
    sink.detach();
    out = '';
    await sink.postInThread(h, chunk('web1', '4'));
    expect(out).toBe('── web1 ──\n4\n');
  });

  it('in a terminal, redraws a status that is still at the bottom in place', async () => {
    let out = '';
    const sink = new ConsoleSink({ tty: true, write: (t) => (out += t), writeError: (t) => (out += t) });
    const h = await sink.post(status('Running', 2, 0));
    await sink.update(h, status('Running', 1, 1));
    expect(out).toContain('\x1b[1A\x1b[J');
    expect(out.split('\x1b[1A\x1b[J')[1]).toMatch(/^Job1 \(Id 1\) Running: 1 Running, 1 Completed of 2/);
    // Once something else is printed, the status is not erased: only its final state is printed.
    await sink.postInThread(h, { blocks: [{ kind: 'code', title: 'web1', text: 'hello' }] });
    const before = out;
    await sink.update(h, status('Running', 0, 2));
    expect(out).toBe(before);
    await sink.update(h, status('Completed', 0, 2));
    expect(out.slice(before.length)).toMatch(/^Job1 \(Id 1\) Completed: 2 Completed of 2/);
  });

  it('as plain text, prints a status when posted and when its job finishes, never control sequences', async () => {
    let out = '';
    let err = '';
    const sink = new ConsoleSink({ tty: false, write: (t) => (out += t), writeError: (t) => (err += t) });
    const h = await sink.post(status('Running', 2, 0));
    await sink.update(h, status('Running', 1, 1));
    await sink.update(h, status('Completed', 0, 2));
    await sink.replyPrivately({ blocks: [{ kind: 'error', text: 'nope' }] });
    expect(out.split('\n').filter((l) => l.startsWith('Job1'))).toHaveLength(2);
    expect(out).not.toMatch(/\x1b\[/);
    expect(err).toBe('ERROR: nope\n');
  });

  it('clears every row a status wrapped onto when it redraws it (rows, not lines)', async () => {
    let out = '';
    const sink = new ConsoleSink({ tty: true, columns: () => 20, write: (t) => (out += t), writeError: (t) => (out += t) });
    const h = await sink.post(status('Running', 2, 0));
    const first = out;
    const rows = first
      .replace(/\n$/, '')
      .split('\n')
      .reduce((n, line) => n + Math.max(1, Math.ceil(line.length / 20)), 0);
    expect(rows).toBeGreaterThan(first.split('\n').length - 1); // it did wrap
    await sink.update(h, status('Running', 1, 1));
    expect(out.slice(first.length)).toMatch(new RegExp(`^\\x1b\\[${rows}A\\x1b\\[J`));
    // Wide characters take two columns each: 15 of them are 30 columns, two rows of 20.
    out = '';
    const wide = new ConsoleSink({ tty: true, columns: () => 20, write: (t) => (out += t), writeError: (t) => (out += t) });
    const s = status('Running', 1, 0).blocks[0]!;
    if (s.kind !== 'status') throw new Error('status block expected');
    const h2 = await wide.post({ blocks: [{ kind: 'status', status: { ...s.status, name: '漢'.repeat(15), command: 'x' } }] });
    const drawn = out;
    const wideRows = drawn
      .replace(/\n$/, '')
      .split('\n')
      .reduce((n, line) => n + Math.max(1, Math.ceil([...line].reduce((w, c) => w + (c === '漢' ? 2 : 1), 0) / 20)), 0);
    await wide.update(h2, { blocks: [{ kind: 'status', status: { ...s.status, name: 'y', command: 'x' } }] });
    expect(out.slice(drawn.length)).toMatch(new RegExp(`^\\x1b\\[${wideRows}A\\x1b\\[J`));
  });

  it('prints an edited message that is not a status again (a terminal cannot edit what scrolled by)', async () => {
    let out = '';
    const sink = new ConsoleSink({ tty: false, write: (t) => (out += t), writeError: (t) => (out += t) });
    const h = await sink.post({ blocks: [{ kind: 'text', text: 'limit reached: the rest is left out' }] });
    await sink.update(h, { blocks: [{ kind: 'text', text: 'limit reached: 3 more posts were left out' }] });
    expect(out).toBe('limit reached: the rest is left out\nlimit reached: 3 more posts were left out\n');
  });
});

describe('ConsoleSink: text from outside cannot drive the terminal', () => {
  // Everything except newline, tab and the CR of a CRLF: no C0 control, DEL or C1 control.
  const RAW_CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]|\r(?!\n)/;
  const evil = 'A\x1b]0;PWNED\x07\x1b[2JB\x1b]52;c;aGk=\x07C\x9b31mD\x7fE\rF\x00G';
  const shown = 'A^[]0;PWNED^G^[[2JB^[]52;c;aGk=^GC\\u{9B}31mD^?E^MF^@G';

  it('shows the control characters of every block kind in caret / \\u{..} notation', async () => {
    let out = '';
    let err = '';
    for (const tty of [false, true]) {
      const sink = new ConsoleSink({ tty, write: (t) => (out += t), writeError: (t) => (err += t) });
      const s = status('Running', 1, 0).blocks[0]!;
      if (s.kind !== 'status') throw new Error('status block expected');
      const h = await sink.post({
        blocks: [{ kind: 'status', status: { ...s.status, name: `n${evil}`, command: `icm ${evil}`, invokedBy: evil, notPosted: evil } }],
      });
      await sink.update(h, { blocks: [{ kind: 'status', status: { ...s.status, state: 'Completed', command: evil } }] });
      await sink.postInThread(h, {
        blocks: [
          { kind: 'code', title: `web1${evil}`, text: `line1\tcol\r\nline2 ${evil}` },
          { kind: 'text', text: evil },
          { kind: 'table', title: evil, columns: ['Name', evil], rows: [[evil, 'x']] },
          { kind: 'attachment', title: evil, filename: 'out.txt', content: evil, head: [evil], tail: [evil], omittedLines: 3 },
        ],
      });
      await sink.replyPrivately({ blocks: [{ kind: 'error', text: `the job name ${evil} was not found` }] });
    }
    // The console's own redraw (tty: up N lines, clear to the end) is the only sequence left.
    const redraw = /\x1b\[\d+A\x1b\[J/g;
    expect(out.match(redraw)).toHaveLength(1);
    expect(out.replace(redraw, '') + err).not.toMatch(RAW_CONTROL);
    expect(out).toContain(`icm ${shown}`);
    expect(out).toContain(`── web1${shown} ──\nline1\tcol\r\nline2 ${shown}`);
    expect(err).toContain(`ERROR: the job name ${shown} was not found`);
  });

  it('keeps the raw bytes in the file it saves an attachment to, and shows them escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatops-sink-'));
    try {
      let out = '';
      const sink = new ConsoleSink({ tty: false, write: (t) => (out += t), writeError: (t) => (out += t), attachmentsDir: dir });
      const content = `${evil}\n${'x\n'.repeat(10)}${evil}\n`;
      await sink.post({ blocks: [{ kind: 'attachment', filename: 'out.txt', content, head: [evil], tail: [evil], omittedLines: 10 }] });
      const m = /whole output saved to (\S+)\)/.exec(out);
      expect(m, out).not.toBeNull();
      expect(readFileSync(m![1]!, 'utf8')).toBe(content);
      expect(out).not.toMatch(RAW_CONTROL);
      expect(out).toContain(shown);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
