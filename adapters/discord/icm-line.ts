import { ChatOpsError } from '../../src/errors.js';
import { parseScript } from '../../src/language/index.js';

/**
 * `/icm` typed options → the equivalent `/ps` line. The line goes through the core like any
 * other, so `/icm` binds exactly as the `/ps` line it produces (same parser, same binder, same
 * permission check and audit). Every option value is data: it is written as a PowerShell
 * single-quoted literal, never spliced in as syntax; the script block is the one exception (it
 * is code by definition) and is checked so it cannot close its braces early and start another
 * statement.
 */
export interface IcmOptions {
  computername?: string;
  scriptblock?: string;
  asjob?: boolean;
  jobname?: string;
  hidecomputername?: boolean;
  throttlelimit?: number;
  configurationname?: string;
  argumentlist?: string;
  filepath?: string;
}

/**
 * PowerShell's single-quote rule: inside '...' a quote character is written twice. The tokenizer
 * treats the typographic single quotes (U+2018, U+2019, U+201A, U+201B) as quotes too, so they
 * are doubled as well; otherwise `‘` in a value would end the literal.
 */
export function psQuote(value: string): string {
  return `'${value.replace(/['\u2018\u2019\u201A\u201B]/g, (q) => q + q)}'`;
}

/** A lone `$name` (a channel variable) may stand for the computer list, as in `/ps`. */
const VARIABLE = /^\$[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Splits a comma-separated option value into literal items. An item may be wrapped in single or
 * double quotes to keep a comma or surrounding spaces; inside, a doubled quote is one quote.
 * Nothing is expanded: `$x` is the two characters `$x`.
 */
export function splitList(raw: string, option: string): string[] {
  const items: string[] = [];
  let i = 0;
  const n = raw.length;
  const skipSpaces = (): void => {
    while (i < n && /\s/.test(raw[i]!)) i++;
  };
  for (;;) {
    skipSpaces();
    let item = '';
    const q = raw[i];
    if (q === "'" || q === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = raw[i]!;
        if (c === q) {
          if (raw[i + 1] === q) {
            item += q;
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        item += c;
        i++;
      }
      if (!closed) {
        throw new ChatOpsError('InvalidOption', `The ${option} option has an unterminated ${q} quote.`, {
          target: option,
        });
      }
      skipSpaces();
      if (i < n && raw[i] !== ',') {
        throw new ChatOpsError('InvalidOption', `The ${option} option has text after a quoted item; separate items with commas.`, {
          target: option,
        });
      }
    } else {
      const start = i;
      while (i < n && raw[i] !== ',') i++;
      item = raw.slice(start, i).trim();
      if (item === '') {
        throw new ChatOpsError('InvalidOption', `The ${option} option has an empty item.`, { target: option });
      }
    }
    items.push(item);
    if (i >= n) break;
    i++; // the comma
    skipSpaces();
    if (i >= n) {
      throw new ChatOpsError('InvalidOption', `The ${option} option ends with a comma.`, { target: option });
    }
  }
  return items;
}

const isSingleQuote = (c: string | undefined): boolean => c !== undefined && "'\u2018\u2019\u201A\u201B".includes(c);
const isDoubleQuote = (c: string | undefined): boolean => c !== undefined && '"\u201C\u201D\u201E'.includes(c);

/**
 * Walks `text` as PowerShell's tokenizer would and calls `onBrace` for every `{` and `}` outside
 * strings and comments, with its index; returns whether the text ends inside a `#` line comment.
 * It follows the tokenizer for what hides a brace: '...' (quotes doubled), "..." (backtick
 * escapes, doubled quotes), here-strings @'...'@ and @"..."@, `#` line comments and <# #> block
 * comments, and backtick escapes outside strings. Braces inside "..." are ignored (a `$( ... )`
 * there is balanced in any sane script). `fail` is called (and must throw) for a string, comment
 * or here-string that is never closed.
 */
function scanBraces(text: string, onBrace: (brace: '{' | '}', at: number) => void, fail: (why: string) => never): boolean {
  let endsInLineComment = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    const atLineStart = (k: number): boolean => k === 0 || text[k - 1] === '\n' || text[k - 1] === '\r';
    if (c === '`') {
      i += 2;
    } else if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      if (i >= n) endsInLineComment = true;
    } else if (c === '<' && text[i + 1] === '#') {
      const end = text.indexOf('#>', i + 2);
      if (end < 0) fail('a <# comment is not closed');
      i = end + 2;
    } else if (c === '@' && (isSingleQuote(text[i + 1]) || isDoubleQuote(text[i + 1])) && /^[ \t]*\r?\n/.test(text.slice(i + 2))) {
      const dq = isDoubleQuote(text[i + 1]);
      let k = text.indexOf('\n', i + 2) + 1;
      let closed = false;
      while (k > 0 && k < n) {
        if (atLineStart(k) && (dq ? isDoubleQuote(text[k]) : isSingleQuote(text[k])) && text[k + 1] === '@') {
          closed = true;
          i = k + 2;
          break;
        }
        const next = text.indexOf('\n', k);
        k = next < 0 ? n : next + 1;
      }
      if (!closed) fail('a here-string is not closed');
    } else if (isSingleQuote(c)) {
      i++;
      for (;;) {
        if (i >= n) fail('a single-quoted string is not closed');
        if (isSingleQuote(text[i])) {
          if (isSingleQuote(text[i + 1])) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
    } else if (isDoubleQuote(c)) {
      i++;
      for (;;) {
        if (i >= n) fail('a double-quoted string is not closed');
        const d = text[i];
        if (d === '`') {
          i += 2;
          continue;
        }
        if (isDoubleQuote(d)) {
          if (isDoubleQuote(text[i + 1])) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
    } else if (c === '{' || c === '}') {
      onBrace(c, i);
      i++;
    } else {
      i++;
    }
  }
  return endsInLineComment;
}

/**
 * Checks that `{ text }` is one script block: every `{` and `}` outside strings and comments is
 * balanced and the depth never drops below zero (see `scanBraces` for what hides a brace).
 */
export function checkScriptBlock(text: string): { endsInLineComment: boolean } {
  let depth = 0;
  const fail = (why: string): never => {
    throw new ChatOpsError('InvalidOption', `The scriptblock option is not one script block: ${why}. Use /ps to type the whole line.`, {
      target: 'scriptblock',
    });
  };
  const endsInLineComment = scanBraces(
    text,
    (brace) => {
      depth += brace === '{' ? 1 : -1;
      if (depth < 0) fail('a } closes a brace that was never opened');
    },
    fail,
  );
  if (depth > 0) fail('a { is never closed');
  return { endsInLineComment };
}

/**
 * People type the braces out of habit (`scriptblock:{ echo x }`), and the line would then run a
 * block that only returns a block. One balanced outer pair is taken off: the text, spaces
 * aside, starts with `{` and ends with the `}` that closes it (`{ a }; { b }` keeps both, as its
 * first brace closes early). What is inside is trimmed, so `{ echo x }` builds the same line as
 * `echo x`. Text the scanner cannot read (an unclosed string) is returned as it is: the check
 * that follows says what is wrong with it.
 */
export function unwrapScriptBlock(text: string): string {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return text;
  let depth = 0;
  let closesAt = -1;
  class Unreadable extends Error {}
  try {
    scanBraces(
      t,
      (brace, at) => {
        depth += brace === '{' ? 1 : -1;
        if (depth === 0 && closesAt < 0) closesAt = at;
      },
      () => {
        throw new Unreadable();
      },
    );
  } catch (e) {
    if (e instanceof Unreadable) return text;
    throw e;
  }
  return closesAt === t.length - 1 ? t.slice(1, -1).trim() : text;
}

/**
 * Builds the `/ps` line for `/icm`. Parameters appear in a fixed order and are always named,
 * so the result does not depend on positional binding. Switches that are false are left out
 * (the same as not typing them).
 */
export function icmOptionsToLine(o: IcmOptions): string {
  const parts = ['Invoke-Command'];
  let block: string | undefined;
  if (o.computername !== undefined) {
    const raw = o.computername.trim();
    if (VARIABLE.test(raw)) parts.push('-ComputerName', raw);
    else parts.push('-ComputerName', splitList(raw, 'computername').map(psQuote).join(','));
  }
  if (o.scriptblock !== undefined) {
    const script = unwrapScriptBlock(o.scriptblock);
    const { endsInLineComment } = checkScriptBlock(script);
    // Written as a person types it; a trailing `# comment` would swallow the closing brace, so
    // then the brace goes on its own line.
    block = endsInLineComment ? `{ ${script}\n}` : `{ ${script} }`;
    parts.push('-ScriptBlock', block);
  }
  if (o.filepath !== undefined) parts.push('-FilePath', psQuote(o.filepath));
  if (o.configurationname !== undefined) parts.push('-ConfigurationName', psQuote(o.configurationname));
  if (o.throttlelimit !== undefined) {
    if (!Number.isInteger(o.throttlelimit)) {
      throw new ChatOpsError('InvalidOption', 'The throttlelimit option must be a whole number.', {
        target: 'throttlelimit',
      });
    }
    parts.push('-ThrottleLimit', String(o.throttlelimit));
  }
  if (o.asjob === true) parts.push('-AsJob');
  if (o.jobname !== undefined) parts.push('-JobName', psQuote(o.jobname));
  if (o.hidecomputername === true) parts.push('-HideComputerName');
  if (o.argumentlist !== undefined) {
    parts.push('-ArgumentList', splitList(o.argumentlist, 'argumentlist').map(psQuote).join(','));
  }
  const line = parts.join(' ');
  if (block !== undefined) assertOneScriptBlock(line, block);
  return line;
}

/**
 * The brace check above follows the tokenizer's rules only approximately (`a#b }`: a `#` inside
 * a word is not a comment, so that brace is live). The language's own parser decides: the line
 * must be one statement of one command whose -ScriptBlock argument is exactly the block written.
 * A line that does not parse at all is passed on: the core answers it with the same parse error
 * as the /ps line.
 */
function assertOneScriptBlock(line: string, block: string): void {
  let statements: ReturnType<typeof parseScript>['statements'];
  try {
    statements = parseScript(line).statements;
  } catch {
    return;
  }
  const command = statements.length === 1 && statements[0]!.commands.length === 1 ? statements[0]!.commands[0] : undefined;
  const at = command?.elements.findIndex((e) => e.kind === 'parameter' && e.name === 'ScriptBlock') ?? -1;
  const arg = at >= 0 ? command?.elements[at + 1] : undefined;
  if (arg?.kind !== 'argument' || arg.value.text !== block) {
    throw new ChatOpsError(
      'InvalidOption',
      'The scriptblock option is not one script block: a } in it closes the block early. Use /ps to type the whole line.',
      { target: 'scriptblock' },
    );
  }
}
