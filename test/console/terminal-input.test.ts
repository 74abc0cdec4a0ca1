import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { count, KEY, type PtyConsole, startConsole } from './pty-console.js';
import { VirtualTerminal } from './virtual-terminal.js';

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

async function started(columns?: number): Promise<PtyConsole> {
  const tty = startConsole(columns === undefined ? {} : { columns });
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
  // Job ids of this channel after a job cmdlet's -Id (the icm above was job 1).
  await typeAndSee(tty, `${'\x15'}Receive-Job -Id ${KEY.tab}`, /PS chatops> Receive-Job -Id 1$/, 'the job id completed');
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

it('a long synchronous command prints its output on the screen as it comes, each line once', async () => {
  const tty = await started();
  const mark = tty.text().length;
  // The lines are computed by the remote shell, so the command's own echo never matches them.
  tty.type(`icm localhost { for i in 1 2 3 4 5; do echo "tty-stream-$((i*11))"; sleep 1; done }${KEY.enter}`);
  await tty.until(() => /^tty-stream-11$/m.test(tty.text().slice(mark)), 'the first line');
  // Shown while the command still runs: the later lines have not come yet.
  expect(tty.text().slice(mark)).not.toMatch(/^tty-stream-55$/m);
  await tty.until(() => /tty-stream-55[\s\S]*Completed[\s\S]*PS chatops>/.test(tty.text().slice(mark)), 'the end and the prompt');
  const after = tty.text().slice(mark);
  for (const n of [11, 22, 33, 44, 55]) expect(after.match(new RegExp(`^tty-stream-${n}$`, 'gm')), after).toHaveLength(1);
}, 60_000);

it('a running status that wraps on a narrow terminal is redrawn in place: every row it wrapped onto is cleared', async () => {
  const tty = await started(40);
  const mark = tty.raw().length;
  // Drawn at 0 s, then again every 2 s: each drawing wraps over four rows of 40 columns.
  tty.type(`icm localhost { sleep 5; echo "narrow-$((2*21))"; : pad pad pad pad pad pad }${KEY.enter}`);
  await tty.until(() => /narrow-42[\s\S]*Completed[\s\S]*PS chatops>/.test(tty.text()), 'the end and the prompt');
  const redraws = count(tty.raw().slice(mark), 'Job1 (Id 1) Running');
  expect(redraws).toBeGreaterThanOrEqual(2);
  // What the screen shows afterwards: one Running drawing (the last, above the output), no
  // leftover rows of the earlier ones.
  const vt = new VirtualTerminal(40);
  vt.write(tty.raw());
  const screen = vt.lines();
  const at = screen.findIndex((l) => l.startsWith('PS chatops> icm localhost'));
  const after = screen.slice(at);
  expect(
    after.filter((l) => l.startsWith('Job1 (Id 1) Running')),
    after.join('\n'),
  ).toHaveLength(1);
  expect(
    after.filter((l) => /^ {2}Running: localhost$/.test(l)),
    after.join('\n'),
  ).toHaveLength(1);
  expect(after.filter((l) => l === 'narrow-42')).toHaveLength(1);
  expect(after.at(-1)).toBe('PS chatops>');
}, 60_000);

it('$j holding a job prints the job row with its current state, not a type name', async () => {
  const tty = await started();
  await typeAndSee(tty, `$j = icm localhost { sleep 1 } -AsJob${KEY.enter}`, 'PS chatops>', 'the assignment');
  const shown = await typeAndSee(tty, `$j${KEY.enter}`, /^1\s+Job1\s+RemoteJob\s+\w+\s+\w+\s+localhost/m, 'the job row');
  expect(shown).toMatch(/^Id\s+Name\s+PSJobTypeName\s+State\s+HasMoreData\s+Location\s+Command$/m);
  expect(shown).not.toMatch(/PSRemotingJob|System\./);
  // Later, the same variable shows the state the job is in now.
  await tty.until(() => /Job1 \(Id 1\) Completed/.test(tty.text()), 'the job to finish');
  await typeAndSee(tty, `$j${KEY.enter}`, /^1\s+Job1\s+RemoteJob\s+Completed\s+False\s+localhost/m, 'the row, Completed');
}, 60_000);
