import { describe, expect, it } from 'vitest';
import type { AuthorizationRequest } from '../../src/core/authorizer.js';
import { evaluate, type Policy, type PolicyRule } from '../../src/permissions/policy.js';

/**
 * The policy compares computer names as the agent registry does: `web1.` (DNS's fully qualified
 * spelling) is web1. Names the registry knows reach the policy already resolved; these cases
 * cover names it does not know and rules written with a dot.
 */

const OPS = 'slack:T1/C100';
const TAGS: Record<string, string[]> = { web1: ['role=web'] };
const tags = (n: string): string[] | undefined => TAGS[n.toLowerCase()];

function policy(computers: string[]): Policy {
  const rule: PolicyRule = { id: 'file:x', source: 'file', channels: [OPS], computers, cmdlets: ['Invoke-Command'], runbooksOnly: false };
  return { groups: new Map(), rules: [rule] };
}

function allowed(computers: string[], target: string): boolean {
  const req: AuthorizationRequest = {
    channel: OPS,
    user: { platform: 'slack', userId: 'U1', displayName: 'alice' },
    cmdlet: 'Invoke-Command',
    computers: [target],
    adHocScript: true,
  };
  return evaluate(policy(computers), req, tags).allowed;
}

describe('computer names with a trailing dot', () => {
  it('never lets web1? take web1. for a computer other than web1', () => {
    expect(allowed(['web1?'], 'web1.')).toBe(false);
    expect(allowed(['web1?'], 'WEB1.')).toBe(false);
    expect(allowed(['web1?'], 'web12')).toBe(true);
  });

  it('lets a rule for web1 cover web1. and a rule written web1. cover web1', () => {
    expect(allowed(['web1'], 'web1.')).toBe(true);
    expect(allowed(['web1'], 'WEB1.')).toBe(true);
    expect(allowed(['web1.'], 'web1')).toBe(true);
    expect(allowed(['role=web'], 'web1.')).toBe(true);
    expect(allowed(['web1'], 'web2.')).toBe(false);
  });
});
