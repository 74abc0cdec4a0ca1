import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { codeFence, escapeCode, escapeMrkdwn, ZWSP } from '../../adapters/slack/escape.js';

/** What Slack shows for mrkdwn text: entities decoded, no control sequences (`<...>`) left to act on. */
function decode(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

describe('escapeMrkdwn', () => {
  it('escapes the three control characters Slack defines', () => {
    expect(escapeMrkdwn('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
  });

  it('escapes an existing entity so it shows literally', () => {
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
    expect(decode(escapeMrkdwn('&lt;!here&gt;'))).toBe('&lt;!here&gt;');
  });

  it('leaves no special mention, user mention or link syntax', () => {
    for (const attack of [
      '<!here>',
      '<!channel>',
      '<!everyone>',
      '<@U123>',
      '<#C123>',
      '<https://evil.example|click me>',
      '<!subteam^S1>',
    ]) {
      const out = escapeMrkdwn(attack);
      expect(out).not.toMatch(/[<>]/);
      expect(decode(out)).toBe(attack);
    }
  });

  it('breaks @channel, @here and @everyone in any case', () => {
    for (const word of ['@channel', '@here', '@everyone', '@Channel', 'ping @HERE now']) {
      const out = escapeMrkdwn(word);
      expect(out).not.toMatch(/@(channel|here|everyone)/i);
      expect(out.replace(/\u2060/g, '')).toBe(word);
    }
    expect(escapeMrkdwn('user@herein.example')).toBe('user@herein.example');
  });

  it('never lets a < or > through, for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
        const out = escapeMrkdwn(s);
        expect(out).not.toMatch(/[<>]/);
        expect(decode(out.replace(/\u2060/g, ''))).toBe(s);
      }),
    );
  });
});

describe('escapeCode', () => {
  it('breaks every run of backticks so a fence cannot close', () => {
    const out = escapeCode('before ``` after ```` and ``');
    expect(out).not.toContain('``');
    expect(out.split(ZWSP).join('')).toBe('before ``` after ```` and ``');
  });

  it('keeps single backticks and ordinary text untouched', () => {
    expect(escapeCode('echo `date` | tr a b')).toBe('echo `date` | tr a b');
  });

  it('also escapes control characters and mentions inside code', () => {
    expect(escapeCode('<!here> & <@U1>')).toBe('&lt;!here&gt; &amp; &lt;@U1&gt;');
    expect(escapeCode('@channel')).not.toContain('@channel');
  });

  it('output inside a fence has exactly two fences, for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('`', 'a', '\n', '<', '&', ' ') }), (s) => {
        const fenced = codeFence(escapeCode(s));
        expect(fenced.match(/```/g)?.length).toBe(2);
        expect(fenced.startsWith('```\n')).toBe(true);
        expect(fenced.endsWith('\n```')).toBe(true);
      }),
    );
  });

  it('an empty code block still has content (Slack refuses empty text)', () => {
    expect(codeFence('')).toBe('```\n \n```');
  });
});
