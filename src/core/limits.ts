import { ChatOpsError } from '../errors.js';
import type { ExpressionNode, ParsedStatement } from '../language/index.js';

/**
 * What one chat message may cost. PowerShell has none of these limits: they exist because in
 * chat one message is typed by anyone in the channel, and every statement is a cmdlet call with
 * an audit row and usually a post. A 40 KB line of `gcm;gcm;...` (10,000 statements) would
 * otherwise make 10,000 posts and 10,000 audit rows. Each refusal names the limit, its value and
 * that it is the bot's, so nobody goes looking for a PowerShell setting.
 */

/** Top-level statements (lines or `;`-separated) in one message. */
export const MAX_STATEMENTS_PER_MESSAGE = 20;

/** Commands in one pipeline (`a | b | c` is 3), at any depth. */
export const MAX_PIPELINE_STAGES = 16;

/**
 * Cmdlet calls in one message, counting those inside `( )`, `$( )`, `@( )` and hashtable
 * values: each one is authorized and audited, so `$x = @(gcm; gcm; ...)` in one statement must
 * not get around the statement limit.
 */
export const MAX_COMMANDS_PER_MESSAGE = 50;

/**
 * Messages (posts, thread posts, private replies) made while one message is handled; edits of
 * a status message are not counted (they add nothing to the channel). See post-budget.ts.
 */
export const MAX_POSTS_PER_MESSAGE = 50;

const BOTS_LIMIT = 'a limit of this bot, not of PowerShell';

/**
 * Refuses a parsed message that is over a limit, before any of it is bound, authorized, run or
 * audited per statement (the caller audits the one refusal).
 */
export function checkMessageLimits(statements: ParsedStatement[]): void {
  if (statements.length > MAX_STATEMENTS_PER_MESSAGE) {
    throw new ChatOpsError(
      'TooManyStatements',
      `This message has ${statements.length} statements; the bot runs at most ${MAX_STATEMENTS_PER_MESSAGE} per message (${BOTS_LIMIT}): split it into several messages.`,
    );
  }
  let commands = 0;
  for (const [index, top] of statements.entries()) {
    // Nested statements are walked with an explicit stack; the parser already bounds nesting.
    const stack: ParsedStatement[] = [top];
    while (stack.length > 0) {
      const stmt = stack.pop()!;
      if (stmt.commands.length > MAX_PIPELINE_STAGES) {
        const where = statements.length > 1 ? `Statement ${index + 1} has a pipeline` : 'This pipeline has';
        throw new ChatOpsError(
          'TooManyPipelineStages',
          `${where} of ${stmt.commands.length} commands; the bot runs at most ${MAX_PIPELINE_STAGES} commands per pipeline (${BOTS_LIMIT}): split it, e.g. $r = a | b in one statement and $r | c in the next.`,
        );
      }
      commands += stmt.commands.length;
      for (const e of expressionsOf(stmt)) stack.push(...nestedStatements(e));
    }
  }
  if (commands > MAX_COMMANDS_PER_MESSAGE) {
    throw new ChatOpsError(
      'TooManyCommands',
      `This message runs ${commands} commands (counting those inside ( ), $( ) and @( )); the bot runs at most ${MAX_COMMANDS_PER_MESSAGE} per message (${BOTS_LIMIT}): split it into several messages.`,
    );
  }
}

function expressionsOf(stmt: ParsedStatement): ExpressionNode[] {
  const out: ExpressionNode[] = stmt.head ? [stmt.head] : [];
  for (const c of stmt.commands) {
    for (const el of c.elements) {
      if (el.kind === 'argument') out.push(el.value);
      else if (el.kind === 'parameter' && el.colonValue) out.push(el.colonValue);
    }
  }
  return out;
}

/** The statements directly inside an expression (not inside their own nested expressions). */
function nestedStatements(expr: ExpressionNode): ParsedStatement[] {
  const out: ParsedStatement[] = [];
  const stack: ExpressionNode[] = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    switch (e.kind) {
      case 'array':
        stack.push(...e.items);
        break;
      case 'arrayExpression':
      case 'subExpression':
        out.push(...e.statements);
        break;
      case 'hashtable':
        out.push(...e.entries.map((x) => x.value));
        break;
      case 'paren':
        out.push(e.statement);
        break;
      case 'literal':
      case 'variable':
      case 'expandable':
        break;
    }
  }
  return out;
}
