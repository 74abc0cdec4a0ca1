import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthorizationRequest } from '../../src/core/authorizer.js';
import { createLogger } from '../../src/log.js';
import { createPolicyAuthorizer, type PolicyAuthorizer } from '../../src/permissions/policy-authorizer.js';
import { parsePolicy } from '../../src/permissions/policy-file.js';
import { openDatabase, type Db } from '../../src/store/database.js';

const CH = 'slack:T1/C100';
const request = (computer: string): AuthorizationRequest => ({
  channel: CH,
  user: { platform: 'slack', userId: 'U1', displayName: 'alice' },
  cmdlet: 'Invoke-Command',
  computers: [computer],
  adHocScript: true,
});
const rule = (computers: string) =>
  `rules:\n  - name: ops\n    channel: ${CH}\n    computers: [${computers}]\n    cmdlets: [Invoke-Command]\n`;

function errorOf(text: string): string {
  try {
    parsePolicy(text, 'policy.yaml');
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the policy to be refused');
}

describe('policy file validation', () => {
  it('names the line of every problem, all at once', () => {
    const text = [
      'groups:', //                      1
      '  oncall: [slack:T1/C1, nope]', // 2
      'rules:', //                       3
      '  - name: web', //                4
      '    channels: [oncall, ghosts]', // 5
      '    computers: [web*, "wеb2"]', // 6 (Cyrillic е)
      '    cmdlets: [icm, Get-Job, Get-Jobb, Zap-*]', // 7
      '    maxComputers: five', //      8
      '    maxComputer: 5', //          9
      '  - channel: console', //        10
      '    runbooksOnly: maybe', //     11
    ].join('\n');
    const message = errorOf(text);
    expect(message).toContain('Policy file policy.yaml is not valid:');
    expect(message).toContain("policy.yaml line 2: group oncall: 'nope' is not a channel id");
    expect(message).toContain("policy.yaml line 5: channels: no group named 'ghosts' is defined under groups");
    expect(message).toContain("policy.yaml line 6: computers: 'w\\u{435}b2' is not a valid computer name or wildcard");
    expect(message).toContain("policy.yaml line 7: cmdlets: 'icm' is not a cmdlet name: write the full Verb-Noun name");
    expect(message).toContain("policy.yaml line 7: cmdlets: 'Get-Jobb' is not a cmdlet this bot knows (Get-Command lists them)");
    expect(message).toContain("policy.yaml line 7: cmdlets: 'Zap-*' matches no cmdlet this bot knows");
    expect(message).toContain("policy.yaml line 8: maxComputers must be a whole number of at least 1, got 'five'");
    expect(message).toContain("policy.yaml line 9: unknown rule key 'maxComputer'");
    expect(message).toContain('policy.yaml line 10: rule 2 needs cmdlets');
    expect(message).toContain('policy.yaml line 11: runbooksOnly must be true or false');
  });

  it('reports YAML syntax errors with their line', () => {
    expect(errorOf('rules:\n  - name: a\n    cmdlets: [Get-Job\n')).toMatch(/policy\.yaml line \d+: /);
    expect(errorOf('rules:\n  - channel: console\n    channel: console\n    cmdlets: [Get-Job]\n')).toMatch(
      /policy\.yaml line 3: Map keys must be unique/,
    );
    expect(errorOf('embeddedDefault: true\nrule: []\n')).toContain("policy.yaml line 2: unknown key 'rule'");
  });

  it('accepts an empty file and a valid one', () => {
    expect(parsePolicy('', 'p.yaml').rules).toEqual([]);
    const p = parsePolicy(rule('web*'), 'p.yaml');
    expect(p.rules[0]).toMatchObject({ id: 'file:ops', source: 'file', computers: ['web*'], origin: 'p.yaml line 2' });
  });

  it('refuses to start with a broken file, naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'policy-start-'));
    const db = openDatabase(join(dir, 'db.sqlite'));
    try {
      writeFileSync(join(dir, 'policy.yaml'), rule('web*') + '    maxThrottleLimit: -1\n');
      expect(() => createPolicyAuthorizer({ db, policyFile: join(dir, 'policy.yaml'), admins: [], tags: () => undefined })).toThrow(
        "policy.yaml line 6: maxThrottleLimit must be a whole number of at least 1, got '-1'",
      );
      expect(() => createPolicyAuthorizer({ db, policyFile: join(dir, 'missing.yaml'), admins: [], tags: () => undefined })).toThrow(
        /Policy file .*missing\.yaml cannot be read/,
      );
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('policy file hot reload', () => {
  let dir: string;
  let db: Db;
  let authz: PolicyAuthorizer;
  let logged: string[];
  let events: Array<{ ok: boolean }>;
  let waiters: Array<() => void>;

  const nextReload = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'policy-reload-'));
    db = openDatabase(join(dir, 'db.sqlite'));
    writeFileSync(join(dir, 'policy.yaml'), rule('web*'));
    logged = [];
    events = [];
    waiters = [];
    authz = createPolicyAuthorizer({
      db,
      policyFile: join(dir, 'policy.yaml'),
      admins: [],
      tags: () => undefined,
      log: createLogger('info', (line) => logged.push(line)),
      reloadDebounceMs: 30,
      onReload: (r) => {
        events.push(r);
        for (const w of waiters.splice(0)) w();
      },
    });
  });

  afterEach(() => {
    authz.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a good edit, keeps the last good policy on a broken one and says so', async () => {
    expect(authz.decide(request('web1')).allowed).toBe(true);
    expect(authz.decide(request('db1')).allowed).toBe(false);

    let reloaded = nextReload();
    writeFileSync(join(dir, 'policy.yaml'), rule('db*'));
    await reloaded;
    expect(events.at(-1)).toEqual({ ok: true, rules: 1 });
    expect(authz.decide(request('db1')).allowed).toBe(true);
    expect(authz.decide(request('web1')).allowed).toBe(false);

    reloaded = nextReload();
    writeFileSync(join(dir, 'policy.yaml'), rule('db*') + '    maxComputers: lots\n');
    await reloaded;
    expect(events.at(-1)?.ok).toBe(false);
    expect(authz.decide(request('db1')).allowed).toBe(true); // last good policy still in force
    expect(authz.status().error).toContain("policy.yaml line 6: maxComputers must be a whole number of at least 1, got 'lots'");
    expect(logged.some((l) => l.includes('ERROR policy file has errors; keeping the last good policy'))).toBe(true);

    // An editor saving by rename is picked up too, and a fixed file clears the error.
    reloaded = nextReload();
    writeFileSync(join(dir, 'policy.tmp'), rule('app*'));
    renameSync(join(dir, 'policy.tmp'), join(dir, 'policy.yaml'));
    await reloaded;
    expect(events.at(-1)).toEqual({ ok: true, rules: 1 });
    expect(authz.status().error).toBeUndefined();
    expect(authz.decide(request('app1')).allowed).toBe(true);
    expect(authz.decide(request('db1')).allowed).toBe(false);

    // Deleting the file keeps the policy too, and says so.
    reloaded = nextReload();
    rmSync(join(dir, 'policy.yaml'));
    await reloaded;
    expect(authz.status().error).toMatch(/policy\.yaml is missing; the last good policy stays in force/);
    expect(authz.decide(request('app1')).allowed).toBe(true);
  });
});
