import { describe, expect, it } from 'vitest';
import { buttonsForStatus, formatElapsed, renderMessage, SLACK_LIMITS } from '../../adapters/slack/render.js';
import type { JobStatusView, NeutralMessage } from '../../src/messages/model.js';
import { textOf } from '../fakes/slack-server.js';

const status = (over: Partial<JobStatusView> = {}): JobStatusView => ({
  jobId: 7,
  name: 'Job7',
  command: 'Invoke-Command -ComputerName web1,web2 { uptime }',
  invokedBy: 'alice',
  state: 'Running',
  counts: { Running: 1, Completed: 1 },
  total: 2,
  elapsedMs: 12_400,
  asJob: false,
  hasMoreData: true,
  ...over,
});

function allSections(rendered: ReturnType<typeof renderMessage>): string[] {
  return rendered.messages.flatMap((m) =>
    m.blocks.filter((b) => b.type === 'section').map((b) => (b as { text: { text: string } }).text.text),
  );
}

describe('renderMessage', () => {
  it('draws a status: job id and name, command, who, counts per state, elapsed', () => {
    const r = renderMessage({ blocks: [{ kind: 'status', status: status() }] });
    const text = textOf(r.messages[0]!.blocks);
    expect(text).toContain('*Job7* (Id 7)');
    expect(text).toContain('Running');
    expect(text).toContain('Invoke-Command -ComputerName web1,web2 { uptime }');
    expect(text).toContain('by alice');
    expect(text).toContain('1 Running, 1 Completed of 2');
    expect(text).toContain('12s elapsed');
    expect(r.messages[0]!.text).toContain('Job7 (Id 7): Running');
  });

  it('offers Stop-Job while running and Receive-Job when finished with unread output', () => {
    const running = renderMessage({ blocks: [{ kind: 'status', status: status() }] }).messages[0]!.blocks;
    const actions = running.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([['stop-job', '7']]);

    const done = renderMessage({ blocks: [{ kind: 'status', status: status({ state: 'Completed', counts: { Completed: 2 } }) }] })
      .messages[0]!.blocks;
    const doneActions = done.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    expect(doneActions.elements.map((e) => [e.action_id, e.value])).toEqual([['receive-job', '7']]);

    const read = renderMessage({ blocks: [{ kind: 'status', status: status({ state: 'Completed', hasMoreData: false }) }] });
    expect(read.messages[0]!.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(buttonsForStatus(status({ state: 'Failed', hasMoreData: false }))).toEqual([]);
  });

  it('uses explicit actions blocks instead of derived buttons', () => {
    const r = renderMessage({
      blocks: [
        { kind: 'status', status: status() },
        { kind: 'actions', buttons: [{ action: 'receive-job', jobId: 9, label: 'Receive-Job' }] },
      ],
    });
    const actions = r.messages[0]!.blocks.filter((b) => b.type === 'actions') as Array<{
      elements: Array<{ action_id: string; value: string }>;
    }>;
    expect(actions).toHaveLength(1);
    expect(actions[0]!.elements[0]).toMatchObject({ action_id: 'receive-job', value: '9' });
  });

  it('keeps every status text within Slack limits, however long the job name, user, command or note', () => {
    // A -JobName longer than a section used to leave the command a negative budget: the
    // splitter never advanced and the process ran out of memory.
    for (const over of [
      { name: 'n'.repeat(3500) },
      { name: '<'.repeat(1200) },
      { invokedBy: '&'.repeat(3000) },
      { command: '`'.repeat(5000) },
      { notPosted: '<'.repeat(2000) },
    ] satisfies Array<Partial<JobStatusView>>) {
      const r = renderMessage({ blocks: [{ kind: 'status', status: status(over) }] });
      expect(r.messages).toHaveLength(1);
      for (const b of r.messages[0]!.blocks) {
        const texts =
          b.type === 'section' ? [b.text!.text] : b.type === 'context' ? b.elements.map((e) => ('text' in e ? e.text : '')) : [];
        for (const t of texts) {
          expect(t.length, Object.keys(over)[0]).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
          expect(t).not.toMatch(/&(?!amp;|lt;|gt;)/); // no entity cut in half
        }
      }
      expect(textOf(r.messages[0]!.blocks)).toContain('(Id 7)');
    }
  });

  it('keeps output from hundreds of computers within a section: the title names the first ones and counts the rest', () => {
    const names = Array.from({ length: 600 }, (_, i) => `web${i + 1}`);
    const title = names.join(', ');
    for (const block of [
      { kind: 'code', text: 'same output', title },
      { kind: 'table', columns: ['Name'], rows: [['x']], title },
      { kind: 'code', text: 'x'.repeat(20_000), title },
      { kind: 'attachment', filename: 'web1.txt', content: 'a\nb\n', head: ['a'], tail: ['b'], omittedLines: 0, title },
    ] satisfies NeutralMessage['blocks']) {
      const r = renderMessage({ blocks: [block] });
      for (const t of allSections(r)) expect(t.length, block.kind).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      const text = textOf(r.messages[0]!.blocks);
      expect(text, block.kind).toMatch(/^\*web1, web2, web3, /);
      const shown = /^\*(.*?) … and (\d+) more\*/.exec(text);
      expect(shown, block.kind).not.toBeNull();
      expect(shown![1]!.split(', ').length + Number(shown![2])).toBe(600);
      for (const u of r.uploads) expect(u.title.length).toBeLessThanOrEqual(255);
    }
  });

  it('shows what could not be posted', () => {
    const r = renderMessage({ blocks: [{ kind: 'status', status: status({ notPosted: 'results: web1' }) }] });
    expect(textOf(r.messages[0]!.blocks)).toContain(':warning: results: web1');
  });

  it('puts output in a code block under its computers, or without a title', () => {
    const titled = allSections(renderMessage({ blocks: [{ kind: 'code', title: 'web1, web2', text: 'up 3 days' }] }));
    expect(titled).toEqual(['*web1, web2*\n```\nup 3 days\n```']);
    const untitled = allSections(renderMessage({ blocks: [{ kind: 'code', text: 'up 3 days' }] }));
    expect(untitled).toEqual(['```\nup 3 days\n```']);
  });

  it('escapes output so it cannot mention, link or leave its code block', () => {
    const evil = 'x ```\n<!channel> <https://evil.example|login> @here &amp;';
    const [section] = allSections(renderMessage({ blocks: [{ kind: 'code', title: '<!here>', text: evil }] }));
    expect(section).not.toMatch(/<|>/);
    expect(section!.match(/```/g)).toHaveLength(2);
    expect(section).not.toMatch(/@here/);
    expect(section).toContain('&amp;amp;');
  });

  it('draws tables as aligned monospace text', () => {
    const [section] = allSections(
      renderMessage({
        blocks: [
          {
            kind: 'table',
            columns: ['PSComputerName', 'Name'],
            rows: [
              ['web1', 'nginx'],
              ['web22', 'sshd'],
            ],
          },
        ],
      }),
    );
    expect(section).toBe('```\nPSComputerName Name\n-------------- -----\nweb1           nginx\nweb22          sshd\n```');
  });

  it('splits long output over sections of at most 3,000 characters, losing nothing', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(10)}`);
    const r = renderMessage({ blocks: [{ kind: 'code', title: 'web1', text: lines.join('\n') }] });
    const sections = allSections(r);
    expect(sections.length).toBeGreaterThan(1);
    for (const s of sections) expect(s.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    const shown = sections.map((s) => s.replace(/^\*web1\*( _\(continued\)_)?\n/, '').replace(/^```\n|\n```$/g, '')).join('\n');
    expect(shown).toBe(lines.join('\n'));
    expect(r.uploads).toEqual([]);
  });

  it('splits a single line longer than a section without breaking an entity', () => {
    const text = '<'.repeat(2000);
    const sections = allSections(renderMessage({ blocks: [{ kind: 'code', text }] }));
    // 8,000 escaped characters need three sections of at most 3,000.
    expect(sections.length).toBe(3);
    for (const s of sections) {
      expect(s.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(s.replace(/^```\n|\n```$/g, '')).toMatch(/^(&lt;)+$/);
    }
    expect(sections.map((s) => s.replace(/^```\n|\n```$/g, '')).join('')).toBe('&lt;'.repeat(2000));
  });

  it('splits a message of more than 50 blocks over several messages', () => {
    const message: NeutralMessage = {
      blocks: Array.from({ length: 120 }, (_, i) => ({ kind: 'code' as const, title: `web${i}`, text: `ok ${i}` })),
    };
    const r = renderMessage(message);
    expect(r.messages.map((m) => m.blocks.length)).toEqual([50, 50, 20]);
    expect(r.messages[1]!.text).toContain('(part 2)');
  });

  it('keeps each message under 40,000 characters of text', () => {
    const message: NeutralMessage = {
      blocks: Array.from({ length: 30 }, (_, i) => ({ kind: 'code' as const, title: `web${i}`, text: 'y'.repeat(2900) })),
    };
    const r = renderMessage(message, { maxInlineCode: 100_000, previewLines: 10 });
    expect(r.messages.length).toBeGreaterThan(1);
    for (const m of r.messages) {
      const total = allSections({ messages: [m], uploads: [] }).reduce((n, s) => n + s.length, 0);
      expect(total).toBeLessThanOrEqual(SLACK_LIMITS.messageText);
    }
  });

  it('uploads output too large to read inline, with first and last lines shown', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `row ${i}`);
    const r = renderMessage({ blocks: [{ kind: 'code', title: 'db1', text: lines.join('\n') }] });
    expect(r.uploads).toHaveLength(1);
    expect(r.uploads[0]).toMatchObject({ filename: 'db1.txt', content: lines.join('\n') });
    const text = textOf(r.messages[0]!.blocks);
    expect(text).toContain('row 0\n');
    expect(text).toContain('row 4999');
    expect(text).toContain('4980 lines not shown');
    expect(text).not.toContain('row 2500\n');
  });

  it("turns the core's attachment blocks into an upload plus head and tail", () => {
    const r = renderMessage({
      blocks: [
        {
          kind: 'attachment',
          filename: 'web1 output.txt',
          content: 'a\nb\nc\nd',
          head: ['a'],
          tail: ['d'],
          omittedLines: 2,
          title: 'web1',
        },
      ],
    });
    expect(r.uploads).toEqual([{ filename: 'web1_output.txt', content: 'a\nb\nc\nd', title: 'web1' }]);
    const text = textOf(r.messages[0]!.blocks);
    expect(text).toContain('*web1*\n```\na\n```');
    expect(text).toContain('2 lines not shown');
    expect(text).toContain('```\nd\n```');
  });

  it('never sends an empty section (Slack refuses it)', () => {
    expect(allSections(renderMessage({ blocks: [{ kind: 'text', text: '' }] }))).toEqual([' ']);
    expect(allSections(renderMessage({ blocks: [] }))).toEqual([' ']);
  });

  it('escapes errors and plain text', () => {
    const text = textOf(renderMessage({ blocks: [{ kind: 'error', text: 'bad <@U1> & more' }] }).messages[0]!.blocks);
    expect(text).toBe(':x: bad &lt;@U1&gt; &amp; more');
  });
});

describe('formatElapsed', () => {
  it('reads naturally', () => {
    expect(formatElapsed(400)).toBe('0.4s');
    expect(formatElapsed(12_400)).toBe('12s');
    expect(formatElapsed(185_000)).toBe('3m 05s');
    expect(formatElapsed(3_725_000)).toBe('1h 02m');
  });
});
