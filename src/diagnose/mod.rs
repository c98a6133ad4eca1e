//! Stage 3: compare what each server does with what hybrid mail flow needs, and say what is
//! wrong as findings of stable rules, each with its evidence and its remedy.

pub mod chain;
mod connector;
mod context;
pub mod needs;
pub mod reach;
pub mod rules;
pub mod select;
pub mod settings;
pub mod symptoms;
mod tls;

use std::collections::HashMap;

use time::OffsetDateTime;

pub use crate::model::date;
use crate::model::{
    Certificate, Inventory, ReceiveConnector, SendConnector, Server, Sighting, TransportRole,
};
pub use crate::steps::ManualCommand;
use crate::steps::{SharedStep, Step};
use context::Context;
use needs::{Export, Missing, NotJudged};
use rules::Rule;
use select::Selection;
pub use settings::Settings;

/// One piece of evidence: the value of a field in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub file: String,
    pub position: crate::error::Position,
    pub field: String,
    pub value: String,
}

/// What would resolve a finding.
#[derive(Debug, Clone)]
pub enum Remedy {
    /// A step a script carries out; the plan places it (see [`crate::steps`]).
    Step(SharedStep),
    /// A step a person must take instead of a script (`instruction` says why and what comes
    /// around it), shown as the step's command: the same fix as [`Remedy::Step`], by hand.
    StepByHand { step: SharedStep, instruction: String },
    /// Nothing hybridtls may do automatically; a person must act, with `command` when one
    /// command does it.
    Manual {
        instruction: String,
        command: Option<ManualCommand>,
    },
}

/// A remedy as the plan and the renderers show it (see [`Remedy::fix`]).
pub enum Fix<'a> {
    Scripted(&'a dyn Step),
    ByHand {
        instruction: &'a str,
        command: Option<ManualCommand>,
    },
}

impl PartialEq for Remedy {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Remedy::Step(a), Remedy::Step(b)) => crate::steps::same(a.as_ref(), b.as_ref()),
            (
                Remedy::StepByHand { step, instruction },
                Remedy::StepByHand {
                    step: other_step,
                    instruction: other_instruction,
                },
            ) => crate::steps::same(step.as_ref(), other_step.as_ref()) && instruction == other_instruction,
            (
                Remedy::Manual { instruction, command },
                Remedy::Manual {
                    instruction: other_instruction,
                    command: other_command,
                },
            ) => instruction == other_instruction && command == other_command,
            _ => false,
        }
    }
}

impl Eq for Remedy {}

impl Remedy {
    /// A step for a script to carry out.
    pub fn step(step: impl Step) -> Self {
        Remedy::Step(std::sync::Arc::new(step))
    }

    /// `step` left to a person, for the reason `instruction` gives.
    pub fn by_hand(step: impl Step, instruction: impl Into<String>) -> Self {
        Remedy::StepByHand {
            step: std::sync::Arc::new(step),
            instruction: instruction.into(),
        }
    }

    /// How the fix is carried out: by a script, or by a person with an instruction and, when
    /// one command does it, that command (a step left to a person is shown as its command).
    pub fn fix(&self) -> Fix<'_> {
        match self {
            Remedy::Step(step) => Fix::Scripted(step.as_ref()),
            Remedy::StepByHand { step, instruction } => Fix::ByHand {
                instruction,
                command: Some(step.command()),
            },
            Remedy::Manual { instruction, command } => Fix::ByHand {
                instruction,
                command: command.clone(),
            },
        }
    }

    /// A manual remedy described in words only.
    pub fn manual(instruction: impl Into<String>) -> Self {
        Remedy::Manual {
            instruction: instruction.into(),
            command: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    pub server: String,
    /// The object the finding is about, e.g. a connector identity.
    pub object: String,
    pub message: String,
    pub evidence: Vec<Evidence>,
    pub remedy: Remedy,
}

/// The hybrid FQDN(s) and how they were obtained, printed so the assumption can be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HybridNames {
    pub names: Vec<String>,
    pub origin: NameOrigin,
}

/// Where the hybrid names came from; only `Given` is no assumption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameOrigin {
    /// `--fqdn`.
    Given,
    /// The `Fqdn` of the send connector to Exchange Online of this name.
    SendConnectorFqdn(String),
    /// The subject CN of the `TlsCertificateName` on this receive connector.
    ReceiveCertificateName(String),
    /// The `Fqdn` of this receive connector.
    ReceiveConnectorFqdn(String),
    /// The `TlsDomain` of this Exchange Online outbound connector, and of this many more.
    OutboundTlsDomain { connector: String, more: usize },
}

