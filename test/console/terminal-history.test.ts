import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { HISTORY_MAX_ENTRIES, History } from '../../adapters/console/history.js';
import { KEY, type PtyConsole, startConsole } from './pty-console.js';

/**
 * The console's history is kept beside the database (`console-history`, mode 0600, bounded) and
 * loaded at start: Up-arrow in a new session recalls what an earlier one ran, multi-line
 * commands whole.
 */

const consoles: PtyConsole[] = [];
afterAll(() => {
  for (const c of consoles) c.child.kill('SIGKILL');
  if (consoles[0]) rmSync(consoles[0].dir, { recursive: true, force: true });
});

it('Up-arrow recalls the commands of an earlier session, after a restart', async () => {
  const first = startConsole();
  consoles.push(first);
  await first.until(() => first.text().includes('PS chatops>'), 'the prompt');
  first.type(`icm localhost {\r  echo hist-$((3*3))\r}\r`);
  await first.until(() => /^hist-9$/m.test(first.text()), 'the command to run');
  await first.until(() => /Completed[\s\S]*PS chatops>/.test(first.text()), 'the prompt');
  first.type(`exit${KEY.enter}`);
  expect(await first.exit()).toBe(0);

  const file = join(first.dir, 'console-history');
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, 'utf8')).toContain('echo hist-$((3*3))');

  // A new bot on the same data directory: Up recalls `exit` first, then the block.
  const second = startConsole({ dir: first.dir });
  consoles.push(second);
  await second.until(() => second.text().includes('PS chatops>'), 'the prompt');
  second.type(KEY.up);
  await second.until(() => second.text().endsWith('PS chatops> exit'), 'exit recalled');
  second.type(KEY.up);
  await second.until(
    () => /PS chatops> icm localhost \{\n>> {3}echo hist-\$\(\(3\*3\)\)\n>> \}$/.test(second.text()),
    'the block recalled',
  );
  const mark = second.text().length;
  second.type(KEY.enter);
  await second.until(() => /^hist-9$/m.test(second.text().slice(mark)), 'the recalled block to run');
  second.type(`exit${KEY.enter}`);
  expect(await second.exit()).toBe(0);
}, 60_000);

it('keeps at most HISTORY_MAX_ENTRIES entries, the newest, in a 0600 file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-history-'));
  try {
    const file = join(dir, 'console-history');
    writeFileSync(file, Array.from({ length: HISTORY_MAX_ENTRIES + 50 }, (_, i) => `Get-Job -Id ${i}\n`).join(''), { mode: 0o644 });
    const history = new History(file);
    expect(history.all()).toHaveLength(HISTORY_MAX_ENTRIES);
    expect(history.all()[0]).toBe('Get-Job -Id 50');
    for (let i = 0; i < HISTORY_MAX_ENTRIES; i++) history.add(`Get-Agent x${i}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const reloaded = new History(file).all();
    expect(reloaded).toHaveLength(HISTORY_MAX_ENTRIES);
    expect(reloaded[reloaded.length - 1]).toBe(`Get-Agent x${HISTORY_MAX_ENTRIES - 1}`);
    // The file itself stays bounded (rewritten with the kept entries now and then).
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThan(HISTORY_MAX_ENTRIES * 1.2);
    // A multi-line entry, with a line continued by a backtick, comes back whole.
    history.add('Get-Job `\n  -Id 3');
    expect(new History(file).all().at(-1)).toBe('Get-Job `\n  -Id 3');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
