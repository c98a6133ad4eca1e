//! HT031 `outbound-connector-tls-domain-mismatch`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, NotJudged};
use crate::diagnose::{
    absent_property, certificate_evidence, disqualifications, Evidence, Findings, ManualCommand, Remedy,
};
use crate::model::{
    exo_domain_matches, Apex, Certificate, Inventory, TenantConnectorType, TlsAuthLevel,
};

pub const RULE: Rule = Rule {
    code: "HT031",
    name: "outbound-connector-tls-domain-mismatch",
    title: "The hybrid receive connector's certificate does not match the TlsDomain of the Exchange Online outbound connector",
    severity: Severity::Error,
    documentation: r#"## What it means
Exchange Online has an enabled outbound connector of `ConnectorType` OnPremises with
`TlsSettings` DomainValidation (the Hybrid Configuration Wizard creates one, "Outbound to
<GUID>"), but no name of the certificate this server's hybrid receive connectors present (once
the plan is carried out) matches its `TlsDomain`.

## Why it breaks mail flow
With DomainValidation the outbound connector "verifies that the FQDN of the target certificate
matches the domain specified in the TlsDomain parameter". A certificate that does not match
makes Exchange Online defer every message to on-premises, and return it after a day.

## Symptoms
- `450 4.7.320 Certificate validation failed; MSG=SubjectMismatch` (also written
  `[Message=SubjectMismatch]`) in the Exchange Online message trace, with the on-premises host in
  `LastAttemptedServerName`.
- `4.4.7 Message expired` after the retries.

## Detection
Runs only when a `Get-OutboundConnector` export (Exchange Online PowerShell) is given. A
connector exported without `ConnectorType`, an enabled OnPremises one without `TlsSettings`, or
one with DomainValidation without `TlsDomain` is listed as not judged with its file, never as
matching. The
`TlsDomain` of every enabled OnPremises outbound connector with `TlsSettings` DomainValidation
(number 4 or the name) is compared with the names (CN and SAN DNS names) of the certificates
the hybrid receive connectors of this server are meant to present: the one they present now when
it is right, or the one the plan points them at. A wildcard `TlsDomain` `*.contoso.com` is legal
and stands for "all subdomains of a domain" (Set-OutboundConnector), so `*.contoso.com`,
`mail.contoso.com` and `a.b.contoso.com` match it and `contoso.com` does not. A plain
`TlsDomain` matches the same name, and also a single-label wildcard certificate, which is what
TLS name matching does but which Microsoft Learn does not say for this parameter. When hybridtls cannot tell which certificate the connectors should
present (HT004, HT005, HT007, HT017), this rule says nothing, and so does not call the Exchange
Online side right either.

The receive side's hybrid name comes from this `TlsDomain` first (it is what Exchange Online
validates when it delivers; the send connector's `Fqdn` is what on-premises presents when it
sends) whenever an exported certificate covers it: the receive connectors are then pointed at
that certificate and this rule has nothing to say. Only when no certificate covers `TlsDomain`
do the on-premises names decide, and this rule gives both readings: `TlsDomain` is stale (set it),
or the certificate is the wrong one (install one covering `TlsDomain`).

With `TlsSettings` CertificateValidation Exchange Online validates the chain and the revocation of
the certificate, but no name: that is judged where the certificate qualifies (a public CA by
`RootCAType`, `Status` Valid, the chain, HT003, HT005, HT010, HT011), not by this rule, which
compares names under DomainValidation only.

## Fix
Manual, in Exchange Online PowerShell (`Connect-ExchangeOnline`), never in the on-premises
script: when the certificate on-premises is the right one, set the outbound connector's
`TlsDomain` to the hybrid name it covers,
`Set-OutboundConnector -Identity <name> -TlsDomain <hybrid name>` (hybridtls prints the command
with the values). When this server also has a certificate that does match `TlsDomain`, a person
must decide which is meant: keep `TlsDomain` and plan again with `--fqdn <TlsDomain>`, so that the
receive connectors are pointed at that certificate, or change `TlsDomain`.

## When to fix by hand
Always: the outbound connector is in Exchange Online.

## Sources
- Microsoft Learn, Set-OutboundConnector
  (learn.microsoft.com/powershell/module/exchangepowershell/set-outboundconnector):
  `-TlsSettings` DomainValidation "verifies that the FQDN of the target certificate matches the
  domain specified in the TlsDomain parameter"; `-TlsDomain` "Wildcards are supported to specify
  all subdomains of a domain (for example, *.contoso.com)"; `-ConnectorType` OnPremises.
- Microsoft Learn archive, Exchange Challenge Accepted blog, "Mail not routing to on-premise
  Exchange 2013 environment from O365 with 450 4.7.320 Certificate validation failed error"
  (2017): `{LED=450 4.7.320 Certificate validation failed};{MSG=SubjectMismatch}` when the
  on-premises connector presents a certificate without the TlsDomain name.
- Hybrid Configuration Wizard log (SammyKrosoft/Hybrid-Config-Wiz-Checks): `New-OutboundConnector
  ... -TLSSettings DomainValidation -TLSDomain 'mail.contoso.ca'`.
