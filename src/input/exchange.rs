//! Readers for each kind of Exchange export, from one JSON record to the model.

use base64::Engine;
use serde_json::{Map, Value};

use super::psjson::{has_property, is_type_name, property, Record, REEXPORT_HINT};
use crate::error::InputError;
use crate::ip_range::IpRange;
use crate::model::{
    AcceptedDomain, AuthConfig, AuthMechanism, Certificate, ExchangeEvent, ExchangeRelease,
    HybridConfiguration, InboundConnector, Organisation, OutboundConnector, ReceiveConnector, RootCaType,
    SendConnector, Server, ServerKind, ServerSettings, Services, Source, Store, TenantConnectorType,
    TlsAuthLevel, TlsCertificateName, TlsSettings, TransportRole, TransportService, NET_VALUES,
    SCHANNEL_VALUES,
};
use crate::x509;

/// `ServerRole` flags, as far as transport cares [DECOMP ServerRole.cs].
const SERVER_ROLES: &[(&str, u64)] = &[
    ("None", 0),
    ("Cafe", 1),
    ("Mailbox", 2),
    ("ClientAccess", 4),
    ("UnifiedMessaging", 16),
    ("HubTransport", 32),
    ("Edge", 64),
    ("FrontendTransport", 16384),
];
const ROLE_EDGE: u64 = 64;
const ROLE_HUB: u64 = 32;
const ROLE_FRONTEND: u64 = 16384;

/// `SmtpReceiveCapabilities` flags [DECOMP SmtpReceiveCapabilities.cs]; live objects carry the
/// number, property bags and strings the names.
const RECEIVE_CAPABILITIES: &[(&str, u64)] = &[
    ("AcceptOorgHeader", 1),
    ("AcceptOorgProtocol", 2),
    ("AcceptProxyProtocol", 4),
    ("AcceptProxyFromProtocol", 8),
    ("AcceptProxyToProtocol", 16),
    ("AcceptXAttrProtocol", 32),
    ("AcceptOrgHeaders", 64),
    ("AcceptXSysProbeProtocol", 128),
    ("AcceptCrossForestMail", 256),
    ("AcceptCloudServicesMail", 512),
    ("AllowSubmit", 1024),
    ("AcceptXOriginalFromProtocol", 2048),
    ("AllowConsumerMail", 4096),
];

/// `512` → `AcceptCloudServicesMail`, as the enum's ToString() writes it (`None` for 0).
fn capability_names(bits: u64) -> String {
    let names: Vec<&str> = RECEIVE_CAPABILITIES
        .iter()
        .filter(|(_, bit)| bits & bit != 0)
        .map(|(name, _)| *name)
        .collect();
    if names.is_empty() {
        "None".to_owned()
    } else {
        names.join(", ")
    }
}

/// `CertificateStatus` [DECOMP CertificateStatus.cs].
const CERTIFICATE_STATUS: &[(&str, u64)] = &[
    ("Unknown", 0),
    ("Valid", 1),
    ("Revoked", 2),
    ("DateInvalid", 3),
    ("Untrusted", 4),
    ("Invalid", 5),
    ("RevocationCheckFailure", 6),
    ("PendingRequest", 7),
];

/// Which of `properties` the record does not hold at all (null counts as held).
fn absent(record: &Record, properties: &[&'static str]) -> Vec<&'static str> {
    properties
        .iter()
        .copied()
        .filter(|property| !has_property(record.object, property))
        .collect()
}

fn source(record: &Record) -> Source {
    Source {
        file: record.file.to_owned(),
        position: record.position(""),
    }
}

/// A NetBIOS or DNS host name. Server names reach generated scripts, so anything else is refused.
fn host_name(record: &Record, field: &str, text: &str) -> Result<String, InputError> {
    let valid = !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if valid {
        Ok(text.to_owned())
    } else {
        Err(record.error(field, format!("{text:?} is not a server host name")))
    }
}

/// The `Name` of a directory object (ADObjectId): an object with `Name`, or its ToString
/// (the name, or `SERVER\Name` for a connector identity).
fn directory_name(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => property(map, "Name").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The Exchange organisation of the record's directory objects, from the first distinguished
/// name it holds: its own `DistinguishedName`, or that of its `Identity`, `Server` or first
/// `SourceTransportServers` ADObjectId. The objects of one record are of one organisation, so the
/// first is enough (a send connector names hundreds of source servers). A hand export that
/// holds names only (`SERVER\Name`) names no organisation.
pub fn read_organisation(record: &Record) -> Option<Organisation> {
    let own = record
        .get("DistinguishedName")
        .map(|dn| ("DistinguishedName", dn));
    let referenced = ["Identity", "Server", "SourceTransportServers"]
        .into_iter()
        .filter_map(|field| {
            let object = match record.get(field)? {
                Value::Array(items) => items.first()?,
                single => single,
            };
            let dn = property(object.as_object()?, "DistinguishedName")?;
            Some((field, dn))
        });
    own.into_iter().chain(referenced).find_map(|(field, dn)| {
        let (name, forest) = organisation_of(dn.as_str()?)?;
        let field = if field == "DistinguishedName" {
            field.to_owned()
        } else {
            format!("{field}.DistinguishedName")
        };
        Some(Organisation {
            name,
            forest,
            source: Source {
                file: record.file.to_owned(),
                position: record.position(&field),
            },
        })
    })
}

/// The organisation's name and the forest's root domain (`DC=contoso,DC=com`) of a distinguished
/// name in an Active Directory configuration naming context. An Edge Transport server's objects
/// are in its own AD LDS instance (`CN=Configuration,CN={guid}`), which names no forest: its
/// organisation is the one it is subscribed to, which its exports do not say.
pub fn organisation_of(dn: &str) -> Option<(String, String)> {
    const MARKER: &[u8] = b",CN=Microsoft Exchange,CN=Services,CN=Configuration,";
    let at = dn
        .as_bytes()
        .windows(MARKER.len())
        .position(|window| window.eq_ignore_ascii_case(MARKER))?;
    // Both ends of the match are ASCII commas, so both are character boundaries.
    let (before, forest) = (&dn[..at], &dn[at + MARKER.len()..]);
    let components: Vec<&str> = forest.split(',').map(str::trim).collect();
    if !components.iter().all(|component| {
        component
            .split_once('=')
            .is_some_and(|(key, value)| key.trim().eq_ignore_ascii_case("DC") && !value.trim().is_empty())
    }) {
        return None;
    }
    // The organisation's RDN is the last one before the marker; a comma in a name is escaped
    // (`CN=Contoso\, Ltd`).
    let mut start = 0;
    let mut escaped = false;
    for (index, character) in before.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => start = index + 1,
            _ => {}
        }
    }
    let (key, name) = before[start..].split_once('=')?;
    let name = name.trim();
    (key.trim().eq_ignore_ascii_case("CN") && !name.is_empty())
        .then(|| (name.to_owned(), components.join(",")))
}

/// `Fqdn` is `{"Domain": ...}` from a live object, or a string when stringified or past depth.
fn domain_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => property(map, "Domain")
            .or_else(|| property(map, "Address"))
            .and_then(domain_text),
        _ => None,
    }
}

