import { createInterface } from 'node:readline';
import { userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Core, IncomingCommand, Invoker } from '../../src/core/ports.js';
import { ConsoleSink } from './console-sink.js';
import { LineJoiner } from './continuation.js';
import { History } from './history.js';
import { runInteractive } from './interactive.js';

export { ConsoleSink } from './console-sink.js';
export { showControlChars } from './control-chars.js';

export interface ConsoleOptions {
  input: Readable;
  output: Writable;
  errorOutput?: Writable;
  /** Terminal mode (prompt, redrawn status); default: whether input and output are TTYs. */
  tty?: boolean;
  prompt?: string;
  /** Where the whole of a large output is written (the note names the file). */
  attachmentsDir?: string;
  /** Terminal mode: the history file (beside the database); without it history is not kept. */
  historyFile?: string;
  /**
   * Terminal mode: called with a writer for the bot's log lines while the prompt is up (they are
   * printed above it, and it is drawn again), then with undefined when the console ends.
   */
  captureLog?: (write: ((line: string) => void) | undefined) => void;
}

export const CONSOLE_CHANNEL = 'console';

export function consoleInvoker(): Invoker {
  let name = 'console';
  try {
    name = userInfo().username || name;
  } catch {
    // no passwd entry (containers): keep 'console'
  }
  return { platform: 'console', userId: 'console', displayName: name };
}

/**
 * The console channel (the embedded default). In a terminal: pwsh's prompt (interactive.ts:
 * multi-line input, history, Tab, Ctrl-C cancels the command), the same live status and results
 * as chat, drawn for a terminal. Otherwise: one command per script (lines joined while
 * incomplete), each waited for, plain text. Resolves with the exit code at the end of input or
 * `exit` (1 if any command failed).
 */
export async function runConsole(core: Core, options: ConsoleOptions): Promise<number> {
  const tty = options.tty ?? Boolean((options.input as { isTTY?: boolean }).isTTY && (options.output as { isTTY?: boolean }).isTTY);
  const err = options.errorOutput ?? options.output;
  // At a terminal the line editor owns the screen: while a prompt is up, whatever is printed
  // goes above it and the prompt with what is typed is drawn again.
  let screen: { print: (text: string) => void; printError: (text: string) => void } | undefined;
  const sink = new ConsoleSink({
    tty,
    write: (t) => (screen ? screen.print(t) : options.output.write(t)),
    writeError: (t) => (screen ? screen.printError(t) : err.write(t)),
    columns: () => (options.output as { columns?: number }).columns,
    ...(options.attachmentsDir !== undefined ? { attachmentsDir: options.attachmentsDir } : {}),
  });
  const user = consoleInvoker();
  let failed = false;

  const run = async (script: string): Promise<void> => {
    const text = script.trim();
    // Blank and comment lines alone are not a command (the core would call them empty).
    if (text.split('\n').every((l) => l.trim() === '' || l.trim().startsWith('#'))) return;
    const command: IncomingCommand = { channel: CONSOLE_CHANNEL, user, text, source: 'command' };
    const outcome = await core.handle(command, sink);
    if (!outcome.ok) failed = true;
  };

  if (tty) {
    options.captureLog?.((line) => {
      sink.detach(); // the log line sits below a status: that status is no longer redrawn in place
      if (screen) screen.printError(`${line}\n`);
      else err.write(`${line}\n`);
    });
    try {
      return await runInteractive({
        core,
        channel: CONSOLE_CHANNEL,
        user,
        input: options.input,
        output: options.output,
        errorOutput: err,
        history: new History(options.historyFile),
        sink,
        onScreen: (s) => {
          screen = s;
        },
      });
    } finally {
      options.captureLog?.(undefined);
    }
  }

  // Piped: lines are joined while the input is incomplete (an open block continues on the next
  // line), then each script runs, waited for, in order. Notices are printed as they come.
  const stopNotices = core.onNotice((n) => {
    if (n.channel !== CONSOLE_CHANNEL || n.scope !== undefined) return false;
    void sink.post(n.message).catch(() => undefined);
    return true;
  });
  try {
    const rl = createInterface({ input: options.input, terminal: false });
    const joiner = new LineJoiner();
    for await (const line of rl) {
      const script = joiner.push(line);
      if (script !== undefined) await run(script);
    }
    const rest = joiner.end();
    if (rest !== undefined) await run(rest);
  } finally {
    stopNotices();
  }
  return failed ? 1 : 0;
}
