<#
    Every generated remediate.ps1 and rollback.ps1, run in real PowerShell against the simulated
    Exchange server of SimulatedExchange.psm1, over the option matrix: -WhatIf, -Confirm:$false,
    re-runs, rollbacks, each fault, state changed since the plan, the wrong server.

    The cases come from tests/powershell.rs (cases.json): one per server plan with a script, of
    every example and rule fixture, found by walking hybridtls's --out folders. What a script must
    reach is read from its plan.json (each automatic action's target, before and after), never
    from the script itself.
#>
param([string] $CasesFile)

BeforeDiscovery {
    # The commands the simulation can make fail: each calls Invoke-SimulatedFault (directly or
    # through its connector helpers) with its own name. No kind of step is named here: a new
    # kind's commands get their fault cases once the simulation implements them.
    Import-Module (Join-Path $PSScriptRoot 'SimulatedExchange.psm1') -Force
    $faultable = @(Get-SimulatedFaultableCommand)
    $cases = @(Get-Content -LiteralPath $CasesFile -Raw | ConvertFrom-Json | ForEach-Object {
        $case = @{}
        foreach ($property in $_.PSObject.Properties) { $case[$property.Name] = $property.Value }
        # A collector folder whose server has no script: the collector's case only.
        if ($null -eq $case.ScriptFolder) { return $case }
        $remediate = Join-Path $case.ScriptFolder 'remediate.ps1'
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($remediate, [ref]$tokens, [ref]$errors)
        # The commands that change something, as the script calls them (directly or through
        # Invoke-ExchangeCmdlet -Name '...'): each gets its fault cases.
        $names = @($ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true) | ForEach-Object {
            $_.GetCommandName()
            $elements = $_.CommandElements
            for ($i = 0; $i -lt $elements.Count - 1; $i++) {
                if ($elements[$i] -is [System.Management.Automation.Language.CommandParameterAst] -and $elements[$i].ParameterName -eq 'Name' -and $elements[$i + 1] -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
                    $elements[$i + 1].Value
                }
            }
        } | Sort-Object -Unique)
        # Readers are the Get- commands; the restart has cases of its own.
        $case.Changers = @($names | Where-Object { $_ -in $faultable -and $_ -notlike 'Get-*' -and $_ -ne 'Restart-Service' })
        $case.Readers = @($names | Where-Object { $_ -in $faultable -and $_ -like 'Get-*' })
        $case
    })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'SimulatedExchange.psm1') -Force

    # Runs a generated script; returns its error message ($null when it succeeded). No run may
    # leave a transcript running: everything typed afterwards would be recorded.
    function Invoke-Generated {
        param([string] $Name, [hashtable] $Parameters = @{})
        $path = Join-Path $script:case.ScriptFolder $Name
        $message = $null
        try {
            & $path @Parameters 6>$null 3>$null | Out-Null
        } catch {
            $message = $_.Exception.Message
        }
        $left = $true
        try { Stop-Transcript | Out-Null } catch { $left = $false }
        $left | Should -BeFalse -Because "$Name must stop its transcript on every path"
        return $message
    }

    function Get-PlanActions {
        $plan = Get-Content -LiteralPath (Join-Path $script:case.PlanFolder 'plan.json') -Raw | ConvertFrom-Json
        @($plan.actions | Where-Object { $_.server -eq $script:case.Server -and $_.automatic })
    }

    # The actions that change a value (connector, certificate, store), and the services to restart.
    function Get-ValueActions { @(Get-PlanActions | Where-Object { $null -ne $_.before -or $null -ne $_.after }) }
    function Get-PlannedServices { @(Get-PlanActions | Where-Object { $null -eq $_.before -and $null -eq $_.after } | ForEach-Object { $_.target }) }

    function Get-Value { param($Action) Get-SimulatedValue -Target $Action.target -Probe ([string]$(if ($null -ne $Action.after) { $Action.after } else { $Action.before })) }

    function Assert-PlannedState {
        foreach ($action in Get-ValueActions) {
            Get-Value $action | Should -Be $action.after -Because "$($action.target) must have the planned value"
        }
    }

    function Assert-EachServiceRestartedOnce {
        $restarts = @((Get-SimulatedState).Restarts)
        $services = @(Get-PlannedServices)
        ($restarts | Sort-Object) -join ',' | Should -Be (($services | Sort-Object) -join ',')
        # After all changes: nothing changed once the first restart was made.
        $calls = @((Get-SimulatedState).Calls)
        $firstRestart = [array]::IndexOf($calls, 'Restart-Service')
        if ($firstRestart -ge 0) {
            $changers = @(Get-SimulatedFaultableCommand | Where-Object { $_ -notlike 'Get-*' -and $_ -ne 'Restart-Service' })
            $later = @($calls[$firstRestart..($calls.Count - 1)] | Where-Object { $_ -in $changers })
            $later | Should -BeNullOrEmpty -Because 'services restart after all changes'
        }
    }

    function Get-Transcripts { Get-ChildItem -LiteralPath $script:root -Recurse -Filter 'transcript.txt' | Sort-Object FullName }

    function Get-RollbackParameters {
        $parameters = @{ BackupRoot = $script:root; Confirm = $false }
        # The state before comes back whole only when imported intermediates go too.
        if ((Get-Command (Join-Path $script:case.ScriptFolder 'rollback.ps1')).Parameters.ContainsKey('RemoveImportedIntermediates')) {
            $parameters.RemoveImportedIntermediates = $true
        }
        $parameters
    }
}

