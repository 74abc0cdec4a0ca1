import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

/**
 * Output from an agent cannot drive the operator's terminal: the real entry point (`npm start`
 * with piped stdin, its embedded agent running bash), commands that print OSC/CSI sequences,
 * BEL, DEL, a lone CR and a C1 control, on stdout and stderr, and a typed line that carries a raw
 * ESC itself. Everything printed shows them in caret / \u{..} notation; the file the console
 * saves a large output to keeps the raw bytes.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Any C0 control but newline and tab (a CR only as part of CRLF), DEL, or a C1 control. */
const RAW_CONTROL = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]|\r(?!\n)/;

function runMain(input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-console-ctl-'));
  dirs.push(dir);
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
    }
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'main.ts')], {
      cwd: REPO,
      env: {
        ...env,
        CHATOPS_DB: join(dir, 'chatops.db'),
        HUB_LISTEN: '127.0.0.1:0',
        RUNBOOKS_DIR: join(dir, 'runbooks'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

it('shows control characters from agents, errors and echoed commands visibly, and keeps files raw', async () => {
  const lines = [
    String.raw`icm localhost { printf '\033]0;PWNED\007\033[2J'; printf 'osc52:\033]52;c;aGk=\007\n'; printf 'c1:\302\233 31m del:\177 cr:a\rb\n'; printf 'err:\033[31mred\033[0m\n' >&2 }`,
    // Typed with a raw ESC and BEL: the status line echoes the command, the output repeats it.
    `icm localhost { echo 'typed:\x1b]0;TYPED\x07' }`,
    // An error text quoting what was typed.
    `Get-Nothing\x1b[2J\x07`,
    String.raw`icm localhost { for i in $(seq 1 3000); do printf 'l%d\033[1m\n' $i; done }`,
  ];
  const r = await runMain(`${lines.join('\n')}\n`);
  const all = r.stdout + r.stderr;
  expect(all).not.toMatch(RAW_CONTROL);
  // The commands really ran: what they printed is there, made visible.
  expect(r.stdout).toContain('^[]0;PWNED^G^[[2J');
  expect(r.stdout).toContain('osc52:^[]52;c;aGk=^G');
  expect(r.stdout).toContain('c1:\\u{9B} 31m del:^? cr:a^Mb');
  expect(r.stdout).toContain('err:^[[31mred^[[0m');
  expect(r.stdout).toContain("icm localhost { echo 'typed:^[]0;TYPED^G' }");
  expect(r.stdout).toMatch(/^typed:\^\[\]0;TYPED\^G$/m);
  expect(r.stderr).toContain("ERROR: The term 'Get-Nothing^[[2J^G' is not recognized");
  expect(r.stdout).toMatch(/^l1\^\[\[1m$/m);
  expect(r.stdout).toMatch(/^l3000\^\[\[1m$/m);
  // The whole large output went to a file, byte for byte: files are data, not the terminal.
  const m = /lines cut \(whole output saved to (\S+)\)/.exec(r.stdout);
  expect(m, r.stdout.slice(0, 2000)).not.toBeNull();
  const whole = readFileSync(m![1]!, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  expect(whole).toHaveLength(3000);
  expect(whole[1499]).toBe('l1500\x1b[1m');
}, 60_000);
