import type { CommandElement, CommandNode, ExpressionNode, ParsedScript, ParsedStatement } from './ast.js';
import { clip, incompleteInput, MAX_EXPRESSION_NESTING, MAX_SCRIPT_BYTES, nestingTooDeep, parseError } from './parse-error.js';
import {
  Scanner,
  isArgumentTerminator,
  isBlank,
  isDash,
  isDigit,
  isDoubleQuote,
  isLetter,
  isNewline,
  isParameterNameTerminator,
  isQuote,
  isSingleQuote,
  isVariableChar,
  parseNumberLiteral,
} from './tokenizer.js';
import type { PsValue } from './values.js';

/**
 * Recursive-descent parser for the command language. Recursion only happens for ( ), @( ) and
 * @{ } and is limited to MAX_EXPRESSION_NESTING; script blocks are scanned iteratively. Every
 * loop advances the scanner, so parsing is linear in the input length.
 */

/** Where the statement being parsed ends. */
type Context = 'top' | 'paren' | 'array' | 'hash';

export function parseScript(text: string): ParsedScript {
  if (typeof text !== 'string') throw parseError('EmptyCommand', 'The command is empty.');
  if (text.length > MAX_SCRIPT_BYTES || Buffer.byteLength(text, 'utf8') > MAX_SCRIPT_BYTES) {
    throw parseError(
      'LineTooLong',
      `The command is ${Buffer.byteLength(text, 'utf8')} bytes long; the limit is ${MAX_SCRIPT_BYTES} bytes (40 KB).`,
    );
  }
  const parser = new Parser(text);
  const statements = parser.parseStatements('top');
  if (statements.length === 0) throw parseError('EmptyCommand', 'The command is empty: type a command such as Get-Help.');
  return { statements };
}

/** A numeric literal inside an array: its value, without the typed text (`007` -> 7). */
function plainNumberItem(item: ExpressionNode): ExpressionNode {
  const v = item.kind === 'literal' ? item.value : undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v.kind !== 'number') return item;
  return literal(numberValue(v.value, v.numberType ?? 'int', String(v.value)), item.text);
}

function literal(value: PsValue, text: string): ExpressionNode {
  return { kind: 'literal', value, text };
}

function numberValue(value: number, type: string, text: string): PsValue {
  const plainInt = type === 'int' && String(value) === text;
  const plainDouble = type === 'double' && String(value) === text && !Number.isInteger(value);
  if (plainInt || plainDouble) return value;
  return { kind: 'number', value, text, numberType: type as 'int' | 'long' | 'double' | 'decimal' };
}

class Parser {
  private readonly s: Scanner;
  private depth = 0;
  /** End of the last token read, so statement and command texts exclude trailing comments. */
  private lastEnd = 0;
  /** Variables read by the statement being parsed (top-level statements only). */
  private variables: Set<string> = new Set();

  constructor(private readonly text: string) {
    this.s = new Scanner(text);
  }

  private enter(): void {
    if (++this.depth > MAX_EXPRESSION_NESTING) throw nestingTooDeep(MAX_EXPRESSION_NESTING);
  }
  private leave(): void {
    this.depth--;
  }

  private unexpected(): never {
    const s = this.s;
    let end = s.pos + 1;
    while (end < this.text.length && end - s.pos < 40 && !isArgumentTerminator(this.text.charAt(end))) end++;
    const token = this.text.slice(s.pos, end);
    throw parseError('UnexpectedToken', `Unexpected token '${token}' in expression or statement.`, token);
  }

  /** Statements separated by newlines or `;` until the context's closing character. */
  parseStatements(context: Context): ParsedStatement[] {
    const s = this.s;
    const statements: ParsedStatement[] = [];
    for (;;) {
      s.skipBlanks(true);
      while (s.peek() === ';') {
        s.pos++;
        s.skipBlanks(true);
      }
      if (s.atEnd()) return statements;
      const c = s.peek();
      if (context === 'array' && c === ')') return statements;
      if (c === ')' || c === '}') this.unexpected();
      // `| Get-Job`: PowerShell sees an empty first element of a pipeline.
      if (c === '|' && s.peek(1) !== '|') throw parseError('EmptyPipeElement', 'An empty pipe element is not allowed.');
      statements.push(this.parseStatement(context));
      s.skipBlanks(false);
      const next = s.peek();
      if (next === ';' || isNewline(next) || s.atEnd()) continue;
      if (context === 'array' && next === ')') return statements;
      this.unexpected();
    }
  }

