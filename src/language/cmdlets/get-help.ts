import { cmdlet, param, T } from './dsl.js';
import { R } from './reasons.js';

// Reduced Get-Help: parameter sets as in PowerShell, help text generated from our definitions.
export const getHelp = cmdlet({
  name: 'Get-Help',
  aliases: [],
  synopsis: 'Shows help for a command, generated from the same definitions the binder uses.',
  defaultSet: 'AllUsersView',
  sets: ['AllUsersView', 'DetailedView', 'Parameters', 'Online'],
  parameters: [
    param('Name', T.string, '*@0', 'The command (name or alias).'),
    param('Full', T.switch, 'AllUsersView', 'Show everything.'),
    param('Detailed', T.switch, 'DetailedView!', 'Show parameter descriptions.'),
    param('Parameter', T.strings, 'Parameters!', 'Show only these parameters.'),
    param('Online', T.switch, 'Online!', 'Open the online help.', { unsupported: R.online }),
  ],
});
