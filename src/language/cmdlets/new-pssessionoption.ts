import { cmdlet, param, T, V, INT_MAX } from './dsl.js';
import { R } from './reasons.js';
import { ALL_SETS } from '../definition.js';
import { AuthenticationMechanism, OutputBufferingMode, ProxyAccessType } from '../enums.js';

// Reference 3.10, Windows build (the product needs OutputBufferingMode and IdleTimeout).
export const newPSSessionOption = cmdlet({
  name: 'New-PSSessionOption',
  aliases: [],
  synopsis: 'Creates session options for New-PSSession and Invoke-Command -SessionOption.',
  sets: [ALL_SETS],
  parameters: [
    param('MaximumRedirection', T.int, '*', 'Maximum redirections.', { unsupported: R.redirection }),
    param('NoCompression', T.switch, '*', 'Turn off packet compression.', { unsupported: R.transportTuning }),
    param('NoMachineProfile', T.switch, '*', 'Do not load the user profile.', { unsupported: R.transportTuning }),
    param('Culture', T.culture, '*', 'Culture for the session.', { validate: [V.notNull], unsupported: R.culture }),
    param('UICulture', T.culture, '*', 'UI culture for the session.', { validate: [V.notNull], unsupported: R.culture }),
    param('MaximumReceivedDataSizePerCommand', T.int, '*', 'Maximum bytes received per command.'),
    param('MaximumReceivedObjectSize', T.int, '*', 'Maximum size (bytes) of one received object.'),
    param('OutputBufferingMode', T.enum(OutputBufferingMode), '*', 'Block or Drop when the disconnected output buffer is full.'),
    param('MaxConnectionRetryCount', T.int, '*', 'Reconnection attempts.', { validate: [V.range(0, INT_MAX)], unsupported: R.retry }),
    param('ApplicationArguments', T.primitiveDictionary, '*', 'Application arguments.', {
      validate: [V.notNull],
      unsupported: R.applicationArguments,
    }),
    param('OpenTimeout', T.int, '*', 'Milliseconds to wait for a session to open.', {
      aliases: ['OpenTimeoutMSec'],
      validate: [V.range(0, INT_MAX)],
    }),
    param('CancelTimeout', T.int, '*', 'Milliseconds to wait for a cancel (Ctrl+C) to complete.', {
      aliases: ['CancelTimeoutMSec'],
      validate: [V.range(0, INT_MAX)],
    }),
    param('IdleTimeout', T.int, '*', 'Milliseconds a disconnected session is kept (-1 = agent default, else >= 60000).', {
      aliases: ['IdleTimeoutMSec'],
      validate: [V.range(-1, INT_MAX)],
    }),
    param('ProxyAccessType', T.enum(ProxyAccessType), '*', 'Proxy mechanism.', { validate: [V.notNullOrEmpty], unsupported: R.proxy }),
    param('ProxyAuthentication', T.enum(AuthenticationMechanism), '*', 'Proxy authentication.', { unsupported: R.proxy }),
    param('ProxyCredential', T.credential, '*', 'Proxy credential.', {
      validate: [V.notNullOrEmpty],
      credential: true,
      unsupported: R.proxy,
    }),
    param('SkipCACheck', T.switch, '*', 'Skip the CA check.', { unsupported: R.transportSecurity }),
    param('SkipCNCheck', T.switch, '*', 'Skip the CN check.', { unsupported: R.transportSecurity }),
    param('SkipRevocationCheck', T.switch, '*', 'Skip the revocation check.', { unsupported: R.transportSecurity }),
    param('OperationTimeout', T.int, '*', 'Milliseconds an operation may take.', {
      aliases: ['OperationTimeoutMSec'],
      validate: [V.range(0, INT_MAX)],
    }),
    param('NoEncryption', T.switch, '*', 'Turn off encryption.', { unsupported: R.transportSecurity }),
    param('UseUTF16', T.switch, '*', 'Encode requests in UTF-16.', { unsupported: R.transportTuning }),
    param('IncludePortInSPN', T.switch, '*', 'Include the port in the SPN.', { unsupported: R.auth }),
  ],
});
