//! Stage 4: turn findings into an ordered plan per server: the connector changes, the one
//! service restart they need, and the manual actions a person must take.

use crate::diagnose::{Diagnosis, ManualCommand, Remedy};
use crate::model::{Certificate, ServerKind, TlsCertificateName, TransportRole};

/// A change of one receive connector's TlsCertificateName.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorChange {
    pub identity: String,
    pub before: Option<TlsCertificateName>,
    pub after: TlsCertificateName,
    pub certificate: Certificate,
    pub service: &'static str,
    /// Rule codes of the findings this change resolves.
    pub resolves: Vec<&'static str>,
}

/// A change of the send connector to Exchange Online's TlsCertificateName. The connector is one
/// object of the organisation, so it is in the plan of one server only: the first of its source
/// transport servers in sorted order (see [`crate::diagnose::Remedy::SetSendCertificateName`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendConnectorChange {
    pub identity: String,
    pub before: Option<TlsCertificateName>,
    pub after: TlsCertificateName,
    /// The carrier's own certificate under `after`, required by its preflight.
    pub certificate: Certificate,
    /// Every source transport server of the connector, sorted; each was checked in its export
    /// to hold a valid certificate with a private key under `after`.
    pub source_servers: Vec<String>,
    pub resolves: Vec<&'static str>,
}

/// A change of a connector's TlsCertificateName, receive or send, as every renderer shows it.
pub struct NameChange<'a> {
    pub identity: &'a str,
    pub before: Option<&'a TlsCertificateName>,
    pub after: &'a TlsCertificateName,
    pub certificate: &'a Certificate,
}

impl NameChange<'_> {
    /// The value before, empty when it was null.
    pub fn before_text(&self) -> String {
        self.before.map(ToString::to_string).unwrap_or_default()
    }
}

impl ConnectorChange {
    pub fn name_change(&self) -> NameChange<'_> {
        NameChange {
            identity: &self.identity,
            before: self.before.as_ref(),
            after: &self.after,
            certificate: &self.certificate,
        }
    }
}

impl SendConnectorChange {
    pub fn name_change(&self) -> NameChange<'_> {
        NameChange {
            identity: &self.identity,
            before: self.before.as_ref(),
            after: &self.after,
            certificate: &self.certificate,
        }
    }
}

/// Back up, then remove, a certificate without a private key from `Cert:\LocalMachine\My`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub certificate: Certificate,
    pub resolves: Vec<&'static str>,
}

