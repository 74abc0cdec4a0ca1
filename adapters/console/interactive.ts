import type { Readable, Writable } from 'node:stream';
import type { Core, IncomingCommand, Invoker } from '../../src/core/ports.js';
import type { ConsoleSink } from './console-sink.js';
import { consoleCompleter } from './completion.js';
import { needsMoreInput } from './continuation.js';
import { showControlChars } from './control-chars.js';
import type { History } from './history.js';
import { LineEditor, PROMPT } from './line-editor.js';

/** Bracketed paste on/off: the terminal marks pasted text, which then runs as one command. */
const PASTE_ON = '\x1b[?2004h';
const PASTE_OFF = '\x1b[?2004l';

export interface InteractiveOptions {
  core: Core;
  channel: string;
  user: Invoker;
  input: Readable;
  output: Writable;
  history: History;
  /** Set by `runInteractive` to the writer of the screen (what goes above the prompt). */
  onScreen: (screen: { print: (text: string) => void; printError: (text: string) => void } | undefined) => void;
  /** The sink commands draw on; its writes must already go through `onScreen`'s writer. */
  sink: ConsoleSink;
  errorOutput: Writable;
}

/**
 * The console at a terminal: the line editor reads commands (multi-line, history, Tab), each
 * runs with an AbortSignal that Ctrl-C fires (the core stops a synchronous Invoke-Command's job
 * as Stop-Job would and returns), and the prompt comes back. Ends on `exit`/`quit` or Ctrl-D on
 * an empty line; resolves with 1 if any command failed.
 */
export async function runInteractive(options: InteractiveOptions): Promise<number> {
  const { core, input, output, sink, history } = options;
  const tty = output as Writable & { columns?: number };
  const editor = new LineEditor({
    write: (t) => output.write(t),
    columns: () => tty.columns,
    history,
    completer: consoleCompleter(core, options.channel, options.user),
    needsMoreInput,
  });
  options.onScreen({
    print: (t) => editor.printAbove(t),
    printError: (t) => {
      if (editor.active) editor.printAbove(t);
      else options.errorOutput.write(t);
    },
  });
  const onData = (chunk: string | Buffer): void => editor.feed(typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
  const onResize = (): void => editor.redraw();
  const onEnd = (): void => editor.end();
  setRawMode(input, true);
  input.setEncoding('utf8');
  input.on('data', onData);
  input.once('end', onEnd);
  input.resume();
  output.on('resize', onResize);
  output.write(PASTE_ON);
  const pasteOff = (): void => void output.write(PASTE_OFF);
  process.once('exit', pasteOff);

  // A session that ended by itself (idle timeout, its agent restarted) is told above the prompt;
  // a remote prompt entered in it is left, as pwsh leaves it when its session breaks.
  const stopNotices = core.onNotice((n) => {
    if (n.channel !== options.channel || n.scope !== undefined) return false;
    void sink.post(n.message).catch(() => undefined);
    if (n.endedPrompt !== undefined) {
      editor.prompt = PROMPT;
      if (editor.active) editor.redraw();
    }
    return true;
  });

  let failed = false;
  output.write(
    'chatops console: type a command such as  Invoke-Command -ComputerName localhost { uname -a }  (Get-Help for help, exit to quit)\n',
  );
  try {
    for (;;) {
      // Whatever the prompt is drawn under stays: a status above it is not redrawn in place.
      sink.detach();
      const read = await editor.read();
      if (read.kind === 'eof') break;
      const text = read.text;
      if (text.trim() === '') continue;
      history.add(text);
      // At a remote prompt (Enter-PSSession) `exit` leaves the session, not the bot.
      if (/^\s*(exit|quit)\s*$/i.test(text) && editor.prompt === PROMPT) break;
      const controller = new AbortController();
      editor.onInterrupt = () => {
        if (controller.signal.aborted) return;
        // A line of its own, so the status drawn above is not redrawn over it.
        sink.detach();
        output.write('^C\n');
        controller.abort();
      };
      const command: IncomingCommand = { channel: options.channel, user: options.user, text, source: 'command', signal: controller.signal };
      try {
        const outcome = await core.handle(command, sink);
        if (!outcome.ok) failed = true;
        editor.prompt = outcome.prompt !== undefined ? `${outcome.prompt} ` : PROMPT;
      } catch (e) {
        options.errorOutput.write(`ERROR: ${showControlChars(String(e))}\n`);
        failed = true;
      } finally {
        editor.onInterrupt = undefined;
      }
    }
  } finally {
    stopNotices();
    options.onScreen(undefined);
    input.off('data', onData);
    input.off('end', onEnd);
    output.off('resize', onResize);
    input.pause();
    setRawMode(input, false);
    pasteOff();
    process.off('exit', pasteOff);
  }
  return failed ? 1 : 0;
}

function setRawMode(input: Readable, raw: boolean): void {
  const tty = input as { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  if (tty.isTTY && typeof tty.setRawMode === 'function') tty.setRawMode(raw);
}
