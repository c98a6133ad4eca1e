//! Every kind of input hybridtls reads, in one table ([`KINDS`]): how its objects are told
//! apart (a signature of several properties), in which order kinds are tried, whether it is a
//! server's export or the organisation's, which reader reads it, the files the collector and the
//! README write it to, and which of its texts are refused when they hold a hidden character.
//! The loader, the folder walk and the descriptions in plans derive from it, and
//! `tests/collector.rs` checks the collector (`templates/collect.ps1`) and the test generators
//! against it.
//!
//! Adding a kind: a variant of [`InputKind`], its model type and [`Inventory`] field in
//! `model.rs`, its reader (`exchange.rs`), an entry here, and its file in the collector and the
//! README.

use serde_json::{Map, Value};

use super::psjson::{has_property, property, Record};
use super::{exchange, saved_probe};
use crate::error::{InputError, Position};
use crate::model::{InputKind, Inventory, Source, Store};

/// One kind of input.
pub struct KindSpec {
    pub kind: InputKind,
    /// How plans and errors name it, e.g. `Get-ReceiveConnector`.
    pub describe: &'static str,
    pub recognised: Recognised,
    pub scope: Scope,
    /// The names `hybridtls collect` and the README's commands give its files. hybridtls
    /// recognises a file by its content, never by its name: the names are what the collector and
    /// the test generators are checked against.
    pub file_names: &'static [&'static str],
    /// Whether `hybridtls collect` writes it on each server.
    pub collected: bool,
    pub hidden_characters: HiddenCharacters,
}

/// How files of a kind are recognised.
pub enum Recognised {
    /// Objects of a JSON or CLIXML export that match `signature`, each read by `read`.
    ByProperties { signature: Signature, read: ReadRecord },
    /// Files of a format of their own, read by a reader of their own: looked at in a folder when
    /// they have one of these extensions.
    ByFormat { extensions: &'static [&'static str] },
    /// A JSON or CLIXML export that holds no object, so which cmdlet wrote it cannot be told.
    NoObjects,
}

/// Reads one recognised object into the inventory.
pub type ReadRecord = fn(&Record, &mut Inventory) -> Result<(), InputError>;

/// Whose objects a kind holds, which decides which server a file counts for and whether it may
/// come more than once.
pub enum Scope {
    /// A server's own objects, each told apart as these say: the file counts for the server
    /// whose folder holds it, and two exports of the kind of one server, which hold one object
    /// twice, are refused (a plan from both would contradict itself).
    Server(ServerObjects),
    /// Objects kept beside a server's that are not its own: the organisation's send connectors,
    /// of which every collector folder holds a copy, protocol logs, certificate files. The file
    /// counts for the server whose folder holds it, and may come more than once.
    Folder,
    /// The organisation's objects, wherever they were put: the file counts for no server by its
    /// folder, and may come more than once.
    Organisation,
}

/// The objects a kind holds of each server.
pub type ServerObjects = fn(&Inventory) -> Vec<ServerObject<'_>>;

/// An object of a server's export, as its copy in another export of the server would be.
pub struct ServerObject<'a> {
    pub server: &'a str,
    /// The store a listing lists: each store's listing is an export of its own.
    pub store: Option<Store>,
    /// The object in words, e.g. `the receive connector "Default EX01"`, compared ignoring case.
    pub object: String,
    pub file: &'a str,
    /// Where in the file; None for an object its file alone tells apart (the server record).
    pub position: Option<&'a Position>,
}

/// Which texts of a kind's objects are refused when they hold a character that hides or
/// rewrites text in the terminal, report.md or a script ([`super::text::hidden_character`]).
/// Properties hybridtls does not read never reach the model and may hold anything.
pub enum HiddenCharacters {
    /// The reader checks every text it keeps as it reads it (a host name, a thumbprint, a
    /// version), or keeps none.
    CheckedByReader,
    /// These texts of the kind's objects, once every file is read: each refused with its file,
    /// position and field.
    Refused(ShownTexts),
}

/// Calls the check with each text of a kind's objects that reaches an output: the object's
/// source, the field and the value.
pub type ShownTexts = fn(&Inventory, &mut TextCheck) -> Result<(), InputError>;
pub type TextCheck<'a> = dyn FnMut(&Source, &'static str, &str) -> Result<(), InputError> + 'a;

