import { isIncompleteInput } from '../../src/language/index.js';

/**
 * Multi-line input as pwsh's host reads it: a line the parser finds incomplete (an open `{`,
 * `(`, `@(`, `@{`, string or here-string, a trailing backtick, pipe or comma) continues on the
 * next line, and the lines run as one script once they are complete. The parser decides
 * (IncompleteInput), not a guess at brackets, so `'{'` in a string opens nothing.
 */
export function needsMoreInput(text: string): boolean {
  return isIncompleteInput(text);
}

/**
 * Piped input (`printf ... | npm start`): joins lines while the text so far is incomplete and
 * hands out each complete script. Blank lines inside an open block are kept (a script's blank
 * lines do not end its block: no one is at a `>>` prompt to finish it another way). At the end
 * of the input, what is left is handed out as it is, so its error is reported.
 */
export class LineJoiner {
  private lines: string[] = [];

  /** The complete script this line ends, if it ends one. */
  push(line: string): string | undefined {
    this.lines.push(line);
    const text = this.lines.join('\n');
    if (needsMoreInput(text)) return undefined;
    this.lines = [];
    return text;
  }

  /** What is left at the end of the input (an unfinished block), if anything. */
  end(): string | undefined {
    const text = this.lines.join('\n');
    this.lines = [];
    return text.trim() === '' ? undefined : text;
  }
}
