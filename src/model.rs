//! The normalised model every reader produces and every later stage reads: servers, their
//! connectors and certificates, each remembering where it came from.

use std::fmt;

use time::OffsetDateTime;

use crate::error::Position;
use crate::x509::{dn_key, CertificateFacts};

/// Where a value came from, for evidence in findings and for errors about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    pub position: Position,
}

/// An input file as read, for the plan's record of what it was based on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: String,
    pub hash: FileHash,
    pub kind: InputKind,
    pub encoding: Option<&'static str>,
    pub records: usize,
    /// The servers whose objects the file holds, sorted; empty for an organisation-wide file
    /// (send connectors, supplied CA certificates), which every server's plan depends on.
    pub servers: Vec<String>,
    /// The Exchange organisation the file's directory objects name, when they name one.
    pub organisation: Option<Organisation>,
}

/// The Exchange organisation an export comes from, read from the distinguished name of a
/// directory object in it (`CN=<Org>,CN=Microsoft Exchange,CN=Services,CN=Configuration,DC=...`).
/// An Active Directory forest holds one Exchange organisation, so the forest's root domain tells
/// organisations apart even when both have the default name `First Organization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// The organisation's name, as its RDN writes it.
    pub name: String,
    /// The forest's root domain as the configuration naming context writes it, `DC=contoso,DC=com`.
    pub forest: String,
    /// The object and field it was read from.
    pub source: Source,
}

impl Organisation {
    /// Whether both name the same organisation: Active Directory compares names
    /// case-insensitively.
    pub fn same_as(&self, other: &Organisation) -> bool {
        self.name.eq_ignore_ascii_case(&other.name) && self.forest.eq_ignore_ascii_case(&other.forest)
    }
}

impl fmt::Display for Organisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} in the forest {}", self.name, self.forest)
    }
}

/// An input file's fingerprint. Exports are hashed with SHA-256, which `Get-FileHash` prints by
/// default; protocol logs, which run to gigabytes, with BLAKE3 (`b3sum`), which hashes at
/// several times the speed, so that the hash does not set the pace of reading them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHash {
    pub algorithm: HashAlgorithm,
    /// Lowercase hex.
    pub hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    Sha256,
    Blake3,
}

impl HashAlgorithm {
    /// The name `Get-FileHash -Algorithm` and `b3sum` users know it by.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "SHA256",
            HashAlgorithm::Blake3 => "BLAKE3",
        }
    }
}

impl std::fmt::Display for FileHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.algorithm.name(), self.hex)
    }
}

/// What an input file holds. Everything hybridtls knows about each kind is in its entry of the
/// table `input::kinds::KINDS`, which lists the kinds in the order declared here (the order their
/// signatures are tried in), `Empty` last: the build checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InputKind {
    ExchangeServer,
    HybridConfiguration,
    AuthConfig,
    TransportServices,
    InboundConnectors,
    OutboundConnectors,
    AcceptedDomains,
    CertificateStore,
    ExchangeCertificates,
    SendConnectors,
    ReceiveConnectors,
    CertificateFile,
    ProtocolLog,
    TlsSettings,
    ExchangeEvents,
    SavedProbe,
    Empty,
}

/// The `ServerRole` of an Exchange server, as far as TLS planning cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    Mailbox,
    Edge,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// NetBIOS name, as `$env:COMPUTERNAME` reports it (compared case-insensitively).
    pub name: String,
    pub fqdn: Option<String>,
    pub kind: Option<ServerKind>,
    pub release: ExchangeRelease,
    /// The folder its server record was read from, to attribute store listings in it.
    pub folder: Option<String>,
}

/// The Exchange release a server runs, parsed once from `AdminDisplayVersion` when the server is
/// read (`Version 15.1 (Build 2507.6)`): 14 is 2010, 15.0 2013, 15.1 2016, 15.2 2019 and SE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeRelease {
    Exchange2010,
    Exchange2013,
    Exchange2016,
    /// Exchange 2019 and Subscription Edition, which share version 15.2 and the certificate
    /// selection hybridtls models.
    Exchange2019,
    /// No `AdminDisplayVersion`, or one of no release above: what differs between releases is
    /// kept open.
    Unknown,
}

impl ExchangeRelease {
    /// The release of an `AdminDisplayVersion`, as Exchange writes it (`Version 15.2 (Build
    /// 1544.4)`) or as a bare version (`15.2.1544.4`).
    pub fn from_admin_display_version(version: &str) -> Self {
        let version = version.trim();
        let number = version.strip_prefix("Version ").unwrap_or(version);
        let mut parts = number
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .split('.')
            .map(str::parse::<u32>);
        match (
            parts.next().and_then(Result::ok),
            parts.next().and_then(Result::ok),
        ) {
            (Some(14), _) => ExchangeRelease::Exchange2010,
            (Some(15), Some(0)) => ExchangeRelease::Exchange2013,
            (Some(15), Some(1)) => ExchangeRelease::Exchange2016,
            (Some(15), Some(2)) => ExchangeRelease::Exchange2019,
            _ => ExchangeRelease::Unknown,
        }
    }

    /// The release in words, as messages name it.
    pub fn label(self) -> &'static str {
        match self {
            ExchangeRelease::Exchange2010 => "Exchange 2010",
            ExchangeRelease::Exchange2013 => "Exchange 2013",
            ExchangeRelease::Exchange2016 => "Exchange 2016",
            ExchangeRelease::Exchange2019 => "Exchange 2019/SE",
            ExchangeRelease::Unknown => "an unknown release",
        }
    }
}

/// `TransportRole` of a receive connector (`ServerRole` flags: FrontendTransport 16384, HubTransport 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportRole {
    FrontendTransport,
    HubTransport,
    Other(u64),
}

/// A `TlsCertificateName` value (`SmtpX509Identifier`): `<I>issuer<S>subject`, issuer optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsCertificateName {
    pub issuer: Option<String>,
    pub subject: String,
}

impl TlsCertificateName {
    pub fn for_certificate(certificate: &Certificate) -> Self {
        TlsCertificateName {
            issuer: Some(certificate.issuer.clone()),
            subject: certificate.subject.clone(),
        }
    }

