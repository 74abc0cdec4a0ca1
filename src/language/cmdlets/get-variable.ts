import { cmdlet, param, T } from './dsl.js';
import { ALL_SETS } from '../definition.js';

// Our own reduced Get-Variable: the channel's variables.
export const getVariable = cmdlet({
  name: 'Get-Variable',
  aliases: ['gv'],
  synopsis: "Lists the channel's variables.",
  sets: [ALL_SETS],
  parameters: [
    param('Name', T.strings, '*@0', 'Variable names (wildcards allowed).'),
    // The channel is the team's session, so a scope is a channel: bot admins may name another.
    param('Scope', T.string, '*', 'Whose variables: this channel (default), another channel id, or * for every channel (bot admins only).'),
  ],
});
