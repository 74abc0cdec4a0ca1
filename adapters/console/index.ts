import { createInterface } from 'node:readline';
import { userInfo } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Core, IncomingCommand, Invoker } from '../../src/core/ports.js';
import { ConsoleSink } from './console-sink.js';
import { showControlChars } from './control-chars.js';

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
 * The console channel (the embedded default). In a terminal: a prompt, the same live status
 * and results as chat, drawn for a terminal. Otherwise: one command per line, each waited
 * for, plain text; resolves with the exit code at end of input (1 if any command failed).
 */
export async function runConsole(core: Core, options: ConsoleOptions): Promise<number> {
  const tty = options.tty ?? Boolean((options.input as { isTTY?: boolean }).isTTY && (options.output as { isTTY?: boolean }).isTTY);
  const err = options.errorOutput ?? options.output;
  const sink = new ConsoleSink({
    tty,
    write: (t) => options.output.write(t),
    writeError: (t) => err.write(t),
    ...(options.attachmentsDir !== undefined ? { attachmentsDir: options.attachmentsDir } : {}),
  });
  const user = consoleInvoker();
  let failed = false;

  const run = async (line: string): Promise<void> => {
    const text = line.trim();
    if (text === '' || text.startsWith('#')) return;
    if (tty && /^(exit|quit)$/i.test(text)) return;
    const command: IncomingCommand = { channel: CONSOLE_CHANNEL, user, text, source: 'command' };
    const outcome = await core.handle(command, sink);
    if (!outcome.ok) failed = true;
  };

  const rl = createInterface({ input: options.input, ...(tty ? { output: options.output, terminal: true } : { terminal: false }) });
  if (!tty) {
    for await (const line of rl) await run(line);
    return failed ? 1 : 0;
  }

  const prompt = options.prompt ?? 'PS chatops> ';
  rl.setPrompt(prompt);
  options.output.write(
    'chatops console: type a command such as  Invoke-Command -ComputerName localhost { uname -a }  (Get-Help for help, exit to quit)\n',
  );
  rl.prompt();
  return new Promise<number>((resolve) => {
    let busy: Promise<void> = Promise.resolve();
    rl.on('line', (line) => {
      if (/^\s*(exit|quit)\s*$/i.test(line)) {
        rl.close();
        return;
      }
      rl.pause();
      // While a command runs, readline reads no keys; give the terminal back its own line
      // discipline so that Ctrl-C raises SIGINT (the bot shuts down cleanly) instead of waiting
      // unseen until the command ends. Lines typed meanwhile stay buffered for the prompt.
      setRawMode(options.input, false);
      busy = busy
        .then(() => run(line))
        .catch((e: unknown) => {
          err.write(`ERROR: ${showControlChars(String(e))}\n`);
          failed = true;
        })
        .then(() => {
          sink.detach();
          setRawMode(options.input, true);
          rl.resume();
          rl.prompt();
        });
    });
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => {
      void busy.then(() => {
        options.output.write('\n');
        resolve(failed ? 1 : 0);
      });
    });
  });
}

function setRawMode(input: Readable, raw: boolean): void {
  const tty = input as { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  if (tty.isTTY && typeof tty.setRawMode === 'function') tty.setRawMode(raw);
}
