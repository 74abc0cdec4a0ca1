import { cmdlet } from './dsl.js';
import { ALL_SETS } from '../definition.js';

// Reference 3.6: common parameters only.
export const exitPSSession = cmdlet({
  name: 'Exit-PSSession',
  aliases: ['exsn'],
  synopsis: 'Ends the interactive session of this thread (Enter-PSSession).',
  sets: [ALL_SETS],
  parameters: [],
});
