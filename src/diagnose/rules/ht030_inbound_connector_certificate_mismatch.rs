//! HT030 `inbound-connector-certificate-mismatch`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::needs::{Export, NotJudged};
use crate::diagnose::context::Context;
use crate::diagnose::select::send_certificates;
use crate::diagnose::{
    absent_property, certificate_evidence, disqualifications, sourced_send_connectors, Evidence, Findings,
    ManualCommand, Remedy,
};
use crate::model::{
    common_name, exo_domain_matches, Apex, Certificate, InboundConnector, Inventory,
    TenantConnectorType,
};

pub const RULE: Rule = Rule {
    code: "HT030",
    name: "inbound-connector-certificate-mismatch",
    title: "The certificate the send connector presents does not match the Exchange Online inbound connector",
    severity: Severity::Error,
    documentation: r#"## What it means
Exchange Online has an enabled inbound connector of `ConnectorType` OnPremises with a
`TlsSenderCertificateName` (the Hybrid Configuration Wizard creates one, "Inbound from <GUID>"),
but no name of the certificate that the on-premises send connector to Exchange Online presents
from this server matches it.

## Why it breaks mail flow
Exchange Online attributes mail from on-premises to the tenant, and treats it as internal, by
comparing the certificate the on-premises server presents with the `TlsSenderCertificateName` of
the OnPremises inbound connector. When nothing matches, the mail is anonymous to Exchange Online:
it is rejected when it would need the connector (relay to the internet, a partner connector that
restricts its domains), or arrives as external mail.

## Symptoms
- `550 5.7.64 TenantAttribution; Relay Access Denied` in NDRs or the on-premises queue.
- `550 5.7.51 TenantInboundAttribution; There is a partner connector configured that matched the
  message's recipient domain. The connector had either the RestrictDomainsToIPAddresses or
  RestrictDomainsToCertificate set` in message tracking.
- Mail from on-premises users shown as external in Exchange Online.

## Detection
Runs only when a `Get-InboundConnector` export (Exchange Online PowerShell) is given. A connector
exported without `ConnectorType`, an OnPremises one without `TlsSenderCertificateName` (absent,
not null), or inbound connectors without a Get-SendConnector export are listed as not judged
with the file and the command, never as matching. For each
send connector to Exchange Online sourced on this server, the certificate it presents here (the
valid one with a private key its `TlsCertificateName` names, or with `TlsCertificateName` null
the one Exchange finds by the connector's `Fqdn`) has its names (CN and SAN DNS names)
compared with the `TlsSenderCertificateName` of every enabled OnPremises inbound connector, as
Exchange Online compares them: a wildcard value `*.contoso.com` stands for "a domain and all
subdomains" (Set-InboundConnector), so a certificate for `contoso.com`, `mail.contoso.com` or
`*.contoso.com` matches it; a plain value matches the same name, and also a single-label
wildcard certificate (`*.contoso.com` for `mail.contoso.com`), which is what TLS name matching
does but which Microsoft Learn does not say for this parameter. Inbound connectors without
`TlsSenderCertificateName` (attribution by `SenderIPAddresses`) are not compared. A send
connector that presents no usable certificate is HT015's, not this rule's.

Microsoft's texts disagree on which names Exchange Online compares: Set-InboundConnector speaks
of the certificate's subject, the hybrid certificate requirements and the 2025 Exchange Team blog
of the names in the certificate (SAN). hybridtls follows both readings: a certificate matches
only when its subject CN and one of its SAN DNS names both match (without `RawData` the SAN is
not told from the CN, and Exchange's `CertificateDomains` stands for it), and the value it
proposes is the subject CN only when the SAN holds it too, which matches under both; otherwise a
person must decide.

## Fix
Manual, in Exchange Online PowerShell (`Connect-ExchangeOnline`), never in the on-premises
script: when the send connector presents the certificate hybrid mail should use, set the
inbound connector's `TlsSenderCertificateName` to that certificate's name,
`Set-InboundConnector -Identity <name> -TlsSenderCertificateName <name of the certificate>`
(hybridtls prints the command with the values). A name that is not a wildcard must belong to
one of the tenant's accepted domains. When the send connector presents the wrong certificate
(self-signed, or not covering the hybrid names), a person must decide which side to change:
usually the send connector's `TlsCertificateName` (HT015's command) or a re-run of the Hybrid
Configuration Wizard.

## When to fix by hand
Always: the inbound connector is in Exchange Online.

## Sources
- Microsoft Learn, Set-InboundConnector
  (learn.microsoft.com/powershell/module/exchangepowershell/set-inboundconnector):
  `-TlsSenderCertificateName` "A valid value is an SMTP domain. Wildcards are supported to
  indicate a domain and all subdomains (for example, *.contoso.com)"; `-ConnectorType`
  OnPremises; `-RequireTls` and `-RestrictDomainsToCertificate` apply only to Partner connectors.
- Exchange Team Blog, "TLS Certificates in Exchange Hybrid - Common Issues & How to Fix them"
  (June 2025, techcommunity.microsoft.com/blog/exchange/tls-certificates-in-exchange-hybrid---common-issues--how-to-fix-them/4420592):
  `550 5.7.51 TenantInboundAttribution` when the on-premises certificate does not match
  `TlsSenderCertificateName`, which (if not a wildcard) must be an accepted domain.
- Microsoft Learn, KB 3212877 and "Email non-delivery reports and SMTP errors in Exchange
  Online": `550 5.7.64 TenantAttribution; Relay Access Denied`.
- Hybrid Configuration Wizard log (SammyKrosoft/Hybrid-Config-Wiz-Checks): `New-InboundConnector
  ... -ConnectorType OnPremises -RequireTLS:$true -TLSSenderCertificateName 'mail.contoso.ca'`,
  the name of the hybrid certificate.
"#,
    check,
    organisation_needs: Some(needs),
};

/// What the comparison reads, when the inbound connectors were given: each one's
/// `ConnectorType`, an OnPremises connector's `TlsSenderCertificateName` (null is a connector
/// that attributes by address; absent is an export that left it out), and the send connectors.
fn needs(inventory: &Inventory, list: &mut Vec<NotJudged>) {
    if inventory.inbound_connectors.is_empty() {
        return;
    }
    for connector in &inventory.inbound_connectors {
        let absent = match connector.connector_type {
            None => Some("ConnectorType"),
            Some(TenantConnectorType::OnPremises)
                if connector.enabled != Some(false)
                    && connector.absent.contains(&"TlsSenderCertificateName") =>
            {
                Some("TlsSenderCertificateName")
            }
            _ => None,
        };
        if let Some(property) = absent {
            list.push(absent_property(
                &RULE,
                None,
                connector.name.clone(),
                property,
                &connector.source,
                Export::InboundConnectors,
            ));
        }
    }
    crate::diagnose::send_connector_export_missing(&RULE, inventory, list);
}

/// Compares the certificate each send connector to Exchange Online presents from `server` with
/// the `TlsSenderCertificateName` of the OnPremises inbound connectors; `names` are the hybrid
/// names, to tell a certificate that should change from a connector value that should.
fn check(context: &Context, findings: &mut Findings) {
    let (inventory, server, store) = (context.inventory, context.server, &context.store);
    let (names, now) = (context.names, context.now);
    // Without the server's certificates (HT017) there is nothing presented to compare.
    if store.is_empty() {
        return;
    }
    let inbound: Vec<(&InboundConnector, &str)> = inventory
        .inbound_connectors
        .iter()
        .filter_map(|c| c.attributing_name().map(|name| (c, name)))
        .collect();
    if inbound.is_empty() {
        return;
    }
    for connector in sourced_send_connectors(inventory, server) {
        // What the connector presents: the certificate its TlsCertificateName names, or with it
        // null the one Exchange finds by the connector's Fqdn (see HT015).
        let (field, value) = match (&connector.tls_certificate_name, &connector.fqdn) {
            (Some(name), _) => ("TlsCertificateName", name.to_string()),
            (None, Some(fqdn)) => ("Fqdn", fqdn.clone()),
            (None, None) => continue,
        };
        let presented = send_certificates(connector, store, now);
        // No usable certificate is HT015's finding; of several, Exchange presents one of them.
        let Some(certificate) = presented.first().copied() else {
            continue;
        };
        // Matched under both readings of what Exchange Online compares (see `readings`).
        let accepted = |certificate: &Certificate| {
            let (cn, san) = readings(certificate);
            inbound.iter().any(|(_, pattern)| {
                let matches = |names: &[String]| {
                    names
                        .iter()
                        .any(|name| exo_domain_matches(pattern, name, Apex::Included))
                };
                matches(&cn) && matches(&san)
            })
        };
        if presented.iter().any(|c| accepted(c)) {
            continue;
        }
        let patterns: Vec<String> = inbound
            .iter()
            .map(|(c, p)| format!("{:?} on {:?}", p, c.name))
            .collect();
        let mut evidence = vec![
            Evidence {
                file: connector.source.file.clone(),
                position: connector.source.position.clone(),
                field: field.to_owned(),
                value,
            },
            certificate_evidence(certificate, "CertificateDomains", certificate.names.join(", ")),
        ];
        evidence.extend(inbound.iter().map(|(c, pattern)| Evidence {
            file: c.source.file.clone(),
            position: c.source.position.clone(),
            field: "TlsSenderCertificateName".to_owned(),
            value: (*pattern).to_owned(),
        }));
        let message = format!(
            "the send connector {:?} presents {} from {} (names {}), which matches no TlsSenderCertificateName of the Exchange Online OnPremises inbound connectors ({}) by both its subject CN and its SAN names (Microsoft's texts disagree on which Exchange Online compares): Exchange Online cannot attribute the mail to the tenant (550 5.7.64 TenantAttribution, 550 5.7.51 TenantInboundAttribution)",
            connector.name,
            certificate.thumbprint,
            server.name,
            certificate.names.join(", "),
            patterns.join(", ")
        );
        findings.push(
            inbound[0].0.name.clone(),
            message,
            evidence,
            remedy(certificate, &inbound, names, now, context.ecdsa_refusal.as_deref()),
        );
    }
}

/// The names Exchange Online may compare `TlsSenderCertificateName` with, under each reading of
/// Microsoft's texts, which disagree: the subject CN (Set-InboundConnector: "the certificate's
/// Subject") or the SAN DNS names ("Certificate requirements for hybrid deployments" and the
/// 2025 Exchange Team blog speak of the names in the certificate). A match must hold under both.
/// Without the DER (`RawData`) the SAN is not told from the CN: Exchange's CertificateDomains
/// then stands for it.
fn readings(certificate: &Certificate) -> (Vec<String>, Vec<String>) {
    let cn: Vec<String> = common_name(&certificate.subject).into_iter().collect();
    let san = certificate
        .facts
        .as_ref()
        .map_or_else(|| certificate.names.clone(), |facts| facts.dns_names.clone());
    (cn, san)
}

fn remedy(
    certificate: &Certificate,
    inbound: &[(&InboundConnector, &str)],
    names: &[String],
    now: OffsetDateTime,
    ecdsa: Option<&str>,
) -> Remedy {
    // Without hybrid names (HT007) the certificate is still judged on everything else.
    let reasons = disqualifications(certificate, names, now, ecdsa);
    // The certificate's subject CN, as the Hybrid Configuration Wizard sets it, and only when the
    // SAN holds it too: then the value matches under both readings. Otherwise no value does.
    let (cn, san) = readings(certificate);
    let value = cn
        .into_iter()
        .find(|cn| san.iter().any(|n| n.eq_ignore_ascii_case(cn)));
    match (reasons.is_empty(), inbound, value) {
        (true, [(connector, _)], Some(value)) => Remedy::Manual {
            instruction: format!(
                "in Exchange Online PowerShell (Connect-ExchangeOnline), set the inbound connector's TlsSenderCertificateName to the name of the certificate {} that the send connector presents, with the command below; a name that is not a wildcard must belong to one of the tenant's accepted domains",
                certificate.thumbprint
            ),
            command: Some(ManualCommand {
                cmdlet: "Set-InboundConnector",
                switches: Vec::new(),
                parameters: vec![
                    ("Identity", connector.name.clone()),
                    ("TlsSenderCertificateName", value),
                ],
            }),
        },
        (true, _, None) => Remedy::manual(format!(
            "a person must decide: Microsoft's texts disagree on whether Exchange Online compares TlsSenderCertificateName with the certificate's subject CN or with its SAN names, and the certificate {} has no name that is both (subject {:?}, SAN {}); a certificate whose subject CN is also in its SAN is right under both readings",
            certificate.thumbprint,
            certificate.subject,
            readings(certificate).1.join(", ")
        )),
        (true, _, _) => Remedy::manual(format!(
            "a person must decide which Exchange Online OnPremises inbound connector attributes this server's mail ({}), and set its TlsSenderCertificateName to a name of the certificate {} ({}) with Set-InboundConnector in Exchange Online PowerShell",
            inbound.iter().map(|(c, _)| c.name.as_str()).collect::<Vec<_>>().join(", "),
            certificate.thumbprint,
            certificate.names.join(", ")
        )),
        (false, _, _) => Remedy::manual(format!(
            "a person must decide: the send connector presents {}, which {}; point the send connector's TlsCertificateName at the hybrid certificate (or re-run the Hybrid Configuration Wizard) rather than changing the inbound connector in Exchange Online to match this certificate",
            certificate.thumbprint,
            reasons.join(", ")
        )),
    }
}
