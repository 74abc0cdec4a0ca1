import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthorizationRequest } from '../../src/core/authorizer.js';
import type { Invoker } from '../../src/core/ports.js';
import { createPolicyAuthorizer, type PolicyAuthorizer } from '../../src/permissions/policy-authorizer.js';
import { openDatabase, type Db } from '../../src/store/database.js';

const SLACK_OPS = 'slack:T1/C100';
const SLACK_RO = 'slack:T1/C200';
const DISCORD_OPS = 'discord:G1/C2';
const alice: Invoker = { platform: 'slack', userId: 'U1', displayName: 'alice' };
const bob: Invoker = { platform: 'slack', userId: 'U2', displayName: 'bob' };
const dave: Invoker = { platform: 'discord', userId: '42', displayName: 'dave', roles: ['777'] };
const carol: Invoker = { platform: 'discord', userId: '43', displayName: 'carol', roles: ['888'] };
const local: Invoker = { platform: 'console', userId: 'console', displayName: 'you' };

const POLICY = `
groups:
  oncall: [${SLACK_OPS}, ${DISCORD_OPS}]
rules:
  - name: web-ops
    channels: [oncall]
    computers: [web*, role=cache]
    cmdlets: [Invoke-Command, Get-Job, Receive-Job, Stop-Job]
    maxComputers: 5
    maxThrottleLimit: 8
  - name: db-runbooks
    channel: ${SLACK_OPS}
    computers: [db1, db2]
    cmdlets: [Invoke-Command]
    runbooksOnly: true
    runbooks: [restart-db.ps1, checks/*.ps1]
    configurations: [bash]
  - name: read-only
    channel: ${SLACK_RO}
    cmdlets: [Get-Job, Receive-Job, Get-Agent]
  - name: discord-role
    channel: ${DISCORD_OPS}
    computers: [app1]
    cmdlets: [Invoke-Command]
    roles: [discord:777]
  - name: alice-only
    channel: ${SLACK_RO}
    computers: [mon1]
    cmdlets: [Invoke-Command]
    users: [slack:U1]
`;

const TAGS: Record<string, string[]> = { cache1: ['role=cache'], web1: ['role=web'], db1: ['role=db'] };

let dir: string;
let db: Db;
let authz: PolicyAuthorizer;

function req(partial: Partial<AuthorizationRequest> & { channel: string }): AuthorizationRequest {
  return { user: alice, cmdlet: 'Invoke-Command', computers: [], adHocScript: true, ...partial };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'policy-'));
  db = openDatabase(join(dir, 'chatops.db'));
  writeFileSync(join(dir, 'policy.yaml'), POLICY);
  authz = createPolicyAuthorizer({
    db,
    policyFile: join(dir, 'policy.yaml'),
    admins: ['slack:U1', 'console'],
    tags: (n) => TAGS[n.toLowerCase()],
    localNames: ['devbox', 'localhost'],
  });
});