/// Which cmdlet wrote an object, by properties it holds, never by one alone: other cmdlets
/// share single names (IIS `Get-WebSite` has `Bindings`, a certificate store listing has
/// `Thumbprint` like `Get-ExchangeCertificate`).
pub struct Signature {
    /// The object matches when it holds everything one of these asks for.
    pub alternatives: &'static [&'static [Holds]],
    /// Properties an object of the kind never has: a list of certificates is never a connector.
    pub never: &'static [&'static str],
}

/// What an object must hold for one alternative of a [`Signature`].
pub enum Holds {
    /// At least this many of these properties (a null value counts as held).
    AtLeast(usize, &'static [&'static str]),
    /// This property, as a string that contains this text.
    Containing(&'static str, &'static str),
}

impl Signature {
    pub fn matches(&self, object: &Map<String, Value>) -> bool {
        let holds = |holds: &Holds| match holds {
            Holds::AtLeast(least, names) => {
                names.iter().filter(|name| has_property(object, name)).count() >= *least
            }
            Holds::Containing(name, text) => property(object, name)
                .and_then(Value::as_str)
                .is_some_and(|value| value.contains(text)),
        };
        !self.never.iter().any(|name| has_property(object, name))
            && self
                .alternatives
                .iter()
                .any(|alternative| alternative.iter().all(holds))
    }

    /// Every property the signature names.
    pub fn properties(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.alternatives
            .iter()
            .flat_map(|alternative| alternative.iter())
            .flat_map(|holds| match holds {
                Holds::AtLeast(_, names) => *names,
                Holds::Containing(name, _) => std::slice::from_ref(name),
            })
            .copied()
    }
}

/// What every certificate object has, from a store listing or from Get-ExchangeCertificate.
const CERTIFICATE: &[&str] = &["Thumbprint", "RawData"];

/// Properties of Get-ExchangeCertificate's objects that a `Cert:\` listing does not have.
/// `SerializationData` is the Exchange blob a remote session adds; where the client rebuilds
/// the object as a plain X509Certificate2 (PowerShell 7) it is the only one left
/// (exchange-formats.md 1.5).
const EXCHANGE_CERTIFICATE_ONLY: &[&str] = &[
    "SerializationData",
    "Services",
    "Status",
    "RootCAType",
    "CertificateDomains",
    "IsSelfSigned",
    "ServicesStringForm",
    "IISServices",
    "PrivateKeyExportable",
    "PublicKeySize",
    "Identity",
];

/// Exchange Online connectors have properties no on-premises connector has (Set-InboundConnector,
/// Set-OutboundConnector on Microsoft Learn; on-premises connectors have RemoteIPRanges and
/// TlsAuthLevel instead): two of them, or one with a property every Exchange Online connector
/// has. The same shape serves the on-premises connectors, whose own properties an IIS site lacks.
macro_rules! own_properties {
    ($own:expr, $shared:expr) => {
        &[
            &[Holds::AtLeast(2, $own)],
            &[Holds::AtLeast(1, $own), Holds::AtLeast(1, $shared)],
        ]
    };
}

