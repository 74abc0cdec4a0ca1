import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { AuthenticationMechanism } from '../enums.js';
import { authConflict, checkIdleTimeout } from './shared-checks.js';

// Reference 3.5: identity parameters are scalars here; no ThrottleLimit.
export const enterPSSession = cmdlet({
  name: 'Enter-PSSession',
  aliases: ['etsn'],
  synopsis: 'Turns a chat thread into an interactive prompt on one agent.',
  defaultSet: 'ComputerName',
  sets: ['ComputerName', 'SSHHost', 'Session', 'Uri', 'InstanceId', 'Id', 'Name', 'VMId', 'VMName', 'ContainerId'],
  parameters: [
    param('HostName', T.string, 'SSHHost@0!|v', 'SSH host name.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('Options', T.hashtable, 'SSHHost', 'OpenSSH options.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('ComputerName', T.string, 'ComputerName@0!|vp', 'The agent to connect to.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param('Session', T.session, 'Session@0|vp', 'An existing session to enter.', { validate: [V.notNullOrEmpty] }),
    param('ConnectionUri', T.uri, 'Uri@1|p', 'WinRM endpoint URI.', {
      aliases: ['URI', 'CU'],
      validate: [V.notNullOrEmpty],
      unsupported: R.endpoint,
    }),
    param('InstanceId', T.guid, 'InstanceId|p', 'Session instance id.', { validate: [V.notNull] }),
    param('Id', T.int, 'Id@0|p', 'Session id.', { validate: [V.notNull] }),
    param('Name', T.string, 'Name|p', 'Session name.'),
    param('EnableNetworkAccess', T.switch, 'ComputerName; Uri', 'Loopback network token.', { unsupported: R.networkAccess }),
    param('VMId', T.guid, 'VMId@0!|vp', 'VM id.', { aliases: ['VMGuid'], validate: [V.notNullOrEmpty], unsupported: R.vm }),
    param('VMName', T.string, 'VMName@0!|vp', 'VM name.', { validate: [V.notNullOrEmpty], unsupported: R.vm }),
    param('Credential', T.credential, 'ComputerName|p; Uri|p; VMId@1!|p; VMName@1!|p', 'A user account.', {
      credential: true,
      unsupported: R.auth,
    }),
    param('ContainerId', T.string, 'ContainerId@0!|vp', 'Container id.', { validate: [V.notNullOrEmpty], unsupported: R.container }),
    param('ConfigurationName', T.string, 'ComputerName|p; Uri|p; ContainerId|p; VMId|p; VMName|p', 'Session configuration.', {}),
    param('RunAsAdministrator', T.switch, 'ContainerId', 'Administrator in the container.', { unsupported: R.runAsAdministrator }),
    param('Port', T.int, 'ComputerName; SSHHost', 'Network port.', { validate: [V.range(1, 65535)], unsupported: R.endpoint }),
    param('UseSSL', T.switch, 'ComputerName', 'Use HTTPS.', { unsupported: R.endpoint }),
    param('ApplicationName', T.string, 'ComputerName|p', 'WinRM application name.', { unsupported: R.endpoint }),
    param('AllowRedirection', T.switch, 'Uri', 'Allow redirection.', { unsupported: R.redirection }),
    param('SessionOption', T.sessionOption, 'ComputerName; Uri', 'Session options.', { validate: [V.notNull] }),
    param('Authentication', T.enum(AuthenticationMechanism), 'ComputerName; Uri', 'Authentication mechanism.', { unsupported: R.auth }),
    param('CertificateThumbprint', T.string, 'ComputerName; Uri', 'Client certificate thumbprint.', { unsupported: R.auth }),
    param('UserName', T.string, 'SSHHost', 'SSH user.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('KeyFilePath', T.string, 'SSHHost', 'SSH key file.', {
      aliases: ['IdentityFilePath'],
      validate: [V.notNullOrEmpty],
      unsupported: R.ssh,
    }),
    param('Subsystem', T.string, 'SSHHost|p', 'SSH subsystem.', { unsupported: R.ssh }),
    param('ConnectingTimeout', T.int, 'SSHHost', 'SSH connection timeout.', { unsupported: R.ssh }),
    param('SSHTransport', T.switch, 'SSHHost', 'SSH transport.', { validate: [V.set('true')], unsupported: R.ssh }),
  ],
  setterCheck: authConflict,
  beginProcessing(call) {
    checkIdleTimeout(call.parameters);
  },
});
