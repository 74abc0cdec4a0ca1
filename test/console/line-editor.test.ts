import { describe, expect, it } from 'vitest';
import { ConsoleSink } from '../../adapters/console/console-sink.js';
import { needsMoreInput } from '../../adapters/console/continuation.js';
import { History } from '../../adapters/console/history.js';
import { LineEditor, type ReadResult } from '../../adapters/console/line-editor.js';
import type { NeutralMessage } from '../../src/messages/model.js';
import { VirtualTerminal } from './virtual-terminal.js';

/**
 * The line editor and the console sink drawing on a model of a terminal (virtual-terminal.ts):
 * what the screen shows after typing, wrapping, notices printed while a line is being typed,
 * and a status redrawn in place, counted in wrapped rows.
 */

function editorOn(columns: number): { vt: VirtualTerminal; editor: LineEditor; history: History } {
  const vt = new VirtualTerminal(columns);
  const history = new History();
  const editor = new LineEditor({ write: (t) => vt.write(t), columns: () => columns, history, needsMoreInput });
  return { vt, editor, history };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('LineEditor on a terminal', () => {
  it('wraps a long line, keeps the cursor where the next character goes, and erases every row on redraw', async () => {
    const { vt, editor } = editorOn(20);
    const read = editor.read();
    // 'PS chatops> ' is 12 columns: 8 more fill the first row exactly (the pending-wrap case).
    editor.feed('abcdefgh');
    await tick();
    expect(vt.lines()).toEqual(['PS chatops> abcdefgh']);
    expect(vt.cursor()).toEqual({ row: 1, col: 0 });
    editor.feed('ijklmnopqrstuvwxyz');
    await tick();
    expect(vt.lines()).toEqual(['PS chatops> abcdefgh', 'ijklmnopqrstuvwxyz']);
    editor.feed('\x15'); // Ctrl-U: the line is erased, both rows of it
    await tick();
    expect(vt.lines()).toEqual(['PS chatops>']);
    editor.feed('Get-Job\r');
    expect(await read).toEqual({ kind: 'line', text: 'Get-Job' });
    // A command filling its row exactly: what is printed next starts on the row right below it.
    const next = editor.read();
    editor.feed('Get-Job;\r');
    await next;
    vt.write('output\n');
    expect(vt.lines().slice(-2)).toEqual(['PS chatops> Get-Job;', 'output']);
  });

  it('prints a notice above the prompt and draws the prompt and the typed text again below it', async () => {
    const { vt, editor } = editorOn(30);
    const read = editor.read();
    editor.feed('icm localhost {\r');
    await tick();
    editor.feed('echo a very long line that wraps');
    await tick();
    editor.printAbove('Job7 (Id 7) Completed: 1 Completed of 1 · 3.1 s\n');
    expect(vt.lines()).toEqual([
      'Job7 (Id 7) Completed: 1 Compl',
      'eted of 1 · 3.1 s',
      'PS chatops> icm localhost {',
      '>> echo a very long line that',
      'wraps',
    ]);
    editor.feed('\r}\r');
    expect(await read).toEqual({ kind: 'line', text: 'icm localhost {\necho a very long line that wraps\n}' });
  });

  it('a status redrawn in place above the prompt clears all the rows it wrapped onto', async () => {
    const { vt, editor } = editorOn(24);
    const sink = new ConsoleSink({
      tty: true,
      columns: () => 24,
      write: (t) => editor.printAbove(t),
      writeError: (t) => editor.printAbove(t),
    });
    const status = (state: 'Running' | 'Completed', elapsedMs: number): NeutralMessage => ({
      blocks: [
        {
          kind: 'status',
          status: {
            jobId: 3,
            name: 'Job3',
            command: 'icm web1,web2 { uptime }',
            invokedBy: 'me',
            state,
            counts: state === 'Running' ? { Running: 2 } : { Completed: 2 },
            total: 2,
            elapsedMs,
            asJob: true,
            hasMoreData: false,
          },
        },
      ],
    });
    const read = editor.read();
    const handle = await sink.post(status('Running', 1000));
    editor.feed('Get-J');
    await tick();
    const drawn = vt.lines();
    await sink.update(handle, status('Running', 7000));
    await sink.update(handle, status('Completed', 9000));
    const now = vt.lines();
    // Same layout, nothing of the first drawing left over, the prompt still last.
    expect(now.join('\n')).not.toMatch(/Running: 2 Running/);
    expect(now.join('\n')).toMatch(/Job3 \(Id 3\) Completed/);
    expect(now.filter((l) => l.startsWith('Job3'))).toHaveLength(1);
    expect(now.at(-1)).toBe('PS chatops> Get-J');
    expect(now.length).toBeLessThanOrEqual(drawn.length + 1);
    editor.feed('ob\r');
    expect(await read).toEqual({ kind: 'line', text: 'Get-Job' });
  });

  it('Enter inside a paste adds a line; an empty line at >> ends the block; Ctrl-D on an empty line is the end', async () => {
    const { editor } = editorOn(80);
    let read: Promise<ReadResult> = editor.read();
    editor.feed('icm localhost {\r\r echo x\r}\r'); // one read: a paste, the blank line kept
    expect(await read).toEqual({ kind: 'line', text: 'icm localhost {\n\n echo x\n}' });
    read = editor.read();
    editor.feed('icm localhost {');
    await tick();
    editor.feed('\r');
    await tick();
    editor.feed('\r');
    expect(await read).toEqual({ kind: 'line', text: 'icm localhost {' });
    read = editor.read();
    editor.feed('\x04');
    expect(await read).toEqual({ kind: 'eof' });
  });

  it('keys typed while a command runs wait for the prompt; Ctrl-C then drops them and interrupts', async () => {
    const { editor } = editorOn(80);
    let interrupted = 0;
    editor.onInterrupt = () => interrupted++;
    editor.feed('Get-Job\r');
    let read = editor.read();
    expect(await read).toEqual({ kind: 'line', text: 'Get-Job' });
    editor.feed('Get-Agent');
    editor.feed('\x03');
    expect(interrupted).toBe(1);
    read = editor.read();
    editor.feed('Get-Help\r');
    expect(await read).toEqual({ kind: 'line', text: 'Get-Help' });
  });
});