  private parseStatement(context: Context): ParsedStatement {
    const s = this.s;
    const outer = this.variables;
    if (context === 'top') this.variables = new Set();
    const start = s.pos;
    const statement: ParsedStatement = { text: '', commands: [], variables: [] };
    if (s.peek() === '$' && context !== 'paren') {
      const save = s.pos;
      const name = s.readVariableName();
      s.skipBlanks(false);
      if (s.peek() === '=' && s.peek(1) !== '=') {
        s.pos++;
        statement.assignTo = assignmentTarget(name);
        s.skipBlanks(true);
        if (this.atStatementEnd(context)) {
          throw (s.atEnd() ? incompleteInput : parseError)(
            'ExpectedValueExpression',
            "You must provide a value expression following the '=' operator.",
          );
        }
      } else {
        s.pos = save;
      }
    }
    this.parsePipeline(statement, context);
    statement.text = this.text.slice(start, Math.max(start, this.lastEnd)).trim();
    statement.variables = [...this.variables];
    if (context === 'top') this.variables = outer;
    else for (const v of this.variables) outer.add(v);
    return statement;
  }

  private atStatementEnd(context: Context): boolean {
    const c = this.s.peek();
    if (c === '' || c === ';' || isNewline(c) || c === '|') return true;
    if ((context === 'paren' || context === 'array') && c === ')') return true;
    if (context === 'hash' && c === '}') return true;
    return false;
  }

  private parsePipeline(statement: ParsedStatement, context: Context): void {
    const s = this.s;
    if (this.isCommandStart()) {
      statement.commands.push(this.parseCommand(context));
    } else {
      statement.head = this.parseExpression(context);
    }
    for (;;) {
      s.skipBlanks(false);
      if (s.peek() !== '|') return;
      if (s.peek(1) === '|') {
        throw parseError('NotSupported', "The pipeline chain operator '||' is not supported; put the commands on separate lines.", '||');
      }
      s.pos++;
      s.skipBlanks(true);
      if (this.atStatementEnd(context)) {
        // A pipe ending the input: the next line holds the rest of the pipeline.
        throw (s.atEnd() ? incompleteInput : parseError)('EmptyPipeElement', 'An empty pipe element is not allowed.');
      }
      if (!this.isCommandStart()) {
        throw parseError('ExpressionsMustBeFirstInPipeline', 'Expressions are only allowed as the first element of a pipeline.');
      }
      statement.commands.push(this.parseCommand(context));
    }
  }

  /** In expression position, does a command name start here (rather than a value)? */
  private isCommandStart(): boolean {
    const s = this.s;
    const c = s.peek();
    if (c === '' || isQuote(c) || c === '$' || c === '@' || c === '(' || c === '{' || c === ',') return false;
    if (isDigit(c)) return false;
    if (c === '.' && isDigit(s.peek(1))) return false;
    if (isDash(c)) return false;
    if (c === '&') {
      throw parseError(
        'NotSupported',
        s.peek(1) === '&'
          ? "The pipeline chain operator '&&' is not supported; put the commands on separate lines."
          : "The call operator '&' is not supported; type the command name directly.",
        '&',
      );
    }
    if (c === ')' || c === '}' || c === ';' || c === '|' || isNewline(c)) return false;
    return true;
  }

