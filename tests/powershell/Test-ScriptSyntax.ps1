<#
.SYNOPSIS
    Parses scripts with PowerShell's own parser and reports parse errors and anything newer than
    Windows PowerShell 5.1, one JSON object per line, for tests/powershell_syntax.rs.

.DESCRIPTION
    Exchange servers run Windows PowerShell 5.1, which the tests cannot run. So every script
    hybridtls writes is parsed here with [System.Management.Automation.Language.Parser]::ParseFile
    (PowerShell 7's parser, which accepts a superset of 5.1) and its syntax tree, tokens and
    commands are checked against the tables below of what PowerShell 6 and 7 added. A script that
    passes parses in 5.1 and uses no language feature, cmdlet, parameter, automatic variable or
    .NET member that 5.1 lacks, as far as the tables reach: they hold what a script like ours could
    plausibly use, not every change since 2016.

    Output, one line per file checked (the last line about it), as JSON with non-ASCII escaped:
      {"kind":"file","path":...,"length":<UTF-16 code units PowerShell read>,
       "parseErrors":[{"line","column","id","message"}],
       "findings":[{"line","column","rule","construct","since","text"}],
       "strings":[{"token","start","end","value"}]}          (strings only with -Strings)
    and, with -ListRules, first one line per rule: {"kind":"rule","rule","construct","since",
    "examples":[one line of code for each entry of the rule's table]}.
    Lines and columns are 1-based; start/end are UTF-16 offsets into the text PowerShell read
    (after its byte order mark), as the parser's extents count them.

.PARAMETER Path
    The scripts to check.

.PARAMETER Strings
    Also list every string token (single- and double-quoted, here-strings, with those nested in
    double-quoted strings), for tests that check where a value ends up.

.PARAMETER ListRules
    First list the rules, so a test can check that each one is exercised.

.PARAMETER ParseOnly
    Only parse (and list strings): no check for what 5.1 lacks, which costs far more than parsing.
    For tests that render many variants of the same templates.
#>
[CmdletBinding()]
param(
    [switch] $Strings,
    [switch] $ListRules,
    [switch] $ParseOnly,
    [Parameter(ValueFromRemainingArguments = $true)]
    [string[]] $Path
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# ---- What PowerShell 6 and 7 added ---------------------------------------------------------------
# Sources: the "What's new in PowerShell" articles and each cmdlet's reference page on Microsoft
# Learn ("This parameter was introduced in PowerShell 6.0" and the like); the 5.1 reference pages
# for what 5.1 already has. `using namespace`, classes, `::new()`, Out-File/Set-Content
# -NoNewline, New-Item/Remove-Item -Force, Get-Content -Raw are 5.0 or older, hence absent.

# Static methods of .NET types (namespace System. left off) that .NET Framework 4.8 lacks.
$DotNetCoreMethods = @{
    'IO.Path' = @('Join', 'GetRelativePath', 'TrimEndingDirectorySeparator', 'EndsInDirectorySeparator')
    'Convert' = @('ToHexString', 'FromHexString')
    'Security.Cryptography.X509Certificates.X509Certificate2' = @('CreateFromPem', 'CreateFromPemFile', 'CreateFromEncryptedPem')
    'IO.File' = @('ReadAllTextAsync', 'WriteAllTextAsync', 'ReadAllLinesAsync', 'ReadAllBytesAsync')
}

# Automatic and preference variables 5.1 does not have: reading one there gives $null (an error
# under Set-StrictMode), so `if ($IsWindows)` is false on Windows.
$NewVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle',
    'PSNativeCommandArgumentPassing', 'PSNativeCommandUseErrorActionPreference', 'EnabledExperimentalFeatures')
# As written, scope and all ($global:IsWindows).
$NewVariablesAnyScope = foreach ($name in $NewVariables) { foreach ($scope in '', 'global:', 'script:', 'local:', 'private:') { $scope + $name } }

# [semver] is a 6.0 accelerator for a type 5.1 lacks.
$NewTypes = @('semver', 'System.Management.Automation.SemanticVersion', 'Management.Automation.SemanticVersion')

# Syntax-tree nodes. Type: the Ast classes the rule looks at (exact class names; subclasses are
# listed). Property: a property of the node (a dotted path) that must be true, or, with In, one of
# those values: a cheap filter, since a script has thousands of nodes. Test: a script block for the
# rest (absent: every node that passes the filter is the construct). The first seven are syntax
# 5.1 does not know: its parser rejects the script, or reads something else into it.
$AstRules = @(
    @{ Rule = 'ternary'; Since = '7.0'; Type = 'TernaryExpressionAst'
       Construct = 'ternary operator ?: (TernaryExpressionAst)' }
    @{ Rule = 'pipeline-chain'; Since = '7.0'; Type = 'PipelineChainAst'
       Construct = '&& or || between pipelines (PipelineChainAst)' }
    @{ Rule = 'null-coalescing'; Since = '7.0'; Type = 'BinaryExpressionAst'
       Construct = 'null-coalescing operator ?? (BinaryExpressionAst QuestionQuestion)'
       Property = 'Operator'; In = 'QuestionQuestion' }
    @{ Rule = 'null-coalescing-assignment'; Since = '7.0'; Type = 'AssignmentStatementAst'
       Construct = 'null-coalescing assignment ??= (AssignmentStatementAst QuestionQuestionEquals)'
       Property = 'Operator'; In = 'QuestionQuestionEquals' }
    @{ Rule = 'null-conditional-member'; Since = '7.1'; Type = 'MemberExpressionAst', 'InvokeMemberExpressionAst'
       Construct = 'null-conditional member access ?. (MemberExpressionAst NullConditional)'
       Property = 'NullConditional' }
    @{ Rule = 'null-conditional-index'; Since = '7.1'; Type = 'IndexExpressionAst'
       Construct = 'null-conditional index ?[] (IndexExpressionAst NullConditional)'
       Property = 'NullConditional' }
    @{ Rule = 'clean-block'; Since = '7.3'; Type = 'ScriptBlockAst'
       Construct = 'clean block (ScriptBlockAst CleanBlock)'
       Property = 'CleanBlock' }
    # `command &` runs a pipeline as a job; 5.1 reads a trailing & as an error.
    @{ Rule = 'background-operator'; Since = '6.0'; Type = 'PipelineAst'
       Construct = 'background operator & after a pipeline (PipelineAst Background)'
       Property = 'Background' }
    @{ Rule = 'generic-method-call'; Since = '7.3'; Type = 'InvokeMemberExpressionAst'
       Construct = 'generic method call .Method[type]() (InvokeMemberExpressionAst GenericTypeArguments)'
       Property = 'GenericTypeArguments' }
    @{ Rule = 'enum-underlying-type'; Since = '6.2'; Type = 'TypeDefinitionAst'
       Construct = 'enum with an underlying type (enum E : byte)'
       Property = 'IsEnum'; Test = { param($n) $n.BaseTypes.Count -gt 0 } }
    # 0b1010 and the suffixes u, ul, us, s, y, uy, n (BigInteger): 5.1 has only l and d, so it
    # fails or reads a command name.
    @{ Rule = 'numeric-literal'; Since = '7.0'; Type = 'ConstantExpressionAst'
       Construct = 'binary literal 0b or numeric type suffix u/ul/us/s/y/uy/n'
       Test = { param($n) $n.Extent.Text -match '^(?i)(0b[01]+|(0x[0-9a-f]+|[0-9]+)(u|ul|us|s|y|uy|n)(kb|mb|gb|tb|pb)?)$' } }
    # 6.1 calls a script block given to -replace for each match; 5.1 turns the block into its
    # source text and puts that in, silently.
    @{ Rule = 'replace-scriptblock'; Since = '6.1'; Type = 'BinaryExpressionAst'
       Construct = '-replace with a script block as the substitution'
       Property = 'Operator'; In = 'Ireplace', 'Creplace'
       Test = { param($n)
           $n.Right -is [System.Management.Automation.Language.ArrayLiteralAst] -and
           $n.Right.Elements.Count -eq 2 -and
           $n.Right.Elements[1] -is [System.Management.Automation.Language.ScriptBlockExpressionAst] } }
    # .NET Framework 4.x has no String.Split(string): 5.1 binds Split(params char[]) and splits on
    # every character of the argument, 7 on the whole string. One argument only: with more, other
    # overloads are meant. (The receiver's type is unknown here: a [regex]'s Split('constant')
    # would be reported too.)
    @{ Rule = 'split-on-string'; Since = '6.0 (.NET Core)'; Type = 'InvokeMemberExpressionAst'
       Construct = '.Split() with a string of several characters (5.1 splits on each character)'
       Property = 'Member.Value'; In = 'Split'
       Test = { param($n)
           -not $n.Static -and $null -ne $n.Arguments -and $n.Arguments.Count -eq 1 -and
           $n.Arguments[0] -is [System.Management.Automation.Language.StringConstantExpressionAst] -and
           $n.Arguments[0].Value.Length -gt 1 } }
    # String.Contains(string, StringComparison) and Replace(string, string, StringComparison) are
    # .NET Core 2.0/2.1; in 5.1 the call fails with "Cannot find an overload". Recognised by the
    # comparison argument ([StringComparison]::X or its name), so Regex.Replace(input, with, count)
    # and the like are not taken for it.
    @{ Rule = 'string-comparison-overload'; Since = '6.1 (.NET Core)'; Type = 'InvokeMemberExpressionAst'
       Construct = '.Contains(x, comparison) or .Replace(a, b, comparison): no such overload in .NET Framework'
       Property = 'Member.Value'; In = 'Contains', 'Replace'
       Test = { param($n)
           $at = if ($n.Member.Value -eq 'Contains') { 1 } else { 2 }
           if ($n.Static -or $null -eq $n.Arguments -or $n.Arguments.Count -ne $at + 1) { return $false }
           $comparison = $n.Arguments[$at]
           ($comparison -is [System.Management.Automation.Language.MemberExpressionAst] -and
               $comparison.Expression -is [System.Management.Automation.Language.TypeExpressionAst] -and
               $comparison.Expression.TypeName.Name -match '(^|\.)StringComparison$') -or
           ($comparison -is [System.Management.Automation.Language.StringConstantExpressionAst] -and
               [Enum]::GetNames([StringComparison]) -contains $comparison.Value) } }
    @{ Rule = 'dotnet-core-method'; Since = '6.0 (.NET Core)'; Type = 'InvokeMemberExpressionAst'
       Construct = 'static .NET method that .NET Framework 4.x lacks'
       Property = 'Static'
       Test = { param($n)
           if ($n.Expression -isnot [System.Management.Automation.Language.TypeExpressionAst] -or
               $n.Member -isnot [System.Management.Automation.Language.StringConstantExpressionAst]) { return $false }
           $type = $n.Expression.TypeName.FullName -replace '^System\.', ''
           $DotNetCoreMethods.ContainsKey($type) -and $DotNetCoreMethods[$type] -contains $n.Member.Value } }
    @{ Rule = 'automatic-variable'; Since = '6.0+'; Type = 'VariableExpressionAst'
       Construct = 'automatic variable that 5.1 does not set'
       Property = 'VariablePath.UserPath'; In = $NewVariablesAnyScope }
    @{ Rule = 'type-accelerator'; Since = '6.0'; Type = 'TypeExpressionAst', 'TypeConstraintAst'
       Construct = 'type that 5.1 does not have'
       Property = 'TypeName.FullName'; In = $NewTypes }
    # ActionPreference Break is 7.0; 5.1 refuses it. (-ErrorAction Break: see $ActionParameters.)
    @{ Rule = 'break-action'; Since = '7.0'; Type = 'AssignmentStatementAst'
       Construct = '$...Preference = Break (ActionPreference Break)'
       Property = 'Operator'; In = 'Equals'
       Test = { param($n)
           $n.Left -is [System.Management.Automation.Language.VariableExpressionAst] -and
           $n.Left.VariablePath.UserPath -like '*Preference' -and $n.Right.Extent.Text -match '^[''"]?Break[''"]?$' } }
)

# Cmdlets that 5.1 does not have at all.
$NewCommands = @{
    'Get-Error' = '7.0'; 'Test-Json' = '6.1'; 'Join-String' = '6.2'; 'Get-Uptime' = '6.0'
    'Remove-Alias' = '6.0'; 'Remove-Service' = '6.0'; 'ConvertFrom-Markdown' = '6.1'
    'Show-Markdown' = '6.1'; 'Get-MarkdownOption' = '6.1'; 'Set-MarkdownOption' = '6.1'
    'Get-ExperimentalFeature' = '6.2'; 'Enable-ExperimentalFeature' = '6.2'
    'Disable-ExperimentalFeature' = '6.2'; 'Get-PSSubsystem' = '7.3'; 'Get-SecureRandom' = '7.4'
    'ConvertTo-CliXml' = '7.5'; 'ConvertFrom-CliXml' = '7.5'; 'Start-ThreadJob' = '7.0 (in the box)'
}

# Parameters that 5.1's version of a cmdlet does not have: 5.1 stops with "A parameter cannot be
# found that matches parameter name". Only parameters the PowerShell running this has can be
# found (7.6 here; Join-Path -Extension, 7.7, not yet). Found by binding each call with PowerShell 7's
# StaticParameterBinder, so abbreviations (-AsHash), aliases (gc, %) and positional arguments
# count: `Join-Path a b c` binds c to AdditionalChildPath, 5.1 takes only two paths.
$NewParameters = @{
    'ForEach-Object'      = @{ Parallel = '7.0'; ThrottleLimit = '7.0'; TimeoutSeconds = '7.0'; AsJob = '7.0'; UseNewRunspace = '7.1' }
    'ConvertFrom-Json'    = @{ AsHashtable = '6.0'; Depth = '6.2'; NoEnumerate = '7.0'; DateKind = '7.5' }
    'ConvertTo-Json'      = @{ AsArray = '6.0'; EnumsAsStrings = '6.2'; EscapeHandling = '6.2' }
    'Join-Path'           = @{ AdditionalChildPath = '6.0' }
    'Get-Content'         = @{ AsByteStream = '6.0' }
    'Set-Content'         = @{ AsByteStream = '6.0' }
    'Add-Content'         = @{ AsByteStream = '6.0' }
    'Get-Date'            = @{ AsUTC = '7.1'; UnixTimeSeconds = '7.1' }
    'Split-Path'          = @{ LeafBase = '6.0'; Extension = '6.0' }
    'Select-String'       = @{ Raw = '7.0'; NoEmphasis = '7.0'; Culture = '7.0' }
    'Start-Transcript'    = @{ UseMinimalHeader = '6.2' }
    'Out-String'          = @{ NoNewline = '6.0' }
    'Sort-Object'         = @{ Top = '6.0'; Bottom = '6.0'; Stable = '6.2' }
    'Select-Object'       = @{ SkipIndex = '6.0' }
    'Where-Object'        = @{ Not = '6.1' }
    'Get-ChildItem'       = @{ FollowSymlink = '6.0' }
    'Measure-Object'      = @{ AllStats = '6.0'; StandardDeviation = '6.0' }
    'Get-Random'          = @{ Shuffle = '7.0' }
    'Tee-Object'          = @{ Encoding = '7.2' }
    'Start-Sleep'         = @{ Duration = '7.3' }
    # Not TargetName: 7 gives it the alias ComputerName, the name 5.1 has.
    'Test-Connection'     = @{ TcpPort = '6.0'; Traceroute = '6.0'; MtuSize = '6.0'; Repeat = '6.0'; Ping = '6.0' }
    'Export-Csv'          = @{ UseQuotes = '7.0'; QuoteFields = '7.0' }
    'ConvertTo-Csv'       = @{ UseQuotes = '7.0'; QuoteFields = '7.0' }
    'Invoke-WebRequest'   = @{ SkipCertificateCheck = '6.0'; SslProtocol = '6.0'; Authentication = '6.0'; Token = '6.0'
                               SkipHeaderValidation = '6.0'; SkipHttpErrorCheck = '7.0'
                               Resume = '6.1'; Form = '6.1'; NoProxy = '6.0'; MaximumRetryCount = '6.1'; RetryIntervalSec = '6.1'
                               AllowUnencryptedAuthentication = '6.0'; HttpVersion = '7.3'; ConnectionTimeoutSeconds = '7.4' }
    'Invoke-RestMethod'   = @{ SkipCertificateCheck = '6.0'; SslProtocol = '6.0'; Authentication = '6.0'; Token = '6.0'
                               SkipHeaderValidation = '6.0'; SkipHttpErrorCheck = '7.0'; StatusCodeVariable = '7.0'
                               ResponseHeadersVariable = '6.0'; FollowRelLink = '6.0'; Resume = '6.1'; Form = '6.1'
                               NoProxy = '6.0'; MaximumRetryCount = '6.1'; RetryIntervalSec = '6.1'
                               AllowUnencryptedAuthentication = '6.0'; HttpVersion = '7.3'; ConnectionTimeoutSeconds = '7.4' }
    'Invoke-Command'      = @{ HostName = '6.0'; SSHTransport = '6.0'; KeyFilePath = '6.0'; UserName = '6.0'; Subsystem = '6.1'; SSHConnection = '6.0' }
    'New-PSSession'       = @{ HostName = '6.0'; SSHTransport = '6.0'; KeyFilePath = '6.0'; UserName = '6.0'; Subsystem = '6.1'; SSHConnection = '6.0' }
    'Enter-PSSession'     = @{ HostName = '6.0'; SSHTransport = '6.0'; KeyFilePath = '6.0'; UserName = '6.0'; Subsystem = '6.1' }
}

# A common parameter every command accepts in 7.4 and none in 5.1, and its aliases. Abbreviations
# are found with the binder, when the command resolves here.
$NewCommonParameters = @{ ProgressAction = '7.4' }
$CommonParameterNames = @('proga')

# -Encoding values 5.1 accepts (FileSystemCmdletProviderEncoding; Out-File and Export-Csv take a
# subset). utf8BOM, utf8NoBOM, ansi, latin1 and code page numbers are 6.0 and later: 5.1 refuses
# them, so a script cannot write a file on 5.1.
$Encodings51 = @('Unknown', 'String', 'Unicode', 'Byte', 'BigEndianUnicode', 'UTF8', 'UTF7', 'UTF32',
    'Ascii', 'Default', 'Oem', 'BigEndianUTF32')

# Parameters that take an ActionPreference, which 5.1 refuses to be Break.
$ActionParameters = @('ErrorAction', 'ea', 'WarningAction', 'wa', 'InformationAction', 'infa')

# Rules checked on tokens and bytes rather than on the tree, listed for -ListRules.
$OtherRules = @(
    @{ Rule = 'new-command'; Construct = 'cmdlet that 5.1 does not have'; Since = '6.0+' }
    @{ Rule = 'new-parameter'; Construct = 'cmdlet parameter that 5.1 does not have'; Since = '6.0+' }
    @{ Rule = 'new-common-parameter'; Construct = 'common parameter that 5.1 does not have'; Since = '7.4' }
    @{ Rule = 'encoding-value'; Construct = '-Encoding value that 5.1 does not accept'; Since = '6.0' }
    # 7.0 lets a line start with | to continue the pipeline of the line before; 5.1 reports
    # "An empty pipe element is not allowed".
    @{ Rule = 'leading-pipe'; Construct = 'line starting with | to continue a pipeline'; Since = '7.0' }
    # `e (escape) and `u{XXXX} are 6.0 escapes; 5.1 reads them as the letters e and u{XXXX}.
    @{ Rule = 'escape-sequence'; Construct = 'escape sequence `e or `u{...} in a string'; Since = '6.0' }
    # 5.1 reads a file without a byte order mark in the ANSI code page, so any non-ASCII byte in a
    # BOM-less UTF-8 file turns into other characters there (7 reads UTF-8).
    @{ Rule = 'non-ascii-without-bom'; Construct = 'non-ASCII text in a file without a byte order mark'; Since = '6.0' }
)

# ---- Checks --------------------------------------------------------------------------------------

# Rules by Ast class name, for the walk over every node of every script.
$rulesByType = @{}
foreach ($rule in $AstRules) {
    foreach ($type in $rule.Type) {
        if (-not $rulesByType.ContainsKey($type)) { $rulesByType[$type] = [System.Collections.Generic.List[object]]::new() }
        $rulesByType[$type].Add($rule)
    }
    if ($rule.ContainsKey('Property')) { $rule.Path = $rule.Property -split '\.' }
}

# Ast.FindAll calls its predicate for every node, and a PowerShell script block as predicate costs
# more than everything else here together. So the predicate "is of a class some rule looks at" is
# built as a LINQ expression and compiled to a .NET delegate (milliseconds; Add-Type would start a
# compiler for seconds).
$interesting = [System.Collections.Generic.HashSet[string]]::new([string[]] (@($rulesByType.Keys) + 'CommandAst'))
$E = [System.Linq.Expressions.Expression]
$nodeParameter = $E::Parameter([System.Management.Automation.Language.Ast], 'node')
$nodeClass = $E::Property($E::Call($nodeParameter, [object].GetMethod('GetType')), 'Name')
$isInteresting = $E::Lambda([Func[System.Management.Automation.Language.Ast, bool]],
    $E::Call($E::Constant($interesting), $interesting.GetType().GetMethod('Contains'), $nodeClass),
    $nodeParameter).Compile()

# A finding at $extent; its text is the first line of $textExtent (default: $extent), so a finding
# about an argument can show the whole command.
function New-Finding($extent, [string] $rule, [string] $construct, [string] $since, $textExtent = $extent) {
    $text = ($textExtent.Text -split "`r?`n")[0]
    if ($text.Length -gt 100) { $text = $text.Substring(0, 100) + '...' }
    [ordered]@{
        line = $extent.StartLineNumber; column = $extent.StartColumnNumber
        rule = $rule; construct = $construct; since = $since; text = $text
    }
}

# The value of the parameter at $index (-Name:value or -Name value) when it is a constant, as a
# string; $null when it is computed or absent.
function Get-ConstantArgument($command, [int] $index) {
    $elements = $command.CommandElements
    $argument = $elements[$index].Argument
    if ($null -eq $argument -and $index + 1 -lt $elements.Count) { $argument = $elements[$index + 1] }
    if ($argument -is [System.Management.Automation.Language.ConstantExpressionAst]) { [string] $argument.Value } else { $null }
}

# Alias to command name (% to ForEach-Object), looked up once per name. Only aliases this
# PowerShell defines are known: on Linux that leaves out ls, cat, sort and others that 5.1 has.
$aliases = @{}
function Resolve-Alias([string] $name) {
    if (-not $aliases.ContainsKey($name)) {
        $alias = Get-Alias -Name ([WildcardPattern]::Escape($name)) -ErrorAction Ignore
        $aliases[$name] = if ($null -ne $alias) { $alias.ResolvedCommandName } else { $name }
    }
    $aliases[$name]
}

function Test-Command($command) {
    $name = $command.GetCommandName()
    if ($null -eq $name) { return }
    # Module-qualified (Microsoft.PowerShell.Utility\ConvertFrom-Json) and aliases (gc, %).
    $name = ($name -split '\\')[-1]
    $resolved = $aliases[$name]
    $name = if ($null -ne $resolved) { $resolved } else { Resolve-Alias $name }

    if ($NewCommands.ContainsKey($name)) {
        New-Finding $command.Extent 'new-command' "$name (cmdlet that 5.1 does not have)" $NewCommands[$name]
    }

    # Binding costs milliseconds a call, so only a call that may use a new parameter is bound: one
    # with a parameter name that abbreviates (or is) a new parameter of this cmdlet or a new common
    # parameter, or, for Join-Path's AdditionalChildPath, which takes the remaining arguments, one
    # with more than two arguments (named or not: a safe overestimate of the unnamed ones).
    $newHere = $NewParameters[$name]
    if ($null -eq $newHere) { $newHere = @{} }
    $bind = $false
    $arguments = 0
    $elements = $command.CommandElements
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $element = $elements[$i]
        if ($element -isnot [System.Management.Automation.Language.CommandParameterAst]) { $arguments++; continue }
        $written = $element.ParameterName
        if ($written.Length -eq 0) { continue }
        foreach ($new in @($newHere.Keys) + @($NewCommonParameters.Keys)) {
            $bind = $bind -or $new.StartsWith($written, 'OrdinalIgnoreCase')
        }
        $bind = $bind -or $CommonParameterNames -contains $written
        $isEncoding = $written.Length -ge 3 -and 'Encoding'.StartsWith($written, 'OrdinalIgnoreCase')
        $isAction = $ActionParameters -contains $written
        if (-not ($isEncoding -or $isAction)) { continue }
        $value = Get-ConstantArgument $command $i
        if ($null -eq $value) { continue }
        if ($isEncoding -and $Encodings51 -notcontains $value) {
            New-Finding $element.Extent 'encoding-value' "-Encoding $value (5.1 accepts only $($Encodings51 -join ', '))" '6.0' $command.Extent
        }
        if ($isAction -and $value -eq 'Break') {
            New-Finding $element.Extent 'break-action' "-$written Break" '7.0' $command.Extent
        }
    }
    if (-not $bind -and -not ($name -eq 'Join-Path' -and $arguments -gt 2)) { return }
    $binding = [System.Management.Automation.Language.StaticParameterBinder]::BindCommand($command, $true)
    foreach ($bound in $binding.BoundParameters.Keys) {
        if ($newHere.ContainsKey($bound)) {
            $where = $binding.BoundParameters[$bound].Value
            $extent = if ($null -ne $where) { $where.Extent } else { $command.Extent }
            New-Finding $extent 'new-parameter' "$name -$bound (parameter that 5.1's $name does not have)" $newHere[$bound] $command.Extent
        }
        elseif ($NewCommonParameters.ContainsKey($bound)) {
            New-Finding $command.Extent 'new-common-parameter' "-$bound (common parameter that 5.1 does not have)" $NewCommonParameters[$bound]
        }
    }
}

# `e and `u{ in a token whose text PowerShell expands (double-quoted strings, here-strings and bare
# words). Matching backtick pairs left to right skips an escaped backtick (``e is a backtick and e).
$ExpandableString = [System.Management.Automation.Language.TokenKind]::StringExpandable
$ExpandableHereString = [System.Management.Automation.Language.TokenKind]::HereStringExpandable
$BareWord = [System.Management.Automation.Language.TokenKind]::Generic
$Pipe = [System.Management.Automation.Language.TokenKind]::Pipe
$NewLine = [System.Management.Automation.Language.TokenKind]::NewLine
$Comment = [System.Management.Automation.Language.TokenKind]::Comment
$LineContinuation = [System.Management.Automation.Language.TokenKind]::LineContinuation
function Test-EscapeToken($token) {
    if ($token.Kind -eq $ExpandableString -or $token.Kind -eq $ExpandableHereString -or $token.Kind -eq $BareWord) {
        foreach ($match in [regex]::Matches($token.Text, '`(u\{|.)', 'Singleline')) {
            if ($match.Value -ceq '`e' -or $match.Value -eq '`u{') {
                New-Finding $token.Extent 'escape-sequence' "escape $($match.Value) (5.1 reads the letter)" '6.0'
            }
        }
    }
    if ($token -is [System.Management.Automation.Language.StringExpandableToken] -and $null -ne $token.NestedTokens) {
        foreach ($nested in $token.NestedTokens) { Test-EscapeToken $nested }
    }
}

function Get-StringTokens($tokens) {
    foreach ($token in $tokens) {
        if ($token.Kind -in 'StringLiteral', 'StringExpandable', 'HereStringLiteral', 'HereStringExpandable') {
            [ordered]@{ token = [string] $token.Kind; start = $token.Extent.StartOffset; end = $token.Extent.EndOffset; value = $token.Value }
        }
        if ($token -is [System.Management.Automation.Language.StringExpandableToken] -and $null -ne $token.NestedTokens) {
            Get-StringTokens $token.NestedTokens
        }
    }
}

# Adds to $findings what the script at $file (parsed into $ast and $tokens) uses that 5.1 lacks.
function Find-Newer([string] $file, $ast, $tokens, $findings) {
    # Tight loops without a function call per node or token: a script has thousands of each.
    foreach ($node in $ast.FindAll($isInteresting, $true)) {
        $typeName = $node.GetType().Name
        $rules = $rulesByType[$typeName]
        if ($null -ne $rules) {
            foreach ($rule in $rules) {
                $path = $rule['Path']
                if ($null -ne $path) {
                    # A path through a member that is not there (a dynamic $x.$name) is no match.
                    $value = $node
                    try { foreach ($part in $path) { $value = $value.$part } } catch { $value = $null }
                    $in = $rule['In']
                    if (($null -eq $in -and -not $value) -or ($null -ne $in -and $in -notcontains $value)) { continue }
                }
                $test = $rule['Test']
                if ($null -eq $test -or (& $test $node)) {
                    $findings.Add((New-Finding $node.Extent $rule.Rule $rule.Construct $rule.Since))
                }
            }
        }
        if ($typeName -eq 'CommandAst') {
            foreach ($finding in @(Test-Command $node)) { $findings.Add($finding) }
        }
    }

    $previous = $null
    foreach ($token in $tokens) {
        $kind = $token.Kind
        if (($kind -eq $ExpandableString -or $kind -eq $ExpandableHereString -or $kind -eq $BareWord) -and $token.Text.Contains('`')) {
            foreach ($finding in @(Test-EscapeToken $token)) { $findings.Add($finding) }
        }
        elseif ($kind -eq $Pipe -and $null -ne $previous -and $previous.Kind -eq $NewLine) {
            $findings.Add((New-Finding $token.Extent 'leading-pipe' 'line starting with | (5.1: empty pipe element)' '7.0'))
        }
        if ($kind -ne $Comment -and $kind -ne $LineContinuation) { $previous = $token }
    }

    $bytes = [System.IO.File]::ReadAllBytes($file)
    $bom = ($bytes.Length -ge 3 -and $bytes[0] -eq 0xEF -and $bytes[1] -eq 0xBB -and $bytes[2] -eq 0xBF) -or
        ($bytes.Length -ge 2 -and (($bytes[0] -eq 0xFF -and $bytes[1] -eq 0xFE) -or ($bytes[0] -eq 0xFE -and $bytes[1] -eq 0xFF)))
    if (-not $bom) {
        $at = [Array]::FindIndex($bytes, [Predicate[byte]] { param($b) $b -ge 0x80 })
        if ($at -ge 0) {
            $line = 1 + @($bytes[0..$at] | Where-Object { $_ -eq 0x0A }).Count
            $findings.Add([ordered]@{
                    line = $line; column = 0; rule = 'non-ascii-without-bom'; since = '6.0'; text = ''
                    construct = ("non-ASCII byte 0x{0:X2} at byte {1} and no byte order mark: 5.1 reads the file as ANSI" -f $bytes[$at], $at)
                })
        }
    }
}

function Test-File([string] $file) {
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref] $tokens, [ref] $errors)

    $findings = [System.Collections.Generic.List[object]]::new()
    if (-not $ParseOnly) { $null = Find-Newer $file $ast $tokens $findings }

    $report = [ordered]@{
        kind = 'file'; path = $file
        length = $ast.Extent.EndOffset
        parseErrors = @($errors | ForEach-Object {
                [ordered]@{ line = $_.Extent.StartLineNumber; column = $_.Extent.StartColumnNumber; id = $_.ErrorId; message = $_.Message }
            })
        findings = @($findings)
    }
    if ($Strings) { $report.strings = @(Get-StringTokens $tokens) }
    $report
}

