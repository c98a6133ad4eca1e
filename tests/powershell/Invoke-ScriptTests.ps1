<#
    Runs Scripts.Tests.ps1 over the cases in -CasesFile (written by tests/powershell.rs) and ends
    with one line "PESTER <passed> passed <failed> failed <skipped> skipped"; exit 1 on a failure.

    By hand, with PowerShell 7 and Pester 5 or later:
      cargo test --test powershell        (writes the cases, runs this in two processes)
#>
param([Parameter(Mandatory)] [string] $CasesFile)

$configuration = New-PesterConfiguration
$configuration.Run.Container = New-PesterContainer -Path (Join-Path $PSScriptRoot 'Scripts.Tests.ps1') -Data @{ CasesFile = $CasesFile }
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Normal'
$result = Invoke-Pester -Configuration $configuration
'PESTER {0} passed {1} failed {2} skipped' -f $result.PassedCount, $result.FailedCount, $result.SkippedCount
if ($result.FailedCount -gt 0 -or $result.Result -ne 'Passed') { exit 1 }
