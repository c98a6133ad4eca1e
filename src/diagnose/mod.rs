//! Stage 3: compare what each server does with what hybrid mail flow needs, and say what is
//! wrong as findings of stable rules, each with its evidence and its remedy.

pub mod chain;
pub mod needs;
pub mod reach;
pub mod rules;
pub mod select;
pub mod symptoms;

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::model::{
    Certificate, Inventory, ReceiveConnector, SendConnector, Server, Sighting, TlsCertificateName,
    TransportRole,
};
use needs::{Export, Missing, NotJudged};
use rules::Rule;
use select::{Release, Selection};

/// One piece of evidence: the value of a field in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub file: String,
    pub position: crate::error::Position,
    pub field: String,
    pub value: String,
}

/// What would resolve a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Point a receive connector's TlsCertificateName at `certificate`.
    SetReceiveCertificateName {
        connector: Box<ReceiveConnector>,
        after: TlsCertificateName,
        certificate: Box<Certificate>,
    },
    /// Point the send connector to Exchange Online at `after`. The connector is one object of
    /// the organisation (in Active Directory), so only the script of `carrier` changes it; the
    /// other source servers only restart their transport service afterwards. `certificate` is
    /// the carrier's own copy, which its preflight requires.
    SetSendCertificateName {
        connector: Box<SendConnector>,
        after: TlsCertificateName,
        carrier: String,
        certificate: Box<Certificate>,
    },
    /// Back up and remove a certificate without a private key from `Cert:\LocalMachine\My`.
    RemoveCertificate { certificate: Box<Certificate> },
    /// Import an intermediate CA certificate, supplied as a file, into `Cert:\LocalMachine\CA`.
    ImportIntermediate { certificate: Box<Certificate> },
    /// Nothing hybridtls may do automatically; a person must act, with `command` when one
    /// command does it.
    Manual {
        instruction: String,
        command: Option<ManualCommand>,
    },
}

/// A PowerShell command a person runs for a manual remedy. Its parameter values come from the
/// inputs, so it is never formatted by hand: [`crate::render::ps::command`] quotes each value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualCommand {
    pub cmdlet: &'static str,
    pub parameters: Vec<(&'static str, String)>,
}

impl Remedy {
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
    rules::ht015_send_connector_certificate_not_usable::needs(inventory, &mut list);
    rules::ht030_inbound_connector_certificate_mismatch::needs(inventory, &mut list);
    rules::ht031_outbound_connector_tls_domain_mismatch::needs(inventory, &mut list);
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

pub fn date(moment: OffsetDateTime) -> String {
    moment
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| moment.to_string())
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

/// Collects one server's findings, and the checks it could not judge; `push` stamps the
/// server name on each.
struct Findings<'s> {
    server: &'s str,
    list: Vec<Finding>,
    not_judged: Vec<NotJudged>,
}