/// Import an intermediate CA certificate into `Cert:\LocalMachine\CA`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub certificate: Certificate,
    pub resolves: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualAction {
    pub object: String,
    pub instruction: String,
    /// The command that carries the action out, rendered only by `render::ps::command`.
    pub command: Option<ManualCommand>,
    pub resolves: Vec<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPlan {
    pub server: String,
    pub fqdn: Option<String>,
    pub edge: bool,
    /// Certificates the connectors will present: required by the preflight, never removed.
    pub keep: Vec<Certificate>,
    /// Execution order: imports, removals, connector changes, one restart, verification.
    pub imports: Vec<Import>,
    pub removals: Vec<Removal>,
    pub changes: Vec<ConnectorChange>,
    /// Send connector changes this server's script makes for the organisation, after the
    /// receive connector changes.
    pub send_changes: Vec<SendConnectorChange>,
    /// Services to restart once, after all changes, in this order.
    pub restarts: Vec<&'static str>,
    pub manual: Vec<ManualAction>,
}

impl ServerPlan {
    pub fn is_empty(&self) -> bool {
        !self.has_automatic_steps() && self.manual.is_empty()
    }

    /// Whether a script has anything to do.
    pub fn has_automatic_steps(&self) -> bool {
        !(self.changes.is_empty()
            && self.send_changes.is_empty()
            && self.imports.is_empty()
            && self.removals.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub change: usize,
    pub remove: usize,
    pub import: usize,
    pub manual: usize,
    /// Checks not judged for want of an export or a property: the plan is then no all-clear.
    pub not_checked: usize,
}

impl Summary {
    /// Whether there is anything to do: a change, a manual action, or an export to give.
    pub fn has_work(&self) -> bool {
        self.change + self.remove + self.import + self.manual + self.not_checked > 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Plan: {} to change, {} to remove, {} to import, {} manual",
            self.change, self.remove, self.import, self.manual
        )?;
        if self.not_checked > 0 {
            write!(f, ", {} not checked", self.not_checked)?;
        }
        f.write_str(".")
    }
}

/// The service that owns a connector's configuration: FrontendTransport connectors live in
/// MSExchangeFrontEndTransport; Hub connectors, and everything on an Edge server, in MSExchangeTransport.
pub fn service_for(role: Option<TransportRole>, edge: bool) -> &'static str {
    match role {
        Some(TransportRole::FrontendTransport) if !edge => "MSExchangeFrontEndTransport",
        None if !edge => "MSExchangeFrontEndTransport",
        _ => "MSExchangeTransport",
    }
}

pub fn build(diagnosis: &Diagnosis) -> Vec<ServerPlan> {
    let mut plans: Vec<ServerPlan> = diagnosis
        .servers
        .iter()
        .map(|server| {
            let edge = server.server.kind == Some(ServerKind::Edge);
            let mut changes: Vec<ConnectorChange> = Vec::new();
            let mut manual: Vec<ManualAction> = Vec::new();
            let mut removals: Vec<Removal> = Vec::new();
            let mut imports: Vec<Import> = Vec::new();
            for finding in &server.findings {
                match &finding.remedy {
                    // Placed in the carrier's plan below, once for all source servers.
                    Remedy::SetSendCertificateName { .. } => {}
                    Remedy::SetReceiveCertificateName {
                        connector,
                        after,
                        certificate,
                    } => {
                        let identity = connector.identity();
                        match changes.iter_mut().find(|c| c.identity == identity) {
                            Some(change) => change.resolves.push(finding.rule.code),
                            None => changes.push(ConnectorChange {
                                identity,
                                before: connector.tls_certificate_name.clone(),
                                after: after.clone(),
                                certificate: (**certificate).clone(),
                                service: service_for(connector.role, edge),
                                resolves: vec![finding.rule.code],
                            }),
                        }
                    }
                    Remedy::RemoveCertificate { certificate } => {
                        match removals
                            .iter_mut()
                            .find(|r| r.certificate.thumbprint == certificate.thumbprint)
                        {
                            Some(removal) => removal.resolves.push(finding.rule.code),
                            None => removals.push(Removal {
                                certificate: (**certificate).clone(),
                                resolves: vec![finding.rule.code],
                            }),
                        }
                    }
                    Remedy::ImportIntermediate { certificate } => {
                        match imports
                            .iter_mut()
                            .find(|i| i.certificate.thumbprint == certificate.thumbprint)
                        {
                            Some(import) => import.resolves.push(finding.rule.code),
                            None => imports.push(Import {
                                certificate: (**certificate).clone(),
                                resolves: vec![finding.rule.code],
                            }),
                        }
                    }
                    Remedy::Manual { instruction, command } => {
                        match manual
                            .iter_mut()
                            .find(|m| m.instruction == *instruction && m.command == *command)
                        {
                            Some(action) => action.resolves.push(finding.rule.code),
                            None => manual.push(ManualAction {
                                object: finding.object.clone(),
                                instruction: instruction.clone(),
                                command: command.clone(),
                                resolves: vec![finding.rule.code],
                            }),
                        }
                    }
                }
            }
            // The renewal's manual steps follow the scripted ones in their order: the hybrid
            // configuration, then EdgeSync, then the Exchange Online values (HT033).
            manual.sort_by_key(renewal_phase);
            changes.sort_by(|a, b| a.identity.cmp(&b.identity));
            removals.sort_by(|a, b| a.certificate.thumbprint.cmp(&b.certificate.thumbprint));
            imports.sort_by(|a, b| a.certificate.thumbprint.cmp(&b.certificate.thumbprint));
            let mut restarts: Vec<&'static str> = changes.iter().map(|c| c.service).collect();
            if !(removals.is_empty() && imports.is_empty()) {
                // A store change matters to every transport service that presents the
                // certificate: the hybrid receive connectors' and the send side's.
                restarts.extend(
                    server
                        .connectors
                        .iter()
                        .filter(|r| r.hybrid)
                        .map(|r| service_for(r.connector.role, edge)),
                );
                restarts.push("MSExchangeTransport");
            }
            restarts.sort_unstable();
            restarts.dedup();
            ServerPlan {
                server: server.server.name.clone(),
                fqdn: server.server.fqdn.clone(),
                edge,
                keep: server.intended.iter().map(|c| (*c).clone()).collect(),
                imports,
                removals,
                changes,
                restarts,
                manual,
                send_changes: Vec::new(),
            }
        })
        .collect();
    place_send_changes(diagnosis, &mut plans);
    plans
}

/// Where a manual action falls in the renewal workflow (stable sort: other actions keep their
/// order, first).
fn renewal_phase(action: &ManualAction) -> u8 {
    match action.command.as_ref().map(|c| c.cmdlet) {
        Some("Set-HybridConfiguration") => 1,
        Some("Start-EdgeSynchronization") => 2,
        Some("Set-InboundConnector" | "Set-OutboundConnector") => 3,
        _ if action.object == "Exchange Online connectors" => 3,
        _ => 0,
    }
}

/// Puts each send connector change into the plan of its carrier, once however many source
/// servers reported it: the carrier's script changes the connector, keeps the certificate and
/// restarts MSExchangeTransport; every other source server's plan restarts MSExchangeTransport
/// there afterwards, as a manual step (its own script, if any, runs independently).
fn place_send_changes(diagnosis: &Diagnosis, plans: &mut [ServerPlan]) {
    let mut changes: Vec<(String, SendConnectorChange)> = Vec::new();
    for finding in diagnosis.servers.iter().flat_map(|s| &s.findings) {
        let Remedy::SetSendCertificateName {
            connector,
            after,
            carrier,
            certificate,
        } = &finding.remedy
        else {
            continue;
        };
        match changes
            .iter_mut()
            .find(|(_, c)| c.identity.eq_ignore_ascii_case(&connector.name))
        {
            Some((_, change)) => {
                if !change.resolves.contains(&finding.rule.code) {
                    change.resolves.push(finding.rule.code);
                }
            }
            None => {
                let mut source_servers = connector.source_servers.clone();
                source_servers.sort_by_key(|s| s.to_ascii_uppercase());
                source_servers.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
                changes.push((
                    carrier.clone(),
                    SendConnectorChange {
                        identity: connector.name.clone(),
                        before: connector.tls_certificate_name.clone(),
                        after: after.clone(),
                        certificate: (**certificate).clone(),
                        source_servers,
                        resolves: vec![finding.rule.code],
                    },
                ));
            }
        }
    }
    for (carrier, change) in changes {
        for plan in plans.iter_mut() {
            if plan.server.eq_ignore_ascii_case(&carrier) {
                if !plan
                    .keep
                    .iter()
                    .any(|c| c.thumbprint == change.certificate.thumbprint)
                {
                    plan.keep.push(change.certificate.clone());
                }
                if !plan.restarts.contains(&"MSExchangeTransport") {
                    plan.restarts.push("MSExchangeTransport");
                    plan.restarts.sort_unstable();
                }
                plan.send_changes.push(change.clone());
                plan.send_changes.sort_by(|a, b| a.identity.cmp(&b.identity));
            } else if change
                .source_servers
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&plan.server))
            {
                plan.manual.push(ManualAction {
                    object: change.identity.clone(),
                    instruction: format!(
                        "after the script of {carrier} has set TlsCertificateName of the send connector (one object for the organisation, changed once), restart MSExchangeTransport on {} so it presents the new certificate at once",
                        plan.server
                    ),
                    command: Some(ManualCommand {
                        cmdlet: "Restart-Service",
                        parameters: vec![("Name", "MSExchangeTransport".to_owned())],
                    }),
                    resolves: change.resolves.clone(),
                });
            }
        }
    }
}

pub fn summarize(diagnosis: &Diagnosis, plans: &[ServerPlan]) -> Summary {
    Summary {
        not_checked: diagnosis.not_judged.len(),
        change: plans.iter().map(|p| p.changes.len() + p.send_changes.len()).sum(),
        remove: plans.iter().map(|p| p.removals.len()).sum(),
        import: plans.iter().map(|p| p.imports.len()).sum(),
        manual: plans.iter().map(|p| p.manual.len()).sum(),
    }
}
