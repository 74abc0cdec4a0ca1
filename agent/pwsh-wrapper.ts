/**
 * The fixed PowerShell wrapper the pwsh executor runs (as -EncodedCommand). The run's data arrives
 * on stdin as one JSON object {key, script, arguments, using}; nothing of the run is ever part of
 * the command line.
 *
 * The script runs in a runspace of its own (as a remote session's script does), through the
 * PowerShell API, with a host that records `exit N` (SetShouldExit):
 * - ArgumentList: each value is a positional argument of the script block, so it binds to its
 *   param() (types, positions, [Parameter(Mandatory)] errors) or lands in $args.
 * - $Using: the script is parsed; each `$Using:name` reference in the top-level script block (not in
 *   nested script blocks, which belong to their own runspaces) is renamed to a variable
 *   `$__chatops_using_<i>` set in the script's runspace. Only variable names are rewritten (from the
 *   parser's own extents), never values. JSON values get PowerShell's types back: whole numbers in
 *   Int32 range are [int] (else [long]), objects are [hashtable]s, arrays are object[].
 * - Records: every stream item becomes one line on fd 3, `<key> <json>` where json is {s, v}: the
 *   stream (output, error, warning, verbose, debug, information, progress, end) and its value.
 *   Streams are merged into the output collection in the order written (progress is polled
 *   apart). fd 3 is a channel only the wrapper writes: the script's own stdout and stderr (native
 *   commands started outside a pipeline, [Console]::Write) stay plain text the agent shows as text.
 *   The key (random per run, never in the script's runspace) makes a line on fd 3 that a program
 *   writes there on purpose (fd 3 is inherited by native children) plain text too.
 * - Output values: strings and primitives as text; objects shaped as the client of a remote
 *   session formats them: the type's first view (table or list: PowerShell's own formatter gives
 *   the columns, the cells and the view's group, e.g. Get-ChildItem's directory; custom and wide
 *   views as the text PowerShell prints), else the built-in default display property set or all
 *   properties, as a list when they are five or more counting the PSComputerName, RunspaceId and
 *   PSShowComputerName a remote client adds (as PowerShell's formatter chooses).
 * - Errors: message, CategoryInfo, FullyQualifiedErrorId and the text of pwsh 7's ConciseView as
 *   PowerShell's client prints a remote error (the record serialized and rebuilt as remoting does).
 * - The last record is `end` {state, exitCode}: Failed after a terminating error (throw,
 *   -ErrorAction Stop, a parse error, a missing mandatory parameter), whose record is sent first;
 *   exitCode is `exit N`'s code, else $LASTEXITCODE of the last native command. No `end` means pwsh
 *   itself failed.
 *
 * POSIX only: fd 3 is an inherited socket (the agent's fourth stdio pipe) opened by number.
 * Backticks and dollar-brace are avoided: this text is a JavaScript template literal.
 */
