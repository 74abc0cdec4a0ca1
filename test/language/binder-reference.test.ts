import { describe, expect, it } from 'vitest';
import { bindLine, errorOf, job3, makeContext, session1 } from './helpers.js';
import type { PsValue } from '../../src/language/index.js';
import { convertEnum } from '../../src/language/conversion.js';
import { AuthenticationMechanism } from '../../src/language/enums.js';

/**
 * Worked binding examples and gotchas of reference sections 3 and 6 (and the rules of 1/2 they
 * rely on), as a table: the expected parameter set and parameters, or the error code and text.
 */
interface Case {
  line: string;
  set?: string;
  params?: Record<string, PsValue>;
  code?: string;
  /** Exact message, or a substring when `contains` is set. */
  message?: string;
  contains?: string;
  target?: string;
  vars?: Record<string, PsValue>;
}

const sb = (text: string): PsValue => ({ kind: 'scriptblock', text, usings: [] });
const AMBIGUOUS_SET =
  'Parameter set cannot be resolved using the specified named parameters. One or more parameters issued cannot be used together or an insufficient number of parameters were provided.';
const ALREADY_BOUND =
  'Cannot bind parameter because parameter \'ComputerName\' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, "-parameter value1,value2,value3".';

const invokeCommand: Case[] = [
  {
    line: 'Invoke-Command { hostname }',
    code: 'NotSupported',
    message:
      'Invoke-Command in the InProcess parameter set is not supported: it would run the command inside the bot itself; name target agents with -ComputerName or -Session',
  },
  { line: 'Invoke-Command srv1 { hostname }', set: 'ComputerName', params: { ComputerName: ['srv1'], ScriptBlock: sb(' hostname ') } },
  {
    line: 'Invoke-Command -cn a,b { 1 } -AsJob',
    set: 'ComputerName',
    params: { ComputerName: ['a', 'b'], AsJob: true, ScriptBlock: sb(' 1 ') },
  },
  { line: 'Invoke-Command { 1 } -AsJob', code: 'AmbiguousParameterSet', message: AMBIGUOUS_SET },
  {
    line: 'Invoke-Command -Session $s -Disconnected { 1 }',
    code: 'AmbiguousParameterSet',
    message: `${AMBIGUOUS_SET} (-InDisconnectedSession cannot be used together with -Session.)`,
    target: 'InDisconnectedSession',
  },
  {
    line: 'Invoke-Command -cn a -Disconnected -AsJob { 1 }',
    code: 'InvalidOperation',
    message: 'You cannot use the Invoke-Command cmdlet with both the AsJob and Disconnected parameters in the same command.',
  },
  {
    line: 'Invoke-Command -cn a -JobName j -Disconnected { 1 }',
    code: 'InvalidOperation',
    message: 'You cannot use the Invoke-Command cmdlet with both the AsJob and Disconnected parameters in the same command.',
  },
  {
    line: 'Invoke-Command -cn a -NoNewScope { 1 }',
    code: 'AmbiguousParameterSet',
    message: `${AMBIGUOUS_SET} (-NoNewScope cannot be used together with -ComputerName.)`,
  },
  { line: 'Invoke-Command -cn srv C:\\s.ps1', set: 'FilePathComputerName', params: { ComputerName: ['srv'], FilePath: 'C:\\s.ps1' } },
  { line: 'Invoke-Command "Get-Date"', code: 'AmbiguousParameterSet', message: AMBIGUOUS_SET },
  {
    line: 'Invoke-Command -C srv { 1 }',
    code: 'AmbiguousParameter',
    message:
      "Parameter cannot be processed because the parameter name 'C' is ambiguous. Possible matches include: -ComputerName -Credential -ConfigurationName -ConnectionUri -ScriptBlock -ConnectingTimeout -ContainerId -CertificateThumbprint.",
    target: 'C',
  },
  { line: 'Invoke-Command -Comp srv { 1 }', set: 'ComputerName', params: { ComputerName: ['srv'] } },
  {
    line: 'Invoke-Command -Com srv { 1 }',
    code: 'AmbiguousParameter',
    message:
      "Parameter cannot be processed because the parameter name 'Com' is ambiguous. Possible matches include: -ComputerName -ScriptBlock.",
  },
  {
    line: 'Invoke-Command -Sess $s { 1 }',
    code: 'AmbiguousParameter',
    message:
      "Parameter cannot be processed because the parameter name 'Sess' is ambiguous. Possible matches include: -Session -SessionName -SessionOption.",
  },
  { line: 'Invoke-Command -cn a -Cn b { 1 }', code: 'ParameterAlreadyBound', message: ALREADY_BOUND, target: 'ComputerName' },
  {
    line: 'Invoke-Command -cn a -Port 0 { 1 }',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'Port'. The 0 argument is less than the minimum allowed range of 1. Supply an argument that is greater than or equal to 1 and then try the command again.",
  },
  { line: 'Invoke-Command -cn a -ThrottleLimit -5 { 1 }', set: 'ComputerName', params: { ThrottleLimit: 32 } },
  { line: 'Invoke-Command -cn a -ThrottleLimit 0 { 1 }', set: 'ComputerName', params: { ThrottleLimit: 32 } },
  { line: 'Invoke-Command -cn a -ThrottleLimit 8 { 1 }', set: 'ComputerName', params: { ThrottleLimit: 8 } },
  {
    line: 'Invoke-Command -ScriptBlock "hostname"',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'ScriptBlock\'. Cannot convert the "hostname" value of type "System.String" to type "System.Management.Automation.ScriptBlock".',
  },
  {
    line: 'Invoke-Command { 1 } srv',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'ScriptBlock\'. Cannot convert the "srv" value of type "System.String" to type "System.Management.Automation.ScriptBlock".',
  },
  {
    line: 'Invoke-Command -cn a -AsJob $false { 1 }',
    code: 'PositionalParameterNotFound',
    message: "A positional parameter cannot be found that accepts argument ' 1 '.",
  },
  { line: 'Invoke-Command -cn a -AsJob:$false { 1 }', set: 'ComputerName', params: { AsJob: false } },
  {
    line: 'Invoke-Command -cn a -E { 1 }',
    code: 'NotSupported',
    message:
      '-EnableNetworkAccess is not supported: agents run commands under their own service account; there is no loopback token to adjust',
  },
  // -O: the one declared match (-Options) beats the common -OutVariable/-OutBuffer (1.2 step 4).
  {
    line: 'Invoke-Command -O x { 1 }',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'Options\'. Cannot convert the "x" value of type "System.String" to type "System.Collections.Hashtable".',
  },
  { line: 'Invoke-Command -cn a -JobName nightly { 1 }', set: 'ComputerName', params: { JobName: 'nightly', AsJob: true } },
  // Setters run in typed order: JobName sets AsJob on, a later -AsJob:$false sets it off again (3.1, 1.4).
  { line: 'Invoke-Command -cn a -AsJob:$false -JobName nightly { 1 }', set: 'ComputerName', params: { JobName: 'nightly', AsJob: true } },
  { line: 'Invoke-Command -cn a -JobName nightly -AsJob:$false { 1 }', set: 'ComputerName', params: { JobName: 'nightly', AsJob: false } },
  {
    line: 'Invoke-Command -cn a -JobName nightly -AsJob:$false -Disconnected { 1 }',
    set: 'ComputerName',
    params: { JobName: 'nightly', AsJob: false, InDisconnectedSession: true },
  },
  { line: "Invoke-Command -cn a -JobName '' { 1 }", set: 'ComputerName', params: { ComputerName: ['a'], ScriptBlock: sb(' 1 ') } },
  { line: 'Invoke-Command -cn a -ConfigurationName bash { df -h }', set: 'ComputerName', params: { ConfigurationName: 'bash' } },
  {
    line: 'Invoke-Command -cn a -JobName a,b { 1 }',
    code: 'CannotConvertArgument',
    message:
      "Cannot convert 'System.Object[]' to the type 'System.String' required by parameter 'JobName'. Specified method is not supported.",
  },
  {
    line: 'Invoke-Command -ScriptBlock {1} -SessionName x',
    code: 'InvalidOperation',
    message: 'The SessionName parameter can only be used with the Disconnected switch parameter.',
  },
  {
    line: 'Invoke-Command -cn a -InDisconnectedSession:$false -SessionName x {1}',
    code: 'InvalidOperation',
    message: 'The SessionName parameter can only be used with the Disconnected switch parameter.',
  },
  {
    line: 'Invoke-Command -cn a -Disconnected -SessionName s1,s2 {1}',
    set: 'ComputerName',
    params: { InDisconnectedSession: true, SessionName: ['s1', 's2'] },
  },
  { line: 'Invoke-Command -Session $s {1} -HCN', set: 'Session', params: { Session: [session1], HideComputerName: true } },
  { line: 'Invoke-Command $s {1}', set: 'Session', params: { Session: [session1] } },
  {
    line: 'Invoke-Command -VMName x {1} -Credential u',
    code: 'NotSupported',
    message: '-VMName is not supported: targets are registered agents',
  },
  {
    line: 'Invoke-Command -ContainerId c1 {1}',
    code: 'NotSupported',
    message: '-ContainerId is not supported: targets are registered agents',
  },
  {
    line: 'Invoke-Command -HostName h {1}',
    code: 'NotSupported',
    message: '-HostName is not supported: targets are registered agents reached over their own connection to the hub, not over SSH',
  },
  {
    line: 'Invoke-Command -cn a -Credential u {1}',
    code: 'NotSupported',
    message:
      '-Credential is not supported: agents authenticate with their enrolment secret; the channel permissions decide who may run what',
  },
  {
    line: 'Invoke-Command -cn a -UseSSL {1}',
    code: 'NotSupported',
    message: '-UseSSL is not supported: agents dial in to the hub; there is no WinRM endpoint, port or URL to address',
  },
  { line: 'Invoke-Command -cn a -UseSSL:$false {1}', set: 'ComputerName', params: { UseSSL: false } },
  {
    line: 'Invoke-Command -ConnectionUri http://x/wsman {1}',
    code: 'NotSupported',
    message: '-ConnectionUri is not supported: agents dial in to the hub; there is no WinRM endpoint, port or URL to address',
  },
  {
    line: 'Invoke-Command -cn a -RemoteDebug {1}',
    code: 'NotSupported',
    message: '-RemoteDebug is not supported: chat has no interactive debugger',
  },
  // 2.4 Authentication mutual exclusion: ParameterBindingFailed names the second parameter typed.
  {
    line: 'Invoke-Command -cn a -Credential u -CertificateThumbprint t {1}',
    code: 'ParameterBindingFailed',
    message:
      'Cannot bind parameter \'CertificateThumbprint\' to the target. Exception setting "CertificateThumbprint": "A CertificateThumbPrint cannot be specified when Credential is specified."',
  },
  {
    line: 'Invoke-Command -cn a -Authentication Basic -CertificateThumbprint t {1}',
    code: 'ParameterBindingFailed',
    message:
      'Cannot bind parameter \'CertificateThumbprint\' to the target. Exception setting "CertificateThumbprint": "A CertificateThumbPrint cannot be specified when Basic is specified."',
  },
  {
    line: 'Invoke-Command -cn a -Credential u -Authentication NegotiateWithImplicitCredential {1}',
    code: 'ParameterBindingFailed',
    message:
      'Cannot bind parameter \'Authentication\' to the target. Exception setting "Authentication": "A Credential cannot be specified when NegotiateWithImplicitCredential is specified."',
  },
  // Enum: exact beats a longer name with the same prefix; a shared prefix is ambiguous.
  { line: 'Invoke-Command -cn a -Authentication Negotiate {1}', code: 'NotSupported', target: 'Authentication' },
  {
    line: 'Invoke-Command -cn a -Authentication Neg {1}',
    code: 'CannotConvertArgumentNoMessage',
    contains: 'enumerator names: Negotiate, NegotiateWithImplicitCredential. Use a more specific identifier name.',
  },
  {
    line: 'Invoke-Command -HostName h -SSHTransport:$false {1}',
    code: 'ParameterArgumentValidationError',
    message:
      'Cannot validate argument on parameter \'SSHTransport\'. The argument "False" does not belong to the set "true" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.',
  },
  {
    line: 'Invoke-Command -cn $nothere {1}',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'ComputerName'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again. Variable $nothere is not set in this channel.",
  },
  {
    line: "Invoke-Command -cn a,'' {1}",
    code: 'ParameterArgumentValidationError',
    contains: 'an element of the argument collection contains a null value',
  },
  {
    line: 'Invoke-Command -cn a {1} -SessionOption @{IdleTimeout=1000}',
    code: 'InvalidArgument',
    message:
      'The specified IdleTimeout session option 1 (seconds) is not a valid period.  Specify an IdleTimeout value that is greater than or equal to the minimum allowed 60 (seconds).',
  },
  {
    line: 'Invoke-Command -cn a {1} -SessionOption $so',
    vars: { so: { kind: 'sessionoption', id: 'o', display: 'o', options: { IdleTimeout: 30000 } } },
    code: 'InvalidArgument',
    contains: 'IdleTimeout session option 30 (seconds)',
  },
  {
    line: 'Invoke-Command -cn a {1} -SessionOption @{SkipCACheck=$true}',
    code: 'NotSupported',
    message: '-SessionOption SkipCACheck is not supported: the agent connection is always encrypted and verified by the hub',
  },
  {
    line: 'Invoke-Command -cn a {1} -ArgumentList 1,two -InputObject x',
    set: 'ComputerName',
    params: { ArgumentList: [1, 'two'], InputObject: 'x' },
  },
  { line: 'icm a {1} -Args 5', set: 'ComputerName', params: { ArgumentList: [5] } },
  // Not flattened: PowerShell makes 'web1 web2' one name, which the runtime then refuses as not a valid computer name.
  { line: 'icm -cn (Get-Agent -Tag role=web), web3 {1}', set: 'ComputerName', params: { ComputerName: ['web1 web2', 'web3'] } },
  // FilePath sets: a runbook name with a session, or alone (three FilePath sets keep only FilePath mandatory).
  { line: 'Invoke-Command $s deploy.ps1', set: 'FilePathRunspace', params: { Session: [session1], FilePath: 'deploy.ps1' } },
  { line: 'Invoke-Command -FilePath deploy.ps1', code: 'AmbiguousParameterSet', message: AMBIGUOUS_SET },
  {
    line: 'Invoke-Command -cn a -FilePath x.ps1 -ScriptBlock {1}',
    code: 'AmbiguousParameterSet',
    message: `${AMBIGUOUS_SET} (-ScriptBlock cannot be used together with -FilePath.)`,
  },
  // -CertificateThumbprint is only in ComputerName and Uri, not in the FilePath variants.
  {
    line: 'Invoke-Command -cn a -FilePath x.ps1 -CertificateThumbprint t',
    code: 'AmbiguousParameterSet',
    message: `${AMBIGUOUS_SET} (-CertificateThumbprint cannot be used together with -FilePath.)`,
  },
  // -HostName has no position: in SSHHost only ScriptBlock is positional (binding errors come before refusals).
  {
    line: 'Invoke-Command -HostName h x.ps1',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'ScriptBlock\'. Cannot convert the "x.ps1" value of type "System.String" to type "System.Management.Automation.ScriptBlock".',
  },
  // -Credential is mandatory in the VM sets: the mandatory check (1.4 step 8) comes before the refusal.
  {
    line: 'Invoke-Command -VMId 3f2504e0-4f89-11d3-9a0c-0305e82c3301 {1}',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Credential.',
  },
];