  private parseCommand(context: Context): CommandNode {
    const s = this.s;
    const start = s.pos;
    const name = this.readBareword().text;
    this.lastEnd = s.pos;
    const elements: CommandElement[] = [];
    let endOfParameters = false;
    for (;;) {
      s.skipBlanks(false);
      const c = s.peek();
      if (c === '' || c === ';' || c === '|' || isNewline(c)) break;
      if (c === ')') {
        if (context === 'paren' || context === 'array') break;
        this.unexpected();
      }
      if (c === '}') {
        if (context === 'hash') break;
        this.unexpected();
      }
      if (c === '&') this.isCommandStart();
      if (c === ',') {
        // `$x = web1,web2`: the first bare word is a command name, so the comma has no argument before it.
        const word = name.length > 200 ? `${name.slice(0, 200)}…` : name;
        const hint = elements.length === 0 ? ` If '${word}' is meant as text, quote the values: '${word}',...` : '';
        throw parseError('MissingArgument', `Missing argument in parameter list.${hint}`);
      }
      if (c === '>' || (c === '<' && s.peek(1) !== '#')) {
        throw parseError('NotSupported', 'Redirection operators are not supported; results are posted to the channel.', c);
      }
      const elementStart = s.pos;
      if (c === '@' && isVariableChar(s.peek(1))) {
        elements.push(this.readSplat());
        this.lastEnd = s.pos;
        continue;
      }
      if (!endOfParameters && isDash(c)) {
        const next = s.peek(1);
        if (isDash(next) && (isArgumentTerminator(s.peek(2)) || s.peek(2) === '%')) {
          if (s.peek(2) === '%') throw parseError('NotSupported', "The stop-parsing token '--%' is not supported.", '--%');
          s.pos += 2;
          endOfParameters = true;
          continue;
        }
        if (isLetter(next) || next === '_' || next === '?') {
          const parameter = this.tryReadParameter(context);
          if (parameter !== undefined) {
            elements.push(parameter);
            this.lastEnd = s.pos;
            continue;
          }
          s.pos = elementStart;
        }
      }
      const value = this.parseCommandArgument(context);
      elements.push({ kind: 'argument', value, text: this.text.slice(elementStart, s.pos) });
      this.lastEnd = s.pos;
    }
    return { name, elements, text: this.text.slice(start, this.lastEnd).trim() };
  }

  /** `@name` as a command argument (scope prefixes as in `$global:name` are allowed). */
  private readSplat(): CommandElement {
    const s = this.s;
    const start = s.pos;
    s.pos++;
    while (isVariableChar(s.peek()) || (s.peek() === ':' && isVariableChar(s.peek(1)))) s.pos++;
    const raw = this.text.slice(start + 1, s.pos);
    const text = this.text.slice(start, s.pos);
    if (s.peek() === '.' || s.peek() === '[') splattingNotPermitted(text, raw);
    const save = s.pos;
    s.skipBlanks(false);
    if (s.peek() === ',') splattingInList(text);
    s.pos = save;
    if (!isArgumentTerminator(s.peek())) this.unexpected();
    return { kind: 'splat', variable: this.noteVariable(raw), text };
  }

  /** At a dash followed by a letter: a parameter token, or undefined when it is a bareword (quote inside). */
  private tryReadParameter(context: Context): CommandElement | undefined {
    const s = this.s;
    const start = s.pos;
    s.pos++;
    const nameStart = s.pos;
    while (!isParameterNameTerminator(s.peek())) {
      if (isQuote(s.peek())) {
        s.pos = start;
        return undefined;
      }
      s.pos++;
    }
    const name = this.text.slice(nameStart, s.pos);
    if (s.peek() !== ':') {
      if (s.peek() === '.' || s.peek() === '[') {
        // `-Name.x`: PowerShell ends the name here; the rest is the next argument.
      }
      return { kind: 'parameter', name, text: this.text.slice(start, s.pos), colon: false };
    }
    s.pos++;
    const text = this.text.slice(start, s.pos);
    s.skipBlanks(false);
    const c = s.peek();
    if (c === '' || c === ';' || c === '|' || isNewline(c) || c === ')' || c === '}' || c === ',') {
      throw parseError('ParameterRequiresArgument', `Parameter ${clip(text)} requires an argument.`, name);
    }
    const colonValue = this.parseCommandArgument(context);
    return { kind: 'parameter', name, text, colon: true, colonValue };
  }

