//! The plan document: what `plan.json` and `--format json` hold, and what the text plan and
//! `report.md` are rendered from (as terraform renders its human plan from the JSON plan), so
//! that `hybridtls show` renders a saved plan again without the inputs.
//!
//! Versioned by `format_version`: additive changes raise the minor version, anything else the
//! major. Its JSON Schema is `schema/plan.schema.json`.

use serde::{Deserialize, Serialize};

use crate::diagnose::needs::Missing;
use crate::diagnose::rules::Severity;
use crate::diagnose::select::Selection;
use crate::diagnose::{date, ConnectorReport, Diagnosis, Finding, Fix, NameOrigin, SendReport};
use crate::error::Error;
use crate::model::{InputKind, Inventory, ServerKind, TenantConnectorType, TlsAuthLevel};
use crate::plan::{summarize, ServerPlan, Summary};
use crate::steps::{Bucket, StepKind, KINDS};

pub const FORMAT_VERSION: &str = "2.4";

#[derive(Debug, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: String,
    pub tool: Tool,
    pub evaluated_at: String,
    pub hybrid_fqdn: Option<HybridFqdn>,
    pub inputs: Vec<InputDoc>,
    pub skipped: Vec<SkippedDoc>,
    /// Since 2.2: the TLS failures the protocol logs show, per connector and error.
    pub log_failures: Vec<LogFailureDoc>,
    pub servers: Vec<ServerDoc>,
    /// Since 2.3: Exchange Online's connectors, as far as their exports were given (absent in
    /// an older plan.json, read as not given).
    #[serde(default)]
    pub exchange_online: ExchangeOnlineDoc,
    pub findings: Vec<FindingDoc>,
    /// Since 2.1: the checks that could not be judged for want of an export or a property.
    pub not_checked: Vec<NotCheckedDoc>,
    pub actions: Vec<ActionDoc>,
    pub summary: SummaryDoc,
    /// Since 2.2: what the rules were tuned with (`--ignore`, `--expiry-warning-days`,
    /// `hybridtls.toml`).
    #[serde(default)]
    pub settings: SettingsDoc,
    /// Since 2.2: the findings of the ignored rules, listed and not planned.
    #[serde(default)]
    pub ignored_findings: Vec<FindingDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SettingsDoc {
    /// The configuration file read, as named; None without one.
    pub config: Option<String>,
    pub ignore: Vec<String>,
    pub expiry_warning_days: u32,
}

impl Default for SettingsDoc {
    fn default() -> Self {
        let settings = crate::diagnose::Settings::default();
        SettingsDoc {
            config: settings.config,
            ignore: Vec::new(),
            expiry_warning_days: settings.expiry_warning_days,
        }
    }
}

impl SettingsDoc {
    /// Whether anything differs from what hybridtls does without settings.
    pub fn is_default(&self) -> bool {
        let default = SettingsDoc::default();
        self.config == default.config
            && self.ignore.is_empty()
            && self.expiry_warning_days == default.expiry_warning_days
    }

    /// One line for the text plan and the report: what the settings change and where from.
    pub fn describe(&self) -> String {
        let ignore = if self.ignore.is_empty() {
            "no rule ignored".to_owned()
        } else {
            let rules: Vec<String> = self
                .ignore
                .iter()
                .map(|code| match crate::diagnose::rules::find(code) {
                    Some(rule) => format!("{} ({})", rule.code, rule.name),
                    None => code.clone(),
                })
                .collect();
            format!("ignore {}", rules.join(", "))
        };
        let from = self
            .config
            .as_deref()
            .map(|config| format!(" ({config}, then the command line)"))
            .unwrap_or_default();
        format!(
            "{ignore}; HT012 warns {} days before expiry{from}",
            self.expiry_warning_days
        )
    }
}