afterEach(() => {
  authz.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('channel', () => {
  it('allows a channel its rule names and refuses one with no rule, naming the computer', () => {
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['web1'] }))).toMatchObject({ allowed: true });
    expect(authz.decide(req({ channel: 'slack:T1/C999', computers: ['web1'] }))).toEqual({
      allowed: false,
      reason: 'This channel may not target web1: no rule allows it',
      // The smallest grant that would allow it, for the user to hand to an admin.
      hint:
        'A bot admin can allow it with: Grant-ChannelPermission -Channel slack:T1/C999 -Cmdlet Invoke-Command -ComputerName web1 ' +
        '(in the policy file: { channels: [slack:T1/C999], cmdlets: [Invoke-Command], computers: [web1] })',
    });
  });

  it('names a computer as it was typed when it reached another agent (an alias)', () => {
    const d = authz.decide(req({ channel: 'slack:T1/C999', computers: ['vm'], typedComputers: ['localhost'] }));
    expect(d.reason).toBe('This channel may not target localhost (the agent vm): no rule allows it');
    const sameName = authz.decide(req({ channel: 'slack:T1/C999', computers: ['web1'], typedComputers: ['WEB1.'] }));
    expect(sameName.reason).toBe('This channel may not target web1: no rule allows it');
  });

  it('resolves channel groups for every member', () => {
    expect(authz.decide(req({ channel: DISCORD_OPS, user: dave, computers: ['web2'] })).allowed).toBe(true);
  });

  it('lets a channel with no rule use only Get-Help, Get-Command and Clear-Host', () => {
    const ch = 'discord:G9/C9';
    expect(authz.decide(req({ channel: ch, cmdlet: 'Get-Help', adHocScript: false })).allowed).toBe(true);
    expect(authz.decide(req({ channel: ch, cmdlet: 'Get-Command', adHocScript: false })).allowed).toBe(true);
    expect(authz.decide(req({ channel: ch, cmdlet: 'Clear-Host', adHocScript: false })).allowed).toBe(true);
    expect(authz.decide(req({ channel: ch, cmdlet: 'Get-Job', adHocScript: false }))).toEqual({
      allowed: false,
      reason: 'This channel may not run Get-Job: no rule allows it',
      hint: `A bot admin can allow it with: Grant-ChannelPermission -Channel ${ch} -Cmdlet Get-Job (in the policy file: { channels: [${ch}], cmdlets: [Get-Job] })`,
    });
  });

  it('gives the console everything on the local agent by default, and chat channels nothing', () => {
    for (const name of ['devbox', 'localhost', 'LOCALHOST']) {
      expect(authz.decide(req({ channel: 'console', user: local, computers: [name] })).allowed).toBe(true);
    }
    expect(authz.decide(req({ channel: 'console', user: local, cmdlet: 'Stop-Job', adHocScript: false })).allowed).toBe(true);
    expect(authz.decide(req({ channel: 'console', user: local, computers: ['web1'] })).reason).toBe(
      'This channel may not target web1: no rule allows it',
    );
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['localhost'] })).reason).toBe(
      'This channel may not target localhost: no rule allows it',
    );
  });
});

describe('computers', () => {
  it('matches names, wildcards and registry tags, ASCII case-insensitively', () => {
    for (const c of ['web1', 'WEB7', 'Web-frontend', 'cache1']) {
      expect(authz.decide(req({ channel: SLACK_OPS, computers: [c] })).allowed, c).toBe(true);
    }
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['cache2'] })).reason).toBe(
      'This channel may not target cache2: no rule allows it',
    );
  });

  it('refuses the whole command when one of several targets is forbidden, naming it', () => {
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['web1', 'web2', 'web3', 'db9'] }))).toMatchObject({
      allowed: false,
      reason: 'This channel may not target db9: no rule allows it',
    });
  });

  it('never matches Unicode lookalikes or invalid names', () => {
    const cyrillic = 'w\u0435b1';
    const d = authz.decide(req({ channel: SLACK_OPS, computers: ['web1', cyrillic] }));
    expect(d.allowed).toBe(false);
    expect(d.reason).toBe('This channel may not target w\\u{435}b1: it contains the character U+0435; computer names are plain ASCII');
    for (const bad of ['web1\u200b', 'ｗeb1', 'web 1', 'web1;rm', '', 'web1/../db1', 'ＷＥＢ１']) {
      expect(authz.decide(req({ channel: SLACK_OPS, computers: [bad] })).allowed, JSON.stringify(bad)).toBe(false);
    }
    // Unicode case folding must not turn a non-ASCII letter into an ASCII one (Kelvin sign K).
    expect(authz.decide(req({ channel: 'console', user: local, computers: ['\u212Aocalhost'] })).allowed).toBe(false);
  });

  it('takes tags from the registry only: a computer named like a tag does not match it', () => {
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['role=cache'] })).allowed).toBe(false);
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['unknown-cache'] })).allowed).toBe(false);
  });
});

describe('cmdlets', () => {
  it('allows listed cmdlets (case-insensitively) and refuses others with the reason', () => {
    expect(authz.decide(req({ channel: SLACK_RO, cmdlet: 'get-job', adHocScript: false })).allowed).toBe(true);
    expect(authz.decide(req({ channel: SLACK_RO, cmdlet: 'Stop-Job', adHocScript: false }))).toMatchObject({
      allowed: false,
      reason: 'This channel may not run Stop-Job: no rule allows it',
    });
    expect(authz.decide(req({ channel: SLACK_RO, computers: ['web1'] })).reason).toBe(
      'This channel may not target web1: no rule allows it',
    );
  });

  it('never treats an alias as the cmdlet (the binder gives canonical names; aliases match no rule)', () => {
    expect(authz.decide(req({ channel: SLACK_RO, cmdlet: 'gjb', adHocScript: false })).allowed).toBe(false);
    expect(authz.decide(req({ channel: SLACK_OPS, cmdlet: 'icm', computers: ['web1'] })).allowed).toBe(false);
  });
});

