//! HT033 `hybrid-configuration-certificate-differs`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{Evidence, Findings, ManualCommand, Remedy};
use crate::model::{Certificate, HybridConfiguration, Inventory, Server, TlsCertificateName};

pub const RULE: Rule = Rule {
    code: "HT033",
    name: "hybrid-configuration-certificate-differs",
    title: "The hybrid configuration names another certificate than the one the connectors move to",
    severity: Severity::Warning,
    documentation: r#"## What it means
`Get-HybridConfiguration` shows a `TlsCertificateName` that is null or names another certificate
than the one hybridtls plans the hybrid connectors to use, typically the certificate before a
renewal. The HybridConfiguration object is what the Hybrid Configuration Wizard configures the
receive and send connectors with when it runs.

## Why it breaks mail flow
It does not break mail flow by itself; the connectors do. But the next run of the Hybrid
Configuration Wizard, or anything that reads the object, sets the old certificate back, and a
renewal is only complete when every place that names the certificate names the new one.

## Symptoms
- After a certificate renewal, running the Hybrid Configuration Wizard again brings back
  `450 4.7.320 Certificate validation failed` or `454 4.7.5` although the connectors were fixed.

## Detection
The `TlsCertificateName` of a `Get-HybridConfiguration` export is compared with the certificate
the plan moves the hybrid connectors to (issuer and subject, as Exchange compares them), on the
first non-Edge server of the plan in sorted order, which also carries the renewal steps below.

## Fix
The renewal as one workflow, in this order: the script imports the intermediates, sets the
receive connectors and the send connector (HT010, HT001 to HT003, HT015); then, by hand,
`Set-HybridConfiguration -TlsCertificateName '<I>issuer<S>subject'` in the Exchange Management
Shell of a Mailbox server (the organisation has one HybridConfiguration object, so there is no
`-Identity`); then, when Edge Transport servers carry hybrid mail, `Start-EdgeSynchronization`
on a Mailbox server so the changed send connector reaches the Edge now rather than at the next
hourly synchronisation (a new Edge subscription is needed when the default transport certificate
of the Mailbox server or of the Edge was replaced, KB 2989382 and "Edge Subscriptions" on Learn,
and every year when the subscription was made with a one-year third-party certificate, the 2025
Exchange Team blog); finally the Exchange Online values to check are listed:
each OnPremises inbound connector's `TlsSenderCertificateName` and each outbound connector's
`TlsDomain` (HT030, HT031 compare them when those exports are given).

## When to fix by hand
Always: hybridtls does not script Set-HybridConfiguration, which changes no mail flow by itself
and is what the Hybrid Configuration Wizard owns; the command is given with the exact value.

## Sources
- Microsoft Learn, Set-HybridConfiguration: `-TlsCertificateName <SmtpX509Identifier>`, valid
  syntax `"<I>X.500Issuer<S>X.500Subject"`; "There can be only one HybridConfiguration object in
  an Exchange organization"; `SendingTransportServers`, `ReceivingTransportServers`,
  `EdgeTransportServers`.
- Microsoft Learn, Start-EdgeSynchronization: starts synchronisation of configuration data from
  Active Directory to the subscribed Edge Transport servers immediately (the Exchange 2007 page:
  configuration data otherwise synchronises hourly).
- Exchange Team blog, "TLS Certificates in Exchange Hybrid - Common Issues & How to Fix them"
  (June 2025): after a renewal the connectors still name the old certificate.
- KB 2989382 (exchange-formats.md §2.3): replacing the default SMTP certificate breaks EdgeSync
  until the Edge is subscribed again; Microsoft Learn, "Edge Subscriptions": the subscription
  holds the certificates of both sides, so replacing the default transport certificate of the
  Mailbox server or of the Edge needs a new subscription.
- Exchange Team blog (June 2025): a subscription made with a one-year third-party certificate
  must be renewed every year with it.
"#,
    check,
    organisation_needs: None,
};

/// Whether `name` names `certificate` (null names nothing).
fn names(name: Option<&TlsCertificateName>, certificate: &Certificate) -> bool {
    name.is_some_and(|name| name.matches(certificate))
}

/// The organisation's hybrid configuration must name the certificate the plan moves to.
fn check(context: &Context, findings: &mut Findings) {
    // The hybrid configuration is one object of the organisation: judged once, on the first
    // non-Edge server in sorted order, which also carries the renewal's remaining steps.
    if let (Some(configuration), Some(target), true) = (
        context.inventory.hybrid_configurations.first(),
        &context.target,
        context.renewal_carrier,
    ) {
        check_configuration(context.inventory, configuration, context.server, target.certificate, findings);
    }
}

