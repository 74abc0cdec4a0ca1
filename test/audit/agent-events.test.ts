import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit, verifyAuditChain } from '../../src/audit/audit-log.js';
import { runAdmin } from '../../src/admin/main.js';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { startAgentProcess, type AgentProcess } from '../hub/harness.js';

/**
 * Agent enrolment (allowed and refused) and removal land in the hash-chained audit trail:
 * the real bot, real agent processes, the real admin command line on the same SQLite file.
 */

let rt: TestRuntime;
const extra: AgentProcess[] = [];

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }] });
});

afterAll(async () => {
  await Promise.all(extra.map((a) => a.kill('SIGKILL')));
  await rt?.stop();
});

describe('agent audit records', () => {
  it('records enrolment, refused enrolments and removal without any token or secret, and the chain verifies', async () => {
    const forgedToken = 'cht_' + 'Q'.repeat(43);
    const forged = startAgentProcess([
      '--hub',
      rt.app.hubUrl,
      '--name',
      'web2',
      '--token',
      forgedToken,
      '--state-dir',
      join(rt.dir, 's-forged'),
    ]);
    extra.push(forged);
    expect(await forged.exited).toBe(3);

    const takenToken = rt.app.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const taken = startAgentProcess([
      '--hub',
      rt.app.hubUrl,
      '--name',
      'WEB1',
      '--token',
      takenToken,
      '--state-dir',
      join(rt.dir, 's-taken'),
    ]);
    extra.push(taken);
    expect(await taken.exited).toBe(3);

    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdmin(['agent', 'remove', 'web1'], {
      env: { CHATOPS_DB: join(rt.dir, 'chatops.db') },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      dotEnvPath: '/nonexistent/.env',
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    await waitFor(() => !rt.app.hub.isConnected('web1'), 5000, 'web1 to be cut off');

    const records = readAudit(rt.app.db).filter((r) => r.kind === 'enrolment' || r.kind === 'agent-removed');
    expect(records.map((r) => [r.kind, r.targets, r.decision, r.platform])).toEqual([
      ['enrolment', ['web1'], 'allowed', 'hub'],
      ['enrolment', ['web2'], 'refused', 'hub'],
      ['enrolment', ['WEB1'], 'refused', 'hub'],
      ['agent-removed', ['web1'], 'allowed', 'admin'],
    ]);
    expect(records[0]!.command).toBe('enrol web1');
    expect(records[0]!.user).toMatch(/^agent:web1@127\.0\.0\.1:\d+$/);
    expect(records[1]!.reason).toContain('TokenInvalid');
    expect(records[2]!.reason).toContain('NameTaken');
    expect(records[3]!.command).toBe('agent remove web1');
    expect(records[3]!.user).toMatch(/^os:/);

    const secret = (JSON.parse(readFileSync(join(rt.agent('web1').stateDir, 'state.json'), 'utf8')) as { secret: string }).secret;
    const all = JSON.stringify(readAudit(rt.app.db));
    for (const s of [secret, forgedToken, takenToken]) expect(all).not.toContain(s);
    expect(all).not.toMatch(/ch[ts]_[A-Za-z0-9_-]{16,}/);
    expect(verifyAuditChain(rt.app.db)).toMatchObject({ ok: true, count: readAudit(rt.app.db).length });
  });

  it('records an enrolment token being created, without the token', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdmin(['token', 'create', '--ttl', '30m', '--uses', '2'], {
      env: { CHATOPS_DB: join(rt.dir, 'chatops.db') },
      out: (l) => out.push(l),
      err: (l) => err.push(l),
      dotEnvPath: '/nonexistent/.env',
    });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const token = out[0]!;
    expect(token).toMatch(/^cht_/);
    const rec = readAudit(rt.app.db).at(-1)!;
    expect(rec).toMatchObject({ kind: 'token-created', platform: 'admin', channel: 'admin', decision: 'allowed' });
    expect(rec.command).toBe('token create --ttl 30m --uses 2');
    expect(rec.user).toMatch(/^os:/);
    expect(JSON.stringify(readAudit(rt.app.db))).not.toContain(token);
    expect(verifyAuditChain(rt.app.db)).toMatchObject({ ok: true });
  });
});