describe('configurations and scripts', () => {
  it('allows only the configurations a rule lists', () => {
    const base = { channel: SLACK_OPS, computers: ['db1'], adHocScript: false, runbook: 'restart-db.ps1' };
    expect(authz.decide(req({ ...base, configurationName: 'bash' })).allowed).toBe(true);
    expect(authz.decide(req({ ...base, configurationName: 'BASH' })).allowed).toBe(true);
    expect(authz.decide(req({ ...base, configurationName: 'Microsoft.PowerShell' })).reason).toBe(
      'This channel may not use configuration Microsoft.PowerShell on db1: no rule allows it',
    );
    expect(authz.decide(req(base)).reason).toBe(
      'This channel may not use the default configuration on db1: name one with -ConfigurationName (allowed: bash)',
    );
  });

  it('refuses ad-hoc script blocks where only runbooks are allowed, and runbooks not listed', () => {
    const base = { channel: SLACK_OPS, computers: ['db1'], configurationName: 'bash' };
    expect(authz.decide(req({ ...base, adHocScript: true })).reason).toBe(
      'This channel may not send ad-hoc script blocks to db1: only runbooks (-FilePath) are allowed',
    );
    expect(authz.decide(req({ ...base, adHocScript: false, runbook: 'checks/disk.ps1' })).allowed).toBe(true);
    expect(authz.decide(req({ ...base, adHocScript: false, runbook: 'drop-db.ps1' })).reason).toBe(
      'This channel may not run runbook drop-db.ps1 on db1: no rule allows it',
    );
    // Path tricks cannot reach a listed pattern or leave the library.
    expect(authz.decide(req({ ...base, adHocScript: false, runbook: 'checks/../drop-db.ps1' })).allowed).toBe(false);
    expect(authz.decide(req({ ...base, adHocScript: false, runbook: 'checks/x/../../drop-db.ps1' })).allowed).toBe(false);
    expect(authz.decide(req({ ...base, adHocScript: false, runbook: '../etc/passwd.ps1' })).reason).toBe(
      'This channel may not run runbook ../etc/passwd.ps1: it is outside the runbook library',
    );
    expect(authz.decide(req({ ...base, adHocScript: false, runbook: './restart-db.ps1' })).allowed).toBe(true);
  });
});

describe('users and roles', () => {
  it('matches users by platform-qualified id and roles by platform-qualified role', () => {
    expect(authz.decide(req({ channel: SLACK_RO, user: alice, computers: ['mon1'] })).allowed).toBe(true);
    expect(authz.decide(req({ channel: SLACK_RO, user: bob, computers: ['mon1'] })).reason).toBe(
      'This channel may not run Invoke-Command on mon1 for slack:U2: no rule allows this user',
    );
    expect(authz.decide(req({ channel: DISCORD_OPS, user: dave, computers: ['app1'] })).allowed).toBe(true);
    expect(authz.decide(req({ channel: DISCORD_OPS, user: carol, computers: ['app1'] })).allowed).toBe(false);
    // The same id on another platform is another person.
    const impostor: Invoker = { platform: 'discord', userId: 'U1', displayName: 'alice?' };
    expect(authz.decide(req({ channel: SLACK_RO, user: impostor, computers: ['mon1'] })).allowed).toBe(false);
  });
});

describe('limits', () => {
  it('bounds computers per command', () => {
    const five = ['web1', 'web2', 'web3', 'web4', 'web5'];
    expect(authz.decide(req({ channel: SLACK_OPS, computers: five })).allowed).toBe(true);
    expect(authz.decide(req({ channel: SLACK_OPS, computers: [...five, 'web6'], throttleLimit: 2 })).reason).toBe(
      'This channel may target at most 5 computers per command; this command targets 6',
    );
  });

  it('bounds ThrottleLimit, explicit or implied', () => {
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['web1'], throttleLimit: 8 })).allowed).toBe(true);
    expect(authz.decide(req({ channel: SLACK_OPS, computers: ['web1'], throttleLimit: 9 })).reason).toBe(
      'This channel allows a ThrottleLimit of at most 8; this command asks for 9',
    );
    const ch = 'slack:T1/C400';
    authz.grant({ channel: ch, cmdlets: ['Invoke-Command'], computers: ['web*'], maxThrottleLimit: 2 }, alice, ch);
    expect(authz.decide(req({ channel: ch, computers: ['web1', 'web2', 'web3'] })).reason).toBe(
      'This channel allows a ThrottleLimit of at most 2; this command would run 3 at once (add -ThrottleLimit 2)',
    );
    expect(authz.decide(req({ channel: ch, computers: ['web1', 'web2', 'web3'], throttleLimit: 2 })).allowed).toBe(true);
    expect(authz.decide(req({ channel: ch, computers: ['web1', 'web2'] })).allowed).toBe(true);
  });
});

