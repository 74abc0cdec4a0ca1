import { cpSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubHarness, runAdminProcess, startAgentProcess, waitFor, type AgentProcess } from './harness.js';

/**
 * Real hub (port 0, SQLite file) and real agent processes over real WebSockets.
 */
describe('enrolment and authentication', () => {
  const h = new HubHarness();
  const agents: AgentProcess[] = [];
  const agent = (args: string[]): AgentProcess => {
    const a = startAgentProcess(['--hub', h.url, ...args]);
    agents.push(a);
    return a;
  };

  beforeAll(async () => {
    await h.start({ heartbeatMs: 500 });
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill('SIGKILL')));
    await h.destroy();
  });

  it('enrols with a token from the admin CLI, keeps the secret 0600, reconnects with it, and never logs either', async () => {
    const created = await runAdminProcess(['token', 'create', '--ttl', '10m', '--uses', '1'], h.dbPath);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^cht_[A-Za-z0-9_-]{43}$/);

    const stateDir = join(h.dir, 'state-web1');
    const first = agent(['--name', 'web1', '--token', token, '--state-dir', stateDir, '--tag', 'role=web', '--tag', 'dc=a']);
    await waitFor(() => h.hub.isConnected('web1'), 'web1 to connect');
    const stateFile = join(stateDir, 'state.json');
    await waitFor(() => {
      try {
        return statSync(stateFile);
      } catch {
        return undefined;
      }
    }, 'state file');
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const secret = (JSON.parse(readFileSync(stateFile, 'utf8')) as { secret: string }).secret;
    expect(secret).toMatch(/^chs_/);
    expect(h.registry.authenticate('web1', secret)).toBe(true);
    const rec = h.registry.get('web1')!;
    expect(rec).toMatchObject({ online: true, tags: ['role=web', 'dc=a'] });
    // The agent reports its OS and version with its tags and configurations.
    expect(rec.os).toMatch(new RegExp(`^${process.platform} `));
    expect(rec.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(rec.configurations).toContain('bash');
    expect(rec.defaultConfiguration).toBe(rec.configurations.includes('Microsoft.PowerShell') ? 'Microsoft.PowerShell' : 'bash');

    const listed = await runAdminProcess(['agent', 'list'], h.dbPath);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^NAME\s+STATUS/);
    expect(listed.stdout).toMatch(/web1\s+online/);

    await first.kill();
    await waitFor(() => !h.hub.isConnected('web1'), 'web1 to go');
    expect(h.registry.get('web1')!.online).toBe(false);

    // Second start: no token, the secret from the state file.
    agent(['--name', 'web1', '--state-dir', stateDir]);
    await waitFor(() => h.hub.isConnected('web1'), 'web1 to reconnect with its secret');

    const logs = h.logs.join('\n');
    expect(logs).toContain('agent enrolled');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(secret);
    expect(first.output()).not.toContain(secret);
  });

  it('refuses a forged token, a reused token, a taken name and an unknown secret, and logs each', async () => {
    const forged = agent(['--name', 'web2', '--token', 'cht_' + 'A'.repeat(43), '--state-dir', join(h.dir, 's-forged')]);
    expect(await forged.exited).toBe(3);
    expect(forged.output()).toContain('TokenInvalid');

    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const ok = agent(['--name', 'web3', '--token', token, '--state-dir', join(h.dir, 's-web3')]);
    await waitFor(() => h.hub.isConnected('web3'), 'web3');
    const reused = agent(['--name', 'web4', '--token', token, '--state-dir', join(h.dir, 's-web4')]);
    expect(await reused.exited).toBe(3);
    expect(reused.output()).toContain('TokenUsedUp');

    const fresh = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const taken = agent(['--name', 'WEB3', '--token', fresh, '--state-dir', join(h.dir, 's-web3b')]);
    expect(await taken.exited).toBe(3);
    expect(taken.output()).toContain('NameTaken');
    // the fresh token was not consumed by the refused attempt
    expect(() =>
      h.registry.enroll('web5', fresh, { os: '', version: '', tags: [], configurations: [], defaultConfiguration: '' }),
    ).not.toThrow();

    const fakeDir = join(h.dir, 's-fake');
    mkdirSync(fakeDir, { recursive: true });
    writeFileSync(join(fakeDir, 'state.json'), JSON.stringify({ name: 'web3', secret: 'chs_' + 'B'.repeat(43) }), { mode: 0o600 });
    const unknown = agent(['--name', 'web3', '--state-dir', fakeDir]);
    expect(await unknown.exited).toBe(3);
    expect(unknown.output()).toContain('AuthenticationFailed');

    expect(h.hub.isConnected('web3')).toBe(true);
    const refusals = h.logs.filter((l) => l.includes('agent refused')).join('\n');
    for (const code of ['TokenInvalid', 'TokenUsedUp', 'NameTaken', 'AuthenticationFailed']) expect(refusals).toContain(code);
    expect(refusals).not.toContain(token);
    expect(refusals).not.toContain('B'.repeat(43));
    await ok.kill();
  });

  it('refuses a second live connection for a name without kicking the first', async () => {
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const dirA = join(h.dir, 's-db1');
    agent(['--name', 'db1', '--token', token, '--state-dir', dirA]);
    await waitFor(() => h.hub.isConnected('db1'), 'db1');
    await waitFor(() => {
      try {
        return readFileSync(join(dirA, 'state.json'), 'utf8');
      } catch {
        return undefined;
      }
    }, 'db1 state');
    const dirB = join(h.dir, 's-db1-copy');
    cpSync(dirA, dirB, { recursive: true });
    const before = h.events.filter((e) => e.startsWith('connected db1')).length;
    const twin = agent(['--name', 'db1', '--state-dir', dirB]);
    await waitFor(() => h.logs.some((l) => l.includes('NameInUse')), 'NameInUse refusal');
    expect(h.hub.isConnected('db1')).toBe(true);
    expect(h.events.filter((e) => e.startsWith('disconnected db1'))).toEqual([]);
    expect(h.events.filter((e) => e.startsWith('connected db1')).length).toBe(before);
    expect(twin.child.exitCode).toBeNull(); // transient: it keeps retrying
    await twin.kill();
  });

  it('agent remove cuts the agent off at once and refuses it afterwards', async () => {
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const a = agent(['--name', 'app1', '--token', token, '--state-dir', join(h.dir, 's-app1')]);
    await waitFor(() => h.hub.isConnected('app1'), 'app1');
    const removed = await runAdminProcess(['agent', 'remove', 'APP1'], h.dbPath);
    expect(removed.code).toBe(0);
    const t0 = Date.now();
    await waitFor(() => !h.hub.isConnected('app1'), 'app1 cut off', 3000);
    expect(Date.now() - t0).toBeLessThan(2000); // the hub polls every 250 ms
    expect(await a.exited).toBe(3);
    expect(a.output()).toMatch(/removed|AuthenticationFailed/);
    expect(h.registry.get('app1')).toBeUndefined();
    // and it stays refused: a restart with the same state dir is refused
    const again = agent(['--name', 'app1', '--state-dir', join(h.dir, 's-app1')]);
    expect(await again.exited).toBe(3);
    expect(again.output()).toContain('AuthenticationFailed');
    const missing = await runAdminProcess(['agent', 'remove', 'app1'], h.dbPath);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no enrolled agent named app1');
  });

  it('marks an agent that stops answering offline within two heartbeat intervals', async () => {
    const token = h.registry.createToken({ ttlMs: 60_000, uses: 1 });
    const a = agent(['--name', 'frozen1', '--token', token, '--state-dir', join(h.dir, 's-frozen1')]);
    await waitFor(() => h.hub.isConnected('frozen1'), 'frozen1');
    a.child.kill('SIGSTOP');
    const t0 = Date.now();
    try {
      await waitFor(() => !h.hub.isConnected('frozen1'), 'frozen1 offline', 3000);
      const took = Date.now() - t0;
      expect(took).toBeLessThanOrEqual(2 * 500 + 400); // two intervals, plus timer slack on a busy machine
      expect(h.registry.get('frozen1')!.online).toBe(false);
      expect(h.events).toContain('disconnected frozen1 heartbeat missed');
    } finally {
      a.child.kill('SIGCONT');
    }
    // once it answers again it reconnects by itself
    await waitFor(() => h.hub.isConnected('frozen1'), 'frozen1 back', 5000);
  });
});
