import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreNotice } from '../../src/core/ports.js';
import { RecordingSink, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * Sessions that end without being asked to: the agent closes them after their idle timeout (the
 * bot's maximum, SESSION_MAX_IDLE, is 1 s here, so every session is closed a second after its
 * last command) or its agent restarts without them. The core tells where it matters (a notice):
 * the remote prompt entered in the session, which ends, or else the channel.
 */

let rt: TestRuntime;

beforeAll(async () => {
  const policy = join(mkdtempSync(join(tmpdir(), 'session-ended-policy-')), 'policy.yml');
  writeFileSync(policy, ['rules:', '  - channels: [console]', '    computers: ["*"]', '    cmdlets: ["*"]', ''].join('\n'));
  rt = await startTestRuntime({
    env: { CHATOPS_POLICY_FILE: policy, SESSION_MAX_IDLE: '1s' },
    agents: [
      { name: 'web1', args: ['--configuration', 'bash'] },
      { name: 'web2', args: ['--configuration', 'bash'] },
    ],
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

function tableRows(r: { sink: RecordingSink }): string[][] {
  return r.sink.shownBlocks().flatMap((b) => (b.kind === 'table' ? b.rows : []));
}

const notices: CoreNotice[] = [];
let claim = false;

const at = async (text: string, scope?: string) => {
  const sink = new RecordingSink();
  const outcome = await rt.core.handle(
    {
      channel: 'console',
      user: { platform: 'console', userId: 'console', displayName: 'tester' },
      text,
      source: 'command',
      ...(scope !== undefined ? { scope } : {}),
    },
    sink,
  );
  return { ...outcome, sink };
};

async function waitFor(pred: (n: CoreNotice) => boolean): Promise<CoreNotice> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = notices.find(pred);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no such notice; got ${JSON.stringify(notices)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const text = (n: CoreNotice) => n.message.blocks.map((b) => ('text' in b ? b.text : '')).join('\n');

describe('sessions that end by themselves', () => {
  beforeAll(() => {
    rt.core.onNotice((n) => {
      notices.push(n);
      return claim;
    });
  });

  it("the idle timeout: the channel is told, naming the session and the agent's reason", async () => {
    const opened = await at('$t = New-PSSession web1 -Name idle1');
    expect(opened.ok, opened.sink.text()).toBe(true);
    const told = await waitFor((n) => text(n).includes('idle1'));
    expect(told.channel).toBe('console');
    expect(told.scope).toBeUndefined();
    expect(told.endedPrompt).toBeUndefined();
    expect(text(told)).toBe(
      'The session idle1 on web1 was closed by its agent: The session was closed after 1s without a command (IdleTimeout).',
    );
    const listed = await at('Get-PSSession -Name idle1');
    expect(tableRows(listed)[0]?.[4]).toBe('Closed');
    await at('Remove-PSSession -Name idle1');
    expect(notices.filter((n) => text(n).includes('idle1'))).toHaveLength(1);
  });

  it('at a remote prompt nobody shows the notice: the next line typed there is told, not run, and the place is back at its own prompt', async () => {
    claim = false;
    const entered = await at('Enter-PSSession web2', 'host-idle');
    expect(entered.prompt, entered.sink.text()).toBe('[web2]: PS>');
    const ended = await waitFor((n) => n.scope === 'host-idle');
    expect(ended.endedPrompt).toBe('[web2]: PS>');
    expect(text(ended)).toMatch(
      /^The remote prompt \[web2\]: PS> has ended: the session \S+ on web2 was closed by its agent: .*\(IdleTimeout\)\.$/,
    );
    const line = await at('echo should-not-run', 'host-idle');
    expect(line.ok).toBe(false);
    expect(line.prompt).toBeUndefined();
    expect(line.sink.text()).toMatch(/The remote prompt has ended: .*This line was not run\./);
    const after = await at('Get-PSSession', 'host-idle');
    expect(after.ok, after.sink.text()).toBe(true);
    // Enter-PSSession's own session went with its prompt.
    expect(tableRows(after)).toEqual([]);
  });

  it('where an adapter shows the notice the prompt ends at once; an agent restart ends it too (Broken)', async () => {
    claim = true;
    expect((await at('Enter-PSSession web1', 'host-shown')).prompt).toBe('[web1]: PS>');
    await waitFor((n) => n.scope === 'host-shown');
    const next = await at('Get-PSSession', 'host-shown');
    expect(next.ok, next.sink.text()).toBe(true);
    expect(next.prompt).toBeUndefined();
    expect(tableRows(next)).toEqual([]);

    // Kept busy, so the idle timeout is not what ends it: the agent's restart is.
    const s = await at('$b = New-PSSession web2 -Name busy1');
    expect(s.ok, s.sink.text()).toBe(true);
    const job = await at('Invoke-Command -Session $b { sleep 30 } -AsJob');
    expect(job.ok, job.sink.text()).toBe(true);
    await rt.agent('web2').restart();
    const broken = await waitFor((n) => text(n).includes('busy1'));
    expect(broken.scope).toBeUndefined();
    expect(text(broken)).toMatch(/^The session busy1 on web2 is Broken: The agent web2 restarted/);
    expect(tableRows(await at('Get-PSSession -Name busy1'))[0]?.[4]).toBe('Broken');
  }, 60_000);
});
