//! HT020 `certificate-not-enabled-for-smtp`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::{certificate_evidence, Findings, ManualCommand, Remedy};
use crate::model::{Certificate, Services};

pub const RULE: Rule = Rule {
    code: "HT020",
    name: "certificate-not-enabled-for-smtp",
    title: "The certificate a hybrid connector uses is not enabled for SMTP",
    severity: Severity::Error,
    documentation: r#"## What it means
The certificate a hybrid receive connector presents today, or the one the plan points it at, is
not enabled for the SMTP service in Exchange (`Get-ExchangeCertificate` `Services` lacks
`SMTP`, for example a certificate imported for IIS only).

## Why it matters
A certificate found by TlsCertificateName or by FQDN that is not enabled for SMTP is still
chosen, "but TLS communication will fail at later stage": STARTTLS is offered and the handshake
fails, so Exchange Online defers with `451 4.4.0 ... 421 4.4.1 Connection timed out` and the
SmtpSend/SmtpReceive logs show `TLS negotiation failed with error UnknownCredentials`. The
Hybrid Configuration Wizard reports the same certificate as "not bound to the SMTP Service".

## Symptoms
- `TLS negotiation failed with error UnknownCredentials` in the protocol log.
- Queue: `451 4.4.0 Primary target IP address responded with: "421 4.4.1 Connection timed out"`.
- HCW: the certificate is not bound to the SMTP service.

## Detection
Each certificate a hybrid receive connector presents today, and each the plan makes it present,
is looked up in `Get-ExchangeCertificate`: its `Services` flags must include SMTP (16). When the
export lacks `Services` the check is listed as not judged.

## Fix
Manual, first: `Enable-ExchangeCertificate -Thumbprint <T> -Services SMTP`, and answer **No** to
"Overwrite the existing default SMTP certificate?". Then export again and plan again. Until then
the plan does not script a connector change to that certificate (it shows it as a manual
command), and a remediation script's preflight refuses such a certificate.

## When to fix by hand
Always. `Enable-ExchangeCertificate -Services SMTP` asks whether to replace the default SMTP
certificate, which internal transport between Exchange servers and EdgeSync use; KB 2989382
says to answer No. Run unattended it either stops at that question or, with `-Force`, answers
Yes and replaces the certificate internal transport uses, so hybridtls never scripts it.

## Sources
- Microsoft Learn, "Certificate selection for inbound STARTTLS" (Exchange Server transport
  certificate selection): a certificate not enabled for SMTP is still selected and TLS fails
  later.
- KB 4051498 (TLS negotiation failed with error UnknownCredentials); KB 3058190 (HCW: the
  certificate is not bound to the SMTP service).
- KB 2989382 (answer No to replacing the default SMTP certificate; a replaced internal
  transport certificate breaks EdgeSync); Microsoft Learn, Enable-ExchangeCertificate (`-Force`
  suppresses the confirmation prompts).
"#,
    check,
    organisation_needs: None,
};

/// Whether a connector presents the certificate now or once the plan is carried out.
enum When {
    Today,
    AfterThePlan,
}

/// The certificates a hybrid receive connector presents today or once the plan is carried out,
/// each once, in that order, with the connector that presents it.
fn judged_certificates<'a>(context: &Context<'_, 'a>) -> Vec<(&'a Certificate, String, When)> {
    let mut out: Vec<(&Certificate, String, When)> = Vec::new();
    for report in context.hybrid_reports() {
        if let Some(certificate) = report.selection.effective() {
            if !out.iter().any(|(c, _, _)| c.thumbprint == certificate.thumbprint) {
                out.push((certificate, report.connector.identity(), When::Today));
            }
        }
    }
    for (certificate, _) in &context.intended {
        if !out.iter().any(|(c, _, _)| c.thumbprint == certificate.thumbprint) {
            let connector = context
                .hybrid_reports()
                .next()
                .map(|report| report.connector.identity())
                .unwrap_or_default();
            out.push((certificate, connector, When::AfterThePlan));
        }
    }
    out
}

fn check(context: &Context, findings: &mut Findings) {
    for (certificate, connector, when) in judged_certificates(context) {
        let Some(services) = certificate.services else {
            findings.not_judged(
                certificate.thumbprint.clone(),
                Missing::Property {
                    property: "Services",
                    source: certificate.source.clone(),
                    export: Export::ExchangeCertificates,
                },
            );
            continue;
        };
        if services.contains(Services::SMTP) {
            continue;
        }
        let names: Vec<&str> = Services::NAMES
            .iter()
            .filter(|(_, bit)| *bit != 0 && services.contains(Services::from_bits(*bit)))
            .map(|(name, _)| *name)
            .collect();
        let names = if names.is_empty() {
            "None".to_owned()
        } else {
            names.join(", ")
        };
        findings.push(
            certificate.thumbprint.clone(),
            format!(
                "{connector} {} {} ({}){}, which is not enabled for SMTP (Services: {names}): Exchange selects it and TLS fails (UnknownCredentials)",
                match when {
                    When::Today => "presents",
                    When::AfterThePlan => "is to present",
                },
                certificate.thumbprint,
                certificate.subject,
                match when {
                    When::Today => "",
                    When::AfterThePlan => " once the plan is carried out",
                }
            ),
            vec![certificate_evidence(certificate, "Services", names)],
            Remedy::Manual {
                instruction: format!(
                    "first, enable {} for SMTP with the command below and answer No to \"Overwrite the existing default SMTP certificate?\" (internal transport and EdgeSync use it, KB 2989382; not scripted because the cmdlet asks, and -Force would answer Yes), then export again and plan again",
                    certificate.thumbprint
                ),
                command: Some(ManualCommand {
                    cmdlet: "Enable-ExchangeCertificate",
                    switches: Vec::new(),
                    parameters: vec![
                        ("Thumbprint", certificate.thumbprint.clone()),
                        ("Services", "SMTP".to_owned()),
                    ],
                }),
            },
        );
    }
}