- Microsoft Learn, Set-OutboundConnector, `-TlsSettings` CertificateValidation: the chain and
  revocation of the target certificate are validated (no name).
- Decompiled Exchange `TlsAuthLevel` (EncryptionOnly 1, CertificateValidation 2,
  DomainValidation 4), the type of `TlsSettings` (exchange-formats.md §2).
"#,
    check,
    organisation_needs: Some(needs),
};

/// What the comparison reads of each outbound connector: `ConnectorType`, and of an enabled
/// OnPremises one `TlsSettings`, and with DomainValidation `TlsDomain` (Set-OutboundConnector
/// requires it then). One absent is a connector the check cannot judge.
fn needs(inventory: &Inventory, list: &mut Vec<NotJudged>) {
    for connector in &inventory.outbound_connectors {
        let on_premises = connector.connector_type == Some(TenantConnectorType::OnPremises)
            && connector.enabled != Some(false);
        let absent = match (connector.connector_type, connector.tls_settings) {
            (None, _) => Some("ConnectorType"),
            (_, None) if on_premises => Some("TlsSettings"),
            (_, Some(TlsAuthLevel::DomainValidation)) if on_premises && connector.tls_domain.is_none() => {
                Some("TlsDomain")
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
                Export::OutboundConnectors,
            ));
        }
    }
}

/// Compares the `TlsDomain` of the Exchange Online outbound connectors with the certificates
/// `intended` for the hybrid receive connectors of `server`, among `store`; `names` are the
/// hybrid names those certificates cover.
fn check(context: &Context, findings: &mut Findings) {
    let (inventory, server, store) = (context.inventory, context.server, &context.store);
    let (names, now) = (context.names, context.now);
    let intended: Vec<&Certificate> = context.intended.iter().map(|(c, _)| *c).collect();
    let matches = |certificate: &Certificate, domain: &str| {
        certificate
            .names
            .iter()
            .any(|name| exo_domain_matches(domain, name, Apex::Excluded))
    };
    // Intended certificates cover the hybrid names; without them there is nothing to judge.
    let Some(hybrid) = names.first() else {
        return;
    };
    for connector in &inventory.outbound_connectors {
        let Some(domain) = connector.validated_domain() else {
            continue;
        };
        for certificate in intended.iter().copied().filter(|c| !matches(c, domain)) {
            let mut evidence = vec![
                Evidence {
                    file: connector.source.file.clone(),
                    position: connector.source.position.clone(),
                    field: "TlsDomain".to_owned(),
                    value: domain.to_owned(),
                },
                certificate_evidence(certificate, "CertificateDomains", certificate.names.join(", ")),
            ];
            // Another certificate here that would satisfy both Exchange Online and the checks of
            // the hybrid certificate: then the on-premises choice may be the wrong one.
            let alternatives: Vec<&Certificate> = store
                .iter()
                .copied()
                .filter(|c| {
                    c.thumbprint != certificate.thumbprint
                        && matches(c, domain)
                        && disqualifications(c, &[], now, context.ecdsa_refusal.as_deref()).is_empty()
                })
                .collect();
            evidence.extend(
                alternatives
                    .iter()
                    .map(|c| certificate_evidence(c, "CertificateDomains", c.names.join(", "))),
            );
            let smart_hosts = if connector.smart_hosts.is_empty() {
                String::new()
            } else {
                format!(" (smart hosts {})", connector.smart_hosts.join(", "))
            };
            let message = format!(
                "the Exchange Online outbound connector {:?}{smart_hosts} validates the on-premises certificate against TlsDomain {domain}, but the hybrid receive connectors of {} present {} (names {}), which it does not match: Exchange Online defers its mail with 450 4.7.320 Certificate validation failed; MSG=SubjectMismatch",
                connector.name,
                server.name,
                certificate.thumbprint,
                certificate.names.join(", ")
            );
            let remedy = if alternatives.is_empty() {
                Remedy::Manual {
                    instruction: format!(
                        "if {} is the certificate Exchange Online should see, set the outbound connector's TlsDomain to the hybrid name {hybrid}, which it covers, in Exchange Online PowerShell (Connect-ExchangeOnline) with the command below; otherwise install a certificate covering {domain} and plan again with --fqdn {domain}",
                        certificate.thumbprint
                    ),
                    command: Some(ManualCommand {
                        cmdlet: "Set-OutboundConnector",
                        switches: Vec::new(),
                        parameters: vec![
                            ("Identity", connector.name.clone()),
                            ("TlsDomain", hybrid.clone()),
                        ],
                    }),
                }
            } else {
                Remedy::manual(format!(
                    "a person must decide which certificate Exchange Online should see: {} ({}) also matches TlsDomain {domain}; to keep TlsDomain, plan again with --fqdn {domain} so that the receive connectors are pointed at it; to keep {}, set TlsDomain with Set-OutboundConnector in Exchange Online PowerShell",
                    alternatives.iter().map(|c| c.thumbprint.as_str()).collect::<Vec<_>>().join(", "),
                    alternatives.iter().flat_map(|c| c.names.first()).cloned().collect::<Vec<_>>().join(", "),
                    certificate.thumbprint
                ))
            };
            findings.push(connector.name.clone(), message, evidence, remedy);
        }
    }
}