const sessions: Case[] = [
  { line: 'New-PSSession', set: 'ComputerName', params: {} },
  { line: 'New-PSSession web1,web2 -Name a,b', set: 'ComputerName', params: { ComputerName: ['web1', 'web2'], Name: ['a', 'b'] } },
  { line: 'nsn -Session $s', set: 'Session', params: { Session: [session1] } },
  { line: 'New-PSSession web1 -ThrottleLimit -1', set: 'ComputerName', params: { ThrottleLimit: 32 } },
  {
    line: 'New-PSSession -VMName v',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Credential.',
  },
  { line: 'New-PSSession -Session $s -Name copy', set: 'Session', params: { Session: [session1], Name: ['copy'] } },
  {
    line: 'New-PSSession web1 -Port 70000',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'Port'. The 70000 argument is greater than the maximum allowed range of 65535. Supply an argument that is less than or equal to 65535 and then try the command again.",
  },
  { line: 'New-PSSession -UseWindowsPowerShell', code: 'NotSupported', target: 'UseWindowsPowerShell' },
  // Refusals follow binding order: -VMId was bound first.
  { line: 'New-PSSession -VMId 3f2504e0-4f89-11d3-9a0c-0305e82c3301 -Credential u', code: 'NotSupported', target: 'VMId' },
  { line: 'New-PSSession -Credential u -VMId 3f2504e0-4f89-11d3-9a0c-0305e82c3301', code: 'NotSupported', target: 'Credential' },
  {
    line: 'New-PSSession -VMId nope',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'VMId\'. Cannot convert value "nope" to type "System.Guid". Error: "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."',
  },
  { line: 'New-PSSession web1 -SessionOption @{OutputBufferingMode="Block"}', set: 'ComputerName' },
  {
    line: 'New-PSSession web1 -SessionOption @{Bogus=1}',
    code: 'CannotConvertArgumentNoMessage',
    contains: 'The Bogus property was not found for the System.Management.Automation.Remoting.PSSessionOption object.',
  },
  { line: 'Get-PSSession', set: 'Name', params: {} },
  { line: 'Get-PSSession 2', set: 'Id', params: { Id: [2] } },
  { line: 'Get-PSSession web1', set: 'ComputerName', params: { ComputerName: ['web1'] } },
  { line: 'gsn -Name web*', set: 'Name', params: { Name: ['web*'] } },
  // No conflict between named parameters: no set can be chosen, PowerShell's text alone.
  { line: 'Get-PSSession -State Opened', code: 'AmbiguousParameterSet', message: AMBIGUOUS_SET },
  { line: 'Get-PSSession -ComputerName web1 -State Disc', set: 'ComputerName', params: { State: 'Disconnected' } },
  {
    line: 'Get-PSSession -ComputerName web1 -InstanceId 3F2504E0-4F89-11D3-9A0C-0305E82C3301',
    set: 'ComputerInstanceId',
    params: { ComputerName: ['web1'], InstanceId: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'] },
  },
  { line: 'Get-PSSession web1 -ThrottleLimit 0', set: 'ComputerName', params: { ComputerName: ['web1'], ThrottleLimit: 32 } },
  {
    line: 'Get-PSSession -InstanceId 3F2504E0-4F89-11D3-9A0C-0305E82C3301',
    set: 'InstanceId',
    params: { InstanceId: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'] },
  },
  // Guid.Parse formats N, D, B and P; B/P need the dashes.
  {
    line: "Get-PSSession -InstanceId 3F2504E04F8911D39A0C0305E82C3301,'{3F2504E0-4F89-11D3-9A0C-0305E82C3302}','(3F2504E0-4F89-11D3-9A0C-0305E82C3303)'",
    set: 'InstanceId',
    params: {
      InstanceId: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301', '3f2504e0-4f89-11d3-9a0c-0305e82c3302', '3f2504e0-4f89-11d3-9a0c-0305e82c3303'],
    },
  },
  {
    line: "Get-PSSession -InstanceId '{3F2504E04F8911D39A0C0305E82C3301}'",
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'InstanceId\'. Cannot convert value "{3F2504E04F8911D39A0C0305E82C3301}" to type "System.Guid". Error: "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."',
  },
  { line: 'Remove-PSSession 3', set: 'Id', params: { Id: [3] } },
  { line: 'Remove-PSSession $s', set: 'Session', params: { Session: [session1] } },
  { line: 'Remove-PSSession web1', set: 'ComputerName', params: { ComputerName: ['web1'] } },
  { line: 'rsn -Name db*', set: 'Name', params: { Name: ['db*'] } },
  {
    line: 'Remove-PSSession -InstanceId 3F2504E0-4F89-11D3-9A0C-0305E82C3301',
    set: 'InstanceId',
    params: { InstanceId: ['3f2504e0-4f89-11d3-9a0c-0305e82c3301'] },
  },
  {
    line: 'Remove-PSSession -Session $gone',
    code: 'ParameterArgumentValidationErrorNullNotAllowed',
    message: "Cannot bind argument to parameter 'Session' because it is null. Variable $gone is not set in this channel.",
  },
  {
    line: 'Remove-PSSession',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Id.',
  },
  { line: 'Remove-PSSession 3 -WhatIf', set: 'Id', params: { WhatIf: true } },
  { line: 'Remove-PSSession 3 -Confirm', code: 'NotSupported', target: 'Confirm' },
  { line: 'Enter-PSSession 3', set: 'Id', params: { Id: 3 } },
  { line: 'Enter-PSSession web1', set: 'ComputerName', params: { ComputerName: 'web1' } },
  { line: 'etsn http://web1:5985/wsman', set: 'ComputerName', params: { ComputerName: 'http://web1:5985/wsman' } },
  { line: 'Enter-PSSession $s', set: 'Session', params: { Session: session1 } },
  { line: 'Enter-PSSession -Name dev', set: 'Name', params: { Name: 'dev' } },
  {
    line: 'Enter-PSSession',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: ComputerName.',
  },
  // Overrides remove -SSHConnection (and -ThrottleLimit) from Enter-PSSession (reference 0, 6.1).
  {
    line: 'Enter-PSSession -SSHConnection @{HostName="h"}',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'SSHConnection'. Run Get-Help Enter-PSSession to see its parameters.",
  },
  {
    line: 'Enter-PSSession -ComputerName a,b',
    code: 'CannotConvertArgument',
    message:
      "Cannot convert 'System.Object[]' to the type 'System.String' required by parameter 'ComputerName'. Specified method is not supported.",
  },
  {
    line: 'Enter-PSSession -ThrottleLimit 3 web1',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'ThrottleLimit'. Run Get-Help Enter-PSSession to see its parameters.",
  },
  { line: 'Exit-PSSession', set: '__AllParameterSets', params: {} },
  { line: 'exsn now', code: 'PositionalParameterNotFound', message: "A positional parameter cannot be found that accepts argument 'now'." },
  { line: 'Disconnect-PSSession 3', set: 'Id', params: { Id: [3] } },
  {
    line: 'dnsn $s -IdleTimeoutSec 3600 -OutputBufferingMode Drop',
    set: 'Session',
    params: { IdleTimeoutSec: 3600, OutputBufferingMode: 'Drop' },
  },
  // Session (default set) and Id both fail to convert 'web1'; the last failure recorded is reported (1.5).
  {
    line: 'Disconnect-PSSession web1',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'Id\'. Cannot convert value "web1" to type "System.Int32". Error: "Input string was not in a correct format."',
  },
  {
    line: 'Disconnect-PSSession',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Session.',
  },
  {
    line: 'Disconnect-PSSession -ComputerName web1',
    code: 'NamedParameterNotFound',
    message:
      "A parameter cannot be found that matches parameter name 'ComputerName'. Run Get-Help Disconnect-PSSession to see its parameters.",
  },
  { line: 'Disconnect-PSSession -Id 3 -ThrottleLimit 0', set: 'Id', params: { Id: [3], ThrottleLimit: 32 } },
  { line: 'Disconnect-PSSession -Name web1', set: 'Name', params: { Name: ['web1'] } },
  {
    line: 'Disconnect-PSSession $s -IdleTimeoutSec -1',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'IdleTimeoutSec'. The -1 argument is less than the minimum allowed range of 0. Supply an argument that is greater than or equal to 0 and then try the command again.",
  },
  {
    line: 'Connect-PSSession',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Name.',
  },
  { line: 'Connect-PSSession 3', set: 'Id', params: { Id: [3] } },
  { line: 'cnsn web1', set: 'ComputerName', params: { ComputerName: ['web1'] } },
  { line: 'Connect-PSSession -Name nightly', set: 'Name', params: { Name: ['nightly'] } },
  {
    line: 'Connect-PSSession -ComputerName web1 -InstanceId 3F2504E0-4F89-11D3-9A0C-0305E82C3301',
    set: 'ComputerNameGuid',
    params: { ComputerName: ['web1'] },
  },
  { line: 'Connect-PSSession -ComputerName web1 -Name n', set: 'ComputerName', params: { ComputerName: ['web1'], Name: ['n'] } },
  { line: 'Receive-PSSession 3', set: 'Id', params: { Id: 3 } },
  { line: 'Receive-PSSession 0x3', set: 'Id', params: { Id: 3 } },
  { line: 'Enter-PSSession 007', set: 'Id', params: { Id: 7 } },
  { line: 'Receive-PSSession $s', set: 'Session', params: { Session: session1 } },
  { line: 'Receive-PSSession web1', set: 'ComputerSessionName', params: { ComputerName: 'web1', Name: 'web1' } },
  // A bare GUID is a string: it multi-binds ComputerName and Name (pass 2) before InstanceId could coerce it.
  {
    line: 'Receive-PSSession 3F2504E0-4F89-11D3-9A0C-0305E82C3301',
    set: 'ComputerSessionName',
    params: { ComputerName: '3F2504E0-4F89-11D3-9A0C-0305E82C3301', Name: '3F2504E0-4F89-11D3-9A0C-0305E82C3301' },
  },
  {
    line: 'Receive-PSSession -InstanceId 3F2504E0-4F89-11D3-9A0C-0305E82C3301',
    set: 'InstanceId',
    params: { InstanceId: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' },
  },
  // Both remote sets miss a mandatory parameter: zero sets remain -> AmbiguousParameterSet (1.6).
  { line: 'Receive-PSSession -ComputerName web1', code: 'AmbiguousParameterSet', message: AMBIGUOUS_SET },
  {
    line: 'Receive-PSSession',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Session.',
  },
  {
    line: 'Receive-PSSession -ComputerName a,b -Name n',
    code: 'CannotConvertArgument',
    message:
      "Cannot convert 'System.Object[]' to the type 'System.String' required by parameter 'ComputerName'. Specified method is not supported.",
  },
  { line: 'rcsn -Name nightly -OutTarget j', set: 'SessionName', params: { Name: 'nightly', OutTarget: 'Job' } },
  {
    line: 'Receive-PSSession 3 -JobName ""',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'JobName'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.",
  },
  {
    line: 'New-PSSessionOption -IdleTimeout 43200000 -OutputBufferingMode Drop',
    set: '__AllParameterSets',
    params: { IdleTimeout: 43200000, OutputBufferingMode: 'Drop' },
  },
  { line: 'New-PSSessionOption -OpenTimeoutMSec 5000 -IdleTimeoutMSec -1', params: { OpenTimeout: 5000, IdleTimeout: -1 } },
  {
    line: 'New-PSSessionOption -IdleTimeout -2',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'IdleTimeout'. The -2 argument is less than the minimum allowed range of -1. Supply an argument that is greater than or equal to -1 and then try the command again.",
  },
  {
    line: 'New-PSSessionOption -MaximumRedirection 1',
    code: 'NotSupported',
    message: '-MaximumRedirection is not supported: agents dial in to the hub, so there are no redirects to follow',
  },
  { line: 'New-PSSessionOption -SkipCACheck', code: 'NotSupported', target: 'SkipCACheck' },
  {
    line: 'New-PSSessionOption 5',
    code: 'PositionalParameterNotFound',
    message: "A positional parameter cannot be found that accepts argument '5'.",
  },
  {
    line: 'New-PSSessionOption -OutputBufferingMode 3',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'OutputBufferingMode\'. Cannot convert value "3" to type "System.Management.Automation.Runspaces.OutputBufferingMode" due to enumeration values that are not valid. Specify one of the following enumeration values and try again. The possible enumeration values are "None,Drop,Block".',
  },
];

const jobs: Case[] = [
  { line: 'Get-Job', set: 'SessionIdParameterSet', params: {} },
  { line: 'Get-Job 3', set: 'SessionIdParameterSet', params: { Id: [3] } },
  { line: 'Get-Job web', set: 'NameParameterSet', params: { Name: ['web'] } },
  { line: 'Get-Job Running', set: 'NameParameterSet', params: { Name: ['Running'] } },
  { line: "Get-Job '3'", set: 'NameParameterSet', params: { Name: ['3'] } },
  // 1.1 round-trippable numerics: an int parameter gets the number, a string parameter the typed text.
  { line: 'Get-Job 007', set: 'SessionIdParameterSet', params: { Id: [7] } },
  { line: 'Get-Job 0x10,1kb', set: 'SessionIdParameterSet', params: { Id: [16, 1024] } },
  { line: 'Get-Job -Name 007,0x10', set: 'NameParameterSet', params: { Name: ['007', '0x10'] } },
  // 1.8: each element converts to the element type; an array element becomes one string joined with spaces ($OFS).
  { line: 'Get-Job $servers,x', set: 'NameParameterSet', params: { Name: ['web1 web2', 'x'] } },
  { line: 'Get-Job -Name (Get-Agent),x', set: 'NameParameterSet', params: { Name: ['web1 web2', 'x'] } },
  { line: 'Get-Job $j', set: 'NameParameterSet', params: { Name: ['Job3'] } },
  { line: 'Get-Job -State run', set: 'StateParameterSet', params: { State: 'Running' } },
  { line: 'gjb -State RUNNING', set: 'StateParameterSet', params: { State: 'Running' } },
  { line: 'Get-Job -State 2', set: 'StateParameterSet', params: { State: 'Completed' } },
  {
    line: 'Get-Job -State Stop',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'State\'. Cannot convert value "Stop" to type "System.Management.Automation.JobState". Error: "The identifier name Stop cannot be processed because it is either too similar or identical to the following enumerator names: Stopped, Stopping. Use a more specific identifier name."',
  },
  {
    line: 'Get-Job -State Sleeping',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'State\'. Cannot convert value "Sleeping" to type "System.Management.Automation.JobState". Error: "Unable to match the identifier name Sleeping to a valid enumerator name. Specify one of the following enumerator names and try again:\nNotStarted, Running, Completed, Failed, Stopped, Blocked, Suspended, Disconnected, Suspending, Stopping, AtBreakpoint"',
  },
  // 1.8: enum text is parsed as a number first (Enum.Parse takes a sign); an undefined value is not a name mismatch.
  {
    line: 'Get-Job -State -1',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'State\'. Cannot convert value "-1" to type "System.Management.Automation.JobState" due to enumeration values that are not valid. Specify one of the following enumeration values and try again. The possible enumeration values are "NotStarted,Running,Completed,Failed,Stopped,Blocked,Suspended,Disconnected,Suspending,Stopping,AtBreakpoint".',
  },
  {
    line: 'Get-Job -State 99',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'State\'. Cannot convert value "99" to type "System.Management.Automation.JobState" due to enumeration values that are not valid. Specify one of the following enumeration values and try again. The possible enumeration values are "NotStarted,Running,Completed,Failed,Stopped,Blocked,Suspended,Disconnected,Suspending,Stopping,AtBreakpoint".',
  },
  { line: "Get-Job -State '+4'", set: 'StateParameterSet', params: { State: 'Stopped' } },
  { line: 'Get-Job -HasMoreData $true', set: 'SessionIdParameterSet', params: { HasMoreData: true } },
  { line: 'Get-Job -HasMoreData:$false -Newest 2', set: 'SessionIdParameterSet', params: { HasMoreData: false, Newest: 2 } },
  {
    line: 'Get-Job -HasMoreData "true"',
    code: 'CannotConvertArgument',
    message:
      "Cannot convert 'System.String' to the type 'System.Boolean' required by parameter 'HasMoreData'. Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
  },
  {
    line: 'Get-Job -HasMoreData',
    code: 'MissingArgument',
    message: "Missing an argument for parameter 'HasMoreData'. Specify a parameter of type 'System.Boolean' and try again.",
  },
  {
    line: 'Get-Job -IncludeChildJob -ChildJobState Failed',
    set: 'SessionIdParameterSet',
    params: { IncludeChildJob: true, ChildJobState: 'Failed' },
  },
  { line: 'Get-Job -Command *uptime*', set: 'CommandParameterSet', params: { Command: ['*uptime*'] } },
  { line: 'Get-Job -Filter @{Name="x"}', code: 'NotSupported', target: 'Filter' },
  { line: 'Get-Job -After 2026-01-01', set: 'SessionIdParameterSet', params: { After: '2026-01-01T00:00:00.000Z' } },
  {
    line: 'Get-Job -Before yesterday',
    code: 'CannotConvertArgumentNoMessage',
    message:
      'Cannot bind parameter \'Before\'. Cannot convert value "yesterday" to type "System.DateTime". Error: "String \'yesterday\' was not recognized as a valid DateTime."',
  },
  { line: 'Get-Job -Name -zzz', set: 'NameParameterSet', params: { Name: ['-zzz'] } },
  {
    line: 'Get-Job -Name -Id',
    code: 'MissingArgument',
    message: "Missing an argument for parameter 'Name'. Specify a parameter of type 'System.String[]' and try again.",
  },
  { line: 'Get-Job -Name -Id:3', code: 'MissingArgument', target: 'Name' },
  {
    line: 'Get-Job -Foo bar',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'Foo'. Run Get-Help Get-Job to see its parameters.",
  },
  {
    line: 'Get-Job -Nmae web',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'Nmae'. Did you mean -Name?",
  },
  {
    line: 'Get-Job 1 2',
    code: 'PositionalParameterNotFound',
    message: "A positional parameter cannot be found that accepts argument '2'.",
  },
  { line: 'Get-Job -Id 1 -Name x', code: 'AmbiguousParameterSet', message: `${AMBIGUOUS_SET} (-Name cannot be used together with -Id.)` },
  { line: 'Receive-Job 3', set: 'SessionIdParameterSet', params: { Id: [3] } },
  { line: 'Receive-Job web', set: 'NameParameterSet', params: { Name: ['web'] } },
  { line: 'Receive-Job $j', set: 'Location', params: { Job: [job3] } },
  { line: 'Receive-Job $j localhost', set: 'Location', params: { Job: [job3], Location: ['localhost'] } },
  { line: 'rcjb $j -ComputerName web1', set: 'ComputerName', params: { Job: [job3], ComputerName: ['web1'] } },
  { line: 'Receive-Job 3 -Keep', set: 'SessionIdParameterSet', params: { Keep: true } },
  {
    line: 'Receive-Job 3 -Keep -Wait',
    code: 'ParameterBindingFailed',
    message:
      'Cannot bind parameter \'Wait\' to the target. Exception setting "Wait": "The Wait and Keep parameters cannot be used together in the same command."',
    target: 'Wait',
  },
  {
    line: 'Receive-Job 3 -Wait -Keep',
    code: 'ParameterBindingFailed',
    message:
      'Cannot bind parameter \'Keep\' to the target. Exception setting "Keep": "The Wait and Keep parameters cannot be used together in the same command."',
  },
  {
    line: "Receive-Job 3 -Keep:'false'",
    code: 'CannotConvertArgument',
    message:
      "Cannot convert 'System.String' to the type 'System.Management.Automation.SwitchParameter' required by parameter 'Keep'. Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
  },
  { line: 'Receive-Job 3 -Wait -Keep:$false', set: 'SessionIdParameterSet', params: { Wait: true, Keep: false } },
  {
    line: 'Receive-Job 3 -AutoRemoveJob',
    code: 'InvalidOperation',
    message: 'The -AutoRemoveJob parameter cannot be used without the -Wait parameter',
  },
  {
    line: 'Receive-Job 3 -WriteJobInResults',
    code: 'InvalidOperation',
    message: 'The -WriteJobInResults parameter cannot be used without the -Wait parameter',
  },
  {
    line: 'Receive-Job 3 -WriteEvents',
    code: 'InvalidOperation',
    message: 'The WriteEvents parameter cannot be used without the Wait parameter.',
  },
  { line: 'Receive-Job 3 -Force', code: 'InvalidOperation', message: 'The -Force parameter cannot be used without the -Wait parameter.' },
  {
    line: 'Receive-Job 3 -Wait -Force -AutoRemoveJob -WriteEvents -WriteJobInResults',
    set: 'SessionIdParameterSet',
    params: { Wait: true, Force: true },
  },
  // -Wa is the common WarningAction by its exact alias `wa`, not -Wait.
  { line: 'Receive-Job 3 -Wa Continue', set: 'SessionIdParameterSet', params: { WarningAction: 'Continue' } },
  { line: 'Receive-Job 3 -Wai', set: 'SessionIdParameterSet', params: { Wait: true } },
  {
    line: 'Receive-Job',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Job.',
  },
  // Receive-Job, Wait-Job and Stop-Job hide base parameters (reference 0, 6.1).
  {
    line: 'Receive-Job -State Running',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'State'. Run Get-Help Receive-Job to see its parameters.",
  },
  {
    line: 'Wait-Job -Command x',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'Command'. Run Get-Help Wait-Job to see its parameters.",
  },
  {
    line: 'Stop-Job -Command x',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'Command'. Run Get-Help Stop-Job to see its parameters.",
  },
  { line: 'Wait-Job 3', set: 'SessionIdParameterSet', params: { Id: [3] } },
  { line: 'wjb $j -Any -Timeout 0', set: 'JobParameterSet', params: { Job: [job3], Any: true, Timeout: 0 } },
  { line: 'Wait-Job 3 -TimeoutSec 30', params: { Timeout: 30 } },
  {
    line: 'Wait-Job 3 -Timeout -2',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'Timeout'. The -2 argument is less than the minimum allowed range of -1. Supply an argument that is greater than or equal to -1 and then try the command again.",
  },
  {
    line: 'Wait-Job',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Id.',
  },
  {
    line: 'Wait-Job -Id @()',
    code: 'ParameterArgumentValidationErrorEmptyArrayNotAllowed',
    message: "Cannot bind argument to parameter 'Id' because it is an empty array.",
  },
  { line: 'Stop-Job 3 -PassThru', set: 'SessionIdParameterSet', params: { Id: [3], PassThru: true } },
  { line: 'spjb -State Running', set: 'StateParameterSet', params: { State: 'Running' } },
  {
    line: 'Stop-Job -Name ""',
    code: 'ParameterArgumentValidationErrorEmptyStringNotAllowed',
    message: "Cannot bind argument to parameter 'Name' because it is an empty string.",
  },
  // Remove-Job -F is Force by its exact alias F, not ambiguous with -Filter.
  { line: 'Remove-Job -F 3', set: 'SessionIdParameterSet', params: { Force: true, Id: [3] } },
  {
    line: 'Remove-Job -State Completed -Force',
    code: 'AmbiguousParameterSet',
    message: `${AMBIGUOUS_SET} (-Force cannot be used together with -State.)`,
  },
  { line: 'Remove-Job -State Completed', set: 'StateParameterSet', params: { State: 'Completed' } },
  { line: 'rjb -Command *x*', set: 'CommandParameterSet', params: { Command: ['*x*'] } },
  { line: 'Remove-Job $j -Force', set: 'JobParameterSet', params: { Job: [job3], Force: true } },
  { line: 'Remove-Job -Fi @{a=1}', code: 'NotSupported', target: 'Filter' },
  // Common parameters: only their default meaning is implemented; other values are refused by name.
  {
    line: 'Remove-Job 3 -ErrorAction Continue -WarningAction continue -Verbose:$false',
    set: 'SessionIdParameterSet',
    params: { ErrorAction: 'Continue', WarningAction: 'Continue', Verbose: false },
  },
  {
    line: 'Remove-Job 3 -ErrorAction Stop',
    code: 'NotSupported',
    message:
      '-ErrorAction Stop is not supported: only Continue, the default, is implemented: an error on one computer never stops the others, and every error is shown in the channel',
  },
  {
    line: 'Get-Job -ea si',
    code: 'NotSupported',
    target: 'ErrorAction',
    message:
      '-ErrorAction SilentlyContinue is not supported: only Continue, the default, is implemented: an error on one computer never stops the others, and every error is shown in the channel',
  },
  {
    line: 'icm web1 {1} -wa Ignore',
    code: 'NotSupported',
    target: 'WarningAction',
    message:
      '-WarningAction Ignore is not supported: only Continue, the default, is implemented: warnings are always shown with the output',
  },
  {
    line: 'Remove-Job 3 -Verbose',
    code: 'NotSupported',
    target: 'Verbose',
    message:
      "-Verbose is not supported: the bot's cmdlets post no verbose messages; verbose records of a pwsh script block arrive on its Error stream as `VERBOSE:` lines",
  },
  { line: 'Stop-Job 3 -WhatIf', set: 'SessionIdParameterSet', params: { Id: [3], WhatIf: true } },
  {
    line: 'Remove-Job 3 -ea Suspend',
    code: 'ParameterBindingFailed',
    contains: 'Cannot bind parameter \'ErrorAction\' to the target. Exception setting "ErrorAction"',
  },
  {
    line: 'Remove-Job 3 -OutVariable x',
    code: 'NotSupported',
    message: '-OutVariable is not supported: assign the command to a channel variable instead: `$name = <command>`',
  },
  {
    line: 'Remove-Job 3 -ErrorVariable "a b"',
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'ErrorVariable'. Cannot validate argument 'a b' because it is not a valid variable name.",
  },
  {
    line: 'Get-Job -WhatIf',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'WhatIf'. Run Get-Help Get-Job to see its parameters.",
  },
  {
    line: 'Get-Job 1 a,b',
    code: 'PositionalParameterNotFound',
    message: "A positional parameter cannot be found that accepts argument 'System.Object[]'.",
  },
  // Reference 1.8: a script block for a pipeline parameter is a delay-bind script block.
  {
    line: 'Receive-Job -Job { $_ }',
    code: 'ScriptBlockArgumentNoInput',
    message:
      "Cannot evaluate parameter 'Job' because its argument is specified as a script block and there is no input. A script block cannot be evaluated without input.",
  },
  // Positionally every position-0 parameter refuses the delay-bind block; which one is named depends on PowerShell's dictionary order.
  {
    line: 'Receive-Job { $_ }',
    code: 'ScriptBlockArgumentNoInput',
    contains: 'because its argument is specified as a script block and there is no input',
  },
];

const ours: Case[] = [
  { line: 'Get-Agent', set: '__AllParameterSets', params: {} },
  { line: 'Get-Agent web*', params: { Name: ['web*'] } },
  { line: 'Get-Agent -Tag role=web,env=prod', params: { Tag: ['role=web', 'env=prod'] } },
  { line: 'Get-Variable', params: {} },
  { line: 'Get-Variable serv*', params: { Name: ['serv*'] } },
  { line: 'Remove-Variable servers', params: { Name: ['servers'] } },
  {
    line: 'Remove-Variable',
    code: 'MissingMandatoryParameter',
    message: 'Cannot process command because of one or more missing mandatory parameters: Name.',
  },
  { line: 'Get-Help Invoke-Command', set: 'AllUsersView', params: { Name: 'Invoke-Command' } },
  { line: 'Get-Help icm -Parameter ComputerName', set: 'Parameters', params: { Name: 'icm', Parameter: ['ComputerName'] } },
  { line: 'Get-Command Invoke-Command -Syntax', set: 'AllCommandSet', params: { Name: ['Invoke-Command'], Syntax: true } },
  { line: 'Get-Command', set: 'CmdletSet', params: {} },
  {
    line: 'Invoke-Comand -cn a {1}',
    code: 'CommandNotFound',
    message:
      "The term 'Invoke-Comand' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again. Did you mean Invoke-Command?",
  },
  {
    line: 'gjbb',
    code: 'CommandNotFound',
    message:
      "The term 'gjbb' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again. Did you mean Get-Job?",
  },
  { line: `Get-${'x'.repeat(5000)}`, code: 'CommandNotFound', contains: `'Get-${'x'.repeat(196)}…' is not recognized` },
  {
    line: 'Invoke',
    code: 'CommandNotFound',
    message:
      "The term 'Invoke' is not recognized as a name of a cmdlet, function, script file, or executable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again. Did you mean Invoke-Command?",
  },
  {
    line: 'Start-Job { 1 }',
    code: 'NotSupported',
    message:
      "Start-Job is not supported: it would run the script inside the bot. Use Invoke-Command -ComputerName localhost { ... } -AsJob to run it on this computer's agent as a job.",
  },
  // Reference 1.5 / 6.4: DefinitionName and FilePath both bind the bare path -> empty set mask.
  { line: 'sajb .\\x.ps1', code: 'AmbiguousParameterSet', message: AMBIGUOUS_SET },
  {
    line: 'Start-Job -PSVersion 2.0 { 1 }',
    code: 'ParameterBindingFailed',
    message:
      'Cannot bind parameter \'PSVersion\' to the target. Exception setting "PSVersion": "The value 2.0 is not valid for the PSVersion parameter. The only allowed value is 5.1."',
  },
  {
    line: "Start-Job -WorkingDirectory ' ' { 1 }",
    code: 'ParameterArgumentValidationError',
    message:
      "Cannot validate argument on parameter 'WorkingDirectory'. The argument is null, empty, or consists of only white-space characters. Provide an argument that contains non white-space characters, and then try the command again.",
  },
  // 6.1/6.19: Start-Job has no -ComputerName; -ConnectingTimeout leaks into a phantom SSHHost set with no positional parameter.
  {
    line: 'Start-Job -ComputerName x { 1 }',
    code: 'NamedParameterNotFound',
    message: "A parameter cannot be found that matches parameter name 'ComputerName'. Run Get-Help Start-Job to see its parameters.",
  },
  {
    line: 'Start-Job -ConnectingTimeout 5 { 1 }',
    code: 'PositionalParameterNotFound',
    message: "A positional parameter cannot be found that accepts argument ' 1 '.",
  },
];

async function check(c: Case): Promise<void> {
  const context = makeContext(c.vars ?? {});
  if (c.code !== undefined) {
    const error = await errorOf(() => bindLine(c.line, context));
    expect(error.code).toBe(c.code);
    if (c.message !== undefined) expect(error.message).toBe(c.message);
    if (c.contains !== undefined) expect(error.message).toContain(c.contains);
    if (c.target !== undefined) expect(error.target).toBe(c.target);
    return;
  }
  const call = await bindLine(c.line, context);
  if (c.set !== undefined) expect(call.parameterSet).toBe(c.set);
  if (c.params !== undefined) {
    expect(call.parameters).toMatchObject(c.params);
    if (Object.keys(c.params).length === 0) expect(call.parameters).toEqual({});
  }
  expect(call.pendingSets).toBeUndefined();
}

describe('reference 3.1 Invoke-Command worked examples and rules', () => {
  it.each(invokeCommand)('$line', check);
});
describe('reference 3.2-3.10 session cmdlets', () => {
  it.each(sessions)('$line', check);
});
describe('reference 3.11 job cmdlets', () => {
  it.each(jobs)('$line', check);
});
describe('our cmdlets and command lookup', () => {
  it.each(ours)('$line', check);
});

describe('enum conversion (reference 1.8, gotcha 6.12)', () => {
  // -Authentication is refused after binding, so the conversion is checked directly.
  it.each([
    ['Negotiate', 'Negotiate'],
    ['negotiatew', 'NegotiateWithImplicitCredential'],
    ['kerb', 'Kerberos'],
    ['6', 'Kerberos'],
  ])('%s -> %s', (text, member) => {
    expect(convertEnum(text, AuthenticationMechanism, 'Authentication')).toEqual({ ok: true, value: member });
  });

  it('a prefix shared by several names without an exact match is ambiguous', () => {
    const r = convertEnum('Neg', AuthenticationMechanism, 'Authentication');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.message).toBe(
        'Cannot bind parameter \'Authentication\'. Cannot convert value "Neg" to type "System.Management.Automation.Runspaces.AuthenticationMechanism". Error: "The identifier name Neg cannot be processed because it is either too similar or identical to the following enumerator names: Negotiate, NegotiateWithImplicitCredential. Use a more specific identifier name."',
      );
    }
  });
});

describe('bound call shape', () => {
  it('uses canonical cmdlet and parameter names and keeps the typed text', async () => {
    const call = await bindLine('icm –cn web1 –Scr { uptime }   -thr 4');
    expect(call).toEqual({
      cmdlet: 'Invoke-Command',
      parameterSet: 'ComputerName',
      parameters: { ComputerName: ['web1'], ScriptBlock: sb(' uptime '), ThrottleLimit: 4 },
      text: 'icm –cn web1 –Scr { uptime }   -thr 4',
    });
  });

  it('binds every parameter of a long line under its canonical name', async () => {
    const call = await bindLine(
      'Invoke-Command -ComputerName web1,web2 -ScriptBlock { uptime } -ThrottleLimit 8 -AsJob -JobName nightly -HideComputerName -ArgumentList 1',
    );
    expect(Object.keys(call.parameters).sort()).toEqual(
      ['ArgumentList', 'AsJob', 'ComputerName', 'HideComputerName', 'JobName', 'ScriptBlock', 'ThrottleLimit'].sort(),
    );
  });
});
