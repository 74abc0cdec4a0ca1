import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { JobState } from '../enums.js';

// Reference 3.11.5: -Force is not in the State and Command sets.
export const removeJob = cmdlet({
  name: 'Remove-Job',
  aliases: ['rjb'],
  synopsis: 'Deletes jobs and their stored results.',
  defaultSet: 'SessionIdParameterSet',
  supportsShouldProcess: true,
  sets: [
    'SessionIdParameterSet',
    'JobParameterSet',
    'InstanceIdParameterSet',
    'NameParameterSet',
    'FilterParameterSet',
    'StateParameterSet',
    'CommandParameterSet',
  ],
  parameters: [
    param('Job', T.jobs, 'JobParameterSet@0!|vp', 'Jobs to remove.', { validate: [V.notNullOrEmpty] }),
    param(
      'Force',
      T.switch,
      'InstanceIdParameterSet; JobParameterSet; NameParameterSet; SessionIdParameterSet; FilterParameterSet',
      'Stop unfinished jobs first.',
      { aliases: ['F'] },
    ),
    param('Name', T.strings, 'NameParameterSet@0!|p', 'Job names (wildcards allowed).', { validate: [V.notNullOrEmpty] }),
    param('InstanceId', T.guids, 'InstanceIdParameterSet@0!|p', 'Job instance ids.', { validate: [V.notNullOrEmpty] }),
    param('Id', T.ints, 'SessionIdParameterSet@0!|p', 'Job ids.', { validate: [V.notNullOrEmpty] }),
    param('State', T.enum(JobState), 'StateParameterSet@0!|p', 'Remove jobs in this state (running ones are stopped).'),
    param('Command', T.strings, 'CommandParameterSet|p', 'Remove jobs whose command matches.', { validate: [V.notNullOrEmpty] }),
    param('Filter', T.hashtable, 'FilterParameterSet@0!|p', 'Job-source adapter filter.', {
      validate: [V.notNullOrEmpty],
      unsupported: R.filter,
    }),
  ],
});
