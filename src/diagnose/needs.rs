//! What each check needs from the inputs, and the record of a check that could not be judged
//! for want of it. "Nothing to change" is only said of what was checked: a key-less copy of
//! the hybrid certificate is invisible without the `Cert:\LocalMachine\My` listing (seed 002),
//! a missing intermediate without the `CA` listing (seed 004), and a hybrid connector without
//! `Tls` in its `AuthMechanism` without that property (issue 18). Such a check is reported as
//! not judged, with what is missing, where, and the command that exports it; it is never a pass.

use crate::input::kinds::KINDS;
use crate::model::{InputFile, InputKind, Inventory, Source, Store};

use super::rules::Rule;

/// An export hybridtls reads, with the command that makes it by hand. The commands hold no
/// value from the inputs (the server is the one they run on), so they are shown as they are;
/// the README lists the same commands, which a test keeps in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    ExchangeCertificates,
    ReceiveConnectors,
    SendConnectors,
    StoreListing(Store),
    TransportServices,
    InboundConnectors,
    OutboundConnectors,
    AcceptedDomains,
    TlsSettings,
    ProtocolLogs,
    Events,
}

impl Export {
    /// Every export with a hand-export command, in the README's order.
    pub const ALL: [Export; 13] = [
        Export::ExchangeCertificates,
        Export::ReceiveConnectors,
        Export::SendConnectors,
        Export::TransportServices,
        Export::StoreListing(Store::My),
        Export::StoreListing(Store::Ca),
        Export::StoreListing(Store::Root),
        Export::InboundConnectors,
        Export::OutboundConnectors,
        Export::AcceptedDomains,
        Export::TlsSettings,
        Export::ProtocolLogs,
        Export::Events,
    ];

    /// The export that holds the properties of objects read from `kind`.
    pub fn of(kind: InputKind) -> Option<Export> {
        match kind {
            InputKind::ExchangeCertificates => Some(Export::ExchangeCertificates),
            InputKind::ReceiveConnectors => Some(Export::ReceiveConnectors),
            InputKind::SendConnectors => Some(Export::SendConnectors),
            InputKind::InboundConnectors => Some(Export::InboundConnectors),
            InputKind::OutboundConnectors => Some(Export::OutboundConnectors),
            InputKind::TransportServices => Some(Export::TransportServices),
            InputKind::AcceptedDomains => Some(Export::AcceptedDomains),
            InputKind::TlsSettings => Some(Export::TlsSettings),
            InputKind::ExchangeEvents => Some(Export::Events),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Export::ExchangeCertificates => "the Get-ExchangeCertificate export",
            Export::ReceiveConnectors => "the Get-ReceiveConnector export",
            Export::SendConnectors => "the Get-SendConnector export",
            Export::StoreListing(Store::My) => "the Cert:\\LocalMachine\\My listing",
            Export::StoreListing(Store::Ca) => "the Cert:\\LocalMachine\\CA listing",
            Export::StoreListing(_) => "the Cert:\\LocalMachine\\Root listing",
            Export::InboundConnectors => "the Exchange Online Get-InboundConnector export",
            Export::OutboundConnectors => "the Exchange Online Get-OutboundConnector export",
            Export::TransportServices => "the Get-TransportService export",
            Export::AcceptedDomains => "the Exchange Online Get-AcceptedDomain export",
            Export::TlsSettings => "the export of the TLS settings (tls-settings.json: SCHANNEL, .NET, cipher suites)",
            Export::ProtocolLogs => "an SMTP protocol log of the server (RECV*.LOG, SEND*.LOG)",
            Export::Events => {
                "the export of the transport and EdgeSync events of the last seven days (exchange-events.json)"
            }
        }
    }