impl std::fmt::Display for NameOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameOrigin::Given => f.write_str("given with --fqdn"),
            NameOrigin::SendConnectorFqdn(name) => {
                write!(f, "Fqdn of the send connector to Exchange Online \"{name}\"")
            }
            NameOrigin::ReceiveCertificateName(identity) => {
                write!(f, "subject CN of the TlsCertificateName on \"{identity}\"")
            }
            NameOrigin::ReceiveConnectorFqdn(identity) => {
                write!(f, "Fqdn of the receive connector \"{identity}\"")
            }
            NameOrigin::OutboundTlsDomain { connector, more } => {
                write!(
                    f,
                    "TlsDomain of the Exchange Online outbound connector \"{connector}\" (OnPremises, DomainValidation)"
                )?;
                if *more > 0 {
                    write!(f, " and {more} more")?;
                }
                Ok(())
            }
        }
    }
}

/// A receive connector with the certificate Exchange would present on it.
#[derive(Debug, Clone)]
pub struct ConnectorReport<'a> {
    pub connector: &'a ReceiveConnector,
    pub hybrid: bool,
    pub selection: Selection<'a>,
    /// The latest certificate the protocol logs show this connector sending.
    pub observed: Option<&'a Sighting>,
}

/// A send connector to Exchange Online that a server sources, with what it presents there.
#[derive(Debug, Clone)]
pub struct SendReport<'a> {
    pub connector: &'a SendConnector,
    pub selection: Selection<'a>,
}

#[derive(Debug, Clone)]
pub struct ServerDiagnosis<'a> {
    pub server: &'a Server,
    pub connectors: Vec<ConnectorReport<'a>>,
    /// The send connectors to Exchange Online this server is a source transport server of.
    pub send_connectors: Vec<SendReport<'a>>,
    /// The certificate hybrid mail flow should use, chosen deterministically (see [`choose_target`]).
    pub target: Option<&'a Certificate>,
    /// The certificates the hybrid connectors present once the plan is carried out: the
    /// script's preflight requires them and its removals must never touch them.
    pub intended: Vec<&'a Certificate>,
    pub findings: Vec<Finding>,
    /// The findings of the rules the settings ignore: listed as ignored, never planned.
    pub ignored: Vec<Finding>,
}

#[derive(Debug, Clone)]
pub struct Diagnosis<'a> {
    pub now: OffsetDateTime,
    pub hybrid_names: Option<HybridNames>,
    pub servers: Vec<ServerDiagnosis<'a>>,
    /// The checks that could not be judged for want of an export or a property, the
    /// organisation's first, then each server's in sorted order.
    pub not_judged: Vec<NotJudged>,
    /// What the diagnosis was made with.
    pub settings: Settings,
}

/// Diagnoses every server of the inventory at time `now` for the hybrid FQDNs `given`
/// (derived from the inputs when empty), without settings.
pub fn diagnose<'a>(inventory: &'a Inventory, given: &[String], now: OffsetDateTime) -> Diagnosis<'a> {
    diagnose_with(inventory, given, now, Settings::default())
}

/// [`diagnose`] with the rules tuned by `settings`.
pub fn diagnose_with<'a>(
    inventory: &'a Inventory,
    given: &[String],
    now: OffsetDateTime,
    settings: Settings,
) -> Diagnosis<'a> {
    let hybrid_names = hybrid_names(inventory, given);
    let mut servers: Vec<&Server> = inventory.servers.iter().collect();
    servers.sort_by_key(|s| s.name.to_ascii_uppercase());
    let index = ServerIndex::new(inventory);
    let renewal_carrier = servers
        .iter()
        .find(|s| s.kind != Some(crate::model::ServerKind::Edge))
        .map(|s| s.name.clone());
    let mut not_judged = organisation_not_judged(inventory);
    let servers = servers
        .into_iter()
        .map(|server| {
            let carrier = renewal_carrier.as_deref() == Some(server.name.as_str());
            let (diagnosis, unjudged) = diagnose_server(
                inventory,
                &index,
                server,
                hybrid_names.as_ref(),
                carrier,
                now,
                &settings,
            );
            not_judged.extend(unjudged);
            diagnosis
        })
        .collect();
    Diagnosis {
        now,
        hybrid_names,
        servers,
        not_judged,
        settings,
    }
}

/// The checks of organisation-wide objects (the send connector to Exchange Online, the
/// Exchange Online connectors) that lack an export or a property, each said by its rule.
fn organisation_not_judged(inventory: &Inventory) -> Vec<NotJudged> {
    let mut list = Vec::new();
    for needs in rules::ALL.iter().filter_map(|rule| rule.organisation_needs) {
        needs(inventory, &mut list);
    }
    list
}

/// The record of a property absent from an object of an export that was given.
pub(crate) fn absent_property(
    rule: &'static Rule,
    server: Option<&str>,
    object: String,
    property: &'static str,
    source: &crate::model::Source,
    export: Export,
) -> NotJudged {
    NotJudged {
        rule,
        server: server.map(str::to_owned),
        object,
        missing: Missing::Property {
            property,
            source: source.clone(),
            export,
        },
    }
}

