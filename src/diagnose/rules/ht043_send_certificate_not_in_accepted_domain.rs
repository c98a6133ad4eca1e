//! HT043 `send-certificate-not-in-accepted-domain`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing, NotJudged};
use crate::diagnose::select::send_certificates;
use crate::diagnose::{certificate_evidence, sourced_send_connectors, Evidence, Findings, Remedy};
use crate::model::{common_name, Inventory};

pub const RULE: Rule = Rule {
    code: "HT043",
    name: "send-certificate-not-in-accepted-domain",
    title: "The certificate sent to Exchange Online is not for an accepted domain of the tenant",
    severity: Severity::Error,
    documentation: r#"## What it means
The certificate the send connector to Exchange Online presents has a subject CN that is neither
an accepted domain of the Exchange Online tenant nor a subdomain of one (`Get-AcceptedDomain` in
Exchange Online PowerShell).

## Why it breaks mail flow
Exchange Online attributes mail from on-premises to the tenant by that certificate: an OnPremises
inbound connector's `TlsSenderCertificateName` must name a domain the tenant has validated. With a
certificate for another domain, on-premises cannot send on behalf of the tenant's domains, and
mail relayed through Exchange Online is refused.

## Symptoms
`550 5.7.64 TenantAttribution; Relay Access Denied ATTR36` in NDRs and queues to Exchange Online;
the Hybrid Configuration Wizard warns about the certificate's subject name when it creates the
connectors.

## Detection
The subject CN of the certificate each send connector to Exchange Online presents from the server
(as HT015 and HT030 find it) is compared with the `DomainName` of every accepted domain: equal, or
below it (`mail.contoso.com` under `contoso.com`); a wildcard CN `*.contoso.com` stands for
`contoso.com`. Without the `Get-AcceptedDomain` export nothing is said; when Exchange Online's
connectors were exported but not the accepted domains, the check is listed as not checked.

## Fix
None automatic: add and verify the domain in the Microsoft 365 tenant (it then becomes an accepted
domain), or present a certificate whose subject is in an accepted domain, and run the Hybrid
Configuration Wizard again.

## When to fix by hand
Always: accepted domains belong to Exchange Online and to the domain's DNS.

## Sources
- Microsoft support KB 4019940, "550 5.7.64 Relay Access Denied ATTR36": the certificate used
  on-premises has a subject name that does not match any accepted domain in the Microsoft 365
  tenant, so on-premises cannot send on behalf of the domain.
- Exchange Team blog, "TLS certificates in Exchange hybrid: common issues and how to fix them"
  (June 2025): a `TlsSenderCertificateName` that is not a wildcard must be an accepted domain.
"#,
    check,
    organisation_needs: Some(needs),
};

/// The accepted domains come from Exchange Online PowerShell, as the connectors HT030 and HT031
/// compare do: without any Exchange Online export nothing about Exchange Online is said; with
/// the connectors but without the accepted domains, the check did not run.
fn needs(inventory: &Inventory, list: &mut Vec<NotJudged>) {
    let exchange_online_exported =
        !inventory.inbound_connectors.is_empty() || !inventory.outbound_connectors.is_empty();
    if exchange_online_exported && inventory.accepted_domains.is_empty() {
        list.push(NotJudged {
            rule: &RULE,
            server: None,
            object: "the send connector to Exchange Online".to_owned(),
            missing: Missing::Export(Export::AcceptedDomains),
        });
    }
}

/// Whether `name` is `domain` or below it (both lowercase already).
fn within(name: &str, domain: &str) -> bool {
    name == domain || crate::model::strictly_below(name, domain)
}

fn check(context: &Context, findings: &mut Findings) {
    let (inventory, server) = (context.inventory, context.server);
    let accepted = &inventory.accepted_domains;
    if accepted.is_empty() || context.store.is_empty() {
        return;
    }
    for connector in sourced_send_connectors(inventory, server) {
        // No usable certificate is HT015's finding; of several, Exchange presents one of them.
        let presented = send_certificates(connector, &context.store, context.now);
        let Some(certificate) = presented.first().copied() else {
            continue;
        };
        let Some(cn) = common_name(&certificate.subject) else {
            continue;
        };
        let base = cn.trim_start_matches("*.").trim_end_matches('.').to_ascii_lowercase();
        if accepted.iter().any(|domain| within(&base, &domain.domain)) {
            continue;
        }
        let domains: Vec<&str> = accepted.iter().map(|d| d.domain.as_str()).collect();
        let mut evidence = vec![certificate_evidence(certificate, "Subject", certificate.subject.clone())];
        evidence.extend(accepted.iter().map(|domain| Evidence {
            file: domain.source.file.clone(),
            position: domain.source.position.clone(),
            field: "DomainName".to_owned(),
            value: domain.domain.clone(),
        }));
        findings.push(
            connector.name.clone(),
            format!(
                "the send connector {:?} presents {} from {} with the subject CN {cn}, which is neither an accepted domain of the Exchange Online tenant nor below one ({}): Exchange Online refuses what on-premises sends on the tenant's behalf (550 5.7.64 Relay Access Denied ATTR36)",
                connector.name,
                certificate.thumbprint,
                server.name,
                domains.join(", ")
            ),
            evidence,
            Remedy::manual(format!(
                "add and verify the domain of {cn} in the Microsoft 365 tenant, or present a certificate whose subject is in an accepted domain ({}) and run the Hybrid Configuration Wizard again",
                domains.join(", ")
            )),
        );
    }
}