impl Findings<'_> {
    /// `rule` could not judge `object` on this server for want of `missing`.
    fn not_judged(&mut self, rule: &'static Rule, object: String, missing: Missing) {
        self.not_judged.push(NotJudged {
            rule,
            server: Some(self.server.to_owned()),
            object,
            missing,
        });
    }

    /// `rule` could not judge `object` because `certificate` came without its DER (`RawData`).
    fn without_raw_data(&mut self, rule: &'static Rule, certificate: &Certificate) {
        let export = if certificate.from_store_listing {
            Export::StoreListing(certificate.store)
        } else {
            Export::ExchangeCertificates
        };
        self.not_judged(
            rule,
            certificate.thumbprint.clone(),
            Missing::Property {
                property: "RawData",
                source: certificate.source.clone(),
                export,
            },
        );
    }

    fn push(
        &mut self,
        rule: &'static Rule,
        object: String,
        message: String,
        evidence: Vec<Evidence>,
        remedy: Remedy,
    ) {
        self.list.push(Finding {
            rule,
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
    let own = index.certificates(&server.name);
    let store: Vec<&Certificate> = own
        .iter()
        .copied()
        .filter(|c| c.store == crate::model::Store::My)
        .collect();
    let mut connectors: Vec<&ReceiveConnector> = index
        .receive_connectors
        .get(&server.name.to_ascii_uppercase())
        .cloned()
        .unwrap_or_default();
    connectors.sort_by_key(|c| c.name.to_ascii_lowercase());
    let reports: Vec<ConnectorReport> = connectors
        .iter()
        .map(|connector| ConnectorReport {
            connector,
            hybrid: is_hybrid(connector),
            selection: select::select(connector, Some(server), &store, now),
            observed: index
                .latest_sightings
                .get(&connector.identity().to_ascii_uppercase())
                .copied(),
        })
        .collect();
    let names: &[String] = hybrid.map_or(&[], |h| &h.names);
    let target = hybrid.and_then(|h| choose_target(&store, &h.names, now));
    let target_plan = target.map(|certificate| Target::new(certificate, &store, now));
    let mut findings = Findings {
        server: &server.name,
        list: Vec::new(),
        not_judged: Vec::new(),
    };

    rules::ht017_required_export_missing::check(server, connectors.len(), store.len(), &mut findings);
    rules::ht008_hybrid_connector_missing::check(server, &reports, &mut findings);
    let hybrid_reports: Vec<&ConnectorReport> = reports.iter().filter(|r| r.hybrid).collect();
    rules::ht007_hybrid_fqdn_unknown::check(server, hybrid.is_some(), &hybrid_reports, &mut findings);
    // The store checks look at the certificates the hybrid connectors present; without hybrid
    // connectors (HT008) or certificates (HT017) there is nothing for them to look at.
    if !hybrid_reports.is_empty() && !store.is_empty() {
        rules::ht009_keyless_duplicate_certificate::needs(inventory, server, &store, &mut findings);
        chain::needs(inventory, server, &mut findings);
    }

    for report in &reports {
        rules::ht016_protocol_log_disagrees::check(report, &mut findings);
    }
    // Which connector Exchange Online's connections really reach on port 25.
    rules::ht032_narrower_connector_takes_cloud_mail::check(server, &reports, names, &mut findings);
    let mut needs_certificate = false;
    let mut intended_certificates: Vec<(&Certificate, TlsCertificateName)> = Vec::new();
    for report in hybrid_reports {
        rules::ht006_hybrid_connector_without_tls::check(report.connector, &mut findings);
        // Without the server's certificates (HT017) no selection can be judged: saying
        // "obtain a certificate" would be a confident guess.
        if hybrid.is_none() || store.is_empty() {
            continue;
        }
        match connector_findings(
            report,
            server,
            &store,
            target_plan.as_ref(),
            names,
            now,
            &mut findings,
        ) {
            Intended::Certificate(certificate, name) => {
                if !intended_certificates
                    .iter()
                    .any(|(c, _)| c.thumbprint == certificate.thumbprint)
                {
                    intended_certificates.push((certificate, name));
                }
            }
            Intended::NeedsNewCertificate => needs_certificate = true,
            Intended::Undecided => {}
        }
    }
    if hybrid.is_some() && !store.is_empty() {
        rules::ht015_send_connector_certificate_not_usable::check(
            inventory,
            index,
            server,
            &store,
            target_plan.as_ref().ok_or(names),
            now,
            &mut findings,
        );
    }
    // The Exchange Online side, when its connector exports are given: the certificates the
    // on-premises connectors present against what Exchange Online expects of them.
    if !store.is_empty() {
        rules::ht030_inbound_connector_certificate_mismatch::check(
            inventory,
            server,
            &store,
            names,
            now,
            &mut findings,
        );
    }
    let intended: Vec<&Certificate> = intended_certificates.iter().map(|(c, _)| *c).collect();
    rules::ht031_outbound_connector_tls_domain_mismatch::check(
        inventory,
        server,
        &intended,
        &store,
        names,
        now,
        &mut findings,
    );
    if !store.is_empty() {
        let lookups = name_lookups(inventory, server, &intended_certificates);
        rules::ht009_keyless_duplicate_certificate::check(
            &lookups,
            &store,
            Release::of(server),
            now,
            &mut findings,
        );
    }
    for (certificate, _) in &intended_certificates {
        chain::findings(inventory, own, server, certificate, now, &mut findings);
        rules::ht012_certificate_expiring::check(certificate, now, &mut findings);
        rules::ht013_weak_rsa_key::check(certificate, &mut findings);
        rules::ht014_sha1_signature::check(certificate, &mut findings);
    }
    // The hybrid configuration is one object of the organisation: judged once, on the first
    // non-Edge server in sorted order, which also carries the renewal's remaining steps.
    if let (Some(configuration), Some(target), true) =
        (inventory.hybrid_configurations.first(), target, renewal_carrier)
    {
        rules::ht033_hybrid_configuration_certificate_differs::check(
            inventory,
            configuration,
            server,
            target,
            &mut findings,
        );
    }
    // The Auth configuration is organisation-wide; every export of it describes the same object.
    if let Some(auth) = inventory.auth_configs.first() {
        rules::ht018_auth_certificate_expiring::check(auth, server, &store, now, &mut findings);
    }
    if needs_certificate {
        let evidence = store
            .iter()
            .map(|c| {
                certificate_evidence(
                    c,
                    "Subject",
                    format!("{}: {}", c.subject, disqualifications(c, names, now).join(", ")),
                )
            })
            .collect();
        findings.push(
            &rules::NO_QUALIFYING_CERTIFICATE,
            server.name.clone(),
            format!(
                "none of the {} certificates exported from {} has a private key, is valid, is CA-issued and covers {}",
                store.len(),
                server.name,
                names.join(", ")
            ),
            evidence,
            Remedy::manual(install_certificate_instruction(names)),
        );
    }
    let Findings {
        list: mut findings,
        mut not_judged,
        ..
    } = findings;
    findings.sort_by(|a, b| a.rule.code.cmp(b.rule.code).then(a.object.cmp(&b.object)));
    not_judged.sort_by(|a, b| a.rule.code.cmp(b.rule.code).then(a.object.cmp(&b.object)));
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
            target,
            intended,
            findings,
        },
        not_judged,
    )
}

