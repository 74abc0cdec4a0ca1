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

it('a session that ends by itself (here its idle timeout) is told above the prompt, which goes back to the bot', async () => {
  const tty = startConsole({ env: { SESSION_MAX_IDLE: '2s' } });
  consoles.push(tty);
  await tty.until(() => tty.text().includes('PS chatops>'), 'the prompt');
  await typeAndSee(tty, `Enter-PSSession localhost${KEY.enter}`, '[localhost]: PS>', 'the remote prompt');
  const mark = tty.text().length;
  await tty.until(
    () => /has ended: the session \S+ on localhost was closed by its agent: .*IdleTimeout/.test(tty.text().slice(mark)),
    'the notice',
  );
  await tty.until(() => tty.text().slice(mark).includes('PS chatops>'), 'the bot prompt drawn again');
  // The next line runs in the bot: Get-PSSession there lists nothing (the prompt's own session went with it).
  const listed = await typeAndSee(
    tty,
    `Get-PSSession; Invoke-Command localhost { echo after-$((6*7)) }${KEY.enter}`,
    'after-42',
    'a line run by the bot',
  );
  expect(listed).not.toContain('[localhost]: PS>');
  tty.type(`exit${KEY.enter}`);
  expect(await tty.exit()).toBe(0);
}, 90_000);