fn read_fqdn(record: &Record, field: &str) -> Result<Option<String>, InputError> {
    match record.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if is_type_name(s) => Err(record.truncated(field, s)),
        Some(value) => domain_text(value)
            .map(Some)
            .ok_or_else(|| record.error(field, "expected a domain name or an object with Domain")),
    }
}

/// TlsCertificateName: null, an `SmtpX509Identifier` object, or its `<I>..<S>..` string.
fn read_tls_certificate_name(record: &Record) -> Result<Option<TlsCertificateName>, InputError> {
    const FIELD: &str = "TlsCertificateName";
    match record.get(FIELD) {
        None => Ok(None),
        Some(Value::String(text)) if is_type_name(text) => Err(record.truncated(FIELD, text)),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => TlsCertificateName::parse(text)
            .map(Some)
            .ok_or_else(|| record.error(FIELD, format!("{text:?} is not of the form <I>issuer<S>subject"))),
        Some(Value::Object(map)) => {
            let text = |key| property(map, key).and_then(Value::as_str).map(str::to_owned);
            let subject = text("CertificateSubject")
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    record
                        .error(FIELD, "the object has no CertificateSubject")
                        .hint(REEXPORT_HINT)
                })?;
            Ok(Some(TlsCertificateName {
                issuer: text("CertificateIssuer").filter(|s| !s.is_empty()),
                subject,
            }))
        }
        Some(other) => Err(record.error(
            FIELD,
            format!(
                "expected null, an object or a string, found {}",
                super::psjson::kind_of(other)
            ),
        )),
    }
}

fn smtp_domain_item(map: &Map<String, Value>) -> Option<String> {
    property(map, "Address")
        .and_then(domain_text)
        .or_else(|| domain_text(&Value::Object(map.clone())))
}

pub fn read_receive_connector(record: &Record) -> Result<ReceiveConnector, InputError> {
    let identity = record.get("Identity").and_then(directory_name);
    let name = match record.string("Name")? {
        Some(name) => name,
        None => identity
            .as_deref()
            .and_then(|id| id.split_once('\\'))
            .map(|(_, name)| name.to_owned())
            .ok_or_else(|| {
                record.error(
                    "Name",
                    "the connector has neither Name nor a SERVER\\Name Identity",
                )
            })?,
    };
    let server_text = match record.get("Server") {
        Some(Value::String(s)) if is_type_name(s) => return Err(record.truncated("Server", s)),
        Some(value) => directory_name(value),
        None => None,
    }
    .or_else(|| {
        identity
            .as_deref()
            .and_then(|id| id.split_once('\\'))
            .map(|(server, _)| server.to_owned())
    })
    .ok_or_else(|| {
        record
            .error(
                "Server",
                "cannot tell which server the connector is on (no Server, no SERVER\\Name Identity)",
            )
            .hint("keep Server in the Select-Object list")
    })?;
    let server = host_name(record, "Server", &server_text)?;
    let role = record
        .flags("TransportRole", SERVER_ROLES)?
        .map(|role| match role {
            ROLE_FRONTEND => TransportRole::FrontendTransport,
            ROLE_HUB => TransportRole::HubTransport,
            other => TransportRole::Other(other),
        });
    Ok(ReceiveConnector {
        server,
        name,
        role,
        bindings: read_bindings(record)?,
        remote_ip_ranges: read_remote_ip_ranges(record)?,
        fqdn: read_fqdn(record, "Fqdn")?,
        tls_certificate_name: read_tls_certificate_name(record)?,
        tls_domain_capabilities: record.list("TlsDomainCapabilities", |map| {
            let domain = property(map, "Domain").and_then(domain_text)?;
            let capabilities = property(map, "Capabilities").and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => n.as_u64().map(capability_names),
                _ => None,
            })?;
            Some(format!("{domain}:{capabilities}"))
        })?,
        auth_mechanism: record
            .flags("AuthMechanism", AuthMechanism::NAMES)?
            .map(AuthMechanism::from_bits),
        enabled: record.bool("Enabled")?,
        source: source(record),
    })
}

