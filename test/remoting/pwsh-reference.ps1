# PowerShell's own remoting as the reference for the side-by-side test (side-by-side.test.ts).
# Opens one SSH session per host to a private loopback sshd (every host name resolves to
# 127.0.0.1 through ssh's HostName option, so PSComputerName is the name used), prints READY, then
# answers one case per stdin line (JSON) with one result line (`@@ref JSON`) on stdout.
#
# Sessions are opened once because opening one costs seconds; a case therefore runs in a
# session rather than in a fresh connection as -ComputerName would, so cases must not rely on
# state left by earlier cases. A session case (`steps`) opens and removes its own sessions with
# New-PSSession -HostName ... @connection, as the bot's New-PSSession opens one on an agent.
param([int]$Port, [string]$KeyFile, [string[]]$Hosts)
$ErrorActionPreference = 'Stop'
# -File passes `-Hosts web1,web2` as one string.
$Hosts = @($Hosts | ForEach-Object { $_ -split ',' })
$PSStyle.OutputRendering = 'PlainText'
$ProgressPreference = 'SilentlyContinue'
$options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; HostName = '127.0.0.1'; LogLevel = 'ERROR' }
$user = [Environment]::UserName
$connection = @{ Port = $Port; UserName = $user; KeyFilePath = $KeyFile; Options = $options }
$sessions = @{}
function Open-Sessions {
  # Reopens what an earlier case closed (`exit` in a remote script block ends its session).
  foreach ($h in $Hosts) {
    if ($null -eq $sessions[$h] -or $sessions[$h].State -ne 'Opened') {
      if ($null -ne $sessions[$h]) { Remove-PSSession $sessions[$h] -ErrorAction SilentlyContinue }
      $sessions[$h] = New-PSSession -HostName $h @connection
    }
  }
}
Open-Sessions
# Cases see PowerShell's default: non-terminating errors do not stop anything.
$ErrorActionPreference = 'Continue'

function ConvertTo-Plain($value, [int]$depth = 0) {
  # A deserialized value as plain JSON data: primitives as they are, collections as arrays,
  # objects as their properties (without the remoting note properties).
  if ($null -eq $value) { return $null }
  $base = $value.PSObject.BaseObject
  if ($base -is [string] -or $base -is [char] -or $base -is [enum]) { return [string]$base }
  if ($base -is [bool] -or $base -is [int] -or $base -is [long] -or $base -is [double] -or $base -is [decimal] -or $base -is [byte] -or $base -is [int16] -or $base -is [single]) { return $base }
  if ($depth -ge 4) { return [string]$value }
  if ($value -is [System.Collections.IDictionary]) {
    $o = [ordered]@{}; foreach ($k in $value.Keys) { $o[[string]$k] = ConvertTo-Plain $value[$k] ($depth + 1) }; return $o
  }
  if ($value -is [System.Collections.IEnumerable]) { return @(foreach ($x in $value) { ConvertTo-Plain $x ($depth + 1) }) }
  $o = [ordered]@{}
  foreach ($p in $value.PSObject.Properties) {
    if ($p.Name -in 'PSComputerName', 'RunspaceId', 'PSShowComputerName', 'PSSourceJobInstanceId') { continue }
    $o[$p.Name] = ConvertTo-Plain $p.Value ($depth + 1)
  }
  return $o
}

function Get-Records($items) {
  $records = [System.Collections.Generic.List[object]]::new()
  foreach ($r in $items) {
    if ($r -is [System.Management.Automation.ErrorRecord]) {
      $records.Add([ordered]@{ stream = 'error'; computer = $r.OriginInfo.PSComputerName; message = $r.Exception.Message; fqid = $r.FullyQualifiedErrorId; category = [string]$r.CategoryInfo.Category })
    } elseif ($r -is [System.Management.Automation.WarningRecord]) {
      $records.Add([ordered]@{ stream = 'warning'; computer = $r.PSComputerName; message = $r.Message })
    } elseif ($r -is [System.Management.Automation.VerboseRecord]) {
      $records.Add([ordered]@{ stream = 'verbose'; computer = $r.PSComputerName; message = $r.Message })
    } elseif ($r -is [System.Management.Automation.InformationRecord]) {
      $records.Add([ordered]@{ stream = 'information'; computer = $r.PSComputerName; message = [string]$r.MessageData })
    } elseif ($r -is [System.Management.Automation.Runspaces.PSSession]) {
      # A PSSession as its table view shows it (its other properties hold the live runspace).
      $value = [ordered]@{}
      foreach ($p in 'Id', 'Name', 'Transport', 'ComputerName', 'ComputerType', 'State', 'ConfigurationName', 'Availability') { $value[$p] = [string]$r.$p }
      $records.Add([ordered]@{ stream = 'output'; computer = $null; type = $r.PSObject.TypeNames[0]; value = $value })
    } else {
      $type = if ($null -ne $r) { $r.PSObject.TypeNames[0] } else { $null }
      $records.Add([ordered]@{ stream = 'output'; computer = $r.PSComputerName; type = $type; value = ConvertTo-Plain $r })
    }
  }
  return , $records
}

