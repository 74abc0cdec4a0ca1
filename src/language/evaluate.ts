import { ChatOpsError } from '../errors.js';
import type { ExpressionNode, ParsedStatement } from './ast.js';
import type { BoundCall } from './bound-call.js';
import { clip, toPsString } from './conversion.js';
import type { PsValue, Variables } from './values.js';

/** Turns parsed expressions into values: variables, @( ), @{ }, ( Get-Agent ... ). */

export interface BindContext {
  /** The channel's variables, names lower-cased. */
  variables: Variables;
  /** Runs a subexpression's cmdlet (e.g. Get-Agent) in the runtime and returns its output. */
  evaluate(call: BoundCall): Promise<PsValue>;
}

export interface Evaluated {
  value: PsValue;
  /** Set when the value is `$null` because the variable is not defined in the channel. */
  undefinedVariable?: string;
}

/** Binds a one-command statement found inside ( ) or @( ); provided by the binder (no import cycle). */
export type CommandBinder = (statement: ParsedStatement, context: BindContext, asValue?: boolean) => Promise<BoundCall>;

export function lookupVariable(name: string, variables: Variables): Evaluated {
  const colon = name.indexOf(':');
  if (colon >= 0) {
    const scope = name.slice(0, colon);
    if (scope === 'using') {
      throw new ChatOpsError(
        'UsingWithoutInvokeCommand',
        'A Using variable cannot be retrieved. A Using variable can be used only with Invoke-Command, Start-Job, or InlineScript in the script workflow. When it is used with Invoke-Command, the Using variable is valid only if the script block is invoked on a remote computer.',
        { target: name },
      );
    }
    if (scope === 'env') {
      throw new ChatOpsError(
        'NotSupported',
        `$${clip(name)} is not supported: the bot's environment variables are not available to chat.`,
        {
          target: name,
        },
      );
    }
    throw new ChatOpsError('NotSupported', `$${clip(name)} is not supported: only channel variables ($name) can be read.`, {
      target: name,
    });
  }
  const value = variables.get(name);
  if (value === undefined) return { value: null, undefinedVariable: name };
  return { value };
}

export async function evaluateExpression(node: ExpressionNode, context: BindContext, bindCommand: CommandBinder): Promise<Evaluated> {
  switch (node.kind) {
    case 'literal':
      return { value: node.value };
    case 'variable':
      return lookupVariable(node.name, context.variables);
    case 'expandable': {
      let out = '';
      for (const part of node.parts) {
        if (typeof part === 'string') out += part;
        else if (part.variable === 'true') out += 'True';
        else if (part.variable === 'false') out += 'False';
        else if (part.variable !== 'null') out += toPsString(lookupVariable(part.variable, context.variables).value);
      }
      return { value: out };
    }
    case 'array': {
      const items: PsValue[] = [];
      for (const item of node.items) items.push((await evaluateExpression(item, context, bindCommand)).value);
      return { value: items };
    }
    case 'arrayExpression': {
      const items: PsValue[] = [];
      for (const statement of node.statements) {
        const value = await evaluateStatementValue(statement, context, bindCommand);
        if (Array.isArray(value)) items.push(...value);
        else items.push(value);
      }
      return { value: items };
    }
    case 'subExpression': {
      const items: PsValue[] = [];
      for (const statement of node.statements) {
        const value = await evaluateStatementValue(statement, context, bindCommand);
        if (Array.isArray(value)) items.push(...value);
        else items.push(value);
      }
      return { value: items.length === 0 ? null : items.length === 1 ? (items[0] as PsValue) : items };
    }
    case 'hashtable': {
      const entries: Array<{ key: string; value: PsValue }> = [];
      for (const entry of node.entries) {
        entries.push({ key: entry.key, value: await evaluateStatementValue(entry.value, context, bindCommand, true) });
      }
      return { value: { kind: 'hashtable', entries } };
    }
    case 'paren': {
      if (node.statement.commands.length === 0 && node.statement.head !== undefined) {
        return evaluateExpression(node.statement.head, context, bindCommand);
      }
      return { value: await evaluateStatementValue(node.statement, context, bindCommand) };
    }
  }
}

/** The value of a statement nested in ( ), @( ) or a hashtable entry. */
export async function evaluateStatementValue(
  statement: ParsedStatement,
  context: BindContext,
  bindCommand: CommandBinder,
  asValue = false,
): Promise<PsValue> {
  if (statement.assignTo !== undefined) {
    throw new ChatOpsError('NotSupported', 'Assignments are only supported at the start of a line.', { target: statement.text });
  }
  if (statement.commands.length === 0) {
    if (statement.head === undefined) return null;
    return (await evaluateExpression(statement.head, context, bindCommand)).value;
  }
  if (statement.commands.length > 1 || statement.head !== undefined) {
    throw new ChatOpsError(
      'NotSupported',
      `Only a single command is supported inside ( ): '${statement.text}'. Assign the pipeline to a variable on its own line first.`,
      { target: statement.text },
    );
  }
  const call = await bindCommand(statement, context, asValue);
  return context.evaluate(call);
}
