//! Stage 3: compare what each server does with what hybrid mail flow needs, and say what is
//! wrong as findings of stable rules, each with its evidence and its remedy.

pub mod chain;
pub mod rules;
pub mod select;
pub mod symptoms;

use time::OffsetDateTime;

use crate::input::exchange::AUTH_TLS;
use crate::model::{
    Certificate, Inventory, ReceiveConnector, Server, Sighting, TlsCertificateName, TransportRole,
};
use rules::Rule;
use select::Selection;

/// One piece of evidence: the value of a field in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub file: String,
    pub position: String,
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

#[derive(Debug, Clone)]
pub struct ServerDiagnosis<'a> {
    pub server: &'a Server,
    pub connectors: Vec<ConnectorReport<'a>>,
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
}

/// Diagnoses every server of the inventory at time `now` for the hybrid FQDNs `given`
/// (derived from the inputs when empty).
pub fn diagnose<'a>(inventory: &'a Inventory, given: &[String], now: OffsetDateTime) -> Diagnosis<'a> {
    let hybrid_names = hybrid_names(inventory, given);
    let mut servers: Vec<&Server> = inventory.servers.iter().collect();
    servers.sort_by_key(|s| s.name.to_ascii_uppercase());
    let servers = servers
        .into_iter()
        .map(|server| diagnose_server(inventory, server, hybrid_names.as_ref(), now))
        .collect();
    Diagnosis {
        now,
        hybrid_names,
        servers,
    }
}