/// Bindings are `IPBinding` objects (`Address` + `Port`) or their `addr:port` strings.
fn read_bindings(record: &Record) -> Result<Vec<String>, InputError> {
    record.list("Bindings", |map| {
        let port = property(map, "Port")?.as_u64()?;
        let address = property(map, "Address").and_then(ip_address);
        Some(format!("{}:{port}", address.unwrap_or_default()))
    })
}

/// A `System.Net.IPAddress`: its text, or past the depth limit its ToString. A deep export
/// writes it with its properties: IPv4 as the `Address` number (the four bytes in network
/// order, read little-endian), IPv6 without its text (`Address` throws and is null), which
/// stays unknown.
fn ip_address(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(inner) => property(inner, "IPAddressToString")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                let number = u32::try_from(property(inner, "Address")?.as_u64()?).ok()?;
                Some(std::net::Ipv4Addr::from(number.to_le_bytes()).to_string())
            }),
        _ => None,
    }
}

/// `SmartHosts`: `SmartHost` objects or their ToString (the host name or IP address). An object
/// is `{Address, IsIPAddress, Domain}` (CSS-Exchange HealthChecker fixture GetSendConnector.xml,
/// a Mailbox server's remote session): for a host name `Address` is the placeholder `0.0.0.0`
/// (`IsIPAddress` false) and `Domain` holds the name, a string, or in a local session (Edge)
/// a host name object, read by its name property or, past the depth limit, its ToString.
fn read_smart_hosts(record: &Record) -> Result<Vec<String>, InputError> {
    record.list("SmartHosts", |map| {
        let is_ip = property(map, "IsIPAddress").and_then(Value::as_bool);
        if is_ip == Some(true) {
            return property(map, "Address").and_then(ip_address);
        }
        match property(map, "Domain") {
            Some(domain) => host_name_text(domain),
            // Without Domain (a hand-made list), Address is the host only when it is no
            // placeholder address.
            None if is_ip.is_none() => property(map, "Address")
                .and_then(ip_address)
                .filter(|a| a != "0.0.0.0"),
            None => None,
        }
    })
}

/// The name in a host name value: a string, or an object with the name in `HostnameString`,
/// `Domain`, `Address` or `SmtpDomain`, or else the one string property that is a DNS name. A
/// .NET type name (an object past the depth limit without its own ToString) holds no name: the
/// item is then unreadable and the reader asks for a deeper export.
fn host_name_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() && !is_type_name(s) => Some(s.clone()),
        Value::Object(map) => ["HostnameString", "Domain", "Address", "SmtpDomain"]
            .iter()
            .find_map(|key| property(map, key).and_then(host_name_text))
            .or_else(|| {
                let mut dns = map
                    .values()
                    .filter_map(Value::as_str)
                    .filter(|s| s.contains('.') && !is_type_name(s));
                match (dns.next(), dns.next()) {
                    (Some(one), None) => Some(one.to_owned()),
                    _ => None,
                }
            }),
        _ => None,
    }
}

/// `RemoteIPRanges`: `IPRange` objects or their strings (`0.0.0.0-255.255.255.255`,
/// `10.0.0.0/8`, `192.0.2.7`, `::-ffff:...`). An object is read by its `Expression`, or by
/// `LowerBound` and `UpperBound` when they are strings (Windows PowerShell 5.1 past its depth,
/// or a deserialized property bag); deeper, the bounds are `IPvxAddress` objects without their
/// address, so `Expression` is what carries it.
fn read_remote_ip_ranges(record: &Record) -> Result<Vec<IpRange>, InputError> {
    const FIELD: &str = "RemoteIPRanges";
    let texts = record.list(FIELD, |map| {
        if let Some(Value::String(expression)) = property(map, "Expression") {
            return Some(expression.clone());
        }
        match (property(map, "LowerBound"), property(map, "UpperBound")) {
            (Some(Value::String(lower)), Some(Value::String(upper))) => {
                IpRange::from_bounds(lower, upper).map(|range| range.text)
            }
            _ => None,
        }
    })?;
    texts
        .iter()
        .map(|text| {
            IpRange::parse(text).ok_or_else(|| {
                record.error(
                    FIELD,
                    format!("{text:?} is not an IP address, an address range (a-b) or a CIDR range (a/n)"),
                )
            })
        })
        .collect()
}