/// Every kind, in the order objects are tried against the signatures: the first that matches
/// wins. [`InputKind`] declares its variants in this order, which [`spec`] relies on.
pub const KINDS: &[KindSpec] = &[
    KindSpec {
        kind: InputKind::ExchangeServer,
        describe: "Get-ExchangeServer / collector server info",
        recognised: Recognised::ByProperties {
            // The collector's own record says so; Get-ExchangeServer by its role and version.
            signature: Signature {
                alternatives: &[
                    &[Holds::AtLeast(1, &["HybridTlsCollector"])],
                    &[
                        Holds::AtLeast(1, &["ServerRole"]),
                        Holds::AtLeast(1, &["AdminDisplayVersion", "Fqdn"]),
                    ],
                ],
                never: &[],
            },
            read: read_server,
        },
        // One record a file; the files of a server's records are known once servers are resolved.
        scope: Scope::Server(|inventory| {
            let files = inventory
                .inputs
                .iter()
                .filter(|i| i.kind == InputKind::ExchangeServer);
            files
                .flat_map(|input| {
                    input.servers.iter().map(|server| ServerObject {
                        server,
                        store: None,
                        object: "the server record".to_owned(),
                        file: &input.path,
                        position: None,
                    })
                })
                .collect()
        }),
        file_names: &["server.json"],
        collected: true,
        // Its name is a host name and its version is checked when read.
        hidden_characters: HiddenCharacters::CheckedByReader,
    },
    KindSpec {
        kind: InputKind::HybridConfiguration,
        describe: "Get-HybridConfiguration",
        recognised: Recognised::ByProperties {
            // The server lists and the smart host only it has (Set-HybridConfiguration on
            // Microsoft Learn; connectors have SourceTransportServers).
            signature: Signature {
                alternatives: &[&[
                    Holds::AtLeast(
                        1,
                        &[
                            "OnPremisesSmartHost",
                            "SendingTransportServers",
                            "ReceivingTransportServers",
                            "EdgeTransportServers",
                        ],
                    ),
                    Holds::AtLeast(
                        1,
                        &["Features", "Domains", "TlsCertificateName", "OnPremisesSmartHost"],
                    ),
                ]],
                never: &[],
            },
            read: |record, inventory| {
                let configuration = exchange::read_hybrid_configuration(record)?;
                inventory.hybrid_configurations.push(configuration);
                Ok(())
            },
        },
        scope: Scope::Organisation,
        file_names: &["hybrid-configuration.json"],
        collected: true,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for configuration in &inventory.hybrid_configurations {
                if let Some(name) = &configuration.tls_certificate_name {
                    check(&configuration.source, "TlsCertificateName", &name.to_string())?;
                }
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::AuthConfig,
        describe: "Get-AuthConfig",
        recognised: Recognised::ByProperties {
            // Certificates by thumbprint in properties no other cmdlet has (one suffices: no
            // export shares these names, and `Select-Object CurrentCertificateThumbprint` is a
            // complete export of what HT018 reads).
            signature: Signature {
                alternatives: &[&[Holds::AtLeast(
                    1,
                    &["CurrentCertificateThumbprint", "NextCertificateThumbprint"],
                )]],
                never: &[],
            },
            read: |record, inventory| {
                inventory.auth_configs.push(exchange::read_auth_config(record)?);
                Ok(())
            },
        },
        scope: Scope::Organisation,
        file_names: &["auth-config.json"],
        collected: true,
        // Thumbprints, checked to be hexadecimal when read.
        hidden_characters: HiddenCharacters::CheckedByReader,
    },
    KindSpec {
        kind: InputKind::TransportServices,
        describe: "Get-TransportService",
        recognised: Recognised::ByProperties {
            // The internal transport certificate's thumbprint, which only the transport service
            // has, and the server it belongs to.
            signature: Signature {
                alternatives: &[&[
                    Holds::AtLeast(1, &["InternalTransportCertificateThumbprint"]),
                    Holds::AtLeast(1, &["Name", "Identity"]),
                ]],
                never: &[],
            },
            read: |record, inventory| {
                let service = exchange::read_transport_service(record)?;
                inventory.transport_services.push(service);
                Ok(())
            },
        },
        scope: Scope::Server(|inventory| {
            let services = inventory.transport_services.iter();
            services
                .map(|service| ServerObject {
                    server: &service.server,
                    store: None,
                    object: "the transport service".to_owned(),
                    file: &service.source.file,
                    position: Some(&service.source.position),
                })
                .collect()
        }),
        file_names: &["transport-services.json"],
        collected: true,
        // A host name and a thumbprint, both checked when read.
        hidden_characters: HiddenCharacters::CheckedByReader,
    },
    // Exchange Online connectors, before the on-premises send connector (both have SmartHosts).
    KindSpec {
        kind: InputKind::InboundConnectors,
        describe: "Get-InboundConnector (Exchange Online)",
        recognised: Recognised::ByProperties {
            signature: Signature {
                alternatives: own_properties!(
                    &[
                        "TlsSenderCertificateName",
                        "SenderIPAddresses",
                        "SenderDomains",
                        "RestrictDomainsToCertificate",
                        "RestrictDomainsToIPAddresses",
                        "AssociatedAcceptedDomains",
                    ],
                    &["ConnectorType", "ConnectorSource"]
                ),
                never: &[],
            },
            read: |record, inventory| {
                let connector = exchange::read_inbound_connector(record)?;
                inventory.inbound_connectors.push(connector);
                Ok(())
            },
        },
        scope: Scope::Organisation,
        file_names: &["inbound-connectors.json"],
        collected: false,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for connector in &inventory.inbound_connectors {
                let source = &connector.source;
                check(source, "Name", &connector.name)?;
                if let Some(name) = &connector.tls_sender_certificate_name {
                    check(source, "TlsSenderCertificateName", name)?;
                }
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::OutboundConnectors,
        describe: "Get-OutboundConnector (Exchange Online)",
        recognised: Recognised::ByProperties {
            signature: Signature {
                alternatives: own_properties!(
                    &[
                        "TlsSettings",
                        "UseMXRecord",
                        "RecipientDomains",
                        "RouteAllMessagesViaOnPremises",
                        "IsTransportRuleScoped",
                        "AllAcceptedDomains",
                    ],
                    &["ConnectorType", "ConnectorSource", "TlsDomain", "SmartHosts"]
                ),
                never: &[],
            },
            read: |record, inventory| {
                let connector = exchange::read_outbound_connector(record)?;
                inventory.outbound_connectors.push(connector);
                Ok(())
            },
        },
        scope: Scope::Organisation,
        file_names: &["outbound-connectors.json"],
        collected: false,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for connector in &inventory.outbound_connectors {
                let source = &connector.source;
                check(source, "Name", &connector.name)?;
                if let Some(domain) = &connector.tls_domain {
                    check(source, "TlsDomain", domain)?;
                }
                for host in &connector.smart_hosts {
                    check(source, "SmartHosts", host)?;
                }
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::AcceptedDomains,
        describe: "Get-AcceptedDomain (Exchange Online)",
        recognised: Recognised::ByProperties {
            // The domain and what only an accepted domain says of it (Get-AcceptedDomain on
            // Microsoft Learn).
            signature: Signature {
                alternatives: &[&[
                    Holds::AtLeast(1, &["DomainName"]),
                    Holds::AtLeast(
                        1,
                        &[
                            "DomainType",
                            "InitialDomain",
                            "MatchSubDomains",
                            "AddressBookEnabled",
                        ],
                    ),
                ]],
                never: &[],
            },
            read: |record, inventory| {
                let domain = exchange::read_accepted_domain(record)?;
                inventory.accepted_domains.push(domain);
                Ok(())
            },
        },
        scope: Scope::Organisation,
        file_names: &["accepted-domains.json"],
        collected: false,
        // A domain name, checked when read.
        hidden_characters: HiddenCharacters::CheckedByReader,
    },
    KindSpec {
        kind: InputKind::CertificateStore,
        describe: "certificate store listing",
        recognised: Recognised::ByProperties {
            // A certificate list that says its store: `Store` (collector) or `PSParentPath`
            // (Get-ChildItem).
            signature: Signature {
                alternatives: &[
                    &[Holds::AtLeast(1, CERTIFICATE), Holds::AtLeast(1, &["Store"])],
                    &[
                        Holds::AtLeast(1, CERTIFICATE),
                        Holds::Containing("PSParentPath", "Certificate::"),
                    ],
                ],
                never: &[],
            },
            read: read_store_listing,
        },
        scope: Scope::Server(|inventory| certificate_objects(inventory, InputKind::CertificateStore)),
        file_names: &["store-My.json", "store-CA.json", "store-Root.json"],
        collected: true,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            certificate_texts(inventory, InputKind::CertificateStore, check)
        }),
    },
    KindSpec {
        kind: InputKind::ExchangeCertificates,
        describe: "Get-ExchangeCertificate",
        recognised: Recognised::ByProperties {
            // What only Exchange's certificate object has (exchange-formats.md §1.1): without one
            // of these and without a store, the list may be any store's, and is not guessed at.
            signature: Signature {
                alternatives: &[&[
                    Holds::AtLeast(1, CERTIFICATE),
                    Holds::AtLeast(1, EXCHANGE_CERTIFICATE_ONLY),
                ]],
                never: &[],
            },
            read: |record, inventory| {
                let certificate = exchange::read_certificate(record, Store::My, false)?;
                inventory.certificates.push(certificate);
                Ok(())
            },
        },
        scope: Scope::Server(|inventory| certificate_objects(inventory, InputKind::ExchangeCertificates)),
        file_names: &["exchange-certificates.json"],
        collected: true,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            certificate_texts(inventory, InputKind::ExchangeCertificates, check)
        }),
    },
    // A connector has its own properties and a TlsCertificateName, Fqdn or Server (an IIS site
    // has `Bindings` and none of these).
    KindSpec {
        kind: InputKind::SendConnectors,
        describe: "Get-SendConnector",
        recognised: Recognised::ByProperties {
            signature: Signature {
                alternatives: own_properties!(
                    &[
                        "SmartHosts",
                        "AddressSpaces",
                        "CloudServicesMailEnabled",
                        "TlsAuthLevel",
                        "DNSRoutingEnabled",
                        "SourceTransportServers",
                    ],
                    &["TlsCertificateName", "Fqdn", "Server"]
                ),
                never: CERTIFICATE,
            },
            read: |record, inventory| {
                let connector = exchange::read_send_connector(record)?;
                inventory.send_connectors.push(connector);
                Ok(())
            },
        },
        scope: Scope::Folder,
        file_names: &["send-connectors.json"],
        collected: true,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for connector in &inventory.send_connectors {
                let source = &connector.source;
                check(source, "Name", &connector.name)?;
                if let Some(name) = &connector.tls_certificate_name {
                    check(source, "TlsCertificateName", &name.to_string())?;
                }
                if let Some(fqdn) = &connector.fqdn {
                    check(source, "Fqdn", fqdn)?;
                }
                for (field, values) in [
                    ("SmartHosts", &connector.smart_hosts),
                    ("AddressSpaces", &connector.address_spaces),
                    ("SourceTransportServers", &connector.source_servers),
                ] {
                    for value in values {
                        check(source, field, value)?;
                    }
                }
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::ReceiveConnectors,
        describe: "Get-ReceiveConnector",
        recognised: Recognised::ByProperties {
            signature: Signature {
                alternatives: own_properties!(
                    &[
                        "TlsDomainCapabilities",
                        "Bindings",
                        "PermissionGroups",
                        "RemoteIPRanges",
                        "TransportRole",
                        "AuthMechanism",
                    ],
                    &["TlsCertificateName", "Fqdn", "Server"]
                ),
                never: CERTIFICATE,
            },
            read: |record, inventory| {
                let connector = exchange::read_receive_connector(record)?;
                inventory.receive_connectors.push(connector);
                Ok(())
            },
        },
        scope: Scope::Server(|inventory| {
            let connectors = inventory.receive_connectors.iter();
            connectors
                .map(|connector| ServerObject {
                    server: &connector.server,
                    store: None,
                    object: format!("the receive connector {:?}", connector.name),
                    file: &connector.source.file,
                    position: Some(&connector.source.position),
                })
                .collect()
        }),
        file_names: &["receive-connectors.json"],
        collected: true,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for connector in &inventory.receive_connectors {
                let source = &connector.source;
                check(source, "Server", &connector.server)?;
                check(source, "Name", &connector.name)?;
                if let Some(name) = &connector.tls_certificate_name {
                    check(source, "TlsCertificateName", &name.to_string())?;
                }
                for (field, values) in [
                    ("Bindings", &connector.bindings),
                    ("TlsDomainCapabilities", &connector.tls_domain_capabilities),
                ] {
                    for value in values {
                        check(source, field, value)?;
                    }
                }
                if let Some(fqdn) = &connector.fqdn {
                    check(source, "Fqdn", fqdn)?;
                }
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::CertificateFile,
        describe: "certificate file",
        // Intermediates downloaded from the CA, DER or PEM, one or a bundle.
        recognised: Recognised::ByFormat {
            extensions: &["cer", "crt", "der", "pem", "p7b"],
        },
        scope: Scope::Folder,
        file_names: &[],
        collected: false,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            certificate_texts(inventory, InputKind::CertificateFile, check)
        }),
    },
    KindSpec {
        kind: InputKind::ProtocolLog,
        describe: "SMTP protocol log",
        // `RECV*.LOG`, `SEND*.LOG`; the reader also refuses a hidden character in a row that
        // matters as it reads (what remote hosts sent in other rows may hold anything).
        recognised: Recognised::ByFormat { extensions: &["log"] },
        scope: Scope::Folder,
        file_names: &[],
        collected: false,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for sighting in &inventory.sightings {
                let source = &sighting.source;
                check(source, "connector-id", &sighting.connector)?;
                check(source, "date-time", &sighting.time)?;
                for value in [&sighting.thumbprint, &sighting.subject].into_iter().flatten() {
                    check(source, "data", value)?;
                }
            }
            for failure in &inventory.log_failures {
                let source = &failure.sample;
                check(source, "connector-id", &failure.connector)?;
                check(source, "remote-endpoint", &failure.remote)?;
                check(source, "date-time", &failure.first)?;
                check(source, "date-time", &failure.last)?;
                check(source, "data", &failure.status)?;
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::TlsSettings,
        describe: "TLS settings (SCHANNEL, .NET, cipher suites)",
        recognised: Recognised::ByProperties {
            // Registry values under names of the collector's own (no cmdlet writes them).
            signature: Signature {
                alternatives: &[&[Holds::AtLeast(
                    2,
                    &[
                        "Tls12ServerEnabled",
                        "Tls12ClientEnabled",
                        "NetV4SchUseStrongCrypto",
                        "NetV4SystemDefaultTlsVersions",
                        "TlsCipherSuites",
                    ],
                )]],
                never: &[],
            },
            read: |record, inventory| {
                inventory.tls_settings.push(exchange::read_tls_settings(record)?);
                Ok(())
            },
        },
        scope: Scope::Server(|inventory| {
            let settings = inventory.tls_settings.iter();
            settings
                .map(|settings| ServerObject {
                    server: &settings.server,
                    store: None,
                    object: "the TLS settings".to_owned(),
                    file: &settings.source.file,
                    position: Some(&settings.source.position),
                })
                .collect()
        }),
        file_names: &["tls-settings.json"],
        collected: true,
        // The server is a host name checked when read; the cipher suite names are shown.
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for settings in &inventory.tls_settings {
                for name in settings.cipher_suites.iter().flatten() {
                    check(&settings.source, "TlsCipherSuites", name)?;
                }
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::ExchangeEvents,
        describe: "Get-WinEvent (Exchange transport and EdgeSync events)",
        recognised: Recognised::ByProperties {
            // The properties of an event record (EventLogRecord) no export shares.
            signature: Signature {
                alternatives: &[&[
                    Holds::AtLeast(1, &["TimeCreated"]),
                    Holds::AtLeast(1, &["ProviderName"]),
                    Holds::AtLeast(1, &["MachineName"]),
                ]],
                never: &[],
            },
            read: |record, inventory| {
                inventory.events.push(exchange::read_event(record)?);
                Ok(())
            },
        },
        // Events repeat by nature (one per connector and hour): two exports that overlap are
        // counted twice rather than refused.
        scope: Scope::Folder,
        file_names: &["exchange-events.json"],
        collected: true,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for event in &inventory.events {
                check(&event.source, "ProviderName", &event.provider)?;
                check(&event.source, "Message", &event.message)?;
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::SavedProbe,
        describe: "hybridtls probe --format json",
        recognised: Recognised::ByProperties {
            signature: Signature {
                alternatives: &[&[Holds::AtLeast(
                    5,
                    &[
                        "probed_at",
                        "target",
                        "smtp",
                        "tls",
                        "chain",
                        "trust_anchors",
                        "checks",
                    ],
                )]],
                never: &[],
            },
            read: |record, inventory| {
                let probe = saved_probe::read(record)?;
                inventory.probes.push(probe);
                Ok(())
            },
        },
        scope: Scope::Organisation,
        file_names: &["probe.json"],
        collected: false,
        hidden_characters: HiddenCharacters::Refused(|inventory, check| {
            for probe in &inventory.probes {
                check(&probe.source, "target.host", &probe.host)?;
                if let Some(subject) = &probe.subject {
                    check(&probe.source, "certificate.subject", subject)?;
                }
            }
            Ok(())
        }),
    },
    KindSpec {
        kind: InputKind::Empty,
        describe: "empty list",
        recognised: Recognised::NoObjects,
        scope: Scope::Folder,
        file_names: &[],
        collected: false,
        hidden_characters: HiddenCharacters::CheckedByReader,
    },
];

// `spec` finds a kind's entry by its place in the table: the table must list every kind once,
// in the order InputKind declares them (Empty last), or the build fails here.
const _: () = {
    let mut index = 0;
    while index < KINDS.len() {
        assert!(
            KINDS[index].kind as usize == index,
            "KINDS lists the input kinds in the order InputKind declares them"
        );
        index += 1;
    }
    assert!(
        KINDS.len() == InputKind::Empty as usize + 1,
        "KINDS lists every input kind"
    );
};

/// The table entry of `kind`.
pub fn spec(kind: InputKind) -> &'static KindSpec {
    &KINDS[kind as usize]
}

impl InputKind {
    /// How plans and errors name the kind: its [`KindSpec::describe`].
    pub fn describe(self) -> &'static str {
        spec(self).describe
    }
}

