import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { AuthenticationMechanism } from '../enums.js';
import { authConflict, throttleDefault } from './shared-checks.js';

// Reference 3.8: the default set Name has -Name mandatory.
const REMOTE4 = 'ComputerName; ComputerNameGuid; ConnectionUri; ConnectionUriGuid';

export const connectPSSession = cmdlet({
  name: 'Connect-PSSession',
  aliases: ['cnsn'],
  synopsis: 'Reconnects disconnected sessions.',
  defaultSet: 'Name',
  supportsShouldProcess: true,
  sets: ['Name', 'Session', 'ComputerName', 'ComputerNameGuid', 'ConnectionUri', 'ConnectionUriGuid', 'InstanceId', 'Id'],
  parameters: [
    param('Session', T.sessions, 'Session@0!|vp', 'Sessions to reconnect.', { validate: [V.notNullOrEmpty] }),
    param('ComputerName', T.strings, 'ComputerName@0!; ComputerNameGuid!', 'Agents whose disconnected sessions to reconnect.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param('ApplicationName', T.string, 'ComputerName|p; ComputerNameGuid|p', 'WinRM application name.', { unsupported: R.endpoint }),
    param(
      'ConfigurationName',
      T.string,
      'ComputerName|p; ComputerNameGuid|p; ConnectionUri|p; ConnectionUriGuid|p',
      'Session configuration.',
      {},
    ),
    param('ConnectionUri', T.uris, 'ConnectionUri@0!|p; ConnectionUriGuid@0!|p', 'WinRM endpoint URIs.', {
      aliases: ['URI', 'CU'],
      validate: [V.notNullOrEmpty],
      unsupported: R.endpoint,
    }),
    param('AllowRedirection', T.switch, 'ConnectionUri; ConnectionUriGuid', 'Allow redirection.', { unsupported: R.redirection }),
    param('InstanceId', T.guids, 'ComputerNameGuid!; ConnectionUriGuid!; InstanceId!', 'Session instance ids.', {
      validate: [V.notNull],
    }),
    param('Name', T.strings, 'Name!; ComputerName; ConnectionUri', 'Session names.', { validate: [V.notNullOrEmpty] }),
    param('Credential', T.credential, REMOTE4, 'A user account.', { credential: true, unsupported: R.auth }),
    param('Authentication', T.enum(AuthenticationMechanism), REMOTE4, 'Authentication mechanism.', { unsupported: R.auth }),
    param('CertificateThumbprint', T.string, REMOTE4, 'Client certificate thumbprint.', { unsupported: R.auth }),
    param('Port', T.int, 'ComputerName; ComputerNameGuid', 'Network port.', { validate: [V.range(1, 65535)], unsupported: R.endpoint }),
    param('UseSSL', T.switch, 'ComputerName; ComputerNameGuid', 'Use HTTPS.', { unsupported: R.endpoint }),
    param('SessionOption', T.sessionOption, REMOTE4, 'Session options.', { unsupported: R.queryOption }),
    param(
      'ThrottleLimit',
      T.int,
      'Session; ComputerName; Id; ComputerNameGuid; ConnectionUri; ConnectionUriGuid; Name; InstanceId',
      'Maximum concurrent operations; 0 or less means 32.',
    ),
    param('Id', T.ints, 'Id@0!|p', 'Session ids.', { validate: [V.notNull] }),
  ],
  setterCheck: authConflict,
  normalize: throttleDefault,
});
