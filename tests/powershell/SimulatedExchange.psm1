<#
    A simulated Exchange server for running hybridtls's generated scripts in PowerShell 7.

    The Exchange cmdlets are functions of this module, as the Exchange Management Shell's
    implicit-remoting proxies are: the calling script's $ErrorActionPreference does not reach
    them (PowerShell issue 4568). Cert:\LocalMachine (My, CA, Root) is a table of real
    X509Certificate2 objects built from the exports' RawData, with HasPrivateKey as exported; the
    file system cmdlets the scripts use are shadowed only for Cert:\ paths. Transport services
    have process start times. Its state is read from the exports with ConvertFrom-Json, apart from
    hybridtls's own reader.

    Faults (Set-SimulatedFault) make a cmdlet fail in one of the ways a real server does:
      Throw           a terminating error (what -ErrorAction Stop turns a remote error into)
      NonTerminating  an error that stays non-terminating even under -ErrorAction Stop
                      (PowerShell-Docs issue 1583: -ErrorAction is applied on the server)
      Silent          no error at all, and nothing changed
    and RevocationCheckFailure/Untrusted for a certificate, and a shell that is not elevated.
#>

Set-StrictMode -Version Latest

$script:State = $null

class SimX509Identifier {
    [string] $CertificateIssuer
    [string] $CertificateSubject
    SimX509Identifier([string] $issuer, [string] $subject) {
        $this.CertificateIssuer = $issuer
        $this.CertificateSubject = $subject
    }
    [string] ToString() { return '<I>' + $this.CertificateIssuer + '<S>' + $this.CertificateSubject }
}

# ---- Reading the exports ------------------------------------------------------------------------

function Read-Export {
    param([string] $Path)
    if (-not (Microsoft.PowerShell.Management\Test-Path -LiteralPath $Path)) { return @() }
    # Get-Content detects the BOM (UTF-16LE from 5.1, UTF-8 from the collector); no BOM is UTF-8.
    $json = Microsoft.PowerShell.Management\Get-Content -LiteralPath $Path -Raw
    return @($json | ConvertFrom-Json)
}

function Get-Prop {
    param($Object, [string] $Name)
    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

# TlsCertificateName as PowerShell exports write it: null, '<I>issuer<S>subject', or an object.
function ConvertTo-SimIdentifier {
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [string]) {
        if ($Value -match '^<I>(.*)<S>(.*)$') { return [SimX509Identifier]::new($Matches[1], $Matches[2]) }
        throw "simulation: unreadable TlsCertificateName '$Value'"
    }
    return [SimX509Identifier]::new([string](Get-Prop $Value 'CertificateIssuer'), [string](Get-Prop $Value 'CertificateSubject'))
}

# A name from an ADObjectId as exported: a string, {Name}, or {DistinguishedName}/{Rdn}.
function ConvertTo-SimName {
    param($Value)
    if ($null -eq $Value) { return $null }
    if ($Value -is [string]) {
        if ($Value -match '^CN=([^,]+)') { return $Matches[1] }
        return ($Value -split '\\')[-1]
    }
    foreach ($name in 'Name', 'DistinguishedName') {
        $text = Get-Prop $Value $name
        if ($text -is [string] -and $text -ne '') { return (ConvertTo-SimName $text) }
    }
    $rdn = Get-Prop $Value 'Rdn'
    if ($rdn -is [string]) { return ($rdn -replace '^CN=', '') }
    return [string](Get-Prop $rdn 'UnescapedName')
}

# A date as ConvertTo-Json writes it: \/Date(ms)\/ in 5.1, ISO 8601 (read as a DateTime) in 7.
function ConvertTo-SimDate {
    param($Value)
    if ($Value -is [datetime]) { return $Value }
    if ([string]$Value -match 'Date\((-?\d+)') { return [DateTimeOffset]::FromUnixTimeMilliseconds([long]$Matches[1]).LocalDateTime }
    return [datetime]::Parse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture)
}

function ConvertTo-SimBytes {
    param($RawData)
    if ($RawData -is [string]) { return [Convert]::FromBase64String($RawData) }
    return [byte[]]@($RawData | ForEach-Object { [byte]$_ })
}

$script:StatusNames = @{ 0 = 'Unknown'; 1 = 'Valid'; 2 = 'Revoked'; 3 = 'DateInvalid'; 4 = 'Untrusted'; 5 = 'Invalid'; 6 = 'RevocationCheckFailure'; 7 = 'PendingRequest' }
$script:ServiceFlags = [ordered]@{ IMAP = 1; POP = 2; UM = 4; IIS = 8; SMTP = 16; Federation = 32; UMCallRouter = 64 }

function ConvertTo-ServicesText {
    param($Value)
    if ($null -eq $Value) { return 'None' }
    if ($Value -is [string]) { return $Value }
    $names = foreach ($flag in $script:ServiceFlags.GetEnumerator()) { if (([int]$Value -band $flag.Value) -ne 0) { $flag.Key } }
    if ($null -eq $names) { return 'None' }
    return (@($names) -join ', ')
}