    /// Parses the string form; tags are case-insensitive and `<I>` is optional, as in
    /// Exchange's own parser (`^(<I>([^<]+))?(<S>(.+))`).
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        let subject_at = lower.find("<s>")?;
        let issuer = if lower.starts_with("<i>") {
            let issuer = &text[3..subject_at];
            if issuer.is_empty() || issuer.contains('<') {
                return None;
            }
            Some(issuer.to_owned())
        } else if subject_at == 0 {
            None
        } else {
            return None;
        };
        let subject = &text[subject_at + 3..];
        (!subject.is_empty()).then(|| TlsCertificateName {
            issuer,
            subject: subject.to_owned(),
        })
    }

    /// Whether `certificate` is what this name selects: same subject and (when given) issuer,
    /// compared as Exchange does after normalising both distinguished names.
    pub fn matches(&self, certificate: &Certificate) -> bool {
        dn_key(&self.subject) == dn_key(&certificate.subject)
            && self
                .issuer
                .as_ref()
                .is_none_or(|issuer| dn_key(issuer) == dn_key(&certificate.issuer))
    }

    pub fn same_as(&self, other: &TlsCertificateName) -> bool {
        dn_key(&self.subject) == dn_key(&other.subject)
            && self.issuer.as_deref().map(dn_key) == other.issuer.as_deref().map(dn_key)
    }
}

impl fmt::Display for TlsCertificateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(issuer) = &self.issuer {
            write!(f, "<I>{issuer}")?;
        }
        write!(f, "<S>{}", self.subject)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveConnector {
    pub server: String,
    pub name: String,
    pub role: Option<TransportRole>,
    pub bindings: Vec<String>,
    /// `RemoteIPRanges`: the remote addresses the connector accepts; empty when not exported.
    pub remote_ip_ranges: Vec<crate::ip_range::IpRange>,
    pub fqdn: Option<String>,
    pub tls_certificate_name: Option<TlsCertificateName>,
    pub tls_domain_capabilities: Vec<String>,
    pub auth_mechanism: Option<AuthMechanism>,
    pub enabled: Option<bool>,
    pub source: Source,
}

/// The `AuthMechanism` flags of a receive connector [DECOMP AuthMechanisms.cs], kept as the
/// number Exchange stores, which messages show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthMechanism(u64);

impl AuthMechanism {
    /// STARTTLS is offered.
    pub const TLS: Self = Self(1);
    /// Exchange servers authenticate here: the connector carries mail between Exchange servers.
    pub const EXCHANGE_SERVER: Self = Self(16);
    /// Each flag's name, as a property bag or `ToString()` writes it.
    pub const NAMES: &[(&str, u64)] = &[
        ("None", 0),
        ("Tls", Self::TLS.0),
        ("Integrated", 2),
        ("BasicAuth", 4),
        ("BasicAuthRequireTLS", 8),
        ("ExchangeServer", Self::EXCHANGE_SERVER.0),
        ("ExternalAuthoritative", 32),
    ];

    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    pub const fn bits(self) -> u64 {
        self.0
    }

    pub const fn contains(self, flag: Self) -> bool {
        self.0 & flag.0 == flag.0
    }
}

impl ReceiveConnector {
    /// `SERVER\Name`, the identity Exchange cmdlets accept.
    pub fn identity(&self) -> String {
        format!("{}\\{}", self.server, self.name)
    }

    pub fn listens_on_port(&self, port: u16) -> bool {
        let suffix = format!(":{port}");
        self.bindings.iter().any(|binding| binding.ends_with(&suffix))
    }
}

/// The organisation's one HybridConfiguration object (`Get-HybridConfiguration`): what the Hybrid
/// Configuration Wizard configures the connectors with when it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HybridConfiguration {
    pub tls_certificate_name: Option<TlsCertificateName>,
    pub sending_transport_servers: Vec<String>,
    pub receiving_transport_servers: Vec<String>,
    pub edge_transport_servers: Vec<String>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendConnector {
    pub name: String,
    pub fqdn: Option<String>,
    pub tls_certificate_name: Option<TlsCertificateName>,
    pub smart_hosts: Vec<String>,
    pub address_spaces: Vec<String>,
    pub cloud_services_mail_enabled: Option<bool>,
    /// `TlsAuthLevel` (EncryptionOnly, CertificateValidation, DomainValidation); None when null
    /// or not exported.
    pub tls_auth_level: Option<TlsAuthLevel>,
    /// `TlsDomain`: the domain the remote certificate is validated against under
    /// DomainValidation.
    pub tls_domain: Option<String>,
    pub require_tls: Option<bool>,
    pub enabled: Option<bool>,
    pub source_servers: Vec<String>,
    /// Properties a check reads that the export did not hold at all (left out of its
    /// Select-Object list), as opposed to null: `SourceTransportServers` and the TLS settings HT034
    /// reads.
    pub absent: Vec<&'static str>,
    pub source: Source,
}

impl SendConnector {
    /// Whether two copies of the connector (read from different folders) say the same: every
    /// property read, whatever file it came from.
    pub fn same_settings(&self, other: &SendConnector) -> bool {
        SendConnector {
            source: other.source.clone(),
            absent: other.absent.clone(),
            ..self.clone()
        } == *other
    }

    /// Whether this connector sends to Exchange Online, in any of its clouds (HealthChecker's
    /// rule, see [`EXCHANGE_ONLINE_CLOUDS`]: a smart host in the cloud's protection domain, an
    /// address space in its routing domain), or carries the hybrid flag.
    pub fn targets_exchange_online(&self) -> bool {
        self.cloud_services_mail_enabled == Some(true)
            || self
                .smart_hosts
                .iter()
                .any(|host| strictly_below(host, MX_MICROSOFT))
            || EXCHANGE_ONLINE_CLOUDS.iter().any(|cloud| {
                self.smart_hosts
                    .iter()
                    .any(|host| strictly_below(host, cloud.protection_domain))
                    || self.address_spaces.iter().any(|space| {
                        strictly_below(space.split(';').next().unwrap_or(""), cloud.routing_domain)
                    })
            })
    }
}

/// Whether `name` is a subdomain of `parent` (not `parent` itself), case-insensitively.
pub(crate) fn strictly_below(name: &str, parent: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.strip_suffix(&parent.to_ascii_lowercase())
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(|label| !label.is_empty())
}

/// Exchange Online's newer inbound endpoints, `<domain>.<zone>.mx.microsoft` (DNSSEC and SMTP
/// DANE; "Exchange Online TCP 25 endpoints" on Microsoft Learn's "Microsoft 365 URLs and IP
/// address ranges" list `*.mx.microsoft`). HealthChecker does not know them yet.
pub const MX_MICROSOFT: &str = "mx.microsoft";

/// An Exchange Online cloud, by the domains on-premises connectors name it with.
#[derive(Debug, PartialEq, Eq)]
pub struct ExchangeOnlineCloud {
    /// Smart hosts are `<tenant>.<protection_domain>`; it is also the `TlsDomain` of the send
    /// connector and the domain of the hybrid receive connector's `TlsDomainCapabilities`.
    pub protection_domain: &'static str,
    /// Address spaces of DNS-routed send connectors are `<tenant>.<routing_domain>`.
    pub routing_domain: &'static str,
}

