//! HT041 `exchange-online-root-missing`: the rule's documentation, metadata and check, and the
//! decision it shares with HT042 (whether the server validates Exchange Online's certificate and
//! lacks its root).

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::{sourced_send_connectors, Evidence, Findings, Remedy};
use crate::model::{SendConnector, Store, TlsAuthLevel};

pub const RULE: Rule = Rule {
    code: "HT041",
    name: "exchange-online-root-missing",
    title: "DigiCert Global Root G2, Exchange Online's root, is not in the Root store",
    severity: Severity::Warning,
    documentation: r#"## What it means
The server validates the certificate Exchange Online presents (its send connector to Exchange
Online has `TlsAuthLevel` CertificateValidation or DomainValidation, or a receive connector's
`TlsDomainCapabilities` names Exchange Online's protection domain), and its
`Cert:\LocalMachine\Root` listing lacks DigiCert Global Root G2 (SHA-1 thumbprint
`DF3C24F9BFD666761B268073FE06D1CC8D4F82A4`), the root Exchange Online's TLS certificates chain to
since its move from DigiCert Global Root G1 (March 2026).

## Why it breaks mail flow
Windows fetches a trusted root it lacks through automatic root certificate updates when a chain
needs it, so the root may simply not have been needed yet: a warning. Where automatic root update
is off (HT042) or cannot reach Windows Update, the chain of Exchange Online's certificate ends in
an untrusted root, and TLS with Exchange Online fails in the directions that validate it.

## Symptoms
`TLS negotiation failed with error UntrustedRoot` in the SmtpSend protocol log, `450 4.4.317
Cannot connect to remote server` and queues to Exchange Online; receive connectors that no longer
recognise Exchange Online's mail (it is not treated as hybrid mail).

## Detection
The Root listing (`store-Root.json`) is searched for the thumbprint, on servers that validate
Exchange Online's certificate by the connector settings above (Exchange Online operated by 21Vianet
is left out: the change was announced for Worldwide, GCC, GCC High and DoD). Without the Root
listing the check is listed as not checked. Whether automatic root update is disabled is read
from `server.json` (`DisableRootAutoUpdate`, which `hybridtls collect` records); when it is,
HT042 reports instead.

## Fix
None automatic: roots are trust decisions. Check that automatic root certificate updates reach the
server (`certutil -verifyctl AuthRoot | findstr /i "lastsynctime"` shows a recent time), or
import DigiCert Global Root G2 into `Cert:\LocalMachine\Root` (from DigiCert or the Microsoft 365
root certificate bundle), and export again.

## When to fix by hand
Always.

## Sources
- Microsoft 365 message center MC1224565 and Exchange Team blog, "Trust DigiCert Global Root G2
  Certificate Authority to Avoid Exchange Online Email Disruption" (January 2026, updated February
  and March 2026): the thumbprint, the deadline (March 2026), and that Windows servers whose CTL
  updater was never disabled need no action.
- Microsoft support KB 3212877: CAPI2 `800B0109`, a chain that ends in a root that is not trusted.
"#,
    check,
    organisation_needs: None,
};

/// SHA-1 thumbprint of DigiCert Global Root G2.
pub(super) const DIGICERT_GLOBAL_ROOT_G2: &str = "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4";

/// Exchange Online operated by 21Vianet, where the change was not announced: its protection and
/// routing domains.
const OTHER_CHAIN: &[&str] = &["partner.outlook.cn", "partner.onmschina.cn"];