    /// Where the command runs.
    pub fn shell(self) -> &'static str {
        match self {
            Export::StoreListing(_) => "in PowerShell on the server",
            Export::TlsSettings | Export::ProtocolLogs | Export::Events => {
                "in the Exchange Management Shell on the server (or `hybridtls collect`)"
            }
            Export::SendConnectors => {
                "in the Exchange Management Shell on any Mailbox server, once for the organisation"
            }
            Export::TransportServices => {
                "in the Exchange Management Shell on any Mailbox server (it lists every server; on an Edge Transport server, there)"
            }
            Export::InboundConnectors | Export::OutboundConnectors | Export::AcceptedDomains => {
                "in Exchange Online PowerShell (Connect-ExchangeOnline), once for the organisation"
            }
            _ => "in the Exchange Management Shell on the server",
        }
    }

    /// The command, as the README gives it. The store listings are what `hybridtls collect`
    /// writes (templates/collect.ps1): `Store` says which store, `RawData` is base64, and
    /// `-InputObject @(...)` keeps an array when the store holds one certificate or none.
    pub fn command(self) -> &'static str {
        match self {
            Export::ExchangeCertificates => "Get-ExchangeCertificate | Select-Object Thumbprint,Subject,Issuer,FriendlyName,NotBefore,NotAfter,HasPrivateKey,IsSelfSigned,Status,Services,RootCAType,CertificateDomains,Identity,RawData | ConvertTo-Json > exchange-certificates.json",
            Export::ReceiveConnectors => "Get-ReceiveConnector -Server $env:COMPUTERNAME | Select-Object Identity,Name,Server,TransportRole,Bindings,RemoteIPRanges,Fqdn,TlsCertificateName,TlsDomainCapabilities,AuthMechanism,Enabled | ConvertTo-Json > receive-connectors.json",
            Export::SendConnectors => "Get-SendConnector | Select-Object Identity,Name,AddressSpaces,SmartHosts,Fqdn,TlsCertificateName,TlsAuthLevel,TlsDomain,RequireTLS,CloudServicesMailEnabled,Enabled,SourceTransportServers | ConvertTo-Json > send-connectors.json",
            Export::StoreListing(Store::My) => "ConvertTo-Json -InputObject @(Get-ChildItem Cert:\\LocalMachine\\My | Select-Object @{n='Store';e={'My'}},Thumbprint,Subject,Issuer,FriendlyName,HasPrivateKey,NotBefore,NotAfter,@{n='RawData';e={[Convert]::ToBase64String($_.RawData)}}) > store-My.json",
            Export::StoreListing(Store::Ca) => "ConvertTo-Json -InputObject @(Get-ChildItem Cert:\\LocalMachine\\CA | Select-Object @{n='Store';e={'CA'}},Thumbprint,Subject,Issuer,FriendlyName,HasPrivateKey,NotBefore,NotAfter,@{n='RawData';e={[Convert]::ToBase64String($_.RawData)}}) > store-CA.json",
            Export::StoreListing(_) => "ConvertTo-Json -InputObject @(Get-ChildItem Cert:\\LocalMachine\\Root | Select-Object @{n='Store';e={'Root'}},Thumbprint,Subject,Issuer,FriendlyName,HasPrivateKey,NotBefore,NotAfter,@{n='RawData';e={[Convert]::ToBase64String($_.RawData)}}) > store-Root.json",
            Export::InboundConnectors => "Get-InboundConnector | ConvertTo-Json -Depth 4 | Out-File inbound-connectors.json",
            Export::OutboundConnectors => "Get-OutboundConnector | ConvertTo-Json -Depth 4 | Out-File outbound-connectors.json",
            Export::TransportServices => "Get-TransportService | Select-Object Name,InternalTransportCertificateThumbprint | ConvertTo-Json > transport-services.json",
            Export::AcceptedDomains => "Get-AcceptedDomain | ConvertTo-Json -Depth 4 | Out-File accepted-domains.json",
            Export::TlsSettings => TLS_SETTINGS_COMMAND,
            Export::Events => "Get-WinEvent -FilterHashtable @{LogName='Application'; ProviderName='MSExchangeFrontEndTransport','MSExchangeTransport','MSExchange EdgeSync'; Id=12014,12016,12018,12023,12012,12013,12015,12024,2004,1035; StartTime=(Get-Date).AddDays(-7)} -ErrorAction SilentlyContinue | Select-Object TimeCreated,Id,ProviderName,MachineName,Message | ConvertTo-Json > exchange-events.json",
            Export::ProtocolLogs => "Get-ChildItem -Path (Get-FrontendTransportService $env:COMPUTERNAME).ReceiveProtocolLogPath -Filter RECV*.LOG | Sort-Object LastWriteTime | Select-Object -Last 1 | Copy-Item -Destination .",
        }
    }
}

