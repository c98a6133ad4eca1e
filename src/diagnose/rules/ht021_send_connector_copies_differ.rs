//! HT021 `send-connector-copies-differ`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::{own_copy, Evidence, Findings, ManualCommand, Remedy};
use crate::model::{SendConnector, ServerKind};

pub const RULE: Rule = Rule {
    code: "HT021",
    name: "send-connector-copies-differ",
    title: "A server's copy of a send connector differs from the organisation's",
    severity: Severity::Warning,
    documentation: r#"## What it means
The send connector export in this server's folder says something else than the same connector
exported on another server (for example another `TlsCertificateName`). A send connector is one
object of the organisation, in Active Directory; an Edge Transport server holds a copy that
EdgeSync replicates to its AD LDS, and Mailbox servers read the organisation's object.

## Why it matters
On an Edge server a stale copy is the renewal failure itself: the organisation's connector was
changed on a Mailbox server, EdgeSync has not replicated it yet (or fails), and the Edge still
presents the old certificate to Exchange Online. Between two Mailbox servers it means the exports
were made at different times. hybridtls diagnoses each server with its own copy and never keeps
just the first copy it read.

## Symptoms
Mail to Exchange Online from the Edge fails after a renewal (`TLS negotiation failed with error
NoCredentials`, `454 4.7.5`) while mail from the Mailbox servers flows.

## Detection
The send connectors of every folder are compared by name; copies that say the same are one
connector. A copy that differs is kept for the server whose folder holds it, and reported with
the properties that differ. The organisation's copy is a Mailbox server's when one was exported.

## Fix
Manual. Edge: on a Mailbox server, `Start-EdgeSynchronization`, then on the Edge
`Test-EdgeSynchronization` (Microsoft Learn, "Edge Subscriptions"; the Edge's copy is read-only
there); export the Edge again and plan again. Mailbox servers: export every server again at
once (`hybridtls collect`) and plan again.

## When to fix by hand
Always: EdgeSync and the exports are outside what a script of one server should change.

## Sources
- Microsoft Learn, "Edge Subscriptions" (EdgeSync replicates send connectors to the Edge
  Transport server; `Start-EdgeSynchronization`, `Test-EdgeSynchronization`).
- Exchange Team blog, June 2025, on hybrid TLS certificate renewals (the Edge keeps presenting
  the previous certificate until its subscription and copies are renewed).
"#,
    check,
    organisation_needs: None,
};

/// The properties the two copies hold differently, each as `Name: this vs organisation's`.
fn differences(own: &SendConnector, organisation: &SendConnector) -> Vec<String> {
    let show = |value: Option<String>| value.unwrap_or_else(|| "(null)".to_owned());
    let pairs = [
        (
            "TlsCertificateName",
            show(own.tls_certificate_name.as_ref().map(ToString::to_string)),
            show(organisation.tls_certificate_name.as_ref().map(ToString::to_string)),
        ),
        ("Fqdn", show(own.fqdn.clone()), show(organisation.fqdn.clone())),
        ("SmartHosts", own.smart_hosts.join(", "), organisation.smart_hosts.join(", ")),
        (
            "SourceTransportServers",
            own.source_servers.join(", "),
            organisation.source_servers.join(", "),
        ),
        (
            "TlsAuthLevel",
            format!("{:?}", own.tls_auth_level),
            format!("{:?}", organisation.tls_auth_level),
        ),
        ("TlsDomain", show(own.tls_domain.clone()), show(organisation.tls_domain.clone())),
        (
            "CloudServicesMailEnabled",
            format!("{:?}", own.cloud_services_mail_enabled),
            format!("{:?}", organisation.cloud_services_mail_enabled),
        ),
        ("RequireTLS", format!("{:?}", own.require_tls), format!("{:?}", organisation.require_tls)),
        ("Enabled", format!("{:?}", own.enabled), format!("{:?}", organisation.enabled)),
        (
            "AddressSpaces",
            own.address_spaces.join(", "),
            organisation.address_spaces.join(", "),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(name, a, b)| format!("{name}: {a} here, {b} in the organisation's copy"))
        .collect()
}

fn check(context: &Context, findings: &mut Findings) {
    let server = context.server;
    for organisation in &context.inventory.send_connectors {
        let Some(own) = own_copy(context.inventory, server, organisation) else {
            continue;
        };
        let differences = differences(own, organisation);
        let edge = server.kind == Some(ServerKind::Edge);
        let remedy = if edge {
            Remedy::Manual {
                instruction: format!(
                    "on a Mailbox server, replicate the organisation's connector to {} with the command below, check with Test-EdgeSynchronization on the Edge, then export the Edge again and plan again",
                    server.name
                ),
                command: Some(ManualCommand {
                    cmdlet: "Start-EdgeSynchronization",
                    switches: Vec::new(),
                    parameters: Vec::new(),
                }),
            }
        } else {
            Remedy::manual(
                "the exports were made at different times: export every server again at once (hybridtls collect) and plan again",
            )
        };
        findings.push(
            own.name.clone(),
            format!(
                "{}'s copy of the send connector {:?} ({}) differs from the organisation's ({}): {}{}",
                server.name,
                own.name,
                own.source.file,
                organisation.source.file,
                differences.join("; "),
                if edge {
                    "; this Edge server presents what its EdgeSync'd copy says"
                } else {
                    ""
                }
            ),
            vec![Evidence {
                file: own.source.file.clone(),
                position: own.source.position.clone(),
                field: "TlsCertificateName".to_owned(),
                value: own
                    .tls_certificate_name
                    .as_ref()
                    .map_or_else(|| "(null)".to_owned(), ToString::to_string),
            }],
            remedy,
        );
    }
}
