import type { BoundCall, BoundStatement } from '../language/bound-call';
import type { PsValue, Variables } from '../language/values';
import type { ParsedScript, ParsedStatement } from '../language';

/**
 * What the core uses of the command-language module (src/language). Loaded on first use, so
 * the runtime (store, hub, jobs) starts without paying for it until a command arrives.
 */
export interface LanguagePort {
  parseScript(text: string): ParsedScript;
  bindStatement(
    statement: ParsedStatement,
    context: { variables: Variables; evaluate: (call: BoundCall) => Promise<PsValue> },
  ): Promise<BoundStatement>;
  bindPipelineInput(call: BoundCall, input: PsValue): BoundCall;
  renderHelp(name: string): unknown;
  renderSyntax(name: string): unknown;
}

let loaded: Promise<LanguagePort> | undefined;

export function loadLanguage(): Promise<LanguagePort> {
  loaded ??= import('../language');
  return loaded;
}
