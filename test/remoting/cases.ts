import type { RemotingCase } from './ssh-remoting.js';

export interface SideBySideCase extends RemotingCase {
  title: string;
  /** -FilePath: the file (in the runbooks folder for the bot; its text as the script for pwsh). */
  filePath?: string;
  files?: Record<string, string>;
}

/**
 * The cases compared with PowerShell's own remoting. The `ex` cases are the examples of the
 * Invoke-Command reference (../shared/seeds/004_10241448a2b7f8bb.txt) that apply to
 * -ComputerName, -AsJob, -FilePath and -ArgumentList, with Windows-only commands (Get-EventLog,
 * Get-Culture on a domain) replaced by ones that answer the same on both sides; the others are
 * the remote-job cases of the Jobs conformance tests and the executor's streams.
 */
export const CASES: SideBySideCase[] = [
  {
    id: 'ex1',
    title: 'Example 1: -FilePath runs a local script on a computer',
    computers: ['web1'],
    script: '',
    filePath: 'test.ps1',
    files: { 'test.ps1': "'from test.ps1'; 1 + 1\n" },
  },
  {
    id: 'ex2',
    title: 'Example 2: Get-Culture on a computer (without -Credential: agents dial in)',
    computers: ['web1'],
    script: ' (Get-Culture).Name; (Get-Culture).GetType().FullName ',
  },
  {
    id: 'ex6',
    title: 'Example 6: one command on several computers',
    computers: ['web1', 'web2'],
    script: ' $PSVersionTable.PSVersion.ToString() ',
  },
  { id: 'ex7', title: 'Example 7: the result of a command on a computer', computers: ['web1'], script: ' (Get-Host).Name ' },
  { id: 'ex8', title: 'Example 8: -AsJob, then Receive-Job', computers: ['web1', 'web2'], script: " 'line1'; 'line2' ", asJob: true },
  {
    id: 'ex9',
    title: 'Example 9: a local variable with $Using:',
    computers: ['web1'],
    script: ' "log=$Using:MWFO_Log" ',
    using: { MWFO_Log: 'Microsoft-Windows-Forwarding/Operational' },
  },
  {
    id: 'ex10',
    title: 'Example 10: -HideComputerName keeps the objects',
    computers: ['web1', 'web2'],
    script: " 'same' ",
    params: '-HideComputerName',
  },
  {
    id: 'ex11',
    title: 'Example 11: -FilePath with -ArgumentList',
    computers: ['web1', 'web2'],
    script: '',
    filePath: 'sample.ps1',
    files: { 'sample.ps1': 'param($first, $second) "first=$first second=$second"\n' },
    params: '-ArgumentList Process, Service',
  },
  { id: 'using-number', title: '$Using: keeps a number a number', computers: ['web1'], script: ' $Using:n + 1 ', using: { n: 41 } },
  {
    id: 'param-types',
    title: '-ArgumentList binds to param() with types',
    computers: ['web1'],
    script: ' param([int]$a, [string]$b) $a + 1; $b.ToUpper() ',
    params: "-ArgumentList 41,'x'",
  },
  {
    id: 'args',
    title: '$args without a param block',
    computers: ['web1'],
    script: ' $args[0] * 2; $args.Count ',
    params: '-ArgumentList 21,22',
  },
  {
    id: 'objects',
    title: 'objects, hashtables, arrays and strings',
    computers: ['web1', 'web2'],
    script: " [pscustomobject]@{ Name = 'n'; Count = 3 }; @{ a = 1 }; 1..3; 'text' ",
  },
  {
    id: 'non-terminating',
    title: 'a non-terminating error does not stop the script',
    computers: ['web1', 'web2'],
    script: " Write-Error 'boom'; 'after' ",
  },
  {
    id: 'non-terminating-job',
    title: '-AsJob: a non-terminating error leaves the job Completed',
    computers: ['web1', 'web2'],
    script: " Write-Error 'boom'; 'after' ",
    asJob: true,
  },
  { id: 'throw-job', title: '-AsJob: throw fails the child', computers: ['web1'], script: " throw 'bad' ", asJob: true },
  {
    id: 'stop-action-job',
    title: '-AsJob: -ErrorAction Stop fails the child with its record',
    computers: ['web1'],
    script: ' Get-Item /nonexistent-chatops -ErrorAction Stop; 1 ',
    asJob: true,
  },
  { id: 'warning', title: 'warnings travel as warnings', computers: ['web1'], script: " Write-Warning 'careful'; 1 " },
  {
    id: 'information',
    title: 'Write-Host and Write-Information',
    computers: ['web1'],
    script: " Write-Host 'hi'; Write-Information 'inf' ",
  },
  {
    id: 'stop-job',
    title: '-AsJob: Stop-Job of a running job',
    computers: ['web1'],
    script: ' Start-Sleep 30 ',
    asJob: true,
    stopWhenRunning: true,
  },
  { id: 'exit-code', title: '-AsJob: exit 3', computers: ['web1'], script: ' exit 3 ', asJob: true, fresh: true },
];

