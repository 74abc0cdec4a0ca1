import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { KEY, type PtyConsole, processesMatching, startConsole } from './pty-console.js';

/**
 * The interactive console in a real terminal (pty-console.ts): Ctrl-C (the byte 0x03 on the
 * terminal) while a command runs stops that command as Stop-Job would (the remote process tree
 * is killed and the stop confirmed, the job ends Stopped) and the prompt comes back; at the
 * prompt it drops what was typed; `exit` and Ctrl-D end the bot.
 */

const consoles: PtyConsole[] = [];
afterAll(() => {
  for (const c of consoles) {
    c.child.kill('SIGKILL');
    rmSync(c.dir, { recursive: true, force: true });
  }
});

it('Ctrl-C while a command runs stops that command, the prompt returns and the job is Stopped', async () => {
  const tty = startConsole();
  consoles.push(tty);
  await tty.until(() => tty.text().includes('PS chatops>'), 'the prompt');
  const marker = `sleep ${50 + Math.floor(Math.random() * 1000) / 1000}`;
  // A second statement in the same command: Ctrl-C ends the whole command, it never runs.
  tty.type(`icm localhost { ${marker}; echo never-printed }; icm localhost { echo after-$((2+2)) }${KEY.enter}`);
  await tty.until(() => /Running/.test(tty.text()) && processesMatching(marker).length > 0, 'the command to run');

  const sentAt = Date.now();
  const before = tty.text().length;
  tty.type(KEY.ctrlC);
  await tty.until(() => tty.text().slice(before).includes('PS chatops>'), 'the prompt after Ctrl-C', 15_000);
  expect(Date.now() - sentAt).toBeLessThan(15_000);
  // The script's process tree is gone (the agent confirmed the stop before the prompt came back).
  expect(processesMatching(marker)).toEqual([]);
  const afterStop = tty.text().slice(before);
  expect(afterStop).toMatch(/Job1 \(Id 1\) Stopped/);
  expect(afterStop).not.toMatch(/never-printed$|after-4/m);

  // The bot is still running: the same session shows the job as Stopped.
  const mark = tty.text().length;
  tty.type(`Get-Job${KEY.enter}`);
  await tty.until(() => /^1\s+Job1\s+RemoteJob\s+Stopped/m.test(tty.text().slice(mark)), 'Get-Job showing the job Stopped');
  expect(tty.text()).not.toMatch(/Internal error|unhandled|at .*\.ts:\d+/i);

  // `exit` ends the bot; the exit code says a command of the session failed (the stopped one).
  tty.type(`exit${KEY.enter}`);
  expect(await tty.exit()).toBe(1);
}, 60_000);

it('Ctrl-C at the prompt drops the typed line and gives a new prompt; Ctrl-D on an empty line ends the bot', async () => {
  const tty = startConsole();
  consoles.push(tty);
  await tty.until(() => tty.text().includes('PS chatops>'), 'the prompt');
  tty.type('Get-Agentxyz');
  await tty.until(() => tty.text().includes('Get-Agentxyz'), 'the typed text');
  tty.type(KEY.ctrlC);
  // What follows Ctrl-C is a command of its own: had the line been kept, `Get-AgentxyzGet-Job`
  // would be an unknown command.
  const mark = tty.text().length;
  tty.type(`Get-Job${KEY.enter}`);
  await tty.until(() => /No jobs\.[\s\S]*PS chatops>/.test(tty.text().slice(mark)), 'Get-Job to run on a fresh line');
  expect(tty.text()).not.toMatch(/Get-AgentxyzGet-Job|not recognized/);

  tty.type(KEY.ctrlD);
  expect(await tty.exit()).toBe(0);
}, 60_000);

it('Ctrl-C during Wait-Job or Receive-Job -Wait ends the wait; the job keeps running, as in PowerShell', async () => {
  const tty = startConsole();
  consoles.push(tty);
  await tty.until(() => tty.text().includes('PS chatops>'), 'the prompt');
  const marker = `sleep ${50 + Math.floor(Math.random() * 1000) / 1000}`;
  tty.type(`icm localhost { ${marker} } -AsJob${KEY.enter}`);
  await tty.until(() => processesMatching(marker).length > 0, 'the job to run');

  for (const wait of ['Wait-Job 1', 'Receive-Job 1 -Wait']) {
    const mark = tty.text().length;
    tty.type(`${wait}${KEY.enter}`);
    // Still waiting a moment later: only Ctrl-C ends it.
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = tty.text();
    expect(waiting.slice(waiting.lastIndexOf(`${wait}\n`) + wait.length + 1)).not.toContain('PS chatops>');
    tty.type(KEY.ctrlC);
    await tty.until(() => /\^C[\s\S]*PS chatops>/.test(tty.text().slice(mark)), `the prompt after Ctrl-C in ${wait}`);
  }
  expect(processesMatching(marker).length).toBeGreaterThan(0);
  const mark = tty.text().length;
  tty.type(`Get-Job${KEY.enter}`);
  await tty.until(() => /^1\s+Job1\s+RemoteJob\s+Running/m.test(tty.text().slice(mark)), 'Get-Job showing the job still Running');
  tty.type(`Stop-Job 1${KEY.enter}`);
  await tty.until(() => processesMatching(marker).length === 0, 'Stop-Job to end the script');
  tty.type(`exit${KEY.enter}`);
  expect(await tty.exit()).not.toBe('hung');
}, 60_000);

it('SIGTERM at the prompt shuts the bot down (exit 143)', async () => {
  const tty = startConsole();
  consoles.push(tty);
  await tty.until(() => tty.text().includes('PS chatops>'), 'the prompt');
  tty.type('Get-Jo'); // half-typed: the bot still goes down
  // `script` runs the bot (exec'd by its shell) as its child.
  const pid = Number(execFileSync('ps', ['-o', 'pid=', '--ppid', String(tty.child.pid)], { encoding: 'utf8' }).trim());
  expect(pid).toBeGreaterThan(0);
  process.kill(pid, 'SIGTERM');
  expect(await tty.exit()).toBe(143);
  expect(tty.text()).not.toMatch(/Internal error|unhandled|at .*\.ts:\d+/i);
}, 60_000);
