import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { AuthenticationMechanism, OutTarget } from '../enums.js';
import { authConflict } from './shared-checks.js';

// Reference 3.9: identity parameters are scalars.
const EIGHT =
  'Session; Id; InstanceId; SessionName; ComputerInstanceId; ComputerSessionName; ConnectionUriSessionName; ConnectionUriInstanceId';
const REMOTE4 = 'ComputerInstanceId; ComputerSessionName; ConnectionUriSessionName; ConnectionUriInstanceId';

export const receivePSSession = cmdlet({
  name: 'Receive-PSSession',
  aliases: ['rcsn'],
  synopsis: 'Gets the output buffered in a disconnected session and reconnects it.',
  defaultSet: 'Session',
  supportsShouldProcess: true,
  sets: [
    'Session',
    'Id',
    'ComputerSessionName',
    'ComputerInstanceId',
    'ConnectionUriSessionName',
    'ConnectionUriInstanceId',
    'InstanceId',
    'SessionName',
  ],
  parameters: [
    param('Session', T.session, 'Session@0!|vp', 'The session to receive from.', { validate: [V.notNullOrEmpty] }),
    param('Id', T.int, 'Id@0!|vp', 'Session id.'),
    param('ComputerName', T.string, 'ComputerSessionName@0!|p; ComputerInstanceId@0!|p', 'The agent holding the session.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param('ApplicationName', T.string, 'ComputerSessionName|p; ComputerInstanceId|p', 'WinRM application name.', {
      unsupported: R.endpoint,
    }),
    param(
      'ConfigurationName',
      T.string,
      REMOTE4.split('; ')
        .map((s) => `${s}|p`)
        .join('; '),
      'Session configuration.',
      {},
    ),
    param('ConnectionUri', T.uri, 'ConnectionUriSessionName@0!|p; ConnectionUriInstanceId@0!|p', 'WinRM endpoint URI.', {
      aliases: ['URI', 'CU'],
      validate: [V.notNullOrEmpty],
      unsupported: R.endpoint,
    }),
    param('AllowRedirection', T.switch, 'ConnectionUriSessionName; ConnectionUriInstanceId', 'Allow redirection.', {
      unsupported: R.redirection,
    }),
    param('InstanceId', T.guid, 'InstanceId@0!|vp; ComputerInstanceId!; ConnectionUriInstanceId!', 'Session instance id.', {
      validate: [V.notNullOrEmpty],
    }),
    param('Name', T.string, 'SessionName@0!|vp; ComputerSessionName!; ConnectionUriSessionName!', 'Session name.', {
      validate: [V.notNullOrEmpty],
    }),
    param('OutTarget', T.enum(OutTarget), EIGHT, 'Default, Host (stream the output) or Job (return a job).'),
    param('JobName', T.string, EIGHT, 'Name of the job for -OutTarget Job.', { validate: [V.notNullOrEmpty] }),
    param('Credential', T.credential, REMOTE4, 'A user account.', { credential: true, unsupported: R.auth }),
    param('Authentication', T.enum(AuthenticationMechanism), REMOTE4, 'Authentication mechanism.', { unsupported: R.auth }),
    param('CertificateThumbprint', T.string, REMOTE4, 'Client certificate thumbprint.', { unsupported: R.auth }),
    param('Port', T.int, 'ComputerInstanceId; ComputerSessionName', 'Network port.', {
      validate: [V.range(1, 65535)],
      unsupported: R.endpoint,
    }),
    param('UseSSL', T.switch, 'ComputerInstanceId; ComputerSessionName', 'Use HTTPS.', { unsupported: R.endpoint }),
    param('SessionOption', T.sessionOption, REMOTE4, 'Session options.', { unsupported: R.queryOption }),
  ],
  setterCheck: authConflict,
});