impl PlanDocument {
    /// The actions of one server's plan, in order.
    pub fn actions_of<'d>(&'d self, server: &'d str) -> impl Iterator<Item = &'d ActionDoc> {
        self.actions.iter().filter(move |a| a.server == server)
    }

    /// The reports' summary when nothing was found broken (None when something was): an
    /// all-clear only when every check ran, and one that names the ignored findings when the
    /// settings silenced some. The reports read it from here so that they never disagree.
    pub fn nothing_broken(&self) -> Option<String> {
        if !self.findings.is_empty() {
            return None;
        }
        Some(match (self.not_checked.len(), self.ignored_findings.len()) {
            (0, 0) => "Nothing is broken: every hybrid connector presents a certificate that qualifies. No change is needed.".to_owned(),
            (0, ignored) => format!("Nothing is broken that is not ignored: {ignored} finding(s) of ignored rules are listed under Ignored below. No change is needed."),
            (not_checked, _) => format!("Nothing was found broken in what could be checked, but {not_checked} check(s) could not be judged for want of an export or a property (see Not checked below). This is not an all-clear."),
        })
    }

    /// The rules that found something, in finding order, each with its title and how many
    /// findings it made: the reports' "What is broken".
    pub fn broken_rules(&self) -> Vec<(&str, &str, usize)> {
        let mut codes: Vec<(&str, &str)> = self
            .findings
            .iter()
            .map(|f| (f.rule.as_str(), f.title.as_str()))
            .collect();
        codes.dedup();
        codes
            .into_iter()
            .map(|(code, title)| {
                (
                    code,
                    title,
                    self.findings.iter().filter(|f| f.rule == code).count(),
                )
            })
            .collect()
    }

    /// Each server the plan changes, with its changes counted ([`change_counts`]) and the
    /// services it restarts: the reports' "What will change, on which servers".
    pub fn changes_by_server(&self) -> Vec<(&str, String, Vec<&str>)> {
        self.servers
            .iter()
            .filter_map(|server| {
                let actions: Vec<&ActionDoc> = self.actions_of(&server.name).collect();
                (!actions.is_empty())
                    .then(|| (server.name.as_str(), change_counts(&actions), restarts(&actions)))
            })
            .collect()
    }
}

/// The services `actions` restart, in order.
pub fn restarts<'d>(actions: &[&'d ActionDoc]) -> Vec<&'d str> {
    actions
        .iter()
        .filter(|a| a.kind == ActionKind::RestartService)
        .map(|a| a.target.as_str())
        .collect()
}