/// Every `TlsCertificateName` looked up on `server` for hybrid mail: the names its hybrid receive
/// connectors are meant to use, and those of the send connectors to Exchange Online it sources.
/// Without a send connector export, the receive names stand in for the send side, which the
/// Hybrid Configuration Wizard sets to the same certificate.
fn name_lookups<'n>(
    inventory: &'n Inventory,
    server: &'n Server,
    intended: &'n [(&Certificate, TlsCertificateName)],
) -> Vec<rules::ht009_keyless_duplicate_certificate::Lookup<'n>> {
    use rules::ht009_keyless_duplicate_certificate::Lookup;
    use select::Direction;
    // On Exchange 2010 receive connectors find their certificate by FQDN, never by name.
    let named_receive = Release::of(server) != Some(Release::Exchange2010);
    let mut lookups: Vec<Lookup> = intended
        .iter()
        .filter(|_| named_receive)
        .map(|(_, name)| Lookup {
            what: "the hybrid receive connector".to_owned(),
            name,
            direction: Direction::Receive,
        })
        .collect();
    let send_exported = inventory
        .inputs
        .iter()
        .any(|input| input.kind == crate::model::InputKind::SendConnectors);
    if send_exported {
        lookups.extend(
            sourced_send_connectors(inventory, server).filter_map(|connector| {
                Some(Lookup {
                    what: format!("send connector {:?}", connector.name),
                    name: connector.tls_certificate_name.as_ref()?,
                    direction: Direction::Send,
                })
            }),
        );
    } else {
        lookups.extend(intended.iter().map(|(_, name)| {
            Lookup {
                what:
                    "the send connector to Exchange Online (not exported; the HCW names the same certificate)"
                        .to_owned(),
                name,
                direction: Direction::Send,
            }
        }));
    }
    lookups
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

/// The certificate hybrid connectors should name, worked out once per server.
struct Target<'a> {
    certificate: &'a Certificate,
    name: TlsCertificateName,
    /// Other valid certificates with a private key that the same name would also select.
    keyed_rivals: Vec<&'a str>,
}