pub fn read_send_connector(record: &Record) -> Result<SendConnector, InputError> {
    let name = match record.string("Name")? {
        Some(name) => name,
        None => record
            .get("Identity")
            .and_then(directory_name)
            .ok_or_else(|| record.error("Name", "the connector has neither Name nor Identity"))?,
    };
    let source_servers = record
        .list("SourceTransportServers", |map| {
            property(map, "Name").and_then(Value::as_str).map(str::to_owned)
        })?
        .into_iter()
        .map(|server| host_name(record, "SourceTransportServers", &server))
        .collect::<Result<_, _>>()?;
    Ok(SendConnector {
        name,
        fqdn: read_fqdn(record, "Fqdn")?,
        tls_certificate_name: read_tls_certificate_name(record)?,
        smart_hosts: read_smart_hosts(record)?,
        address_spaces: record
            .list("AddressSpaces", |map| {
                let address = property(map, "Address").and_then(Value::as_str)?;
                let kind = property(map, "Type").and_then(Value::as_str).unwrap_or("smtp");
                Some(format!("{kind}:{address}"))
            })?
            .into_iter()
            .map(|space| {
                space
                    .split_once(':')
                    .map_or(space.clone(), |(_, rest)| rest.to_owned())
            })
            .collect(),
        cloud_services_mail_enabled: record.bool("CloudServicesMailEnabled")?,
        tls_auth_level: read_tls_auth_level(record, "TlsAuthLevel")?,
        tls_domain: read_smtp_domain(record, "TlsDomain")?,
        require_tls: record.bool("RequireTLS")?,
        enabled: record.bool("Enabled")?,
        source_servers,
        absent: absent(
            record,
            &[
                "SourceTransportServers",
                "CloudServicesMailEnabled",
                "TlsAuthLevel",
                "TlsDomain",
                "RequireTLS",
                "Enabled",
            ],
        ),
        source: source(record),
    })
}

/// `Get-HybridConfiguration`: the certificate name the Hybrid Configuration Wizard uses and the
/// servers it configures (Set-HybridConfiguration, Microsoft Learn).
pub fn read_hybrid_configuration(record: &Record) -> Result<HybridConfiguration, InputError> {
    let servers = |field: &str| -> Result<Vec<String>, InputError> {
        record
            .list(field, |map| {
                property(map, "Name").and_then(Value::as_str).map(str::to_owned)
            })?
            .into_iter()
            .map(|server| host_name(record, field, &server))
            .collect()
    };
    Ok(HybridConfiguration {
        tls_certificate_name: read_tls_certificate_name(record)?,
        sending_transport_servers: servers("SendingTransportServers")?,
        receiving_transport_servers: servers("ReceivingTransportServers")?,
        edge_transport_servers: servers("EdgeTransportServers")?,
        source: source(record),
    })
}

pub fn read_server(record: &Record) -> Result<Server, InputError> {
    let name_text = record.required("Name", record.string("Name")?)?;
    let name = host_name(record, "Name", &name_text)?;
    let fqdn = match read_fqdn(record, "Fqdn")? {
        Some(fqdn) => Some(host_name(record, "Fqdn", &fqdn)?),
        None => None,
    };
    // Only "is it an Edge server" matters, and ServerRole names vary by version, so unknown
    // names are not an error here.
    let kind = match record.get("ServerRole") {
        Some(Value::Number(n)) => n.as_u64().map(|role| role & ROLE_EDGE != 0),
        Some(Value::String(text)) => Some(text.trim().parse::<u64>().map_or_else(
            |_| {
                text.split(',')
                    .any(|name| name.trim().eq_ignore_ascii_case("Edge"))
            },
            |role| role & ROLE_EDGE != 0,
        )),
        _ => None,
    }
    .map(|edge| {
        if edge {
            ServerKind::Edge
        } else {
            ServerKind::Mailbox
        }
    });
    let version = match record.get("AdminDisplayVersion") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(map)) => {
            let part = |key| property(map, key).and_then(Value::as_i64);
            match (part("Major"), part("Minor"), part("Build"), part("Revision")) {
                (Some(major), Some(minor), Some(build), Some(revision)) => {
                    Some(format!("Version {major}.{minor} (Build {build}.{revision})"))
                }
                _ => None,
            }
        }
        _ => None,
    };
    if let Some((index, character)) = version.as_deref().and_then(super::text::hidden_character) {
        return Err(record.error(
            "AdminDisplayVersion",
            format!(
                "the version holds the invisible character U+{:04X} at character {index}",
                u32::from(character)
            ),
        ));
    }
    Ok(Server {
        name,
        fqdn,
        kind,
        release: version.as_deref().map_or(
            ExchangeRelease::Unknown,
            ExchangeRelease::from_admin_display_version,
        ),
        folder: None,
    })
}

/// RawData: an array of byte values, or base64 (collector, CLIXML-style). A string of
/// space-separated numbers is what ConvertTo-Json writes past its depth, and is refused.
fn read_raw_data(record: &Record) -> Result<Option<Vec<u8>>, InputError> {
    const FIELD: &str = "RawData";
    match record.get(FIELD) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_u64().and_then(|n| u8::try_from(n).ok()))
            .collect::<Option<Vec<u8>>>()
            .map(Some)
            .ok_or_else(|| record.error(FIELD, "expected an array of byte values (0-255)")),
        Some(Value::String(text))
            if text.contains(' ') && text.split(' ').all(|p| p.parse::<u8>().is_ok()) =>
        {
            Err(record.truncated(FIELD, &format!("{} ...", &text[..text.len().min(24)])))
        }
        Some(Value::String(text)) if is_type_name(text) => Err(record.truncated(FIELD, text)),
        Some(Value::String(text)) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map(Some)
            .map_err(|e| record.error(FIELD, format!("not valid base64: {e}"))),
        Some(other) => Err(record.error(
            FIELD,
            format!(
                "expected a byte array or base64, found {}",
                super::psjson::kind_of(other)
            ),
        )),
    }
}