/// The record of a check of the send connector to Exchange Online that did not run because no
/// Get-SendConnector export was given (HT015 judges it, HT030 compares what it presents).
pub(crate) fn send_connector_export_missing(
    rule: &'static Rule,
    inventory: &Inventory,
    list: &mut Vec<NotJudged>,
) {
    if !inventory
        .inputs
        .iter()
        .any(|input| input.kind == crate::model::InputKind::SendConnectors)
    {
        list.push(NotJudged {
            rule,
            server: None,
            object: "the send connector to Exchange Online".to_owned(),
            missing: Missing::Export(Export::SendConnectors),
        });
    }
}

/// The inventory grouped once by server (names upper-cased), so that each server's diagnosis
/// reads only its own objects: scanning the whole inventory for every server made a plan
/// quadratic in the number of servers (issue 10).
pub(in crate::diagnose) struct ServerIndex<'a> {
    /// Per server: its certificates of every store, and the supplied certificate files, in
    /// inventory order (the order chain building and the store listings rely on).
    certificates: HashMap<String, Vec<&'a Certificate>>,
    receive_connectors: HashMap<String, Vec<&'a ReceiveConnector>>,
    /// Per connector identity: the latest sighting that shows a certificate.
    latest_sightings: HashMap<String, &'a Sighting>,
}

impl<'a> ServerIndex<'a> {
    fn new(inventory: &'a Inventory) -> Self {
        let mut certificates: HashMap<String, Vec<&'a Certificate>> = HashMap::new();
        for server in &inventory.servers {
            certificates.entry(server.name.to_ascii_uppercase()).or_default();
        }
        for certificate in &inventory.certificates {
            if certificate.store == crate::model::Store::File {
                certificates.values_mut().for_each(|pool| pool.push(certificate));
            } else if let Some(server) = &certificate.server {
                certificates
                    .entry(server.to_ascii_uppercase())
                    .or_default()
                    .push(certificate);
            }
        }
        let mut receive_connectors: HashMap<String, Vec<&'a ReceiveConnector>> = HashMap::new();
        for connector in &inventory.receive_connectors {
            receive_connectors
                .entry(connector.server.to_ascii_uppercase())
                .or_default()
                .push(connector);
        }
        let mut latest_sightings: HashMap<String, &'a Sighting> = HashMap::new();
        for sighting in inventory.sightings.iter().filter(|s| s.thumbprint.is_some()) {
            // Of equal times the last one wins, as `Iterator::max_by` picks it.
            latest_sightings
                .entry(sighting.connector.to_ascii_uppercase())
                .and_modify(|latest| {
                    if sighting.time >= latest.time {
                        *latest = sighting;
                    }
                })
                .or_insert(sighting);
        }
        ServerIndex {
            certificates,
            receive_connectors,
            latest_sightings,
        }
    }

    /// The certificates of `server` and the supplied files; none for a server never indexed.
    pub(in crate::diagnose) fn certificates(&self, server: &str) -> &[&'a Certificate] {
        self.certificates
            .get(&server.to_ascii_uppercase())
            .map_or(&[], Vec::as_slice)
    }
}

/// A receive connector Exchange Online delivers to: Default Frontend, or one that accepts cloud
/// mail from the protection domain of any Exchange Online cloud (worldwide, 21Vianet, GCC High
/// and DoD; see [`crate::model::EXCHANGE_ONLINE_CLOUDS`]).
pub fn is_hybrid(connector: &ReceiveConnector) -> bool {
    let cloud_capability = connector.tls_domain_capabilities.iter().any(|entry| {
        let lower = entry.to_ascii_lowercase();
        let (domain, capabilities) = lower.split_once(':').unwrap_or((&lower, ""));
        crate::model::EXCHANGE_ONLINE_CLOUDS
            .iter()
            .any(|cloud| domain == cloud.protection_domain)
            && (capabilities.contains("acceptcloudservicesmail")
                || capabilities.contains("acceptoorgprotocol"))
    });
    let default_frontend = connector
        .role
        .is_none_or(|r| r == TransportRole::FrontendTransport)
        && (connector.bindings.is_empty() || connector.listens_on_port(25))
        && connector
            .name
            .to_ascii_lowercase()
            .starts_with("default frontend ");
    cloud_capability || default_frontend
}

