//! HT015 `send-connector-certificate-not-usable`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::select::send_certificates;
use crate::diagnose::{
    install_certificate_instruction, sourced_send_connectors, Evidence, Findings, ManualCommand, Remedy,
    Target,
};
use crate::model::{Certificate, Inventory, Server, ServerKind};

pub const RULE: Rule = Rule {
    code: "HT015",
    name: "send-connector-certificate-not-usable",
    title: "The send connector to Exchange Online names no usable certificate on this server",
    severity: Severity::Error,
    documentation: r#"## What it means
The send connector that delivers to Exchange Online (smart host in mail.protection.outlook.com,
address space in mail.onmicrosoft.com, the same in GCC High / DoD, `mail.protection.office365.us`
and `mail.onmicrosoft.us`, or 21Vianet, `mail.protection.partner.outlook.cn` and
`mail.partner.onmschina.cn`, or CloudServicesMailEnabled) has this server as a source
transport server, but its `TlsCertificateName` names no valid certificate with a private key in this
server's `Cert:\LocalMachine\My`, or it is null and so is `Fqdn`, or it is null and no valid,
CA-issued certificate with a private key covers the connector's `Fqdn`. A null
`TlsCertificateName` with `Fqdn` set is a valid configuration: Exchange then finds the
certificate by that name, and HealthChecker does not flag it.

## Why it breaks mail flow
Exchange Online attributes hybrid mail to your tenant by the certificate the on-premises server
presents when it sends. Without the named certificate the server sends without it, or queues.

## Symptoms
- `454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be
  found` in the queue.
- `550 5.7.64 TenantAttribution` or `550 5.7.51 TenantInboundAttribution` in NDRs.

## Detection
The send connector export is matched with each source server's certificate export, as for
receive connectors.

## Fix
Manual, because a send connector is one object for the whole organisation:
`Set-SendConnector -Identity <name> -TlsCertificateName '<I>issuer<S>subject'` naming a
certificate installed, with its private key, on every source transport server; then restart
MSExchangeTransport on each of them.

## When to fix by hand
Always; hybridtls names the value to set. On an Edge Transport server the send connector is an
EdgeSync'd copy of the organisation's: it is changed in the organisation, from a Mailbox server,
and EdgeSync brings it to the Edge.

## Sources
- microsoft/CSS-Exchange HealthChecker,
  `Diagnostics/HealthChecker/Analyzer/Invoke-AnalyzerFrequentConfigurationIssues.ps1`: the send
  connector to Exchange Online by smart host (`$eopDomainRegExPattern`) or address space
  (`$remoteRoutingDomainRegExPattern`) in each cloud.
- Microsoft Learn, "Edge Subscriptions" / Start-EdgeSynchronization: EdgeSync replicates send
  connectors from Active Directory to the subscribed Edge Transport servers, where they are not
  edited.
- CSS-Exchange HealthChecker, `Diagnostics/HealthChecker/DataCollection/ExchangeInformation/Get-ExchangeConnectors.ps1`
  and the Cloud Connector Check documentation: the send connector's TlsCertificateName is
  compared with the certificates on the server; Microsoft Learn, Set-SendConnector (`Fqdn`,
  `TlsCertificateName`).
- Hybrid Configuration Wizard log (SammyKrosoft/Hybrid-Config-Wiz-Checks): `New-SendConnector ...
  -TLSCertificateName '<I>issuer<S>subject'` on "Outbound to Office 365".
- Decompiled Exchange 2013 `SmtpOutConnection`: no match for the send connector's TlsCertificateName
  queues `454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not
  be found.` (exchange-formats.md §3.2, §5).
"#,
};

/// Send connectors to Exchange Online that this server sources must name a certificate it has.
/// A send connector is one object for the whole organisation, so the fix is never scripted for
/// one server: the finding says what to set.
pub(in crate::diagnose) fn check(
    inventory: &Inventory,
    server: &Server,
    store: &[&Certificate],
    target: Option<&Target>,
    now: OffsetDateTime,
    findings: &mut Findings,
) {
    for connector in sourced_send_connectors(inventory, server) {
        let usable = !send_certificates(connector, store, now).is_empty();
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
                    "once the certificate {} is installed with its private key on every source transport server of the connector, set its TlsCertificateName with the command below{}, then restart MSExchangeTransport on each",
                    target.certificate.thumbprint,
                    if server.kind == Some(ServerKind::Edge) {
                        // EdgeSync replicates the organisation's send connectors to the Edge,
                        // where they are read-only.
                        " in the Exchange Management Shell of a Mailbox server, not on the Edge (EdgeSync replicates the connector; Start-EdgeSynchronization speeds it up); the Edge needs a certificate with the same issuer and subject as the Mailbox servers"
                    } else {
                        ""
                    }
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
            &RULE,
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