/// The clouds HealthChecker tells apart (microsoft/CSS-Exchange,
/// `Diagnostics/HealthChecker/Analyzer/Invoke-AnalyzerFrequentConfigurationIssues.ps1`:
/// `$eopDomainRegExPattern`, `$remoteRoutingDomainRegExPattern`, `$serviceDomainRegExPattern`).
pub const EXCHANGE_ONLINE_CLOUDS: &[ExchangeOnlineCloud] = &[
    // worldwide
    ExchangeOnlineCloud {
        protection_domain: "mail.protection.outlook.com",
        routing_domain: "mail.onmicrosoft.com",
    },
    // operated by 21Vianet in China
    ExchangeOnlineCloud {
        protection_domain: "mail.protection.partner.outlook.cn",
        routing_domain: "mail.partner.onmschina.cn",
    },
    // US Government GCC High and DoD
    ExchangeOnlineCloud {
        protection_domain: "mail.protection.office365.us",
        routing_domain: "mail.onmicrosoft.us",
    },
];

/// `ConnectorType` of an Exchange Online connector (`TenantConnectorType`: OnPremises = 1,
/// Partner = 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantConnectorType {
    OnPremises,
    Partner,
}

/// `TlsSettings` of an Exchange Online outbound connector (`TlsAuthLevel`: EncryptionOnly = 1,
/// CertificateValidation = 2, DomainValidation = 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsAuthLevel {
    EncryptionOnly,
    CertificateValidation,
    DomainValidation,
}

/// An Exchange Online inbound connector (`Get-InboundConnector`, organisation-wide). With
/// `ConnectorType` OnPremises and a `TlsSenderCertificateName`, Exchange Online attributes mail
/// from on-premises to the tenant by the certificate the on-premises send connector presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundConnector {
    pub name: String,
    pub connector_type: Option<TenantConnectorType>,
    pub enabled: Option<bool>,
    /// An SMTP domain; `*.contoso.com` stands for "a domain and all subdomains".
    pub tls_sender_certificate_name: Option<String>,
    /// Properties a check reads that the export did not hold at all, as opposed to null (a
    /// connector that attributes by `SenderIPAddresses` has a null `TlsSenderCertificateName`).
    pub absent: Vec<&'static str>,
    pub source: Source,
}

impl InboundConnector {
    /// The `TlsSenderCertificateName` of an enabled OnPremises connector: the name Exchange
    /// Online matches the on-premises sender's certificate against.
    pub fn attributing_name(&self) -> Option<&str> {
        (self.connector_type == Some(TenantConnectorType::OnPremises) && self.enabled != Some(false))
            .then_some(self.tls_sender_certificate_name.as_deref())
            .flatten()
    }
}

/// An Exchange Online outbound connector (`Get-OutboundConnector`, organisation-wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundConnector {
    pub name: String,
    pub connector_type: Option<TenantConnectorType>,
    pub enabled: Option<bool>,
    pub tls_settings: Option<TlsAuthLevel>,
    /// An SMTP domain; `*.contoso.com` stands for "all subdomains of a domain".
    pub tls_domain: Option<String>,
    pub smart_hosts: Vec<String>,
    pub source: Source,
}

impl OutboundConnector {
    /// The `TlsDomain` an enabled OnPremises connector with `TlsSettings` DomainValidation
    /// validates the on-premises certificate against.
    pub fn validated_domain(&self) -> Option<&str> {
        (self.connector_type == Some(TenantConnectorType::OnPremises)
            && self.enabled != Some(false)
            && self.tls_settings == Some(TlsAuthLevel::DomainValidation))
        .then_some(self.tls_domain.as_deref())
        .flatten()
    }
}

/// Which `Cert:\LocalMachine\...` store a certificate was listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Store {
    My,
    Ca,
    Root,
    /// A certificate file the admin supplied, not installed anywhere.
    File,
}

impl Store {
    pub fn path(self) -> &'static str {
        match self {
            Store::My => "Cert:\\LocalMachine\\My",
            Store::Ca => "Cert:\\LocalMachine\\CA",
            Store::Root => "Cert:\\LocalMachine\\Root",
            Store::File => "(file)",
        }
    }
}

/// A certificate as installed on a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// NetBIOS name of the server it is installed on, once known.
    pub server: Option<String>,
    pub store: Store,
    pub thumbprint: String,
    pub subject: String,
    pub issuer: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    /// CN and SAN DNS names (Exchange's CertificateDomains when the DER was not exported).
    pub names: Vec<String>,
    pub self_signed: bool,
    pub has_private_key: Option<bool>,
    /// Read from a `Cert:\LocalMachine` store listing, whose `HasPrivateKey` is the store's own
    /// answer. Only such certificates may be planned for removal: `HasPrivateKey` from
    /// Get-ExchangeCertificate through remoting can be false while the server has the key.
    pub from_store_listing: bool,
    /// `Services` from Get-ExchangeCertificate.
    pub services: Option<Services>,
    /// `CertificateStatus` from Get-ExchangeCertificate (Valid = 1).
    pub status: Option<u64>,
    /// `RootCAType` from Get-ExchangeCertificate: what kind of root the chain ends in; None
    /// when not exported.
    pub root_ca_type: Option<RootCaType>,
    pub friendly_name: Option<String>,
    pub facts: Option<CertificateFacts>,
    pub source: Source,
}

/// The services Exchange enabled a certificate for, its `AllowedServices` flags [DECOMP
/// AllowedServices.cs].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Services(u64);

impl Services {
    pub const SMTP: Self = Self(16);
    /// Each flag's name, as a property bag or `ToString()` writes it.
    pub const NAMES: &[(&str, u64)] = &[
        ("None", 0),
        ("IMAP", 1),
        ("POP", 2),
        ("UM", 4),
        ("IIS", 8),
        ("SMTP", Self::SMTP.0),
        ("Federation", 32),
        ("UMCallRouter", 64),
    ];

    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    pub const fn contains(self, flag: Self) -> bool {
        self.0 & flag.0 == flag.0
    }
}

pub const STATUS_VALID: u64 = 1;
/// `CertificateStatus` values with a meaning of their own [DECOMP CertificateStatus.cs].
pub const STATUS_REVOKED: u64 = 2;
pub const STATUS_DATE_INVALID: u64 = 3;
pub const STATUS_UNTRUSTED: u64 = 4;
pub const STATUS_INVALID: u64 = 5;
pub const STATUS_REVOCATION_CHECK_FAILURE: u64 = 6;

