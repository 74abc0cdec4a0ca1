import { ChatOpsError } from '../../errors.js';
import { cmdlet, param, T, V } from './dsl.js';
import { R } from './reasons.js';
import { AuthenticationMechanism } from '../enums.js';
import { authConflict, checkIdleTimeout, throttleDefault } from './shared-checks.js';

// Reference 3.1. Set lists exactly as in the table (declaration order = table order).
const SIXTEEN =
  'ComputerName; Session; Uri; FilePathComputerName; FilePathRunspace; FilePathUri; VMId; VMName; ContainerId; FilePathVMId; FilePathVMName; FilePathContainerId; SSHHost; SSHHostHashParam; FilePathSSHHost; FilePathSSHHostHash';
const SSH_HOST = 'SSHHost; FilePathSSHHost';

export const invokeCommand = cmdlet({
  name: 'Invoke-Command',
  aliases: ['icm'],
  synopsis: 'Runs commands on registered agents (computers) and returns the output, per computer.',
  defaultSet: 'InProcess',
  sets: [
    'InProcess',
    'Session',
    'FilePathRunspace',
    'ComputerName',
    'FilePathComputerName',
    'Uri',
    'FilePathUri',
    'VMId',
    'VMName',
    'FilePathVMId',
    'FilePathVMName',
    'SSHHost',
    'ContainerId',
    'FilePathContainerId',
    'SSHHostHashParam',
    'FilePathSSHHost',
    'FilePathSSHHostHash',
  ],
  unsupportedSets: { InProcess: R.inProcess },
  parameters: [
    param('Session', T.sessions, 'Session@0; FilePathRunspace@0', 'Sessions (from New-PSSession) to run the command in.', {
      validate: [V.notNullOrEmpty],
    }),
    param('ComputerName', T.strings, 'ComputerName@0; FilePathComputerName@0', 'Agents to run the command on.', {
      aliases: ['Cn'],
      validate: [V.notNullOrEmpty],
    }),
    param(
      'Credential',
      T.credential,
      'ComputerName|p; Uri|p; FilePathComputerName|p; FilePathUri|p; VMId!|p; VMName!|p; FilePathVMId!|p; FilePathVMName!|p',
      'A user account with permission to connect.',
      { credential: true, unsupported: R.auth },
    ),
    param('Port', T.int, 'ComputerName; FilePathComputerName; SSHHost', 'Network port on the remote computer.', {
      validate: [V.range(1, 65535)],
      unsupported: R.endpoint,
    }),
    param('UseSSL', T.switch, 'ComputerName; FilePathComputerName', 'Use HTTPS for the WinRM connection.', {
      unsupported: R.endpoint,
    }),
    param(
      'ConfigurationName',
      T.string,
      'ComputerName|p; Uri|p; FilePathComputerName|p; FilePathUri|p; ContainerId|p; VMId|p; VMName|p; FilePathContainerId|p; FilePathVMId|p; FilePathVMName|p',
      'Session configuration: which executor the agent runs the script with (Microsoft.PowerShell, bash, sh).',
      {},
    ),
    param('ApplicationName', T.string, 'ComputerName|p; FilePathComputerName|p', 'Application segment of the WinRM URI.', {
      unsupported: R.endpoint,
    }),
    param(
      'ThrottleLimit',
      T.int,
      'ComputerName; Session; Uri; FilePathComputerName; FilePathRunspace; FilePathUri; VMId; VMName; ContainerId; FilePathVMId; FilePathVMName; FilePathContainerId',
      'Maximum concurrent connections; 0 or less means 32.',
    ),
    param('ConnectionUri', T.uris, 'Uri@0; FilePathUri@0', 'WinRM endpoint URIs.', {
      aliases: ['URI', 'CU'],
      validate: [V.notNullOrEmpty],
      unsupported: R.endpoint,
    }),
    param('AsJob', T.switch, SIXTEEN, 'Run as a background job and return the job at once.'),
    param(
      'InDisconnectedSession',
      T.switch,
      'ComputerName; FilePathComputerName; Uri; FilePathUri',
      'Start the command and disconnect at once; the output stays buffered on the agent (Receive-PSSession).',
      { aliases: ['Disconnected'] },
    ),
    param('SessionName', T.strings, 'ComputerName; FilePathComputerName', 'Names for the disconnected sessions, by index.', {
      validate: [V.notNullOrEmpty],
    }),
    param('HideComputerName', T.switch, SIXTEEN, 'Do not show PSComputerName in the output.', { aliases: ['HCN'] }),
    param(
      'JobName',
      T.string,
      'ComputerName; Session; Uri; FilePathComputerName; FilePathRunspace; FilePathUri; ContainerId; FilePathContainerId; SSHHostHashParam; SSHHost',
      'Name of the background job; implies -AsJob.',
    ),
    param(
      'ScriptBlock',
      T.scriptblock,
      'ComputerName@1!; Session@1!; Uri@1!; InProcess@0!; VMId@1!; VMName@1!; ContainerId@1!; SSHHost@1!; SSHHostHashParam@1!',
      'The commands to run, in braces. $Using:name reads a channel variable; in bash/sh scripts write $USING_NAME (or ${USING_NAME}) instead: the value arrives as that environment variable.',
      { aliases: ['Command'], validate: [V.notNull] },
    ),
    param('NoNewScope', T.switch, 'InProcess', 'Run in the current scope.', { unsupported: R.inProcess }),
    param(
      'FilePath',
      T.string,
      'FilePathComputerName@1!; FilePathRunspace@1!; FilePathUri@1!; FilePathVMId@1!; FilePathVMName@1!; FilePathContainerId@1!; FilePathSSHHost!; FilePathSSHHostHash!',
      'Name of a runbook script (e.g. deploy.ps1) to run.',
      { aliases: ['PSPath'], validate: [V.notNull] },
    ),
    param('AllowRedirection', T.switch, 'Uri; FilePathUri', 'Allow WinRM redirection.', { unsupported: R.redirection }),
    param(
      'SessionOption',
      T.sessionOption,
      'ComputerName; Uri; FilePathComputerName; FilePathUri',
      'Session options (New-PSSessionOption or a hashtable).',
    ),
    param(
      'Authentication',
      T.enum(AuthenticationMechanism),
      'ComputerName; FilePathComputerName; Uri; FilePathUri',
      'Authentication mechanism.',
      {
        unsupported: R.auth,
      },
    ),
    param(
      'EnableNetworkAccess',
      T.switch,
      'ComputerName; FilePathComputerName; Uri; FilePathUri',
      'Add an interactive token to loopback sessions.',
      {
        unsupported: R.networkAccess,
      },
    ),
    param('RunAsAdministrator', T.switch, 'ContainerId; FilePathContainerId', 'Run as administrator in the container.', {
      unsupported: R.runAsAdministrator,
    }),
    param('HostName', T.strings, 'SSHHost!; FilePathSSHHost!', 'SSH host names.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('UserName', T.string, SSH_HOST, 'SSH user name.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('KeyFilePath', T.string, SSH_HOST, 'SSH key file.', {
      aliases: ['IdentityFilePath'],
      validate: [V.notNullOrEmpty],
      unsupported: R.ssh,
    }),
    param('Subsystem', T.string, SSH_HOST, 'SSH subsystem.', { unsupported: R.ssh }),
    param('ConnectingTimeout', T.int, SSH_HOST, 'SSH connection timeout (ms).', { unsupported: R.ssh }),
    param('SSHTransport', T.switch, SSH_HOST, 'Use SSH transport.', { validate: [V.set('true')], unsupported: R.ssh }),
    param('SSHConnection', T.hashtables, 'SSHHostHashParam!; FilePathSSHHostHash!', 'SSH connections as hashtables.', {
      validate: [V.notNullOrEmpty],
      unsupported: R.ssh,
    }),
    param('Options', T.hashtable, SSH_HOST, 'OpenSSH -o options.', { validate: [V.notNullOrEmpty], unsupported: R.ssh }),
    param('RemoteDebug', T.switch, SIXTEEN, 'Run in debug mode.', { unsupported: R.remoteDebug }),
    param('InputObject', T.psobject, '*|v', 'Input for the command, available as $input.'),
    param('ArgumentList', T.objects, '*', "Values for the script's parameters ($args).", { aliases: ['Args'] }),
    param('VMId', T.guids, 'VMId@0!|p; FilePathVMId@0!|p', 'Hyper-V virtual machine ids.', {
      aliases: ['VMGuid'],
      validate: [V.notNullOrEmpty],
      unsupported: R.vm,
    }),
    param('VMName', T.strings, 'VMName!|p; FilePathVMName!|p', 'Hyper-V virtual machine names.', {
      validate: [V.notNullOrEmpty],
      unsupported: R.vm,
    }),
    param('ContainerId', T.strings, 'ContainerId!|p; FilePathContainerId!|p', 'Container ids.', {
      validate: [V.notNullOrEmpty],
      unsupported: R.container,
    }),
    param('CertificateThumbprint', T.string, 'ComputerName; Uri', 'Client certificate thumbprint.', { unsupported: R.auth }),
  ],
  setterCheck: authConflict,
  normalize(bound) {
    // The JobName setter turns AsJob on for a non-empty name (reference 3.1 "Setter side effects").
    // Setters run in binding order (the keys' order), so an -AsJob:$false typed after -JobName
    // turns it off again, as PowerShell's AsJob setter does.
    const jobName = bound['JobName'];
    if (typeof jobName === 'string' && jobName !== '') {
      const order = Object.keys(bound);
      if (!('AsJob' in bound) || order.indexOf('AsJob') < order.indexOf('JobName')) bound['AsJob'] = true;
    }
    // An empty or null JobName is ignored entirely.
    else if ('JobName' in bound) delete bound['JobName'];
    throttleDefault(bound);
  },
  beginProcessing(call) {
    const p = call.parameters;
    if (p['InDisconnectedSession'] === true && p['AsJob'] === true) {
      throw new ChatOpsError(
        'InvalidOperation',
        'You cannot use the Invoke-Command cmdlet with both the AsJob and Disconnected parameters in the same command.',
        { target: 'InDisconnectedSession' },
      );
    }
    if ('SessionName' in p && p['InDisconnectedSession'] !== true) {
      throw new ChatOpsError('InvalidOperation', 'The SessionName parameter can only be used with the Disconnected switch parameter.', {
        target: 'SessionName',
      });
    }
    checkIdleTimeout(p);
  },
});