function Write-JsonLine($object) {
    # ASCII-only output: no console encoding can garble a value on its way to the test.
    [Console]::Out.WriteLine((ConvertTo-Json -InputObject $object -Depth 5 -Compress -EscapeHandling EscapeNonAscii))
}

if ($ListRules) {
    # One use of each entry of the tables behind a rule, so a test can check that every entry is
    # found (a misspelt name, or a parameter this PowerShell lacks, never would be).
    $examples = @{
        'new-command'          = @($NewCommands.Keys)
        'new-parameter'        = @(foreach ($command in $NewParameters.Keys) { foreach ($parameter in $NewParameters[$command].Keys) { "$command -$parameter x" } })
        'new-common-parameter' = @(foreach ($parameter in @($NewCommonParameters.Keys) + $CommonParameterNames) { "Get-Item -$parameter x" })
        'automatic-variable'   = @(foreach ($name in $NewVariablesAnyScope) { "`$$name" })
        'type-accelerator'     = @(foreach ($type in $NewTypes) { "[$type] 1" })
        'dotnet-core-method'   = @(foreach ($type in $DotNetCoreMethods.Keys) { foreach ($method in $DotNetCoreMethods[$type]) { "[$type]::$method()" } })
    }
    foreach ($rule in @($AstRules) + @($OtherRules)) {
        Write-JsonLine ([ordered]@{
                kind = 'rule'; rule = $rule.Rule; construct = $rule.Construct; since = $rule.Since
                examples = @($examples[$rule.Rule] | Where-Object { $_ } | Sort-Object)
            })
    }
}
foreach ($file in $Path) {
    Write-JsonLine (Test-File (Resolve-Path -LiteralPath $file).ProviderPath)
}