/// Compares the organisation's hybrid configuration with `target`, the certificate the plan moves
/// the hybrid connectors of `server` to, and records the renewal's remaining steps in order.
fn check_configuration(
    inventory: &Inventory,
    configuration: &HybridConfiguration,
    server: &Server,
    target: &Certificate,
    findings: &mut Findings,
) {
    if names(configuration.tls_certificate_name.as_ref(), target) {
        return;
    }
    let current = configuration
        .tls_certificate_name
        .as_ref()
        .map_or_else(|| "null".to_owned(), ToString::to_string);
    let new_name = TlsCertificateName::for_certificate(target);
    let evidence = vec![Evidence {
        file: configuration.source.file.clone(),
        position: configuration.source.position.clone(),
        field: "TlsCertificateName".to_owned(),
        value: current.clone(),
    }];
    findings.push(
        "HybridConfiguration".to_owned(),
        format!(
            "the hybrid configuration has TlsCertificateName {current}, not the certificate {} the hybrid connectors of {} are planned to use",
            target.thumbprint, server.name
        ),
        evidence.clone(),
        Remedy::Manual {
            instruction: format!(
                "after the connector changes, in the Exchange Management Shell of a Mailbox server, set the organisation's hybrid configuration to the new certificate {} with the command below (one object for the organisation; the Hybrid Configuration Wizard configures the connectors from it)",
                target.thumbprint
            ),
            command: Some(ManualCommand {
                cmdlet: "Set-HybridConfiguration",
                switches: Vec::new(),
                parameters: vec![("TlsCertificateName", new_name.to_string())],
            }),
        },
    );
    let edge_servers: Vec<&str> = configuration
        .edge_transport_servers
        .iter()
        .map(String::as_str)
        .chain(
            inventory
                .servers
                .iter()
                .filter(|s| s.kind == Some(crate::model::ServerKind::Edge))
                .map(|s| s.name.as_str()),
        )
        .collect();
    if !edge_servers.is_empty() {
        let mut edge_servers: Vec<String> = edge_servers
            .iter()
            .map(|s| s.split('.').next().unwrap_or(s).to_ascii_uppercase())
            .collect();
        edge_servers.sort();
        edge_servers.dedup();
        findings.push(
            "Edge subscription".to_owned(),
            format!(
                "Edge Transport servers carry hybrid mail ({}): they get the changed send connector through EdgeSync, and each needs a certificate with the same issuer and subject, {}",
                edge_servers.join(", "),
                new_name
            ),
            evidence.clone(),
            Remedy::Manual {
                instruction: "then, on a Mailbox server, start EdgeSync with the command below so the changed send connector reaches the Edge Transport servers now (configuration otherwise synchronises hourly); subscribe the Edge again (New-EdgeSubscription) when the default transport certificate of the Mailbox server or of the Edge was replaced (KB 2989382; Edge Subscriptions, Microsoft Learn), and every year when the subscription was made with a one-year third-party certificate (Exchange Team blog, 2025)".to_owned(),
                command: Some(ManualCommand {
                    cmdlet: "Start-EdgeSynchronization",
                    switches: Vec::new(),
                    parameters: Vec::new(),
                }),
            },
        );
    }
    let mut values: Vec<String> = Vec::new();
    for connector in &inventory.inbound_connectors {
        values.push(format!(
            "inbound connector {:?} TlsSenderCertificateName {}",
            connector.name,
            connector
                .tls_sender_certificate_name
                .as_deref()
                .unwrap_or("(null)")
        ));
    }
    for connector in &inventory.outbound_connectors {
        values.push(format!(
            "outbound connector {:?} TlsDomain {}",
            connector.name,
            connector.tls_domain.as_deref().unwrap_or("(null)")
        ));
    }
    let listed = if values.is_empty() {
        "not exported: export them with Get-InboundConnector and Get-OutboundConnector in Exchange Online PowerShell and plan again".to_owned()
    } else {
        format!("as exported: {}", values.join("; "))
    };
    findings.push(
        "Exchange Online connectors".to_owned(),
        format!(
            "the Exchange Online side of the renewal: each OnPremises inbound connector's TlsSenderCertificateName and each outbound connector's TlsDomain must match the new certificate {} ({})",
            target.thumbprint, target.subject
        ),
        evidence,
        Remedy::manual(format!(
            "last, check in Exchange Online that the OnPremises inbound connector's TlsSenderCertificateName and the outbound connector's TlsDomain match a name of {} ({}); {listed}",
            target.thumbprint,
            target.names.join(", ")
        )),
    );
}