/// A certificate from Get-ExchangeCertificate (`store` = My, `listed` false) or from a store
/// listing (`listed` true).
pub fn read_certificate(record: &Record, store: Store, listed: bool) -> Result<Certificate, InputError> {
    let exported_thumbprint = record.string("Thumbprint")?;
    let facts = match read_raw_data(record)? {
        Some(der) => Some(
            x509::parse_der(&der)
                .map_err(|e| record.error("RawData", format!("the certificate does not parse: {e}")))?,
        ),
        None => None,
    };
    let server = certificate_server(record)?;
    // PowerShell 7 rebuilds a certificate that crossed a remote session from its RawData
    // alone, so HasPrivateKey is false whatever the server holds (exchange-formats.md 1.5, and
    // CSS-Exchange's GetExchangeCertificate.xml imported in pwsh 7.6): such a record keeps
    // Exchange's SerializationData and lost Services and Status. Its false says nothing.
    let rebuilt = !listed
        && has_property(record.object, "SerializationData")
        && !has_property(record.object, "Services")
        && !has_property(record.object, "Status");
    let has_private_key = record.bool("HasPrivateKey")?.filter(|&key| key || !rebuilt);
    let services = record
        .flags("Services", Services::NAMES)?
        .map(Services::from_bits);
    let status = record.flags("Status", CERTIFICATE_STATUS)?;
    let root_ca_type = single_enum(record, "RootCAType", RootCaType::NAMES)?.and_then(RootCaType::from_value);
    let friendly_name = record.string("FriendlyName")?.filter(|s| !s.is_empty());
    let source = source(record);
    if let Some(facts) = facts {
        if let Some(exported) = &exported_thumbprint {
            if !exported.eq_ignore_ascii_case(&facts.thumbprint) {
                return Err(record.error(
                    "Thumbprint",
                    format!(
                        "the exported Thumbprint {exported} does not match the SHA-1 of RawData ({}); the export mixes two certificates or was edited",
                        facts.thumbprint
                    ),
                ));
            }
        }
        return Ok(Certificate {
            server,
            has_private_key,
            from_store_listing: listed,
            services,
            status,
            root_ca_type,
            friendly_name,
            ..Certificate::from_facts(facts, store, source)
        });
    }
    // Without RawData, fall back to what Exchange itself exported about the certificate.
    let thumbprint = record
        .required("Thumbprint", exported_thumbprint)?
        .to_ascii_uppercase();
    check_thumbprint(record, "Thumbprint", &thumbprint)?;
    let subject = record.required("Subject", record.string("Subject")?)?;
    let issuer = record.required("Issuer", record.string("Issuer")?)?;
    let mut names = record.list("CertificateDomains", smtp_domain_item)?;
    if let Some(cn) = crate::model::common_name(&subject) {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&cn)) {
            names.insert(0, cn);
        }
    }
    let self_signed = record
        .bool("IsSelfSigned")?
        .unwrap_or_else(|| x509::dn_key(&subject) == x509::dn_key(&issuer));
    Ok(Certificate {
        server,
        store,
        thumbprint,
        not_before: record.required("NotBefore", record.date("NotBefore")?)?,
        not_after: record.required("NotAfter", record.date("NotAfter")?)?,
        subject,
        issuer,
        names,
        self_signed,
        has_private_key,
        from_store_listing: listed,
        services,
        status,
        root_ca_type,
        friendly_name,
        facts: None,
        source,
    })
}

/// Get-ExchangeCertificate's Identity is `SERVERFQDN\THUMBPRINT`; PSComputerName may be there too.
/// Returned as written (an FQDN or a name); the loader maps it to a NetBIOS name.
fn certificate_server(record: &Record) -> Result<Option<String>, InputError> {
    let from_identity = record
        .string("Identity")
        .ok()
        .flatten()
        .and_then(|id| id.split_once('\\').map(|(server, _)| server.to_owned()));
    let from_computer = record.string("PSComputerName")?;
    match from_identity.or(from_computer).or(record.string("Server")?) {
        Some(server) => host_name(record, "Identity", &server).map(Some),
        None => Ok(None),
    }
}

/// `Get-AuthConfig`: the thumbprints of the current and the next Auth certificate and the date
/// the next one takes over. Property names as in the AuthConfig class (Microsoft Learn,
/// Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthConfig) and as HealthChecker reads
/// them (`$authConfig.CurrentCertificateThumbprint`, `.NextCertificateEffectiveDate`).
pub fn read_auth_config(record: &Record) -> Result<AuthConfig, InputError> {
    let thumbprint = |field: &str| read_thumbprint(record, field);
    Ok(AuthConfig {
        current_thumbprint: thumbprint("CurrentCertificateThumbprint")?,
        next_thumbprint: thumbprint("NextCertificateThumbprint")?,
        next_effective_date: record.date("NextCertificateEffectiveDate")?,
        source: source(record),
    })
}

/// A certificate named by thumbprint: upper case, None when empty or null; anything but 40
/// hexadecimal digits is refused.
fn read_thumbprint(record: &Record, field: &str) -> Result<Option<String>, InputError> {
    let Some(text) = record.string(field)? else {
        return Ok(None);
    };
    let text = text.trim().to_ascii_uppercase();
    if text.is_empty() {
        return Ok(None);
    }
    check_thumbprint(record, field, &text)?;
    Ok(Some(text))
}

/// A thumbprint (upper case already) must be 40 hex digits, a SHA-1.
fn check_thumbprint(record: &Record, field: &str, thumbprint: &str) -> Result<(), InputError> {
    if thumbprint.len() != 40 || !thumbprint.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(record.error(
            field,
            format!("{thumbprint:?} is not a 40-digit SHA-1 thumbprint"),
        ));
    }
    Ok(())
}

