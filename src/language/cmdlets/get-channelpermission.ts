import { ALL_SETS } from '../definition.js';
import { cmdlet, param, T, V } from './dsl.js';

// This bot's own cmdlet (permissions issue): bot admins only.
export const getChannelPermission = cmdlet({
  name: 'Get-ChannelPermission',
  aliases: [],
  synopsis:
    'Lists the permission rules of a channel (this one by default; * for all) with their source: default, file or chat. Bot admins only.',
  sets: [ALL_SETS],
  parameters: [
    param('Channel', T.string, '*@0', 'Channel id (console, slack:TEAM/CHANNEL, discord:GUILD/CHANNEL), group name, or * for every rule.', {
      validate: [V.notNullOrEmpty],
    }),
  ],
});