/// The kind of the first signature in [`KINDS`] that `object` matches, and its reader.
pub fn recognise(object: &Map<String, Value>) -> Option<(InputKind, ReadRecord)> {
    KINDS.iter().find_map(|spec| match &spec.recognised {
        Recognised::ByProperties { signature, read } if signature.matches(object) => Some((spec.kind, *read)),
        _ => None,
    })
}

/// The kind of format files with extension `extension` (lowercase, no dot) are, when they are
/// of a format of their own.
pub fn format_of(extension: &str) -> Option<InputKind> {
    KINDS.iter().find_map(|spec| match spec.recognised {
        Recognised::ByFormat { extensions } if extensions.contains(&extension) => Some(spec.kind),
        _ => None,
    })
}

/// Every text of the model's objects that [`HiddenCharacters::Refused`] names, kind by kind.
pub fn check_shown_texts(inventory: &Inventory, check: &mut TextCheck) -> Result<(), InputError> {
    for spec in KINDS {
        if let HiddenCharacters::Refused(texts) = spec.hidden_characters {
            texts(inventory, check)?;
        }
    }
    Ok(())
}

/// The certificates read from a file of `kind`, each by its thumbprint (in its store, for a
/// listing), once it is known which server each is installed on.
fn certificate_objects(inventory: &Inventory, kind: InputKind) -> Vec<ServerObject<'_>> {
    let certificates = inventory.certificates.iter().filter(|c| c.read_from() == kind);
    certificates
        .filter_map(|certificate| {
            Some(ServerObject {
                server: certificate.server.as_deref()?,
                store: (kind == InputKind::CertificateStore).then_some(certificate.store),
                object: format!("the certificate {}", certificate.thumbprint.to_ascii_uppercase()),
                file: &certificate.source.file,
                position: Some(&certificate.source.position),
            })
        })
        .collect()
}

