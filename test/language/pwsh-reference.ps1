# The differential harness's PowerShell side (pwsh-differential.test.ts): one pwsh process reads
# every case as JSON on stdin and writes PowerShell's own answers as JSON on stdout.
#
# Input:  { parse: [text, ...], bind: { cmdlets: [name, ...], variables: { name: value }, cases: [{ line, variables }] } }
# Output: { version, parse: [{ errors: [{ id, message, incomplete }] }],
#           bind: { compiled: [name], missing: [name], dropped: [text], results: [{ ok, set, bound } | { ok: false, id, message, parameter }] } }
#
# Parsing: [Parser]::ParseInput, nothing runs.
# Binding: for every cmdlet we implement that this pwsh has, a stand-in cmdlet is generated from the
# real cmdlet's [CommandMetadata] (its parameters, types, parameter sets, aliases, validation and
# credential attributes, default set, ShouldProcess) and compiled with Add-Type; its EndProcessing
# only writes the chosen ParameterSetName and BoundParameters. A compiled cmdlet, not a
# ProxyCommand function: a script function converts arguments through ArgumentTypeConverter
# transformations (`-JobName a,b` binds 'a b', errors become ParameterArgumentTransformationError),
# which is not how the real cmdlet binds. The cmdlet's property setters and BeginProcessing do not
# run (they live in the real cmdlet's code): those checks stay with the reference document.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Off
$inputJson = [Console]::In.ReadToEnd() | ConvertFrom-Json -AsHashtable

$parseResults = [System.Collections.Generic.List[object]]::new()
foreach ($text in @($inputJson.parse)) {
    $tokens = $null; $errors = $null
    $null = [System.Management.Automation.Language.Parser]::ParseInput([string]$text, [ref]$tokens, [ref]$errors)
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($e in $errors) { $list.Add([ordered]@{ id = $e.ErrorId; message = $e.Message; incomplete = $e.IncompleteInput }) }
    $parseResults.Add([ordered]@{ errors = $list })
}

# --- Channel objects as PowerShell objects -----------------------------------------------------

$csharpHelpers = @'
namespace ChatOpsReference {
    /// A job object for $j: the binder only needs its type, name and (bound to a string) its
    /// display text, which the channel value carries as PowerShell's ToString() of the real job.
    public sealed class ChatJob : System.Management.Automation.Job {
        private readonly string display;
        public ChatJob(string name, string display) : base("", name) { this.display = display; }
        public override string ToString() { return display; }
        public override bool HasMoreData { get { return false; } }
        public override string Location { get { return ""; } }
        public override string StatusMessage { get { return ""; } }
        public override void StopJob() {}
    }
}
'@

function New-ChannelSession([string]$computer) {
    # A PSSession needs a RemoteRunspace; an SSH connection info builds one without connecting.
    $info = [System.Management.Automation.Runspaces.SSHConnectionInfo]::new('chat', $computer, $null)
    $runspace = [runspacefactory]::CreateRunspace($info)
    $ctor = [System.Management.Automation.Runspaces.PSSession].GetConstructors([System.Reflection.BindingFlags]'NonPublic,Instance')[0]
    return $ctor.Invoke(@($runspace))
}

function ConvertFrom-ChannelValue($v) {
    if ($null -eq $v) { return $null }
    if ($v -is [System.Collections.IDictionary]) {
        switch ($v['kind']) {
            'session' { return (New-ChannelSession ([string]$v['properties']['ComputerName'])) }
            'job' {
                $name = if ($null -ne $v['properties'] -and $null -ne $v['properties']['Name']) { $v['properties']['Name'] } else { $v['display'] }
                return [ChatOpsReference.ChatJob]::new([string]$name, [string]$v['display'])
            }
            'sessionoption' {
                # New-PSSessionOption on Linux has only -SkipCACheck/-SkipCNCheck: set the properties.
                $option = [System.Management.Automation.Remoting.PSSessionOption]::new()
                foreach ($k in $v['options'].Keys) {
                    $value = ConvertFrom-ChannelValue $v['options'][$k]
                    if ($k -like '*Timeout') { $value = [timespan]::FromMilliseconds($value) }
                    $option.$k = $value
                }
                return $option
            }
            'number' { return $v['value'] }
            'scriptblock' { return [scriptblock]::Create($v['text']) }
            'hashtable' {
                $h = @{}
                foreach ($e in $v['entries']) { $h[$e['key']] = ConvertFrom-ChannelValue $e['value'] }
                return $h
            }
            default { throw "no PowerShell form for channel value kind $($v['kind'])" }
        }
    }
    if ($v -is [System.Collections.IList]) { return , @($v | ForEach-Object { ConvertFrom-ChannelValue $_ }) }
    return $v
}

