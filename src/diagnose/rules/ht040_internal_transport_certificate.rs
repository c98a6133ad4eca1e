//! HT040 `internal-transport-certificate`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::needs::{record_or_export, Export};
use crate::diagnose::{certificate_evidence, date, Evidence, Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT040",
    name: "internal-transport-certificate",
    title: "The internal transport certificate is missing or expired",
    severity: Severity::Error,
    documentation: r#"## What it means
`Get-TransportService` names no `InternalTransportCertificateThumbprint` for the server, names a
certificate the server does not have, or names one that has expired. The internal transport
certificate is the self-signed certificate Exchange setup creates for each server (its NetBIOS
name and FQDN); Exchange uses it for TLS between its own transport services.

## Why it breaks mail flow
Mailbox-to-Mailbox and Front End-to-Back End SMTP and, on an Edge Transport server, Edge-to-Mailbox
SMTP (EdgeSync's subscription holds this certificate) are authenticated with it. Without a valid
one those connections fail, and hybrid mail that passes through them stops with them, whatever the
hybrid certificate does.

## Symptoms
Events 12012 (the thumbprint is missing from Active Directory), 12013 (the certificate cannot be
loaded from the personal store), 12015 (it has expired) and 12024 (transport fell back to an
ephemeral certificate) from MSExchangeTransport / MSExchangeFrontEndTransport; mail queued between
Exchange servers or from the Edge. With the event log exported (`exchange-events.json`), these
events are shown in this rule's finding (HT056).

## Detection
`InternalTransportCertificateThumbprint` from `Get-TransportService` (`hybridtls collect` writes
`transport-services.json`) is looked up in the server's certificates and its `NotAfter` compared
with `--now`, as HealthChecker's internal transport certificate check does. Without that export
the check is listed as not checked.

## Fix
None automatic. Create a new self-signed certificate on the server in an elevated Exchange
Management Shell, as HealthChecker documents (`New-ExchangeCertificate -Server $env:COMPUTERNAME
-KeySize 2048 -PrivateKeyExportable $true -FriendlyName $env:COMPUTERNAME -DomainName
$env:COMPUTERNAME -IncludeServerFQDN -Services SMTP -Force`), which becomes the internal
transport certificate; restart the transport services. On an Edge Transport server re-create the
Edge subscription afterwards.

## When to fix by hand
Always. hybridtls never replaces the internal transport certificate, and a renewal of the hybrid
certificate must not either: answer No when `Enable-ExchangeCertificate -Services SMTP` asks to
overwrite the default SMTP certificate (KB 2989382), and no removal hybridtls plans targets it.

## Sources
- CSS-Exchange HealthChecker, `Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecurityExchangeCertificates.ps1`
  ("No Internal Transport Certificate found", "Internal Transport Certificate has expired") and
  `docs/Diagnostics/HealthChecker/InternalTransportCertificateCheck.md` (read from
  `Get-TransportService`; the command that creates a new one; "We recommend to not replace the
  self-signed certificate which was created by Exchange itself").
- Microsoft support KB 2989382: select No when asked to overwrite the default SMTP certificate,
  "Otherwise, EdgeSync breaks and has to be re-created".
- Exchange Team blog, "TLS certificates in Exchange hybrid: common issues and how to fix them"
  (June 2025): keep the self-signed certificate as `InternalTransportCertificateThumbprint`.
"#,
    check,
    organisation_needs: None,
};

/// The server's internal transport certificate exists and is valid at `--now`.
fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    let Some(service) = context.inventory.transport_service(server) else {
        findings.not_judged(
            server.clone(),
            record_or_export(context.inventory, Export::TransportServices, server),
        );
        return;
    };
    let named = Evidence {
        file: service.source.file.clone(),
        position: service.source.position.clone(),
        field: "InternalTransportCertificateThumbprint".to_owned(),
        value: service
            .internal_certificate_thumbprint
            .clone()
            .unwrap_or_else(|| "null".to_owned()),
    };
    let remedy = || {
        Remedy::manual(format!(
            "create a new internal transport certificate on {server} in an elevated Exchange Management Shell (New-ExchangeCertificate -Server {server} -KeySize 2048 -PrivateKeyExportable $true -DomainName {server} -IncludeServerFQDN -Services SMTP -Force), restart the transport services, re-create the Edge subscription when {server} is an Edge Transport server, export again and plan again"
        ))
    };
    let Some(thumbprint) = &service.internal_certificate_thumbprint else {
        findings.push(
            server.clone(),
            format!("Get-TransportService names no internal transport certificate for {server}: TLS between its transport services and with the other Exchange servers fails (events 12012, 12024)"),
            vec![named],
            remedy(),
        );
        return;
    };
    // Without the server's certificates (HT017) the thumbprint cannot be looked up.
    if context.store.is_empty() {
        return;
    }
    let installed = context
        .store
        .iter()
        .find(|c| c.thumbprint.eq_ignore_ascii_case(thumbprint));
    match installed {
        None => findings.push(
            thumbprint.clone(),
            format!("the internal transport certificate {thumbprint} that Get-TransportService names for {server} is not among its certificates: TLS between its transport services fails (events 12013, 12024)"),
            vec![named],
            remedy(),
        ),
        Some(certificate) if context.now > certificate.not_after => findings.push(
            thumbprint.clone(),
            format!(
                "the internal transport certificate {thumbprint} of {server} expired on {}: TLS between its transport services fails (events 12015, 12024)",
                date(certificate.not_after)
            ),
            vec![named, certificate_evidence(certificate, "NotAfter", date(certificate.not_after))],
            remedy(),
        ),
        Some(_) => {}
    }
}
