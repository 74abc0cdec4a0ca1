import type { Core, Invoker } from '../../src/core/ports.js';
import {
  completeCommandName,
  completeParameterName,
  isSwitchParameter,
  positionalParameterNames,
  resolveCmdletName,
  resolveParameterName,
} from '../../src/language/index.js';

/**
 * Tab completion for the console: cmdlet names and aliases in command position, the parameter
 * names of the cmdlet being typed after a dash, computer names the console may target after
 * -ComputerName (the core's autocomplete, as Slack and Discord use it), and job ids after the
 * job cmdlets' -Id. Nothing is offered inside strings and script blocks (the remote script).
 */

export interface Completion {
  /** The text from `start` to the cursor is replaced by one of the candidates. */
  start: number;
  candidates: string[];
}

export type Completer = (text: string, cursor: number) => Promise<Completion | undefined>;

/** What the word before the cursor is, as far as completion cares. */
export type CompletionContext =
  | { kind: 'command'; start: number; prefix: string }
  | { kind: 'parameter'; cmdlet: string; start: number; prefix: string }
  | { kind: 'argument'; cmdlet: string; parameter?: string; position: number; start: number; prefix: string };

interface Word {
  text: string;
  /** Separated from the word before it by a comma (`web1,web2`): the same argument. */
  afterComma: boolean;
}

export function consoleCompleter(core: Core, channel: string, user: Invoker): Completer {
  return async (text, cursor) => {
    const context = completionContext(text, cursor);
    if (!context) return undefined;
    if (context.kind === 'command') return { start: context.start, candidates: completeCommandName(context.prefix) };
    if (context.kind === 'parameter') {
      return { start: context.start, candidates: completeParameterName(context.cmdlet, context.prefix).map((p) => `-${p}`) };
    }
    const kind = argumentKind(context.cmdlet, context.parameter, context.position);
    if (kind === undefined) return undefined;
    return { start: context.start, candidates: await core.complete(channel, user, kind, context.prefix) };
  };
}

const JOB_CMDLETS = new Set(['Get-Job', 'Receive-Job', 'Wait-Job', 'Stop-Job', 'Remove-Job']);

/** Which of the core's autocomplete lists fits an argument: computers, job ids, or none. */
function argumentKind(cmdlet: string, parameter: string | undefined, position: number): 'computer' | 'job' | undefined {
  const name = resolveCmdletName(cmdlet);
  if (name === undefined) return undefined;
  const candidates = parameter !== undefined ? [parameter] : positionalParameterNames(name, position);
  if (candidates.includes('ComputerName')) return 'computer';
  if (JOB_CMDLETS.has(name) && candidates.includes('Id')) return 'job';
  return undefined;
}

/**
 * The context of the cursor in `text`: scans what is before it as the parser would in command
 * mode (quotes, script blocks, parentheses, statement separators), keeping the words of the
 * innermost statement. Undefined inside a string or a script block.
 */