  /** One command argument: a primary, or a comma list of primaries. */
  private parseCommandArgument(context: Context): ExpressionNode {
    const s = this.s;
    const start = s.pos;
    const first = this.parseCommandPrimary(context);
    const items = [first];
    for (;;) {
      const save = s.pos;
      s.skipBlanks(false);
      if (s.peek() !== ',') {
        s.pos = save;
        break;
      }
      s.pos++;
      s.skipBlanks(true);
      const c = s.peek();
      if (c === '@' && isVariableChar(s.peek(1))) {
        let end = s.pos + 1;
        while (end < this.text.length && isVariableChar(this.text.charAt(end))) end++;
        splattingInList(this.text.slice(s.pos, end));
      }
      if (c === '' || c === ';' || c === '|' || c === ')' || c === '}' || c === ',') {
        throw (c === '' ? incompleteInput : parseError)('MissingExpression', "Missing expression after ',' in pipeline element.", ',');
      }
      items.push(this.parseCommandPrimary(context));
    }
    if (items.length === 1) return first;
    // Only a lone numeric argument keeps its typed text: in `-Name 007,0x10` the elements are
    // plain numbers (PowerShell binds '7','16').
    return { kind: 'array', items: items.map(plainNumberItem), text: this.text.slice(start, s.pos) };
  }

  private parseCommandPrimary(context: Context): ExpressionNode {
    const s = this.s;
    const c = s.peek();
    const start = s.pos;
    if (isSingleQuote(c)) return literal(s.readSingleQuoted(), this.text.slice(start, s.pos));
    if (isDoubleQuote(c)) return this.expandable(s.readDoubleQuoted(), start);
    if (c === '@') return this.parseAt(context);
    if (c === '(') return this.parseParen();
    if (c === '{') {
      const block = s.readScriptBlock();
      return literal(block, this.text.slice(start, s.pos));
    }
    if (c === '$' && s.peek(1) === '(') return this.parseSubExpression();
    if (c === '$') {
      const variable = this.tryReadVariableArgument();
      if (variable !== undefined) return variable;
    }
    const word = this.readBareword();
    if (word.pure) {
      const number = parseNumberLiteral(word.text);
      if (number !== undefined && !isDash(word.text.charAt(0)) && word.text.charAt(0) !== '+') {
        return literal(numberValue(number.value, number.type, word.text), word.text);
      }
    }
    if (word.parts.some((p) => typeof p !== 'string')) {
      return { kind: 'expandable', parts: word.parts, text: this.text.slice(start, s.pos) };
    }
    return literal(word.parts.join(''), this.text.slice(start, s.pos));
  }

  /** `$name` as a whole argument; undefined when more characters follow (then it is a bareword). */
  private tryReadVariableArgument(): ExpressionNode | undefined {
    const s = this.s;
    const start = s.pos;
    const next = s.peek(1);
    if (!(isVariableChar(next) || next === '{' || next === '$' || next === '^')) return undefined;
    const raw = s.readVariableName();
    const c = s.peek();
    if (c === '.' || c === '[') {
      throw parseError(
        'NotSupported',
        `Member access and indexing ('${clip(this.text.slice(start, s.pos))}${c}') are not supported; use the variable as a whole.`,
        this.text.slice(start, s.pos),
      );
    }
    if (!isArgumentTerminator(c)) {
      s.pos = start;
      return undefined;
    }
    return this.variableNode(raw, this.text.slice(start, s.pos));
  }

  private variableNode(raw: string, text: string): ExpressionNode {
    const lower = raw.toLowerCase();
    if (lower === 'true') return literal(true, text);
    if (lower === 'false') return literal(false, text);
    if (lower === 'null') return literal(null, text);
    const name = variableName(raw);
    this.variables.add(name);
    return { kind: 'variable', name, text };
  }

  private expandable(parts: Array<string | { variable: string }>, start: number): ExpressionNode {
    const text = this.text.slice(start, this.s.pos);
    const normalized = parts.map((p) => (typeof p === 'string' ? p : { variable: this.noteVariable(p.variable) }));
    if (!normalized.some((p) => typeof p !== 'string')) return literal(normalized.join(''), text);
    return { kind: 'expandable', parts: normalized, text };
  }

  private noteVariable(raw: string): string {
    const lower = raw.toLowerCase();
    if (lower === 'true' || lower === 'false' || lower === 'null') return lower;
    const name = variableName(raw);
    this.variables.add(name);
    return name;
  }

