import { expect } from 'vitest';
import { ChatOpsError } from '../../src/errors.js';
import { bindStatement, parseAndBind, parseScript, type BindContext, type BoundCall, type PsValue } from '../../src/language/index.js';

/** Channel objects as the runtime would hand them to the language. */
export const session1: PsValue = {
  kind: 'session',
  id: 1,
  display: '[PSSession]Runspace1',
  properties: { Name: 'Runspace1', ComputerName: 'web1' },
};
export const job3: PsValue = { kind: 'job', id: 3, display: 'Job3', properties: { Name: 'Job3', State: 'Running', Location: 'web1,web2' } };
export const agentWeb1: PsValue = { kind: 'agent', id: 'web1', display: 'web1' };

export interface Recorded {
  calls: BoundCall[];
}

/** A context whose `evaluate` answers Get-Agent like a runtime would, and records calls. */
export function makeContext(extra: Record<string, PsValue> = {}, recorded: Recorded = { calls: [] }): BindContext {
  const variables = new Map<string, PsValue>([['s', session1], ['j', job3], ['servers', ['web1', 'web2']], ...Object.entries(extra)]);
  return {
    variables,
    async evaluate(call) {
      recorded.calls.push(call);
      if (call.cmdlet === 'Get-Agent') return ['web1', 'web2'];
      return null;
    },
  };
}

/** Binds a one-statement line and returns its first call. */
export async function bindLine(line: string, context: BindContext = makeContext()): Promise<BoundCall> {
  const statements = await parseAndBind(line, context);
  expect(statements).toHaveLength(1);
  const call = statements[0]?.pipeline[0];
  if (call === undefined) throw new Error(`no call in ${line}`);
  return call;
}

/** Binds one statement of a multi-line text by index (later statements may depend on earlier commands). */
export async function bindNth(text: string, index: number, context: BindContext = makeContext()) {
  const statement = parseScript(text).statements[index];
  if (statement === undefined) throw new Error(`no statement ${index}`);
  return bindStatement(statement, context);
}

/** Runs `fn` and returns the ChatOpsError it throws (fails the test otherwise). */
export async function errorOf(fn: () => unknown): Promise<ChatOpsError> {
  try {
    await fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ChatOpsError);
    return e as ChatOpsError;
  }
  throw new Error('expected a ChatOpsError, nothing was thrown');
}