function New-StoreEntry {
    param([byte[]] $Bytes, [bool] $HasPrivateKey)
    $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($Bytes)
    return [pscustomobject]@{ Certificate = $certificate; HasPrivateKey = $HasPrivateKey; FriendlyName = '' }
}

<#
    .SYNOPSIS
    Defines the command -Name in the global scope, where the collector looks for it with
    Get-Command, or removes it when -Body is $null: a command the server lacks, as a server
    whose exports hold no output of it. (Remove-Item on function:global: removes nothing from
    inside a module; Function:\ does.)
#>
function Set-SimulatedCommand {
    param([Parameter(Mandatory)] [string] $Name, [scriptblock] $Body)
    if ($null -ne $Body) {
        Microsoft.PowerShell.Management\Set-Item -Path ('function:global:' + $Name) -Value $Body
    } else {
        Microsoft.PowerShell.Management\Remove-Item -Path ('Function:\' + $Name) -ErrorAction SilentlyContinue
    }
}

<# .SYNOPSIS Sets value -Name of HKLM key -Key (without 'HKLM:\') to -Data; $null is a value not set. #>
function Set-SimRegistryValue {
    param([Parameter(Mandatory)] [hashtable] $Registry, [Parameter(Mandatory)] [string] $Key, [Parameter(Mandatory)] [string] $Name, $Data)
    if ($null -eq $Data) { return }
    if (-not $Registry.ContainsKey($Key)) { $Registry[$Key] = @{} }
    $Registry[$Key][$Name] = $Data
}

<#
    .SYNOPSIS
    Builds the server from the exports in $InputFolder (a collector folder hybridtls-<Server>
    inside it when there is one, else the hand exports at its top).
#>
function Initialize-SimulatedExchange {
    param([Parameter(Mandatory)] [string] $InputFolder, [Parameter(Mandatory)] [string] $Server, [string] $LogFolder)
    $folder = Join-Path -Path $InputFolder -ChildPath ('hybridtls-' + $Server)
    if (-not (Microsoft.PowerShell.Management\Test-Path -LiteralPath $folder)) { $folder = $InputFolder }
    $now = [datetime]::Now
    $state = [pscustomobject]@{
        Server             = $Server
        Role               = 'Mailbox'
        Version            = 'Version 15.2 (Build 1544.4)'
        Stores             = @{ My = [ordered]@{}; CA = [ordered]@{}; Root = [ordered]@{} }
        ExchangeMetadata   = @{}
        ReceiveConnectors  = New-Object System.Collections.Generic.List[object]
        SendConnectors     = New-Object System.Collections.Generic.List[object]
        Services           = [ordered]@{}
        Restarts           = New-Object System.Collections.Generic.List[string]
        Calls              = New-Object System.Collections.Generic.List[string]
        Faults             = @{}
        CertificateStatus  = @{}
        LastTime           = $now
        Elevated           = $true
        InitialMy          = $null
        Fqdn               = $null
        AuthConfig         = @()
        HybridConfiguration = @()
        TransportServices  = @()
        Events             = @()
        CipherSuites       = @()
        # HKLM keys (without 'HKLM:\') and their values, as the collector reads them.
        Registry           = @{}
        # The transport services' protocol log folders, by service and side ('FrontEnd-Receive').
        LogPaths           = @{}
    }
    foreach ($record in (Read-Export (Join-Path $folder 'server.json'))) {
        $state.Role = [string](Get-Prop $record 'ServerRole')
        $state.Version = [string](Get-Prop $record 'AdminDisplayVersion')
        # The registry values the collector recorded (null: not set), typed as they were written
        # (a DWORD as a number, EnableEccCertificateSupport as the string it is set as).
        foreach ($value in @(
                @('SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot', 'DisableRootAutoUpdate'),
                @('SOFTWARE\Microsoft\ExchangeServer\v15\Diagnostics', 'EnableEccCertificateSupport'))) {
            Set-SimRegistryValue -Registry $state.Registry -Key $value[0] -Name $value[1] -Data (Get-Prop $record $value[1])
        }
    }
    foreach ($record in (Read-Export (Join-Path $folder 'exchange-certificates.json'))) {
        $thumbprint = ([string](Get-Prop $record 'Thumbprint')).ToUpperInvariant()
        $status = Get-Prop $record 'Status'
        if ($null -ne $status -and $status -isnot [string]) { $status = $script:StatusNames[[int]$status] }
        $state.ExchangeMetadata[$thumbprint] = @{ Status = $status; Services = ConvertTo-ServicesText (Get-Prop $record 'Services'); Record = $record }
        $raw = Get-Prop $record 'RawData'
        $hasKey = [bool](Get-Prop $record 'HasPrivateKey')
        if ($null -ne $raw) {
            $state.Stores.My[$thumbprint] = New-StoreEntry -Bytes (ConvertTo-SimBytes $raw) -HasPrivateKey $hasKey
        } else {
            # A hand export without RawData: the store holds what the export tells of it.
            $state.Stores.My[$thumbprint] = [pscustomobject]@{
                Certificate   = [pscustomobject]@{
                    Thumbprint = $thumbprint
                    Subject    = [string](Get-Prop $record 'Subject')
                    Issuer     = [string](Get-Prop $record 'Issuer')
                    NotBefore  = ConvertTo-SimDate (Get-Prop $record 'NotBefore')
                    NotAfter   = ConvertTo-SimDate (Get-Prop $record 'NotAfter')
                    RawData    = $null
                }
                HasPrivateKey = $hasKey
                FriendlyName  = [string](Get-Prop $record 'FriendlyName')
            }
        }
    }
    foreach ($store in 'My', 'CA', 'Root') {
        $listing = @(Read-Export (Join-Path $folder "store-$store.json"))
        if ($listing.Count -gt 0 -and $store -eq 'My') { $state.Stores.My = [ordered]@{} }
        foreach ($record in $listing) {
            $thumbprint = ([string](Get-Prop $record 'Thumbprint')).ToUpperInvariant()
            $state.Stores[$store][$thumbprint] = New-StoreEntry -Bytes (ConvertTo-SimBytes (Get-Prop $record 'RawData')) -HasPrivateKey ([bool](Get-Prop $record 'HasPrivateKey'))
            $state.Stores[$store][$thumbprint].FriendlyName = [string](Get-Prop $record 'FriendlyName')
        }
    }
    # Connectors changed long before the services last started.
    $longAgo = $now.AddDays(-30)
    foreach ($record in (Read-Export (Join-Path $folder 'receive-connectors.json'))) {
        $name = [string](Get-Prop $record 'Name')
        # Every exported property stays (the collector writes them again); Identity is what the
        # Exchange Management Shell prints, <SERVER>\<Name>.
        $connector = $record.PSObject.Copy()
        # The shell gives ProtocolLoggingLevel as its enum (None 0, Verbose 1), which a JSON
        # export holds as the number.
        $logging = Get-Prop $record 'ProtocolLoggingLevel'
        if ($logging -is [long] -or $logging -is [int]) { $logging = @('None', 'Verbose')[$logging] }
        $connector | Add-Member -Force -NotePropertyMembers ([ordered]@{
                Identity             = ('{0}\{1}' -f $Server, $name)
                TlsCertificateName   = ConvertTo-SimIdentifier (Get-Prop $record 'TlsCertificateName')
                ProtocolLoggingLevel = $logging
                WhenChanged          = $longAgo
            })
        $state.ReceiveConnectors.Add($connector)
    }
    foreach ($record in (Read-Export (Join-Path $folder 'send-connectors.json'))) {
        $name = [string](Get-Prop $record 'Name')
        # SourceTransportServers as a remote shell gives them: directory objects with a Name.
        $sources = @(Get-Prop $record 'SourceTransportServers' | Where-Object { $null -ne $_ } | ForEach-Object {
                $sourceName = ConvertTo-SimName $_
                $source = [pscustomobject]@{ Name = $sourceName; DistinguishedName = "CN=$sourceName,CN=Servers" }
                $source | Add-Member -MemberType ScriptMethod -Name ToString -Value { $this.Name }.GetNewClosure() -Force
                $source
            })
        $connector = $record.PSObject.Copy()
        $connector | Add-Member -Force -NotePropertyMembers ([ordered]@{
                Identity               = $name
                TlsCertificateName     = ConvertTo-SimIdentifier (Get-Prop $record 'TlsCertificateName')
                SourceTransportServers = $sources
                WhenChanged            = $longAgo
            })
        $state.SendConnectors.Add($connector)
    }
    $state.InitialMy = [System.Collections.Generic.HashSet[string]]::new([string[]]@($state.Stores.My.Keys))
    $state.Fqdn = $Server
    foreach ($record in (Read-Export (Join-Path $folder 'server.json'))) { $state.Fqdn = [string](Get-Prop $record 'Fqdn') }
    # The protocol logs the collector copied (FrontEnd-Receive-<the log's name> and so on) are
    # in the transport services' log folders under $LogFolder, named as Exchange names them, for
    # the collector to copy again. Without $LogFolder the services have no log folder.
    if ($LogFolder) {
        foreach ($service in 'FrontEnd', 'Hub') {
            foreach ($side in 'Receive', 'Send') {
                $path = Join-Path -Path $LogFolder -ChildPath "$service\ProtocolLog\Smtp$side"
                $null = New-Item -ItemType Directory -Path $path -Force
                $state.LogPaths["$service-$side"] = $path
            }
        }
        foreach ($file in @(Microsoft.PowerShell.Management\Get-ChildItem -LiteralPath $folder -Filter '*.LOG')) {
            if ($file.Name -notmatch '^(FrontEnd|Hub)-(Receive|Send)-(.+)$') { continue }
            $logPath = $state.LogPaths[$Matches[1] + '-' + $Matches[2]]
            Copy-Item -LiteralPath $file.FullName -Destination (Join-Path -Path $logPath -ChildPath $Matches[3])
        }
    }
    # Get-FrontendTransportService: Exchange 2013 and later, not on an Edge Transport server.
    $command = $null
    if ($LogFolder -and $state.Version -like 'Version 15*' -and $state.Role -notlike '*Edge*') {
        $command = {
            [CmdletBinding()]
            param([Parameter(Position = 0)] [string] $Identity)
            [pscustomobject]@{
                Name                   = $script:State.Server
                ReceiveProtocolLogPath = $script:State.LogPaths['FrontEnd-Receive']
                SendProtocolLogPath    = $script:State.LogPaths['FrontEnd-Send']
            }
        }
    }
    Set-SimulatedCommand -Name 'Get-FrontendTransportService' -Body $command
    # Get-TransportService exists where the exports hold its output (Exchange 2013 and later
    # collected by a collector that knew it).
    $transportServices = Join-Path $folder 'transport-services.json'
    $command = $null
    if (Microsoft.PowerShell.Management\Test-Path -LiteralPath $transportServices) {
        $state.TransportServices = @(Read-Export $transportServices)
        $command = {
            [CmdletBinding()]
            param([Parameter(Position = 0)] [string] $Identity)
            # A real TransportService object has every property, its log folders among them.
            $script:State.TransportServices | Where-Object { -not $Identity -or [string]$_.Name -eq $Identity } |
                Select-Object -Property *, @{ Name = 'ReceiveProtocolLogPath'; Expression = { $script:State.LogPaths['Hub-Receive'] } },
                    @{ Name = 'SendProtocolLogPath'; Expression = { $script:State.LogPaths['Hub-Send'] } }
        }
    }
    Set-SimulatedCommand -Name 'Get-TransportService' -Body $command
    # The TLS settings the collector reads: the SCHANNEL and .NET registry values of the exports'
    # tls-settings.json under the keys they come from, and Get-TlsCipherSuite's names. Its
    # OSVersion comes from [Environment], which no simulation can answer: this machine's.
    $tlsSettings = Join-Path $folder 'tls-settings.json'
    $command = $null
    if (Microsoft.PowerShell.Management\Test-Path -LiteralPath $tlsSettings) {
        $record = @(Read-Export $tlsSettings)[0]
        # The collector writes its TLS settings only where it can read this key.
        $state.Registry['SYSTEM\CurrentControlSet'] = @{}
        foreach ($property in $record.PSObject.Properties) {
            $key = $null
            if ($property.Name -match '^Tls1(\d)(Server|Client)(Enabled|DisabledByDefault)$') {
                $key = 'SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.{0}\{1}' -f $Matches[1], $Matches[2]
            } elseif ($property.Name -match '^NetV(4|2)(Wow)?(SystemDefaultTlsVersions|SchUseStrongCrypto)$') {
                $key = 'SOFTWARE\{0}Microsoft\.NETFramework\{1}' -f $(if ($Matches[2]) { 'Wow6432Node\' } else { '' }), $(if ($Matches[1] -eq '4') { 'v4.0.30319' } else { 'v2.0.50727' })
            }
            if ($null -ne $key) { Set-SimRegistryValue -Registry $state.Registry -Key $key -Name $Matches[3] -Data $property.Value }
        }
        $state.CipherSuites = @(Get-Prop $record 'TlsCipherSuites')
        $command = {
            [CmdletBinding()]
            param()
            $script:State.CipherSuites | ForEach-Object { [pscustomobject]@{ Name = [string]$_ } }
        }
    }
    Set-SimulatedCommand -Name 'Get-TlsCipherSuite' -Body $command
    # Get-WinEvent (Windows only) gives the events of the exports' exchange-events.json, as
    # EventLogRecords (TimeCreated a DateTime), filtered by provider and id as the collector asks.
    # StartTime is not applied: the fixtures' events are the last seven days of their own clock.
    $events = Join-Path $folder 'exchange-events.json'
    $command = $null
    if (Microsoft.PowerShell.Management\Test-Path -LiteralPath $events) {
        $state.Events = @(Read-Export $events | ForEach-Object {
                [pscustomobject]@{
                    TimeCreated  = ConvertTo-SimDate (Get-Prop $_ 'TimeCreated')
                    Id           = [int](Get-Prop $_ 'Id')
                    ProviderName = [string](Get-Prop $_ 'ProviderName')
                    MachineName  = [string](Get-Prop $_ 'MachineName')
                    Message      = [string](Get-Prop $_ 'Message')
                }
            })
        $command = {
            [CmdletBinding()]
            param([hashtable] $FilterHashtable)
            $script:State.Events | Where-Object {
                $_.ProviderName -in @($FilterHashtable.ProviderName) -and $_.Id -in @($FilterHashtable.Id)
            }
        }
    }
    Set-SimulatedCommand -Name 'Get-WinEvent' -Body $command
    $state.AuthConfig = @(Read-Export (Join-Path $folder 'auth-config.json'))
    $state.HybridConfiguration = @(Read-Export (Join-Path $folder 'hybrid-configuration.json'))
    $processId = 4000
    foreach ($service in 'MSExchangeFrontEndTransport', 'MSExchangeTransport') {
        $processId++
        $state.Services[$service] = [pscustomobject]@{ Name = $service; ProcessId = $processId; StartTime = $now.AddDays(-1) }
    }
    $script:State = $state
    $env:COMPUTERNAME = $Server
}

# ---- What tests read and switch ------------------------------------------------------------------

function Get-SimulatedState { return $script:State }

<# .SYNOPSIS Makes -Command fail in -Mode (Throw, NonTerminating, Silent); -Mode None clears it. #>
# The commands the simulation can make fail: each calls Invoke-SimulatedFault (directly or
# through its connector helpers) with its own name, so the tests find them without a list.
function Get-SimulatedFaultableCommand {
    @(Get-Command -Module SimulatedExchange -CommandType Function | Where-Object {
            $_.Definition -match ("-Command '" + [regex]::Escape($_.Name) + "'")
        } | ForEach-Object { $_.Name } | Sort-Object)
}

function Set-SimulatedFault {
    param([Parameter(Mandatory)] [string] $Command, [ValidateSet('Throw', 'NonTerminating', 'Silent', 'None')] [string] $Mode)
    if ($Mode -eq 'None') { $script:State.Faults.Remove($Command) } else { $script:State.Faults[$Command] = $Mode }
}

function Set-SimulatedCertificateStatus {
    param([string] $Thumbprint, [string] $Status)
    $script:State.CertificateStatus[$Thumbprint.ToUpperInvariant()] = $Status
}

# The scripts test elevation with `id -u` off Windows; this global function shadows the command.
function global:id { if ($script:State.Elevated) { '0' } else { '1000' } }

function Set-SimulatedElevation {
    param([bool] $Elevated)
    $script:State.Elevated = $Elevated
}

# A clock that never stands still, so a change and a restart are never at the same instant.
function Get-SimulatedNow {
    $now = [datetime]::Now
    if ($now -le $script:State.LastTime) { $now = $script:State.LastTime.AddMilliseconds(1) }
    $script:State.LastTime = $now
    return $now
}

# Applies the fault for $Command, if any: $true when the caller must stop (as a failed cmdlet).
function Invoke-SimulatedFault {
    param([string] $Command, $Cmdlet)
    $script:State.Calls.Add($Command)
    if (-not $script:State.Faults.ContainsKey($Command)) { return $false }
    $message = "simulated failure of ${Command}: Active Directory operation failed on DC01.contoso.com. The server is unwilling to process the request."
    switch ($script:State.Faults[$Command]) {
        'Throw' { throw $message }
        'NonTerminating' {
            # As a remote error arrives: written as non-terminating whatever -ErrorAction said.
            Write-Error -Message $message -ErrorAction Continue
            return $true
        }
        'Silent' { return $true }
    }
    return $false
}

# ---- Exchange cmdlets ----------------------------------------------------------------------------

function Copy-SimObject { param($Object) return [pscustomobject]$Object.PSObject.Copy() }

function Find-SimConnector {
    param($List, [string] $Identity, [string] $Kind)
    foreach ($connector in $List) {
        if ($connector.Identity -eq $Identity -or $connector.Name -eq $Identity) { return $connector }
    }
    Write-Error -Message "The operation couldn't be performed because object '$Identity' couldn't be found on 'DC01.contoso.com'." -Category ObjectNotFound
    return $null
}

# -TlsCertificateName as Exchange takes it: $null, or <I>issuer<S>subject whose subject has a CN.
function Test-SimTlsCertificateName {
    param($Value)
    if ($null -eq $Value) { return $null }
    $text = [string]$Value
    if ($text -notmatch '^<I>(.+)<S>(.*CN=.+)$') {
        throw "Cannot process argument transformation on parameter 'TlsCertificateName'. The value '$text' isn't a valid SMTP X509 identifier: '<I>issuer<S>subject'."
    }
    return [SimX509Identifier]::new($Matches[1], $Matches[2])
}

# What Get-ReceiveConnector and Get-SendConnector share: one connector by -Identity, or all.
function Read-SimConnector {
    param([string] $Command, $List, [string] $Identity)
    if (Invoke-SimulatedFault -Command $Command) { return }
    if ($Identity) {
        $found = Find-SimConnector -List $List -Identity $Identity
        if ($null -ne $found) { Copy-SimObject $found }
        return
    }
    foreach ($connector in $List) { Copy-SimObject $connector }
}

# What Set-ReceiveConnector and Set-SendConnector share: -TlsCertificateName, behind the
# caller's ShouldProcess, stamping WhenChanged as Exchange does.
function Write-SimConnectorName {
    param([string] $Command, $List, [string] $Identity, $TlsCertificateName, $Cmdlet)
    if (Invoke-SimulatedFault -Command $Command) { return }
    $value = Test-SimTlsCertificateName $TlsCertificateName
    $connector = Find-SimConnector -List $List -Identity $Identity
    if ($null -eq $connector) { return }
    if ($Cmdlet.ShouldProcess($Identity, $Command)) {
        $connector.TlsCertificateName = $value
        $connector.WhenChanged = Get-SimulatedNow
    }
}

function Get-ReceiveConnector {
    [CmdletBinding()]
    param([string] $Identity, [string] $Server)
    Read-SimConnector -Command 'Get-ReceiveConnector' -List $script:State.ReceiveConnectors -Identity $Identity
}

function Set-ReceiveConnector {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param([Parameter(Mandatory)] [string] $Identity, [AllowNull()] [object] $TlsCertificateName)
    Write-SimConnectorName -Command 'Set-ReceiveConnector' -List $script:State.ReceiveConnectors -Identity $Identity -TlsCertificateName $TlsCertificateName -Cmdlet $PSCmdlet
}

function Get-SendConnector {
    [CmdletBinding()]
    param([string] $Identity)
    Read-SimConnector -Command 'Get-SendConnector' -List $script:State.SendConnectors -Identity $Identity
}

function Set-SendConnector {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Medium')]
    param([Parameter(Mandatory)] [string] $Identity, [AllowNull()] [object] $TlsCertificateName)
    Write-SimConnectorName -Command 'Set-SendConnector' -List $script:State.SendConnectors -Identity $Identity -TlsCertificateName $TlsCertificateName -Cmdlet $PSCmdlet
}

function Get-ExchangeCertificate {
    [CmdletBinding()]
    param([string] $Thumbprint, [string] $Server)
    if (Invoke-SimulatedFault -Command 'Get-ExchangeCertificate') { return }
    # Without -Thumbprint, what the export listed (a key-less copy may be missing from it, as
    # in the fixtures), and what was imported since.
    $entries = $script:State.Stores.My.GetEnumerator() | Where-Object {
        if ($Thumbprint) { $_.Key -eq $Thumbprint.ToUpperInvariant() } else { $script:State.ExchangeMetadata.ContainsKey($_.Key) -or -not $script:State.InitialMy.Contains($_.Key) }
    }
    if ($Thumbprint -and $null -eq $entries) {
        Write-Error -Message "The certificate with thumbprint $Thumbprint was not found on server '$($script:State.Server)'." -Category ObjectNotFound
        return
    }
    foreach ($entry in $entries) {
        $certificate = $entry.Value.Certificate
        $metadata = $script:State.ExchangeMetadata[$entry.Key]
        $status = $script:State.CertificateStatus[$entry.Key]
        if ($null -eq $status -and $null -ne $metadata) { $status = $metadata.Status }
        if ($null -eq $status) {
            $status = 'Valid'
            if ($certificate.NotAfter -lt [datetime]::Now -or $certificate.NotBefore -gt [datetime]::Now) { $status = 'DateInvalid' }
        }
        $services = 'None'
        $exported = [pscustomobject]@{}
        if ($null -ne $metadata) {
            $services = $metadata.Services
            $exported = $metadata.Record.PSObject.Copy()
        }
        $exported | Add-Member -Force -NotePropertyMembers ([ordered]@{
            Thumbprint    = $entry.Key
            Subject       = $certificate.Subject
            Issuer        = $certificate.Issuer
            NotBefore     = $certificate.NotBefore
            NotAfter      = $certificate.NotAfter
            HasPrivateKey = $entry.Value.HasPrivateKey
            Status        = $status
            Services      = $services
            RawData       = $certificate.RawData
        })
        $exported
    }
}

function Get-ExchangeServer {
    [CmdletBinding()]
    param([string] $Identity)
    if (Invoke-SimulatedFault -Command 'Get-ExchangeServer') { return }
    [pscustomobject]@{ Name = $script:State.Server; Fqdn = $script:State.Fqdn; ServerRole = $script:State.Role; AdminDisplayVersion = $script:State.Version }
}

# What the server's own folder exported; an organisation-wide export given beside the folders
# stays an input of its own, so it is not collected twice.
function Get-AuthConfig { [CmdletBinding()] param() $script:State.AuthConfig }
function Get-HybridConfiguration { [CmdletBinding()] param() $script:State.HybridConfiguration }

# ---- Cert:\LocalMachine, services and processes ---------------------------------------------------

function Split-SimCertPath {
    param([string] $Path)
    if ($Path -match '^Cert:\\LocalMachine\\(My|CA|Root)(?:\\([0-9A-Fa-f]+))?\\?$') {
        return @{ Store = $Matches[1]; Thumbprint = $(if ($Matches.Count -gt 2) { $Matches[2].ToUpperInvariant() } else { '' }) }
    }
    return $null
}

function ConvertTo-SimCertificateItem {
    param($Entry, [string] $Store)
    $item = [psobject]::new($Entry.Certificate)
    # Off Windows a certificate from bytes has no key; the export says whether the server's has one.
    $item | Add-Member -NotePropertyName HasPrivateKey -NotePropertyValue $Entry.HasPrivateKey -Force
    $item | Add-Member -NotePropertyName FriendlyName -NotePropertyValue $Entry.FriendlyName -Force
    $item | Add-Member -NotePropertyName PSParentPath -NotePropertyValue ('Cert:\LocalMachine\' + $Store) -Force
    # Verify() would build the chain from this machine's stores, which are not the server's:
    # it answers as Exchange's Status does.
    $thumbprint = [string]$Entry.Certificate.Thumbprint
    $item | Add-Member -MemberType ScriptMethod -Name Verify -Value { (@(Get-ExchangeCertificate -Thumbprint $thumbprint)[0].Status -eq 'Valid') }.GetNewClosure() -Force
    return $item
}

function Test-Path {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Path, [string] $LiteralPath, [Microsoft.PowerShell.Commands.TestPathType] $PathType = 'Any')
    $target = if ($LiteralPath) { $LiteralPath } else { $Path }
    if ($target -like 'HKLM:\*') {
        $key = $target.Substring(6).TrimEnd('\')
        return [bool]@($script:State.Registry.Keys | Where-Object { $_ -eq $key -or $_ -like ($key + '\*') }).Count
    }
    $cert = Split-SimCertPath $target
    if ($null -eq $cert) { return (Microsoft.PowerShell.Management\Test-Path @PSBoundParameters) }
    if ($cert.Thumbprint -eq '') { return $true }
    return $script:State.Stores[$cert.Store].Contains($cert.Thumbprint)
}

function Get-Item {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Path, [string] $LiteralPath, [switch] $Force)
    $target = if ($LiteralPath) { $LiteralPath } else { $Path }
    if ($target -like 'HKLM:\*') {
        # A registry key as Get-Item gives it: what the collector uses of it is GetValue(name),
        # $null for a value the key does not hold.
        $key = $target.Substring(6)
        if (-not $script:State.Registry.ContainsKey($key)) {
            Write-Error -Message "Cannot find path '$target' because it does not exist." -Category ObjectNotFound
            return
        }
        $item = [pscustomobject]@{ Values = $script:State.Registry[$key] }
        $item | Add-Member -MemberType ScriptMethod -Name GetValue -Value { param($name) $this.Values[$name] }
        return $item
    }
    $cert = Split-SimCertPath $target
    if ($null -eq $cert) { return (Microsoft.PowerShell.Management\Get-Item @PSBoundParameters) }
    if (-not $script:State.Stores[$cert.Store].Contains($cert.Thumbprint)) {
        Write-Error -Message "Cannot find path '$target' because it does not exist." -Category ObjectNotFound
        return
    }
    ConvertTo-SimCertificateItem -Entry $script:State.Stores[$cert.Store][$cert.Thumbprint] -Store $cert.Store
}

function Get-ChildItem {
    [CmdletBinding()]
    param([Parameter(Position = 0)] [string] $Path, [string] $LiteralPath, [string] $Filter, [switch] $Directory, [switch] $File, [switch] $Recurse, [switch] $Force)
    $target = if ($LiteralPath) { $LiteralPath } else { $Path }
    $cert = Split-SimCertPath $target
    if ($null -eq $cert) { return (Microsoft.PowerShell.Management\Get-ChildItem @PSBoundParameters) }
    foreach ($entry in @($script:State.Stores[$cert.Store].Values)) { ConvertTo-SimCertificateItem -Entry $entry -Store $cert.Store }
}

function Remove-Item {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Position = 0)] [string[]] $Path, [string[]] $LiteralPath, [switch] $Recurse, [switch] $Force)
    $target = if ($LiteralPath) { $LiteralPath[0] } else { $Path[0] }
    $cert = Split-SimCertPath $target
    if ($null -eq $cert) { return (Microsoft.PowerShell.Management\Remove-Item @PSBoundParameters) }
    if (Invoke-SimulatedFault -Command 'Remove-Item') { return }
    if (-not $script:State.Stores[$cert.Store].Contains($cert.Thumbprint)) {
        Write-Error -Message "Cannot find path '$target' because it does not exist." -Category ObjectNotFound
        return
    }
    if ($PSCmdlet.ShouldProcess($target, 'Remove certificate')) { $script:State.Stores[$cert.Store].Remove($cert.Thumbprint) }
}

