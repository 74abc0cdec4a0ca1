import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * A job's Command (status message, Get-Job, the store) is masked like the audit trail's
 * command line: token shapes inside script blocks never reach the channel again.
 */

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime({ agents: [{ name: 'web1' }] });
});

afterAll(async () => {
  await rt?.stop();
});

const run = (text: string) => rt.run(text);

describe('job command text', () => {
  it('masks token shapes inside the script block in the store, the status and Get-Job', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
    const line = `icm web1 { echo "password=hunter2secret"; echo 'Authorization: Bearer abcdefghijklmnop'; echo ${jwt} } -AsJob -JobName masked`;
    const started = await run(line);
    const id = started.jobIds[0]!;
    await run(`Wait-Job ${id}`);
    const command = rt.app.store.getJob(id)!.command;
    expect(command).toContain('password=***');
    expect(command).toContain('Bearer ***');
    for (const secret of ['hunter2secret', 'abcdefghijklmnop', jwt]) {
      expect(command).not.toContain(secret);
    }
    const status = started.sink.latestStatus();
    expect(JSON.stringify(status)).not.toContain('hunter2secret');
    const listed = await run('Get-Job -Name masked');
    const shown = listed.sink.text();
    expect(shown).toContain('password=***');
    expect(shown).not.toContain('hunter2secret');
    expect(shown).not.toContain(jwt);
    // The script itself ran with its real text: only what is stored and shown is masked.
    const received = await run(`Receive-Job ${id} -Keep`);
    expect(received.sink.text()).toContain('password=hunter2secret');
  });
});
