# Test-ScriptSyntax.ps1 must report every line marked "expect:" with the rules named there, and
# nothing else (tests/powershell_syntax.rs). Each line uses something Windows PowerShell 5.1 lacks.
# Parsed only, never run. Saved without a byte order mark on purpose (rule non-ascii-without-bom).
$a = $true ? 1 : 2  # expect: ternary
Get-Item x && Get-Item y  # expect: pipeline-chain
Get-Item x || Get-Item y  # expect: pipeline-chain
$b = $null ?? 'default'  # expect: null-coalescing
$c ??= 'default'  # expect: null-coalescing-assignment
$d = ${a}?.Length  # expect: null-conditional-member
$d = ${a}?.ToString()  # expect: null-conditional-member
$e = ${a}?[0]  # expect: null-conditional-index
function Use-Clean { process { } clean { } }  # expect: clean-block
Get-Item x &  # expect: background-operator
$f = [Array]::Empty[int]()  # expect: generic-method-call
enum Small : byte { One }  # expect: enum-underlying-type
$g = 0b1010 + 5u + 7uy + 3n  # expect: numeric-literal
$h = 'abc' -replace 'b', { $_.Value.ToUpper() }  # expect: replace-scriptblock
$i = 'a, b'.Split(', ')  # expect: split-on-string
$j = 'abc'.Contains('B', [StringComparison]::OrdinalIgnoreCase)  # expect: string-comparison-overload
$j = 'abc'.Replace('B', 'c', [StringComparison]::OrdinalIgnoreCase)  # expect: string-comparison-overload
$j = 'abc'.Contains('B', 'OrdinalIgnoreCase')  # expect: string-comparison-overload
$k = [System.IO.Path]::Join('a', 'b')  # expect: dotnet-core-method
$k = [Convert]::ToHexString([byte[]] (1, 2))  # expect: dotnet-core-method
if ($IsWindows -or $IsLinux -or $global:IsMacOS) { }  # expect: automatic-variable
$l = [semver] '1.0.0'  # expect: type-accelerator
function Use-Semver([semver] $Version) { }  # expect: type-accelerator
Get-Error  # expect: new-command
Test-Json -Json '{}'  # expect: new-command
1..3 | ForEach-Object -Parallel { $_ }  # expect: new-parameter
1..3 | % -Parallel { $_ }  # expect: new-parameter
$n = '{}' | ConvertFrom-Json -AsHashtable  # expect: new-parameter
$n = '{}' | ConvertFrom-Json -AsHash  # expect: new-parameter
ConvertTo-Json -InputObject 1 -AsArray  # expect: new-parameter
ConvertTo-Json -InputObject 'x' -EscapeHandling EscapeNonAscii  # expect: new-parameter
Join-Path a b c  # expect: new-parameter
Join-Path -Path a -ChildPath b -AdditionalChildPath c  # expect: new-parameter
Get-Content -Path x -AsByteStream  # expect: new-parameter
gc x -AsByteStream  # expect: new-parameter
Set-Content -Path x -Value 1 -AsByteStream  # expect: new-parameter
Get-Date -UnixTimeSeconds 0  # expect: new-parameter
Get-Date -AsUTC  # expect: new-parameter
Split-Path -Path x.txt -LeafBase  # expect: new-parameter
Split-Path -Path x.txt -Extension  # expect: new-parameter
Select-String -Path x -Pattern y -Raw  # expect: new-parameter
Invoke-RestMethod -Uri https://example.invalid -SkipCertificateCheck  # expect: new-parameter
Start-Transcript -Path x -UseMinimalHeader  # expect: new-parameter
Out-String -InputObject 1 -NoNewline  # expect: new-parameter
Get-Service -Name x -ProgressAction SilentlyContinue  # expect: new-common-parameter
Set-Content -Path x -Value 1 -Encoding utf8NoBOM  # expect: encoding-value
Out-File -FilePath x -InputObject 1 -Encoding utf8BOM  # expect: encoding-value
Get-Item x -ErrorAction Break  # expect: break-action
$ErrorActionPreference = 'Break'  # expect: break-action
Get-Item x
    | Select-Object Name  # expect: leading-pipe
"`e[0m"  # expect: escape-sequence
"`u{2019}"  # expect: escape-sequence
'Ein Café'  # expect: non-ascii-without-bom