function Export-Certificate {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory)] $Cert, [Parameter(Mandatory)] [string] $FilePath, [string] $Type = 'CERT')
    if (Invoke-SimulatedFault -Command 'Export-Certificate') { return }
    if ($PSCmdlet.ShouldProcess($FilePath, 'Export-Certificate')) {
        [System.IO.File]::WriteAllBytes($FilePath, $Cert.RawData)
        Microsoft.PowerShell.Management\Get-Item -LiteralPath $FilePath
    }
}

function Import-Certificate {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory)] [string] $FilePath, [Parameter(Mandatory)] [string] $CertStoreLocation)
    if (Invoke-SimulatedFault -Command 'Import-Certificate') { return }
    $cert = Split-SimCertPath $CertStoreLocation
    if ($null -eq $cert) { throw "simulation: no store $CertStoreLocation" }
    $entry = New-StoreEntry -Bytes ([System.IO.File]::ReadAllBytes($FilePath)) -HasPrivateKey $false
    if ($PSCmdlet.ShouldProcess($CertStoreLocation, 'Import-Certificate')) {
        $thumbprint = $entry.Certificate.Thumbprint.ToUpperInvariant()
        if (-not $script:State.Stores[$cert.Store].Contains($thumbprint)) { $script:State.Stores[$cert.Store][$thumbprint] = $entry }
        ConvertTo-SimCertificateItem -Entry $script:State.Stores[$cert.Store][$thumbprint] -Store $cert.Store
    }
}

