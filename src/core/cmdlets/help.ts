import type { BoundCall } from '../../language/bound-call';
import type { PsValue } from '../../language/values';
import type { NeutralMessage } from '../../messages/model';
import { type ExecContext, safePost } from '../context';
import { asString } from '../value-helpers';
import { loadLanguage } from '../language-port';

function asMessage(rendered: unknown): NeutralMessage {
  if (typeof rendered === 'string') return { blocks: [{ kind: 'code', text: rendered }] };
  return rendered as NeutralMessage;
}

function renderedText(rendered: unknown): string {
  if (typeof rendered === 'string') return rendered;
  const m = rendered as NeutralMessage;
  return m.blocks.map((b) => ('text' in b ? b.text : '')).join('\n');
}

/** Get-Help NAME: the language module renders it from the same definitions the binder uses. */
export async function getHelp(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const name = asString(call.parameters.Name) ?? 'Invoke-Command';
  const rendered: unknown = (await loadLanguage()).renderHelp(name);
  if (ctx.display) await safePost(ctx, asMessage(rendered));
  return renderedText(rendered);
}

/** Get-Command [NAME]: syntax lines. */
export async function getCommand(call: BoundCall, ctx: ExecContext): Promise<PsValue> {
  const name = asString(call.parameters.Name) ?? '*';
  const rendered: unknown = (await loadLanguage()).renderSyntax(name);
  if (ctx.display) await safePost(ctx, asMessage(rendered));
  return renderedText(rendered);
}
