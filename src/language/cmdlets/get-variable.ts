import { cmdlet, param, T } from './dsl';
import { ALL_SETS } from '../definition';

// Our own reduced Get-Variable: the channel's variables.
export const getVariable = cmdlet({
  name: 'Get-Variable',
  aliases: ['gv'],
  synopsis: 'Lists the channel\'s variables.',
  sets: [ALL_SETS],
  parameters: [param('Name', T.strings, '*@0', 'Variable names (wildcards allowed).')],
});
