import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';

// Reference 3.4.
export const removePSSession = cmdlet({
  name: 'Remove-PSSession',
  aliases: ['rsn'],
  synopsis: 'Closes sessions and removes them from the channel.',
  defaultSet: 'Id',
  supportsShouldProcess: true,
  sets: ['Id', 'Session', 'ContainerId', 'VMId', 'VMName', 'InstanceId', 'Name', 'ComputerName'],
  parameters: [
    param('Session', T.sessions, 'Session@0!|vp', 'Sessions to close.'),
    param('ContainerId', T.strings, 'ContainerId!|p', 'Container ids.', { validate: [V.notNullOrEmpty], unsupported: R.container }),
    param('VMId', T.guids, 'VMId!|p', 'VM ids.', { aliases: ['VMGuid'], validate: [V.notNullOrEmpty], unsupported: R.vm }),
    param('VMName', T.strings, 'VMName!|p', 'VM names.', { validate: [V.notNullOrEmpty], unsupported: R.vm }),
    param('InstanceId', T.guids, 'InstanceId!|p', 'Session instance ids.', { validate: [V.notNull] }),
    param('Id', T.ints, 'Id@0!|p', 'Session ids.', { validate: [V.notNull] }),
    param('Name', T.strings, 'Name!|p', 'Session names (wildcards allowed).', { validate: [V.notNullOrEmpty] }),
    param('ComputerName', T.strings, 'ComputerName@0!|p', 'Close the sessions to these agents (wildcards allowed).', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
  ],
});
