import type { CallDescriber, CmdletHandler, ExecContext } from '../core/context.js';
import { safePost, showError, userKey } from '../core/context.js';
import { asBool, asNumber, asString, asStrings } from '../core/value-helpers.js';
import { ChatOpsError, isChatOpsError } from '../errors.js';
import type { BoundCall } from '../language/bound-call.js';
import type { HashtableValue, PsValue } from '../language/values.js';
import type { Block } from '../messages/model.js';
import type { PolicyRule } from './policy.js';
import { describeRule, type PolicyAuthorizer } from './policy-authorizer.js';

/**
 * Get-, Grant- and Revoke-ChannelPermission for the core: pass the result to ChatCore as
 * `extraCmdlets`. The core authorizes them like any call (the PolicyAuthorizer allows them to
 * bot admins only) and audits the call; grant and revoke also write an `admin` audit record.
 * Each handler checks admin again itself, so wiring them to another authorizer stays safe.
 */
export function permissionCmdlets(authz: PolicyAuthorizer): Record<string, { run: CmdletHandler; describe?: CallDescriber }> {
  const requireAdmin = (call: BoundCall, ctx: ExecContext): void => {
    if (!authz.isAdmin(ctx.command.user)) {
      throw new ChatOpsError(
        'PermissionDenied',
        `Only bot admins may run ${call.cmdlet}; ${userKey(ctx.command.user)} is not one (CHATOPS_ADMINS)`,
      );
    }
  };

  const getChannelPermission: CmdletHandler = async (call, ctx) => {
    requireAdmin(call, ctx);
    const channel = asString(call.parameters.Channel) ?? ctx.channel;
    const rules = authz.listRules(channel);
    if (ctx.display) {
      const blocks: Block[] = [];
      const status = authz.status();
      if (status.error !== undefined) {
        blocks.push({
          kind: 'error',
          text: `The policy file has errors; the last good version (loaded ${status.loadedAt}) is still in force.\n${status.error}`,
        });
      }
      blocks.push(
        rules.length === 0
          ? {
              kind: 'text',
              text: `No rules for ${channel === '*' ? 'any channel' : channel}: it may only use Get-Help, Get-Command and Clear-Host.`,
            }
          : {
              kind: 'table',
              title: channel === '*' ? 'All permission rules' : `Permission rules for ${channel}`,
              columns: ['Id', 'Source', 'Channels', 'Computers', 'Cmdlets', 'Scripts', 'Configurations', 'Users', 'Limits', 'Origin'],
              rows: rules.map(ruleRow),
            },
      );
      await safePost(ctx, { blocks });
    }
    return rules.map(ruleValue);
  };

  const grantChannelPermission: CmdletHandler = async (call, ctx) => {
    requireAdmin(call, ctx);
    const p = call.parameters;
    const list = (v: PsValue | undefined): string[] | undefined => (v === undefined ? undefined : asStrings(v));
    const maxComputers = asNumber(p.MaxComputers);
    const maxThrottleLimit = asNumber(p.MaxThrottleLimit);
    const rule = authz.grant(
      {
        channel: asString(p.Channel) ?? ctx.channel,
        cmdlets: asStrings(p.Cmdlet),
        ...(p.ComputerName !== undefined ? { computers: list(p.ComputerName)! } : {}),
        ...(p.ConfigurationName !== undefined ? { configurations: list(p.ConfigurationName)! } : {}),
        runbooksOnly: asBool(p.RunbooksOnly),
        ...(p.Runbook !== undefined ? { runbooks: list(p.Runbook)! } : {}),
        ...(p.User !== undefined ? { users: list(p.User)! } : {}),
        ...(p.Role !== undefined ? { roles: list(p.Role)! } : {}),
        ...(maxComputers !== undefined ? { maxComputers } : {}),
        ...(maxThrottleLimit !== undefined ? { maxThrottleLimit } : {}),
      },
      ctx.command.user,
      ctx.channel,
    );
    if (ctx.display) await safePost(ctx, { blocks: [{ kind: 'text', text: `Granted rule ${rule.id}: ${describeRule(rule)}` }] });
    return ruleValue(rule);
  };

  const revokeChannelPermission: CmdletHandler = async (call, ctx) => {
    requireAdmin(call, ctx);
    const removed: PsValue[] = [];
    for (const id of asStrings(call.parameters.Id)) {
      try {
        const rule = authz.revoke(id, ctx.command.user, ctx.channel);
        removed.push(ruleValue(rule));
        if (ctx.display) await safePost(ctx, { blocks: [{ kind: 'text', text: `Revoked rule ${rule.id}: ${describeRule(rule)}` }] });
      } catch (e) {
        // One bad id does not stop the others (non-terminating, as PowerShell's Remove-* do).
        if (!isChatOpsError(e) || e.code === 'PermissionDenied') throw e;
        await showError(ctx, e.message);
      }
    }
    return removed;
  };

  return {
    'Get-ChannelPermission': { run: getChannelPermission },
    'Grant-ChannelPermission': { run: grantChannelPermission },
    'Revoke-ChannelPermission': { run: revokeChannelPermission },
  };
}

function ruleRow(rule: PolicyRule): string[] {
  const limits = [
    rule.maxComputers !== undefined ? `MaxComputers ${rule.maxComputers}` : '',
    rule.maxThrottleLimit !== undefined ? `MaxThrottleLimit ${rule.maxThrottleLimit}` : '',
  ].filter((s) => s !== '');
  return [
    rule.id,
    rule.source,
    rule.channels.join(', '),
    rule.computers.join(', ') || '(none)',
    rule.cmdlets.join(', '),
    rule.runbooksOnly
      ? `runbooks only${rule.runbooks ? `: ${rule.runbooks.join(', ')}` : ''}`
      : rule.runbooks
        ? `ad-hoc; runbooks: ${rule.runbooks.join(', ')}`
        : 'ad-hoc and runbooks',
    rule.configurations?.join(', ') ?? 'any',
    [...(rule.users ?? []), ...(rule.roles ?? []).map((r) => `role ${r}`)].join(', ') || 'anyone',
    limits.join(', ') || 'none',
    rule.origin ?? '',
  ];
}

function ruleValue(rule: PolicyRule): HashtableValue {
  const entries: HashtableValue['entries'] = [
    { key: 'Id', value: rule.id },
    { key: 'Source', value: rule.source },
    { key: 'Channels', value: rule.channels },
    { key: 'Computers', value: rule.computers },
    { key: 'Cmdlets', value: rule.cmdlets },
    { key: 'RunbooksOnly', value: rule.runbooksOnly },
  ];
  if (rule.runbooks) entries.push({ key: 'Runbooks', value: rule.runbooks });
  if (rule.configurations) entries.push({ key: 'Configurations', value: rule.configurations });
  if (rule.users) entries.push({ key: 'Users', value: rule.users });
  if (rule.roles) entries.push({ key: 'Roles', value: rule.roles });
  if (rule.maxComputers !== undefined) entries.push({ key: 'MaxComputers', value: rule.maxComputers });
  if (rule.maxThrottleLimit !== undefined) entries.push({ key: 'MaxThrottleLimit', value: rule.maxThrottleLimit });
  return { kind: 'hashtable', entries };
}