impl<'a> Target<'a> {
    fn new(certificate: &'a Certificate, store: &[&'a Certificate], now: OffsetDateTime) -> Self {
        let name = TlsCertificateName::for_certificate(certificate);
        let keyed_rivals = store
            .iter()
            .filter(|c| {
                c.thumbprint != certificate.thumbprint && has_key(c) && c.valid_at(now) && name.matches(c)
            })
            .map(|c| c.thumbprint.as_str())
            .collect();
        Target {
            certificate,
            name,
            keyed_rivals,
        }
    }
}

/// What a hybrid connector should present once the plan is carried out.
enum Intended<'a> {
    /// This certificate, named by this TlsCertificateName (the current one or the planned one).
    Certificate(&'a Certificate, TlsCertificateName),
    NeedsNewCertificate,
    /// A fault that needs a person first (e.g. several keyed certificates match).
    Undecided,
}

fn has_key(certificate: &Certificate) -> bool {
    certificate.has_private_key != Some(false)
}

/// Judges one hybrid connector's certificate selection, records the finding, and says which
/// certificate the connector is meant to present.
fn connector_findings<'a>(
    report: &ConnectorReport<'a>,
    server: &Server,
    store: &[&'a Certificate],
    target: Option<&Target<'a>>,
    names: &[String],
    now: OffsetDateTime,
    findings: &mut Findings,
) -> Intended<'a> {
    let connector = report.connector;
    let identity = connector.identity();
    let exchange_2010 = Release::of(server) == Some(Release::Exchange2010);
    let (rule, message, evidence): (&'static Rule, String, Vec<Evidence>) = match &report.selection {
        Selection::ByFqdn { name, chosen } => {
            // Exchange 2010 has no TlsCertificateName on receive connectors: the FQDN search is
            // how it always chooses, and a qualifying answer is the intended state.
            if exchange_2010 {
                if let Some(c) = chosen.filter(|c| disqualifications(c, names, now).is_empty()) {
                    return Intended::Certificate(c, TlsCertificateName::for_certificate(c));
                }
            }
            let search = name.as_deref().unwrap_or("the server FQDN");
            let presented = match chosen {
                Some(c) => format!("Exchange falls back to a search by {search} and presents {}", describe(c)),
                None => format!("Exchange falls back to a search by {search} and finds no certificate, so STARTTLS is not offered"),
            };
            let mut evidence = vec![name_evidence(connector)];
            if let Some(c) = chosen {
                evidence.push(certificate_evidence(c, "Subject", c.subject.clone()));
            }
            (
                &rules::NO_CERTIFICATE_NAME,
                if exchange_2010 {
                    format!("{identity} is on Exchange 2010, which has no TlsCertificateName; {presented}")
                } else {
                    format!("TlsCertificateName of {identity} is null; {presented}")
                },
                evidence,
            )
        }
        Selection::Named {
            name,
            valid,
            invalid,
            readings,
        } => {
            let keyed: Vec<&Certificate> = valid.iter().copied().filter(|c| has_key(c)).collect();
            match keyed.as_slice() {
                [one] if disqualifications(one, names, now).is_empty() => {
                    return Intended::Certificate(one, name.clone());
                }
                [one] => {
                    let reasons = disqualifications(one, names, now);
                    (
                        &rules::NAMED_CERTIFICATE_UNSUITABLE,
                        format!("TlsCertificateName of {identity} selects {}, which {}", describe(one), reasons.join(", ")),
                        vec![name_evidence(connector), certificate_evidence(one, "Subject", one.subject.clone())],
                    )
                }
                [] if !valid.is_empty() => (
                    &rules::NAMED_CERTIFICATE_UNSUITABLE,
                    format!(
                        "TlsCertificateName of {identity} matches only certificates without a private key ({})",
                        valid.iter().map(|c| c.thumbprint.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    valid
                        .iter()
                        .map(|c| certificate_evidence(c, "HasPrivateKey", "false".to_owned()))
                        .chain([name_evidence(connector)])
                        .collect(),
                ),
                [] => {
                    let mut evidence = vec![name_evidence(connector)];
                    let detail = if invalid.is_empty() {
                        format!(
                            "no certificate with that issuer and subject is among the {} certificates exported from {}",
                            store.len(),
                            server.name
                        )
                    } else {
                        for c in invalid {
                            evidence.push(certificate_evidence(c, "NotAfter", date(c.not_after)));
                        }
                        format!("the matching certificates are not valid at {}", date(now))
                    };
                    (
                        &rules::NAMED_CERTIFICATE_MISSING,
                        format!("TlsCertificateName of {identity} names a certificate Exchange cannot use: {detail}"),
                        evidence,
                    )
                }
                several => {
                    let picks: Vec<String> = readings
                        .iter()
                        .map(|r| {
                            format!(
                                "{} under \"{}\"",
                                r.presents.map_or("nothing", |c| c.thumbprint.as_str()),
                                r.rule
                            )
                        })
                        .collect();
                    let release = Release::of(server).map_or("an unknown release", Release::label);
                    let message = format!(
                        "TlsCertificateName of {identity} matches {} valid certificates with a private key; on {release} Exchange picks {}",
                        several.len(),
                        picks.join("; "),
                    );
                    let evidence = several.iter().map(|c| certificate_evidence(c, "Thumbprint", c.thumbprint.clone())).collect();
                    let instruction = format!(
                        "keep one certificate with this issuer and subject in Cert:\\LocalMachine\\My; back up the others (Export-Certificate -Type CERT) and remove them by full thumbprint ({})",
                        several.iter().map(|c| c.thumbprint.as_str()).collect::<Vec<_>>().join(", ")
                    );
                    findings.push(&rules::NAMED_CERTIFICATE_AMBIGUOUS, identity, message, evidence, Remedy::manual(instruction));
                    return Intended::Undecided;
                }
            }
        }
    };
    let (remedy, intended) = match target {
        // `Set-ReceiveConnector -TlsCertificateName` does not exist on Exchange 2010, so it is
        // never planned there: the connector's Fqdn decides which certificate it presents.
        Some(target) if exchange_2010 => (
            Remedy::Manual {
                instruction: format!(
                    "Exchange 2010 chooses the receive certificate by the connector's Fqdn (TlsCertificateName does not exist there): enable {} for SMTP (Enable-ExchangeCertificate -Services SMTP) and set the connector's Fqdn to a name it covers with the command below, then restart MSExchangeTransport",
                    target.certificate.thumbprint
                ),
                command: names.first().map(|fqdn| ManualCommand {
                    cmdlet: "Set-ReceiveConnector",
                    parameters: vec![("Identity", identity.clone()), ("Fqdn", fqdn.clone())],
                }),
            },
            Intended::Undecided,
        ),
        Some(Target {
            certificate,
            name: after,
            keyed_rivals,
        }) => {
            let (certificate, after) = (*certificate, after.clone());
            if keyed_rivals.is_empty() {
                (
                    Remedy::SetReceiveCertificateName {
                        connector: Box::new(connector.clone()),
                        after: after.clone(),
                        certificate: Box::new(certificate.clone()),
                    },
                    Intended::Certificate(certificate, after),
                )
            } else {
                (
                    Remedy::manual(format!(
                            "{} shares its issuer and subject with {}, which also have a private key; TlsCertificateName cannot tell them apart. Back up and remove the surplus certificate(s) by full thumbprint, then plan again",
                            certificate.thumbprint,
                            keyed_rivals.join(", ")
                        )),
                    Intended::Undecided,
                )
            }
        }
        None => (
            Remedy::manual(install_certificate_instruction(names)),
            Intended::NeedsNewCertificate,
        ),
    };
    findings.push(rule, identity, message, evidence, remedy);
    intended
}

/// What renews a certificate that HT012, HT013 or HT014 warns about.
fn renew(certificate: &Certificate) -> Remedy {
    Remedy::manual(format!(
        "renew {} ({}) with a 2048-bit or larger RSA key and a SHA-256 signature, install it with its private key, and plan again",
        certificate.thumbprint, certificate.subject
    ))
}