# --- Stand-in cmdlets generated from the real cmdlets' metadata -----------------------------------

$dropped = [System.Collections.Generic.List[string]]::new()

function Get-CsType([type]$t) {
    if ($t.IsArray) { return (Get-CsType $t.GetElementType()) + '[]' }
    if ($t.IsGenericType) {
        $def = $t.GetGenericTypeDefinition().FullName -replace '`\d+$', ''
        return "global::$def<" + (($t.GetGenericArguments() | ForEach-Object { Get-CsType $_ }) -join ', ') + '>'
    }
    return 'global::' + $t.FullName.Replace('+', '.')
}

function Get-CsLiteral($v) {
    if ($null -eq $v) { return 'null' }
    if ($v -is [string]) { return '"' + $v.Replace('\', '\\').Replace('"', '\"') + '"' }
    if ($v -is [bool]) { return $v.ToString().ToLowerInvariant() }
    if ($v -is [int]) { return [string]$v }
    if ($v -is [long]) { return "$($v)L" }
    if ($v -is [double]) { return "$($v.ToString('R', [cultureinfo]::InvariantCulture))D" }
    if ($v -is [enum]) { return "(global::$($v.GetType().FullName.Replace('+', '.')))$([long]$v)" }
    return "(object)$([string]$v)"
}

function Get-CsAttribute($a, [string]$where) {
    switch ($a.GetType().FullName) {
        'System.Management.Automation.ParameterAttribute' {
            $parts = [System.Collections.Generic.List[string]]::new()
            if ($a.ParameterSetName -ne '__AllParameterSets') { $parts.Add("ParameterSetName = $(Get-CsLiteral $a.ParameterSetName)") }
            if ($a.Position -ne [int]::MinValue) { $parts.Add("Position = $($a.Position)") }
            foreach ($flag in 'Mandatory', 'ValueFromPipeline', 'ValueFromPipelineByPropertyName', 'ValueFromRemainingArguments', 'DontShow') {
                if ($a.$flag) { $parts.Add("$flag = true") }
            }
            return "[Parameter($($parts -join ', '))]"
        }
        'System.Management.Automation.AliasAttribute' { return "[Alias($(($a.AliasNames | ForEach-Object { Get-CsLiteral $_ }) -join ', '))]" }
        'System.Management.Automation.ValidateRangeAttribute' {
            if ($null -eq $a.MinRange) { return "[ValidateRange(global::System.Management.Automation.ValidateRangeKind.$($a.RangeKind))]" }
            return "[ValidateRange($(Get-CsLiteral $a.MinRange), $(Get-CsLiteral $a.MaxRange))]"
        }
        'System.Management.Automation.ValidateSetAttribute' {
            return "[ValidateSet($(($a.ValidValues | ForEach-Object { Get-CsLiteral $_ }) -join ', '), IgnoreCase = $(Get-CsLiteral $a.IgnoreCase))]"
        }
        'System.Management.Automation.ValidateCountAttribute' { return "[ValidateCount($($a.MinLength), $($a.MaxLength))]" }
        'System.Management.Automation.ValidateLengthAttribute' { return "[ValidateLength($($a.MinLength), $($a.MaxLength))]" }
        'System.Management.Automation.ValidatePatternAttribute' { return "[ValidatePattern($(Get-CsLiteral $a.RegexPattern))]" }
        'System.Management.Automation.ValidateNotNullAttribute' { return '[ValidateNotNull]' }
        'System.Management.Automation.ValidateNotNullOrEmptyAttribute' { return '[ValidateNotNullOrEmpty]' }
        'System.Management.Automation.ValidateNotNullOrWhiteSpaceAttribute' { return '[ValidateNotNullOrWhiteSpace]' }
        'System.Management.Automation.AllowNullAttribute' { return '[AllowNull]' }
        'System.Management.Automation.AllowEmptyStringAttribute' { return '[AllowEmptyString]' }
        'System.Management.Automation.AllowEmptyCollectionAttribute' { return '[AllowEmptyCollection]' }
        'System.Management.Automation.CredentialAttribute' { return '[Credential]' }
        default { $dropped.Add("$where [$($a.GetType().FullName)]"); return '' }
    }
}

function Get-StandInSource([string]$name, [int]$index) {
    $md = [System.Management.Automation.CommandMetadata]::new((Get-Command $name -CommandType Cmdlet))
    $verb, $noun = $name -split '-', 2
    $cmdletArgs = [System.Collections.Generic.List[string]]::new()
    $cmdletArgs.Add((Get-CsLiteral $verb)); $cmdletArgs.Add((Get-CsLiteral "Ref$index$noun"))
    if ($md.DefaultParameterSetName) { $cmdletArgs.Add("DefaultParameterSetName = $(Get-CsLiteral $md.DefaultParameterSetName)") }
    if ($md.SupportsShouldProcess) { $cmdletArgs.Add('SupportsShouldProcess = true') }
    if (-not $md.PositionalBinding) { $cmdletArgs.Add('PositionalBinding = false') }
    $members = foreach ($p in $md.Parameters.Values) {
        $attributes = foreach ($a in $p.Attributes) { Get-CsAttribute $a "$name -$($p.Name)" }
        if ($p.Aliases.Count -gt 0 -and -not ($p.Attributes | Where-Object { $_ -is [System.Management.Automation.AliasAttribute] })) {
            $attributes += "[Alias($(($p.Aliases | ForEach-Object { Get-CsLiteral $_ }) -join ', '))]"
        }
        $hides = [System.Management.Automation.PSCmdlet].GetMember($p.Name).Count -gt 0
        "        $($attributes -join ' ') public $(if ($hides) { 'new ' })$(Get-CsType $p.ParameterType) $($p.Name) { get; set; }"
    }
    return @"
    [Cmdlet($($cmdletArgs -join ', '))]
    public sealed class StandIn$index : PSCmdlet {
$($members -join "`n")
        protected override void EndProcessing() {
            var result = new global::System.Collections.Hashtable();
            result["Set"] = ParameterSetName;
            // In binding order: the bot's normalisation follows the order setters ran in.
            var bound = new global::System.Collections.Specialized.OrderedDictionary();
            foreach (var entry in MyInvocation.BoundParameters) bound[entry.Key] = entry.Value;
            result["Bound"] = bound;
            WriteObject(result);
        }
    }
"@
}

$compiled = [System.Collections.Generic.List[string]]::new()
$missing = [System.Collections.Generic.List[string]]::new()
$classes = [System.Collections.Generic.List[string]]::new()
$bindInput = $inputJson.bind
if ($null -ne $bindInput) {
    $i = 0
    foreach ($name in @($bindInput.cmdlets)) {
        if ($null -eq (Get-Command $name -CommandType Cmdlet -ErrorAction SilentlyContinue)) { $missing.Add($name); continue }
        $classes.Add((Get-StandInSource $name $i)); $compiled.Add($name); $i++
    }
}
$source = "using System.Management.Automation;`n$csharpHelpers`nnamespace ChatOpsReference {`n$($classes -join "`n")`n}"
$assembly = (Add-Type -TypeDefinition $source -PassThru | Select-Object -First 1).Assembly
Import-Module -Assembly $assembly

# Channel variables (built with the real cmdlets, before the stand-ins take their names).
$defaultVariables = @{}
if ($null -ne $bindInput) {
    foreach ($k in $bindInput.variables.Keys) { $defaultVariables[$k] = ConvertFrom-ChannelValue $bindInput.variables[$k] }
}

# The real names (and so PowerShell's own aliases) now resolve to the stand-ins: aliases win
# over cmdlets, and `icm` -> Invoke-Command -> the stand-in chains.
for ($i = 0; $i -lt $compiled.Count; $i++) {
    $verb, $noun = $compiled[$i] -split '-', 2
    Set-Alias -Name $compiled[$i] -Value "$verb-Ref$i$noun" -Scope Global -Force
}
# Our own Get-Agent, as the test context's evaluate answers it.
function global:Get-Agent { 'web1', 'web2' }

function ConvertTo-Plain($v) {
    if ($null -eq $v) { return $null }
    if ($v -is [System.Management.Automation.SwitchParameter]) { return $v.IsPresent }
    if ($v -is [scriptblock]) { return [ordered]@{ kind = 'scriptblock'; text = $v.ToString() } }
    if ($v -is [System.Management.Automation.Runspaces.PSSession]) { return [ordered]@{ kind = 'session'; name = $v.Name } }
    if ($v -is [System.Management.Automation.Job]) { return [ordered]@{ kind = 'job'; name = $v.Name } }
    if ($v -is [System.Management.Automation.Remoting.PSSessionOption]) { return [ordered]@{ kind = 'sessionoption' } }
    if ($v -is [guid]) { return $v.ToString() }
    if ($v -is [enum]) { return $v.ToString() }
    if ($v -is [datetime]) { return $v.ToString('o') }
    if ($v -is [uri]) { return $v.OriginalString }
    if ($v -is [System.Collections.IDictionary]) {
        $entries = [System.Collections.Generic.List[object]]::new()
        foreach ($k in $v.Keys) { $entries.Add([ordered]@{ key = [string]$k; value = ConvertTo-Plain $v[$k] }) }
        return [ordered]@{ kind = 'hashtable'; entries = $entries }
    }
    if ($v -is [System.Collections.IList]) {
        $items = [System.Collections.Generic.List[object]]::new()
        foreach ($e in $v) { $items.Add((ConvertTo-Plain $e)) }
        return , $items
    }
    if ($v -is [string] -or $v -is [bool] -or $v -is [int] -or $v -is [long] -or $v -is [double] -or $v -is [decimal]) { return $v }
    return [ordered]@{ kind = 'other'; type = $v.GetType().FullName; text = [string]$v }
}

$bindResults = [System.Collections.Generic.List[object]]::new()
if ($null -ne $bindInput) {
    foreach ($case in @($bindInput.cases)) {
        foreach ($k in $defaultVariables.Keys) { Set-Variable -Name $k -Value $defaultVariables[$k] -Scope Global }
        $extra = $case.variables
        if ($null -ne $extra) { foreach ($k in $extra.Keys) { Set-Variable -Name $k -Value (ConvertFrom-ChannelValue $extra[$k]) -Scope Global } }
        try {
            $r = @(& ([scriptblock]::Create($case.line)))
            if ($r.Count -ne 1 -or $r[0] -isnot [hashtable]) { throw "the line did not run one stand-in cmdlet: $($r.Count) results" }
            $bound = [ordered]@{}
            foreach ($k in $r[0]['Bound'].Keys) { $bound[$k] = ConvertTo-Plain $r[0]['Bound'][$k] }
            $bindResults.Add([ordered]@{ ok = $true; set = $r[0]['Set']; bound = $bound })
        } catch {
            $parameter = $null
            if ($_.Exception -is [System.Management.Automation.ParameterBindingException]) { $parameter = $_.Exception.ParameterName }
            $id = $_.FullyQualifiedErrorId
            if ($_.Exception -is [System.Management.Automation.ParseException]) { $id = $_.Exception.ErrorRecord.FullyQualifiedErrorId }
            $bindResults.Add([ordered]@{ ok = $false; id = ($id -split ',')[0]; message = $_.Exception.Message; parameter = $parameter })
        } finally {
            if ($null -ne $extra) { foreach ($k in $extra.Keys) { Remove-Variable -Name $k -Scope Global -ErrorAction SilentlyContinue } }
        }
    }
}

# The marker separates the JSON from anything a credential prompt wrote to stdout.
'<<<PWSH-REFERENCE-JSON>>>'
[ordered]@{
    version = $PSVersionTable.PSVersion.ToString()
    parse = $parseResults
    bind = [ordered]@{ compiled = $compiled; missing = $missing; dropped = $dropped; results = $bindResults }
} | ConvertTo-Json -Depth 30 -Compress
