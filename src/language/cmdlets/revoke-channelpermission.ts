import { ALL_SETS } from '../definition.js';
import { cmdlet, param, T, V } from './dsl.js';

// This bot's own cmdlet (permissions issue): bot admins only. Only chat rules can be revoked;
// file rules are changed in the file.
export const revokeChannelPermission = cmdlet({
  name: 'Revoke-ChannelPermission',
  aliases: [],
  synopsis: 'Removes permission rules granted from chat, by Id (chat:3 or 3, as Get-ChannelPermission shows). Bot admins only.',
  sets: [ALL_SETS],
  parameters: [param('Id', T.strings, '*@0!|p', 'Ids of the chat rules to remove.', { validate: [V.notNullOrEmpty] })],
});
