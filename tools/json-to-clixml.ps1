# Re-exports JSON exports as CLIXML, for the CLIXML fixtures (tests/fixtures/clixml): each file
# is read with ConvertFrom-Json and written with Export-Clixml by PowerShell 7 itself, so the
# object graph (Obj, MS, LST, DT, BA, RefId/TNRef) is what PowerShell writes. RawData becomes a
# byte array (BA, base64) as Export-Clixml writes a certificate's RawData.
# Usage: pwsh -NoProfile -File tools/json-to-clixml.ps1 -From DIR -To DIR
param([Parameter(Mandatory)][string]$From, [Parameter(Mandatory)][string]$To)
$ErrorActionPreference = 'Stop'
New-Item -ItemType Directory -Force -Path $To | Out-Null
foreach ($file in Get-ChildItem -Path $From -Filter *.json) {
    $objects = @(Get-Content -Raw -Path $file.FullName | ConvertFrom-Json)
    foreach ($object in $objects) {
        $raw = $object.PSObject.Properties['RawData']
        if ($raw -and $raw.Value -is [array]) {
            $raw.Value = [byte[]]@($raw.Value)
        }
    }
    $target = Join-Path $To ([IO.Path]::ChangeExtension($file.Name, '.xml'))
    $objects | Export-Clixml -Path $target -Depth 6
}