fn hybrid_names(inventory: &Inventory, given: &[String]) -> Option<HybridNames> {
    if !given.is_empty() {
        return Some(HybridNames {
            names: given.to_vec(),
            origin: NameOrigin::Given,
        });
    }
    // What Exchange Online validates when it delivers comes first: the TlsDomain of its
    // OnPremises outbound connectors, when some exported certificate covers it. The send
    // connector's Fqdn is what on-premises presents when it sends, a name of the other direction.
    // When no certificate covers TlsDomain, the on-premises names decide and HT031 reports the
    // disagreement with both readings (TlsDomain stale, or the certificate wrong).
    let outbound = outbound_tls_domains(inventory);
    if let Some(outbound) = outbound.as_ref().filter(|o| {
        inventory
            .certificates
            .iter()
            .any(|c| c.store == crate::model::Store::My && o.names.iter().all(|n| c.covers(n)))
    }) {
        return Some(outbound.clone());
    }
    // A host name with a domain; a wildcard is no host name an Exchange connector's Fqdn holds.
    let dotted = |name: &str| name.contains('.') && !name.starts_with("*.");
    // A certificate's CN may be a wildcard, which is a legal hybrid name (the TlsDomain
    // `*.contoso.com` of Exchange Online's outbound connector).
    let dotted_or_wildcard = |name: &str| dotted(name.strip_prefix("*.").unwrap_or(name));
    let mut send: Vec<_> = inventory
        .send_connectors
        .iter()
        .filter(|c| c.targets_exchange_online())
        .filter_map(|c| {
            c.fqdn
                .as_ref()
                .filter(|f| dotted(f))
                .map(|f| (f.to_ascii_lowercase(), &c.name))
        })
        .collect();
    send.sort();
    send.dedup_by(|a, b| a.0 == b.0);
    if !send.is_empty() {
        return Some(HybridNames {
            names: send.iter().map(|(fqdn, _)| fqdn.clone()).collect(),
            origin: NameOrigin::SendConnectorFqdn(send[0].1.clone()),
        });
    }
    let hybrid = inventory.receive_connectors.iter().filter(|c| is_hybrid(c));
    for connector in hybrid.clone() {
        let common_name = connector
            .tls_certificate_name
            .as_ref()
            .and_then(|name| crate::model::common_name(&name.subject));
        if let Some(cn) = common_name.filter(|cn| dotted_or_wildcard(cn)) {
            return Some(HybridNames {
                names: vec![cn.to_ascii_lowercase()],
                origin: NameOrigin::ReceiveCertificateName(connector.identity()),
            });
        }
    }
    for connector in hybrid {
        let server_fqdn = inventory.server(&connector.server).and_then(|s| s.fqdn.clone());
        // The server's own name is not a hybrid name, even when the server FQDN is not exported.
        let own_name = |fqdn: &str| {
            server_fqdn
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(fqdn))
                || fqdn
                    .split('.')
                    .next()
                    .is_some_and(|label| label.eq_ignore_ascii_case(&connector.server))
        };
        if let Some(fqdn) = connector.fqdn.as_ref().filter(|f| dotted(f)) {
            if !own_name(fqdn) {
                return Some(HybridNames {
                    names: vec![fqdn.to_ascii_lowercase()],
                    origin: NameOrigin::ReceiveConnectorFqdn(connector.identity()),
                });
            }
        }
    }
    outbound
}

/// The `TlsDomain` Exchange Online's OnPremises outbound connectors validate the on-premises
/// certificate against (enabled, `TlsSettings` DomainValidation), when their export is given:
/// by definition the name Exchange Online reaches on-premises by. Asked first when a certificate
/// covers it, last otherwise, so that what on-premises says is then compared with it (HT031)
/// rather than replaced by a name no certificate has.
fn outbound_tls_domains(inventory: &Inventory) -> Option<HybridNames> {
    let mut domains: Vec<(String, &str)> = inventory
        .outbound_connectors
        .iter()
        .filter_map(|c| Some((c.validated_domain()?.to_ascii_lowercase(), c.name.as_str())))
        .collect();
    domains.sort();
    domains.dedup_by(|a, b| a.0 == b.0);
    let (_, first) = domains.first()?;
    Some(HybridNames {
        origin: NameOrigin::OutboundTlsDomain {
            connector: (*first).to_owned(),
            more: domains.len() - 1,
        },
        names: domains.iter().map(|(domain, _)| domain.clone()).collect(),
    })
}

/// Exchange 2019 CU15 (15.2.1748): ECC certificates on Edge and TLS 1.3 (HT054) start there.
pub(crate) const EXCHANGE_2019_CU15: (u32, u32, u32) = (15, 2, 1748);

/// The November 2024 Security Update of each CU that received it (CSS-Exchange
/// `Shared/Get-ExchangeBuildVersionInformation.ps1`, `Nov24SU`): only from it on does Exchange
/// read `EnableEccCertificateSupport`; the April 2024 Hotfix Update before it used a setting
/// override instead. CU15 and later (and SE) include it.
const NOVEMBER_2024_SU: [((u32, u32, u32), u32); 3] =
    [((15, 1, 2507), 43), ((15, 2, 1258), 38), ((15, 2, 1544), 13)];

