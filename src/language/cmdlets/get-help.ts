import { cmdlet, param, T } from './dsl.js';
import { R } from './reasons.js';

// Reduced Get-Help: parameter sets as in PowerShell, help text generated from our definitions.
// `help` is PowerShell's function around Get-Help (paging aside, the same): an alias here.
export const getHelp = cmdlet({
  name: 'Get-Help',
  aliases: ['help'],
  synopsis: 'Shows help for a command, generated from the same definitions the binder uses; without a name, what the bot can do.',
  defaultSet: 'AllUsersView',
  sets: ['AllUsersView', 'DetailedView', 'Examples', 'Parameters', 'Online'],
  parameters: [
    param('Name', T.string, '*@0', 'The command (name or alias).'),
    param('Full', T.switch, 'AllUsersView', 'Show everything.'),
    param('Detailed', T.switch, 'DetailedView!', 'Show parameter descriptions.'),
    param('Examples', T.switch, 'Examples!', 'Show only the examples.'),
    param('Parameter', T.strings, 'Parameters!', 'Show only these parameters.'),
    param('Online', T.switch, 'Online!', 'Open the online help.', { unsupported: R.online }),
  ],
});
