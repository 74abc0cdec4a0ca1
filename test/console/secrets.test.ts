import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { readAudit } from '../../src/audit/audit-log.js';

/**
 * Secrets typed into a command line never come back out: the real `npm start` entry point with
 * debug logging, lines holding a Slack token, a -Credential value, a bearer token and a
 * password in a URL; then everything the bot printed (status, Get-Job, errors, logs) and its
 * audit trail are searched for them.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('keeps secrets typed in commands out of the console, the logs and the audit trail', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatops-secrets-'));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(SLACK|DISCORD|CHATOPS|HUB|RUNBOOKS|EMBEDDED|LOG|MAX)_/.test(k)) env[k] = v;
  }
  const slack = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
  const secrets = [slack, 'hunter2cred', 'abcdefghijklmnop1234', 'urlpass99'];
  const lines = [
    `icm localhost { true } -ArgumentList '${slack}'`,
    `icm localhost -Credential hunter2cred { true }`,
    `icm localhost { curl -s -H 'Authorization: Bearer abcdefghijklmnop1234' http://u:urlpass99@127.0.0.1:9/ ; true } -AsJob`,
    `Get-Job`,
    `Get-Job -Name ${slack}`,
  ];
  const db = join(dir, 'chatops.db');
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src', 'main.ts')], {
      cwd: REPO,
      env: { ...env, CHATOPS_DB: db, HUB_LISTEN: '127.0.0.1:0', RUNBOOKS_DIR: join(dir, 'rb'), LOG_LEVEL: 'debug' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(text));
    child.stdin.end(lines.join('\n') + '\n');
  });
  // The commands really ran and were reported (masked), so there was something to leak.
  expect(out).toMatch(/DEBUG|INFO/);
  expect(out).toContain("-ArgumentList '***'");
  expect(out).toMatch(/-Credential is not supported/);
  expect(out).toMatch(/Bearer \*\*\*/);
  for (const s of secrets) expect(out, s).not.toContain(s);

  const store = openDatabase(db);
  try {
    const audit = readAudit(store);
    expect(audit.length).toBeGreaterThanOrEqual(lines.length);
    const all = JSON.stringify(audit);
    for (const s of secrets) expect(all, s).not.toContain(s);
    const commands = JSON.stringify(store.prepare('SELECT command FROM jobs').all());
    for (const s of secrets) expect(commands, s).not.toContain(s);
  } finally {
    store.close();
  }
}, 60_000);