/// The texts of the certificates read from a file of `kind`.
fn certificate_texts(
    inventory: &Inventory,
    kind: InputKind,
    check: &mut TextCheck,
) -> Result<(), InputError> {
    for certificate in inventory.certificates.iter().filter(|c| c.read_from() == kind) {
        let source = &certificate.source;
        check(source, "Thumbprint", &certificate.thumbprint)?;
        check(source, "Subject", &certificate.subject)?;
        check(source, "Issuer", &certificate.issuer)?;
        for name in &certificate.names {
            check(source, "CertificateDomains", name)?;
        }
        if let Some(name) = &certificate.friendly_name {
            check(source, "FriendlyName", name)?;
        }
        if let Some(server) = &certificate.server {
            check(source, "PSComputerName", server)?;
        }
    }
    Ok(())
}

fn read_server(record: &Record, inventory: &mut Inventory) -> Result<(), InputError> {
    let mut server = exchange::read_server(record)?;
    // Store listings name no server: the folder of its record tells which they are of.
    server.folder = Some(super::folder_of(record.file).to_owned());
    inventory
        .server_settings
        .push(exchange::read_server_settings(record, &server)?);
    inventory.servers.push(server);
    Ok(())
}

fn read_store_listing(record: &Record, inventory: &mut Inventory) -> Result<(), InputError> {
    let store = store_of(record)?;
    inventory.listed_stores.push((record.file.to_owned(), store));
    let certificate = exchange::read_certificate(record, store, true)?;
    inventory.certificates.push(certificate);
    Ok(())
}

