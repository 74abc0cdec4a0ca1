import type { ScriptBlockValue } from './values.js';
import { clip, incompleteInput, MAX_SCRIPT_BLOCK_NESTING, nestingTooDeep, parseError } from './parse-error.js';

/**
 * Character-level scanning for command mode (reference 1.1). Every scanner moves forward only,
 * so the whole parse is linear in the input; no regular expression ever runs on user text.
 */

/** `-`, EN DASH, EM DASH, HORIZONTAL BAR: chat clients turn `-`/`--` into typographic dashes. */
export function isDash(c: string): boolean {
  return c === '-' || c === '\u2013' || c === '\u2014' || c === '\u2015';
}
/** ASCII and typographic single quotes. */
export function isSingleQuote(c: string): boolean {
  return c === "'" || c === '\u2018' || c === '\u2019' || c === '\u201A' || c === '\u201B';
}
/** ASCII and typographic double quotes. */
export function isDoubleQuote(c: string): boolean {
  return c === '"' || c === '\u201C' || c === '\u201D' || c === '\u201E';
}
export function isQuote(c: string): boolean {
  return isSingleQuote(c) || isDoubleQuote(c);
}
export function isNewline(c: string): boolean {
  return c === '\n' || c === '\r';
}
/** Blanks that separate tokens, including the no-break spaces chat clients insert. */
export function isBlank(c: string): boolean {
  return (
    c === ' ' ||
    c === '\t' ||
    c === '\f' ||
    c === '\v' ||
    c === '\u00A0' ||
    c === '\u0085' ||
    c === '\u1680' ||
    (c >= '\u2000' && c <= '\u200A') ||
    c === '\u2028' ||
    c === '\u2029' ||
    c === '\u202F' ||
    c === '\u205F' ||
    c === '\u3000' ||
    c === '\uFEFF'
  );
}
export function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c > '\u007F' && c.toLowerCase() !== c.toUpperCase());
}
export function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}
/** Characters of a `$name` variable name. */
export function isVariableChar(c: string): boolean {
  return isLetter(c) || isDigit(c) || c === '_' || c === '?';
}
/** Ends a bareword (generic token) in command mode. */
export function isArgumentTerminator(c: string): boolean {
  return (
    c === '' ||
    isBlank(c) ||
    isNewline(c) ||
    c === '{' ||
    c === '}' ||
    c === '(' ||
    c === ')' ||
    c === ';' ||
    c === ',' ||
    c === '|' ||
    c === '&'
  );
}
/** Ends a parameter name (reference 1.1). */
export function isParameterNameTerminator(c: string): boolean {
  return isArgumentTerminator(c) || c === '.' || c === '[' || c === ':';
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\u0007',
  b: '\b',
  e: '\u001B',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

export class Scanner {
  pos = 0;
  constructor(readonly text: string) {}

  peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }
  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  /** Skips blanks, line continuations (backtick + newline) and comments; newlines only if asked. */
  skipBlanks(newlines: boolean): void {
    for (;;) {
      const c = this.peek();
      if (isBlank(c)) {
        this.pos++;
      } else if (c === '`' && isNewline(this.peek(1))) {
        this.pos += this.peek(1) === '\r' && this.peek(2) === '\n' ? 3 : 2;
      } else if (newlines && isNewline(c)) {
        this.pos++;
      } else if (c === '#') {
        while (!this.atEnd() && !isNewline(this.peek())) this.pos++;
      } else if (c === '<' && this.peek(1) === '#') {
        const end = this.text.indexOf('#>', this.pos + 2);
        if (end < 0) {
          throw incompleteInput('MissingTerminatorMultiLineComment', "The terminator '#>' is missing from the multiline comment.");
        }
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  /** A backtick escape inside double quotes or a bareword; `pos` is at the backtick. */
  readEscape(): string {
    const next = this.peek(1);
    if (next === '') {
      // A backtick ending the input continues the line on the next one (line continuation).
      // PowerShell's tokenizer reports a backtick at the very end as an incomplete token.
      throw incompleteInput('IncompleteString', 'Incomplete string token.');
    }
    if (next === 'u' && this.peek(2) === '{') {
      const close = this.text.indexOf('}', this.pos + 3);
      if (close > this.pos + 3 && close <= this.pos + 9) {
        const hex = this.text.slice(this.pos + 3, close);
        const code = parseHex(hex);
        if (code !== undefined && code <= 0x10ffff) {
          this.pos = close + 1;
          return String.fromCodePoint(code);
        }
      }
      throw parseError(
        'InvalidUnicodeEscapeSequence',
        "The Unicode escape sequence is not valid. A valid sequence is `u{ followed by 1 to 6 hex digits and a closing '}'.",
      );
    }
    this.pos += 2;
    if (next === '\r' && this.peek() === '\n') this.pos++;
    return ESCAPES[next] ?? next;
  }

  /** `'...'` with `''` as an escaped quote; any single-quote character opens and closes. */
  readSingleQuoted(): string {
    this.pos++;
    let out = '';
    let segment = this.pos;
    for (;;) {
      if (this.atEnd()) {
        throw incompleteInput('TerminatorExpectedAtEndOfString', "The string is missing the terminator: '.");
      }
      const c = this.peek();
      if (isSingleQuote(c)) {
        out += this.text.slice(segment, this.pos);
        if (isSingleQuote(this.peek(1))) {
          out += c;
          this.pos += 2;
          segment = this.pos;
          continue;
        }
        this.pos++;
        return out;
      }
      this.pos++;
    }
  }

  /**
   * `"..."`: backtick escapes, `""` for a quote, `$name`/`${name}` expansion parts.
   * `$( )` subexpressions inside strings are refused with a clear error.
   */
  readDoubleQuoted(): Array<string | { variable: string }> {
    this.pos++;
    const parts = new ExpandParts();
    for (;;) {
      if (this.atEnd()) {
        throw incompleteInput('TerminatorExpectedAtEndOfString', 'The string is missing the terminator: ".');
      }
      const c = this.peek();
      if (!isDoubleQuote(c)) {
        this.readExpandStep(parts);
      } else if (isDoubleQuote(this.peek(1))) {
        parts.literal += c;
        this.pos += 2;
      } else {
        this.pos++;
        return parts.finish();
      }
    }
  }

  /** One step inside an expandable string: a backtick escape, a `$name` reference, or a character. */
  readExpandStep(parts: ExpandParts): void {
    const c = this.peek();
    if (c === '`') {
      parts.literal += this.readEscape();
    } else if (c === '$') {
      const variable = this.tryReadVariableInString();
      if (variable === undefined) {
        parts.literal += '$';
        this.pos++;
      } else {
        parts.variable(variable);
      }
    } else {
      parts.literal += c;
      this.pos++;
    }
  }

  /** At `$` inside an expandable string or bareword: a variable reference, or undefined for a plain `$`. */
  tryReadVariableInString(): string | undefined {
    const next = this.peek(1);
    if (next === '(') {
      throw parseError(
        'NotSupported',
        'Subexpressions $( ) inside strings are not supported here; assign the value to a variable first, or pass it as its own argument.',
      );
    }
    if (next === '{' || isVariableChar(next)) return this.readVariableName();
    return undefined;
  }

  /** At `$`: returns the raw name (scope prefix kept, e.g. `using:x`, `env:path`), `pos` after it. */
  readVariableName(): string {
    this.pos++;
    if (this.peek() === '{') {
      const start = ++this.pos;
      let name = '';
      for (;;) {
        if (this.atEnd()) throw incompleteInput('IncompleteDollarVariableReference', "Missing closing '}' in variable name.");
        const c = this.peek();
        if (c === '}') break;
        if (c === '`') {
          name += this.readEscape();
          continue;
        }
        name += c;
        this.pos++;
      }
      this.pos++;
      if (name === '' || start === this.pos - 1)
        throw parseError('EmptyVariableReference', 'Empty ${} variable reference, there should be a name between the braces.');
      return name;
    }
    const first = this.peek();
    if (first === '$' || first === '^') {
      this.pos++;
      return first;
    }
    const start = this.pos;
    while (isVariableChar(this.peek())) this.pos++;
    // A scope or drive qualifier: `$using:name`, `$env:NAME`.
    if (this.peek() === ':' && isVariableChar(this.peek(1)) && this.pos > start) {
      this.pos++;
      while (isVariableChar(this.peek())) this.pos++;
    }
    return this.text.slice(start, this.pos);
  }

  /**
   * At `@'` or `@"`: a here-string. The header must end its line; the footer (`'@` / `"@`) must
   * start a line. Returns the literal text (single) or expansion parts (double).
   */
  readHereString(): string | Array<string | { variable: string }> {
    const expandable = isDoubleQuote(this.peek(1));
    this.pos += 2;
    while (isBlank(this.peek())) this.pos++;
    if (this.atEnd()) {
      throw incompleteInput('TerminatorExpectedAtEndOfString', `The string is missing the terminator: ${expandable ? '"' : "'"}@.`);
    }
    if (!isNewline(this.peek())) {
      throw parseError(
        'UnexpectedCharactersAfterHereStringHeader',
        'No characters are allowed after a here-string header but before the end of the line.',
      );
    }
    if (this.peek() === '\r' && this.peek(1) === '\n') this.pos++;
    this.pos++;
    const contentStart = this.pos;
    const closes = expandable ? isDoubleQuote : isSingleQuote;
    // Find a line starting with the footer.
    let lineStart = this.pos;
    let indentedFooter = false;
    for (;;) {
      if (lineStart >= this.text.length) {
        // A footer with blanks before it does not end the string; PowerShell names that mistake.
        if (indentedFooter)
          throw parseError('WhitespaceBeforeHereStringFooter', 'White space is not allowed before the string terminator.');
        throw incompleteInput('TerminatorExpectedAtEndOfString', `The string is missing the terminator: ${expandable ? '"' : "'"}@.`);
      }
      if (closes(this.text.charAt(lineStart)) && this.text.charAt(lineStart + 1) === '@') break;
      let i = lineStart;
      while (isBlank(this.text.charAt(i))) i++;
      if (i > lineStart && closes(this.text.charAt(i)) && this.text.charAt(i + 1) === '@') indentedFooter = true;
      while (i < this.text.length && this.text.charAt(i) !== '\n') i++;
      lineStart = i + 1;
    }
    let contentEnd = lineStart === contentStart ? contentStart : lineStart - 1;
    if (contentEnd > contentStart && this.text.charAt(contentEnd - 1) === '\r') contentEnd--;
    this.pos = lineStart + 2;
    if (!expandable) return this.text.slice(contentStart, contentEnd);
    return expandParts(this.text.slice(contentStart, contentEnd));
  }

  /**
   * At `{`: a script block, kept byte for byte. Braces, parentheses of `$( )`, strings,
   * here-strings and comments are tracked with an explicit stack (no recursion) so that braces
   * inside strings or comments do not count. `$Using:name` references are collected.
   */
  readScriptBlock(): ScriptBlockValue {
    const text = this.text;
    const start = this.pos + 1;
    // '{' code block, '(' code inside $( ), '"' double-quoted string, 'H' double-quoted here-string.
    const stack: string[] = ['{'];
    const usings: string[] = [];
    const seen = new Set<string>();
    let i = start;
    let atTokenStart = true;
    const collectUsing = (at: number): number => {
      // at: index of '$'. Returns the index after the reference or `at + 1`.
      let j = at + 1;
      const braced = text.charAt(j) === '{';
      if (braced) j++;
      if (text.slice(j, j + 6).toLowerCase() !== 'using:') return at + 1;
      j += 6;
      const nameStart = j;
      let name: string;
      let drive: boolean;
      if (braced) {
        // ${Using:any name} runs to the closing brace.
        const close = text.indexOf('}', j);
        if (close < 0 || close === j) return at + 1;
        name = text.slice(nameStart, close);
        drive = name.includes(':');
        j = close + 1;
      } else {
        while (j < text.length && isVariableChar(text.charAt(j))) j++;
        if (j === nameStart) return at + 1;
        name = text.slice(nameStart, j);
        drive = text.charAt(j) === ':' && isVariableChar(text.charAt(j + 1));
        if (drive) {
          j++;
          while (j < text.length && isVariableChar(text.charAt(j))) j++;
          name = text.slice(nameStart, j);
        }
      }
      if (drive) {
        throw parseError(
          'NotSupported',
          `$${clip(text.slice(braced ? at + 2 : at + 1, braced ? j - 1 : j))} is not supported: $Using: sends channel variables only; the bot's environment and drives are not available to chat.`,
          name,
        );
      }
      name = name.toLowerCase();
      if (!seen.has(name)) {
        seen.add(name);
        usings.push(name);
      }
      return j;
    };
    while (i < text.length) {
      if (stack.length > MAX_SCRIPT_BLOCK_NESTING) throw nestingTooDeep(MAX_SCRIPT_BLOCK_NESTING);
      const top = stack[stack.length - 1];
      const c = text.charAt(i);
      if (top === '{' || top === '(') {
        if (c === '`') {
          i += 2;
          atTokenStart = false;
          continue;
        }
        if (c === '#' && atTokenStart) {
          while (i < text.length && !isNewline(text.charAt(i))) i++;
          continue;
        }
        if (c === '<' && text.charAt(i + 1) === '#') {
          const end = text.indexOf('#>', i + 2);
          if (end < 0)
            throw incompleteInput('MissingTerminatorMultiLineComment', "The terminator '#>' is missing from the multiline comment.");
          i = end + 2;
          continue;
        }
        if (c === '{') {
          stack.push('{');
          i++;
          atTokenStart = true;
          continue;
        }
        if (c === '}') {
          if (top !== '{') {
            const inString = stack[stack.length - 2] === '"' || stack[stack.length - 2] === 'H';
            if (inString) throw parseError('IncompleteDollarSubexpressionReference', "$(subexpression) is missing the closing ')'.");
            throw parseError('MissingEndParenthesisInSubexpression', "Missing closing ')' in subexpression.");
          }
          stack.pop();
          if (stack.length === 0) {
            this.pos = i + 1;
            return { kind: 'scriptblock', text: text.slice(start, i), usings };
          }
          i++;
          atTokenStart = false;
          continue;
        }
        if (c === '(') {
          stack.push('(');
          i++;
          atTokenStart = true;
          continue;
        }
        if (c === ')') {
          // In a block, `)` ends the block early: PowerShell reports the missing `}` first.
          if (top !== '(') throw parseError('MissingEndCurlyBrace', "Missing closing '}' in statement block or type definition.");
          stack.pop();
          i++;
          atTokenStart = false;
          continue;
        }
        if (c === '@' && isQuote(text.charAt(i + 1))) {
          let j = i + 2;
          while (j < text.length && isBlank(text.charAt(j))) j++;
          if (j >= text.length || isNewline(text.charAt(j))) {
            if (isDoubleQuote(text.charAt(i + 1))) {
              stack.push('H');
              i = j;
              continue;
            }
            i = skipSingleHereString(text, j);
            atTokenStart = false;
            continue;
          }
        }
        if (isSingleQuote(c)) {
          i = skipSingleQuoted(text, i);
          atTokenStart = false;
          continue;
        }
        if (isDoubleQuote(c)) {
          stack.push('"');
          i++;
          continue;
        }
        if (c === '$') {
          i = collectUsing(i);
          atTokenStart = false;
          continue;
        }
        atTokenStart = isBlank(c) || isNewline(c) || c === ';' || c === '|' || c === '=' || c === ',';
        i++;
        continue;
      }
      if (top === '"') {
        if (c === '`') {
          i += 2;
        } else if (isDoubleQuote(c)) {
          if (isDoubleQuote(text.charAt(i + 1))) i += 2;
          else {
            stack.pop();
            i++;
            atTokenStart = false;
          }
        } else if (c === '$' && text.charAt(i + 1) === '(') {
          stack.push('(');
          i += 2;
          atTokenStart = true;
        } else if (c === '$') {
          i = collectUsing(i);
        } else {
          i++;
        }
        continue;
      }
      // Double-quoted here-string: ends at a line starting with "@.
      if (c === '\n' && isDoubleQuote(text.charAt(i + 1)) && text.charAt(i + 2) === '@') {
        stack.pop();
        i += 3;
        atTokenStart = false;
      } else if (c === '`') {
        i += 2;
      } else if (c === '$' && text.charAt(i + 1) === '(') {
        stack.push('(');
        i += 2;
        atTokenStart = true;
      } else if (c === '$') {
        i = collectUsing(i);
      } else {
        i++;
      }
    }
    const top = stack[stack.length - 1];
    // The input ended inside the block: more lines can close it.
    if (top === '"') throw incompleteInput('TerminatorExpectedAtEndOfString', 'The string is missing the terminator: ".');
    if (top === 'H') throw incompleteInput('TerminatorExpectedAtEndOfString', 'The string is missing the terminator: "@.');
    if (top === '(') {
      const inString = stack[stack.length - 2] === '"' || stack[stack.length - 2] === 'H';
      if (inString) throw incompleteInput('IncompleteDollarSubexpressionReference', "$(subexpression) is missing the closing ')'.");
      throw incompleteInput('MissingEndParenthesisInSubexpression', "Missing closing ')' in subexpression.");
    }
    throw incompleteInput('MissingEndCurlyBrace', "Missing closing '}' in statement block or type definition.");
  }
}

function skipSingleQuoted(text: string, at: number): number {
  let i = at + 1;
  while (i < text.length) {
    if (isSingleQuote(text.charAt(i))) {
      if (isSingleQuote(text.charAt(i + 1))) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  throw incompleteInput('TerminatorExpectedAtEndOfString', "The string is missing the terminator: '.");
}

/** `at` is the newline ending a `@'` header; returns the index after the `'@` footer. */
function skipSingleHereString(text: string, at: number): number {
  let i = at;
  while (i < text.length) {
    if (text.charAt(i) === '\n' && isSingleQuote(text.charAt(i + 1)) && text.charAt(i + 2) === '@') return i + 3;
    i++;
  }
  throw incompleteInput('TerminatorExpectedAtEndOfString', "The string is missing the terminator: '@.");
}

/** Literal text and variable references of an expandable string, in order. */
class ExpandParts {
  private readonly parts: Array<string | { variable: string }> = [];
  literal = '';

  variable(name: string): void {
    if (this.literal !== '') this.parts.push(this.literal);
    this.literal = '';
    this.parts.push({ variable: name });
  }

  finish(): Array<string | { variable: string }> {
    if (this.literal !== '') this.parts.push(this.literal);
    this.literal = '';
    return this.parts;
  }
}

/** Expansion parts of a double-quoted here-string body (no `""` escape inside here-strings). */
function expandParts(body: string): Array<string | { variable: string }> {
  const s = new Scanner(body);
  const parts = new ExpandParts();
  while (!s.atEnd()) s.readExpandStep(parts);
  return parts.finish();
}

function parseHex(hex: string): number | undefined {
  let value = 0;
  for (const c of hex) {
    const d = hexDigit(c);
    if (d < 0) return undefined;
    value = value * 16 + d;
  }
  return hex === '' ? undefined : value;
}

function hexDigit(c: string): number {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  const l = c.toLowerCase();
  if (l >= 'a' && l <= 'f') return l.charCodeAt(0) - 87;
  return -1;
}

export type NumberType = 'int' | 'long' | 'double' | 'decimal';

const MULTIPLIERS: Record<string, number> = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };
const INT32_MAX = 2147483647;

/**
 * PowerShell numeric literal (the whole text): decimal, `0x` hex, `0b` binary, fraction and
 * exponent, type suffix (l, d, u, ul, n, s, us, y, uy) and multiplier (kb..pb). Returns
 * undefined when the text is not entirely a number (`5abc`, `10.0.0.1`).
 */
export function parseNumberLiteral(text: string): { value: number; type: NumberType } | undefined {
  let i = 0;
  let negative = false;
  if (text.charAt(0) === '-' || text.charAt(0) === '+') {
    negative = text.charAt(0) === '-';
    i = 1;
  }
  let value = 0;
  let isReal = false;
  const lower = text.toLowerCase();
  const radix = lower.startsWith('0x', i) || lower.startsWith('0b', i);
  if (radix) {
    const base = lower.charAt(i + 1) === 'x' ? 16 : 2;
    i += 2;
    const start = i;
    while (i < text.length && hexDigit(text.charAt(i)) >= 0 && hexDigit(text.charAt(i)) < base) {
      value = value * base + hexDigit(text.charAt(i));
      i++;
    }
    if (i === start) return undefined;
  } else {
    const start = i;
    while (isDigit(text.charAt(i))) i++;
    let digitsEnd = i;
    if (text.charAt(i) === '.' && isDigit(text.charAt(i + 1))) {
      isReal = true;
      i++;
      while (isDigit(text.charAt(i))) i++;
      digitsEnd = i;
    } else if (text.charAt(i) === '.' && i > start && (i + 1 === text.length || !isDigit(text.charAt(i + 1)))) {
      // `1.` is a double in PowerShell only when followed by nothing numeric; keep it simple: reject.
      return undefined;
    }
    if (digitsEnd === start) return undefined;
    if (lower.charAt(i) === 'e') {
      let j = i + 1;
      if (text.charAt(j) === '+' || text.charAt(j) === '-') j++;
      const expStart = j;
      while (isDigit(text.charAt(j))) j++;
      if (j > expStart) {
        isReal = true;
        i = j;
      }
    }
    value = Number(text.slice(start, i));
  }
  let type: NumberType = isReal ? 'double' : 'int';
  const rest = lower.slice(i);
  let suffix = rest;
  let multiplier = 1;
  for (const [name, factor] of Object.entries(MULTIPLIERS)) {
    if (rest.endsWith(name)) {
      multiplier = factor;
      suffix = rest.slice(0, rest.length - name.length);
      break;
    }
  }
  switch (suffix) {
    case '':
      break;
    case 'l':
      type = 'long';
      break;
    case 'd':
      type = 'decimal';
      break;
    case 'u':
    case 'ul':
    case 'n':
    case 's':
    case 'us':
    case 'y':
    case 'uy':
      if (isReal) return undefined;
      break;
    default:
      return undefined;
  }
  // A hex/binary literal without a type suffix that fits in 32 bits is an Int32 in two's
  // complement: 0xFFFFFFFF is -1 (about_Numeric_Literals).
  if (radix && suffix === '' && multiplier === 1 && value > INT32_MAX && value <= 0xffffffff) value -= 2 ** 32;
  value *= multiplier;
  if (negative) value = -value;
  if (!Number.isFinite(value)) return undefined;
  if (type === 'int' && (value > INT32_MAX || value < -INT32_MAX - 1)) type = Number.isSafeInteger(value) ? 'long' : 'double';
  if (type === 'int' && !Number.isInteger(value)) type = 'double';
  return { value, type };
}