Describe '<Name>' -ForEach @($cases | Where-Object { $null -ne $_.ScriptFolder }) {
    BeforeAll { $script:case = $_ }

    BeforeEach {
        Initialize-SimulatedExchange -InputFolder $case.InputFolder -Server $case.Server
        $script:root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        $script:initial = Get-SimulatedSnapshot
        $script:apply = @{ BackupRoot = $script:root; Confirm = $false }
    }

    It 'under -WhatIf changes nothing, restarts nothing, and shows every change and restart' {
        Invoke-Generated 'remediate.ps1' @{ BackupRoot = $root; WhatIf = $true } | Should -BeNullOrEmpty
        Get-SimulatedSnapshot | Should -Be $initial
        (Get-SimulatedState).Restarts | Should -BeNullOrEmpty
        $shown = Get-Content -LiteralPath (Get-Transcripts)[0].FullName -Raw
        foreach ($service in Get-PlannedServices) {
            $shown | Should -BeLike "*What if: Performing the operation `"Restart-Service`" on target `"$service`"*"
        }
        ([regex]::Matches($shown, 'What if: ')).Count | Should -BeGreaterOrEqual ((Get-ValueActions).Count + (Get-PlannedServices).Count)
    }

    It 'with -Confirm:$false reaches the plan and restarts each planned service once, after all changes' {
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Assert-PlannedState
        Assert-EachServiceRestartedOnce
    }

    It 'run again after apply changes nothing and restarts nothing' {
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        $applied = Get-SimulatedSnapshot
        (Get-SimulatedState).Restarts.Clear()
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Get-SimulatedSnapshot | Should -Be $applied
        (Get-SimulatedState).Restarts | Should -BeNullOrEmpty
    }

    It 'rollback after apply restores the state before' {
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Invoke-Generated 'rollback.ps1' (Get-RollbackParameters) | Should -BeNullOrEmpty
        Get-SimulatedSnapshot | Should -Be $initial
    }

    It 'rollback after apply and a re-run restores the state before' {
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Invoke-Generated 'rollback.ps1' (Get-RollbackParameters) | Should -BeNullOrEmpty
        Get-SimulatedSnapshot | Should -Be $initial
    }

    It 'rollback after apply and a -WhatIf run restores the state before' {
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Invoke-Generated 'remediate.ps1' @{ BackupRoot = $root; WhatIf = $true } | Should -BeNullOrEmpty
        Invoke-Generated 'rollback.ps1' (Get-RollbackParameters) | Should -BeNullOrEmpty
        Get-SimulatedSnapshot | Should -Be $initial
    }

    It 'rollback with -RunFolder naming the run that applied the plan restores the state before' {
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        $applyRun = (Get-ChildItem -LiteralPath $root -Directory -Filter 'run-*')[0].FullName
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        $parameters = Get-RollbackParameters
        $parameters.RunFolder = $applyRun
        Invoke-Generated 'rollback.ps1' $parameters | Should -BeNullOrEmpty
        Get-SimulatedSnapshot | Should -Be $initial
    }

    It 'rollback refuses when no run of remediate.ps1 changed anything' {
        Invoke-Generated 'remediate.ps1' @{ BackupRoot = $root; WhatIf = $true } | Should -BeNullOrEmpty
        Invoke-Generated 'rollback.ps1' (Get-RollbackParameters) | Should -BeLike '*No run of remediate.ps1*'
        Get-SimulatedSnapshot | Should -Be $initial
    }

    It 'a failure of <_> stops before any restart, says so, and the next run finishes the job' -ForEach @(
        foreach ($command in $Changers) { foreach ($mode in 'Throw', 'NonTerminating', 'Silent') { "$command/$mode" } }
    ) -AllowNullOrEmptyForEach {
        $command, $mode = $_ -split '/'
        Set-SimulatedFault -Command $command -Mode $mode
        $message = Invoke-Generated 'remediate.ps1' $apply
        # An error names the command; a change that reported none is caught by its read-back.
        $message | Should -Match "^Stopped: .*($command|reads back|still there|is not in Cert|wrote no backup)"
        $message | Should -BeLike '*no service restart*'
        (Get-SimulatedState).Restarts | Should -BeNullOrEmpty
        Set-SimulatedFault -Command $command -Mode None
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Assert-PlannedState
        Assert-EachServiceRestartedOnce
    }

    It 'a failed restart is made by the next run' {
        Set-SimulatedFault -Command 'Restart-Service' -Mode Throw
        Invoke-Generated 'remediate.ps1' $apply | Should -BeLike 'Stopped:*Restart-Service*'
        Assert-PlannedState
        (Get-SimulatedState).Restarts | Should -BeNullOrEmpty
        Set-SimulatedFault -Command 'Restart-Service' -Mode None
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Assert-EachServiceRestartedOnce
    }

    It 'a failure reading <_> refuses before anything changes, and the next run finishes the job' -ForEach @($Readers) -AllowNullOrEmptyForEach {
        Set-SimulatedFault -Command $_ -Mode Throw
        Invoke-Generated 'remediate.ps1' $apply | Should -BeLike "Stopped:*$_*Nothing was changed*"
        Get-SimulatedSnapshot | Should -Be $initial
        (Get-SimulatedState).Restarts | Should -BeNullOrEmpty
        Set-SimulatedFault -Command $_ -Mode None
        Invoke-Generated 'remediate.ps1' $apply | Should -BeNullOrEmpty
        Assert-PlannedState
        Assert-EachServiceRestartedOnce
    }

    It 'tells a certificate whose revocation check fails from an untrusted one' -Skip:$Imports {
        $thumbprint = (Get-PlanActions | ForEach-Object { $_.parameters } | Where-Object { $_.name -eq 'certificate_thumbprint' } | Select-Object -First 1).value
        if ($null -eq $thumbprint) {
            # A plan that only removes a copy keeps the certificate the connectors use.
            $thumbprint = ((Get-Content -LiteralPath (Join-Path $case.ScriptFolder 'remediate.ps1') -Raw) | Select-String -Pattern "Thumbprint = '([0-9A-F]{40})'").Matches[0].Groups[1].Value
        }
        Set-SimulatedCertificateStatus -Thumbprint $thumbprint -Status 'RevocationCheckFailure'
        $revocation = Invoke-Generated 'remediate.ps1' $apply
        $revocation | Should -BeLike "*$thumbprint as RevocationCheckFailure (the revocation list*"
        Set-SimulatedCertificateStatus -Thumbprint $thumbprint -Status 'Untrusted'
        $untrusted = Invoke-Generated 'remediate.ps1' $apply
        $untrusted | Should -BeLike "*$thumbprint as Untrusted (the chain does not reach a trusted root*"
        Get-SimulatedSnapshot | Should -Be $initial
    }

    It 'refuses when the state changed since the plan' {
        $connectorChange = Get-ValueActions | Where-Object { $_.target -notlike 'Cert:*' } | Select-Object -First 1
        if ($null -ne $connectorChange) {
            Set-SimulatedConnectorName -Identity $connectorChange.target -Value '<I>CN=Someone Else CA<S>CN=other.contoso.com'
        } else {
            # No connector to change: the certificate the connectors use went away.
            $kept = ((Get-Content -LiteralPath (Join-Path $case.ScriptFolder 'remediate.ps1') -Raw) | Select-String -Pattern "Thumbprint = '([0-9A-F]{40})'").Matches[0].Groups[1].Value
            Remove-SimulatedCertificate -Store 'My' -Thumbprint $kept
        }
        $changed = Get-SimulatedSnapshot
        Invoke-Generated 'remediate.ps1' $apply | Should -BeLike 'Stopped:*Preflight failed*'
        Get-SimulatedSnapshot | Should -Be $changed
        (Get-SimulatedState).Restarts | Should -BeNullOrEmpty
    }

    It 'checks a new TlsCertificateName as Exchange parses it, before any change' {
        $script = Join-Path $case.ScriptFolder 'remediate.ps1'
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($script, [ref]$null, [ref]$null)
        $check = $ast.Find({ param($node) $node -is [System.Management.Automation.Language.FunctionDefinitionAst] -and $node.Name -eq 'Get-TlsCertificateNameValueProblem' }, $true)
        if ($null -eq $check) {
            # A script that sets no TlsCertificateName has no such check.
            Get-ValueActions | Where-Object { $_.kind -like 'set_*_connector' } | Should -BeNullOrEmpty
            return
        }
        . ([scriptblock]::Create($check.Extent.Text))
        Get-TlsCertificateNameValueProblem -Value '<I>CN=CA, O=Trust<S>CN=mail.contoso.com, O=Contoso' | Should -BeNullOrEmpty
        Get-TlsCertificateNameValueProblem -Value '<s>CN=*.contoso.com' | Should -BeNullOrEmpty
        Get-TlsCertificateNameValueProblem -Value '<I>CN=CA<S>CN=Contoso Mail Gateway, O=Contoso' | Should -BeLike '*is not a domain name*'
        Get-TlsCertificateNameValueProblem -Value '<I>CN=CA<S>O=Contoso Ltd, OU=Mail' | Should -BeLike '*has no CN*'
        Get-TlsCertificateNameValueProblem -Value 'CN=mail.contoso.com' | Should -BeLike '*is not a TlsCertificateName*'
    }

    It 'refuses on another server' {
        $env:COMPUTERNAME = 'OTHER01'
        Invoke-Generated 'remediate.ps1' $apply | Should -BeLike 'Stopped:*Preflight failed*'
        Get-SimulatedSnapshot | Should -Be $initial
    }

    It 'refuses in a shell that is not elevated' {
        Set-SimulatedElevation -Elevated $false
        try {
            Invoke-Generated 'remediate.ps1' $apply | Should -BeLike 'Stopped:*Preflight failed*'
            Get-SimulatedSnapshot | Should -Be $initial
        } finally {
            Set-SimulatedElevation -Elevated $true
        }
    }

    It 'keeps its backups in the current folder when pasted (no $PSScriptRoot), each run in its own folder' {
        $here = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $here | Out-Null
        $pasted = [scriptblock]::Create((Get-Content -LiteralPath (Join-Path $case.ScriptFolder 'remediate.ps1') -Raw))
        Push-Location -LiteralPath $here
        try {
            & $pasted -WhatIf 6>$null | Out-Null
            & $pasted -WhatIf 6>$null | Out-Null
        } finally {
            Pop-Location
        }
        @(Get-ChildItem -LiteralPath (Join-Path $here 'hybridtls-backup') -Directory -Filter 'run-*').Count | Should -Be 2
        Get-SimulatedSnapshot | Should -Be $initial
    }
}