/// Why a certificate with an ECDSA key cannot serve hybrid mail on `server`, whose record says
/// `settings`; None where it can. Exchange 2016 and 2019 use one only with ECC certificate support
/// enabled: since the November 2024 SU, by `EnableEccCertificateSupport` 1, which HealthChecker
/// warns about on a build before it and without which it calls the older
/// `Global\ECCCertificateSupport` setting override "no longer fully enabled". An Edge Transport
/// server only from Exchange 2019 CU15 (15.2.1748); Exchange 2010 and 2013 never.
pub fn ecdsa_refusal(server: &Server, settings: Option<&crate::model::ServerSettings>) -> Option<String> {
    use crate::model::{ExchangeRelease, ServerKind};
    let name = &server.name;
    if matches!(
        server.release,
        ExchangeRelease::Exchange2010 | ExchangeRelease::Exchange2013
    ) {
        return Some(format!(
            "has an ECDSA key, which {} on {name} does not support",
            server.release.label()
        ));
    }
    let build = settings.and_then(|s| s.build);
    if server.kind == Some(ServerKind::Edge) && build.is_none_or(|version| version < EXCHANGE_2019_CU15) {
        return Some(format!(
            "has an ECDSA key, which the Edge Transport server {name} supports only from Exchange 2019 CU15 ({}; its build is {})",
            tls::build_text(EXCHANGE_2019_CU15),
            build.map_or_else(|| "not known".to_owned(), tls::build_text)
        ));
    }
    match settings.and_then(|s| s.ecc_certificate_support) {
        Some(true) => {
            let Some(build) = build else {
                return Some(format!(
                    "has an ECDSA key, and whether Exchange on {name} reads EnableEccCertificateSupport depends on its build, which was not exported"
                ));
            };
            if build >= EXCHANGE_2019_CU15 {
                return None;
            }
            let revision = settings.and_then(|s| s.revision);
            let shown = match revision {
                Some(revision) => format!("{}.{revision}", tls::build_text(build)),
                None => tls::build_text(build),
            };
            let Some(&(_, first)) = NOVEMBER_2024_SU.iter().find(|(cu, _)| *cu == build) else {
                return Some(format!(
                    "has an ECDSA key, which Exchange {shown} on {name} does not support (ECC certificates need Exchange 2016 CU23 or 2019 CU13 with the November 2024 Security Update, or a later CU)"
                ));
            };
            let su = format!("{}.{first}", tls::build_text(build));
            match revision {
                Some(revision) if revision >= first => None,
                Some(_) => Some(format!(
                    "has an ECDSA key, and {name} runs Exchange {shown}, before the November 2024 Security Update ({su}) from which Exchange reads EnableEccCertificateSupport"
                )),
                None => Some(format!(
                    "has an ECDSA key, and whether Exchange {shown} on {name} reads EnableEccCertificateSupport depends on its Security Update (from {su}), which its AdminDisplayVersion does not show"
                )),
            }
        }
        Some(false) => Some(format!(
            "has an ECDSA key, and ECC certificate support is not enabled on {name} (EnableEccCertificateSupport is not 1)"
        )),
        None => Some(format!(
            "has an ECDSA key, and ECC certificate support is not shown enabled on {name} (EnableEccCertificateSupport was not exported; `hybridtls collect` records it)"
        )),
    }
}

/// Why `certificate` cannot serve hybrid mail for `names` at `now` on a server where a
/// certificate with an ECDSA key is refused for the reason `ecdsa` (None where one is supported,
/// see [`ecdsa_refusal`]); empty when it can.
pub fn disqualifications(
    certificate: &Certificate,
    names: &[String],
    now: OffsetDateTime,
    ecdsa: Option<&str>,
) -> Vec<String> {
    let mut reasons = reasons_but_status(certificate, names, now, ecdsa);
    if now >= certificate.not_before && now <= certificate.not_after {
        if let Some(status) = certificate.status.and_then(status_reason) {
            reasons.push(status);
        }
    }
    reasons
}

/// Why `certificate` cannot serve hybrid mail, leaving out the `Status` Exchange reports.
fn reasons_but_status(
    certificate: &Certificate,
    names: &[String],
    now: OffsetDateTime,
    ecdsa: Option<&str>,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if let Some(refusal) = ecdsa {
        // Without its DER the key algorithm is unknown (HT013 lists it as not judged).
        if certificate
            .facts
            .as_ref()
            .is_some_and(|facts| facts.key_algorithm == "ECDSA")
        {
            reasons.push(refusal.to_owned());
        }
    }
    if certificate.has_private_key == Some(false) {
        reasons.push("has no private key".to_owned());
    }
    if now < certificate.not_before {
        reasons.push(format!("is not valid before {}", date(certificate.not_before)));
    } else if now > certificate.not_after {
        reasons.push(format!("expired on {}", date(certificate.not_after)));
    }
    if certificate.self_signed {
        reasons.push("is self-signed".to_owned());
    } else if let Some(root) = certificate.root_ca_type.filter(|root| root.is_private()) {
        // Exchange's own self-signed certificates are RootCAType Registry: said above.
        reasons.push(format!(
            "chains to a root your organisation made trusted itself (RootCAType {}), not a public CA: certificates \"generated by your organization as the CA aren't supported in hybrid mail transport\" (Certificate requirements for hybrid deployments), and Exchange Online refuses them with UntrustedRoot (KB 2888788) even when the root is in this server's Root store",
            root.name()
        ));
    }
    for name in names {
        if !certificate.covers(name) {
            reasons.push(format!("does not cover {name}"));
        }
    }
    reasons
}

