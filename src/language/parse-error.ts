import { ChatOpsError } from '../errors.js';

/** Parse errors carry PowerShell's parser error id as `code` and its message text. */
export function parseError(code: string, message: string, target?: string): ChatOpsError {
  return new ChatOpsError(code, message, target === undefined ? undefined : { target });
}

/**
 * A parse error at the end of the input that more input could cure (an open `{`, `(`, `@(`,
 * `@{`, string or here-string, a trailing backtick or pipe): PowerShell's ParseError with
 * IncompleteInput set. An interactive host continues such a line at `>>` instead of reporting it.
 */
export class IncompleteInputError extends ChatOpsError {
  readonly incompleteInput = true;
}

export function incompleteInput(code: string, message: string, target?: string): IncompleteInputError {
  return new IncompleteInputError(code, message, target === undefined ? undefined : { target });
}

/** Long user text is cut in error messages so an error fits in a chat message. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

export const MAX_SCRIPT_BYTES = 40 * 1024;
/** Nesting of ( ), @( ), @{ } (recursive descent) before NestingTooDeep. */
export const MAX_EXPRESSION_NESTING = 32;
/** Nesting of braces/strings inside a script block (scanned iteratively). */
export const MAX_SCRIPT_BLOCK_NESTING = 256;

export function nestingTooDeep(limit: number): ChatOpsError {
  return parseError('NestingTooDeep', `The command is nested too deeply: more than ${limit} levels of brackets.`);
}
