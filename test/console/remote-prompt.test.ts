import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { KEY, type PtyConsole, startConsole } from './pty-console.js';

/**
 * Enter-PSSession at the console in a real terminal: the prompt becomes `[localhost]: PS>`, every
 * line runs in the session (state kept), Ctrl-C stops only the running line, `exit` leaves the
 * session (not the bot), and the next `exit` ends the bot. Expected output is computed by the
 * remote shell (`$((6*7))`), so the typed line's echo never matches it.
 */

const consoles: PtyConsole[] = [];
afterAll(() => {
  for (const c of consoles) {
    c.child.kill('SIGKILL');
    rmSync(c.dir, { recursive: true, force: true });
  }
});

async function typeAndSee(tty: PtyConsole, keys: string, what: string, label: string): Promise<string> {
  const mark = tty.text().length;
  tty.type(keys);
  await tty.until(() => tty.text().slice(mark).includes(what), label);
  return tty.text().slice(mark);
}

it('Enter-PSSession turns the prompt into [localhost]: PS>, lines run in the session until exit, then the bot prompt is back', async () => {
  const tty = startConsole();
  consoles.push(tty);
  await tty.until(() => tty.text().includes('PS chatops>'), 'the prompt');
  await typeAndSee(tty, `Enter-PSSession localhost${KEY.enter}`, '[localhost]: PS>', 'the remote prompt');
  await typeAndSee(tty, `n=$((6*7)); cd /tmp${KEY.enter}`, '[localhost]: PS>', 'the prompt after a line');
  await typeAndSee(tty, `echo "n=$n at $(pwd)"${KEY.enter}`, 'n=42 at /tmp', 'state kept in the session');
  // Ctrl-C stops the running line only: the prompt stays remote.
  const stopped = await typeAndSee(tty, `sleep 30${KEY.enter}`, 'Running', 'the line running');
  expect(stopped).not.toContain('PS chatops>');
  const afterStop = await typeAndSee(tty, KEY.ctrlC, '[localhost]: PS>', 'the remote prompt after Ctrl-C');
  expect(afterStop).toContain('^C');
  const left = await typeAndSee(tty, `exit${KEY.enter}`, 'PS chatops>', 'the bot prompt after exit');
  expect(left).toContain('Left ');
  tty.type(`exit${KEY.enter}`);
  // The bot ends; its exit code says a command failed (the line stopped with Ctrl-C).
  expect(await tty.exit()).toBe(1);
}, 90_000);