/// The hand export of what the collector writes to `tls-settings.json`: the SCHANNEL values of
/// TLS 1.0 to 1.3 (Server and Client), the .NET SystemDefaultTlsVersions and SchUseStrongCrypto
/// (v4 and v2, 64- and 32-bit), the cipher suites and the builds; null where a value is not set.
const TLS_SETTINGS_COMMAND: &str = r"$o=[ordered]@{ComputerName=$env:COMPUTERNAME; OSVersion=[string][Environment]::OSVersion.Version; ExchangeVersion=[string](Get-ExchangeServer $env:COMPUTERNAME).AdminDisplayVersion}; foreach ($t in '1.0','1.1','1.2','1.3') { foreach ($side in 'Server','Client') { $k=Get-ItemProperty ('HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS ' + $t + '\' + $side) -ErrorAction SilentlyContinue; foreach ($name in 'Enabled','DisabledByDefault') { $o['Tls' + $t.Replace('.','') + $side + $name]=$k.$name } } }; foreach ($net in @(@('V4','v4.0.30319'),@('V2','v2.0.50727'))) { foreach ($wow in '','Wow') { $k=Get-ItemProperty ('HKLM:\SOFTWARE\' + @{''='';'Wow'='Wow6432Node\'}[$wow] + 'Microsoft\.NETFramework\' + $net[1]) -ErrorAction SilentlyContinue; foreach ($name in 'SystemDefaultTlsVersions','SchUseStrongCrypto') { $o['Net' + $net[0] + $wow + $name]=$k.$name } } }; $o.TlsCipherSuites=@(Get-TlsCipherSuite | ForEach-Object Name); [pscustomobject]$o | ConvertTo-Json > tls-settings.json";

/// What a check lacked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// An export that was not among the inputs.
    Export(Export),
    /// A property the check reads, absent from an object of an export that was given.
    Property {
        property: &'static str,
        source: Source,
        export: Export,
    },
    /// An export that was given in `files`, none of whose records is the server's: made on
    /// another server, for another server, or empty.
    Record {
        export: Export,
        server: String,
        files: Vec<String>,
    },
}

/// Whether `input` was given as `export`: read as its kind, or empty (a server that had none of
/// what it lists) and named as the collector names that export.
pub fn given_as(input: &InputFile, export: Export) -> bool {
    match input.kind {
        InputKind::Empty => KINDS.iter().any(|spec| {
            Export::of(spec.kind) == Some(export)
                && spec.file_names.iter().any(|name| input.path.ends_with(name))
        }),
        kind => Export::of(kind) == Some(export),
    }
}

/// What a check of `server` lacks when no record of `export` is the server's: the server's
/// record, when the export was given (the files that hold it, an empty one by its name), else
/// the export. "Was not given" of a file the admin gave sent them looking for a file they had.
pub fn record_or_export(inventory: &Inventory, export: Export, server: &str) -> Missing {
    let files: Vec<String> = inventory
        .inputs
        .iter()
        .filter(|input| given_as(input, export))
        .map(|input| input.path.clone())
        .collect();
    match files.is_empty() {
        true => Missing::Export(export),
        false => Missing::Record {
            export,
            server: server.to_owned(),
            files,
        },
    }
}

impl Missing {
    /// What is missing, in words: `the Cert:\LocalMachine\CA listing`, `AuthMechanism`.
    pub fn what(&self) -> String {
        match self {
            Missing::Export(export) => export.describe().to_owned(),
            Missing::Property { property, .. } => (*property).to_owned(),
            Missing::Record { export, server, .. } => {
                format!("the record of {server} in {}", export.describe())
            }
        }
    }

    pub fn export(&self) -> Export {
        match self {
            Missing::Export(export) | Missing::Property { export, .. } | Missing::Record { export, .. } => {
                *export
            }
        }
    }

    /// How to get it, before the command.
    pub fn how(&self) -> String {
        match self {
            Missing::Export(export) => format!("export it {}", export.shell()),
            Missing::Property { property, export, .. } => format!(
                "export again with {property} in the Select-Object list ({}), or use `hybridtls collect`",
                export.shell()
            ),
            Missing::Record { export, server, .. } => {
                format!("export it again so that it holds {server}, {}", export.shell())
            }
        }
    }
}

/// A check that did not run, or ran without a value it needs, so the plan cannot call its
/// subject right. Every renderer lists it, and `--detailed-exitcode` never exits 0 with one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJudged {
    pub rule: &'static Rule,
    /// None for an organisation-wide object (a send connector, an Exchange Online connector).
    pub server: Option<String>,
    /// What the check is about: a connector, a certificate, a server.
    pub object: String,
    pub missing: Missing,
}

impl NotJudged {
    /// `AuthMechanism is missing from receive-connectors.json, record 1 ("Default Frontend EX01")`.
    pub fn reason(&self) -> String {
        match &self.missing {
            Missing::Export(export) => format!("{} was not given", export.describe()),
            Missing::Property { property, source, .. } => {
                format!("{property} is missing from {}, {}", source.file, source.position)
            }
            Missing::Record {
                export,
                server,
                files,
            } => {
                format!(
                    "{} was given ({}) but holds no record of {server}",
                    export.describe(),
                    files.join(", ")
                )
            }
        }
    }
}