/** One command line of a session case, typed to the bot and run by pwsh in the same scope as the case's other steps. */
export interface SessionStep {
  /** Typed to the bot as is. */
  line: string;
  /**
   * What pwsh runs instead, where reaching the computer needs SSH's parameters: the bot's
   * `New-PSSession web1` is pwsh's `New-PSSession -HostName web1 @connection` (the reference's
   * port, user, key and options; web1 is 127.0.0.1 to ssh, so ComputerName stays web1).
   */
  pwsh?: string;
  /** false: setup or cleanup, run on both sides and not compared. */
  compare?: boolean;
  /** Compare only these properties of the objects shown. */
  columns?: string[];
}

export interface SessionCase {
  id: string;
  title: string;
  steps: SessionStep[];
}

const SSH = '@connection';

/**
 * Persistent sessions side by side: each case's steps run in order, on the bot in the console
 * channel and in pwsh in one scope, so `$s` set by one step is there for the next. Every case
 * removes the sessions it opened.
 */
export const SESSION_CASES: SessionCase[] = [
  {
    id: 'session-state',
    title: 'state persists in a session; -ComputerName makes a new one without it',
    steps: [
      { line: '$s = New-PSSession web1', pwsh: `$s = New-PSSession -HostName web1 ${SSH}` },
      { line: 'Invoke-Command -Session $s { $x = 6*7 }' },
      { line: 'Invoke-Command -Session $s { "x=$x" }' },
      { line: 'Invoke-Command -ComputerName web1 { "x=$x" }', pwsh: `Invoke-Command -HostName web1 ${SSH} { "x=$x" }` },
      { line: 'Remove-PSSession $s', compare: false },
    ],
  },
  {
    id: 'session-two-computers',
    title: 'two sessions on two computers in one call',
    steps: [
      {
        line: '$s = New-PSSession web1,web2; Invoke-Command -Session $s { $PID -gt 0 }',
        pwsh: `$s = New-PSSession -HostName web1,web2 ${SSH}; Invoke-Command -Session $s { $PID -gt 0 }`,
      },
      { line: 'Remove-PSSession $s', compare: false },
    ],
  },
  {
    id: 'session-busy',
    title: 'a session running an -AsJob command refuses a synchronous one',
    steps: [
      { line: '$s = New-PSSession web1', pwsh: `$s = New-PSSession -HostName web1 ${SSH}` },
      { line: '$j = Invoke-Command -Session $s { Start-Sleep 5 } -AsJob' },
      { line: 'Invoke-Command -Session $s { 1 }' },
      { line: 'Wait-Job $j', pwsh: '$null = Wait-Job $j; Remove-Job $j', compare: false },
      { line: 'Remove-PSSession $s', compare: false },
    ],
  },
  {
    id: 'session-closed',
    title: 'a removed session refuses a command',
    steps: [
      { line: '$s = New-PSSession web1', pwsh: `$s = New-PSSession -HostName web1 ${SSH}` },
      { line: 'Remove-PSSession $s' },
      { line: 'Invoke-Command -Session $s { 1 }' },
    ],
  },
  {
    id: 'session-listed',
    title: 'Get-PSSession shows an Opened, Available session on a remote machine',
    steps: [
      { line: '$s = New-PSSession web1 -Name sbs', pwsh: `$s = New-PSSession -HostName web1 -Name sbs ${SSH}` },
      {
        // -Name: the reference's runspace also holds the sessions the other cases run in.
        line: 'Get-PSSession -Name sbs',
        // Not ConfigurationName (pwsh over SSH says DefaultShell, the sshd subsystem's shell; the
        // bot names the agent's configuration, Microsoft.PowerShell), nor Transport (SSH: the bot
        // has no such column, its agents dial in), nor Id, Name and ComputerName (counters and
        // names the harness chose).
        columns: ['ComputerType', 'State', 'Availability'],
      },
      { line: 'Remove-PSSession $s', compare: false },
    ],
  },
];
