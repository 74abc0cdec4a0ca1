import { cmdlet, param, T, V, INT_MAX } from './dsl.js';
import { R } from './reasons.js';
import { JobState } from '../enums.js';

// Reference 3.11.3.
export const waitJob = cmdlet({
  name: 'Wait-Job',
  aliases: ['wjb'],
  synopsis: 'Waits until jobs are finished (or one of them with -Any) and returns them.',
  defaultSet: 'SessionIdParameterSet',
  sets: [
    'SessionIdParameterSet',
    'JobParameterSet',
    'NameParameterSet',
    'InstanceIdParameterSet',
    'StateParameterSet',
    'FilterParameterSet',
  ],
  parameters: [
    param('Job', T.jobs, 'JobParameterSet@0!|vp', 'Jobs to wait for.', { validate: [V.notNullOrEmpty] }),
    param('Any', T.switch, '*', 'Return as soon as any job finishes.'),
    param('Timeout', T.int, '*', 'Seconds to wait (-1 = forever); ends without output or error.', {
      aliases: ['TimeoutSec'],
      validate: [V.range(-1, INT_MAX)],
    }),
    param('Force', T.switch, '*', 'Keep waiting through Suspended and Disconnected states.'),
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
