import { cmdlet, param, T, V } from './dsl.js';
import { AuthenticationMechanism } from '../enums.js';
import { authConflict } from './shared-checks.js';

// Reference 3.11.6. Binds exactly as PowerShell (including the multi-bind bug: `Start-Job x.ps1`
// is AmbiguousParameterSet), then the whole cmdlet is refused: a local job would run in the bot.
const LOCAL3 = 'FilePathComputerName; ComputerName; LiteralFilePathComputerName';

export const startJob = cmdlet({
  name: 'Start-Job',
  aliases: ['sajb'],
  synopsis: 'Starts a local background job (not supported here: it would run inside the bot).',
  defaultSet: 'ComputerName',
  sets: ['ComputerName', 'DefinitionName', 'FilePathComputerName', 'LiteralFilePathComputerName', 'SSHHost'],
  unsupported:
    "it would run the script inside the bot. Use Invoke-Command -ComputerName localhost { ... } -AsJob to run it on this computer's agent as a job.",
  parameters: [
    param('DefinitionName', T.string, 'DefinitionName@0!', 'Job definition name.', { validate: [V.notNullOrEmpty] }),
    param('DefinitionPath', T.string, 'DefinitionName@1', 'Job definition path.', { validate: [V.notNullOrEmpty] }),
    param('Type', T.string, 'DefinitionName@2', 'Job definition type.', { validate: [V.notNullOrEmpty] }),
    param('Name', T.string, 'FilePathComputerName|p; ComputerName|p; LiteralFilePathComputerName|p', 'Job name.'),
    param('ScriptBlock', T.scriptblock, 'ComputerName@0!', 'The commands to run.', { aliases: ['Command'] }),
    param('Credential', T.credential, LOCAL3, 'A user account.', { credential: true }),
    param('FilePath', T.string, 'FilePathComputerName@0!', 'A local script.'),
    param('LiteralPath', T.string, 'LiteralFilePathComputerName!', 'A local script, literal path.', { aliases: ['PSPath', 'LP'] }),
    param('Authentication', T.enum(AuthenticationMechanism), LOCAL3, 'Authentication mechanism.'),
    param(
      'InitializationScript',
      T.scriptblock,
      'FilePathComputerName@1; ComputerName@1; LiteralFilePathComputerName@1',
      'Runs before the job.',
    ),
    param('WorkingDirectory', T.string, '*', 'Working directory of the job.', { validate: [V.notNullOrWhiteSpace] }),
    param('RunAs32', T.switch, LOCAL3, 'Run in a 32-bit process.'),
    param('PSVersion', T.version, LOCAL3, 'Windows PowerShell version (only 5.1).', { validate: [V.notNullOrEmpty] }),
    param('InputObject', T.psobject, 'FilePathComputerName|v; ComputerName|v; LiteralFilePathComputerName|v', 'Input for the job.'),
    param('ArgumentList', T.objects, LOCAL3, 'Arguments for the script.', { aliases: ['Args'] }),
    param('ConnectingTimeout', T.int, 'SSHHost', 'Leaked base-class parameter without effect.'),
    param('Options', T.hashtable, 'SSHHost', 'Leaked base-class parameter without effect.', { validate: [V.notNullOrEmpty] }),
  ],
  setterCheck(parameter, bound) {
    if (parameter !== 'PSVersion') return authConflict(parameter, bound);
    const version = bound['PSVersion'];
    if (version === '5.1' || version === null) return undefined;
    return `The value ${String(version)} is not valid for the PSVersion parameter. The only allowed value is 5.1.`;
  },
});
