# PowerShell's own remoting client as the reference for how the pwsh executor's output is shown
# (pwsh-display.test.ts): opens one SSH session per host to the test's private loopback sshd (every
# host name resolves to 127.0.0.1 through ssh's HostName option, so PSComputerName is the name
# used), runs each case of the JSON array on stdin with Invoke-Command, and prints one line
# `@@display JSON`: per case, every item the client received as the client's host would print it
# (Out-String, ConciseView for errors).
param([int]$Port, [string]$KeyFile, [string]$Hosts)
$ErrorActionPreference = 'Stop'
$PSStyle.OutputRendering = 'PlainText'
$ProgressPreference = 'SilentlyContinue'
$ErrorView = 'ConciseView'
$options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; HostName = '127.0.0.1'; LogLevel = 'ERROR' }
$sessions = @($Hosts -split ',' | ForEach-Object {
  New-PSSession -HostName $_ -Port $Port -UserName ([Environment]::UserName) -KeyFilePath $KeyFile -Options $options
})
$cases = @([Console]::In.ReadToEnd() | ConvertFrom-Json)
$ErrorActionPreference = 'Continue'
# The cells PowerShell's formatter gives a table or a list of the object (labels and values), so
# the test reads values without cutting printed columns apart.
function Get-Cells($o, [bool]$list) {
  $fmt = if ($list) { @($o | Format-List) } else { @($o | Format-Table) }
  $cols = @(); $rows = @()
  foreach ($f in $fmt) {
    $n = $f.GetType().Name
    if (-not $list -and $n -eq 'FormatStartData' -and $f.shapeInfo.tableColumnInfoList) {
      $cols = @($f.shapeInfo.tableColumnInfoList | ForEach-Object { if ($_.label) { [string]$_.label } else { [string]$_.propertyName } })
    } elseif ($n -eq 'FormatEntryData') {
      if ($list) {
        $fields = @($f.formatEntryInfo.listViewFieldList)
        $cols = @($fields | ForEach-Object { if ($_.label) { [string]$_.label } else { [string]$_.propertyName } })
        $rows += ,@($fields | ForEach-Object { [string]$_.formatPropertyField.propertyValue })
      } else {
        $rows += ,@($f.formatEntryInfo.formatPropertyFieldList | ForEach-Object { [string]$_.propertyValue })
      }
    }
  }
  [ordered]@{ cols = $cols; rows = $rows }
}
$results = foreach ($c in $cases) {
  $p = @{ Session = $sessions; ScriptBlock = [scriptblock]::Create([string]$c.script) }
  if ($c.hide) { $p.HideComputerName = $true }
  if ($null -ne $c.arguments) { $p.ArgumentList = @($c.arguments) }
  $items = @(try { Invoke-Command @p 2>&1 } catch { $_ })
  [ordered]@{
    id = [string]$c.id
    items = @(foreach ($i in $items) {
      if ($i -is [System.Management.Automation.ErrorRecord]) { [ordered]@{ error = $true; text = ($i | Out-String -Width 4096).Trim() } }
      else { [ordered]@{ error = $false; text = ($i | Out-String -Width 4096); table = (Get-Cells $i $false); list = (Get-Cells $i $true) } }
    })
  }
}
'@@display ' + (ConvertTo-Json -InputObject @($results) -Depth 8 -Compress)
Remove-PSSession $sessions
