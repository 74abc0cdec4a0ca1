import type { BoundCall } from '../../language/bound-call.js';
import type { PsValue } from '../../language/values.js';
import type { Block } from '../../messages/model.js';
import {
  findCommands,
  renderExamples,
  renderHelp,
  renderOverview,
  renderParameterHelp,
  renderSyntax,
  type HelpView,
} from '../../language/index.js';
import { answerAsker, type ExecContext } from '../context.js';
import { asBool, asString, asStrings } from '../value-helpers.js';

/**
 * Get-Help NAME [-Detailed | -Full | -Examples | -Parameter P]: rendered by the language module
 * from the same definitions the binder uses (examples from the help data). Bare `Get-Help` (or
 * `help`): an overview of what the bot can do. Answered to the asker (see answerAsker).
 */
export async function getHelp(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const p = call.parameters;
  const typedName = asString(p.Name);
  const name = typedName ?? 'Get-Help';
  const parameters = asStrings(p.Parameter);
  const examples = asBool(p.Examples);
  const view: HelpView = asBool(p.Full) ? 'full' : asBool(p.Detailed) ? 'detailed' : 'default';
  const text =
    typedName === undefined && parameters.length === 0 && !examples && view === 'default'
      ? renderOverview()
      : examples
        ? renderExamples(name)
        : parameters.length > 0
          ? renderParameterHelp(name, parameters)
          : renderHelp(name, view);
  if (ctx.display) await answerAsker(ctx, { blocks: [{ kind: 'code', text }] });
  return text;
}

/**
 * Clear-Host (cls, clear). The console is cleared by its adapter when it offers `clearScreen`; a chat
 * channel cannot be cleared (nobody may delete what others saw), so the asker is told so.
 */
export async function clearHost(_call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  if (!ctx.display) return null;
  if (ctx.sink.clearScreen !== undefined) {
    await ctx.sink.clearScreen();
    return null;
  }
  await answerAsker(ctx, {
    blocks: [{ kind: 'text', text: 'Clear-Host: a chat channel cannot be cleared (messages stay for everyone); nothing was deleted.' }],
  });
  return null;
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
    if (ctx.display && text !== '') await answerAsker(ctx, { blocks: [{ kind: 'code', text }] });
    return text;
  }
  const table: Block = {
    kind: 'table',
    columns: ['CommandType', 'Name', 'Synopsis'],
    rows: found.map((c) => ['Cmdlet', c.name, c.synopsis]),
  };
  if (ctx.display && found.length > 0) await answerAsker(ctx, { blocks: [table] });
  return found.map((c) => c.name);
}
