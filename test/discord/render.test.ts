import { describe, expect, it } from 'vitest';
import {
  CONTENT_LIMIT,
  chunkLines,
  escapeCodeBlock,
  escapeMarkdown,
  breakLinks,
  parseButtonId,
  renderAttachment,
  renderCode,
  renderForEdit,
  renderMessage,
  renderStatusEmbed,
  renderStopConfirmation,
  renderTable,
  safeFilename,
  STATE_COLOURS,
  toBody,
} from '../../adapters/discord/render.js';
import type { JobStatusView } from '../../src/messages/model.js';

/** Counts fenced blocks the way Discord's markdown does: any ``` opens or closes one. */
function fenceCount(s: string): number {
  return (s.match(/```/g) ?? []).length;
}

describe('escapeCodeBlock', () => {
  it('leaves no run of two backticks, so output cannot close its block', () => {
    for (const evil of ['```', 'a```b', '````', '`` `', '```\n@everyone\n```', 'x`', '``````````']) {
      const out = escapeCodeBlock(evil);
      expect(out).not.toMatch(/``/);
      // Removing the zero-width spaces gives back the original text.
      expect(out.replace(/\u200b/g, '')).toBe(evil);
    }
  });

  it('keeps ordinary text byte for byte', () => {
    expect(escapeCodeBlock('uptime: 3 days, `one` tick')).toBe('uptime: 3 days, `one` tick');
  });

  it('a rendered block with hostile output has exactly one pair of fences', () => {
    const [msg] = renderCode('before\n```\n**bold** @everyone\n```after');
    expect(fenceCount(msg!)).toBe(2);
    expect(msg!.startsWith('```\n')).toBe(true);
    expect(msg!.endsWith('\n```')).toBe(true);
  });
});

describe('escapeMarkdown', () => {
  it('escapes emphasis, spoilers, links and line-start markers', () => {
    expect(escapeMarkdown('*a* _b_ ~~c~~ ||d|| [e](f)')).toBe('\\*a\\* \\_b\\_ \\~\\~c\\~\\~ \\|\\|d\\|\\| \\[e\\]\\(f\\)');
    expect(escapeMarkdown('# head\n> quote\n- item\n1. one')).toBe('\\# head\n\\> quote\n\\- item\n1\\. one');
  });
});

describe('splitting to the 2,000-character limit', () => {
  it('splits long output into complete code blocks, title only on the first', () => {
    const text = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    const pieces = renderCode(text, 'web1, web2');
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(CONTENT_LIMIT);
      expect(fenceCount(p)).toBe(2);
    }
    expect(pieces[0]!.startsWith('**web1, web2**\n```')).toBe(true);
    expect(pieces[1]!.startsWith('```')).toBe(true);
    const joined = pieces.map((p) => p.replace(/^(\*\*.*\*\*\n)?```\n/, '').replace(/\n```$/, '')).join('\n');
    expect(joined).toBe(text);
  });

  it('breaks a single over-long line without splitting a surrogate pair', () => {
    const chunks = chunkLines('😀'.repeat(1500), 1001);
    expect(chunks.length).toBe(3);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(1001);
      expect(c).not.toMatch(/[\ud800-\udbff]$/);
    }
    expect(chunks.join('')).toBe('😀'.repeat(1500));
  });

  it('packs several blocks into as few messages as fit, in order', () => {
    const payloads = renderMessage({
      blocks: [
        { kind: 'code', text: 'a'.repeat(1200), title: 'web1' },
        { kind: 'code', text: 'b'.repeat(1200), title: 'web2' },
        { kind: 'code', text: 'short', title: 'web3' },
      ],
    });
    expect(payloads).toHaveLength(2);
    expect(payloads[0]!.content).toContain('web1');
    expect(payloads[1]!.content).toContain('web2');
    expect(payloads[1]!.content).toContain('web3');
    for (const p of payloads) expect(p.content.length).toBeLessThanOrEqual(CONTENT_LIMIT);
  });
});

