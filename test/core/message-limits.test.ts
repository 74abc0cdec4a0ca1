import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit/audit-log.js';
import type { Invoker } from '../../src/core/ports.js';
import { MAX_COMMANDS_PER_MESSAGE, MAX_PIPELINE_STAGES, MAX_POSTS_PER_MESSAGE, MAX_STATEMENTS_PER_MESSAGE } from '../../src/core/limits.js';
import { messageToText } from '../../src/messages/plain-text.js';
import type { RecordingSink } from '../helpers/recording-sink.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * What one message may cost, through the real core (real runtime, SQLite file, a real agent):
 * statements per message, commands per pipeline and per message are refused before anything
 * runs, with one audit row; the posts made for one message are bounded, with one notice saying
 * how many were left out, and job output that was not shown stays in the store.
 */

/** A channel no rule mentions: it may use Get-Help and Get-Command only. */
const NO_RULE = 'slack:T1/C999';
const mallory: Invoker = { platform: 'slack', userId: 'U666', displayName: 'mallory' };

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'a1' }] });
}, 60_000);
afterAll(async () => {
  await rt?.stop();
});

const auditRows = (): number => readAudit(rt.app.db).length;
const KEPT = 'Job output that was not shown is kept: Get-Job shows HasMoreData, Receive-Job shows the output.';

/** The post-limit notice as posted, then as each edit left it. */
function notices(sink: RecordingSink): string[] {
  const posted = sink.events.find((e) => e.type === 'post' && messageToText(e.message).startsWith("This message reached the bot's limit"));
  if (posted?.type !== 'post') return [];
  return sink.events.filter((e) => (e.type === 'post' || e.type === 'update') && e.id === posted.id).map((e) => messageToText(e.message));
}

/** New messages (everything but edits of a status message). */
const newMessages = (sink: RecordingSink): number => sink.events.filter((e) => e.type !== 'update').length;

describe('limits per message', () => {
  it('refuses 10,000 statements from a channel with no rule: one reply, one audit row, the limit named', async () => {
    const text = 'gcm;'.repeat(10_000);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(40 * 1024);
    const before = auditRows();
    const r = await rt.run(text, { channel: NO_RULE, user: mallory });
    expect(r.ok).toBe(false);
    expect(r.sink.events.map((e) => e.type)).toEqual(['reply']);
    expect(r.sink.replies()).toEqual([
      `ERROR: This message has 10000 statements; the bot runs at most ${MAX_STATEMENTS_PER_MESSAGE} per message (a limit of this bot, not of PowerShell): split it into several messages.`,
    ]);
    const rows = readAudit(rt.app.db).slice(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: NO_RULE, decision: 'refused', reason: expect.stringContaining('10000 statements') });
  });

  it(`runs ${MAX_STATEMENTS_PER_MESSAGE} statements and refuses one more`, async () => {
    const before = auditRows();
    const ok = await rt.run(Array(MAX_STATEMENTS_PER_MESSAGE).fill('gcm -Noun Job').join('\n'), { channel: NO_RULE, user: mallory });
    expect(ok.ok).toBe(true);
    // Get-Command answers the asker privately in a chat channel.
    expect(ok.sink.replies()).toHaveLength(MAX_STATEMENTS_PER_MESSAGE);
    expect(auditRows() - before).toBe(MAX_STATEMENTS_PER_MESSAGE);

    const over = await rt.run(
      Array(MAX_STATEMENTS_PER_MESSAGE + 1)
        .fill('gcm -Noun Job')
        .join('\n'),
      { channel: NO_RULE, user: mallory },
    );
    expect(over.ok).toBe(false);
    expect(over.sink.posts()).toEqual([]);
    expect(over.sink.replies()[0]).toContain(`This message has ${MAX_STATEMENTS_PER_MESSAGE + 1} statements`);
    expect(auditRows() - before).toBe(MAX_STATEMENTS_PER_MESSAGE + 1);
  });

  it('refuses a pipeline with too many stages, at any depth, with its own message', async () => {
    const long = Array(MAX_PIPELINE_STAGES + 1)
      .fill('Get-Job')
      .join(' | ');
    for (const [text, where] of [
      [long, 'This pipeline has'],
      [`Get-Job\n$x = (${long})`, 'Statement 2 has a pipeline'],
    ] as const) {
      const before = auditRows();
      const r = await rt.run(text);
      expect(r.ok).toBe(false);
      expect(r.sink.events.map((e) => e.type)).toEqual(['reply']);
      expect(r.sink.replies()[0]).toBe(
        `ERROR: ${where} of ${MAX_PIPELINE_STAGES + 1} commands; the bot runs at most ${MAX_PIPELINE_STAGES} commands per pipeline (a limit of this bot, not of PowerShell): split it, e.g. $r = a | b in one statement and $r | c in the next.`,
      );
      expect(auditRows() - before).toBe(1);
    }
    // At the limit it runs.
    const r = await rt.run(Array(MAX_PIPELINE_STAGES).fill('Get-Job').join(' | '));
    expect(r.sink.replies().join('\n')).not.toContain('per pipeline');
  });

  it('counts commands nested in ( ), $( ) and @( ) against the commands per message', async () => {
    const before = auditRows();
    const r = await rt.run(
      `$x = @(${Array(MAX_COMMANDS_PER_MESSAGE + 1)
        .fill('gcm')
        .join('; ')})`,
      { channel: NO_RULE, user: mallory },
    );
    expect(r.ok).toBe(false);
    expect(r.sink.replies()).toEqual([
      `ERROR: This message runs ${MAX_COMMANDS_PER_MESSAGE + 1} commands (counting those inside ( ), $( ) and @( )); the bot runs at most ${MAX_COMMANDS_PER_MESSAGE} per message (a limit of this bot, not of PowerShell): split it into several messages.`,
    ]);
    expect(auditRows() - before).toBe(1);
  });
});