Describe 'the collector on <Name>' -ForEach @($cases | Where-Object { $_.Collected }) {
    BeforeAll { $script:case = $_ }

    It 'collects what plans as the exports do' {
        Initialize-SimulatedExchange -InputFolder $case.InputFolder -Server $case.Server -LogFolder (Join-Path $TestDrive ([guid]::NewGuid().ToString('N')))
        # The input again, with this server's folder written by the collector instead.
        $copy = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        Copy-Item -LiteralPath $case.InputFolder -Destination $copy -Recurse
        $collected = Join-Path $copy ('hybridtls-' + $case.Server)
        Remove-Item -LiteralPath $collected -Recurse
        & $case.Collector -OutputFolder $collected 6>$null | Out-Null
        # ConvertFrom-Json read the evaluation time as a DateTime.
        $now = ([datetime]$case.Now).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")
        $facts = foreach ($folder in $case.InputFolder, $copy) {
            # From inside the folder, so that the files findings name read the same in both.
            Push-Location -LiteralPath $folder
            try {
                $json = & $case.Binary plan . --now $now --format json
                $LASTEXITCODE | Should -Be 0
            } finally {
                Pop-Location
            }
            $plan = $json | ConvertFrom-Json
            [pscustomobject]@{
                HybridFqdn = $plan.hybrid_fqdn.names
                Actions    = $plan.actions | Select-Object server, kind, automatic, target, before, after, resolves
                Findings   = $plan.findings | Select-Object rule, severity, server, object, message, evidence
                # An export the collector failed to write shows only here.
                NotChecked = $plan.not_checked | Select-Object rule, server, object, missing_kind, missing
            } | ConvertTo-Json -Depth 6
        }
        $facts[1] | Should -Be $facts[0]
    }
}

