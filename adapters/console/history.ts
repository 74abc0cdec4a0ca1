import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Lines kept in the history file (the oldest are dropped). */
export const HISTORY_MAX_ENTRIES = 1000;

/**
 * The console's command history, kept in a file beside the database so Up-arrow recalls earlier
 * sessions' commands. The file is the operator's: mode 0600 (commands can name hosts and hold
 * values), at most HISTORY_MAX_ENTRIES entries. Format as PSReadLine's history file: one entry
 * per line, a multi-line entry's lines but the last end with a backtick. A history that cannot
 * be read or written never stops the console: it then lives in memory only.
 */
export class History {
  private readonly entries: string[] = [];
  /** Writes since the file was last rewritten whole (appends until it holds too many). */
  private appended = 0;

  constructor(private readonly file?: string) {
    if (file === undefined) return;
    try {
      this.entries.push(...parseHistory(readFileSync(file, 'utf8')).slice(-HISTORY_MAX_ENTRIES));
    } catch {
      // no history yet (or unreadable): start empty
    }
  }

  /** Oldest first. */
  all(): readonly string[] {
    return this.entries;
  }

  add(entry: string): void {
    let text = entry.replace(/\s+$/, '');
    // A last line ending in a backtick would read as continuing into the next entry.
    if (text.endsWith('`')) text += ' ';
    if (text.trim() === '' || this.entries[this.entries.length - 1] === text) return;
    this.entries.push(text);
    if (this.entries.length > HISTORY_MAX_ENTRIES) this.entries.splice(0, this.entries.length - HISTORY_MAX_ENTRIES);
    this.save(text);
  }

  private save(entry: string): void {
    if (this.file === undefined) return;
    try {
      mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
      if (this.appended < HISTORY_MAX_ENTRIES / 10) {
        appendFileSync(this.file, formatEntry(entry), { mode: 0o600 });
        this.appended++;
      } else {
        // Now and then the file is rewritten with the kept entries only, so it stays bounded.
        writeFileSync(this.file, this.entries.map(formatEntry).join(''), { mode: 0o600 });
        this.appended = 0;
      }
      chmodSync(this.file, 0o600); // a file created earlier with a laxer mode is tightened
    } catch {
      // read-only directory, full disk: the history stays in memory
    }
  }
}

function formatEntry(entry: string): string {
  return `${entry.split(/\r?\n/).join('`\n')}\n`;
}

/** Entries of a history file; a line ending in a backtick continues on the next. */
export function parseHistory(text: string): string[] {
  const entries: string[] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (line.endsWith('`')) {
      current.push(line.slice(0, -1));
      continue;
    }
    current.push(line);
    const entry = current.join('\n');
    current = [];
    if (entry.trim() !== '') entries.push(entry);
  }
  if (current.length > 0) entries.push(current.join('\n'));
  return entries;
}