function Get-CimInstance {
    [CmdletBinding()]
    param([string] $ClassName, [string] $Filter)
    if ($ClassName -ne 'Win32_Service' -or $Filter -notmatch "^Name='([^']+)'$") { throw "simulation: Get-CimInstance $ClassName $Filter" }
    $service = $script:State.Services[$Matches[1]]
    if ($null -eq $service) { return }
    [pscustomobject]@{ Name = $service.Name; ProcessId = $service.ProcessId; State = 'Running' }
}

function Get-Process {
    [CmdletBinding()]
    param([int] $Id)
    foreach ($service in $script:State.Services.Values) {
        if ($service.ProcessId -eq $Id) { return [pscustomobject]@{ Id = $Id; StartTime = $service.StartTime } }
    }
    Microsoft.PowerShell.Management\Get-Process -Id $Id
}

function Restart-Service {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param([Parameter(Mandatory)] [string] $Name)
    if (Invoke-SimulatedFault -Command 'Restart-Service') { return }
    $service = $script:State.Services[$Name]
    if ($null -eq $service) { throw "Cannot find any service with service name '$Name'." }
    if ($PSCmdlet.ShouldProcess($Name, 'Restart-Service')) {
        $service.ProcessId += 1000
        $service.StartTime = Get-SimulatedNow
        $script:State.Restarts.Add($Name)
    }
}