/// `RootCAType` of Get-ExchangeCertificate (`CertificateAuthorityType` [DECOMP
/// CertificateAuthorityType.cs]: None = 0, ThirdParty = 1, Enterprise = 2, Registry = 3,
/// GroupPolicy = 4, Unknown = 5). Get-ExchangeCertificate (Microsoft Learn): `None` is the Auth
/// certificate and new self-signed certificates, `Registry` Exchange's self-signed ones,
/// `Unknown` pending requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootCaType {
    None,
    ThirdParty,
    Enterprise,
    Registry,
    GroupPolicy,
    Unknown,
}

impl RootCaType {
    pub const NAMES: &[(&str, u64)] = &[
        ("None", 0),
        ("ThirdParty", 1),
        ("Enterprise", 2),
        ("Registry", 3),
        ("GroupPolicy", 4),
        ("Unknown", 5),
    ];

    pub fn from_value(value: u64) -> Option<Self> {
        Some(match value {
            0 => RootCaType::None,
            1 => RootCaType::ThirdParty,
            2 => RootCaType::Enterprise,
            3 => RootCaType::Registry,
            4 => RootCaType::GroupPolicy,
            5 => RootCaType::Unknown,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            RootCaType::None => "None",
            RootCaType::ThirdParty => "ThirdParty",
            RootCaType::Enterprise => "Enterprise",
            RootCaType::Registry => "Registry",
            RootCaType::GroupPolicy => "GroupPolicy",
            RootCaType::Unknown => "Unknown",
        }
    }

    /// A root the organisation made trusted itself (an enterprise CA published in Active
    /// Directory, a root deployed by Group Policy, one added to the registry store): "certificates
    /// generated by your organization as the CA aren't supported in hybrid mail transport"
    /// (Certificate requirements for hybrid deployments, Microsoft Learn).
    pub fn is_private(self) -> bool {
        matches!(
            self,
            RootCaType::Enterprise | RootCaType::Registry | RootCaType::GroupPolicy
        )
    }
}

impl Certificate {
    /// The lifetime in whole days, NotBefore to NotAfter.
    pub fn lifetime_days(&self) -> i64 {
        (self.not_after - self.not_before).whole_days()
    }

    /// The kind of input it was read from.
    pub fn read_from(&self) -> InputKind {
        match (self.from_store_listing, self.store) {
            (true, _) => InputKind::CertificateStore,
            (false, Store::File) => InputKind::CertificateFile,
            (false, _) => InputKind::ExchangeCertificates,
        }
    }

    /// Its validity at `now`: `valid`, `expired` or `not yet valid`.
    pub fn validity(&self, now: OffsetDateTime) -> &'static str {
        if now > self.not_after {
            "expired"
        } else if now < self.not_before {
            "not yet valid"
        } else {
            "valid"
        }
    }

    /// The certificate as every output shows it, its validity judged at `now`: an expired
    /// certificate says so wherever it appears (issue 17 point 5), not "valid to" a past date.
    pub fn line(&self, now: OffsetDateTime) -> String {
        let mut notes = Vec::new();
        if self.self_signed {
            notes.push("self-signed".to_owned());
        }
        if self.has_private_key == Some(false) {
            notes.push("no private key".to_owned());
        }
        notes.push(if now > self.not_after {
            format!("EXPIRED on {}", date(self.not_after))
        } else if now < self.not_before {
            format!("not valid before {}", date(self.not_before))
        } else {
            format!("valid to {}", date(self.not_after))
        });
        format!("{} {} ({})", self.thumbprint, self.subject, notes.join(", "))
    }

    /// A certificate known only from its DER: names are the CN and the SAN DNS names, as in
    /// Exchange's CertificateDomains; what only a store or Exchange knows is left unknown.
    pub fn from_facts(facts: CertificateFacts, store: Store, source: Source) -> Self {
        let mut names: Vec<String> = facts.common_name.iter().cloned().collect();
        for name in &facts.dns_names {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.clone());
            }
        }
        Certificate {
            server: None,
            store,
            thumbprint: facts.thumbprint.clone(),
            subject: facts.subject.clone(),
            issuer: facts.issuer.clone(),
            not_before: facts.not_before,
            not_after: facts.not_after,
            names,
            self_signed: facts.self_signed,
            has_private_key: None,
            from_store_listing: false,
            services: None,
            status: None,
            root_ca_type: None,
            friendly_name: None,
            facts: Some(facts),
            source,
        }
    }

    pub fn valid_at(&self, now: OffsetDateTime) -> bool {
        self.not_before <= now && now <= self.not_after && self.status.is_none_or(|s| s == STATUS_VALID)
    }

    /// Whether a name in the certificate satisfies the hybrid name `hybrid`, the name Exchange
    /// Online validates the presented certificate against (the `TlsDomain` of its outbound
    /// connector), matched as Exchange Online matches `TlsDomain`: see [`exo_domain_matches`].
    pub fn covers(&self, hybrid: &str) -> bool {
        self.names
            .iter()
            .any(|name| exo_domain_matches(hybrid, name, Apex::Excluded))
    }

    pub fn smtp_enabled(&self) -> bool {
        self.services.is_some_and(|s| s.contains(Services::SMTP))
    }
}

/// The most specific CN of a .NET-form distinguished name (`CN=a, O="b, c", C=US` → `a`).
pub fn common_name(dn: &str) -> Option<String> {
    let mut rdns = Vec::new();
    let (mut current, mut quoted) = (String::new(), false);
    for c in dn.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' | '+' if !quoted => rdns.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    rdns.push(current);
    rdns.iter().find_map(|rdn| {
        let (key, value) = rdn.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("CN")
            .then(|| value.trim().trim_matches('"').replace("\"\"", "\""))
    })
}

/// Why a `TlsCertificateName` cannot name a certificate with this subject; None when it can.
/// Exchange's `SmtpX509Identifier` takes the CN of the subject (`CN=(.*?)($|,)`), which must
/// parse as an SMTP domain, `*.` allowed (InvalidDomainInSmtpX509Identifier otherwise; decompiled
/// `Microsoft.Exchange.Data/SmtpX509Identifier.cs`, exchange-formats.md §3.1): a certificate whose
/// names are only in the SAN, or whose CN is words (`Microsoft Exchange Server Auth
/// Certificate`), cannot be named. A domain here is dot-separated labels of letters, digits and
/// hyphens (RFC 1035 host names), not starting or ending with a hyphen.
pub fn smtp_x509_subject_problem(subject: &str) -> Option<String> {
    let Some(cn) = common_name(subject) else {
        return Some(format!(
            "its subject {subject:?} has no CN, and TlsCertificateName names a certificate by the domain in its subject CN (SmtpX509Identifier); names only in the SAN do not count"
        ));
    };
    let host = cn.strip_prefix("*.").unwrap_or(&cn);
    let domain = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    (!domain).then(|| {
        format!(
            "its subject CN {cn:?} is not a domain name, and TlsCertificateName names a certificate by the domain in its subject CN (SmtpX509Identifier: Set-ReceiveConnector and Set-SendConnector refuse the value)"
        )
    })
}

