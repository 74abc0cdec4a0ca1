import { describe, expect, it } from 'vitest';
import { freshScope, PromptThreads, threadLine, threadTitle } from '../../adapters/prompt-threads.js';
import { messageText } from '../../adapters/slack/commands.js';
import { slackEscapeText } from '../fakes/slack-server.js';

/** How a message typed in a remote prompt's thread becomes the line run in the session. */

describe('Slack message text', () => {
  it('decodes what Slack escaped, so the shell gets the line as typed', () => {
    const typed = `cd /tmp && echo "<a>" > out.txt && cat < out.txt`;
    expect(messageText(slackEscapeText(typed))).toBe(typed);
  });

  it('turns the links Slack made back into addresses, and keeps a typed &lt; a <', () => {
    expect(messageText('curl -s <https://example.com/x?a=1&amp;b=2|example.com/x?a=1&amp;b=2> &gt; page')).toBe(
      'curl -s https://example.com/x?a=1&b=2 > page',
    );
    expect(messageText('curl <http://web1:8080/health>')).toBe('curl http://web1:8080/health');
    expect(messageText('mail <mailto:ops@example.com|ops@example.com>')).toBe('mail ops@example.com');
    expect(messageText('echo &lt;http://x&gt;')).toBe('echo <http://x>');
  });
});

describe('thread lines', () => {
  it('takes a whole message in a code block as the code inside it', () => {
    expect(threadLine('```\necho "n=$N"\n```')).toBe('echo "n=$N"');
    expect(threadLine('```bash\nls -l\npwd\n```')).toBe('ls -l\npwd');
    expect(threadLine('`uptime`')).toBe('uptime');
    expect(threadLine('  echo `date`  ')).toBe('echo `date`');
  });

  it('names the thread after the prompt, without its >', () => {
    expect(threadTitle('[web1]: PS>')).toBe('[web1]: PS');
  });

  it('gives every command a scope of its own', () => {
    expect(freshScope()).not.toBe(freshScope());
  });

  it('runs the lines of one thread one after another, in order', async () => {
    const threads = new PromptThreads();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const first = threads.run('t', async () => {
      await gate;
      order.push('first');
    });
    const second = threads.run('t', async () => {
      order.push('second');
    });
    const other = threads.run('u', async () => {
      order.push('other thread');
    });
    await other;
    expect(order).toEqual(['other thread']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['other thread', 'first', 'second']);
  });

  it('forgets the oldest thread past its bound', () => {
    const threads = new PromptThreads(2);
    for (const k of ['a', 'b', 'c']) threads.open(k, { channel: 'slack:T1/C1', scope: k, prompt: '[web1]: PS>' });
    expect(threads.get('a')).toBeUndefined();
    expect(threads.get('c')?.scope).toBe('c');
  });
});