/// `Get-TransportService | Select-Object Name,InternalTransportCertificateThumbprint`: which
/// certificate the server's transport uses between Exchange servers (HealthChecker reads the same
/// property, `Invoke-JobExchangeInformationCmdlet.ps1`).
pub fn read_transport_service(record: &Record) -> Result<TransportService, InputError> {
    let name = match record.string("Name")? {
        Some(name) => name,
        None => record
            .get("Identity")
            .and_then(directory_name)
            .ok_or_else(|| record.error("Name", "the transport service has neither Name nor Identity"))?,
    };
    Ok(TransportService {
        server: host_name(record, "Name", &name)?,
        internal_certificate_thumbprint: read_thumbprint(record, "InternalTransportCertificateThumbprint")?,
        source: source(record),
    })
}

/// `Get-AcceptedDomain` (Exchange Online PowerShell): `DomainName`, a string or an
/// `SmtpDomainWithSubdomains` object.
pub fn read_accepted_domain(record: &Record) -> Result<AcceptedDomain, InputError> {
    let domain = record.required("DomainName", read_smtp_domain(record, "DomainName")?)?;
    Ok(AcceptedDomain {
        domain: domain.trim_start_matches("*.").to_ascii_lowercase(),
        source: source(record),
    })
}

/// What a server record says beyond the [`Server`]: the build of `AdminDisplayVersion`, and the
/// registry values the collector records (a property the record holds as null is a value that
/// is not set; a property it does not hold is not known).
pub fn read_server_settings(record: &Record, server: &Server) -> Result<ServerSettings, InputError> {
    let held = |field: &str| has_property(record.object, field);
    let version = admin_display_version(record);
    let root = dword(record, "DisableRootAutoUpdate")?;
    let ecc = dword(record, "EnableEccCertificateSupport")?;
    Ok(ServerSettings {
        server: server.name.clone(),
        build: version.map(|(major, minor, build, _)| (major, minor, build)),
        revision: version.and_then(|(_, _, _, revision)| revision),
        root_auto_update_disabled: held("DisableRootAutoUpdate").then(|| root.is_some_and(|v| v != 0)),
        ecc_certificate_support: held("EnableEccCertificateSupport").then_some(ecc == Some(1)),
        source: source(record),
    })
}

/// Major, minor, build and revision (where given) of `AdminDisplayVersion`: `Version 15.2
/// (Build 1748.10)`, `15.2.1748.10` or the object of a live `ServerVersion`.
fn admin_display_version(record: &Record) -> Option<(u32, u32, u32, Option<u32>)> {
    match record.get("AdminDisplayVersion")? {
        Value::String(text) => exchange_version(text),
        Value::Object(map) => {
            let part = |key| {
                property(map, key)
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
            };
            Some((part("Major")?, part("Minor")?, part("Build")?, part("Revision")))
        }
        _ => None,
    }
}

/// `TenantConnectorType` [DECOMP Microsoft.Exchange.Data/TenantConnectorType.cs].
const TENANT_CONNECTOR_TYPES: &[(&str, u64)] = &[("OnPremises", 1), ("Partner", 2)];

/// `TlsAuthLevel`, the type of an outbound connector's `TlsSettings` (Set-OutboundConnector on
/// Microsoft Learn) [DECOMP Microsoft.Exchange.Data/TlsAuthLevel.cs].
const TLS_AUTH_LEVELS: &[(&str, u64)] = &[
    ("EncryptionOnly", 1),
    ("CertificateValidation", 2),
    ("DomainValidation", 4),
];

/// `TlsAuthLevel` of a send connector, `TlsSettings` of an Exchange Online outbound connector:
/// the same values, as a number or a name.
fn read_tls_auth_level(record: &Record, field: &str) -> Result<Option<TlsAuthLevel>, InputError> {
    Ok(
        single_enum(record, field, TLS_AUTH_LEVELS)?.map(|value| match value {
            1 => TlsAuthLevel::EncryptionOnly,
            2 => TlsAuthLevel::CertificateValidation,
            _ => TlsAuthLevel::DomainValidation,
        }),
    )
}

/// An enum that is one value, never a combination: its number or its name. Exchange Online
/// PowerShell V3 writes names (its REST answers carry `"ConnectorType": "OnPremises"`); the
/// older remote PowerShell session deserialized enums to their numbers; both are read.
fn single_enum(record: &Record, field: &str, values: &[(&str, u64)]) -> Result<Option<u64>, InputError> {
    match record.flags(field, values)? {
        Some(value) if values.iter().any(|(_, v)| *v == value) => Ok(Some(value)),
        Some(value) => {
            let known: Vec<String> = values.iter().map(|(n, v)| format!("{n} ({v})")).collect();
            Err(record.error(field, format!("{value} is not one of {}", known.join(", "))))
        }
        None => Ok(None),
    }
}

fn read_connector_type(record: &Record) -> Result<Option<TenantConnectorType>, InputError> {
    Ok(
        single_enum(record, "ConnectorType", TENANT_CONNECTOR_TYPES)?.map(|value| match value {
            1 => TenantConnectorType::OnPremises,
            _ => TenantConnectorType::Partner,
        }),
    )
}

