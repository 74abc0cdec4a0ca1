/**
 * Why parameters that PowerShell accepts have no meaning for chat remoting. Shown as
 * `-<Name> is not supported: <reason>` after binding (code NotSupported).
 */
export const R = {
  vm: 'targets are registered agents',
  container: 'targets are registered agents',
  ssh: 'targets are registered agents reached over their own connection to the hub, not over SSH',
  auth: 'agents authenticate with their enrolment secret; the channel permissions decide who may run what',
  endpoint: 'agents dial in to the hub; there is no WinRM endpoint, port or URL to address',
  redirection: 'agents dial in to the hub, so there are no redirects to follow',
  networkAccess: 'agents run commands under their own service account; there is no loopback token to adjust',
  remoteDebug: 'chat has no interactive debugger',
  runAsAdministrator: 'targets are registered agents, not containers',
  inProcess: 'it would run the command inside the bot itself; name target agents with -ComputerName or -Session',
  windowsPowerShell: 'sessions are opened on registered agents, not in a local Windows PowerShell process',
  queryOption: 'connection options apply when a session is created (New-PSSession, Invoke-Command)',
  filter: 'it only matches jobs of job-source adapters such as scheduled jobs, which this bot does not have; use -Name, -Id or -State',
  proxy: 'agents dial out to the hub; the hub uses no proxy to reach them',
  transportSecurity: 'the agent connection is always encrypted and verified by the hub',
  transportTuning: 'the agent connection transport is fixed by the hub',
  culture: "commands run with the agent's own culture",
  applicationArguments: 'agents do not read application arguments',
  retry: 'agents reconnect to the hub on their own',
  debugStream: 'chat has no debugger to stop at Debug messages',
  informationStream: 'information records are always posted with the output',
  progressStream: 'progress records are not shown in chat',
  streamVariable: 'assign the command to a channel variable instead: `$name = <command>`',
  outBuffer: 'output is posted to chat in batches by the bot',
  verbose:
    "the bot's cmdlets post no verbose messages; verbose records of a pwsh script block arrive on its Error stream as `VERBOSE:` lines",
  errorAction:
    'only Continue, the default, is implemented: an error on one computer never stops the others, and every error is shown in the channel',
  warningAction: 'only Continue, the default, is implemented: warnings are always shown with the output',
  confirm: 'chat cannot prompt for confirmation; use -WhatIf to preview',
  online: 'the bot cannot open a browser',
} as const;
