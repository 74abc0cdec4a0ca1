import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { embeddedAgentName } from '../../src/hub/embedded-agent.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * A refusal says what to do about it: it names the computer as it was typed (`localhost`, with
 * the agent that name reached), the channel id a rule must name, and the smallest grant that
 * would allow it, as a Grant-ChannelPermission line and as a policy-file rule. Through the real
 * core, permissions module and embedded agent.
 */

let rt: TestRuntime;
let dir: string;
const CHANNEL = 'slack:T1/C7';
const alice = { platform: 'slack' as const, userId: 'slack:U1', displayName: 'alice' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'refusal-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, `rules:\n  - name: ops\n    channels: [${CHANNEL}]\n    computers: [web*]\n    cmdlets: [Invoke-Command]\n`);
  rt = await startTestRuntime({
    embeddedAgent: true,
    env: { CHATOPS_POLICY_FILE: policy, EMBEDDED_AGENT_CHAT: 'true' },
  });
});
afterAll(async () => {
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('names the computer as typed and the agent it reached, the channel, and the smallest grant', async () => {
  const host = embeddedAgentName();
  const r = await rt.run('icm localhost { echo never }', { channel: CHANNEL, user: alice });
  expect(r.ok).toBe(false);
  const said = r.sink.replies().join('\n');
  expect(said).toContain(`This channel may not target localhost (the agent ${host}): no rule allows it`);
  expect(said).toContain(
    `A bot admin can allow it with: Grant-ChannelPermission -Channel ${CHANNEL} -Cmdlet Invoke-Command -ComputerName ${host}`,
  );
  expect(said).toContain(`(in the policy file: { channels: [${CHANNEL}], cmdlets: [Invoke-Command], computers: [${host}] })`);
  expect(r.jobIds).toEqual([]);
});