/// What a `Status` other than Valid means (CertificateStatus: Revoked 2, DateInvalid 3,
/// Untrusted 4, Invalid 5, RevocationCheckFailure 6), each a fault with its own fix.
fn status_reason(status: u64) -> Option<String> {
    use crate::model::{
        STATUS_DATE_INVALID, STATUS_INVALID, STATUS_REVOCATION_CHECK_FAILURE, STATUS_REVOKED,
        STATUS_UNTRUSTED, STATUS_VALID,
    };
    Some(match status {
        STATUS_VALID => return None,
        STATUS_REVOKED => "was revoked by its CA (Status Revoked): replace it".to_owned(),
        STATUS_DATE_INVALID => {
            "is outside its validity period by this server's clock (Status DateInvalid): renew it, or check the server's time".to_owned()
        }
        STATUS_UNTRUSTED => {
            "does not chain to a root this server trusts (Status Untrusted): install the missing intermediate or root".to_owned()
        }
        STATUS_INVALID => "is reported Invalid by Exchange (Status Invalid)".to_owned(),
        STATUS_REVOCATION_CHECK_FAILURE => {
            "could not be checked for revocation (Status RevocationCheckFailure): this server cannot reach its CA's CRL or OCSP endpoints, and Exchange does not select it until it can".to_owned()
        }
        0 => "has Status Unknown, not Valid".to_owned(),
        7 => "is a pending request (Status PendingRequest), not a certificate yet".to_owned(),
        other => format!("has Status {other}, not Valid"),
    })
}

/// Why a `TlsCertificateName` cannot name `certificate` (see
/// [`crate::model::smtp_x509_subject_problem`]); None when it can.
pub fn naming_problem(certificate: &Certificate) -> Option<String> {
    crate::model::smtp_x509_subject_problem(&certificate.subject)
}

/// Picks the certificate hybrid mail should use among those that qualify, in this order:
/// SMTP already enabled in Exchange first, then the latest NotAfter, then the latest NotBefore,
/// then the lowest thumbprint, so that the same inputs always give the same choice. With
/// `by_name` (every release but Exchange 2010, where the fix is the connector's Fqdn) it must
/// also be one a TlsCertificateName can name.
pub fn choose_target<'a>(
    store: &[&'a Certificate],
    names: &[String],
    now: OffsetDateTime,
    by_name: bool,
    ecdsa: Option<&str>,
) -> Option<&'a Certificate> {
    let mut qualifying: Vec<&'a Certificate> = store
        .iter()
        .copied()
        .filter(|c| disqualifications(c, names, now, ecdsa).is_empty())
        .filter(|c| !by_name || naming_problem(c).is_none())
        .collect();
    qualifying.sort_by(|a, b| {
        b.smtp_enabled()
            .cmp(&a.smtp_enabled())
            .then(b.not_after.cmp(&a.not_after))
            .then(b.not_before.cmp(&a.not_before))
            .then(a.thumbprint.cmp(&b.thumbprint))
    });
    qualifying.first().copied()
}

/// What to do when no certificate of `store` qualifies as the target: not always a new
/// certificate. One that qualifies but for a revocation check this server cannot make needs the
/// CRL and OCSP endpoints reachable, not another certificate nor another TlsCertificateName
/// (Exchange Team blog, 2025); one that qualifies but cannot be named by TlsCertificateName
/// needs a person's decision.
pub(in crate::diagnose) fn no_target_remedy(
    store: &[&Certificate],
    names: &[String],
    now: OffsetDateTime,
    by_name: bool,
    ecdsa: Option<&str>,
) -> Remedy {
    let unreachable: Vec<&str> = store
        .iter()
        .filter(|c| {
            c.status == Some(crate::model::STATUS_REVOCATION_CHECK_FAILURE)
                && reasons_but_status(c, names, now, ecdsa).is_empty()
        })
        .map(|c| c.thumbprint.as_str())
        .collect();
    if !unreachable.is_empty() {
        return Remedy::manual(format!(
            "{} would qualify, but Exchange reports RevocationCheckFailure: this server cannot reach the CA's CRL or OCSP endpoints, so Exchange does not select it. Fix the reachability, not the certificate: the WinHTTP proxy (netsh winhttp show proxy), Exchange's proxy (Set-ExchangeServer -Identity <server> -InternetWebProxy <proxy URL>, when the server reaches the internet through one) and the firewall; once Get-ExchangeCertificate reports Status Valid, export again and plan again. Neither a new certificate nor another TlsCertificateName fixes it",
            unreachable.join(", ")
        ));
    }
    if by_name {
        let unnamable: Vec<String> = store
            .iter()
            .filter(|c| disqualifications(c, names, now, ecdsa).is_empty())
            .filter_map(|c| Some(format!("{}: {}", c.thumbprint, naming_problem(c)?)))
            .collect();
        if !unnamable.is_empty() {
            return Remedy::manual(format!(
                "{}. Such a certificate does not qualify for a TlsCertificateName fix; the FQDN search (TlsCertificateName null, the connector's Fqdn set to a hybrid name) can still find it. A person must decide: obtain a certificate whose subject CN is a hybrid name (or its wildcard), or rely on the FQDN search",
                unnamable.join("; ")
            ));
        }
    }
    Remedy::manual(install_certificate_instruction(names))
}