# What the collector copies of the protocol logs (issue 20 point 5): the newest first, up to
# -ProtocolLogMB, the newest even when it alone is larger; only *.LOG; nothing with 0. Run on the
# case whose collector folder holds a copied log; the other files are made here.
Describe 'the collector copies protocol logs' -AllowNullOrEmptyForEach -ForEach @($cases | Where-Object { $_.Collected -and $_.Name -like 'HT055-collected*' }) {
    BeforeAll {
        $script:case = $_
        function Invoke-Collector {
            param([hashtable] $Parameters = @{})
            $output = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
            $warnings = & $script:case.Collector -OutputFolder $output @Parameters 3>&1 6>$null
            [pscustomobject]@{
                # Every file but the exports: what was copied.
                Logs     = @(Get-ChildItem -LiteralPath $output -File | Where-Object { $_.Extension -ne '.json' } | Sort-Object -Property Name | ForEach-Object {
                        '{0} {1}' -f $_.Name, (Get-FileHash -LiteralPath $_.FullName -Algorithm SHA256).Hash
                    })
                Warnings = @($warnings | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object { $_.Message })
            }
        }
        # A file of `Megabytes` MiB in a log folder, last written `HoursAgo`; returns the name the
        # collector gives its copy, with the copy's hash.
        function New-Log {
            param([string] $Service, [string] $Side, [string] $Name, [double] $Megabytes, [int] $HoursAgo)
            $path = Join-Path (Get-SimulatedState).LogPaths["$Service-$Side"] $Name
            $bytes = [byte[]]::new([int]($Megabytes * 1048576))
            [System.Random]::new($HoursAgo).NextBytes($bytes)
            [System.IO.File]::WriteAllBytes($path, $bytes)
            [System.IO.File]::SetLastWriteTimeUtc($path, [datetime]::UtcNow.AddHours(-$HoursAgo))
            '{0}-{1}-{2} {3}' -f $Service, $Side, $Name, (Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash
        }
    }

    BeforeEach {
        Initialize-SimulatedExchange -InputFolder $case.InputFolder -Server $case.Server -LogFolder (Join-Path $TestDrive ([guid]::NewGuid().ToString('N')))
        # The log the case holds, as Exchange is writing it: the newest of its folder, whenever
        # the checkout was made.
        $served = Join-Path (Get-SimulatedState).LogPaths['FrontEnd-Receive'] 'RECV2026112308-1.LOG'
        [System.IO.File]::SetLastWriteTimeUtc($served, [datetime]::UtcNow)
        $script:served = '{0} {1}' -f 'FrontEnd-Receive-RECV2026112308-1.LOG', (Get-FileHash -LiteralPath $served -Algorithm SHA256).Hash
    }

    It 'copies every log of every folder within the default 50 MB, named by its service and side, and nothing else' {
        $older = New-Log -Service FrontEnd -Side Receive -Name 'RECV2026112207-1.LOG' -Megabytes 0.5 -HoursAgo 30
        $send = New-Log -Service FrontEnd -Side Send -Name 'SEND2026112308-1.LOG' -Megabytes 0.25 -HoursAgo 1
        $hubReceive = New-Log -Service Hub -Side Receive -Name 'RECV2026112308-1.LOG' -Megabytes 0.25 -HoursAgo 2
        $hubSend = New-Log -Service Hub -Side Send -Name 'SEND2026112308-1.LOG' -Megabytes 0.25 -HoursAgo 3
        New-Log -Service FrontEnd -Side Receive -Name 'notes.txt' -Megabytes 0.01 -HoursAgo 1 | Out-Null
        $collected = Invoke-Collector
        $collected.Logs | Should -Be @($older, $script:served, $send, $hubReceive, $hubSend | Sort-Object)
    }

    It 'copies the newest logs of a folder first, up to -ProtocolLogMB of each, and none older than one left out' {
        # The served log is the newest of its folder.
        $receive = New-Log -Service FrontEnd -Side Receive -Name 'RECV2026112301-1.LOG' -Megabytes 0.75 -HoursAgo 20
        New-Log -Service FrontEnd -Side Receive -Name 'RECV2026112207-1.LOG' -Megabytes 0.5 -HoursAgo 30 | Out-Null
        New-Log -Service FrontEnd -Side Receive -Name 'RECV2026112123-1.LOG' -Megabytes 0.01 -HoursAgo 40 | Out-Null
        $send = New-Log -Service FrontEnd -Side Send -Name 'SEND2026112308-1.LOG' -Megabytes 0.75 -HoursAgo 1
        New-Log -Service FrontEnd -Side Send -Name 'SEND2026112207-1.LOG' -Megabytes 0.75 -HoursAgo 30 | Out-Null
        $collected = Invoke-Collector -Parameters @{ ProtocolLogMB = 1 }
        $collected.Logs | Should -Be @($receive, $script:served, $send | Sort-Object)
    }

    It 'copies the newest log of a folder even when it alone is larger than -ProtocolLogMB' {
        $large = New-Log -Service FrontEnd -Side Send -Name 'SEND2026112308-1.LOG' -Megabytes 1.5 -HoursAgo 1
        New-Log -Service FrontEnd -Side Send -Name 'SEND2026112207-1.LOG' -Megabytes 0.1 -HoursAgo 30 | Out-Null
        $collected = Invoke-Collector -Parameters @{ ProtocolLogMB = 1 }
        $collected.Logs | Should -Be @($script:served, $large | Sort-Object)
    }

    It 'copies no log with -ProtocolLogMB 0' {
        New-Log -Service FrontEnd -Side Send -Name 'SEND2026112308-1.LOG' -Megabytes 0.1 -HoursAgo 1 | Out-Null
        (Invoke-Collector -Parameters @{ ProtocolLogMB = 0 }).Logs | Should -BeNullOrEmpty
    }

    It 'says how to turn on verbose logging for a hybrid connector that does not log verbosely' {
        # The fixture's connector logs verbosely.
        (Invoke-Collector -Parameters @{ ProtocolLogMB = 0 }).Warnings | Where-Object { $_ -like 'Receive connector*' } | Should -BeNullOrEmpty
        $connector = (Get-SimulatedState).ReceiveConnectors[0]
        $connector | Add-Member -Force -NotePropertyName ProtocolLoggingLevel -NotePropertyValue 'None'
        $warnings = (Invoke-Collector -Parameters @{ ProtocolLogMB = 0 }).Warnings
        $warnings | Should -Contain ("Receive connector '{0}' logs at ProtocolLoggingLevel None: no TLS rows are logged. To log them: Set-ReceiveConnector -Identity '{0}' -ProtocolLoggingLevel Verbose" -f $connector.Identity)
    }
}