export const PWSH_WRAPPER = String.raw`
$ErrorActionPreference = 'Stop'
$__utf8 = [System.Text.UTF8Encoding]::new($false)
[Console]::OutputEncoding = $__utf8
[Console]::InputEncoding = $__utf8
$PSStyle.OutputRendering = 'PlainText'
$ErrorView = 'ConciseView'
$__run = [Console]::In.ReadToEnd() | ConvertFrom-Json -AsHashtable -Depth 100
$__recs = [System.IO.StreamWriter]::new([System.IO.Pipes.AnonymousPipeClientStream]::new([System.IO.Pipes.PipeDirection]::Out, '3'), $__utf8)
$__key = [string]$__run.key
$__run.key = $null
function __emit([string]$s, $v) {
  $__recs.WriteLine($__key + ' ' + (ConvertTo-Json -InputObject ([ordered]@{ s = $s; v = $v }) -Compress -Depth 6 -WarningAction SilentlyContinue))
  $__recs.Flush()
}
# The ConciseView text PowerShell's client prints for a remote error: the record as it arrives
# there (serialized, then rebuilt as remoting rebuilds it), so a record without a command of its
# own is named by its category (OperationStopped: bad, InvalidArgument: ... mandatory ...), as
# Invoke-Command and Receive-Job show it. A parse error keeps its local text, with the line and
# the place (PowerShell parses a script block on the client, so it is shown there, as here). The
# local text if that cannot be done.
$__fromRemote = [System.Management.Automation.ErrorRecord].GetMethod('FromPSObjectForRemoting', [System.Reflection.BindingFlags]'NonPublic,Static')
function __errorText($er) {
  $r = $er
  if ($__fromRemote -and [string]$er.CategoryInfo.Category -ne 'ParserError') {
    try { $r = $__fromRemote.Invoke($null, @([System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($er)))) } catch { $r = $er }
  }
  [string](($r | Out-String -Width 4096).Trim())
}
function __error($er, [bool]$terminating, [string]$msg) {
  if (-not $msg) { $msg = if ($er.ErrorDetails -and $er.ErrorDetails.Message) { $er.ErrorDetails.Message } else { $er.Exception.Message } }
  __emit 'error' ([ordered]@{ text = (__errorText $er); message = [string]$msg; category = [string]$er.CategoryInfo; fqid = [string]$er.FullyQualifiedErrorId; terminating = $terminating })
}
function __plain($v) {
  if ($null -eq $v) { return $null }
  if ($v -is [System.Collections.IDictionary]) { $h = @{}; foreach ($k in $v.Keys) { $h[$k] = __plain $v[$k] }; return $h }
  if ($v -is [System.Collections.IList]) { return ,[object[]]@(foreach ($x in $v) { ,(__plain $x) }) }
  if ($v -is [long] -and $v -ge [int]::MinValue -and $v -le [int]::MaxValue) { return [int]$v }
  return $v
}
$__views = @{}
# The first view PowerShell has for the object's type (or a base type): its control kind and an
# identity (the first of the types it is defined for, and its name), so objects sharing a view
# (FileInfo and DirectoryInfo, CmdletInfo and ApplicationInfo) share one table, as PowerShell's
# formatter continues one table across them.
function __viewOf($o) {
  $k = $o.PSTypeNames -join '|'
  if (-not $__views.ContainsKey($k)) {
    $found = @{ kind = ''; id = '' }
    foreach ($t in $o.PSTypeNames) {
      $d = @(Get-FormatData -TypeName ([WildcardPattern]::Escape(($t -replace '^Deserialized\.', ''))) -ErrorAction Ignore | Where-Object { $_.FormatViewDefinition }) | Select-Object -First 1
      if ($d) {
        $v = @($d.FormatViewDefinition)[0]
        $found = @{ kind = $v.Control.GetType().Name; id = [string](@($d.TypeNames | Sort-Object)[0]) + '#' + $v.Name }
        break
      }
    }
    $__views[$k] = $found
  }
  $__views[$k]
}
$__sets = @{}
# The default display property set PowerShell's client knows for the type: built-in type data only
# (this runspace's, never the script's): a set the script added itself (Update-TypeData,
# Add-Member) does not travel with a deserialized object, so the client shows all properties.
function __displaySet($o) {
  $k = $o.PSTypeNames -join '|'
  if (-not $__sets.ContainsKey($k)) {
    $names = @()
    foreach ($t in $o.PSTypeNames) {
      $td = Get-TypeData -TypeName ([WildcardPattern]::Escape(($t -replace '^Deserialized\.', ''))) -ErrorAction Ignore | Select-Object -First 1
      if ($td -and $td.DefaultDisplayPropertySet) { $names = @($td.DefaultDisplayPropertySet.ReferencedProperties); break }
    }
    $__sets[$k] = $names
  }
  $__sets[$k]
}
# Cells may carry $PSStyle decorations (file names): a host strips them on output, so does this.
function __plainText($v) { [string]$v -replace '\[[0-9;?]*[A-Za-z]', '' }
# The group a view puts the object in (Get-ChildItem's 'Directory: /etc'), as one line.
function __groupText($entry) {
  $parts = foreach ($v in @($entry.formatValueList)) {
    $n = $v.GetType().Name
    if ($n -eq 'FormatEntry') { __groupText $v }
    elseif ($n -eq 'FormatTextField') { [string]$v.text }
    elseif ($n -eq 'FormatPropertyField') { __plainText $v.propertyValue }
  }
  ($parts -join '').Trim()
}
function __cells($fmt, [bool]$list) {
  $cols = @(); $rows = @(); $group = ''
  foreach ($f in $fmt) {
    $n = $f.GetType().Name
    if ($n -eq 'GroupStartData' -and $f.groupingEntry) { $group = __groupText $f.groupingEntry }
    elseif (-not $list -and $n -eq 'FormatStartData' -and $f.shapeInfo.tableColumnInfoList) {
      $cols = @($f.shapeInfo.tableColumnInfoList | ForEach-Object { if ($_.label) { [string]$_.label } else { [string]$_.propertyName } })
    } elseif ($n -eq 'FormatEntryData') {
      if ($list) {
        $fields = @($f.formatEntryInfo.listViewFieldList)
        $cols = @($fields | ForEach-Object { if ($_.label) { [string]$_.label } else { [string]$_.propertyName } })
        $rows += ,@($fields | ForEach-Object { __plainText $_.formatPropertyField.propertyValue })
      } else {
        $rows += ,@($f.formatEntryInfo.formatPropertyFieldList | ForEach-Object { __plainText $_.propertyValue })
      }
    }
  }
  $c = [ordered]@{ cols = $cols; rows = $rows }
  if ($group) { $c.group = $group }
  $c
}
function __shape($o) {
  $b = if ($o -is [psobject]) { $o.PSObject.BaseObject } else { $o }
  if ($b -is [string]) { return [ordered]@{ text = $b } }
  if ($b -is [ValueType] -and ($b.GetType().IsPrimitive -or $b -is [decimal] -or $b -is [enum])) { return [ordered]@{ text = [string]$b } }
  $t = [string]$o.PSTypeNames[0] -replace '^Deserialized\.', ''
  $view = if ($b -is [System.Collections.IDictionary]) { @{ kind = 'TableControl'; id = '' } } else { __viewOf $o }
  $kind = $view.kind
  if ($kind -eq 'TableControl') { $c = __cells @($o | Format-Table) $false }
  elseif ($kind -eq 'ListControl') { $c = __cells @($o | Format-List) $true; $c.list = $true }
  elseif ($kind -ne '') { return [ordered]@{ text = [string](($o | Out-String -Width 4096).Trim()) } }
  else {
    # What a remote client adds itself (and replaces when the remote side set it).
    $own = { $_ -and $_ -notin 'PSComputerName', 'RunspaceId', 'PSShowComputerName' }
    $names = @(__displaySet $o | Where-Object $own)
    # PowerShell's formatter makes a list of five or more properties. Without a display set these
    # are all of them, counting the three a remote client adds (PSComputerName, RunspaceId,
    # PSShowComputerName, also with -HideComputerName): two of the script's own make a list.
    # With a set: the set and PSComputerName (Linux has no built-in set without a view long
    # enough to tell more).
    $added = 2
    if ($names.Count -eq 0) { $names = @($o.PSObject.Properties | ForEach-Object Name | Where-Object $own); $added = 3 }
    if ($names.Count -eq 0) { return [ordered]@{ text = [string](($o | Out-String -Width 4096).Trim()) } }
    if ($names.Count + $added -ge 5) { $c = __cells @($o | Format-List -Property $names) $true; $c.list = $true }
    else { $c = __cells @($o | Format-Table -Property $names) $false }
  }
  if ($c.rows.Count -eq 0) { return [ordered]@{ text = [string](($o | Out-String -Width 4096).Trim()) } }
  $c.t = $t
  if ($view.id) { $c.view = $view.id }
  $c
}
function __item($o) {
  if ($null -eq $o) { return }
  $b = if ($o -is [psobject]) { $o.PSObject.BaseObject } else { $o }
  if ($b -is [System.Management.Automation.ErrorRecord]) { __error $b $false }
  elseif ($b -is [System.Management.Automation.WarningRecord]) { __emit 'warning' ([ordered]@{ text = [string]$b.Message }) }
  elseif ($b -is [System.Management.Automation.VerboseRecord]) { __emit 'verbose' ([ordered]@{ text = [string]$b.Message }) }
  elseif ($b -is [System.Management.Automation.DebugRecord]) { __emit 'debug' ([ordered]@{ text = [string]$b.Message }) }
  elseif ($b -is [System.Management.Automation.InformationRecord]) { __emit 'information' ([ordered]@{ text = [string]$b.MessageData }) }
  else { __emit 'output' (__shape $o) }
}
function __progress($p) {
  __emit 'progress' ([ordered]@{ id = $p.ActivityId; parentId = $p.ParentActivityId; activity = [string]$p.Activity; status = [string]$p.StatusDescription; percent = $p.PercentComplete; operation = [string]$p.CurrentOperation; secondsRemaining = $p.SecondsRemaining; completed = ([string]$p.RecordType -eq 'Completed') })
}
# The script runs on the computer's side of a remote command, so its host answers as
# PowerShell's server-side remoting host does ((Get-Host).Name is ServerRemoteHost): scripts that
# check for an interactive console behave as under Invoke-Command.
[NoRunspaceAffinity()]
class ChatOpsHost : System.Management.Automation.Host.PSHost {
  [object] $ExitCode = $null
  hidden [guid] $HostId = [guid]::NewGuid()
  [string] get_Name() { return 'ServerRemoteHost' }
  [version] get_Version() { return [version]'1.0' }
  [guid] get_InstanceId() { return $this.HostId }
  [System.Management.Automation.Host.PSHostUserInterface] get_UI() { return $null }
  [cultureinfo] get_CurrentCulture() { return [cultureinfo]::CurrentCulture }
  [cultureinfo] get_CurrentUICulture() { return [cultureinfo]::CurrentUICulture }
  [void] SetShouldExit([int] $code) { $this.ExitCode = $code }
  [void] EnterNestedPrompt() { throw [System.NotSupportedException]::new() }
  [void] ExitNestedPrompt() { throw [System.NotSupportedException]::new() }
  [void] NotifyBeginApplication() {}
  [void] NotifyEndApplication() {}
}
$__text = [string]$__run.script
$__tokens = $null; $__perrors = $null
$__ast = [System.Management.Automation.Language.Parser]::ParseInput($__text, [ref]$__tokens, [ref]$__perrors)
if ($__perrors.Count -gt 0) {
  __error ([System.Management.Automation.ParseException]::new($__perrors)).ErrorRecord $true $__perrors[0].Message
  __emit 'end' ([ordered]@{ state = 'Failed' })
  exit 0
}
$__host = [ChatOpsHost]::new()
$__rs = [runspacefactory]::CreateRunspace($__host)
$__rs.Open()
$__refs = @($__ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.UsingExpressionAst] }, $true) | Where-Object {
  $p = $_.Parent; while ($p -and -not ($p -is [System.Management.Automation.Language.ScriptBlockAst])) { $p = $p.Parent }; $p -eq $__ast
} | ForEach-Object { [System.Management.Automation.Language.UsingExpressionAst]::ExtractUsingVariable($_) } | Sort-Object { $_.Extent.StartOffset } -Descending)
$__names = @{}
foreach ($__ref in $__refs) {
  $__name = $__ref.VariablePath.UserPath.ToLowerInvariant()
  if ($null -eq $__run.using -or -not $__run.using.ContainsKey($__name)) {
    $__m = "The value of the using variable '" + '$using:' + $__name + "' cannot be retrieved because it has not been set in the local session."
    __error ([System.Management.Automation.ErrorRecord]::new([System.Management.Automation.RuntimeException]::new($__m), 'UsingVariableIsUndefined', 'InvalidOperation', $null)) $true
    __emit 'end' ([ordered]@{ state = 'Failed' })
    exit 0
  }
  if (-not $__names.ContainsKey($__name)) {
    $__names[$__name] = '__chatops_using_' + $__names.Count
    $__rs.SessionStateProxy.SetVariable($__names[$__name], (__plain $__run.using[$__name]))
  }
  $__text = $__text.Substring(0, $__ref.Extent.StartOffset) + '$' + $__names[$__name] + $__text.Substring($__ref.Extent.EndOffset)
}
$__ps = [powershell]::Create()
$__ps.Runspace = $__rs
[void]$__ps.AddScript($__text)
foreach ($__a in @($__run.arguments)) { [void]$__ps.AddArgument((__plain $__a)) }
$__ps.Commands.Commands[0].MergeMyResults([System.Management.Automation.Runspaces.PipelineResultTypes]::All, [System.Management.Automation.Runspaces.PipelineResultTypes]::Output)
$__in = [System.Management.Automation.PSDataCollection[psobject]]::new()
$__in.Complete()
$__out = [System.Management.Automation.PSDataCollection[psobject]]::new()
$__handle = $__ps.BeginInvoke($__in, $__out)
$__pending = [ordered]@{}
$__lastProgress = [DateTime]::MinValue
while ($true) {
  $__done = $__handle.AsyncWaitHandle.WaitOne(50)
  foreach ($__o in $__out.ReadAll()) { __item $__o }
  foreach ($__p in $__ps.Streams.Progress.ReadAll()) { $__pending[[string]$__p.ActivityId] = $__p }
  # Progress is a live status: the latest record of each activity, a few times a second at most.
  if ($__pending.Count -gt 0 -and ($__done -or ([DateTime]::UtcNow - $__lastProgress).TotalMilliseconds -ge 250)) {
    foreach ($__p in $__pending.Values) { __progress $__p }
    $__pending.Clear()
    $__lastProgress = [DateTime]::UtcNow
  }
  if ($__done) { break }
}
$__state = 'Completed'
try { [void]$__ps.EndInvoke($__handle) } catch { }
if ([string]$__ps.InvocationStateInfo.State -eq 'Failed') {
  $__r = $__ps.InvocationStateInfo.Reason
  $__er = if ($__r -is [System.Management.Automation.IContainsErrorRecord]) { $__r.ErrorRecord } else { [System.Management.Automation.ErrorRecord]::new($__r, $__r.GetType().Name, 'NotSpecified', $null) }
  __error $__er $true
  $__state = 'Failed'
}
$__exit = if ($null -ne $__host.ExitCode) { $__host.ExitCode } else { $__rs.SessionStateProxy.GetVariable('LASTEXITCODE') }
$__end = [ordered]@{ state = $__state }
if ($null -ne $__exit) { $__end.exitCode = [int]$__exit }
__emit 'end' $__end
exit 0
`;

/** pwsh's command line for a wrapper script: no profile, no prompts, the script encoded. */
export function pwshArgs(wrapper: string): string[] {
  return [
    '-NoLogo',
    '-NoProfile',
    '-NonInteractive',
    // Errors of pwsh itself as text, not the CLIXML that -EncodedCommand implies.
    '-OutputFormat',
    'Text',
    '-EncodedCommand',
    Buffer.from(wrapper, 'utf16le').toString('base64'),
  ];
}

export const PWSH_ARGS: readonly string[] = pwshArgs(PWSH_WRAPPER);