/// One instruction for every finding that needs a new certificate, so the plan lists it once.
fn install_certificate_instruction(names: &[String]) -> String {
    format!(
        "obtain a certificate from a public CA covering {}, import it with its private key, run Enable-ExchangeCertificate -Services SMTP (answer No to replacing the default certificate), export again and plan again",
        names.join(", ")
    )
}

fn describe(certificate: &Certificate) -> String {
    format!("{} ({})", certificate.thumbprint, certificate.subject)
}

fn name_evidence(connector: &ReceiveConnector) -> Evidence {
    Evidence {
        file: connector.source.file.clone(),
        position: connector.source.position.clone(),
        field: "TlsCertificateName".to_owned(),
        value: connector
            .tls_certificate_name
            .as_ref()
            .map_or_else(|| "null".to_owned(), ToString::to_string),
    }
}

/// "once", "2 times": how often something was logged.
pub(crate) fn times(count: u64) -> String {
    match count {
        1 => "once".to_owned(),
        n => format!("{n} times"),
    }
}

pub(crate) fn certificate_evidence(certificate: &Certificate, field: &str, value: String) -> Evidence {
    Evidence {
        file: certificate.source.file.clone(),
        position: certificate.source.position.clone(),
        field: field.to_owned(),
        value,
    }
}

/// What one rule finds on one server: each finding and each check it could not judge is
/// stamped with the rule and the server, so a rule reports under its own code only.
struct Findings<'r> {
    rule: &'static Rule,
    server: &'r str,
    list: &'r mut Vec<Finding>,
    not_judged: &'r mut Vec<NotJudged>,
}

impl Findings<'_> {
    /// The rule could not judge `object` on this server for want of `missing`.
    fn not_judged(&mut self, object: String, missing: Missing) {
        self.not_judged.push(NotJudged {
            rule: self.rule,
            server: Some(self.server.to_owned()),
            object,
            missing,
        });
    }

    /// The rule could not judge `certificate` because it came without its DER (`RawData`).
    fn without_raw_data(&mut self, certificate: &Certificate) {
        let export = if certificate.from_store_listing {
            Export::StoreListing(certificate.store)
        } else {
            Export::ExchangeCertificates
        };
        self.not_judged(
            certificate.thumbprint.clone(),
            Missing::Property {
                property: "RawData",
                source: certificate.source.clone(),
                export,
            },
        );
    }

    /// Adds `evidence` to every finding the rules `proved` made on this server so far, and
    /// says whether one took it: the one place a rule adds to another's findings, for evidence
    /// that proves them (HT056's events). Rules run in code order, so `proved` must come
    /// before the rule that calls this (`tests`: `evidence_rules_run_after_the_rules_they_prove`).
    fn prove(&mut self, proved: &[&Rule], evidence: &Evidence) -> bool {
        let mut taken = false;
        for finding in self.list.iter_mut() {
            if finding.server == self.server && proved.iter().any(|rule| rule.code == finding.rule.code) {
                finding.evidence.push(evidence.clone());
                taken = true;
            }
        }
        taken
    }

    fn push(&mut self, object: String, message: String, evidence: Vec<Evidence>, remedy: Remedy) {
        self.list.push(Finding {
            rule: self.rule,
            server: self.server.to_owned(),
            object,
            message,
            evidence,
            remedy,
        });
    }
}

fn diagnose_server<'a>(
    inventory: &'a Inventory,
    index: &ServerIndex<'a>,
    server: &'a Server,
    hybrid: Option<&HybridNames>,
    renewal_carrier: bool,
    now: OffsetDateTime,
    settings: &Settings,
) -> (ServerDiagnosis<'a>, Vec<NotJudged>) {
    let context = Context::new(inventory, index, server, hybrid, renewal_carrier, now, settings);
    let (mut findings, mut not_judged) = (Vec::new(), Vec::new());
    // Each rule runs once, in code order; the order of what they report is set by the sort
    // below (rule code, then object, then the order the rule found them in).
    for rule in rules::ALL {
        (rule.check)(
            &context,
            &mut Findings {
                rule,
                server: &server.name,
                list: &mut findings,
                not_judged: &mut not_judged,
            },
        );
    }
    findings.sort_by(|a, b| a.rule.code.cmp(b.rule.code).then(a.object.cmp(&b.object)));
    let (ignored, findings) = findings
        .into_iter()
        .partition(|finding| settings.ignores(finding.rule));
    not_judged.sort_by(|a, b| a.rule.code.cmp(b.rule.code).then(a.object.cmp(&b.object)));
    let Context {
        store,
        reports,
        target,
        intended,
        ..
    } = context;
    (
        ServerDiagnosis {
            server,
            connectors: reports,
            send_connectors: sourced_send_connectors(inventory, server)
                .map(|connector| SendReport {
                    connector,
                    selection: select::select_send(connector, server, &store, now),
                })
                .collect(),
            target: target.map(|target| target.certificate),
            intended: intended.into_iter().map(|(certificate, _)| certificate).collect(),
            findings,
            ignored,
        },
        not_judged,
    )
}

