import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

/**
 * Permissions through the console channel: the real entry point (`npm start`) in a child
 * process with stdin piped, the embedded agent, a real policy file and SQLite; then the real
 * admin CLI (`npm run admin -- audit ...`) on the same database.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
  }
  return { ...env, HUB_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'warn', ...extra };
}

function setup(policy: string): { dir: string; env: (extra?: Record<string, string>) => NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'perm-console-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'policy.yaml'), policy);
  return {
    dir,
    env: (extra = {}) =>
      cleanEnv({
        CHATOPS_DB: join(dir, 'chatops.db'),
        RUNBOOKS_DIR: join(dir, 'runbooks'),
        CHATOPS_POLICY_FILE: join(dir, 'policy.yaml'),
        ...extra,
      }),
  };
}

function start(env: NodeJS.ProcessEnv, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'main.ts')], { cwd: REPO, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

function admin(env: NodeJS.ProcessEnv, ...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'admin', 'main.ts'), ...args], {
    cwd: REPO,
    env,
    encoding: 'utf8',
  });
}

const POLICY = `rules:
  - name: ops
    channel: slack:T1/C100
    computers: [web*]
    cmdlets: [Invoke-Command]
`;

it('refuses to start with a broken policy file, naming the line', async () => {
  const { env } = setup(POLICY + '    maxComputers: 0\n');
  const r = await start(env(), 'Get-Job\n');
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("policy.yaml line 6: maxComputers must be a whole number of at least 1, got '0'");
  expect(r.stdout).toBe('');
}, 60_000);

it('an admin console lists, grants and is refused beyond the local agent; the audit trail verifies', async () => {
  const { env } = setup(POLICY);
  const r = await start(
    env({ CHATOPS_ADMINS: 'console' }),
    [
      'Grant-ChannelPermission -Channel slack:T1/C5 -Cmdlet Get-Job,Receive-Job',
      'Get-ChannelPermission -Channel *',
      "icm web9 { echo 'should not run' }",
      "icm localhost { echo 'local ok' }",
      "icm localhost { echo nope } -Credential:'hunter2'",
    ].join('\n') + '\n',
  );
  expect(r.stdout).toContain('Granted rule chat:1: -Channel slack:T1/C5 -Cmdlet Get-Job,Receive-Job');
  expect(r.stdout).toMatch(/default\s.*console/);
  expect(r.stdout).toMatch(/file:ops\s.*slack:T1\/C100/);
  expect(r.stdout).toMatch(/chat:1\s.*slack:T1\/C5/);
  expect(r.stdout + r.stderr).toContain('This channel may not target web9: no rule allows it');
  // The refusal names the channel id a rule must name and the smallest rule that would allow it.
  expect(r.stdout + r.stderr).toContain(
    'A bot admin can allow it with: Grant-ChannelPermission -Channel console -Cmdlet Invoke-Command -ComputerName web9 ' +
      '(in the policy file: { channels: [console], cmdlets: [Invoke-Command], computers: [web9] })',
  );
  expect(r.stdout).not.toContain('should not run');
  expect(r.stdout).toContain('local ok');
  expect(r.code).not.toBe(0); // a command was refused

  const verify = admin(env(), 'audit', 'verify');
  expect(verify.status).toBe(0);
  expect(verify.stdout).toMatch(/audit chain intact: \d+ records/);
  const exported = admin(env(), 'audit', 'export', '--since', '2026-01-01');
  expect(exported.status).toBe(0);
  const records = exported.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; decision: string; reason: string; command: string; channel: string });
  expect(records.some((x) => x.kind === 'admin' && x.reason === 'rule chat:1 granted to slack:T1/C5')).toBe(true);
  expect(records.some((x) => x.decision === 'refused' && x.reason === 'This channel may not target web9: no rule allows it')).toBe(true);
  expect(records.every((x) => x.channel === 'console')).toBe(true);
  expect(exported.stdout).not.toContain('hunter2');
}, 60_000);

it('refuses the admin cmdlets to a console user who is not a bot admin', async () => {
  const { env } = setup(POLICY);
  const r = await start(env(), 'Get-ChannelPermission\nGrant-ChannelPermission -Cmdlet Get-Job\n');
  expect(r.stdout + r.stderr).toContain('Only bot admins may run Get-ChannelPermission; console is not one (CHATOPS_ADMINS)');
  expect(r.stdout + r.stderr).toContain('Only bot admins may run Grant-ChannelPermission; console is not one (CHATOPS_ADMINS)');
  expect(r.code).not.toBe(0);
}, 60_000);