/// Whether the certificate name `name` (CN or SAN DNS name) covers the host name `fqdn`: exact
/// match, or a wildcard `*.rest` standing for exactly one leftmost label (RFC 6125 §6.4.3), as
/// Exchange's own certificate search by FQDN matches.
pub fn name_covers(name: &str, fqdn: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let fqdn = fqdn.trim_end_matches('.').to_ascii_lowercase();
    match name.strip_prefix("*.") {
        Some(parent) => fqdn
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && label != "*" && rest == parent),
        None => name == fqdn,
    }
}

/// Whether an Exchange Online domain pattern also stands for the domain itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apex {
    /// `TlsSenderCertificateName` of an inbound connector: "a domain and all subdomains".
    Included,
    /// `TlsDomain` of an outbound connector: "all subdomains of a domain".
    Excluded,
}

/// Whether the certificate name `name` satisfies the Exchange Online connector value `pattern`
/// (an SMTP domain such as `TlsDomain` or `TlsSenderCertificateName`).
///
/// A plain `pattern` is a host name: `name` covers it as in [`name_covers`] (exactly, or as a
/// single-label wildcard, as TLS clients match; Microsoft Learn does not say so for these
/// parameters, and the on-premises side has always been judged this way). A wildcard `pattern` `*.contoso.com` stands, in Microsoft Learn's
/// words, for "all subdomains of a domain" (Set-OutboundConnector, `-TlsDomain`) or "a domain
/// and all subdomains" (Set-InboundConnector, `-TlsSenderCertificateName`), so any certificate
/// name inside it matches: `*.contoso.com` itself, `mail.contoso.com`, `a.b.contoso.com`,
/// `*.b.contoso.com`, and `contoso.com` only when `apex` is [`Apex::Included`].
pub fn exo_domain_matches(pattern: &str, name: &str, apex: Apex) -> bool {
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    let Some(parent) = pattern.strip_prefix("*.") else {
        return name_covers(name, &pattern);
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let base = name.strip_prefix("*.").unwrap_or(&name);
    (name.starts_with("*.") && base == parent)
        || strictly_below(base, parent)
        || (apex == Apex::Included && name == parent)
}

/// The organisation's Auth configuration (`Get-AuthConfig`): which certificate Exchange signs
/// its OAuth tokens with (hybrid free/busy, MailTips and the like), by thumbprint. One object
/// per organisation; the certificate itself is in each server's Get-ExchangeCertificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// `CurrentCertificateThumbprint`, upper case; None when empty.
    pub current_thumbprint: Option<String>,
    /// `NextCertificateThumbprint`: a certificate staged to take over.
    pub next_thumbprint: Option<String>,
    /// `NextCertificateEffectiveDate`: when the next certificate takes over.
    pub next_effective_date: Option<OffsetDateTime>,
    pub source: Source,
}

/// A server's transport service (`Get-TransportService`): the certificate Exchange uses for
/// TLS between its own transport services (Mailbox to Mailbox, Edge to Mailbox), by thumbprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportService {
    /// The server, as `Name` says.
    pub server: String,
    /// `InternalTransportCertificateThumbprint`, upper case; None when empty or null.
    pub internal_certificate_thumbprint: Option<String>,
    pub source: Source,
}

/// An accepted domain of the Exchange Online tenant (`Get-AcceptedDomain` in Exchange Online
/// PowerShell, organisation-wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedDomain {
    /// `DomainName`, lower case, without a leading `*.`.
    pub domain: String,
    pub source: Source,
}

/// What a server record says beyond [`Server`]: its build and what the collector read from the
/// registry. None where the record does not say (a `Get-ExchangeServer` export, an older
/// collector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    pub server: String,
    /// Major, minor and build of `AdminDisplayVersion` (`Version 15.2 (Build 1748.10)`).
    pub build: Option<(u32, u32, u32)>,
    /// Its revision (the 10 above), which tells the Security Update installed on the CU.
    pub revision: Option<u32>,
    /// `DisableRootAutoUpdate` of `HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot`
    /// is set and not 0: Windows does not fetch trusted roots it lacks.
    pub root_auto_update_disabled: Option<bool>,
    /// `EnableEccCertificateSupport` of `HKLM\SOFTWARE\Microsoft\ExchangeServer\v15\Diagnostics`
    /// is 1: Exchange uses certificates with an ECDSA key.
    pub ecc_certificate_support: Option<bool>,
    pub source: Source,
}

/// A row group of an SMTP protocol log: the certificate a connector sent in one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sighting {
    /// The log's `date-time` (ISO 8601 UTC, so it sorts as text).
    pub time: String,
    /// `SERVER\Connector` for receive logs, the send connector's name for send logs.
    pub connector: String,
    pub thumbprint: Option<String>,
    pub subject: Option<String>,
    pub source: Source,
}

/// What a protocol log row says went wrong with TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogFailureKind {
    /// `TLS negotiation failed with error <status>`.
    Negotiation,
    /// `TlsDomainCapabilities='None'; Status='<status>'`: the remote's certificate did not
    /// earn the connector's domain capabilities (Exchange Online's, for a hybrid connector).
    DomainCapabilities,
    /// `TLS protocol SP_PROT_TLS1_0_...` or `_TLS1_1_`: a session negotiated TLS 1.0 or 1.1
    /// (status `TLS 1.0`, `TLS 1.1`), which Exchange Online refuses.
    OldProtocol,
    /// An EHLO response without STARTTLS before TLS was negotiated: the status says whose
    /// response it was (this server's, `>`, or the remote's, `<`) and whether STARTTLS was
    /// masked (`XXXXXXXA`, a firewall's SMTP inspection).
    NoStartTls,
    /// `Drop connection because TLS configuration requires TLS before MailFrom command and
    /// could not achieve it`: a send connector that requires TLS dropped a connection in which
    /// TLS did not start, and no other row of the session said why (status `TLS required before
    /// MAIL FROM`).
    TlsRequired,
}

