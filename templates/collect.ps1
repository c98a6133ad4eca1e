<#
.SYNOPSIS
    Collects everything hybridtls reads from this Exchange server into one folder.

.DESCRIPTION
    Run in the Exchange Management Shell on each Exchange server that takes part in hybrid mail
    flow (on an Edge Transport server, run it locally in its own Exchange Management Shell).
    It only reads: nothing on the server is changed.

    It writes UTF-8 JSON files, each with an array at the root:
      server.json                  name, FQDN, role and Exchange version of this server, and
                                   two registry values: DisableRootAutoUpdate (automatic root
                                   certificate update turned off by policy) and
                                   EnableEccCertificateSupport (Exchange uses ECC certificates)
      exchange-certificates.json   Get-ExchangeCertificate, with RawData as base64
      receive-connectors.json      Get-ReceiveConnector -Server <this server>
      send-connectors.json         Get-SendConnector
      store-My.json, store-CA.json, store-Root.json
                                   Cert:\LocalMachine\My, \CA and \Root with HasPrivateKey
      auth-config.json             Get-AuthConfig: the thumbprints of the Auth (OAuth)
                                   certificate (not written where the cmdlet is missing,
                                   as on an Edge Transport server)
      hybrid-configuration.json    Get-HybridConfiguration: the certificate the Hybrid
                                   Configuration Wizard uses (not written on an Edge
                                   Transport server or where the wizard never ran)
      transport-services.json      Get-TransportService of this server: its internal transport
                                   certificate (not written on Exchange 2010)
      exchange-events.json         Get-WinEvent: MSExchangeFrontEndTransport and
                                   MSExchangeTransport events 12014, 12016, 12018, 12023,
                                   12012, 12013, 12015, 12024, 2004 and MSExchange
                                   EdgeSync 1035 of the last seven days
      tls-settings.json            the SCHANNEL values of TLS 1.0 to 1.3 (Server and Client:
                                   Enabled, DisabledByDefault), the .NET SchUseStrongCrypto
                                   and SystemDefaultTlsVersions (v4 and v2, 64- and 32-bit),
                                   Get-TlsCipherSuite, the Windows and Exchange builds

    It also copies the newest SmtpReceive and SmtpSend protocol logs of the Front End and Hub
    transport services (their paths from Get-FrontendTransportService and Get-TransportService),
    newest first, up to -ProtocolLogMB of each folder, as <Service>-<Receive|Send>-<file>.LOG, and
    says which hybrid connectors do not log at ProtocolLoggingLevel Verbose and how to turn it on.

    Exchange Online's connectors and accepted domains are not collected here: they come from
    Exchange Online PowerShell (Connect-ExchangeOnline), once for the organisation, and are
    optional:
      Get-InboundConnector | ConvertTo-Json -Depth 4 | Out-File inbound-connectors.json
      Get-OutboundConnector | ConvertTo-Json -Depth 4 | Out-File outbound-connectors.json
      Get-AcceptedDomain | ConvertTo-Json -Depth 4 | Out-File accepted-domains.json

    Copy the folder (and those files) to the computer that runs hybridtls and run:
      hybridtls plan <folder> [inbound-connectors.json outbound-connectors.json accepted-domains.json]

.PARAMETER OutputFolder
    Where to write the files. Default: .\hybridtls-<COMPUTERNAME>

.PARAMETER ProtocolLogMB
    How many megabytes of each protocol log folder to copy, newest log files first (whole files;
    the newest is copied even when it is larger). Default: 50. 0 copies none.

.EXAMPLE
    .\Collect-HybridTls.ps1
