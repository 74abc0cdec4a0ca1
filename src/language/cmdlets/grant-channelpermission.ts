import { ALL_SETS } from '../definition.js';
import { cmdlet, INT_MAX, param, T, V } from './dsl.js';

// This bot's own cmdlet (permissions issue): bot admins only. Every parameter is named, on
// purpose: a grant should read unambiguously in the channel and in the audit trail.
export const grantChannelPermission = cmdlet({
  name: 'Grant-ChannelPermission',
  aliases: [],
  synopsis: 'Adds a permission rule for a channel (this one by default), stored in the bot database. Bot admins only.',
  sets: [ALL_SETS],
  parameters: [
    param('Channel', T.string, '*', 'Channel id or group name the rule applies to; default: this channel.', {
      validate: [V.notNullOrEmpty],
    }),
    param('Cmdlet', T.strings, '*!', 'Full cmdlet names or wildcards (Get-*, *) the channel may run.', {
      validate: [V.notNullOrEmpty],
    }),
    param('ComputerName', T.strings, '*', 'Computer names, wildcards (web*) or agent tags (role=web) the channel may target.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param('ConfigurationName', T.strings, '*', 'Session configurations allowed (default: any); `default` means none named.', {
      validate: [V.notNullOrEmpty],
    }),
    param('RunbooksOnly', T.switch, '*', 'Only -FilePath runbooks; ad-hoc script blocks are refused.'),
    param('Runbook', T.strings, '*', 'Runbook names (wildcards within a folder) allowed; default: any.', {
      validate: [V.notNullOrEmpty],
    }),
    param('User', T.strings, '*', 'Only these users (slack:U123, discord:123, console); default: anyone in the channel.', {
      validate: [V.notNullOrEmpty],
    }),
    param('Role', T.strings, '*', 'Only users with one of these roles (discord:ROLEID).', { validate: [V.notNullOrEmpty] }),
    param('MaxComputers', T.int, '*', 'Most computers per command.', { validate: [V.range(1, INT_MAX)] }),
    param('MaxThrottleLimit', T.int, '*', 'Highest ThrottleLimit.', { validate: [V.range(1, INT_MAX)] }),
  ],
});