/// The TLS failures of a protocol log, counted as it is read, one per connector, remote
/// address, kind and status: however many rows a log holds, only these are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFailure {
    /// `SERVER\Connector` for receive logs, the send connector's name for send logs.
    pub connector: String,
    /// The remote endpoint's address (without its port); empty when the log has none.
    pub remote: String,
    pub kind: LogFailureKind,
    /// The SecurityStatus (`NoCredentials`, `UntrustedRoot`...), or the protocol.
    pub status: String,
    pub count: u64,
    /// The first and last `date-time` of the rows.
    pub first: String,
    pub last: String,
    /// The first row, by file and line.
    pub sample: Source,
}

/// A server's TLS configuration as the collector reads it from the registry (`tls-settings.json`):
/// the SCHANNEL protocol values, the .NET Framework TLS values and the cipher suites, with the
/// OS and Exchange builds they were read on. A registry value not set is None.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `ComputerName`: the server they were read on.
    pub server: String,
    /// `OSVersion` (`10.0.17763.0`): the Windows build.
    pub os_build: Option<u32>,
    /// `ExchangeVersion`, the server's `AdminDisplayVersion`: major, minor, build.
    pub exchange_build: Option<(u32, u32, u32)>,
    /// Each property of [`SCHANNEL_VALUES`] and [`NET_VALUES`] with its DWORD, in that order.
    pub values: Vec<(&'static str, Option<i64>)>,
    /// `TlsCipherSuites`: `Get-TlsCipherSuite` names; None where the cmdlet is missing.
    pub cipher_suites: Option<Vec<String>>,
    pub source: Source,
}

/// The SCHANNEL values of [`TlsSettings`]: property, TLS version, side (`Server`, `Client`) and
/// registry value, under `HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS <version>\<side>`.
pub const SCHANNEL_VALUES: &[(&str, &str, &str, &str)] = &[
    ("Tls10ServerEnabled", "1.0", "Server", "Enabled"),
    (
        "Tls10ServerDisabledByDefault",
        "1.0",
        "Server",
        "DisabledByDefault",
    ),
    ("Tls10ClientEnabled", "1.0", "Client", "Enabled"),
    (
        "Tls10ClientDisabledByDefault",
        "1.0",
        "Client",
        "DisabledByDefault",
    ),
    ("Tls11ServerEnabled", "1.1", "Server", "Enabled"),
    (
        "Tls11ServerDisabledByDefault",
        "1.1",
        "Server",
        "DisabledByDefault",
    ),
    ("Tls11ClientEnabled", "1.1", "Client", "Enabled"),
    (
        "Tls11ClientDisabledByDefault",
        "1.1",
        "Client",
        "DisabledByDefault",
    ),
    ("Tls12ServerEnabled", "1.2", "Server", "Enabled"),
    (
        "Tls12ServerDisabledByDefault",
        "1.2",
        "Server",
        "DisabledByDefault",
    ),
    ("Tls12ClientEnabled", "1.2", "Client", "Enabled"),
    (
        "Tls12ClientDisabledByDefault",
        "1.2",
        "Client",
        "DisabledByDefault",
    ),
    ("Tls13ServerEnabled", "1.3", "Server", "Enabled"),
    (
        "Tls13ServerDisabledByDefault",
        "1.3",
        "Server",
        "DisabledByDefault",
    ),
    ("Tls13ClientEnabled", "1.3", "Client", "Enabled"),
    (
        "Tls13ClientDisabledByDefault",
        "1.3",
        "Client",
        "DisabledByDefault",
    ),
];

/// The .NET Framework values of [`TlsSettings`]: property, registry key under `HKLM\`, value.
pub const NET_VALUES: &[(&str, &str, &str)] = &[
    (
        "NetV4SystemDefaultTlsVersions",
        "SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
        "SystemDefaultTlsVersions",
    ),
    (
        "NetV4SchUseStrongCrypto",
        "SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
        "SchUseStrongCrypto",
    ),
    (
        "NetV4WowSystemDefaultTlsVersions",
        "SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
        "SystemDefaultTlsVersions",
    ),
    (
        "NetV4WowSchUseStrongCrypto",
        "SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
        "SchUseStrongCrypto",
    ),
    (
        "NetV2SystemDefaultTlsVersions",
        "SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727",
        "SystemDefaultTlsVersions",
    ),
    (
        "NetV2SchUseStrongCrypto",
        "SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727",
        "SchUseStrongCrypto",
    ),
    (
        "NetV2WowSystemDefaultTlsVersions",
        "SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v2.0.50727",
        "SystemDefaultTlsVersions",
    ),
    (
        "NetV2WowSchUseStrongCrypto",
        "SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v2.0.50727",
        "SchUseStrongCrypto",
    ),
];

impl TlsSettings {
    /// The DWORD of `property` (a name of [`SCHANNEL_VALUES`] or [`NET_VALUES`]).
    pub fn value(&self, property: &str) -> Option<i64> {
        self.values
            .iter()
            .find(|(name, _)| *name == property)
            .and_then(|(_, value)| *value)
    }
}

/// An event of the Application log the collector exports (`Get-WinEvent`): transport's TLS
/// certificate events and EdgeSync's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeEvent {
    /// `MachineName`, as its NetBIOS name.
    pub server: String,
    pub id: u32,
    /// `ProviderName`: `MSExchangeFrontEndTransport`, `MSExchangeTransport`, `MSExchange EdgeSync`.
    pub provider: String,
    pub time: OffsetDateTime,
    /// The first line of `Message`.
    pub message: String,
    pub source: Source,
}

/// What `hybridtls probe HOST:PORT --format json` saw, read back as evidence: what a server
/// really presented, as Exchange Online sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedProbe {
    /// HOST as given to the probe, lowercase.
    pub host: String,
    pub port: u16,
    pub probed_at: String,
    pub starttls_offered: bool,
    /// The leaf presented after STARTTLS; None when no TLS session was made.
    pub thumbprint: Option<String>,
    pub subject: Option<String>,
    pub source: Source,
}

