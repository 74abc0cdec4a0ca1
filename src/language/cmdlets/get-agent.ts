import { cmdlet, param, T } from './dsl.js';
import { ALL_SETS } from '../definition.js';

// Our own: lists registered agents (computers).
export const getAgent = cmdlet({
  name: 'Get-Agent',
  aliases: [],
  synopsis: 'Lists the registered agents (computers) this channel can target.',
  sets: [ALL_SETS],
  parameters: [
    param('Name', T.strings, '*@0', 'Agent names (wildcards allowed).'),
    param('Tag', T.strings, '*', 'Only agents with all these tags, e.g. role=web.'),
  ],
});