  /**
   * A generic token (bareword): ends at whitespace or `{ } ( ) ; , | &`. Backtick escapes,
   * embedded quoted segments (`a"b c"d`) and `$name` expansion are processed. `pure` is true when
   * the text is exactly as typed (so it may be a number).
   */
  private readBareword(): { text: string; parts: Array<string | { variable: string }>; pure: boolean } {
    const s = this.s;
    const start = s.pos;
    const parts: Array<string | { variable: string }> = [];
    let literalText = '';
    let pure = true;
    while (!isArgumentTerminator(s.peek())) {
      const c = s.peek();
      if (c === '>' || c === '<') {
        // `2>$null`, `a>b`: redirection (and `<`, reserved) would silently change the meaning.
        throw parseError(
          'NotSupported',
          'Redirection operators are not supported; results are posted to the channel. Quote the text if > or < is part of a value.',
          c,
        );
      }
      if (c === '`') {
        pure = false;
        literalText += s.readEscape();
      } else if (isSingleQuote(c) && s.pos > start) {
        pure = false;
        literalText += s.readSingleQuoted();
      } else if (isDoubleQuote(c) && s.pos > start) {
        pure = false;
        for (const p of s.readDoubleQuoted()) {
          if (typeof p === 'string') literalText += p;
          else {
            if (literalText !== '') parts.push(literalText);
            literalText = '';
            parts.push({ variable: this.noteVariable(p.variable) });
          }
        }
      } else if (c === '$') {
        // Also at the start: `$PSHOME\foo`, `${x}y` are one expandable word (tryReadVariableArgument
        // already took a `$name` that stands alone).
        const variable = s.tryReadVariableInString();
        if (variable === undefined) {
          literalText += '$';
          s.pos++;
        } else {
          pure = false;
          if (literalText !== '') parts.push(literalText);
          literalText = '';
          parts.push({ variable: this.noteVariable(variable) });
        }
      } else {
        literalText += c;
        s.pos++;
      }
    }
    if (literalText !== '' || parts.length === 0) parts.push(literalText);
    if (s.pos === start) this.unexpected();
    return { text: this.text.slice(start, s.pos), parts, pure };
  }

  /** `@(`, `@{`, `@'`/`@"` here-strings; `@name` splatting is refused. */
  private parseAt(context: Context): ExpressionNode {
    const s = this.s;
    const start = s.pos;
    const next = s.peek(1);
    if (next === '(') {
      this.enter();
      s.pos += 2;
      const statements = this.parseStatements('array');
      if (s.peek() !== ')') {
        throw (s.atEnd() ? incompleteInput : parseError)('MissingEndParenthesisInSubexpression', "Missing closing ')' in subexpression.");
      }
      s.pos++;
      this.leave();
      return { kind: 'arrayExpression', statements, text: this.text.slice(start, s.pos) };
    }
    if (next === '{') return this.parseHashtable();
    if (isQuote(next)) {
      const value = s.readHereString();
      if (typeof value === 'string') return literal(value, this.text.slice(start, s.pos));
      return this.expandable(value, start);
    }
    if (isVariableChar(next)) {
      // Command arguments are read by readSplat; anywhere else `@name` is PowerShell's parse error.
      let end = start + 1;
      while (end < this.text.length && isVariableChar(this.text[end] as string)) end++;
      splattingNotPermitted(this.text.slice(start, end), this.text.slice(start + 1, end));
    }
    void context;
    this.unexpected();
  }

  /** `$( ... )` as an argument or value. */
  private parseSubExpression(): ExpressionNode {
    const s = this.s;
    const start = s.pos;
    this.enter();
    s.pos += 2;
    const statements = this.parseStatements('array');
    if (s.peek() !== ')') {
      throw (s.atEnd() ? incompleteInput : parseError)('MissingEndParenthesisInSubexpression', "Missing closing ')' in subexpression.");
    }
    s.pos++;
    this.leave();
    return { kind: 'subExpression', statements, text: this.text.slice(start, s.pos) };
  }

