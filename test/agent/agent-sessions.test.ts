import { describe, expect, it } from 'vitest';
import { AgentSessions } from '../../agent/sessions.js';
import type { RunResult } from '../../agent/executors.js';
import { silentLogger } from '../../src/log.js';
import type { SessionStateMessage } from '../../src/protocol/agent-protocol.js';

/** The agent's sessions on their own (real bash): open, run, idle timeout, refusals. */
function sessions(sent: SessionStateMessage[]): AgentSessions {
  return new AgentSessions({
    agent: 'web1',
    log: silentLogger,
    configurations: [{ name: 'bash', kind: 'bash' }],
    defaultConfiguration: 'bash',
    send: (m) => sent.push(m),
  });
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function run(s: AgentSessions, id: string, script: string): Promise<{ out: string; result: RunResult } | { refused: string }> {
  return new Promise((resolve) => {
    let out = '';
    const r = s.run(
      id,
      { runId: `r-${Math.random()}`, configuration: 'bash', kind: 'bash', script, arguments: [], using: {}, maxRuntimeMs: 0 },
      { output: (_stream, data) => (out += data), finish: (result) => resolve({ out, result }) },
    );
    if ('refused' in r) resolve(r);
  });
}

describe('AgentSessions', () => {
  it('closes a session after its idle timeout and tells the hub why; a command resets the timer', async () => {
    const sent: SessionStateMessage[] = [];
    const s = sessions(sent);
    s.open('s1', 'bash', 400);
    expect(sent).toEqual([expect.objectContaining({ sessionId: 's1', state: 'Opened' })]);
    // Busy for longer than the timeout: not closed meanwhile.
    const r = await run(s, 's1', 'sleep 0.6; echo done');
    expect(r).toEqual({ out: 'done\n', result: { state: 'Completed', exitCode: 0 } });
    expect(s.ids()).toEqual(['s1']);
    await until(() => sent.length === 2);
    expect(sent[1]).toEqual(
      expect.objectContaining({
        sessionId: 's1',
        state: 'Closed',
        reason: 'The session was closed after 0.4s without a command (IdleTimeout)',
      }),
    );
    expect(s.ids()).toEqual([]);
    expect(await run(s, 's1', 'echo x')).toEqual({ refused: expect.stringContaining('The session is not available on web1') });
  });

  it('a stop mid-command interrupts it and the session lives on with its state; a stop at once ends the command unrun', async () => {
    const sent: SessionStateMessage[] = [];
    const s = sessions(sent);
    s.open('s2', 'bash', 0);
    expect(await run(s, 's2', 'kept=yes')).toEqual({ out: '', result: { state: 'Completed', exitCode: 0 } });
    const mid = new Promise<RunResult>((resolve) => {
      const r = s.run(
        's2',
        {
          runId: 'r-mid',
          configuration: 'bash',
          kind: 'bash',
          script: 'f() { sleep 30; echo ran; }; f; echo rest',
          arguments: [],
          using: {},
          maxRuntimeMs: 0,
        },
        { output: () => {}, finish: resolve },
      );
      if ('refused' in r) throw new Error(r.refused);
      setTimeout(() => r.stop(), 300);
    });
    expect(await mid).toEqual(expect.objectContaining({ state: 'Stopped' }));
    expect(await run(s, 's2', 'echo "kept=$kept"')).toEqual({ out: 'kept=yes\n', result: { state: 'Completed', exitCode: 0 } });
    expect(s.ids()).toEqual(['s2']);

    // Stopped in the same tick it was sent (bash has not read it): it never runs. (On a heavily
    // loaded machine the session may then be closed, saying so, rather than kept: not asserted.)
    let out = '';
    const now = new Promise<RunResult>((resolve) => {
      const r = s.run(
        's2',
        { runId: 'r-now', configuration: 'bash', kind: 'bash', script: 'sleep 30; echo ran', arguments: [], using: {}, maxRuntimeMs: 0 },
        { output: (_stream, data) => (out += data), finish: resolve },
      );
      if ('refused' in r) throw new Error(r.refused);
      r.stop();
    });
    expect(await now).toEqual(expect.objectContaining({ state: 'Stopped' }));
    expect(out).not.toContain('ran');
    s.closeAll();
  }, 60_000);

  it('answers an open for a configuration it does not offer with Closed and the reason', () => {
    const sent: SessionStateMessage[] = [];
    sessions(sent).open('s2', 'Microsoft.PowerShell', 0);
    expect(sent).toEqual([
      expect.objectContaining({
        state: 'Closed',
        reason: "The agent web1 has no session configuration 'Microsoft.PowerShell'; it offers: bash",
      }),
    ]);
  });
});
