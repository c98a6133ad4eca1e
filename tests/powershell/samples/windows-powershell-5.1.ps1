# Lookalikes of newer-than-5.1.ps1 that Windows PowerShell 5.1 has: Test-ScriptSyntax.ps1 must
# report nothing here (tests/powershell_syntax.rs). Parsed only, never run. Saved with a byte
# order mark, so the non-ASCII text below is read alike by 5.1 and 7: 'Ein Café'.
using namespace System.Text
$a = if ($true) { 1 } else { 2 }
Get-Item x; if ($?) { Get-Item y }
$b = if ($null -eq $x) { 'default' } else { $x }
$c = $a.Length
$c = $a.ToString()
$c = @(1, 2)[0]
$d = 'abc' -replace 'b', 'c'
$e = 'a,b'.Split(',')
$e = 'a, b' -split ', '
$f = 'abc'.Contains('b')
$f = 'abc'.Replace('b', 'c')
$f = ([regex] 'b').Replace('abc', 'c', 1)
$f = $list.Contains('a')
$g = [System.IO.Path]::Combine('a', 'b')
$g = [Convert]::ToBase64String([byte[]] (1, 2))
$h = 10kb + 0x1F + 5l + 1.5d + 1e3 + 0xAB
Join-Path -Path a -ChildPath b
Join-Path a b
Get-Content -Path x -Raw -Encoding UTF8
Get-Content -Path x -Encoding Byte -ReadCount 0
Set-Content -Path x -Value 1 -NoNewline -Encoding utf8
Out-File -FilePath x -InputObject 1 -NoNewline -Encoding ascii
1..3 | ForEach-Object { $_ } | Where-Object { $_ -gt 1 } | Sort-Object -Descending
1..3 | ForEach-Object -Begin { } -Process { $_ } -End { }
$i = '{}' | ConvertFrom-Json
ConvertTo-Json -InputObject 1 -Depth 6 -Compress
Get-Date -Format 'o'
Split-Path -Path x -Leaf
Split-Path -Path x -Parent
Remove-Item -LiteralPath x -Force -WhatIf
New-Item -ItemType Directory -Path x -Force
Start-Transcript -Path x -IncludeInvocationHeader
Get-Item x -ErrorAction Stop
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
class Thing { [string] $Name }
enum Colour { Red }
function Use-Blocks { begin { } process { } end { } }
$j = "tab`t, newline`n, an escaped backtick and e: ``e"
$k = [ordered]@{ A = [pscustomobject]@{ B = 1 } }
& { 'call operator' }
Get-Process |
    Select-Object -Property Name
$l = $env:COMPUTERNAME
[version] $m = '1.0'
Invoke-RestMethod -Uri https://example.invalid -UseBasicParsing
