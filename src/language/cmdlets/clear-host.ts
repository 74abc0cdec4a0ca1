import { cmdlet } from './dsl.js';
import { ALL_SETS } from '../definition.js';

// PowerShell's Clear-Host function (aliases cls, clear): clears the console, common parameters
// only. A chat channel cannot be cleared; there the bot says so (see the core's handler).
export const clearHost = cmdlet({
  name: 'Clear-Host',
  aliases: ['cls', 'clear'],
  synopsis: 'Clears the console screen (in a chat channel there is nothing to clear: the bot says so).',
  sets: [ALL_SETS],
  parameters: [],
});
