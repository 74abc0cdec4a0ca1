import { ChatOpsError } from '../../errors.js';
import { cmdlet, param, T, V } from './dsl.js';

// Reference 3.11.2.
export const receiveJob = cmdlet({
  name: 'Receive-Job',
  aliases: ['rcjb'],
  synopsis: 'Gets the results of background jobs (consumed unless -Keep).',
  defaultSet: 'Location',
  sets: ['Location', 'ComputerName', 'Session', 'NameParameterSet', 'InstanceIdParameterSet', 'SessionIdParameterSet'],
  parameters: [
    param('Job', T.jobs, 'ComputerName@0!|vp; Session@0!|vp; Location@0!|vp', 'Jobs to receive from.'),
    param('ComputerName', T.strings, 'ComputerName@1|p', 'Only results from these computers.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param('Location', T.strings, 'Location@1', 'Only results from these locations.', { validate: [V.notNullOrEmpty] }),
    param('Session', T.sessions, 'Session@1|p', 'Only results from these sessions.', { validate: [V.notNull] }),
    param('Keep', T.switch, '*', 'Keep the results so they can be received again.'),
    param('NoRecurse', T.switch, '*', "Only the parent job's own results."),
    param('Force', T.switch, '*', 'With -Wait: wait until Completed, Failed or Stopped.'),
    param('Wait', T.switch, '*', 'Keep receiving until the jobs finish.'),
    param('AutoRemoveJob', T.switch, '*', 'With -Wait: remove the jobs when done.'),
    param('WriteEvents', T.switch, '*', 'With -Wait: also report job state changes.'),
    param('WriteJobInResults', T.switch, '*', 'With -Wait: return the job object first.'),
    param('Name', T.strings, 'NameParameterSet@0!|p', 'Job names (wildcards allowed).', { validate: [V.notNullOrEmpty] }),
    param('InstanceId', T.guids, 'InstanceIdParameterSet@0!|p', 'Job instance ids.', { validate: [V.notNullOrEmpty] }),
    param('Id', T.ints, 'SessionIdParameterSet@0!|p', 'Job ids.', { validate: [V.notNullOrEmpty] }),
  ],
  setterCheck(parameter, bound) {
    if ((parameter === 'Keep' || parameter === 'Wait') && bound['Keep'] === true && bound['Wait'] === true) {
      return 'The Wait and Keep parameters cannot be used together in the same command.';
    }
    return undefined;
  },
  beginProcessing(call) {
    const p = call.parameters;
    if (p['Wait'] === true) return;
    const fail = (parameter: string, message: string): never => {
      throw new ChatOpsError('InvalidOperation', message, { target: parameter });
    };
    if (p['AutoRemoveJob'] === true) fail('AutoRemoveJob', 'The -AutoRemoveJob parameter cannot be used without the -Wait parameter');
    if (p['WriteJobInResults'] === true) {
      fail('WriteJobInResults', 'The -WriteJobInResults parameter cannot be used without the -Wait parameter');
    }
    if (p['WriteEvents'] === true) fail('WriteEvents', 'The WriteEvents parameter cannot be used without the Wait parameter.');
    if (p['Force'] === true) fail('Force', 'The -Force parameter cannot be used without the -Wait parameter.');
  },
});
