import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { JobState } from '../enums.js';

// Reference 3.11.1: -Id is optional in the default set.
const FIVE = 'SessionIdParameterSet; InstanceIdParameterSet; NameParameterSet; StateParameterSet; CommandParameterSet';

export const getJob = cmdlet({
  name: 'Get-Job',
  aliases: ['gjb'],
  synopsis: "Gets the channel's background jobs.",
  defaultSet: 'SessionIdParameterSet',
  sets: [
    'SessionIdParameterSet',
    'InstanceIdParameterSet',
    'NameParameterSet',
    'StateParameterSet',
    'CommandParameterSet',
    'FilterParameterSet',
  ],
  parameters: [
    param('IncludeChildJob', T.switch, FIVE, 'Also return the child jobs (one per computer).'),
    param('ChildJobState', T.enum(JobState), FIVE, 'Also return child jobs in this state.'),
    param('HasMoreData', T.bool, FIVE, 'Only jobs whose HasMoreData equals this value ($true or $false).'),
    param('Before', T.datetime, FIVE, 'Only jobs that ended before this date.'),
    param('After', T.datetime, FIVE, 'Only jobs that ended after this date.'),
    param('Newest', T.int, FIVE, 'Only the N most recently ended jobs.'),
    param('Id', T.ints, 'SessionIdParameterSet@0|p', 'Job ids.', { validate: [V.notNullOrEmpty] }),
    param('Name', T.strings, 'NameParameterSet@0!|p', 'Job names (wildcards allowed).', { validate: [V.notNullOrEmpty] }),
    param('InstanceId', T.guids, 'InstanceIdParameterSet@0!|p', 'Job instance ids.', { validate: [V.notNullOrEmpty] }),
    param('State', T.enum(JobState), 'StateParameterSet@0!|p', 'Only jobs in this state.'),
    param('Command', T.strings, 'CommandParameterSet|p', 'Jobs whose command matches (wildcards allowed).', {
      validate: [V.notNullOrEmpty],
    }),
    param('Filter', T.hashtable, 'FilterParameterSet@0!|p', 'Job-source adapter filter.', {
      validate: [V.notNullOrEmpty],
      unsupported: R.filter,
    }),
  ],
});