/// A store listing says its store in `Store` (collector) or `PSParentPath` (Get-ChildItem).
fn store_of(record: &Record) -> Result<Store, InputError> {
    let text = match record.string("Store")? {
        Some(store) => store,
        None => record
            .string("PSParentPath")?
            .and_then(|path| path.rsplit(['\\', ':']).next().map(str::to_owned))
            .unwrap_or_default(),
    };
    match text.to_ascii_lowercase().as_str() {
        "my" => Ok(Store::My),
        "ca" => Ok(Store::Ca),
        "root" => Ok(Store::Root),
        _ => Err(record.error(
            "Store",
            format!("{text:?} is not a store hybridtls reads (My, CA, Root)"),
        )),
    }
}

/// The error for an object no signature matches.
pub fn unrecognised(record: &Record) -> InputError {
    let object = record.object;
    if CERTIFICATE.iter().any(|p| has_property(object, p)) {
        return record
            .error(
                "",
                format!(
                    "a list of certificates that says neither which store it lists (no Store or PSParentPath) nor is Get-ExchangeCertificate output (none of {}), so hybridtls cannot tell whether these are the server's own certificates, intermediates or roots",
                    EXCHANGE_CERTIFICATE_ONLY.join(", ")
                ),
            )
            .hint("list each store with the README's command (it adds Store), or run the script from `hybridtls collect`");
    }
    let mut keys: Vec<&str> = object.keys().map(String::as_str).take(8).collect();
    if object.len() > 8 {
        keys.push("...");
    }
    record
        .error(
            "",
            format!(
                "not an export hybridtls recognises (properties: {})",
                if keys.is_empty() { "none".to_owned() } else { keys.join(", ") }
            ),
        )
        .hint("expected the JSON of Get-ExchangeCertificate, Get-ReceiveConnector, Get-SendConnector, Get-ExchangeServer, Get-AuthConfig, Get-TransportService, a Cert:\\LocalMachine store listing, the files written by `hybridtls collect`, or Get-InboundConnector / Get-OutboundConnector / Get-AcceptedDomain from Exchange Online PowerShell")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The issue this table answers: one property shared with another cmdlet (IIS `Get-WebSite`
    /// has `Bindings`) must not make an export of a kind.
    #[test]
    fn every_signature_names_several_properties() {
        for spec in KINDS {
            if let Recognised::ByProperties { signature, .. } = &spec.recognised {
                let mut names: Vec<&str> = signature.properties().collect();
                names.sort_unstable();
                names.dedup();
                assert!(names.len() >= 2, "{:?}: {names:?}", spec.kind);
            }
        }
    }

    #[test]
    fn one_shared_property_is_no_connector() {
        let object = |names: &[&str]| -> Map<String, Value> {
            names.iter().map(|n| ((*n).to_owned(), Value::Null)).collect()
        };
        assert_eq!(recognise(&object(&["Bindings", "Name"])).map(|(k, _)| k), None);
        assert_eq!(
            recognise(&object(&["Bindings", "Fqdn"])).map(|(k, _)| k),
            Some(InputKind::ReceiveConnectors)
        );
        // A list of certificates is never a connector, whatever else it holds.
        assert_eq!(
            recognise(&object(&["Thumbprint", "Bindings", "TlsDomainCapabilities"])).map(|(k, _)| k),
            None
        );
    }

    #[test]
    fn formats_are_found_by_extension() {
        assert_eq!(format_of("pem"), Some(InputKind::CertificateFile));
        assert_eq!(format_of("log"), Some(InputKind::ProtocolLog));
        assert_eq!(format_of("json"), None);
    }
}
