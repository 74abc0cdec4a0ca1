import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue } from '../../language/values.js';
import type { Block } from '../../messages/model.js';
import { findCommands, renderHelp, renderParameterHelp, renderSyntax, type HelpView } from '../../language/index.js';
import { type ExecContext, safePost } from '../context.js';
import { asBool, asString, asStrings } from '../value-helpers.js';

/**
 * Get-Help NAME [-Detailed | -Full | -Parameter P]: rendered by the language module from the
 * same definitions the binder uses. Without a name, the help of Get-Help itself.
 */
export async function getHelp(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const name = asString(call.parameters.Name) ?? 'Get-Help';
  const parameters = asStrings(call.parameters.Parameter);
  const view: HelpView = asBool(call.parameters.Full) ? 'full' : asBool(call.parameters.Detailed) ? 'detailed' : 'default';
  const text = parameters.length > 0 ? renderParameterHelp(name, parameters) : renderHelp(name, view);
  if (ctx.display) await safePost(ctx, { blocks: [{ kind: 'code', text }] });
  return text;
}

/**
 * Get-Command [-Name N] [-Verb V] [-Noun N] [-Syntax]: the commands the bot understands as a
 * table, or with -Syntax their syntax lines (one per parameter set).
 */
export async function getCommand(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const names = asStrings(call.parameters.Name);
  const verbs = asStrings(call.parameters.Verb);
  const nouns = asStrings(call.parameters.Noun);
  const found = findCommands({
    ...(names.length > 0 ? { names } : {}),
    ...(verbs.length > 0 ? { verbs } : {}),
    ...(nouns.length > 0 ? { nouns } : {}),
  });
  if (asBool(call.parameters.Syntax)) {
    const text = found.map((c) => renderSyntax(c.name)).join('\n\n');
    if (ctx.display && text !== '') await safePost(ctx, { blocks: [{ kind: 'code', text }] });
    return text;
  }
  const table: Block = {
    kind: 'table',
    columns: ['CommandType', 'Name', 'Synopsis'],
    rows: found.map((c) => ['Cmdlet', c.name, c.synopsis]),
  };
  if (ctx.display && found.length > 0) await safePost(ctx, { blocks: [table] });
  return found.map((c) => c.name);
}