describe('tables', () => {
  it('draws Format-Table style columns and repeats the header when split', () => {
    const rows = Array.from({ length: 200 }, (_, i) => [`web${i}`, 'Running', `${i * 7}`]);
    const pieces = renderTable(['PSComputerName', 'Status', 'Id'], rows, 'Get-Service');
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(CONTENT_LIMIT);
      expect(p).toContain('PSComputerName Status  Id\n-------------- ------- --');
    }
    expect(pieces[0]).toContain('web0           Running 0');
  });

  it('cuts an over-long cell with an ellipsis so every row fits a message with its header', () => {
    const columns = ['Id', 'Name', 'State', 'Command'];
    const rows = [
      ['1', 'Job1', 'Completed', `icm web1 { true '${'x'.repeat(3000)}' }`],
      ['2', 'Job2', 'Running', 'icm web2 { uptime }'],
    ];
    const pieces = renderTable(columns, rows, 'Get-Job');
    expect(pieces).toHaveLength(1);
    const lines = pieces[0]!.split('\n');
    expect(lines.slice(0, 3)).toEqual(['**Get-Job**', '```', 'Id Name State     Command']);
    const row = lines.find((l) => l.startsWith('1 '))!;
    expect(row).toMatch(/^1 {2}Job1 Completed icm web1 \{ true 'x+…$/);
    expect(lines.find((l) => l.startsWith('2 '))).toBe('2  Job2 Running   icm web2 { uptime }');
    expect(pieces[0]!.length).toBeLessThanOrEqual(CONTENT_LIMIT);
  });

  it('keeps every part within the limit and repeats the header, however wide and many the cells', () => {
    const columns = ['Id', 'Name', 'Command', 'Location'];
    const rows = Array.from({ length: 40 }, (_, i) => [String(i), `Job${i}`, `c${i} ${'z'.repeat(1000 + i * 50)}`, `web${i}`]);
    const pieces = renderTable(columns, rows);
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(CONTENT_LIMIT);
      expect(fenceCount(p)).toBe(2);
      expect(p.split('\n')[1]).toMatch(/^Id +Name +Command +Location$/);
      expect(p.split('\n')[2]).toMatch(/^-- +-+ -+ -+$/);
    }
    // Every row is shown once, each on one line, its cut cell marked, the columns after it kept.
    const rowLines = pieces.flatMap((p) => p.split('\n').filter((l) => /^\d+ /.test(l)));
    expect(rowLines.map((l) => l.split(' ')[0])).toEqual(rows.map((r) => r[0]));
    for (const l of rowLines) expect(l).toMatch(/z…\s+web\d+$/);
  });

  it('a row that escaping lengthens (runs of backticks) still fits, and cannot close its block', () => {
    const rows = [['1', '`'.repeat(4000)]];
    const pieces = renderTable(['Id', 'Text'], rows, 'x');
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(CONTENT_LIMIT);
      expect(fenceCount(p)).toBe(2);
    }
  });

  it('a cell cut at a surrogate pair keeps the pair whole', () => {
    const [p] = renderTable(['A', 'B'], [['1', '😀'.repeat(2000)]]);
    const row = p!.split('\n').find((l) => l.startsWith('1 '))!;
    expect(row.endsWith('😀…')).toBe(true);
    expect(row).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('attachments', () => {
  it('shows head and tail inline, names the file and what was cut, attaches everything', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `row ${i}`);
    const { content, file } = renderAttachment({
      kind: 'attachment',
      filename: 'web1 output.txt',
      content: lines.join('\n'),
      head: lines.slice(0, 20),
      tail: lines.slice(-20),
      omittedLines: 4960,
      title: 'web1',
    });
    expect(content.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(content).toContain('row 0\n');
    expect(content).toContain('row 4999');
    expect(content).toContain('4960 lines omitted');
    expect(content).toContain('web1\\_output.txt'); // underscore escaped in markdown
    expect(file.name).toBe('web1_output.txt');
    expect(file.data.toString('utf8')).toBe(lines.join('\n'));
    expect(fenceCount(content)).toBe(4);
  });

  it('keeps file names to safe characters', () => {
    expect(safeFilename('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(safeFilename('')).toBe('output.txt');
  });

  it('sends the file with an attachments entry in the body', () => {
    const [p] = renderMessage({
      blocks: [{ kind: 'attachment', filename: 'a.txt', content: 'x', head: ['x'], tail: [], omittedLines: 0 }],
    });
    expect(p!.files).toHaveLength(1);
    expect(toBody(p!)).toMatchObject({ attachments: [{ id: 0, filename: 'a.txt' }], allowed_mentions: { parse: [] } });
  });
});

const status = (over: Partial<JobStatusView> = {}): JobStatusView => ({
  jobId: 7,
  name: 'Job7',
  command: 'Invoke-Command -ComputerName web1,web2,web3 { uptime }',
  invokedBy: 'Alice_Ops',
  state: 'Running',
  counts: { Running: 2, Completed: 1 },
  total: 3,
  elapsedMs: 4321,
  asJob: false,
  hasMoreData: true,
  ...over,
});

describe('status embed and buttons', () => {
  it('shows job, command, who, counts per state and elapsed, coloured by state', () => {
    const e = renderStatusEmbed(status());
    expect(e.title).toBe('Job 7 · Job7');
    expect(e.description).toBe('```\nInvoke-Command -ComputerName web1,web2,web3 { uptime }\n```');
    expect(e.color).toBe(STATE_COLOURS.Running);
    const f = Object.fromEntries((e.fields ?? []).map((x) => [x.name, x.value]));
    expect(f).toMatchObject({
      State: 'Running',
      Computers: '2 Running · 1 Completed (of 3)',
      Elapsed: '4.3 s',
      'Invoked by': 'Alice\\_Ops',
    });
    expect(renderStatusEmbed(status({ state: 'Failed' })).color).toBe(STATE_COLOURS.Failed);
    expect(renderStatusEmbed(status({ state: 'Completed' })).color).not.toBe(STATE_COLOURS.Failed);
  });

  it('says who the job waits on, escaped, when the core tells it', () => {
    const detail = ['Running: web_1, web2', 'web3 disconnected: waiting for it until 10:42:05 UTC (AGENT_LOST_GRACE)'];
    const f = Object.fromEntries((renderStatusEmbed(status({ detail })).fields ?? []).map((x) => [x.name, x.value]));
    expect(f['Waiting on']).toBe('Running: web\\_1, web2\nweb3 disconnected: waiting for it until 10:42:05 UTC \\(AGENT\\_LOST\\_GRACE\\)');
    expect((renderStatusEmbed(status()).fields ?? []).some((x) => x.name === 'Waiting on')).toBe(false);
  });

  it("keeps the whole embed within Discord's 6,000 characters, however long its parts", () => {
    const e = renderStatusEmbed(
      status({
        name: 'n'.repeat(400),
        command: 'c'.repeat(6000),
        invokedBy: 'u'.repeat(2000),
        notPosted: 'results of ' + 'w'.repeat(3000),
        state: 'Completed',
        asJob: true,
      }),
    );
    const total =
      (e.title ?? '').length + (e.description ?? '').length + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
    expect(e.title!.length).toBeLessThanOrEqual(256);
    expect(fenceCount(e.description!)).toBe(2);
    expect(e.fields?.find((f) => f.name === 'Not posted')?.value).toMatch(/^results of w/);
  });

  it('says when output could not be posted', () => {
    const e = renderStatusEmbed(status({ notPosted: '2 results could not be posted; Receive-Job 7 shows them' }));
    expect(e.fields?.find((f) => f.name === 'Not posted')?.value).toContain('Receive-Job 7');
  });

  it('puts the embed and buttons on the first message and round-trips button ids', () => {
    const payloads = renderMessage({
      blocks: [
        { kind: 'status', status: status() },
        { kind: 'actions', buttons: [{ action: 'stop-job', jobId: 7, label: 'Stop-Job' }] },
      ],
    });
    expect(payloads).toHaveLength(1);
    const p = payloads[0]!;
    expect(p.embeds).toHaveLength(1);
    const button = p.components[0]!.components[0]!;
    expect(button).toMatchObject({ type: 2, style: 4, label: 'Stop-Job', custom_id: 'chatops:stop-job:7' });
    expect(parseButtonId('chatops:stop-job:7')).toEqual({ action: 'stop-job', jobId: 7 });
    expect(parseButtonId('chatops:receive-job:12')).toEqual({ action: 'receive-job', jobId: 12 });
    expect(parseButtonId('chatops:confirm-stop-job:7:123456789012345678')).toEqual({
      action: 'confirm-stop-job',
      jobId: 7,
      statusMessageId: '123456789012345678',
    });
    expect(parseButtonId('chatops:cancel-stop-job:7')).toEqual({ action: 'cancel-stop-job', jobId: 7 });
    for (const forged of [
      'chatops:confirm-stop-job:7',
      'chatops:confirm-stop-job:7:12x',
      'chatops:confirm-stop-job:7:1:2',
      'chatops:cancel-stop-job:0',
    ]) {
      expect(parseButtonId(forged)).toBeUndefined();
    }
    for (const forged of ['chatops:stop-job:7;Remove-Job 1', 'chatops:rm:7', 'chatops:stop-job:-1', 'chatops:stop-job:07', 'x']) {
      expect(parseButtonId(forged)).toBeUndefined();
    }
  });

  it('the Stop-Job question offers Stop (naming the status message) and Cancel, and its ids parse back', () => {
    const q = renderStopConfirmation(7, '123456789012345678');
    expect(q.content).toContain('Stop-Job -Id 7');
    const [stop, cancel] = q.components[0]!.components;
    expect(stop).toMatchObject({ label: 'Stop', style: 4 });
    expect(cancel).toMatchObject({ label: 'Cancel', style: 2 });
    expect(parseButtonId((stop as { custom_id: string }).custom_id)).toMatchObject({
      action: 'confirm-stop-job',
      statusMessageId: '123456789012345678',
    });
    expect(parseButtonId((cancel as { custom_id: string }).custom_id)).toEqual({ action: 'cancel-stop-job', jobId: 7 });
  });

  it('an edit is one message that clears what it does not set', () => {
    const p = renderForEdit({ blocks: [{ kind: 'status', status: status({ state: 'Completed' }) }] });
    const body = toBody(p);
    expect(body.components).toEqual([]);
    expect(body.allowed_mentions).toEqual({ parse: [] });
  });
});

describe('links', () => {
  it('a message without embeds is sent with SUPPRESS_EMBEDS, and its text as it is', () => {
    const [p] = renderMessage({ blocks: [{ kind: 'code', text: 'see https://example.com/x' }] });
    const body = toBody(p!);
    expect(body.flags).toBe(4);
    expect(body.content).toContain('https://example.com/x');
    expect(toBody(p!, 64).flags).toBe(64 | 4);
  });

  it('a message with an embed is not (the flag would hide the embed): its links are broken instead', () => {
    const [p] = renderMessage({
      blocks: [
        { kind: 'status', status: status({ asJob: true }) },
        { kind: 'table', columns: ['Command'], rows: [['curl HTTPS://example.com/a http://b.example']] },
      ],
    });
    const body = toBody(p!);
    expect(body.flags).toBeUndefined();
    expect(body.content).not.toMatch(/https?:\/\//i);
    expect(String(body.content).replace(/\u200b/g, '')).toContain('curl HTTPS://example.com/a http://b.example');
    expect(breakLinks('no links here')).toBe('no links here');
  });
});
