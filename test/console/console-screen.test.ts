import { PassThrough, Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { runConsole } from '../../adapters/console/index.js';
import type { ChatSink, Core, IncomingCommand } from '../../src/core/ports.js';
import { VirtualTerminal } from './virtual-terminal.js';

/**
 * runConsole in terminal mode on a model of a terminal: the bot's log lines (captureLog) and a
 * background job's notice, written while someone is typing, are printed above the prompt, and
 * the prompt with the typed text is drawn again under them.
 */
it('log lines and background notices never overwrite what is being typed', async () => {
  const vt = new VirtualTerminal(40);
  const output = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        vt.write(chunk.toString());
        done();
      },
    }),
    { columns: 40 },
  );
  const input = new PassThrough();
  let sink: ChatSink | undefined;
  const handled: string[] = [];
  const core = {
    handle: async (command: IncomingCommand, s: ChatSink) => {
      handled.push(command.text);
      sink = s;
      return { ok: true, jobIds: [] };
    },
    complete: async () => [],
    reattach: () => 0,
    onNotice: () => () => true,
  } as unknown as Core;
  let log: ((line: string) => void) | undefined;
  const done = runConsole(core, { input, output, errorOutput: output, tty: true, captureLog: (w) => (log = w) });
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${vt.lines().join('\n')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  input.write('Get-Job\r');
  await until(() => handled.length === 1 && vt.lines().at(-1) === 'PS chatops>', 'Get-Job to run');
  expect(handled).toEqual(['Get-Job']);
  input.write('Get-Agent -Na');
  await until(() => vt.lines().at(-1) === 'PS chatops> Get-Agent -Na', 'the typed text');
  log?.('2026-12-07T07:00:00.000Z WARN agent web1 disconnected');
  await sink?.post({ blocks: [{ kind: 'text', text: 'Job4 is Completed. Receive-Job 4 shows the output.' }] });
  const screen = vt.lines();
  expect(screen.slice(-5)).toEqual([
    '2026-12-07T07:00:00.000Z WARN agent web1',
    ' disconnected',
    'Job4 is Completed. Receive-Job 4 shows t',
    'he output.',
    'PS chatops> Get-Agent -Na',
  ]);
  input.write('me web1\r');
  await until(() => handled.length === 2, 'the command to run');
  expect(handled).toEqual(['Get-Job', 'Get-Agent -Name web1']);
  input.write('exit\r');
  expect(await done).toBe(0);
  expect(log).toBeUndefined(); // the log goes back to stderr when the console ends
});

it('the end of the terminal input ends the console (a hung-up terminal does not leave the bot waiting)', async () => {
  const output = Object.assign(new PassThrough(), { columns: 80 });
  output.resume();
  const input = new PassThrough();
  const core = {
    handle: async () => ({ ok: true, jobIds: [] }),
    complete: async () => [],
    reattach: () => 0,
    onNotice: () => () => true,
  } as unknown as Core;
  const done = runConsole(core, { input, output, errorOutput: output, tty: true });
  input.write('Get-J');
  input.end();
  expect(await done).toBe(0);
});
