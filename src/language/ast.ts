import type { PsValue } from './values.js';

/**
 * Parse tree of one message. Produced by `parseScript` (no variable values, no cmdlet lookups)
 * and consumed by `bindStatement`. Plain data, so a statement can be bound later, after the
 * runtime has executed the statements before it.
 */

export type ExpressionNode =
  /** Quoted strings, barewords, numbers, $true/$false/$null, script blocks. */
  | { kind: 'literal'; value: PsValue; text: string }
  /** `$name` (lower-cased, scope prefix removed). */
  | { kind: 'variable'; name: string; text: string }
  /** `"text $name"`, barewords with `$name` in them. */
  | { kind: 'expandable'; parts: Array<string | { variable: string }>; text: string }
  /** `a,b,c` */
  | { kind: 'array'; items: ExpressionNode[]; text: string }
  /** `@( ... )`: its statements' results, always an array. */
  | { kind: 'arrayExpression'; statements: ParsedStatement[]; text: string }
  /** `$( ... )`: its statements' results; one result stays a scalar, none is $null. */
  | { kind: 'subExpression'; statements: ParsedStatement[]; text: string }
  /** `@{ k = v; ... }` */
  | { kind: 'hashtable'; entries: Array<{ key: string; value: ParsedStatement }>; text: string }
  /** `( ... )`: one statement (an expression or one of our cmdlets). */
  | { kind: 'paren'; statement: ParsedStatement; text: string };

export type CommandElement =
  | {
      kind: 'parameter';
      /** Name as typed, without the dash (`Cn`, `comp`). */
      name: string;
      /** The token as typed, dash included (`–Cn:`). */
      text: string;
      /** `-Name:value` (or `-Name: value`); undefined when no colon. */
      colonValue?: ExpressionNode;
      colon: boolean;
    }
  | { kind: 'argument'; value: ExpressionNode; text: string }
  /**
   * `@name`: the variable's value splatted when the command is bound: a hashtable's entries
   * become named parameters, an array's elements positional arguments. `variable` is lower-cased.
   */
  | { kind: 'splat'; variable: string; text: string };

export interface CommandNode {
  /** The command name as typed (`icm`, `Invoke-Command`). */
  name: string;
  elements: CommandElement[];
  /** Source text of this command (for BoundCall.text). */
  text: string;
}

export interface ParsedStatement {
  /** Source text of the statement, trimmed. */
  text: string;
  /** `$name = ...` target, lower-cased, without `$`. */
  assignTo?: string;
  /** A leading expression: the whole statement when `commands` is empty, else pipeline input. */
  head?: ExpressionNode;
  /** Commands in pipeline order. */
  commands: CommandNode[];
  /** Lower-cased names of the variables this statement reads (not `$Using:` in script blocks). */
  variables: string[];
}

export interface ParsedScript {
  statements: ParsedStatement[];
}