describe('admin cmdlets', () => {
  it('are refused for non-admins with a clear message and allowed for admins', () => {
    for (const cmdlet of ['Get-ChannelPermission', 'Grant-ChannelPermission', 'Revoke-ChannelPermission']) {
      expect(authz.decide(req({ channel: SLACK_OPS, user: bob, cmdlet, adHocScript: false }))).toEqual({
        allowed: false,
        reason: `Only bot admins may run ${cmdlet}; slack:U2 is not one (CHATOPS_ADMINS)`,
      });
      expect(authz.decide(req({ channel: SLACK_OPS, user: alice, cmdlet, adHocScript: false })).allowed).toBe(true);
    }
    expect(authz.isAdmin(local)).toBe(true);
    expect(authz.isAdmin(dave)).toBe(false);
    expect(() => authz.grant({ channel: SLACK_RO, cmdlets: ['Stop-Job'] }, bob, SLACK_RO)).toThrow(
      'Only bot admins may run Grant-ChannelPermission; slack:U2 is not one',
    );
  });

  it('grant and revoke chat rules stored in SQLite, listed with their source', () => {
    const ch = 'slack:T1/C300';
    expect(authz.decide(req({ channel: ch, computers: ['batch1'] })).allowed).toBe(false);
    const rule = authz.grant({ channel: ch, cmdlets: ['Invoke-Command'], computers: ['batch*'], maxComputers: 2 }, alice, ch);
    expect(rule.id).toMatch(/^chat:\d+$/);
    expect(authz.decide(req({ channel: ch, computers: ['batch1'] })).allowed).toBe(true);
    expect(authz.decide(req({ channel: ch, computers: ['batch1', 'batch2', 'batch3'] })).allowed).toBe(false);

    // A second authorizer on the same file sees it (the rule lives in SQLite, not in memory).
    const other = createPolicyAuthorizer({ db: openDatabase(join(dir, 'chatops.db')), admins: [], tags: () => undefined });
    expect(other.decide(req({ channel: ch, computers: ['batch1'] })).allowed).toBe(true);
    expect(other.listRules(ch).map((r) => [r.id, r.source])).toEqual([[rule.id, 'chat']]);
    expect(authz.listRules(SLACK_OPS).map((r) => r.source)).toEqual(['file', 'file']);
    expect(authz.listRules('console').map((r) => r.source)).toEqual(['default']);

    expect(() => authz.revoke(rule.id, bob, ch)).toThrow(/Only bot admins/);
    expect(() => authz.revoke('file:web-ops', alice, ch)).toThrow(/comes from the policy file/);
    expect(authz.revoke(rule.id, alice, ch).id).toBe(rule.id);
    expect(authz.decide(req({ channel: ch, computers: ['batch1'] })).allowed).toBe(false);
    expect(other.decide(req({ channel: ch, computers: ['batch1'] })).allowed).toBe(false);
    expect(() => authz.revoke(rule.id, alice, ch)).toThrow(/No chat rule with id/);
    other.close();
  });

  it('refuse to grant invalid or admin-only values', () => {
    expect(() => authz.grant({ channel: 'general', cmdlets: ['icm'], computers: ['w\u0435b*'] }, alice, SLACK_OPS)).toThrow(
      /-Channel: 'general' is not a channel id.*-Cmdlet: 'icm' is not a cmdlet name.*-ComputerName: 'w\\u\{435\}b\*' is not a valid/,
    );
    expect(() => authz.grant({ channel: SLACK_OPS, cmdlets: ['Grant-ChannelPermission'] }, alice, SLACK_OPS)).toThrow(
      /for bot admins only/,
    );
  });
});
