import { cmdlet, param, T } from './dsl.js';
import { ALL_SETS } from '../definition.js';

// Our own reduced Remove-Variable: drops channel variables.
export const removeVariable = cmdlet({
  name: 'Remove-Variable',
  aliases: ['rv'],
  synopsis: 'Removes variables from the channel.',
  sets: [ALL_SETS],
  parameters: [
    param('Name', T.strings, '*@0!', 'Variable names (wildcards allowed).'),
    param('Scope', T.string, '*', 'Whose variables: this channel (default) or another channel id (bot admins only).'),
  ],
});
