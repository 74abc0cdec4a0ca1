import { cmdlet, param, T, V, INT_MAX } from './dsl.js';
import { OutputBufferingMode } from '../enums.js';
import { throttleDefault } from './shared-checks.js';

// Reference 3.7.
const ALL4 = 'Session; Name; Id; InstanceId';

export const disconnectPSSession = cmdlet({
  name: 'Disconnect-PSSession',
  aliases: ['dnsn'],
  synopsis: 'Disconnects sessions; commands keep running on the agent and their output is buffered there.',
  defaultSet: 'Session',
  supportsShouldProcess: true,
  sets: ['Session', 'Name', 'Id', 'InstanceId'],
  parameters: [
    param('Session', T.sessions, 'Session@0!|vp', 'Sessions to disconnect.', { validate: [V.notNullOrEmpty] }),
    param('IdleTimeoutSec', T.int, ALL4, 'How long (seconds) the agent keeps the disconnected session.', {
      validate: [V.range(0, INT_MAX)],
    }),
    param('OutputBufferingMode', T.enum(OutputBufferingMode), ALL4, 'What the agent does when the output buffer is full: Block or Drop.'),
    param('ThrottleLimit', T.int, ALL4, 'Maximum concurrent operations; 0 or less means 32.'),
    param('InstanceId', T.guids, 'InstanceId!|p', 'Session instance ids.', { validate: [V.notNull] }),
    param('Id', T.ints, 'Id@0!|p', 'Session ids.', { validate: [V.notNull] }),
    param('Name', T.strings, 'Name!|p', 'Session names.', { validate: [V.notNullOrEmpty] }),
  ],
  normalize: throttleDefault,
});
