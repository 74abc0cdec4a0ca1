import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { JobState } from '../enums.js';

// Reference 3.11.4.
export const stopJob = cmdlet({
  name: 'Stop-Job',
  aliases: ['spjb'],
  synopsis: 'Stops running jobs.',
  defaultSet: 'SessionIdParameterSet',
  supportsShouldProcess: true,
  sets: [
    'SessionIdParameterSet',
    'JobParameterSet',
    'NameParameterSet',
    'InstanceIdParameterSet',
    'StateParameterSet',
    'FilterParameterSet',
  ],
  parameters: [
    param('Job', T.jobs, 'JobParameterSet@0!|vp', 'Jobs to stop.', { validate: [V.notNullOrEmpty] }),
    param('PassThru', T.switch, '*', 'Return the matched jobs.'),
    param('Name', T.strings, 'NameParameterSet@0!|p', 'Job names (wildcards allowed).', { validate: [V.notNullOrEmpty] }),
    param('InstanceId', T.guids, 'InstanceIdParameterSet@0!|p', 'Job instance ids.', { validate: [V.notNullOrEmpty] }),
    param('Id', T.ints, 'SessionIdParameterSet@0!|p', 'Job ids.', { validate: [V.notNullOrEmpty] }),
    param('State', T.enum(JobState), 'StateParameterSet@0!|p', 'Jobs in this state.'),
    param('Filter', T.hashtable, 'FilterParameterSet@0!|p', 'Job-source adapter filter.', {
      validate: [V.notNullOrEmpty],
      unsupported: R.filter,
    }),
  ],
});
