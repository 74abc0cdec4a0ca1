import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { count, KEY, type PtyConsole, startConsole } from './pty-console.js';

/**
 * Typing at the console's prompt in a real terminal (pty-console.ts): multi-line input at `>>`
 * as pwsh's host reads it, pasted blocks as one script, Tab completion, and background notices
 * printed above what is being typed. Expected output is computed by the remote shell
 * (`$((6*7))`), so the command's own echo on the screen never matches it.
 */

const consoles: PtyConsole[] = [];
afterAll(() => {
  for (const c of consoles) {
    c.child.kill('SIGKILL');
    rmSync(c.dir, { recursive: true, force: true });
  }
});

async function started(): Promise<PtyConsole> {
  const tty = startConsole();
  consoles.push(tty);
  await tty.until(() => tty.text().includes('PS chatops>'), 'the prompt');
  return tty;
}

/** Types `keys` and waits for `what` in what the terminal shows after it. */
async function typeAndSee(tty: PtyConsole, keys: string, what: RegExp | string, label: string): Promise<string> {
  const mark = tty.text().length;
  tty.type(keys);
  const seen = (): boolean => {
    const after = tty.text().slice(mark);
    return typeof what === 'string' ? after.includes(what) : what.test(after);
  };
  await tty.until(seen, label);
  return tty.text().slice(mark);
}

it('an incomplete line continues at >> and the block runs once complete; an empty >> line ends it', async () => {
  const tty = await started();
  await typeAndSee(tty, `icm localhost {${KEY.enter}`, '>> ', 'the continuation prompt');
  await typeAndSee(tty, `echo cont-$((6*7))${KEY.enter}`, '>> ', 'a second continuation prompt');
  await typeAndSee(tty, `}${KEY.enter}`, /^cont-42$/m, 'the block to run');
  await tty.until(() => /cont-42[\s\S]*Completed[\s\S]*PS chatops>/.test(tty.text()), 'the prompt after the block');

  // pwsh: an empty line at >> ends the block; the parser then says what is missing.
  await typeAndSee(tty, `icm localhost {${KEY.enter}`, '>> ', 'the continuation prompt');
  const after = await typeAndSee(tty, KEY.enter, /Missing closing '\}'/, 'the parse error');
  expect(after).toContain('PS chatops>');
  expect(count(tty.text(), 'Job1 (Id 1) Completed')).toBeGreaterThan(0);
  expect(tty.text()).not.toMatch(/Job2 \(Id 2\)|Job3 \(Id 3\)/); // the unfinished block never ran

  // A here-string and a trailing pipe continue too.
  await typeAndSee(tty, `$greeting = @'${KEY.enter}`, '>> ', 'the here-string continuation');
  await typeAndSee(tty, `hello from a here-string${KEY.enter}`, '>> ', 'the here-string body');
  await typeAndSee(tty, `'@${KEY.enter}`, 'PS chatops>', 'the assignment');
  await typeAndSee(tty, `Get-Job |${KEY.enter}`, '>> ', 'the pipe continuation');
  await typeAndSee(tty, `Wait-Job${KEY.enter}`, /1\s+Job1\s+RemoteJob\s+Completed[\s\S]*PS chatops>/, 'the pipeline to run');
  expect(tty.text()).not.toMatch(/empty pipe element|missing the terminator/i);
}, 60_000);

it('a pasted block runs as the one script it is, blank lines and all, not line by line', async () => {
  const tty = await started();
  // One read from the terminal holding several lines: a paste (no bracketed-paste marks).
  await typeAndSee(
    tty,
    `icm localhost {\r  echo paste-$((7*7))\r\r  echo again-$((8*8))\r}\r`,
    /again-64[\s\S]*Completed[\s\S]*PS chatops>/,
    'the pasted block to run',
  );
  const text = tty.text();
  expect(text).toMatch(/^paste-49$/m);
  expect(text).not.toMatch(/Missing closing/);
  expect(count(text, 'Job1 (Id 1) Completed')).toBeGreaterThan(0);

  // Bracketed paste (what terminals send when the console asks for it): the pasted line ends
  // only fill the buffer; Enter then runs the whole block.
  const mark = tty.text().length;
  tty.type(`\x1b[200~icm localhost {\r  echo bracketed-$((9*9))\r}\r\x1b[201~`);
  await tty.until(() => count(tty.text().slice(mark), '>> ') >= 2, 'the pasted block on the screen');
  expect(tty.text().slice(mark)).not.toMatch(/bracketed-81/);
  await typeAndSee(tty, KEY.enter, /^bracketed-81$/m, 'the block to run on Enter');
  expect(tty.raw()).toContain('\x1b[?2004h'); // the console asked for bracketed paste
}, 60_000);

it('Tab completes cmdlet names, parameter names and the computers the console may target', async () => {
  const tty = await started();
  await typeAndSee(tty, `Invoke-Comm${KEY.tab}`, 'PS chatops> Invoke-Command', 'the cmdlet name completed');
  await typeAndSee(tty, ` -Comp${KEY.tab}`, 'PS chatops> Invoke-Command -ComputerName', 'the parameter completed');
  await typeAndSee(tty, ` localh${KEY.tab}`, 'PS chatops> Invoke-Command -ComputerName localhost', 'the agent name completed');
  await typeAndSee(tty, ` { echo tab-$((5*5)) }${KEY.enter}`, /^tab-25$/m, 'the completed command to run');

  // Aliases complete too, and parameters of the alias's cmdlet.
  await tty.until(() => /tab-25[\s\S]*PS chatops>/.test(tty.text()), 'the prompt');
  await typeAndSee(tty, `Get-Jo${KEY.tab}`, 'PS chatops> Get-Job', 'Get-Job completed');
  await typeAndSee(tty, ` -Sta${KEY.tab}`, 'PS chatops> Get-Job -State', '-State completed');
  // Several candidates sharing nothing more are listed above the prompt, which is drawn again.
  const listed = await typeAndSee(tty, `${'\x15'}Get-${KEY.tab}`, /Get-Agent[\s\S]*Get-Job[\s\S]*PS chatops> Get-/, 'the candidates');
  expect(listed).toContain('Get-Help');
}, 60_000);

it('a background notice is printed above the prompt and the typed text is drawn again', async () => {
  const tty = await started();
  await typeAndSee(tty, `icm localhost { sleep 2 } -AsJob${KEY.enter}`, /Running[\s\S]*PS chatops>/, 'the job to start');
  const mark = tty.text().length;
  tty.type('Get-Jo');
  await tty.until(() => /Job1 \(Id 1\) Completed/.test(tty.text().slice(mark)), 'the notice that the job finished');
  await tty.until(() => /Completed[\s\S]*PS chatops> Get-Jo$/.test(tty.text()), 'the typed text drawn again below the notice');
  // The line typed before the notice is still the one being edited.
  await typeAndSee(tty, `b${KEY.enter}`, /1\s+Job1\s+RemoteJob\s+Completed/, 'Get-Job to run');
  expect(tty.text()).not.toMatch(/not recognized|is not supported/);
}, 60_000);
