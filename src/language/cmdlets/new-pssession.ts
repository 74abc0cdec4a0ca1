import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { AuthenticationMechanism } from '../enums.js';
import { authConflict, checkIdleTimeout, throttleDefault } from './shared-checks.js';

// Reference 3.2.
export const newPSSession = cmdlet({
  name: 'New-PSSession',
  aliases: ['nsn'],
  synopsis: 'Opens persistent sessions on registered agents; the channel shares them.',
  defaultSet: 'ComputerName',
  sets: [
    'ComputerName',
    'Uri',
    'VMId',
    'VMName',
    'Session',
    'ContainerId',
    'UseWindowsPowerShellParameterSet',
    'SSHHost',
    'SSHHostHashParam',
  ],
  unsupportedSets: { UseWindowsPowerShellParameterSet: R.windowsPowerShell },
  parameters: [
    param('ComputerName', T.strings, 'ComputerName@0|vp', 'Agents to open sessions on.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param('Credential', T.credential, 'ComputerName|p; Uri|p; VMId!|p; VMName!|p', 'A user account.', {
      credential: true,
      unsupported: R.auth,
    }),
    param('Session', T.sessions, 'Session@0|vp', 'Open new sessions to the same computers as these.', {
      validate: [V.notNullOrEmpty],
    }),
    param('Name', T.strings, '*', 'Friendly names for the sessions, by index.'),
    param('EnableNetworkAccess', T.switch, 'ComputerName; Session; Uri', 'Loopback network token.', {
      unsupported: R.networkAccess,
    }),
    param('ConfigurationName', T.string, 'ComputerName|p; Uri|p; ContainerId|p; VMId|p; VMName|p', 'Session configuration.', {}),
    param('UseWindowsPowerShell', T.switch, 'UseWindowsPowerShellParameterSet!', 'Windows PowerShell 5.1 session.', {
      unsupported: R.windowsPowerShell,
    }),
    param('VMId', T.guids, 'VMId@0!|p', 'Hyper-V VM ids.', { aliases: ['VMGuid'], validate: [V.notNullOrEmpty], unsupported: R.vm }),
    param('VMName', T.strings, 'VMName!|p', 'Hyper-V VM names.', { validate: [V.notNullOrEmpty], unsupported: R.vm }),
    param('ContainerId', T.strings, 'ContainerId!|p', 'Container ids.', { validate: [V.notNullOrEmpty], unsupported: R.container }),
    param('RunAsAdministrator', T.switch, 'ContainerId', 'Administrator in the container.', { unsupported: R.runAsAdministrator }),
    param('Port', T.int, 'ComputerName; SSHHost', 'Network port.', { validate: [V.range(1, 65535)], unsupported: R.endpoint }),
    param('UseSSL', T.switch, 'ComputerName', 'Use HTTPS.', { unsupported: R.endpoint }),
    param('ApplicationName', T.string, 'ComputerName|p', 'WinRM application name.', { unsupported: R.endpoint }),
    param(
      'ThrottleLimit',
      T.int,
      'ComputerName; Session; Uri; ContainerId; VMId; VMName',
      'Maximum concurrent connections; 0 or less means 32.',
    ),
    param('ConnectionUri', T.uris, 'Uri@0!|p', 'WinRM endpoint URIs.', {
      aliases: ['URI', 'CU'],
      validate: [V.notNullOrEmpty],
      unsupported: R.endpoint,
    }),
    param('AllowRedirection', T.switch, 'Uri', 'Allow redirection.', { unsupported: R.redirection }),
    param('SessionOption', T.sessionOption, 'ComputerName; Uri', 'Session options (New-PSSessionOption or a hashtable).', {
      validate: [V.notNull],
    }),
    param('Authentication', T.enum(AuthenticationMechanism), 'ComputerName; Uri', 'Authentication mechanism.', {
      unsupported: R.auth,
    }),
    param('CertificateThumbprint', T.string, 'ComputerName; Uri', 'Client certificate thumbprint.', { unsupported: R.auth }),
    param('HostName', T.strings, 'SSHHost@0!', 'SSH host names.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('UserName', T.string, 'SSHHost', 'SSH user.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('KeyFilePath', T.string, 'SSHHost', 'SSH key file.', {
      aliases: ['IdentityFilePath'],
      validate: [V.notNullOrEmpty],
      unsupported: R.ssh,
    }),
    param('Subsystem', T.string, 'SSHHost|p', 'SSH subsystem.', { unsupported: R.ssh }),
    param('ConnectingTimeout', T.int, 'SSHHost', 'SSH connection timeout.', { unsupported: R.ssh }),
    param('SSHTransport', T.switch, 'SSHHost', 'SSH transport.', { validate: [V.set('true')], unsupported: R.ssh }),
    param('SSHConnection', T.hashtables, 'SSHHostHashParam!', 'SSH connections.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('Options', T.hashtable, 'SSHHost', 'OpenSSH options.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
  ],
  setterCheck: authConflict,
  normalize: throttleDefault,
  beginProcessing(call) {
    checkIdleTimeout(call.parameters);
  },
});