/// An Exchange Online SMTP domain value (`TlsDomain`, `TlsSenderCertificateName`): the string
/// Exchange Online PowerShell writes, or an `SmtpDomainWithSubdomains` object, whose `Address`
/// keeps the `*.` that `Domain` drops. Anything that is not a DNS name or `*.` and one is refused:
/// the value reaches a manual command.
fn read_smtp_domain(record: &Record, field: &str) -> Result<Option<String>, InputError> {
    let text = match record.get(field) {
        None => return Ok(None),
        Some(Value::String(s)) if is_type_name(s) => return Err(record.truncated(field, s)),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Object(map)) => {
            let text = |key| property(map, key).and_then(Value::as_str).map(str::to_owned);
            let wildcard = property(map, "IncludeSubDomains").and_then(Value::as_bool) == Some(true);
            text("Address")
                .or_else(|| text("Domain").map(|d| if wildcard { format!("*.{d}") } else { d }))
                .ok_or_else(|| {
                    record
                        .error(field, "the object has neither Address nor Domain")
                        .hint(REEXPORT_HINT)
                })?
        }
        Some(other) => {
            return Err(record.error(
                field,
                format!("expected a domain name, found {}", super::psjson::kind_of(other)),
            ))
        }
    };
    if text.is_empty() {
        return Ok(None);
    }
    let host = text.strip_prefix("*.").unwrap_or(&text);
    host_name(record, field, host)
        .map_err(|_| record.error(field, format!("{text:?} is not a domain name or *.domain")))?;
    Ok(Some(text))
}

fn exo_connector_name(record: &Record) -> Result<String, InputError> {
    match record.string("Name")? {
        Some(name) if !name.is_empty() => Ok(name),
        _ => record
            .get("Identity")
            .and_then(directory_name)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| record.error("Name", "the connector has neither Name nor Identity")),
    }
}

/// `Get-InboundConnector` (Exchange Online PowerShell). Only what the certificate comparison
/// needs is read: `ConnectorType`, `Enabled` and `TlsSenderCertificateName` (property names as
/// on Microsoft Learn, Set-InboundConnector / Get-InboundConnector). `RequireTls` and
/// `RestrictDomainsToCertificate` apply only to Partner connectors (Set-InboundConnector), so
/// they say nothing about the OnPremises connector that attributes hybrid mail.
pub fn read_inbound_connector(record: &Record) -> Result<InboundConnector, InputError> {
    Ok(InboundConnector {
        name: exo_connector_name(record)?,
        connector_type: read_connector_type(record)?,
        enabled: record.bool("Enabled")?,
        tls_sender_certificate_name: read_smtp_domain(record, "TlsSenderCertificateName")?,
        absent: absent(record, &["TlsSenderCertificateName"]),
        source: source(record),
    })
}

/// `Get-OutboundConnector` (Exchange Online PowerShell): `ConnectorType`, `Enabled`,
/// `TlsSettings`, `TlsDomain` and `SmartHosts` (property names as on Microsoft Learn,
/// Set-OutboundConnector).
pub fn read_outbound_connector(record: &Record) -> Result<OutboundConnector, InputError> {
    Ok(OutboundConnector {
        name: exo_connector_name(record)?,
        connector_type: read_connector_type(record)?,
        enabled: record.bool("Enabled")?,
        tls_settings: read_tls_auth_level(record, "TlsSettings")?,
        tls_domain: read_smtp_domain(record, "TlsDomain")?,
        smart_hosts: read_smart_hosts(record)?,
        source: source(record),
    })
}

/// The collector's `tls-settings.json` (one object per server): the SCHANNEL and .NET registry
/// values as DWORDs (a number, or its text), null where the value is not set; the Windows build
/// as `[Environment]::OSVersion.Version` (its text or its object) and the Exchange build as
/// `AdminDisplayVersion`; the cipher suite names as a list (a single name stands alone).
pub fn read_tls_settings(record: &Record) -> Result<TlsSettings, InputError> {
    let name = record.required("ComputerName", record.string("ComputerName")?)?;
    let server = host_name(record, "ComputerName", name.trim())?;
    let mut values = Vec::new();
    let names = SCHANNEL_VALUES
        .iter()
        .map(|v| v.0)
        .chain(NET_VALUES.iter().map(|v| v.0));
    for property in names {
        values.push((property, dword(record, property)?));
    }
    let os_build = match record.get("OSVersion") {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => property(map, "Build")
            .and_then(Value::as_u64)
            .and_then(|b| u32::try_from(b).ok()),
        Some(Value::String(text)) => Some(
            version_parts(text)
                .filter(|parts| parts.len() >= 3)
                .map(|parts| parts[2])
                .ok_or_else(|| {
                    record.error(
                        "OSVersion",
                        format!("{text:?} is not a Windows version (10.0.17763.0)"),
                    )
                })?,
        ),
        Some(other) => {
            return Err(record.error(
                "OSVersion",
                format!("expected a version, found {}", super::psjson::kind_of(other)),
            ))
        }
    };
    let exchange_build = match record.string("ExchangeVersion")? {
        None => None,
        Some(text) if text.trim().is_empty() => None,
        Some(text) => Some(exchange_build(&text).ok_or_else(|| {
            record.error(
                "ExchangeVersion",
                format!("{text:?} is not an Exchange version (Version 15.2 (Build 1544.4))"),
            )
        })?),
    };
    let cipher_suites = match record.get("TlsCipherSuites") {
        None | Some(Value::Null) => None,
        Some(_) => Some(record.list("TlsCipherSuites", |item| {
            property(item, "Name").and_then(Value::as_str).map(str::to_owned)
        })?),
    };
    Ok(TlsSettings {
        server,
        os_build,
        exchange_build,
        values,
        cipher_suites,
        source: source(record),
    })
}

