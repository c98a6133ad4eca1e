//! The machine-readable plan (`--format json`, `plan.json`), versioned by `format_version`:
//! additive changes raise the minor version, anything else the major. Its JSON Schema is
//! `schema/plan.schema.json`.

use serde::Serialize;
use time::OffsetDateTime;

use crate::diagnose::needs::Missing;
use crate::diagnose::{date, Diagnosis, Finding};
use crate::error::Error;
use crate::model::{Inventory, ServerKind};
use crate::plan::{summarize, ServerPlan, Summary};
use crate::steps::Bucket;

pub const FORMAT_VERSION: &str = "2.2";

#[derive(Serialize)]
pub struct PlanDocument {
    format_version: &'static str,
    tool: Tool,
    evaluated_at: String,
    hybrid_fqdn: Option<HybridFqdn>,
    inputs: Vec<InputDoc>,
    skipped: Vec<SkippedDoc>,
    servers: Vec<ServerDoc>,
    findings: Vec<FindingDoc>,
    /// Since 2.1: the checks that could not be judged for want of an export or a property.
    not_checked: Vec<NotCheckedDoc>,
    actions: Vec<ActionDoc>,
    summary: SummaryDoc,
    /// Since 2.2: what the rules were tuned with (`--ignore`, `--expiry-warning-days`,
    /// `hybridtls.toml`).
    settings: SettingsDoc,
    /// Since 2.2: the findings of the ignored rules, listed and not planned.
    ignored_findings: Vec<FindingDoc>,
}

#[derive(Serialize)]
struct SettingsDoc {
    /// The configuration file read, as named; None without one.
    config: Option<String>,
    ignore: Vec<&'static str>,
    expiry_warning_days: u32,
}

#[derive(Serialize)]
struct NotCheckedDoc {
    rule: &'static str,
    name: &'static str,
    /// None for an organisation-wide object.
    server: Option<String>,
    object: String,
    /// `export` (an export not given) or `property` (a property absent from a given export).
    missing_kind: &'static str,
    /// The export (`the Cert:\LocalMachine\CA listing`) or the property (`AuthMechanism`).
    missing: String,
    /// For a property: the file and position of the object that lacks it.
    file: Option<String>,
    position: Option<String>,
    reason: String,
    how: String,
    command: &'static str,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct HybridFqdn {
    names: Vec<String>,
    origin: String,
}

#[derive(Serialize)]
struct InputDoc {
    path: String,
    hash: HashDoc,
    recognised_as: &'static str,
    encoding: Option<&'static str>,
    objects: usize,
}

#[derive(Serialize)]
struct HashDoc {
    algorithm: &'static str,
    value: String,
}

#[derive(Serialize)]
struct SkippedDoc {
    path: String,
    reason: String,
}

#[derive(Serialize)]
struct ServerDoc {
    name: String,
    fqdn: Option<String>,
    role: Option<&'static str>,
    plan_fingerprint: Option<String>,
    connectors: Vec<ConnectorDoc>,
    /// Since 2.1: the send connectors to Exchange Online this server sources.
    send_connectors: Vec<SendConnectorDoc>,
}

#[derive(Serialize)]
struct SendConnectorDoc {
    identity: String,
    tls_certificate_name: Option<String>,
    fqdn: Option<String>,
    /// Thumbprint of the certificate it presents from this server when every reading of the
    /// lookup agrees.
    presented_certificate: Option<String>,
    /// Every certificate some documented reading of the lookup presents (several when they
    /// disagree, as with a key-less copy).
    possible_certificates: Vec<String>,
}

#[derive(Serialize)]
struct ConnectorDoc {
    identity: String,
    hybrid: bool,
    tls_certificate_name: Option<String>,
    /// Thumbprint of the certificate Exchange presents today (first in store order when several match).
    presented_certificate: Option<String>,
    /// Thumbprint of the latest certificate the given protocol logs show it sending.
    logged_certificate: Option<String>,
}

#[derive(Serialize)]
struct FindingDoc {
    rule: &'static str,
    name: &'static str,
    severity: &'static str,
    title: &'static str,
    server: String,
    object: String,
    message: String,
    evidence: Vec<EvidenceDoc>,
}

#[derive(Serialize)]
struct EvidenceDoc {
    file: String,
    position: String,
    field: String,
    value: String,
}

#[derive(Serialize)]
struct ActionDoc {
    order: usize,
    server: String,
    kind: &'static str,
    automatic: bool,
    target: String,
    parameters: Vec<Parameter>,
    before: Option<String>,
    after: Option<String>,
    resolves: Vec<&'static str>,
}

#[derive(Serialize)]
struct Parameter {
    name: &'static str,
    value: String,
}

/// The summary's counts: one per bucket of scripted steps, in [`Bucket::ALL`] order, then the
/// manual actions and the checks not judged.
struct SummaryDoc(Summary);

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