/// A receive connector Exchange Online delivers to.
pub fn is_hybrid(connector: &ReceiveConnector) -> bool {
    let cloud_capability = connector.tls_domain_capabilities.iter().any(|entry| {
        let lower = entry.to_ascii_lowercase();
        lower.starts_with("mail.protection.outlook.com:")
            && (lower.contains("acceptcloudservicesmail") || lower.contains("acceptoorgprotocol"))
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
    let dotted = |name: &str| name.contains('.') && !name.starts_with("*.");
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
        if let Some(cn) = common_name.filter(|cn| dotted(cn)) {
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
    None
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

/// Collects one server's findings; `finding` stamps the server name on each.
struct Findings<'s> {
    server: &'s str,
    list: Vec<Finding>,
}

impl Findings<'_> {
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
    server: &'a Server,
    hybrid: Option<&HybridNames>,
    now: OffsetDateTime,
) -> ServerDiagnosis<'a> {
    let store: Vec<&Certificate> = inventory.personal_certificates(&server.name).collect();
    let mut connectors: Vec<&ReceiveConnector> = inventory
        .receive_connectors
        .iter()
        .filter(|c| c.server.eq_ignore_ascii_case(&server.name))
        .collect();
    connectors.sort_by_key(|c| c.name.to_ascii_lowercase());
    let reports: Vec<ConnectorReport> = connectors
        .iter()
        .map(|connector| ConnectorReport {
            connector,
            hybrid: is_hybrid(connector),
            selection: select::select(connector, Some(server), &store, now),
            observed: inventory
                .sightings
                .iter()
                .filter(|s| s.thumbprint.is_some() && s.connector.eq_ignore_ascii_case(&connector.identity()))
                .max_by(|a, b| a.time.cmp(&b.time)),
        })
        .collect();
    let names: &[String] = hybrid.map_or(&[], |h| &h.names);
    let target = hybrid.and_then(|h| choose_target(&store, &h.names, now));
    let target_plan = target.map(|certificate| Target::new(certificate, &store, now));
    let mut findings = Findings {
        server: &server.name,
        list: Vec::new(),
    };

    if connectors.is_empty() {
        findings.push(
            &rules::EXPORT_MISSING,
            server.name.clone(),
            format!("the inputs hold no receive connector of {}", server.name),
            vec![],
            Remedy::manual(format!(
                "export the receive connectors of {} (Get-ReceiveConnector -Server {}, or `hybridtls collect`) and plan again",
                server.name, server.name
            )),
        );
    } else if store.is_empty() {
        findings.push(
            &rules::EXPORT_MISSING,
            server.name.clone(),
            format!("the inputs hold no certificate of {}", server.name),
            vec![],
            Remedy::manual(format!(
                "export the certificates of {} (Get-ExchangeCertificate -Server {} with RawData, or `hybridtls collect`) and plan again",
                server.name, server.name
            )),
        );
    }
    if !connectors.is_empty() && !reports.iter().any(|r| r.hybrid) {
        findings.push(
            &rules::HYBRID_CONNECTOR_MISSING,
            server.name.clone(),
            format!(
                "none of the {} receive connectors of {} is a hybrid connector",
                connectors.len(),
                server.name
            ),
            vec![],
            Remedy::manual(
                "export every receive connector of the server, or run the Hybrid Configuration Wizard for it"
                    .to_owned(),
            ),
        );
    }
    let hybrid_reports: Vec<&ConnectorReport> = reports.iter().filter(|r| r.hybrid).collect();
    if hybrid.is_none() && !hybrid_reports.is_empty() {
        findings.push(
            &rules::HYBRID_FQDN_UNKNOWN,
            server.name.clone(),
            "the name Exchange Online uses to reach this server is unknown, so certificates cannot be judged".to_owned(),
            vec![],
            Remedy::manual("run again with --fqdn <hybrid FQDN>, e.g. the TlsDomain of the Exchange Online outbound connector".to_owned()),
        );
    }

    for report in &reports {
        log_findings(report, &mut findings);
    }
    let mut needs_certificate = false;
    let mut intended_certificates: Vec<(&Certificate, TlsCertificateName)> = Vec::new();
    for report in hybrid_reports {
        tls_offered(report.connector, &mut findings);
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
        send_connector_findings(
            inventory,
            server,
            &store,
            target_plan.as_ref(),
            now,
            &mut findings,
        );
    }
    for (certificate, name) in &intended_certificates {
        shadow_findings(certificate, name, &store, now, &mut findings);
        chain::findings(inventory, server, certificate, now, &mut findings);
        health_findings(certificate, now, &mut findings);
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
    let mut findings = findings.list;
    findings.sort_by(|a, b| a.rule.code.cmp(b.rule.code).then(a.object.cmp(&b.object)));
    ServerDiagnosis {
        server,
        connectors: reports,
        target,
        intended: intended_certificates.into_iter().map(|(c, _)| c).collect(),
        findings,
    }
}

/// A protocol log that shows another certificate than the model computes.
fn log_findings(report: &ConnectorReport, findings: &mut Findings) {
    let Some(observed) = report.observed else {
        return;
    };
    let seen = observed.thumbprint.as_deref().unwrap_or_default();
    let computed = report.selection.effective().map(|c| c.thumbprint.as_str());
    if computed == Some(seen) {
        return;
    }
    let identity = report.connector.identity();
    findings.push(
        &rules::LOG_DISAGREES,
        identity.clone(),
        format!(
            "the protocol log shows {identity} sending {seen} at {}, but the exports make it present {}",
            observed.time,
            computed.unwrap_or("no certificate")
        ),
        vec![Evidence {
            file: observed.source.file.clone(),
            position: observed.source.position.clone(),
            field: "Certificate thumbprint".to_owned(),
            value: seen.to_owned(),
        }],
        Remedy::manual("export the connectors and certificates again, take a fresh protocol log after a test message, and plan again".to_owned()),
    );
}

/// The AuthMechanism the Hybrid Configuration Wizard sets on the hybrid receive connector.
const HYBRID_AUTH_MECHANISM: &str = "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer";

fn tls_offered(connector: &ReceiveConnector, findings: &mut Findings) {
    if connector.auth_mechanism.is_none_or(|m| m & AUTH_TLS != 0) {
        return;
    }
    let identity = connector.identity();
    findings.push(
        &rules::TLS_NOT_OFFERED,
        identity.clone(),
        format!("AuthMechanism of {identity} does not include Tls, so STARTTLS is not offered"),
        vec![Evidence {
            file: connector.source.file.clone(),
            position: connector.source.position.clone(),
            field: "AuthMechanism".to_owned(),
            value: connector.auth_mechanism.unwrap_or_default().to_string(),
        }],
        Remedy::Manual {
            instruction: format!(
                "add Tls to the AuthMechanism of {identity}, with the mechanisms the Hybrid Configuration Wizard sets"
            ),
            command: Some(ManualCommand {
                cmdlet: "Set-ReceiveConnector",
                parameters: vec![
                    ("Identity", identity.clone()),
                    ("AuthMechanism", HYBRID_AUTH_MECHANISM.to_owned()),
                ],
            }),
        },
    );
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
    let (rule, message, evidence): (&'static Rule, String, Vec<Evidence>) = match &report.selection {
        Selection::ByFqdn { name, chosen } => {
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
                format!("TlsCertificateName of {identity} is null; {presented}"),
                evidence,
            )
        }
        Selection::Named { name, valid, invalid } => {
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
                    let latest = valid.iter().max_by_key(|c| c.not_after).copied();
                    let message = format!(
                        "TlsCertificateName of {identity} matches {} valid certificates with a private key; Exchange 2013 would pick {} (first in store order), newer builds {} (latest NotAfter)",
                        several.len(),
                        valid[0].thumbprint,
                        latest.map_or("?", |c| c.thumbprint.as_str()),
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

/// Send connectors to Exchange Online that this server sources must name a certificate it has.
/// A send connector is one object for the whole organisation, so the fix is never scripted for
/// one server: the finding says what to set.
fn send_connector_findings(
    inventory: &Inventory,
    server: &Server,
    store: &[&Certificate],
    target: Option<&Target>,
    now: OffsetDateTime,
    findings: &mut Findings,
) {
    let sourced_here = inventory.send_connectors.iter().filter(|connector| {
        connector.targets_exchange_online()
            && connector
                .source_servers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&server.name))
    });
    for connector in sourced_here {
        let usable = connector.tls_certificate_name.as_ref().is_some_and(|name| {
            store
                .iter()
                .any(|c| name.matches(c) && c.valid_at(now) && has_key(c))
        });
        if usable {
            continue;
        }
        let current = connector
            .tls_certificate_name
            .as_ref()
            .map_or_else(|| "null".to_owned(), ToString::to_string);
        let remedy = match target {
            Some(target) => Remedy::Manual {
                instruction: format!(
                    "once the certificate {} is installed with its private key on every source transport server of the connector, set its TlsCertificateName with the command below, then restart MSExchangeTransport on each",
                    target.certificate.thumbprint
                ),
                command: Some(ManualCommand {
                    cmdlet: "Set-SendConnector",
                    parameters: vec![
                        ("Identity", connector.name.clone()),
                        ("TlsCertificateName", target.name.to_string()),
                    ],
                }),
            },
            None => Remedy::manual(install_certificate_instruction(&[])),
        };
        findings.push(
            &rules::SEND_CONNECTOR_CERTIFICATE,
            connector.name.clone(),
            format!(
                "the send connector {:?} has TlsCertificateName {current}, which names no valid certificate with a private key on {}",
                connector.name, server.name
            ),
            vec![Evidence {
                file: connector.source.file.clone(),
                position: connector.source.position.clone(),
                field: "TlsCertificateName".to_owned(),
                value: current,
            }],
            remedy,
        );
    }
}

/// Key-less copies that share the intended certificate's issuer and subject: Exchange may pick
/// one of them (no private-key check when TlsCertificateName is set), and TLS then fails.
fn shadow_findings(
    intended: &Certificate,
    name: &TlsCertificateName,
    store: &[&Certificate],
    now: OffsetDateTime,
    findings: &mut Findings,
) {
    let matches: Vec<&Certificate> = store
        .iter()
        .copied()
        .filter(|c| name.matches(c) && c.valid_at(now))
        .collect();
    let shadows: Vec<&Certificate> = matches.iter().copied().filter(|c| !has_key(c)).collect();
    if shadows.is_empty() {
        return;
    }
    let first = matches[0];
    let latest = matches
        .iter()
        .copied()
        .max_by_key(|c| c.not_after)
        .unwrap_or(first);
    let picks = format!(
        "Exchange 2013 picks {} (first valid in store order){}, newer builds pick {} (latest NotAfter){}",
        first.thumbprint,
        if has_key(first) {
            ""
        } else {
            ", which has no private key"
        },
        latest.thumbprint,
        if has_key(latest) {
            ""
        } else {
            ", which has no private key"
        },
    );
    for shadow in shadows {
        let object = format!("{}\\{}", crate::model::Store::My.path(), shadow.thumbprint);
        let message = format!(
            "{} has the issuer and subject of {} ({}) but no private key; {} valid certificates match TlsCertificateName {name}: {picks}",
            shadow.thumbprint,
            intended.thumbprint,
            intended.subject,
            matches.len(),
        );
        let evidence = vec![
            certificate_evidence(shadow, "HasPrivateKey", "false".to_owned()),
            certificate_evidence(shadow, "NotAfter", date(shadow.not_after)),
            certificate_evidence(intended, "Thumbprint", intended.thumbprint.clone()),
        ];
        let remedy = if shadow.from_store_listing {
            Remedy::RemoveCertificate {
                certificate: Box::new(shadow.clone()),
            }
        } else {
            Remedy::manual(format!(
                    "HasPrivateKey is false only in the Get-ExchangeCertificate export, which can be wrong over remoting: list Cert:\\LocalMachine\\My\\{} on the server (or use `hybridtls collect`) and plan again",
                    shadow.thumbprint
                ))
        };
        findings.push(&rules::KEYLESS_SHADOW, object, message, evidence, remedy);
    }
}

/// Warnings about the intended certificate itself that do not stop mail today.
fn health_findings(certificate: &Certificate, now: OffsetDateTime, findings: &mut Findings) {
    let object = certificate.thumbprint.clone();
    let renew = || {
        Remedy::manual(format!(
            "renew {} ({}) with a 2048-bit or larger RSA key and a SHA-256 signature, install it with its private key, and plan again",
            certificate.thumbprint, certificate.subject
        ))
    };
    let days_left = (certificate.not_after - now).whole_days();
    if (0..=30).contains(&days_left) {
        findings.push(
            &rules::CERTIFICATE_EXPIRING,
            object.clone(),
            format!(
                "{} expires on {} ({days_left} days after the evaluation time)",
                certificate.thumbprint,
                date(certificate.not_after)
            ),
            vec![certificate_evidence(
                certificate,
                "NotAfter",
                date(certificate.not_after),
            )],
            renew(),
        );
    }
    let Some(facts) = &certificate.facts else {
        return;
    };
    if facts.key_algorithm == "RSA" && facts.key_bits > 0 && facts.key_bits < 2048 {
        findings.push(
            &rules::WEAK_KEY,
            object.clone(),
            format!("{} has a {}-bit RSA key", certificate.thumbprint, facts.key_bits),
            vec![certificate_evidence(
                certificate,
                "RawData",
                format!("RSA {} bits", facts.key_bits),
            )],
            renew(),
        );
    }
    if facts.signature_algorithm.to_ascii_lowercase().starts_with("sha1") {
        findings.push(
            &rules::SHA1_SIGNATURE,
            object,
            format!(
                "{} is signed with {}",
                certificate.thumbprint, facts.signature_algorithm
            ),
            vec![certificate_evidence(
                certificate,
                "RawData",
                facts.signature_algorithm.clone(),
            )],
            renew(),
        );
    }
}