/// Major, minor and build of an `AdminDisplayVersion` text: `Version 15.2 (Build 1544.4)` or
/// `15.2.1544.4`; None when it is neither.
fn exchange_build(text: &str) -> Option<(u32, u32, u32)> {
    exchange_version(text).map(|(major, minor, build, _)| (major, minor, build))
}

/// [`exchange_build`] and the revision, where the text gives one.
fn exchange_version(text: &str) -> Option<(u32, u32, u32, Option<u32>)> {
    let number = text.trim().strip_prefix("Version ").unwrap_or(text.trim());
    let parts = version_parts(&number.replace(" (Build ", ".").replace(')', ""))?;
    match parts[..] {
        [major, minor, build, ref rest @ ..] => Some((major, minor, build, rest.first().copied())),
        _ => None,
    }
}

/// The numbers of a dotted version (`10.0.17763.0`); None when a part is not a number.
fn version_parts(text: &str) -> Option<Vec<u32>> {
    text.trim()
        .split('.')
        .map(|part| part.trim().parse().ok())
        .collect()
}

/// A registry DWORD: a number (a DWORD over 0x7FFFFFFF may come as a negative Int32), its
/// decimal text, or null when the value is not set.
fn dword(record: &Record, field: &str) -> Result<Option<i64>, InputError> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| record.error(field, format!("expected a registry DWORD, found {n}"))),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| record.error(field, format!("expected a registry DWORD, found {text:?}"))),
        Some(other) => Err(record.error(
            field,
            format!(
                "expected a registry DWORD, found {}",
                super::psjson::kind_of(other)
            ),
        )),
    }
}

/// One event of the collector's `exchange-events.json` (`Get-WinEvent | Select-Object
/// TimeCreated, Id, ProviderName, MachineName, Message`): the time as PowerShell writes dates,
/// the id as a number, the machine as a host name (its first label is the server).
pub fn read_event(record: &Record) -> Result<ExchangeEvent, InputError> {
    let machine = record.required("MachineName", record.string("MachineName")?)?;
    let machine = host_name(record, "MachineName", machine.trim())?;
    let id = match record.get("Id") {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(text)) => text.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| record.error("Id", "expected the event id as a number"))?;
    let message = record.string("Message")?.unwrap_or_default();
    Ok(ExchangeEvent {
        server: machine.split('.').next().unwrap_or(&machine).to_owned(),
        id,
        provider: record.required("ProviderName", record.string("ProviderName")?)?,
        time: record.required("TimeCreated", record.date("TimeCreated")?)?,
        message: message.lines().next().unwrap_or_default().trim().to_owned(),
        source: source(record),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(record: Value) -> ServerSettings {
        let object = record.as_object().unwrap().clone();
        let record = Record::new("server.json", 0, &object);
        let server = read_server(&record).unwrap();
        read_server_settings(&record, &server).unwrap()
    }

    /// The collector writes null for a registry value that is not set; a Get-ExchangeServer
    /// export does not hold the property, so nothing is known.
    #[test]
    fn registry_values_are_told_apart_from_values_not_recorded() {
        let collector = settings(serde_json::json!({
            "HybridTlsCollector": 1, "Name": "EDGE01", "ServerRole": "Edge",
            "AdminDisplayVersion": "Version 15.2 (Build 1748.10)",
            "DisableRootAutoUpdate": null, "EnableEccCertificateSupport": "1"
        }));
        assert_eq!(collector.build, Some((15, 2, 1748)));
        assert_eq!(collector.revision, Some(10));
        assert_eq!(collector.root_auto_update_disabled, Some(false));
        assert_eq!(collector.ecc_certificate_support, Some(true));
        let disabled = settings(serde_json::json!({
            "Name": "EX01", "ServerRole": "Mailbox", "AdminDisplayVersion": "15.1.2507.6",
            "DisableRootAutoUpdate": 1, "EnableEccCertificateSupport": 0
        }));
        assert_eq!(disabled.build, Some((15, 1, 2507)));
        assert_eq!(disabled.revision, Some(6));
        assert_eq!(disabled.root_auto_update_disabled, Some(true));
        assert_eq!(disabled.ecc_certificate_support, Some(false));
        // Get-ItemProperty gives a DWORD as an Int32: 0xFFFFFFFF comes as -1, which is set.
        let all_ones = settings(serde_json::json!({
            "HybridTlsCollector": 1, "Name": "EX01", "ServerRole": "Mailbox",
            "DisableRootAutoUpdate": -1, "EnableEccCertificateSupport": -1
        }));
        assert_eq!(all_ones.root_auto_update_disabled, Some(true));
        assert_eq!(all_ones.ecc_certificate_support, Some(false));
        let exported = settings(serde_json::json!({
            "Name": "EX01", "ServerRole": 2,
            "AdminDisplayVersion": { "Major": 15, "Minor": 2, "Build": 1544, "Revision": 4 }
        }));
        assert_eq!(exported.build, Some((15, 2, 1544)));
        assert_eq!(exported.revision, Some(4));
        assert_eq!(exported.root_auto_update_disabled, None);
        assert_eq!(exported.ecc_certificate_support, None);
    }
}