  private parseHashtable(): ExpressionNode {
    const s = this.s;
    const start = s.pos;
    this.enter();
    s.pos += 2;
    const entries: Array<{ key: string; value: ParsedStatement }> = [];
    const keys = new Set<string>();
    for (;;) {
      s.skipBlanks(true);
      while (s.peek() === ';') {
        s.pos++;
        s.skipBlanks(true);
      }
      if (s.atEnd()) throw incompleteInput('MissingEndCurlyBrace', "Missing closing '}' in statement block or type definition.");
      if (s.peek() === '}') {
        s.pos++;
        break;
      }
      const key = this.readHashKey();
      s.skipBlanks(false);
      if (s.peek() !== '=') {
        throw parseError('MissingEqualsInHashLiteral', "Missing '=' operator after key in hash literal.", key);
      }
      s.pos++;
      s.skipBlanks(true);
      if (s.atEnd() || s.peek() === '}' || s.peek() === ';') {
        throw (s.atEnd() ? incompleteInput : parseError)(
          'MissingStatementAfterAssignmentInHashLiteral',
          `Missing statement after '=' in hash literal.`,
          key,
        );
      }
      const lower = key.toLowerCase();
      if (keys.has(lower)) throw parseError('DuplicateKeyInHashLiteral', `Duplicate keys '${key}' are not allowed in hash literals.`, key);
      keys.add(lower);
      const value = this.parseStatement('hash');
      if (value.assignTo !== undefined) this.unexpected();
      entries.push({ key, value });
      s.skipBlanks(false);
      const c = s.peek();
      if (c === ';' || isNewline(c) || c === '}') continue;
      if (s.atEnd()) continue;
      throw parseError('MissingEndCurlyBrace', "Missing closing '}' in statement block or type definition.");
    }
    this.leave();
    return { kind: 'hashtable', entries, text: this.text.slice(start, s.pos) };
  }

  private readHashKey(): string {
    const s = this.s;
    const c = s.peek();
    const start = s.pos;
    // PowerShell evaluates a variable or expression key; keys here are names or text only, so such
    // a key is refused rather than kept as its source text.
    const expressionKey = (): never => {
      throw parseError(
        'NotSupported',
        `A variable or expression as a hashtable key (${clip(this.text.slice(start, s.pos))}) is not supported; write the key as a name or in single quotes.`,
      );
    };
    if (isSingleQuote(c)) return s.readSingleQuoted();
    if (isDoubleQuote(c)) {
      const parts = s.readDoubleQuoted();
      if (parts.some((p) => typeof p !== 'string')) expressionKey();
      return parts.join('');
    }
    if (c === '$' || c === '(' || c === '@') {
      while (!s.atEnd() && !isBlank(s.peek()) && s.peek() !== '=') s.pos++;
      expressionKey();
    }
    while (!s.atEnd()) {
      const k = s.peek();
      if (isBlank(k) || isNewline(k) || k === '=' || k === ';' || k === '}' || isQuote(k) || k === '{' || k === '(' || k === ')') break;
      s.pos++;
    }
    if (s.pos === start) this.unexpected();
    return this.text.slice(start, s.pos);
  }

  private parseParen(): ExpressionNode {
    const s = this.s;
    const start = s.pos;
    this.enter();
    s.pos++;
    s.skipBlanks(true);
    if (s.peek() === ')' || s.atEnd()) {
      if (s.atEnd()) throw incompleteInput('MissingEndParenthesisInExpression', "Missing closing ')' in expression.");
      throw parseError('ExpectedExpression', "An expression was expected after '('.");
    }
    const statement = this.parseStatement('paren');
    s.skipBlanks(true);
    if (s.peek() !== ')') {
      if (s.atEnd() || s.peek() === ';') {
        throw (s.atEnd() ? incompleteInput : parseError)('MissingEndParenthesisInExpression', "Missing closing ')' in expression.");
      }
      this.unexpected();
    }
    s.pos++;
    this.leave();
    return { kind: 'paren', statement, text: this.text.slice(start, s.pos) };
  }

