import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, waitFor, type TestRuntime } from '../helpers/runtime.js';

/**
 * The enrolment token kept out of the process list: real agent processes enrol with the real
 * bot taking the token from --token-file or CHATOPS_AGENT_TOKEN, and `ps` (what any user of the
 * computer can run) shows no token for them. `--token` still works and says why not to use it.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({
    agents: [
      { name: 'byfile', tokenVia: 'file' },
      { name: 'byenv', tokenVia: 'environment' },
      { name: 'byarg', tokenVia: 'argument' },
    ],
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

/** The command line as `ps` shows it to every user of the computer. */
function psArgs(name: string): string {
  const pid = rt.agent(name).process()?.pid;
  if (pid === undefined) throw new Error(`${name} is not running`);
  return execFileSync('ps', ['-ww', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
}

describe('agent enrolment token sources', () => {
  it('enrols from --token-file and from CHATOPS_AGENT_TOKEN with no token in the process list', async () => {
    for (const name of ['byfile', 'byenv']) {
      expect(rt.app.registry.get(name), name).toMatchObject({ name, online: true });
      const args = psArgs(name);
      expect(args).toContain(`--name ${name}`);
      expect(args, name).not.toMatch(/cht_/);
      expect(rt.agent(name).stderr(), name).not.toContain('process list');
    }
    expect(psArgs('byfile')).toMatch(/--token-file \S+byfile\.token/);
  });

  it('restarts once enrolled with the token file deleted (the flag can stay in the service definition)', async () => {
    rmSync(join(rt.dir, 'byfile.token'));
    const agent = rt.agent('byfile');
    await agent.kill();
    await waitFor(() => !rt.app.hub.isConnected('byfile'), 5_000, 'byfile to go');
    await agent.restart();
    expect(psArgs('byfile')).toContain('--token-file');
    expect(rt.app.hub.isConnected('byfile')).toBe(true);
  });

  it('still enrols with --token, warning that other users can read it in the process list', async () => {
    expect(rt.app.registry.get('byarg')).toMatchObject({ name: 'byarg', online: true });
    expect(psArgs('byarg')).toMatch(/--token cht_/); // the hole --token-file closes
    const stderr = rt.agent('byarg').stderr();
    expect(stderr).toContain('other users of this computer can read it in the process list (ps)');
    expect(stderr).toContain('use --token-file FILE or CHATOPS_AGENT_TOKEN instead');
    expect(stderr).not.toMatch(/cht_/); // the warning itself does not repeat the token
  });

  it('does not hand CHATOPS_AGENT_TOKEN on to the scripts it runs', async () => {
    const r = await rt.run('Invoke-Command -ComputerName byenv -ConfigurationName sh { env }');
    expect(r.ok, r.sink.replies().join('\n')).toBe(true);
    const env = rt.app.store
      .output(r.jobIds[0]!)
      .map((o) => o.data)
      .join('');
    expect(env).toMatch(/^PATH=/m);
    expect(env).not.toContain('CHATOPS_AGENT_TOKEN');
    expect(env).not.toMatch(/cht_/);
  });
});
