import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Invoker } from '../../src/core/ports.js';
import { createPermissionsModule, type PermissionsModule } from '../../src/permissions/module.js';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';
import { runAdminProcess } from './harness.js';

/**
 * Tags that rules match come from the registry (enrolment, then an admin), never from what an
 * agent claims when it connects again. Through the real bot (hub, SQLite file, policy file), a
 * real agent process restarted with `--tag role=web`, and the real admin CLI as a process.
 */

const WEB = 'slack:T1/C100'; // may target computers tagged role=web
const alice: Invoker = { platform: 'slack', userId: 'U1', displayName: 'alice' };

let dir: string;
let markers: string;
let permissions: PermissionsModule;
let rt: TestRuntime;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'registered-tags-'));
  markers = join(dir, 'markers');
  mkdirSync(markers);
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(
    policyFile,
    ['rules:', '  - name: web', `    channel: ${WEB}`, '    computers: [role=web]', '    cmdlets: [Invoke-Command]', ''].join('\n'),
  );
  permissions = createPermissionsModule();
  rt = await startTestRuntime({
    agents: [{ name: 'app1' }], // enrolled with no tags
    authorizer: permissions.authorizer,
    extraCmdlets: permissions.extraCmdlets,
    env: { CHATOPS_POLICY_FILE: policyFile },
  });
}, 60_000);

afterAll(async () => {
  permissions?.close();
  await rt?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  for (const f of readdirSync(markers)) rmSync(join(markers, f));
});

/** Restarts app1 claiming `tags`, and waits until the hub has taken the new process's hello. */
async function restartClaiming(tags: string[]): Promise<void> {
  const agent = rt.agent('app1');
  await agent.kill();
  await waitFor(() => !rt.app.hub.isConnected('app1'), 5_000, 'the old app1 connection to close');
  await agent.restart({ tags });
  expect(agent.process()?.spawnargs.join(' ')).toContain(`--tag ${tags.join(' --tag ')}`);
}

async function icm(marker: string): Promise<{ ok: boolean; replies: string }> {
  const r = await rt.run(`Invoke-Command -ComputerName app1 { touch '${markers}/${marker}' }`, { channel: WEB, user: alice });
  return { ok: r.ok, replies: r.sink.replies().join('\n') };
}

describe('tags come from the registry', () => {
  it('an enrolled agent restarted with --tag role=web is still refused; an admin tagging it lets the running bot allow it', async () => {
    const refused = 'This channel may not target app1: no rule allows it';
    expect(await icm('before')).toMatchObject({ ok: false, replies: expect.stringContaining(refused) });

    // The agent claims the tag the rule wants: it reconnects, and nothing widens.
    await restartClaiming(['role=web']);
    expect(rt.app.registry.get('app1')?.tags).toEqual([]);
    expect(await icm('claimed')).toMatchObject({ ok: false, replies: expect.stringContaining(refused) });
    expect(existsSync(join(markers, 'claimed'))).toBe(false);

    // An admin tags it with the real CLI (another process, same database); the bot keeps running.
    const app = rt.app;
    const tagged = await runAdminProcess(['agent', 'tag', 'app1', 'role=web'], rt.config.dbPath);
    expect(tagged, tagged.stderr).toMatchObject({ code: 0 });
    expect(tagged.stdout).toContain('Tags of app1: role=web.');
    const allowed = await icm('tagged');
    expect(allowed.ok, allowed.replies).toBe(true);
    expect(existsSync(join(markers, 'tagged'))).toBe(true);
    expect(rt.app).toBe(app);

    // Listed as the registry holds it, and taken away the same way.
    const listed = await runAdminProcess(['agent', 'list'], rt.config.dbPath);
    expect(listed.stdout).toMatch(/^app1\s.*\srole=web\s/m);
    const untagged = await runAdminProcess(['agent', 'untag', 'app1', 'role'], rt.config.dbPath);
    expect(untagged, untagged.stderr).toMatchObject({ code: 0 });
    expect(await icm('untagged')).toMatchObject({ ok: false, replies: expect.stringContaining(refused) });
    expect(existsSync(join(markers, 'untagged'))).toBe(false);

    // A restart claiming a different value does not move the registered one either.
    await runAdminProcess(['agent', 'tag', 'app1', 'role=db'], rt.config.dbPath);
    await restartClaiming(['role=web', 'role=db']);
    expect(rt.app.registry.get('app1')?.tags).toEqual(['role=db']);
    expect(await icm('claimed-again')).toMatchObject({ ok: false, replies: expect.stringContaining(refused) });
    expect(existsSync(join(markers, 'claimed-again'))).toBe(false);
  }, 60_000);
});