  /** Expression mode: a comma list of values (used for assignments, pipeline input, ( ), @{ } values). */
  private parseExpression(context: Context): ExpressionNode {
    const s = this.s;
    const start = s.pos;
    const items = [this.parseExpressionPrimary()];
    for (;;) {
      const save = s.pos;
      s.skipBlanks(false);
      if (s.peek() !== ',') {
        s.pos = save;
        break;
      }
      s.pos++;
      s.skipBlanks(true);
      if (s.peek() === ',') {
        throw parseError('NotSupported', 'The unary comma operator (an array inside an array) is not supported; use @( ) for arrays.', ',');
      }
      if (this.atStatementEnd(context)) {
        throw (s.atEnd() ? incompleteInput : parseError)('MissingExpressionAfterToken', "Missing expression after ','.", ',');
      }
      items.push(this.parseExpressionPrimary());
    }
    this.lastEnd = s.pos;
    s.skipBlanks(false);
    if (!this.atStatementEnd(context)) {
      const c = s.peek();
      // `$a = 1 + 2`, `$a = $b -eq 1`: valid PowerShell the bot does not evaluate.
      if ('+-*/%!.['.includes(c) || isDash(c) || (c === '=' && s.peek(1) === '=')) {
        throw parseError(
          'NotSupported',
          'Operators are not supported: a value is a literal, a variable, an array, a hashtable or a command in parentheses.',
          c,
        );
      }
      this.unexpected();
    }
    if (items.length === 1) return items[0] as ExpressionNode;
    return { kind: 'array', items, text: this.text.slice(start, this.lastEnd).trim() };
  }

  private parseExpressionPrimary(): ExpressionNode {
    const s = this.s;
    const c = s.peek();
    const start = s.pos;
    if (isSingleQuote(c)) return literal(s.readSingleQuoted(), this.text.slice(start, s.pos));
    if (isDoubleQuote(c)) return this.expandable(s.readDoubleQuoted(), start);
    if (c === '@') return this.parseAt('paren');
    if (c === '(') return this.parseParen();
    if (c === '{') {
      const block = s.readScriptBlock();
      return literal(block, this.text.slice(start, s.pos));
    }
    if (c === '$' && s.peek(1) === '(') return this.parseSubExpression();
    if (c === '$') {
      const raw = s.readVariableName();
      const after = s.peek();
      if (after === '.' || after === '[') {
        throw parseError(
          'NotSupported',
          `Member access and indexing ('${clip(this.text.slice(start, s.pos))}${after}') are not supported; use the variable as a whole.`,
          this.text.slice(start, s.pos),
        );
      }
      return this.variableNode(raw, this.text.slice(start, s.pos));
    }
    if (isDigit(c) || (c === '.' && isDigit(s.peek(1))) || (isDash(c) && (isDigit(s.peek(1)) || s.peek(1) === '.'))) {
      let end = s.pos + 1;
      while (end < this.text.length && !isArgumentTerminator(this.text.charAt(end))) end++;
      const raw = this.text.slice(s.pos, end);
      const normalized = isDash(c) ? `-${raw.slice(1)}` : raw;
      const number = parseNumberLiteral(normalized);
      if (number === undefined) this.unexpected();
      s.pos = end;
      return literal(numberValue(number.value, number.type, normalized), raw);
    }
    this.unexpected();
  }
}

function splattingNotPermitted(text: string, name: string): never {
  throw parseError(
    'SplattingNotPermitted',
    `The splatting operator '@' cannot be used to reference variables in an expression. '${clip(text)}' can be used only as an argument to a command. To reference variables in an expression use '$${clip(name)}'.`,
    text,
  );
}

function splattingInList(text: string): never {
  throw parseError(
    'SplattingNotPermittedInArgumentList',
    `Splatted variables like '${clip(text)}' cannot be part of a comma-separated list of arguments.`,
    text,
  );
}

/** `$Using:x` keeps its scope so the binder can refuse it outside script blocks. */
function variableName(raw: string): string {
  const lower = raw.toLowerCase();
  const colon = lower.indexOf(':');
  if (colon < 0) return lower;
  const scope = lower.slice(0, colon);
  if (scope === 'global' || scope === 'local' || scope === 'script' || scope === 'private' || scope === 'variable') {
    return lower.slice(colon + 1);
  }
  return lower;
}

function assignmentTarget(raw: string): string {
  const name = variableName(raw);
  if (name.includes(':')) {
    throw parseError('NotSupported', `Cannot assign to $${raw}: only channel variables ($name) can be assigned.`, raw);
  }
  if (name === 'true' || name === 'false' || name === 'null') {
    throw parseError('VariableNotWritable', `Cannot overwrite variable ${name} because it is read-only or constant.`, name);
  }
  return name;
}