fn actions(plan: &ServerPlan, now: OffsetDateTime, order: &mut usize) -> Vec<ActionDoc> {
    let mut out = Vec::new();
    let mut push =
        |kind, automatic, target: String, parameters, before, after, resolves: Vec<&'static str>| {
            *order += 1;
            out.push(ActionDoc {
                order: *order,
                server: plan.server.clone(),
                kind,
                automatic,
                target,
                parameters,
                before,
                after,
                resolves,
            });
        };
    for planned in &plan.steps {
        let action = planned.step.action(now);
        push(
            planned.step.kind().name,
            true,
            action.target,
            action
                .parameters
                .into_iter()
                .map(|(name, value)| Parameter { name, value })
                .collect(),
            action.before,
            action.after,
            planned.resolves.clone(),
        );
    }
    for service in &plan.restarts {
        push(
            "restart_service",
            true,
            (*service).to_owned(),
            Vec::new(),
            None,
            None,
            Vec::new(),
        );
    }
    for manual in &plan.manual {
        push(
            "manual",
            false,
            manual.object.clone(),
            std::iter::once(Parameter {
                name: "instruction",
                value: manual.instruction.clone(),
            })
            .chain(manual.command.as_ref().map(|command| Parameter {
                name: "command",
                value: crate::render::ps::command(command),
            }))
            .collect(),
            None,
            None,
            manual.resolves.clone(),
        );
    }
    out
}

/// Builds the document; `fingerprints` holds each server's plan fingerprint (None when no
/// script is needed for it).
pub fn document(
    inventory: &Inventory,
    diagnosis: &Diagnosis,
    plans: &[ServerPlan],
    fingerprints: &[Option<String>],
) -> PlanDocument {
    let mut order = 0;
    let summary = summarize(diagnosis, plans);
    PlanDocument {
        format_version: FORMAT_VERSION,
        tool: Tool {
            name: "hybridtls",
            version: env!("CARGO_PKG_VERSION"),
        },
        evaluated_at: date(diagnosis.now),
        hybrid_fqdn: diagnosis.hybrid_names.as_ref().map(|h| HybridFqdn {
            names: h.names.clone(),
            origin: h.origin.clone(),
        }),
        inputs: inventory
            .inputs
            .iter()
            .map(|input| InputDoc {
                path: input.path.clone(),
                hash: HashDoc {
                    algorithm: input.hash.algorithm.name(),
                    value: input.hash.hex.clone(),
                },
                recognised_as: input.kind.describe(),
                encoding: input.encoding,
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
        servers: diagnosis
            .servers
            .iter()
            .zip(fingerprints)
            .map(|(server, fingerprint)| ServerDoc {
                name: server.server.name.clone(),
                fqdn: server.server.fqdn.clone(),
                role: server.server.kind.map(|kind| match kind {
                    ServerKind::Mailbox => "mailbox",
                    ServerKind::Edge => "edge",
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
                    })
                    .collect(),
                send_connectors: server
                    .send_connectors
                    .iter()
                    .map(|report| SendConnectorDoc {
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
                    })
                    .collect(),
            })
            .collect(),
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
                    Missing::Export(_) => ("export", None, None),
                    Missing::Property { source, .. } => (
                        "property",
                        Some(source.file.clone()),
                        Some(source.position.clone()),
                    ),
                };
                NotCheckedDoc {
                    rule: entry.rule.code,
                    name: entry.rule.name,
                    server: entry.server.clone(),
                    object: entry.object.clone(),
                    missing_kind,
                    missing: entry.missing.what(),
                    file,
                    position,
                    reason: entry.reason(),
                    how: entry.missing.how(),
                    command: entry.missing.export().command(),
                }
            })
            .collect(),
        actions: plans
            .iter()
            .flat_map(|plan| actions(plan, diagnosis.now, &mut order))
            .collect(),
        summary: SummaryDoc(summary),
        settings: SettingsDoc {
            config: diagnosis.settings.config.clone(),
            ignore: diagnosis.settings.ignore.iter().map(|rule| rule.code).collect(),
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
        rule: finding.rule.code,
        name: finding.rule.name,
        severity: finding.rule.severity.label(),
        title: finding.rule.title,
        server: finding.server.clone(),
        object: finding.object.clone(),
        message: finding.message.clone(),
        evidence: finding
            .evidence
            .iter()
            .map(|e| EvidenceDoc {
                file: e.file.clone(),
                position: e.position.clone(),
                field: e.field.clone(),
                value: e.value.clone(),
            })
            .collect(),
    }
}

pub fn to_string(document: &PlanDocument) -> Result<String, Error> {
    let mut text = serde_json::to_string_pretty(document).map_err(|e| Error::Template(e.to_string()))?;
    text.push('\n');
    Ok(text)
}
