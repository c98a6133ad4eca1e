//! HT012 `certificate-expiring`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::{certificate_evidence, date, renew, Findings};
use crate::model::Certificate;

pub const RULE: Rule = Rule {
    code: "HT012",
    name: "certificate-expiring",
    title: "The hybrid certificate expires within 30 days",
    severity: Severity::Warning,
    documentation: r#"## What it means
The certificate the hybrid connector presents expires within 30 days of the evaluation time.

## Why it matters
When it expires Exchange stops finding it (`validOnly`), STARTTLS disappears and hybrid mail stops.

## Symptoms
Event 12018 (STARTTLS certificate expires soon) now; after expiry event 12014/12016 and `451 5.7.3
STARTTLS is required to send mail`.

## Detection
`NotAfter` compared with `--now`.

## Fix
Renew the certificate, install it with its private key on every hybrid server, and plan again:
hybridtls then plans the `TlsCertificateName` change.

## When to fix by hand
Always: hybridtls does not request certificates.
"#,
};

/// The certificate hybrid mail will present expires within 30 days of the evaluation time.
pub(in crate::diagnose) fn check(certificate: &Certificate, now: OffsetDateTime, findings: &mut Findings) {
    let days_left = (certificate.not_after - now).whole_days();
    if !(0..=30).contains(&days_left) {
        return;
    }
    findings.push(
        &RULE,
        certificate.thumbprint.clone(),
        format!(
            "{} expires on {} ({days_left} days after the evaluation time)",
            certificate.thumbprint,
            date(certificate.not_after)
        ),
        vec![certificate_evidence(
            certificate,
            "NotAfter",
            date(certificate.not_after),
        )],
        renew(certificate),
    );
}
