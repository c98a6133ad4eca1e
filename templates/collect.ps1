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

.EXAMPLE
    .\Collect-HybridTls.ps1
#>
[CmdletBinding()]
param(
    [string] $OutputFolder = (Join-Path -Path (Get-Location) -ChildPath ('hybridtls-' + $env:COMPUTERNAME))
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

# A registry value, or $null when the key or the value does not exist (read only).
function Get-RegistryValue {
    param([string] $Path, [string] $Name)
    $key = Get-ItemProperty -LiteralPath $Path -ErrorAction SilentlyContinue
    if ($null -eq $key) { return $null }
    $property = $key.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

$server = Get-ExchangeServer -Identity $env:COMPUTERNAME
# Automatic root certificate update turned off by policy (Exchange Online's root, DigiCert Global
# Root G2, is then never fetched: HT042); ECC certificate support (HealthChecker's registry value).
$rootAutoUpdate = Get-RegistryValue -Path 'HKLM:\SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot' -Name 'DisableRootAutoUpdate'
$eccSupport = Get-RegistryValue -Path 'HKLM:\SOFTWARE\Microsoft\ExchangeServer\v15\Diagnostics' -Name 'EnableEccCertificateSupport'
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

Write-Host "Done. Copy $OutputFolder to the computer that runs hybridtls and run: hybridtls plan <folder>"
