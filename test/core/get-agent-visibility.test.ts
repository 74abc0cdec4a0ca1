import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoker } from '../../src/core/ports.js';
import { startTestRuntime, RecordingSink, type TestRuntime } from '../helpers/runtime.js';

/**
 * Get-Agent shows a channel only the agents it may target, as if the others did not exist;
 * bot admins see every agent.
 */
const CHANNEL = 'slack:T1/C9';
const member: Invoker = { platform: 'slack', userId: 'U1', displayName: 'member' };
const admin: Invoker = { platform: 'slack', userId: 'U9', displayName: 'admin' };

let rt: TestRuntime;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'get-agent-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    `rules:\n  - name: web1-only\n    channel: ${CHANNEL}\n    computers: [web1]\n    cmdlets: [Get-Agent, Invoke-Command]\n`,
  );
  rt = await startTestRuntime({
    agents: [{ name: 'web1' }, { name: 'web2' }],
    env: { CHATOPS_POLICY_FILE: policyFile, CHATOPS_ADMINS: 'slack:U9' },
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function agentNames(user: Invoker, text = 'Get-Agent') {
  const sink = new RecordingSink();
  const outcome = await rt.core.handle({ channel: CHANNEL, user, text, source: 'command' }, sink);
  const table = sink.postBlocks().find((b) => b.kind === 'table');
  return { outcome, sink, names: table?.kind === 'table' ? table.rows.map((r) => r[0]) : [] };
}

describe('Get-Agent', () => {
  it('lists only the agents the channel may target', async () => {
    expect((await agentNames(member)).names).toEqual(['web1']);
    const hidden = await agentNames(member, 'Get-Agent -Name web2');
    expect(hidden.names).toEqual([]);
    expect(hidden.sink.replies().join('\n')).toContain("Cannot find an agent with the name 'web2'.");
  });

  it('lists every agent for a bot admin', async () => {
    expect((await agentNames(admin)).names).toEqual(['web1', 'web2']);
  });
});