/// What one server's `actions` do, counted as the change reports list it:
/// `1 import(s), 0 certificate removal(s), 2 connector change(s), 0 manual action(s)`.
pub fn change_counts(actions: &[&ActionDoc]) -> String {
    let count = |bucket: Bucket| {
        actions
            .iter()
            .filter(|a| matches!(a.kind, ActionKind::Step(kind) if kind.bucket == bucket))
            .count()
    };
    format!(
        "{} import(s), {} certificate removal(s), {} connector change(s), {} manual action(s)",
        count(Bucket::Import),
        count(Bucket::Remove),
        count(Bucket::Change),
        actions.iter().filter(|a| a.kind == ActionKind::Manual).count()
    )
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HybridFqdn {
    pub names: Vec<String>,
    pub origin: String,
    /// Since 2.2: whether the names were given with `--fqdn` (otherwise assumed from the inputs).
    pub given: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InputDoc {
    pub path: String,
    pub hash: HashDoc,
    pub recognised_as: String,
    pub encoding: Option<String>,
    pub objects: usize,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct HashDoc {
    pub algorithm: String,
    pub value: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SkippedDoc {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LogFailureDoc {
    pub connector: String,
    /// The SecurityStatus of `TLS negotiation failed with error ...`.
    pub failure: String,
    pub count: usize,
    /// The latest time it was logged.
    pub last: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Mailbox,
    Edge,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ServerDoc {
    pub name: String,
    pub fqdn: Option<String>,
    pub role: Option<Role>,
    pub plan_fingerprint: Option<String>,
    pub connectors: Vec<ConnectorDoc>,
    /// Since 2.1: the send connectors to Exchange Online this server sources.
    pub send_connectors: Vec<SendConnectorDoc>,
    /// Since 2.2: the certificate hybrid mail flow should use on this server.
    pub hybrid_certificate: Option<CertificateDoc>,
}

/// Exchange Online's side of hybrid mail flow; each list is None when its export was not given.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ExchangeOnlineDoc {
    pub inbound_connectors: Option<Vec<InboundConnectorDoc>>,
    pub outbound_connectors: Option<Vec<OutboundConnectorDoc>>,
}

/// An Exchange Online inbound connector (`Get-InboundConnector`).
#[derive(Debug, Serialize, Deserialize)]
pub struct InboundConnectorDoc {
    pub name: String,
    /// `OnPremises` or `Partner`.
    pub connector_type: Option<String>,
    pub enabled: Option<bool>,
    pub tls_sender_certificate_name: Option<String>,
}

/// An Exchange Online outbound connector (`Get-OutboundConnector`).
#[derive(Debug, Serialize, Deserialize)]
pub struct OutboundConnectorDoc {
    pub name: String,
    /// `OnPremises` or `Partner`.
    pub connector_type: Option<String>,
    pub enabled: Option<bool>,
    /// `EncryptionOnly`, `CertificateValidation` or `DomainValidation`.
    pub tls_settings: Option<String>,
    pub tls_domain: Option<String>,
    pub smart_hosts: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CertificateDoc {
    pub thumbprint: String,
    /// Thumbprint, subject and validity at the evaluation time, as every output shows it.
    pub description: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct SendConnectorDoc {
    pub identity: String,
    pub tls_certificate_name: Option<String>,
    pub fqdn: Option<String>,
    /// Thumbprint of the certificate it presents from this server when every reading of the
    /// lookup agrees.
    pub presented_certificate: Option<String>,
    /// Every certificate some documented reading of the lookup presents (several when they
    /// disagree, as with a key-less copy).
    pub possible_certificates: Vec<String>,
    /// Since 2.2: how Exchange looks the certificate up, in words.
    pub lookup: String,
    /// Since 2.2: what it presents, in words.
    pub presents: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ConnectorDoc {
    pub identity: String,
    pub hybrid: bool,
    pub tls_certificate_name: Option<String>,
    /// Thumbprint of the certificate Exchange presents today (first in store order when several match).
    pub presented_certificate: Option<String>,
    /// Thumbprint of the latest certificate the given protocol logs show it sending.
    pub logged_certificate: Option<String>,
    /// Since 2.2: how Exchange looks the certificate up, in words.
    pub lookup: String,
    /// Since 2.2: what it presents, in words.
    pub presents: String,
    /// Since 2.2: the latest protocol log row that shows it sending a certificate.
    pub logged: Option<LoggedDoc>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LoggedDoc {
    pub thumbprint: Option<String>,
    pub time: String,
    pub file: String,
    pub position: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FindingDoc {
    pub rule: String,
    pub name: String,
    pub severity: Severity,
    pub title: String,
    pub server: String,
    pub object: String,
    pub message: String,
    pub evidence: Vec<EvidenceDoc>,
    /// Since 2.2: what resolves it.
    pub fix: FixDoc,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct FixDoc {
    /// Whether a script carries it out.
    pub automatic: bool,
    pub description: String,
    /// The one command a person runs, for a manual fix that has one.
    pub command: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct EvidenceDoc {
    pub file: String,
    pub position: String,
    pub field: String,
    pub value: String,
}

/// What a check that could not run lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingKind {
    /// An export that was not given.
    Export,
    /// A property absent from a given export.
    Property,
    /// The server's record, absent from a given export.
    Record,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NotCheckedDoc {
    pub rule: String,
    pub name: String,
    /// None for an organisation-wide object.
    pub server: Option<String>,
    pub object: String,
    pub missing_kind: MissingKind,
    /// The export (`the Cert:\LocalMachine\CA listing`) or the property (`AuthMechanism`).
    pub missing: String,
    /// For a property: the file and position of the object that lacks it.
    pub file: Option<String>,
    pub position: Option<String>,
    pub reason: String,
    pub how: String,
    pub command: String,
}

/// What an action does: a kind of scripted step, the restart after them, or a manual action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    Step(&'static StepKind),
    RestartService,
    Manual,
}

impl ActionKind {
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Step(kind) => kind.name,
            ActionKind::RestartService => "restart_service",
            ActionKind::Manual => "manual",
        }
    }
}

impl Serialize for ActionKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ActionKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        match name.as_str() {
            "restart_service" => Ok(ActionKind::RestartService),
            "manual" => Ok(ActionKind::Manual),
            _ => KINDS
                .iter()
                .find(|kind| kind.name == name)
                .map(|kind| ActionKind::Step(kind))
                .ok_or_else(|| serde::de::Error::custom(format!("unknown action kind {name:?}"))),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ActionDoc {
    pub order: usize,
    pub server: String,
    pub kind: ActionKind,
    pub automatic: bool,
    pub target: String,
    pub parameters: Vec<Parameter>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub resolves: Vec<String>,
    /// Since 2.2: the action as the text plan lists it under "Changes, in execution order".
    pub description: String,
    /// Since 2.2: the unified diff of the object's state, for a step that changes one in place.
    pub diff: Option<String>,
    /// Since 2.2: a scripted step as one sentence, as the change report lists it.
    pub sentence: Option<String>,
}

impl ActionDoc {
    /// A parameter's value, by name.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_str())
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    pub value: String,
}

/// The summary's counts: one per bucket of scripted steps, in [`Bucket::ALL`] order, then the
/// manual actions and the checks not judged.
#[derive(Debug)]
pub struct SummaryDoc(pub Summary);

impl Serialize for SummaryDoc {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(Bucket::ALL.len() + 2))?;
        for bucket in Bucket::ALL {
            map.serialize_entry(&bucket, &self.0.count(bucket))?;
        }
        map.serialize_entry("manual", &self.0.manual)?;
        map.serialize_entry("not_checked", &self.0.not_checked)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for SummaryDoc {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let counts = std::collections::BTreeMap::<String, usize>::deserialize(deserializer)?;
        let count = |name: &str| {
            counts
                .get(name)
                .copied()
                .ok_or_else(|| serde::de::Error::custom(format!("the summary lacks {name:?}")))
        };
        let mut summary = Summary {
            manual: count("manual")?,
            not_checked: count("not_checked")?,
            ..Summary::default()
        };
        for bucket in Bucket::ALL {
            let name = serde_json::to_value(bucket)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            summary.steps[bucket as usize] = count(&name)?;
        }
        Ok(SummaryDoc(summary))
    }
}

fn actions(plan: &ServerPlan, now: time::OffsetDateTime, order: &mut usize) -> Vec<ActionDoc> {
    let mut out = Vec::new();
    let mut next = || {
        *order += 1;
        *order
    };
    for planned in &plan.steps {
        let action = planned.step.action(now);
        let change = planned.step.change(now);
        out.push(ActionDoc {
            order: next(),
            server: plan.server.clone(),
            kind: ActionKind::Step(planned.step.kind()),
            automatic: true,
            target: action.target,
            parameters: action
                .parameters
                .into_iter()
                .map(|(name, value)| Parameter {
                    name: name.to_owned(),
                    value,
                })
                .collect(),
            before: action.before,
            after: action.after,
            resolves: planned.resolves.iter().map(|r| (*r).to_owned()).collect(),
            description: change.head,
            diff: change.diff,
            sentence: Some(planned.step.report_step(now)),
        });
    }
    for service in &plan.restarts {
        out.push(ActionDoc {
            order: next(),
            server: plan.server.clone(),
            kind: ActionKind::RestartService,
            automatic: true,
            target: (*service).to_owned(),
            parameters: Vec::new(),
            before: None,
            after: None,
            resolves: Vec::new(),
            description: format!("restart service {service} (once, after the changes)"),
            diff: None,
            sentence: None,
        });
    }
    for manual in &plan.manual {
        out.push(ActionDoc {
            order: next(),
            server: plan.server.clone(),
            kind: ActionKind::Manual,
            automatic: false,
            target: manual.object.clone(),
            parameters: std::iter::once(Parameter {
                name: "instruction".to_owned(),
                value: manual.instruction.clone(),
            })
            .chain(manual.command.as_ref().map(|command| Parameter {
                name: "command".to_owned(),
                value: crate::render::ps::command(command),
            }))
            .collect(),
            before: None,
            after: None,
            resolves: manual.resolves.iter().map(|r| (*r).to_owned()).collect(),
            description: format!("manual: {} ({})", manual.instruction, manual.object),
            diff: None,
            sentence: None,
        });
    }
    out
}

/// How a receive connector's certificate is looked up, in words.
fn receive_lookup(report: &ConnectorReport) -> String {
    match &report.selection {
        Selection::Named { name, .. } => format!("TlsCertificateName {name}"),
        Selection::ByFqdn { name, .. } => format!(
            "TlsCertificateName null, search by FQDN {}",
            name.as_deref().unwrap_or("(unknown)")
        ),
    }
}

fn send_connector(report: &SendReport, now: time::OffsetDateTime) -> SendConnectorDoc {
    let lookup = match &report.selection {
        Selection::Named { name, .. } => format!("TlsCertificateName {name}"),
        Selection::ByFqdn { name: Some(fqdn), .. } => {
            format!("TlsCertificateName null, search by Fqdn {fqdn}")
        }
        Selection::ByFqdn { name: None, .. } => "TlsCertificateName null, Fqdn null".to_owned(),
    };
    // The send side has no STARTTLS to withhold: without a certificate it sends without one.
    let presents = match &report.selection {
        Selection::Named { valid, .. } if valid.is_empty() => {
            "nothing: no valid certificate with that issuer and subject here (454 4.7.5)".to_owned()
        }
        Selection::ByFqdn { name: None, .. } => "nothing: there is no name to search by".to_owned(),
        Selection::ByFqdn { chosen: None, .. } => {
            "nothing: no certificate with a private key covers the Fqdn".to_owned()
        }
        selection => selection.describe(now),
    };
    SendConnectorDoc {
        identity: report.connector.name.clone(),
        tls_certificate_name: report
            .connector
            .tls_certificate_name
            .as_ref()
            .map(ToString::to_string),
        fqdn: report.connector.fqdn.clone(),
        presented_certificate: report.selection.effective().map(|c| c.thumbprint.clone()),
        possible_certificates: report
            .selection
            .possible()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        lookup,
        presents,
    }
}

/// The TLS negotiation failures of the protocol logs, one entry per connector and error in the
/// order first seen, with how often and when last.
fn log_failures(inventory: &Inventory) -> Vec<LogFailureDoc> {
    let mut out: Vec<LogFailureDoc> = Vec::new();
    let negotiations = inventory
        .log_failures
        .iter()
        .filter(|f| f.kind == crate::model::LogFailureKind::Negotiation);
    for failure in negotiations {
        match out
            .iter_mut()
            .find(|f| f.connector == failure.connector && f.failure == failure.status)
        {
            Some(entry) => {
                entry.count += failure.count as usize;
                if failure.last > entry.last {
                    entry.last = failure.last.clone();
                }
            }
            None => out.push(LogFailureDoc {
                connector: failure.connector.clone(),
                failure: failure.status.clone(),
                count: failure.count as usize,
                last: failure.last.clone(),
            }),
        }
    }
    out
}

fn connector_type(kind: TenantConnectorType) -> String {
    match kind {
        TenantConnectorType::OnPremises => "OnPremises",
        TenantConnectorType::Partner => "Partner",
    }
    .to_owned()
}

/// Exchange Online's connectors, each list only when its export was among the inputs.
fn exchange_online(inventory: &Inventory) -> ExchangeOnlineDoc {
    let given = |kind: InputKind| inventory.inputs.iter().any(|input| input.kind == kind);
    ExchangeOnlineDoc {
        inbound_connectors: given(InputKind::InboundConnectors).then(|| {
            inventory
                .inbound_connectors
                .iter()
                .map(|c| InboundConnectorDoc {
                    name: c.name.clone(),
                    connector_type: c.connector_type.map(connector_type),
                    enabled: c.enabled,
                    tls_sender_certificate_name: c.tls_sender_certificate_name.clone(),
                })
                .collect()
        }),
        outbound_connectors: given(InputKind::OutboundConnectors).then(|| {
            inventory
                .outbound_connectors
                .iter()
                .map(|c| OutboundConnectorDoc {
                    name: c.name.clone(),
                    connector_type: c.connector_type.map(connector_type),
                    enabled: c.enabled,
                    tls_settings: c.tls_settings.map(|level| {
                        match level {
                            TlsAuthLevel::EncryptionOnly => "EncryptionOnly",
                            TlsAuthLevel::CertificateValidation => "CertificateValidation",
                            TlsAuthLevel::DomainValidation => "DomainValidation",
                        }
                        .to_owned()
                    }),
                    tls_domain: c.tls_domain.clone(),
                    smart_hosts: c.smart_hosts.clone(),
                })
                .collect()
        }),
    }
}

/// Builds the document; `fingerprints` holds each server's plan fingerprint (None when no
/// script is needed for it).
pub fn document(
    inventory: &Inventory,
    diagnosis: &Diagnosis,
    plans: &[ServerPlan],
    fingerprints: &[Option<String>],
) -> PlanDocument {
    let now = diagnosis.now;
    let mut order = 0;
    PlanDocument {
        format_version: FORMAT_VERSION.to_owned(),
        tool: Tool {
            name: "hybridtls".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        evaluated_at: date(now),
        hybrid_fqdn: diagnosis.hybrid_names.as_ref().map(|h| HybridFqdn {
            names: h.names.clone(),
            origin: h.origin.to_string(),
            given: h.origin == NameOrigin::Given,
        }),
        inputs: inventory
            .inputs
            .iter()
            .map(|input| InputDoc {
                path: input.path.clone(),
                hash: HashDoc {
                    algorithm: input.hash.algorithm.name().to_owned(),
                    value: input.hash.hex.clone(),
                },
                recognised_as: input.kind.describe().to_owned(),
                encoding: input.encoding.map(str::to_owned),
                objects: input.records,
            })
            .collect(),
        skipped: inventory
            .skipped
            .iter()
            .map(|(path, reason)| SkippedDoc {
                path: path.clone(),
                reason: reason.clone(),
            })
            .collect(),
        log_failures: log_failures(inventory),
        servers: diagnosis
            .servers
            .iter()
            .zip(fingerprints)
            .map(|(server, fingerprint)| ServerDoc {
                name: server.server.name.clone(),
                fqdn: server.server.fqdn.clone(),
                role: server.server.kind.map(|kind| match kind {
                    ServerKind::Mailbox => Role::Mailbox,
                    ServerKind::Edge => Role::Edge,
                }),
                plan_fingerprint: fingerprint.clone(),
                connectors: server
                    .connectors
                    .iter()
                    .map(|report| ConnectorDoc {
                        identity: report.connector.identity(),
                        hybrid: report.hybrid,
                        tls_certificate_name: report
                            .connector
                            .tls_certificate_name
                            .as_ref()
                            .map(ToString::to_string),
                        presented_certificate: report.selection.effective().map(|c| c.thumbprint.clone()),
                        logged_certificate: report.observed.and_then(|s| s.thumbprint.clone()),
                        lookup: receive_lookup(report),
                        presents: report.selection.describe(now),
                        logged: report.observed.map(|sighting| LoggedDoc {
                            thumbprint: sighting.thumbprint.clone(),
                            time: sighting.time.clone(),
                            file: sighting.source.file.clone(),
                            position: sighting.source.position.to_string(),
                        }),
                    })
                    .collect(),
                send_connectors: server
                    .send_connectors
                    .iter()
                    .map(|report| send_connector(report, now))
                    .collect(),
                hybrid_certificate: server.target.map(|certificate| CertificateDoc {
                    thumbprint: certificate.thumbprint.clone(),
                    description: certificate.line(now),
                }),
            })
            .collect(),
        exchange_online: exchange_online(inventory),
        findings: diagnosis
            .servers
            .iter()
            .flat_map(|server| &server.findings)
            .map(finding_doc)
            .collect(),
        not_checked: diagnosis
            .not_judged
            .iter()
            .map(|entry| {
                let (missing_kind, file, position) = match &entry.missing {
                    Missing::Export(_) => (MissingKind::Export, None, None),
                    Missing::Record { .. } => (MissingKind::Record, None, None),
                    Missing::Property { source, .. } => (
                        MissingKind::Property,
                        Some(source.file.clone()),
                        Some(source.position.to_string()),
                    ),
                };
                NotCheckedDoc {
                    rule: entry.rule.code.to_owned(),
                    name: entry.rule.name.to_owned(),
                    server: entry.server.clone(),
                    object: entry.object.clone(),
                    missing_kind,
                    missing: entry.missing.what(),
                    file,
                    position,
                    reason: entry.reason(),
                    how: entry.missing.how(),
                    command: entry.missing.export().command().to_owned(),
                }
            })
            .collect(),
        actions: plans
            .iter()
            .flat_map(|plan| actions(plan, now, &mut order))
            .collect(),
        summary: SummaryDoc(summarize(diagnosis, plans)),
        settings: SettingsDoc {
            config: diagnosis.settings.config.clone(),
            ignore: diagnosis
                .settings
                .ignore
                .iter()
                .map(|rule| rule.code.to_owned())
                .collect(),
            expiry_warning_days: diagnosis.settings.expiry_warning_days,
        },
        ignored_findings: diagnosis
            .servers
            .iter()
            .flat_map(|server| &server.ignored)
            .map(finding_doc)
            .collect(),
    }
}

fn finding_doc(finding: &Finding) -> FindingDoc {
    FindingDoc {
        rule: finding.rule.code.to_owned(),
        name: finding.rule.name.to_owned(),
        severity: finding.rule.severity,
        title: finding.rule.title.to_owned(),
        server: finding.server.clone(),
        object: finding.object.clone(),
        message: finding.message.clone(),
        evidence: finding
            .evidence
            .iter()
            .map(|e| EvidenceDoc {
                file: e.file.clone(),
                position: e.position.to_string(),
                field: e.field.clone(),
                value: e.value.clone(),
            })
            .collect(),
        fix: match finding.remedy.fix() {
            Fix::Scripted(step) => FixDoc {
                automatic: true,
                description: step.fix(),
                command: None,
            },
            Fix::ByHand { instruction, command } => FixDoc {
                automatic: false,
                description: instruction.to_owned(),
                command: command.as_ref().map(crate::render::ps::command),
            },
        },
    }
}

/// A document as hybridtls writes JSON: pretty, ending in a line feed.
pub fn to_string(document: &(impl Serialize + ?Sized)) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(document).map_err(|e| Error::Template(e.to_string()))?;
    text.push('\n');
    Ok(text)
}