/// The send connectors to Exchange Online that list `server` as a source transport server.
pub(crate) fn sourced_send_connectors<'i>(
    inventory: &'i Inventory,
    server: &'i Server,
) -> impl Iterator<Item = &'i crate::model::SendConnector> + 'i {
    // Copies of one connector that say the same were merged when read; a server whose own
    // folder holds a copy that says something else (an Edge's EdgeSync'd copy) uses that one.
    inventory
        .send_connectors
        .iter()
        .map(move |connector| own_copy(inventory, server, connector).unwrap_or(connector))
        .filter(move |connector| {
            connector.targets_exchange_online()
                && connector
                    .source_servers
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(&server.name))
        })
}

/// The copy of `connector` read from `server`'s own folder, when it differs from the
/// organisation's copy.
pub(crate) fn own_copy<'i>(
    inventory: &'i Inventory,
    server: &Server,
    connector: &crate::model::SendConnector,
) -> Option<&'i crate::model::SendConnector> {
    let folder = server.folder.as_deref()?;
    inventory.send_connector_copies.iter().find(|copy| {
        copy.name.eq_ignore_ascii_case(&connector.name)
            && copy.source.file.rsplit_once('/').map(|(f, _)| f) == Some(folder)
    })
}

fn has_key(certificate: &Certificate) -> bool {
    certificate.has_private_key != Some(false)
}

/// What renews a certificate that HT012, HT013 or HT014 warns about.
fn renew(certificate: &Certificate) -> Remedy {
    Remedy::manual(format!(
        "renew {} ({}) with a 2048-bit or larger RSA key and a SHA-256 signature, install it with its private key, and plan again",
        certificate.thumbprint, certificate.subject
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExchangeRelease, ServerKind, ServerSettings, Source};

    fn server(kind: ServerKind, release: ExchangeRelease) -> Server {
        Server {
            name: "EX01".into(),
            fqdn: None,
            kind: Some(kind),
            release,
            folder: None,
        }
    }

    fn settings((major, minor, build, revision): (u32, u32, u32, u32), ecc: Option<bool>) -> ServerSettings {
        ServerSettings {
            server: "EX01".into(),
            build: Some((major, minor, build)),
            revision: Some(revision),
            root_auto_update_disabled: None,
            ecc_certificate_support: ecc,
            source: Source {
                file: "server.json".into(),
                position: crate::error::Position::Line(1),
            },
        }
    }

    #[test]
    fn ecdsa_keys_are_refused_where_exchange_does_not_use_them() {
        use ExchangeRelease::{Exchange2013, Exchange2016, Exchange2019};
        use ServerKind::{Edge, Mailbox};
        let refusal =
            |kind, release, build, ecc| ecdsa_refusal(&server(kind, release), Some(&settings(build, ecc)));
        // EnableEccCertificateSupport is read from the November 2024 SU of each CU on.
        for (release, build) in [
            (Exchange2019, (15, 2, 1544, 13)),
            (Exchange2019, (15, 2, 1258, 39)),
            (Exchange2016, (15, 1, 2507, 43)),
            (Exchange2019, (15, 2, 2562, 17)),
        ] {
            assert_eq!(refusal(Mailbox, release, build, Some(true)), None, "{build:?}");
        }
        assert_eq!(refusal(Edge, Exchange2019, (15, 2, 1748, 24), Some(true)), None);
        for (kind, release, build, ecc, reason) in [
            (
                Mailbox,
                Exchange2019,
                (15, 2, 1544, 13),
                Some(false),
                "is not enabled",
            ),
            (Mailbox, Exchange2019, (15, 2, 1544, 13), None, "was not exported"),
            (
                Edge,
                Exchange2019,
                (15, 2, 1544, 13),
                Some(true),
                "Exchange 2019 CU15",
            ),
            (
                Mailbox,
                Exchange2013,
                (15, 0, 1497, 2),
                Some(true),
                "Exchange 2013",
            ),
            // The April 2024 Hotfix Update used a setting override, not the registry value.
            (
                Mailbox,
                Exchange2019,
                (15, 2, 1544, 11),
                Some(true),
                "before the November 2024 Security Update (15.2.1544.13)",
            ),
            (
                Mailbox,
                Exchange2016,
                (15, 1, 2507, 39),
                Some(true),
                "before the November 2024 Security Update (15.1.2507.43)",
            ),
            (
                Mailbox,
                Exchange2019,
                (15, 2, 1118, 40),
                Some(true),
                "does not support",
            ),
        ] {
            let text = refusal(kind, release, build, ecc).unwrap();
            assert!(text.contains(reason), "{text}");
        }
    }
}
