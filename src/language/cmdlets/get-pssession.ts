import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { AuthenticationMechanism, SessionFilterState } from '../enums.js';
import { authConflict, throttleDefault } from './shared-checks.js';

// Reference 3.3 (Windows build: -ComputerName queries the agent for its sessions).
const REMOTE4 = 'ComputerName; ComputerInstanceId; ConnectionUri; ConnectionUriInstanceId';
const TEN =
  'ComputerName; ComputerInstanceId; ConnectionUri; ConnectionUriInstanceId; ContainerId; ContainerIdInstanceId; VMId; VMIdInstanceId; VMName; VMNameInstanceId';

export const getPSSession = cmdlet({
  name: 'Get-PSSession',
  aliases: ['gsn'],
  synopsis: "Gets the channel's sessions, or asks agents for their sessions (including disconnected ones).",
  defaultSet: 'Name',
  sets: [
    'Name',
    'ComputerName',
    'ComputerInstanceId',
    'ConnectionUri',
    'ConnectionUriInstanceId',
    'ContainerId',
    'ContainerIdInstanceId',
    'VMId',
    'VMIdInstanceId',
    'VMName',
    'VMNameInstanceId',
    'InstanceId',
    'Id',
  ],
  parameters: [
    param('ComputerName', T.strings, 'ComputerName@0!|p; ComputerInstanceId@0!|p', 'Agents to query for sessions.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param('ApplicationName', T.string, 'ComputerName|p; ComputerInstanceId|p', 'WinRM application name.', {
      unsupported: R.endpoint,
    }),
    param('ConnectionUri', T.uris, 'ConnectionUri@0!|p; ConnectionUriInstanceId@0!|p', 'WinRM endpoint URIs.', {
      aliases: ['URI', 'CU'],
      validate: [V.notNullOrEmpty],
      unsupported: R.endpoint,
    }),
    param(
      'ConfigurationName',
      T.string,
      TEN.split('; ')
        .map((s) => `${s}|p`)
        .join('; '),
      'Session configuration.',
      {},
    ),
    param('AllowRedirection', T.switch, 'ConnectionUri; ConnectionUriInstanceId', 'Allow redirection.', {
      unsupported: R.redirection,
    }),
    param('Name', T.strings, 'ComputerName; ConnectionUri; Name|p; ContainerId; VMId; VMName', 'Session names (wildcards allowed).', {
      validate: [V.notNullOrEmpty],
    }),
    param(
      'InstanceId',
      T.guids,
      'ComputerInstanceId!; ConnectionUriInstanceId!; InstanceId|p; ContainerIdInstanceId!; VMIdInstanceId!; VMNameInstanceId!',
      'Session instance ids.',
      { validate: [V.notNull] },
    ),
    param('Credential', T.credential, REMOTE4, 'A user account.', { credential: true, unsupported: R.auth }),
    param('Authentication', T.enum(AuthenticationMechanism), REMOTE4, 'Authentication mechanism.', { unsupported: R.auth }),
    param('CertificateThumbprint', T.string, REMOTE4, 'Client certificate thumbprint.', { unsupported: R.auth }),
    param('Port', T.int, 'ComputerName; ComputerInstanceId', 'Network port.', { validate: [V.range(1, 65535)], unsupported: R.endpoint }),
    param('UseSSL', T.switch, 'ComputerName; ComputerInstanceId', 'Use HTTPS.', { unsupported: R.endpoint }),
    param('ThrottleLimit', T.int, REMOTE4, 'Maximum concurrent queries; 0 or less means 32.'),
    param('State', T.enum(SessionFilterState), TEN, 'Only sessions in this state.'),
    param('SessionOption', T.sessionOption, REMOTE4, 'Session options.', { unsupported: R.queryOption }),
    param('Id', T.ints, 'Id@0!|p', 'Session ids.', { validate: [V.notNull] }),
    param('ContainerId', T.strings, 'ContainerId!|p; ContainerIdInstanceId!|p', 'Container ids.', {
      validate: [V.notNullOrEmpty],
      unsupported: R.container,
    }),
    param('VMId', T.guids, 'VMId!|p; VMIdInstanceId!|p', 'VM ids.', {
      aliases: ['VMGuid'],
      validate: [V.notNullOrEmpty],
      unsupported: R.vm,
    }),
    param('VMName', T.strings, 'VMName!|p; VMNameInstanceId!|p', 'VM names.', { validate: [V.notNullOrEmpty], unsupported: R.vm }),
  ],
  setterCheck: authConflict,
  normalize: throttleDefault,
});