#>
[CmdletBinding()]
param(
    [string] $OutputFolder = (Join-Path -Path (Get-Location) -ChildPath ('hybridtls-' + $env:COMPUTERNAME)),
    [ValidateRange(0, 100000)]
    [int] $ProtocolLogMB = 50
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

New-Item -ItemType Directory -Path $OutputFolder -Force | Out-Null

function Save-Json {
    param([string] $Name, [object[]] $Objects)
    $path = Join-Path -Path $OutputFolder -ChildPath $Name
    # -InputObject keeps a single object in an array; -Depth 6 keeps nested values intact.
    ConvertTo-Json -InputObject @($Objects) -Depth 6 | Out-File -LiteralPath $path -Encoding utf8
    Write-Host ('Wrote {0} ({1} object(s))' -f $path, @($Objects).Count)
}

# The value under HKLM:\<Key>, or $null when the key or the value does not exist (read only).
function Get-RegistryValue {
    param([string] $Key, [string] $Name)
    $item = Get-Item -LiteralPath ('HKLM:\' + $Key) -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    return $item.GetValue($Name)
}

$server = Get-ExchangeServer -Identity $env:COMPUTERNAME
# Automatic root certificate update turned off by policy (Exchange Online's root, DigiCert Global
# Root G2, is then never fetched: HT042); ECC certificate support (HealthChecker's registry value).
$rootAutoUpdate = Get-RegistryValue -Key 'SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot' -Name 'DisableRootAutoUpdate'
$eccSupport = Get-RegistryValue -Key 'SOFTWARE\Microsoft\ExchangeServer\v15\Diagnostics' -Name 'EnableEccCertificateSupport'
Save-Json -Name 'server.json' -Objects @([pscustomobject]@{
        HybridTlsCollector          = 1
        Name                        = [string]$server.Name
        Fqdn                        = [string]$server.Fqdn
        ServerRole                  = [string]$server.ServerRole
        AdminDisplayVersion         = [string]$server.AdminDisplayVersion
        DisableRootAutoUpdate       = $rootAutoUpdate
        EnableEccCertificateSupport = $eccSupport
    })

# Real objects, not strings: hybridtls reads the shapes ConvertTo-Json writes, and -Depth 6
# keeps nested values (directory objects, TlsCertificateName, capabilities) whole.
$certificateProperties = @(
    'Thumbprint', 'Subject', 'Issuer', 'FriendlyName', 'NotBefore', 'NotAfter', 'HasPrivateKey',
    'IsSelfSigned', 'Status', 'Services', 'RootCAType', 'CertificateDomains', 'PublicKeySize',
    'SerialNumber', 'Identity',
    @{ Name = 'RawData'; Expression = { [Convert]::ToBase64String($_.RawData) } }
)
$certificates = @(Get-ExchangeCertificate | Select-Object -Property $certificateProperties)
Save-Json -Name 'exchange-certificates.json' -Objects $certificates

$receiveProperties = @(
    'Identity', 'Name', 'Server', 'TransportRole', 'Bindings', 'Fqdn', 'TlsCertificateName',
    'TlsDomainCapabilities', 'AuthMechanism', 'PermissionGroups', 'RequireTLS', 'Enabled',
    'ProtocolLoggingLevel', 'RemoteIPRanges'
)
$receiveConnectors = @(Get-ReceiveConnector -Server $env:COMPUTERNAME | Select-Object -Property $receiveProperties)
Save-Json -Name 'receive-connectors.json' -Objects $receiveConnectors

$sendProperties = @(
    'Identity', 'Name', 'AddressSpaces', 'SmartHosts', 'Fqdn', 'TlsCertificateName', 'TlsAuthLevel',
    'TlsDomain', 'RequireTLS', 'CloudServicesMailEnabled', 'Enabled', 'DNSRoutingEnabled',
    'SourceTransportServers'
)
$sendConnectors = @(Get-SendConnector | Select-Object -Property $sendProperties)
Save-Json -Name 'send-connectors.json' -Objects $sendConnectors

# The organisation's Auth configuration names the Auth (OAuth) certificate by thumbprint; the
# certificate itself is in exchange-certificates.json. Edge Transport servers hold none.
if (Get-Command -Name 'Get-AuthConfig' -ErrorAction SilentlyContinue) {
    $authProperties = @(
        'CurrentCertificateThumbprint', 'PreviousCertificateThumbprint', 'NextCertificateThumbprint',
        'NextCertificateEffectiveDate', 'Name'
    )
    $authConfig = @(Get-AuthConfig | Select-Object -Property $authProperties)
    Save-Json -Name 'auth-config.json' -Objects $authConfig
}

# The Hybrid Configuration Wizard's record of the hybrid certificate (TlsCertificateName) and
# the servers it configures, one for the organisation; compared with the connectors after a
# renewal (HT033). Not on an Edge Transport server, and absent where HCW never ran.
if (Get-Command -Name 'Get-HybridConfiguration' -ErrorAction SilentlyContinue) {
    $hybridProperties = @(
        'Identity', 'Name', 'TlsCertificateName', 'OnPremisesSmartHost', 'Domains', 'Features',
        'SendingTransportServers', 'ReceivingTransportServers', 'EdgeTransportServers'
    )
    $hybridConfiguration = @(Get-HybridConfiguration | Select-Object -Property $hybridProperties)
    if ($hybridConfiguration.Count -gt 0) {
        Save-Json -Name 'hybrid-configuration.json' -Objects $hybridConfiguration
    }
}

# The internal transport certificate, which TLS between Exchange servers (and EdgeSync) uses and
# a renewal must never replace (KB 2989382): HT040. Exchange 2010 has Get-TransportServer instead.
if (Get-Command -Name 'Get-TransportService' -ErrorAction SilentlyContinue) {
    $transportProperties = @('Name', 'InternalTransportCertificateThumbprint')
    $transportService = @(Get-TransportService -Identity $env:COMPUTERNAME | Select-Object -Property $transportProperties)
    Save-Json -Name 'transport-services.json' -Objects $transportService
}

# The TLS configuration HealthChecker checks (HT050 to HT054), read from the registry: null
# where a value is not set, which Windows and .NET read as their defaults.
$schannel = 'SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\'
$net4 = 'SOFTWARE\Microsoft\.NETFramework\v4.0.30319'
$net4Wow = 'SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v4.0.30319'
$net2 = 'SOFTWARE\Microsoft\.NETFramework\v2.0.50727'
$net2Wow = 'SOFTWARE\Wow6432Node\Microsoft\.NETFramework\v2.0.50727'
$cipherSuites = $null
if (Get-Command -Name 'Get-TlsCipherSuite' -ErrorAction SilentlyContinue) {
    $cipherSuites = @(Get-TlsCipherSuite | ForEach-Object { [string]$_.Name })
}
$tlsSettings = [pscustomobject]@{
    ComputerName                     = $env:COMPUTERNAME
    OSVersion                        = [string][System.Environment]::OSVersion.Version
    ExchangeVersion                  = [string]$server.AdminDisplayVersion
    Tls10ServerEnabled               = Get-RegistryValue ($schannel + 'TLS 1.0\Server') 'Enabled'
    Tls10ServerDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.0\Server') 'DisabledByDefault'
    Tls10ClientEnabled               = Get-RegistryValue ($schannel + 'TLS 1.0\Client') 'Enabled'
    Tls10ClientDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.0\Client') 'DisabledByDefault'
    Tls11ServerEnabled               = Get-RegistryValue ($schannel + 'TLS 1.1\Server') 'Enabled'
    Tls11ServerDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.1\Server') 'DisabledByDefault'
    Tls11ClientEnabled               = Get-RegistryValue ($schannel + 'TLS 1.1\Client') 'Enabled'
    Tls11ClientDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.1\Client') 'DisabledByDefault'
    Tls12ServerEnabled               = Get-RegistryValue ($schannel + 'TLS 1.2\Server') 'Enabled'
    Tls12ServerDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.2\Server') 'DisabledByDefault'
    Tls12ClientEnabled               = Get-RegistryValue ($schannel + 'TLS 1.2\Client') 'Enabled'
    Tls12ClientDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.2\Client') 'DisabledByDefault'
    Tls13ServerEnabled               = Get-RegistryValue ($schannel + 'TLS 1.3\Server') 'Enabled'
    Tls13ServerDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.3\Server') 'DisabledByDefault'
    Tls13ClientEnabled               = Get-RegistryValue ($schannel + 'TLS 1.3\Client') 'Enabled'
    Tls13ClientDisabledByDefault     = Get-RegistryValue ($schannel + 'TLS 1.3\Client') 'DisabledByDefault'
    NetV4SystemDefaultTlsVersions    = Get-RegistryValue $net4 'SystemDefaultTlsVersions'
    NetV4SchUseStrongCrypto          = Get-RegistryValue $net4 'SchUseStrongCrypto'
    NetV4WowSystemDefaultTlsVersions = Get-RegistryValue $net4Wow 'SystemDefaultTlsVersions'
    NetV4WowSchUseStrongCrypto       = Get-RegistryValue $net4Wow 'SchUseStrongCrypto'
    NetV2SystemDefaultTlsVersions    = Get-RegistryValue $net2 'SystemDefaultTlsVersions'
    NetV2SchUseStrongCrypto          = Get-RegistryValue $net2 'SchUseStrongCrypto'
    NetV2WowSystemDefaultTlsVersions = Get-RegistryValue $net2Wow 'SystemDefaultTlsVersions'
    NetV2WowSchUseStrongCrypto       = Get-RegistryValue $net2Wow 'SchUseStrongCrypto'
    TlsCipherSuites                  = $cipherSuites
}
# Only where the registry can be read: values that could not be read are no values not set.
if (Test-Path -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet') {
    Save-Json -Name 'tls-settings.json' -Objects @($tlsSettings)
}

# The transport TLS certificate events of the last seven days (HT056); none is no error.
$eventFilters = @(
    @{ LogName = 'Application'; ProviderName = @('MSExchangeFrontEndTransport', 'MSExchangeTransport'); Id = @(12014, 12016, 12018, 12023, 12012, 12013, 12015, 12024, 2004); StartTime = (Get-Date).AddDays(-7) },
    @{ LogName = 'Application'; ProviderName = 'MSExchange EdgeSync'; Id = 1035; StartTime = (Get-Date).AddDays(-7) }
)
if (Get-Command -Name 'Get-WinEvent' -ErrorAction SilentlyContinue) {
    $events = @($eventFilters | ForEach-Object { Get-WinEvent -FilterHashtable $_ -ErrorAction SilentlyContinue } |
            Select-Object -Property @('TimeCreated', 'Id', 'ProviderName', 'MachineName', 'Message'))
    Save-Json -Name 'exchange-events.json' -Objects $events
}

foreach ($store in @('My', 'CA', 'Root')) {
    $listing = @(Get-ChildItem -Path ('Cert:\LocalMachine\' + $store) |
            Where-Object { $_ -is [System.Security.Cryptography.X509Certificates.X509Certificate2] } |
            ForEach-Object {
                [pscustomobject]@{
                    Store         = $store
                    Thumbprint    = $_.Thumbprint
                    Subject       = $_.Subject
                    Issuer        = $_.Issuer
                    FriendlyName  = $_.FriendlyName
                    HasPrivateKey = $_.HasPrivateKey
                    NotBefore     = $_.NotBefore
                    NotAfter      = $_.NotAfter
                    RawData       = [Convert]::ToBase64String($_.RawData)
                }
            })
    Save-Json -Name ('store-{0}.json' -f $store) -Objects $listing
}

# The protocol logs show what really happened on the wire (HT016, HT055). Copied, never moved:
# Exchange keeps writing the newest one.
function Copy-ProtocolLog {
    param([string] $Path, [string] $Prefix)
    if ($ProtocolLogMB -eq 0 -or [string]::IsNullOrEmpty($Path) -or -not (Test-Path -LiteralPath $Path)) { return }
    $budget = [long]$ProtocolLogMB * 1048576
    $copied = [long]0
    $files = @(Get-ChildItem -LiteralPath $Path -Filter '*.LOG' | Sort-Object -Property LastWriteTime -Descending)
    foreach ($file in $files) {
        if ($copied -gt 0 -and $copied + $file.Length -gt $budget) { break }
        Copy-Item -LiteralPath $file.FullName -Destination (Join-Path -Path $OutputFolder -ChildPath ($Prefix + $file.Name))
        $copied += $file.Length
    }
    Write-Host ('Copied {0:N1} MB of {1}' -f ($copied / 1048576), $Path)
}
if (Get-Command -Name 'Get-FrontendTransportService' -ErrorAction SilentlyContinue) {
    $frontEnd = Get-FrontendTransportService -Identity $env:COMPUTERNAME -ErrorAction SilentlyContinue
    if ($null -ne $frontEnd) {
        Copy-ProtocolLog -Path ([string]$frontEnd.ReceiveProtocolLogPath) -Prefix 'FrontEnd-Receive-'
        Copy-ProtocolLog -Path ([string]$frontEnd.SendProtocolLogPath) -Prefix 'FrontEnd-Send-'
    }
}
if (Get-Command -Name 'Get-TransportService' -ErrorAction SilentlyContinue) {
    $hub = Get-TransportService -Identity $env:COMPUTERNAME -ErrorAction SilentlyContinue
    if ($null -ne $hub) {
        Copy-ProtocolLog -Path ([string]$hub.ReceiveProtocolLogPath) -Prefix 'Hub-Receive-'
        Copy-ProtocolLog -Path ([string]$hub.SendProtocolLogPath) -Prefix 'Hub-Send-'
    }
}
# A hybrid connector that does not log verbosely writes no TLS rows: say so, and how to turn it
# on (this script changes nothing).
foreach ($connector in $receiveConnectors) {
    $capabilities = [string]($connector.TlsDomainCapabilities -join ' ')
    $hybridReceive = ([string]$connector.Name -like 'Default Frontend *') -or ($capabilities -like '*mail.protection.*')
    if ($hybridReceive -and [string]$connector.ProtocolLoggingLevel -ne 'Verbose') {
        Write-Warning ("Receive connector '{0}' logs at ProtocolLoggingLevel {1}: no TLS rows are logged. To log them: Set-ReceiveConnector -Identity '{0}' -ProtocolLoggingLevel Verbose" -f $connector.Identity, $connector.ProtocolLoggingLevel)
    }
}
$sendLogging = @(Get-SendConnector | Select-Object -Property @('Identity', 'CloudServicesMailEnabled', 'SmartHosts', 'ProtocolLoggingLevel'))
foreach ($connector in $sendLogging) {
    $hybridSend = ($connector.CloudServicesMailEnabled -eq $true) -or ([string]($connector.SmartHosts -join ' ') -like '*mail.protection.*')
    if ($hybridSend -and [string]$connector.ProtocolLoggingLevel -ne 'Verbose') {
        Write-Warning ("Send connector '{0}' logs at ProtocolLoggingLevel {1}: no TLS rows are logged. To log them: Set-SendConnector -Identity '{0}' -ProtocolLoggingLevel Verbose" -f $connector.Identity, $connector.ProtocolLoggingLevel)
    }
}

Write-Host "Done. Copy $OutputFolder to the computer that runs hybridtls and run: hybridtls plan <folder>"