function Get-SimConnectors {
    foreach ($connector in $script:State.ReceiveConnectors) { $connector }
    foreach ($connector in $script:State.SendConnectors) { $connector }
}

# ---- What tests compare --------------------------------------------------------------------------

<# .SYNOPSIS Everything a script may change, as text: connectors' TlsCertificateName and the stores. #>
function Get-SimulatedSnapshot {
    $lines = New-Object System.Collections.Generic.List[string]
    foreach ($connector in (Get-SimConnectors)) {
        $lines.Add(('connector {0} = {1}' -f $connector.Identity, [string]$connector.TlsCertificateName))
    }
    foreach ($store in 'My', 'CA', 'Root') {
        foreach ($entry in ($script:State.Stores[$store].GetEnumerator() | Sort-Object -Property Key)) {
            $lines.Add(('store {0} {1} key={2}' -f $store, $entry.Key, $entry.Value.HasPrivateKey))
        }
    }
    return ($lines -join "`n")
}

<#
    .SYNOPSIS
    The value a plan.json action's target has now: a connector's TlsCertificateName, a certificate
    path's thumbprint, or, for a store, $Probe when the store holds it; $null when absent or empty.
#>
function Get-SimulatedValue {
    param([string] $Target, [string] $Probe)
    $cert = Split-SimCertPath $Target
    if ($null -ne $cert) {
        $thumbprint = $cert.Thumbprint
        if ($thumbprint -eq '') { $thumbprint = $Probe.ToUpperInvariant() }
        if ($script:State.Stores[$cert.Store].Contains($thumbprint)) { return $thumbprint }
        return $null
    }
    foreach ($connector in (Get-SimConnectors)) {
        if ($connector.Identity -eq $Target) {
            $text = [string]$connector.TlsCertificateName
            if ($text -eq '') { return $null }
            return $text
        }
    }
    throw "simulation: no target $Target"
}

function Remove-SimulatedCertificate {
    param([string] $Store, [string] $Thumbprint)
    $script:State.Stores[$Store].Remove($Thumbprint.ToUpperInvariant())
}

function Set-SimulatedConnectorName {
    param([string] $Identity, [string] $Value)
    foreach ($connector in (Get-SimConnectors)) {
        if ($connector.Identity -eq $Identity) { $connector.TlsCertificateName = ConvertTo-SimIdentifier $Value }
    }
}

Export-ModuleMember -Function *
