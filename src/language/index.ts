import { ChatOpsError } from '../errors.js';
import { clip } from './conversion.js';
import { parseScript as parse } from './parser.js';
import { IncompleteInputError } from './parse-error.js';
import { bindStatement as bind, bindPipelineInput as bindInput } from './binder.js';
import type { BindContext } from './evaluate.js';
import type { ParsedScript, ParsedStatement } from './ast.js';
import type { BoundCall, BoundStatement } from './bound-call.js';
import type { PsValue } from './values.js';

/**
 * The command language: chat text -> bound PowerShell cmdlet calls, or a ChatOpsError whose
 * `code` is PowerShell's error id (parse errors, binding errors) or `NotSupported`.
 * Imports no platform library.
 */

export type { BindContext } from './evaluate.js';
export type { ParsedScript, ParsedStatement, ExpressionNode, CommandNode, CommandElement } from './ast.js';
export type { BoundCall, BoundStatement } from './bound-call.js';
export type * from './values.js';
export {
  renderHelp,
  renderParameterHelp,
  renderSyntax,
  renderExamples,
  renderOverview,
  findCommands,
  cmdletNames,
  resolveCmdletName,
} from './help.js';
export type { HelpView, CommandSummary } from './help.js';
export { MAX_SCRIPT_BYTES } from './parse-error.js';
export {
  completeCommandName,
  completeParameterName,
  isSwitchParameter,
  positionalParameterNames,
  resolveParameterName,
} from './completion.js';

/**
 * Whether `text` stops where more lines could complete it (an open `{`, `(`, `@(`, `@{`, string
 * or here-string, a trailing backtick, pipe or comma): PowerShell's IncompleteInput. A host
 * continues such input at `>>`; complete input (valid or not) is run, or its error reported.
 */
export function isIncompleteInput(text: string): boolean {
  try {
    parse(text);
    return false;
  } catch (e) {
    return e instanceof IncompleteInputError;
  }
}

/** Parses a message (one or more lines / `;`-separated statements). Throws ChatOpsError. */
export function parseScript(text: string): ParsedScript {
  return parse(text);
}

/**
 * Binds one statement against the channel's variables. `context.evaluate` runs subexpressions
 * such as `(Get-Agent -Tag role=web)`. An undefined `$x` is `$null`, as in PowerShell.
 * Calls after the first in a pipeline (and after a leading `$j |`) are bound expecting pipeline
 * input: finish them per input object with `bindPipelineInput`.
 */
export function bindStatement(statement: ParsedStatement, context: BindContext): Promise<BoundStatement> {
  return bind(statement, context);
}

/** Binds one pipeline input object (job/session/agent reference, number, string) to a call. */
export function bindPipelineInput(call: BoundCall, input: PsValue): BoundCall {
  return bindInput(call, input);
}

/**
 * Parses `text` and binds every statement in order. Pure value assignments (`$a = 'x','y'`)
 * update a local copy of the variables so later statements see them. Assignments from cmdlet
 * calls (`$s = New-PSSession web1`) only get a value when the runtime runs them, so a later
 * statement of the same message that reads such a variable cannot be bound here: that throws
 * code `DependsOnEarlierCommand`. A runtime executing a message should therefore use
 * `parseScript` once, then `bindStatement` for each statement right before running it.
 */
export async function parseAndBind(text: string, context: BindContext): Promise<BoundStatement[]> {
  const script = parse(text);
  const variables = new Map<string, PsValue>(context.variables);
  const fromCommands = new Set<string>();
  const local: BindContext = { variables, evaluate: (call) => context.evaluate(call) };
  const result: BoundStatement[] = [];
  for (const [index, statement] of script.statements.entries()) {
    const dependency = statement.variables.find((v) => fromCommands.has(v));
    if (dependency !== undefined) {
      throw new ChatOpsError(
        'DependsOnEarlierCommand',
        `Statement ${index + 1} ('${clip(statement.text)}') uses $${clip(dependency)}, which an earlier command of this message assigns; it can only be bound after that command ran.`,
        { target: dependency },
      );
    }
    const bound = await bind(statement, local);
    if (bound.assignTo !== undefined) {
      if (bound.pipeline.length === 0) {
        variables.set(bound.assignTo, bound.value ?? null);
        fromCommands.delete(bound.assignTo);
      } else {
        fromCommands.add(bound.assignTo);
      }
    }
    result.push(bound);
  }
  return result;
}