/// Everything read from the inputs.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub inputs: Vec<InputFile>,
    pub servers: Vec<Server>,
    pub receive_connectors: Vec<ReceiveConnector>,
    pub send_connectors: Vec<SendConnector>,
    pub certificates: Vec<Certificate>,
    /// Files skipped while walking folders, with the reason, so nothing is silently ignored.
    pub skipped: Vec<(String, String)>,
    /// Which stores of which server were listed (during loading: of which file): a certificate
    /// can only be called missing from a store whose listing was given.
    pub listed_stores: Vec<(String, Store)>,
    /// What SMTP protocol logs show connectors really did.
    pub sightings: Vec<Sighting>,
    /// Copies of a send connector that differ from the one in `send_connectors` (read from
    /// another server's folder): an Edge server's EdgeSync'd copy can be stale while the
    /// organisation's is right. Each server's diagnosis uses its own folder's copy (HT021).
    pub send_connector_copies: Vec<SendConnector>,
    /// What `hybridtls probe` saw on a server's port (its saved JSON).
    pub probes: Vec<SavedProbe>,
    /// The TLS failures of the protocol logs, counted.
    pub log_failures: Vec<LogFailure>,
    /// Get-AuthConfig exports, in input order (the collector writes one per server folder; they
    /// describe the same organisation-wide object).
    pub auth_configs: Vec<AuthConfig>,
    /// Exchange Online `Get-InboundConnector` / `Get-OutboundConnector` exports, organisation-wide
    /// like the Auth configuration; empty when they were not given.
    pub inbound_connectors: Vec<InboundConnector>,
    pub outbound_connectors: Vec<OutboundConnector>,
    /// `Get-HybridConfiguration` exports; every export describes the same organisation object.
    pub hybrid_configurations: Vec<HybridConfiguration>,
    /// `Get-TransportService` exports: each server's internal transport certificate.
    pub transport_services: Vec<TransportService>,
    /// Exchange Online `Get-AcceptedDomain` exports; empty when not given.
    pub accepted_domains: Vec<AcceptedDomain>,
    /// What the server records say beyond each [`Server`], one per record.
    pub server_settings: Vec<ServerSettings>,
    /// Each server's `tls-settings.json` (SCHANNEL, .NET, cipher suites).
    pub tls_settings: Vec<TlsSettings>,
    /// Each server's `exchange-events.json`.
    pub events: Vec<ExchangeEvent>,
}

impl Inventory {
    /// Adds what `other` read after what this one holds, keeping input order.
    pub fn append(&mut self, other: Inventory) {
        let Inventory {
            inputs,
            servers,
            receive_connectors,
            send_connectors,
            certificates,
            skipped,
            listed_stores,
            sightings,
            send_connector_copies,
            probes,
            log_failures,
            auth_configs,
            inbound_connectors,
            outbound_connectors,
            hybrid_configurations,
            transport_services,
            accepted_domains,
            server_settings,
            tls_settings,
            events,
        } = other;
        self.inputs.extend(inputs);
        self.servers.extend(servers);
        self.receive_connectors.extend(receive_connectors);
        self.send_connectors.extend(send_connectors);
        self.certificates.extend(certificates);
        self.skipped.extend(skipped);
        self.listed_stores.extend(listed_stores);
        self.sightings.extend(sightings);
        self.send_connector_copies.extend(send_connector_copies);
        self.probes.extend(probes);
        self.log_failures.extend(log_failures);
        self.auth_configs.extend(auth_configs);
        self.inbound_connectors.extend(inbound_connectors);
        self.outbound_connectors.extend(outbound_connectors);
        self.hybrid_configurations.extend(hybrid_configurations);
        self.transport_services.extend(transport_services);
        self.accepted_domains.extend(accepted_domains);
        self.server_settings.extend(server_settings);
        self.tls_settings.extend(tls_settings);
        self.events.extend(events);
    }

    /// The inputs one server's plan is made from: its own files and the organisation-wide
    /// ones, so that another server's export changing leaves this server's plan as it was.
    pub fn inputs_for(&self, server: &str) -> Vec<InputFile> {
        self.inputs
            .iter()
            .filter(|input| {
                input.servers.is_empty() || input.servers.iter().any(|s| s.eq_ignore_ascii_case(server))
            })
            .cloned()
            .collect()
    }

    /// Whether `input` is one of `server`'s own files: of its folder, or of no server's folder
    /// when the inputs hold only one server (a hand export, a log copied on its own).
    pub fn is_own_input(&self, input: &InputFile, server: &str) -> bool {
        input.servers.iter().any(|s| s.eq_ignore_ascii_case(server))
            || (input.servers.is_empty() && self.servers.len() == 1)
    }

    pub fn store_listed(&self, server: &str, store: Store) -> bool {
        self.listed_stores
            .iter()
            .any(|(s, st)| *st == store && s.eq_ignore_ascii_case(server))
    }