export function completionContext(text: string, cursor: number): CompletionContext | undefined {
  const before = text.slice(0, cursor);
  const frames: Word[][] = [[]];
  let wordStart = -1;
  let afterComma = false;
  const top = (): Word[] => frames[frames.length - 1] as Word[];
  const endWord = (end: number): void => {
    if (wordStart < 0) return;
    const word = before.slice(wordStart, end);
    wordStart = -1;
    const words = top();
    // `$x = Get-Job`: the statement's command starts after the assignment.
    if (word === '=' && words.length === 1 && words[0]?.text.startsWith('$')) {
      words.length = 0;
      return;
    }
    words.push({ text: word, afterComma });
    afterComma = false;
  };
  const startWord = (at: number): void => {
    if (wordStart < 0) wordStart = at;
  };
  let i = 0;
  while (i < before.length) {
    const c = before.charAt(i);
    if (c === '`') {
      const next = before.charAt(i + 1);
      if (next === '\n' || next === '\r') {
        endWord(i);
        i += 2;
        continue;
      }
      startWord(i);
      i += 2;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = closingQuote(before, i);
      if (end === undefined) return undefined; // inside a string
      startWord(i);
      i = end + 1;
      continue;
    }
    if (c === '{') {
      if (wordStart >= 0 && before.slice(wordStart, i) === '@') {
        // @{ }: a hashtable, its values are statements.
        wordStart = -1;
        frames.push([]);
        i++;
        continue;
      }
      const end = closingBrace(before, i);
      if (end === undefined) return undefined; // inside a script block: the remote script
      endWord(i);
      startWord(i);
      i = end + 1;
      endWord(i);
      continue;
    }
    if (c === '(') {
      if (wordStart >= 0 && /^[$@]$/.test(before.slice(wordStart, i))) wordStart = -1;
      else endWord(i);
      frames.push([]);
      i++;
      continue;
    }
    if (c === ')' || c === '}') {
      endWord(i);
      if (frames.length > 1) frames.pop();
      top().push({ text: '(...)', afterComma });
      afterComma = false;
      i++;
      continue;
    }
    if (c === ';' || c === '|' || c === '\n' || c === '\r' || c === '&') {
      endWord(i);
      top().length = 0;
      afterComma = false;
      i++;
      continue;
    }
    if (c === ',') {
      endWord(i);
      afterComma = true;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t') {
      endWord(i);
      i++;
      continue;
    }
    startWord(i);
    i++;
  }
  const start = wordStart >= 0 ? wordStart : cursor;
  const prefix = before.slice(start);
  const words = top();
  const first = words[0];
  if (first === undefined) {
    if (prefix === '' || /^[$@'"0-9.(-]/.test(prefix)) return undefined;
    return { kind: 'command', start, prefix };
  }
  const cmdlet = first.text;
  if (prefix.startsWith('-') && !afterComma) {
    const colon = prefix.indexOf(':');
    if (colon < 0) return { kind: 'parameter', cmdlet, start, prefix: prefix.slice(1) };
    const parameter = resolveParameterName(cmdlet, prefix.slice(1, colon)) ?? prefix.slice(1, colon);
    return { kind: 'argument', cmdlet, parameter, position: -1, start: start + colon + 1, prefix: prefix.slice(colon + 1) };
  }
  // The argument this word belongs to: back over a comma list to its first element.
  let k = words.length;
  if (afterComma) {
    k = words.length - 1;
    while (k > 0 && words[k]?.afterComma) k--;
  }
  const previous = words[k - 1];
  if (k > 1 && previous?.text.startsWith('-') && !previous.text.includes(':')) {
    const parameter = resolveParameterName(cmdlet, previous.text.slice(1));
    if (parameter !== undefined && !isSwitchParameter(resolveCmdletName(cmdlet) ?? cmdlet, parameter)) {
      return { kind: 'argument', cmdlet, parameter, position: -1, start, prefix };
    }
  }
  // A positional argument: count the arguments before it that no parameter took.
  let position = 0;
  for (let j = 1; j < k; j++) {
    const w = words[j] as Word;
    if (w.afterComma) continue;
    if (w.text.startsWith('-')) {
      const parameter = resolveParameterName(cmdlet, w.text.slice(1).split(':')[0] ?? '');
      const takesNext =
        !w.text.includes(':') && parameter !== undefined && !isSwitchParameter(resolveCmdletName(cmdlet) ?? cmdlet, parameter);
      if (takesNext) j++;
      while (takesNext && words[j + 1]?.afterComma) j++;
      continue;
    }
    position++;
  }
  return { kind: 'argument', cmdlet, position, start, prefix };
}

/** Index of the quote closing the string opened at `at`, or undefined. */
function closingQuote(text: string, at: number): number | undefined {
  const quote = text.charAt(at);
  let i = at + 1;
  while (i < text.length) {
    const c = text.charAt(i);
    if (quote === '"' && c === '`') {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (text.charAt(i + 1) === quote) {
        i += 2;
        continue;
      }
      return i;
    }
    i++;
  }
  return undefined;
}

/** Index of the brace closing the script block opened at `at` (strings skipped), or undefined. */
function closingBrace(text: string, at: number): number | undefined {
  let depth = 0;
  let i = at;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === "'" || c === '"') {
      const end = closingQuote(text, i);
      if (end === undefined) return undefined;
      i = end + 1;
      continue;
    }
    if (c === '`') {
      i += 2;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
    i++;
  }
  return undefined;
}

/** The longest prefix all candidates share (case-insensitively), in the first one's case. */
export function commonPrefix(candidates: readonly string[]): string {
  const first = candidates[0];
  if (first === undefined) return '';
  let n = first.length;
  for (const c of candidates) {
    let i = 0;
    while (i < n && i < c.length && c.charAt(i).toLowerCase() === first.charAt(i).toLowerCase()) i++;
    n = i;
  }
  return first.slice(0, n);
}
