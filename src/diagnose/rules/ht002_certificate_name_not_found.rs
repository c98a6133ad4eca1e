//! HT002 `certificate-name-not-found`: the rule's documentation, metadata and check, which
//! reports its fault of the judgement of a hybrid connector (`diagnose::connector`).

use super::{Rule, Severity};
use crate::diagnose::connector::{Fault, Verdict};
use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, date, disqualifications, name_evidence, Findings};

pub const RULE: Rule = Rule {
    code: "HT002",
    name: "certificate-name-not-found",
    title: "TlsCertificateName names a certificate that is not installed or not valid",
    severity: Severity::Error,
    documentation: r#"## What it means
`TlsCertificateName` on the connector names an issuer and subject for which
`Cert:\LocalMachine\My` holds no currently valid certificate. Typically the certificate was renewed
(often from a new intermediate, so the issuer changed) and the old one removed, but the connector
still names the old one. A certificate that is installed but whose `Status` Exchange reports as
not Valid is not selected either, and each status is its own fault: RevocationCheckFailure (6)
means the server could not reach the CRL/OCSP endpoints, Revoked (2) that the CA revoked it,
Untrusted (4) that its chain does not reach a trusted root, Invalid (5) another fault of the
certificate, DateInvalid (3) that it is outside its validity period.

## Why it breaks mail flow
Exchange looks up the named certificate when a session starts. When none is found it cannot offer
STARTTLS at all, and Exchange Online requires TLS for hybrid mail.

## Symptoms
- Event 12014 (MSExchangeFrontEndTransport): "Microsoft Exchange could not find a certificate that
  contains the domain name <I>...<S>... in the personal store on the local computer".
- `telnet <server> 25`, `EHLO`: no `STARTTLS` in the answer.
- Exchange Online: `451 5.7.3 STARTTLS is required to send mail`, wrapped in
  `450 4.4.101 Proxy session setup failed on Frontend` or `450 4.4.317`.
- For a send connector: `454 4.7.5 The certificate specified in TlsCertificateName of the
  SendConnector could not be found`.

## Detection
The connector's issuer and subject are compared, as normalised distinguished names (case and
spacing ignored, RDN order significant), with every certificate exported from the server, and
validity is checked at the evaluation time (`--now`).

## Fix
Point `TlsCertificateName` at the installed certificate that qualifies for hybrid (private key,
valid, CA-issued, covers the hybrid FQDN), then restart the transport service.

With `Status` RevocationCheckFailure the fix is reachability, not a certificate: the WinHTTP
proxy (`netsh winhttp show proxy`), Exchange's own proxy (`Set-ExchangeServer -InternetWebProxy`)
and the firewall must let the server reach the CA's CRL and OCSP endpoints; neither a new
certificate nor another `TlsCertificateName` helps.

## When to fix by hand
When the intended certificate is not installed yet: install it with its private key, enable it
for SMTP (answer **No** to replacing the default certificate), and plan again. Always for
RevocationCheckFailure (reachability is outside Exchange) and for a revoked or untrusted
certificate.

## Sources
- Microsoft support KB 2989382, "Can't receive mail in a hybrid environment after you install a new
  certificate": event 12014, no STARTTLS, `451 5.7.3 STARTTLS is required to send mail`.
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019, SE; 2025): no
  eligible certificate means no STARTTLS and event 12014.
- Exchange Team blog, "TLS certificates in Exchange hybrid: common issues and how to fix them"
  (June 2025, Tech Community 4420592): a certificate whose revocation status cannot be checked is
  not selected (event 12014); the server needs access to the CRL/OCSP endpoints.
- Microsoft Learn, Set-ExchangeServer, `-InternetWebProxy`: the proxy Exchange uses to reach the
  internet; Get-ExchangeCertificate, `Status`; the values from the decompiled `CertificateStatus`
  enum (exchange-formats.md §1.4).
"#,
    check,
    organisation_needs: None,
};

/// A hybrid connector's TlsCertificateName names no valid certificate of the server.
fn check(context: &Context, findings: &mut Findings) {
    for judgement in &context.judgements {
        let Verdict::Wrong {
            fault: Fault::NameNotFound { invalid },
            fix,
            ..
        } = &judgement.verdict
        else {
            continue;
        };
        let identity = judgement.connector.identity();
        let mut evidence = vec![name_evidence(judgement.connector)];
        let detail = if invalid.is_empty() {
            format!(
                "no certificate with that issuer and subject is among the {} certificates exported from {}",
                context.store.len(),
                context.server.name
            )
        } else {
            let mut why = Vec::new();
            for c in invalid {
                evidence.push(certificate_evidence(c, "NotAfter", date(c.not_after)));
                if let Some(status) = c.status.filter(|s| *s != crate::model::STATUS_VALID) {
                    evidence.push(certificate_evidence(c, "Status", status.to_string()));
                }
                // Each match's own fault: expiry, or the Status Exchange reports, which need
                // different fixes (a revocation check that fails needs reachability).
                why.push(format!(
                    "{} {}",
                    c.thumbprint,
                    disqualifications(c, &[], context.now, context.ecdsa_refusal.as_deref()).join(", ")
                ));
            }
            format!(
                "the matching certificates are not valid at {}: {}",
                date(context.now),
                why.join("; ")
            )
        };
        findings.push(
            identity.clone(),
            format!("TlsCertificateName of {identity} names a certificate Exchange cannot use: {detail}"),
            evidence,
            fix.clone(),
        );
    }
}
