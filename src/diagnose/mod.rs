//! Stage 3: compare what each server does with what hybrid mail flow needs, and say what is
//! wrong as findings of stable rules, each with its evidence and its remedy.

pub mod chain;
mod connector;
mod context;
pub mod needs;
pub mod reach;
pub mod rules;
pub mod select;
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
    pub origin: String,
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
}

#[derive(Debug, Clone)]
pub struct Diagnosis<'a> {
    pub now: OffsetDateTime,
    pub hybrid_names: Option<HybridNames>,
    pub servers: Vec<ServerDiagnosis<'a>>,
    /// The checks that could not be judged for want of an export or a property, the
    /// organisation's first, then each server's in sorted order.
    pub not_judged: Vec<NotJudged>,
}

/// Diagnoses every server of the inventory at time `now` for the hybrid FQDNs `given`
/// (derived from the inputs when empty).
pub fn diagnose<'a>(inventory: &'a Inventory, given: &[String], now: OffsetDateTime) -> Diagnosis<'a> {
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
            let (diagnosis, unjudged) =
                diagnose_server(inventory, &index, server, hybrid_names.as_ref(), carrier, now);
            not_judged.extend(unjudged);
            diagnosis
        })
        .collect();
    Diagnosis {
        now,
        hybrid_names,
        servers,
        not_judged,
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
            origin: "given with --fqdn".to_owned(),
        });
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
            origin: format!("Fqdn of the send connector to Exchange Online \"{}\"", send[0].1),
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
                origin: format!(
                    "subject CN of the TlsCertificateName on \"{}\"",
                    connector.identity()
                ),
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
                    origin: format!("Fqdn of the receive connector \"{}\"", connector.identity()),
                });
            }
        }
    }
    outbound_tls_domains(inventory)
}

/// The `TlsDomain` Exchange Online's OnPremises outbound connectors validate the on-premises
/// certificate against (enabled, `TlsSettings` DomainValidation), when their export is given:
/// by definition the name Exchange Online reaches on-premises by. Asked last, so that what
/// on-premises says is compared with it (HT031) rather than replaced by it.
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
        origin: format!(
            "TlsDomain of the Exchange Online outbound connector \"{first}\" (OnPremises, DomainValidation){}",
            match domains.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            }
        ),
        names: domains.iter().map(|(domain, _)| domain.clone()).collect(),
    })
}

/// Why `certificate` cannot serve hybrid mail for `names` at `now`; empty when it can.
pub fn disqualifications(certificate: &Certificate, names: &[String], now: OffsetDateTime) -> Vec<String> {
    let mut reasons = Vec::new();
    if certificate.has_private_key == Some(false) {
        reasons.push("has no private key".to_owned());
    }
    if now < certificate.not_before {
        reasons.push(format!("is not valid before {}", date(certificate.not_before)));
    } else if now > certificate.not_after {
        reasons.push(format!("expired on {}", date(certificate.not_after)));
    } else if certificate
        .status
        .is_some_and(|s| s != crate::model::STATUS_VALID)
    {
        reasons.push("Exchange reports its status as not Valid".to_owned());
    }
    if certificate.self_signed {
        reasons.push("is self-signed".to_owned());
    }
    for name in names {
        if !certificate.covers(name) {
            reasons.push(format!("does not cover {name}"));
        }
    }
    reasons
}

/// Picks the certificate hybrid mail should use among those that qualify, in this order:
/// SMTP already enabled in Exchange first, then the latest NotAfter, then the latest NotBefore,
/// then the lowest thumbprint, so that the same inputs always give the same choice.
pub fn choose_target<'a>(
    store: &[&'a Certificate],
    names: &[String],
    now: OffsetDateTime,
) -> Option<&'a Certificate> {
    let mut qualifying: Vec<&'a Certificate> = store
        .iter()
        .copied()
        .filter(|c| disqualifications(c, names, now).is_empty())
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
) -> (ServerDiagnosis<'a>, Vec<NotJudged>) {
    let context = Context::new(inventory, index, server, hybrid, renewal_carrier, now);
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
        },
        not_judged,
    )
}

/// The send connectors to Exchange Online that list `server` as a source transport server.
pub(crate) fn sourced_send_connectors<'i>(
    inventory: &'i Inventory,
    server: &'i Server,
) -> impl Iterator<Item = &'i crate::model::SendConnector> + 'i {
    // Copies of one connector from several server folders were merged when read.
    inventory.send_connectors.iter().filter(move |connector| {
        connector.targets_exchange_online()
            && connector
                .source_servers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&server.name))
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