    pub fn server(&self, name: &str) -> Option<&Server> {
        self.servers.iter().find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// What the record of server `name` says beyond the [`Server`], when it says anything.
    pub fn settings(&self, name: &str) -> Option<&ServerSettings> {
        self.server_settings
            .iter()
            .find(|s| s.server.eq_ignore_ascii_case(name))
    }

    /// The transport service export of server `name`, when one was given.
    pub fn transport_service(&self, name: &str) -> Option<&TransportService> {
        self.transport_services
            .iter()
            .find(|s| s.server.eq_ignore_ascii_case(name))
    }
}

/// A moment as every output shows it: RFC 3339 (`2026-11-24T00:00:00Z`).
pub fn date(moment: OffsetDateTime) -> String {
    moment
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| moment.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_certificate_name_parses_like_exchange() {
        let name =
            TlsCertificateName::parse("<I>CN=R3, O=Let's Encrypt, C=US<S>CN=mail.contoso.com").unwrap();
        assert_eq!(name.issuer.as_deref(), Some("CN=R3, O=Let's Encrypt, C=US"));
        assert_eq!(name.subject, "CN=mail.contoso.com");
        let lower = TlsCertificateName::parse("<i>CN=A<s>CN=b").unwrap();
        assert_eq!(lower.issuer.as_deref(), Some("CN=A"));
        let subject_only = TlsCertificateName::parse("<S>CN=mail.contoso.com").unwrap();
        assert_eq!(subject_only.issuer, None);
        assert_eq!(subject_only.to_string(), "<S>CN=mail.contoso.com");
        assert_eq!(
            name.to_string(),
            "<I>CN=R3, O=Let's Encrypt, C=US<S>CN=mail.contoso.com"
        );
        for bad in ["CN=mail", "<I>CN=A", "<I><S>CN=x", "x<S>CN=a", "<S>"] {
            assert_eq!(TlsCertificateName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn exchange_online_domain_patterns_match_as_documented() {
        use Apex::{Excluded, Included};
        // A plain value is a host name: exact, or a single-label wildcard certificate.
        assert!(exo_domain_matches(
            "mail.contoso.com",
            "MAIL.contoso.com",
            Excluded
        ));
        assert!(exo_domain_matches("mail.contoso.com", "*.contoso.com", Excluded));
        assert!(!exo_domain_matches(
            "mail.contoso.com",
            "smtp.contoso.com",
            Excluded
        ));
        // A wildcard value: every name inside the domain, the wildcard itself included.
        for inside in [
            "*.contoso.com",
            "mail.contoso.com",
            "a.b.contoso.com",
            "*.b.contoso.com",
        ] {
            assert!(exo_domain_matches("*.contoso.com", inside, Excluded), "{inside}");
        }
        for outside in [
            "contoso.com",
            "*.com",
            "xcontoso.com",
            "mail.fabrikam.com",
            "*.fabrikam.com",
        ] {
            assert!(
                !exo_domain_matches("*.contoso.com", outside, Excluded),
                "{outside}"
            );
        }
        // TlsSenderCertificateName `*.contoso.com` is "a domain and all subdomains".
        assert!(exo_domain_matches("*.contoso.com", "contoso.com", Included));
        assert!(!exo_domain_matches("*.contoso.com", "fabrikam.com", Included));
    }

    #[test]
    fn a_wildcard_hybrid_name_is_covered_by_names_inside_it() {
        let certificate = |names: &[&str]| Certificate {
            names: names.iter().map(|n| n.to_string()).collect(),
            ..Certificate::from_facts(
                crate::x509::parse_der(include_bytes!("../tests/fixtures/rules/certs/mail.der")).unwrap(),
                Store::My,
                Source {
                    file: "f".into(),
                    position: crate::error::Position::Line(1),
                },
            )
        };
        assert!(certificate(&["*.contoso.com"]).covers("*.contoso.com"));
        assert!(certificate(&["mail.contoso.com"]).covers("*.contoso.com"));
        assert!(!certificate(&["contoso.com", "mail.fabrikam.com"]).covers("*.contoso.com"));
        // A concrete hybrid name is still covered only by itself or a single-label wildcard.
        assert!(certificate(&["*.contoso.com"]).covers("mail.contoso.com"));
        assert!(!certificate(&["mail.contoso.com"]).covers("smtp.contoso.com"));
    }

    #[test]
    fn send_connectors_to_every_exchange_online_cloud_are_recognised() {
        let connector = |smart_hosts: &[&str], address_spaces: &[&str]| SendConnector {
            name: "to the cloud".into(),
            fqdn: None,
            tls_certificate_name: None,
            smart_hosts: smart_hosts.iter().map(|s| s.to_string()).collect(),
            address_spaces: address_spaces.iter().map(|s| s.to_string()).collect(),
            cloud_services_mail_enabled: Some(false),
            tls_auth_level: None,
            tls_domain: None,
            require_tls: None,
            enabled: None,
            source_servers: vec![],
            absent: vec![],
            source: Source {
                file: "f".into(),
                position: crate::error::Position::Line(1),
            },
        };
        for host in [
            "contoso-com.mail.protection.outlook.com",
            "contoso-us.mail.protection.office365.us",
            "Contoso-cn.mail.protection.partner.outlook.cn.",
            "contoso-com.a-v1.mx.microsoft",
        ] {
            assert!(connector(&[host], &[]).targets_exchange_online(), "{host}");
        }
        for space in [
            "contoso.mail.onmicrosoft.com;1",
            "contoso.mail.onmicrosoft.us;1",
            "contoso.mail.partner.onmschina.cn;1",
        ] {
            assert!(connector(&[], &[space]).targets_exchange_online(), "{space}");
        }
        for other in [
            "mail.protection.office365.us",
            "relay.contoso.com",
            "evilmail.protection.outlook.com",
            "mx.microsoft",
            "contoso.mx.microsoft.com",
        ] {
            assert!(!connector(&[other], &[]).targets_exchange_online(), "{other}");
        }
        assert!(!connector(&[], &["*;1", "onmicrosoft.us;1"]).targets_exchange_online());
    }

    #[test]
    fn wildcards_cover_exactly_one_label() {
        assert!(name_covers("*.contoso.com", "mail.contoso.com"));
        assert!(name_covers("MAIL.contoso.com.", "mail.CONTOSO.com"));
        assert!(!name_covers("*.contoso.com", "contoso.com"));
        assert!(!name_covers("*.contoso.com", "a.b.contoso.com"));
        assert!(!name_covers("mail.contoso.com", "hybrid.contoso.com"));
        // `*` is no host label: a wildcard host name is matched by exo_domain_matches.
        assert!(!name_covers("*.contoso.com", "*.contoso.com"));
    }

    #[test]
    fn tls_certificate_name_can_name_only_a_subject_cn_that_is_a_domain() {
        for nameable in [
            "CN=mail.contoso.com, O=Contoso, C=US",
            "CN=*.contoso.com",
            "CN=EX01",
        ] {
            assert_eq!(smtp_x509_subject_problem(nameable), None, "{nameable}");
        }
        for not_nameable in [
            "CN=Microsoft Exchange Server Auth Certificate",
            "O=Contoso Ltd, OU=Mail, C=US",
            "CN=mail_gw.contoso.com",
            "CN=-mail.contoso.com",
            "CN=*.",
        ] {
            assert!(
                smtp_x509_subject_problem(not_nameable).is_some(),
                "{not_nameable}"
            );
        }
    }

    #[test]
    fn common_name_is_the_most_specific_cn() {
        assert_eq!(
            common_name("CN=mail.contoso.com, OU=IT, O=contoso, S=x, C=US").as_deref(),
            Some("mail.contoso.com")
        );
        assert_eq!(common_name("O=\"A, CN=B\", CN = x").as_deref(), Some("x"));
        assert_eq!(common_name("O=Contoso"), None);
    }

    #[test]
    fn releases_come_from_admin_display_version() {
        let release = ExchangeRelease::from_admin_display_version;
        assert_eq!(
            release("Version 14.3 (Build 123.4)"),
            ExchangeRelease::Exchange2010
        );
        assert_eq!(
            release("Version 15.0 (Build 1497.2)"),
            ExchangeRelease::Exchange2013
        );
        assert_eq!(
            release("Version 15.1 (Build 2507.6)"),
            ExchangeRelease::Exchange2016
        );
        assert_eq!(
            release("Version 15.2 (Build 2562.17)"),
            ExchangeRelease::Exchange2019
        );
        assert_eq!(release("15.2.1544.4"), ExchangeRelease::Exchange2019);
        assert_eq!(release("Version 16.0 (Build 1.0)"), ExchangeRelease::Unknown);
        assert_eq!(release("garbage"), ExchangeRelease::Unknown);
        assert_eq!(release(""), ExchangeRelease::Unknown);
    }
}
