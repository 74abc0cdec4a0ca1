import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Invoker } from '../../src/core/ports.js';
import { createPermissionsModule, type PermissionsModule } from '../../src/permissions/module.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';
import { startAgentProcess, type AgentProcess } from './harness.js';

/**
 * `web1.` is DNS's fully qualified spelling of `web1`: one computer. Through the real bot (hub,
 * SQLite file, policy file) and real agent processes: a second agent cannot enrol as `web1.`
 * beside web1, and `icm web1.` reaches web1 under web1's rules only.
 */

const EXACT = 'slack:T1/C100'; // may target web1
const WILD = 'slack:T1/C200'; // may target web1? (web1 plus one character): never web1 itself
const alice: Invoker = { platform: 'slack', userId: 'U1', displayName: 'alice' };

let dir: string;
let markers: string;
let permissions: PermissionsModule;
let rt: TestRuntime;
const strays: AgentProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trailing-dot-'));
  markers = join(dir, 'markers');
  mkdirSync(markers);
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    [
      'rules:',
      '  - name: exact',
      `    channel: ${EXACT}`,
      '    computers: [web1]',
      '    cmdlets: [Invoke-Command]',
      '  - name: wildcard',
      `    channel: ${WILD}`,
      "    computers: ['web1?']",
      '    cmdlets: [Invoke-Command]',
      '',
    ].join('\n'),
  );
  permissions = createPermissionsModule();
  rt = await startTestRuntime({
    agents: [{ name: 'web1' }],
    authorizer: permissions.authorizer,
    extraCmdlets: permissions.extraCmdlets,
    env: { CHATOPS_POLICY_FILE: policyFile },
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(strays.map((a) => a.kill('SIGKILL')));
  permissions?.close();
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const f of readdirSync(markers)) rmSync(join(markers, f));
});

describe('a trailing dot names the same computer', () => {
  it('refuses to enrol web1. (or WEB1.) while web1 is enrolled, and leaves web1 alone', async () => {
    for (const name of ['web1.', 'WEB1.']) {
      const token = rt.app.registry.createToken({ ttlMs: 60_000, uses: 1 });
      const stray = startAgentProcess([
        '--hub',
        rt.app.hubUrl,
        '--name',
        name,
        '--token',
        token,
        '--state-dir',
        join(dir, `state-${name}`),
      ]);
      strays.push(stray);
      const exit = await Promise.race([stray.exited, new Promise((r) => setTimeout(() => r('still running: enrolled'), 10_000))]);
      expect(exit, stray.output()).toBe(3);
      expect(stray.output()).toContain('NameTaken');
    }
    expect(rt.app.registry.list().map((a) => a.name)).toEqual(['web1']);
    expect(rt.app.hub.isConnected('web1')).toBe(true);
  }, 30_000);

  it('runs icm web1. on web1 for a rule that allows web1', async () => {
    const r = await rt.run(`Invoke-Command -ComputerName web1. { echo ran; touch '${markers}/exact' }`, { channel: EXACT, user: alice });
    expect(r.ok, r.sink.replies().join('\n')).toBe(true);
    const jobId = r.jobIds[0]!;
    expect(rt.app.store.children(jobId).map((c) => [c.computer, c.agent, c.state])).toEqual([['web1.', 'web1', 'Completed']]);
    expect(rt.app.store.output(jobId).map((o) => o.data.trim())).toEqual(['ran']);
    expect(existsSync(join(markers, 'exact'))).toBe(true); // web1 is the only agent there is
  }, 30_000);

  it('does not let a web1? rule reach web1 as web1.', async () => {
    for (const target of ['web1.', 'WEB1.', 'web1']) {
      const r = await rt.run(`Invoke-Command -ComputerName ${target} { touch '${markers}/wild' }`, { channel: WILD, user: alice });
      expect(r.ok, target).toBe(false);
      expect(r.jobIds, target).toEqual([]);
      expect(r.sink.replies().join('\n'), target).toContain('This channel may not target web1: no rule allows it');
    }
    expect(existsSync(join(markers, 'wild'))).toBe(false);
  }, 30_000);
});