/// What makes the server validate Exchange Online's certificate, as evidence: the send connectors
/// to Exchange Online it sources that validate, and its receive connectors that match Exchange
/// Online's certificate by name. Empty when nothing does.
pub(super) fn validations(context: &Context) -> Vec<Evidence> {
    let mut evidence = Vec::new();
    let cn_cloud = |connector: &SendConnector| {
        connector
            .smart_hosts
            .iter()
            .chain(&connector.address_spaces)
            .any(|name| OTHER_CHAIN.iter().any(|d| name.to_ascii_lowercase().contains(d)))
    };
    for connector in sourced_send_connectors(context.inventory, context.server) {
        let level = match connector.tls_auth_level {
            Some(TlsAuthLevel::CertificateValidation) => "CertificateValidation",
            Some(TlsAuthLevel::DomainValidation) => "DomainValidation",
            _ => continue,
        };
        if !cn_cloud(connector) {
            evidence.push(Evidence {
                file: connector.source.file.clone(),
                position: connector.source.position.clone(),
                field: "TlsAuthLevel".to_owned(),
                value: level.to_owned(),
            });
        }
    }
    for report in &context.reports {
        let connector = report.connector;
        let capability = connector.tls_domain_capabilities.iter().find(|entry| {
            let domain = entry.split(':').next().unwrap_or_default().to_ascii_lowercase();
            crate::model::EXCHANGE_ONLINE_CLOUDS
                .iter()
                .any(|cloud| cloud.protection_domain == domain)
                && !OTHER_CHAIN.iter().any(|d| domain.ends_with(d))
        });
        if let Some(capability) = capability {
            evidence.push(Evidence {
                file: connector.source.file.clone(),
                position: connector.source.position.clone(),
                field: "TlsDomainCapabilities".to_owned(),
                value: capability.clone(),
            });
        }
    }
    evidence
}

/// What the server's Root listing says of DigiCert Global Root G2 when the server validates
/// Exchange Online's certificate: the evidence of that validation when the root is missing.
pub(super) enum RootCheck {
    /// Nothing validates Exchange Online's certificate here, or the root is listed.
    Fine,
    /// The Root listing was not given.
    NotListed,
    Missing(Vec<Evidence>),
}

pub(super) fn root_check(context: &Context) -> RootCheck {
    let validating = validations(context);
    let server = &context.server.name;
    if validating.is_empty() {
        return RootCheck::Fine;
    }
    if !context.inventory.store_listed(server, Store::Root) {
        return RootCheck::NotListed;
    }
    let listed = context.index.certificates(server).iter().any(|c| {
        c.store == Store::Root && c.thumbprint.eq_ignore_ascii_case(DIGICERT_GLOBAL_ROOT_G2)
    });
    if listed {
        RootCheck::Fine
    } else {
        RootCheck::Missing(validating)
    }
}

/// The message both rules give, with what they add.
pub(super) fn message(server: &str, evidence: &[Evidence], then: &str) -> String {
    let how: Vec<String> = evidence
        .iter()
        .map(|e| format!("{} {}", e.field, e.value))
        .collect();
    format!(
        "{server} validates Exchange Online's certificate ({}), and DigiCert Global Root G2 ({DIGICERT_GLOBAL_ROOT_G2}), the root that certificate chains to, is not in its Cert:\\LocalMachine\\Root; {then}",
        how.join(", ")
    )
}

pub(super) fn remedy(server: &str) -> Remedy {
    Remedy::manual(format!(
        "make sure automatic root certificate updates reach {server} (certutil -verifyctl AuthRoot | findstr /i \"lastsynctime\") or import DigiCert Global Root G2 ({DIGICERT_GLOBAL_ROOT_G2}) into Cert:\\LocalMachine\\Root; roots are never imported automatically"
    ))
}

/// DigiCert Global Root G2 is missing where Windows may still fetch it.
fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    let disabled = context.server_settings.and_then(|s| s.root_auto_update_disabled);
    match root_check(context) {
        RootCheck::Fine => {}
        RootCheck::NotListed => {
            findings.not_judged(server.clone(), Missing::Export(Export::StoreListing(Store::Root)))
        }
        RootCheck::Missing(_) if disabled == Some(true) => {}
        RootCheck::Missing(evidence) => {
            let then = match disabled {
                Some(false) => "automatic root update is on, so Windows may fetch it when Exchange Online's chain first needs it; where it cannot reach Windows Update, TLS with Exchange Online fails (UntrustedRoot)",
                _ => "whether automatic root update is disabled is not known (`hybridtls collect` records DisableRootAutoUpdate); where it is, or cannot reach Windows Update, TLS with Exchange Online fails (UntrustedRoot)",
            };
            findings.push(
                DIGICERT_GLOBAL_ROOT_G2.to_owned(),
                message(server, &evidence, then),
                evidence,
                remedy(server),
            );
        }
    }
}