describe('posts per message', () => {
  const ids: number[] = [];

  it('answers one message with a bounded number of posts and one notice; output not shown stays for Receive-Job', async () => {
    // 30 jobs with output, two messages of 15.
    for (const from of [1, 16]) {
      const lines = Array.from({ length: 15 }, (_, i) => `icm a1 { echo out-${from + i} } -AsJob`);
      const r = await rt.run(lines.join('\n'));
      expect(r.ok).toBe(true);
      ids.push(...r.jobIds);
    }
    expect(ids).toHaveLength(30);
    for (const id of ids) expect((await rt.app.jobs.waitFor(id, 20_000))?.state).toBe('Completed');

    // Receive-Job of 30 jobs: a header and a result per job, 60 posts; the bound lets 50 through.
    const r = await rt.run(`Receive-Job -Id ${ids.join(',')}`);
    expect(newMessages(r.sink)).toBe(MAX_POSTS_PER_MESSAGE + 1);
    // One notice, posted when the limit was reached and edited at the end to give the count.
    expect(notices(r.sink)).toEqual([
      `This message reached the bot's limit of ${MAX_POSTS_PER_MESSAGE} posts (a limit of this bot, not of PowerShell): what it would post from here on is left out. ${KEPT}`,
      `This message reached the bot's limit of ${MAX_POSTS_PER_MESSAGE} posts (a limit of this bot, not of PowerShell): 10 more posts were left out. ${KEPT}`,
    ]);
    const shown = (s: RecordingSink): string[] => s.text().match(/out-\d+/g) ?? [];
    expect(shown(r.sink)).toHaveLength(25);
    // The other five jobs' output is still unread, and the next Receive-Job shows exactly it.
    const unread = ids.filter((id) => rt.app.store.children(id).some((c) => rt.app.store.hasUnreadOutput(c.id)));
    expect(unread).toHaveLength(5);
    const again = await rt.run(`Receive-Job -Id ${unread.join(',')}`);
    expect(new Set([...shown(r.sink), ...shown(again.sink)])).toEqual(new Set(ids.map((_, i) => `out-${i + 1}`)));
    expect(shown(again.sink)).toHaveLength(5);
  }, 60_000);

  it('a synchronous Invoke-Command past the bound still runs; its output is kept and its error is shown', async () => {
    expect(ids).toHaveLength(30);
    // 25 jobs with nothing new: a header and "No new output." each, 50 posts; then the icm.
    const r = await rt.run(`Receive-Job -Id ${ids.slice(0, 25).join(',')}\nicm a1 { echo late-output }\nGet-Nothing`);
    expect(newMessages(r.sink)).toBe(MAX_POSTS_PER_MESSAGE + 2);
    expect(r.ok).toBe(false);
    expect(r.sink.text()).not.toContain('late-output');
    // The statement's terminal error is always shown; the notice counts what was left out.
    expect(r.sink.replies().join('\n')).toMatch(/The term 'Get-Nothing' is not recognized/);
    expect(notices(r.sink).at(-1)).toContain(': 1 more post was left out. ');
    const id = r.jobIds[0]!;
    const job = rt.app.store.getJob(id);
    expect(job?.state).toBe('Completed');
    expect(job?.notPosted).toMatch(/status message/);
    const later = await rt.run(`Receive-Job ${id}`);
    expect(later.sink.text()).toContain('late-output');
  }, 60_000);
});