function Get-JobSnapshot($job) {
  [ordered]@{
    state = [string]$job.State
    hasMoreData = $job.HasMoreData
    location = $job.Location
    command = $job.Command
    children = @(foreach ($c in $job.ChildJobs) { [ordered]@{ computer = $c.Location; state = [string]$c.State; hasMoreData = $c.HasMoreData } })
  }
}

function Invoke-Steps([string[]]$Steps) {
  # A session case: each step is a command line, dot-sourced into this function's scope so that
  # what a step sets ($s = New-PSSession ...) is there for the next and gone after the case. What
  # a step shows is collected as it comes, so a terminating error keeps what came before it.
  foreach ($step in $Steps) {
    $shown = [System.Collections.Generic.List[psobject]]::new()
    try {
      . ([scriptblock]::Create($step)) *>&1 | ForEach-Object { $shown.Add($_) }
    } catch {
      $shown.Add($_)
    }
    , (Get-Records $shown)
  }
}

# Answers are marked: whatever PowerShell writes to the host itself (a job's warnings as
# Receive-Job shows them) also lands on stdout.
[Console]::Out.WriteLine('@@ref READY')
while ($null -ne ($line = [Console]::In.ReadLine())) {
  $case = $line | ConvertFrom-Json -AsHashtable
  $result = [ordered]@{ id = $case.id }
  try {
    if ($null -ne $case.steps) {
      $result.steps = @(Invoke-Steps $case.steps)
      [Console]::Out.WriteLine('@@ref ' + (ConvertTo-Json -InputObject $result -Compress -Depth 12))
      continue
    }
    foreach ($name in @($case.using.Keys)) { Set-Variable -Name $name -Value $case.using[$name] }
    # `fresh`: a new connection per computer, as -ComputerName makes (slower: seconds per host).
    if ($case.fresh) {
      $text = 'Invoke-Command -HostName $case.computers @connection -ScriptBlock {' + $case.script + '} ' + $case.params
    } else {
      Open-Sessions
      $targets = @(foreach ($c in $case.computers) { $sessions[$c] })
      $text = 'Invoke-Command -Session $targets -ScriptBlock {' + $case.script + '} ' + $case.params
    }
    if ($case.asJob) {
      $job = & ([scriptblock]::Create($text + ' -AsJob'))
      if ($case.stopWhenRunning) {
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (@($job.ChildJobs | Where-Object State -ne 'Running').Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        Start-Sleep -Milliseconds 300
        Stop-Job $job
      }
      $null = Wait-Job $job -Timeout 60
      $result.afterWait = Get-JobSnapshot $job
      # Receive-Job writes a job's warnings to the host, not to a redirected stream: take them
      # from the child jobs, where they are kept.
      $warnings = @(foreach ($c in $job.ChildJobs) { foreach ($w in $c.Warning) { [ordered]@{ stream = 'warning'; computer = $c.Location; message = $w.Message } } })
      $records = Get-Records @(Receive-Job $job -Keep *>&1 3>$null)
      $result.keep = @($records) + $warnings
      $result.afterKeep = Get-JobSnapshot $job
      $records = Get-Records @(Receive-Job $job *>&1 3>$null)
      $result.receive = @($records) + $warnings
      $result.afterReceive = Get-JobSnapshot $job
      Remove-Job $job -Force
    } else {
      $result.records = Get-Records @(& ([scriptblock]::Create($text)) *>&1)
    }
  } catch {
    $result.thrown = [ordered]@{ message = $_.Exception.Message; fqid = $_.FullyQualifiedErrorId }
  }
  [Console]::Out.WriteLine('@@ref ' + (ConvertTo-Json -InputObject $result -Compress -Depth 12))
}
foreach ($s in $sessions.Values) { Remove-PSSession $s }
