//! HT012 `certificate-expiring`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, date, renew, Findings};
use crate::model::Certificate;

pub const RULE: Rule = Rule {
    code: "HT012",
    name: "certificate-expiring",
    title: "The hybrid certificate expires within 60 days",
    severity: Severity::Warning,
    documentation: r#"## What it means
The certificate the hybrid connector presents expires within 60 days of the evaluation time.
The thresholds are HealthChecker's: a lifetime under 60 days is no longer green (yellow), under
30 days red; the message says which. For a short-lived certificate they scale to its lifetime: a
third of it left is the warning, a sixth the urgent one (a 90-day certificate warns 30 days
before it expires, a 47-day one 15 days before), as certbot renews with a third left.

## Why it matters
When it expires Exchange stops finding it (`validOnly`), STARTTLS disappears and hybrid mail stops.

## Symptoms
Event 12018 (STARTTLS certificate expires soon) now; after expiry event 12014/12016 and `451 5.7.3
STARTTLS is required to send mail`.

## Detection
`NotAfter` compared with `--now`; the lifetime is `NotAfter` minus `NotBefore`.

## Fix
Renew the certificate, install it with its private key on every hybrid server, and plan again:
hybridtls then plans the `TlsCertificateName` change.

## When to fix by hand
Always: hybridtls does not request certificates.

## Sources
- CSS-Exchange HealthChecker, `Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecurityExchangeCertificates.ps1`:
  `LifetimeInDays` of 60 or more is green, 30 or more yellow, less red.
- certbot (Let's Encrypt's ACME client) renews 30 days before a 90-day certificate expires by
  default (`renew_before_expiry`), a third of its lifetime; CA/Browser Forum Ballot SC-081v3:
  public lifetimes of 200, 100 and 47 days (see HT044).
- Microsoft Learn, "Selection of inbound STARTTLS certificates": an expired certificate found by
  `TlsCertificateName` is not selected (event 12014); one found by the FQDN search logs 12016.
"#,
    check,
    organisation_needs: None,
};

/// Below this many days of lifetime left HealthChecker shows a certificate yellow.
const WARNING_DAYS: i64 = 60;
/// Below this many days HealthChecker shows it red.
const URGENT_DAYS: i64 = 30;

/// The certificate hybrid mail will present expires within 60 days of the evaluation time, or
/// within a third of its lifetime when that is shorter.
fn check(context: &Context, findings: &mut Findings) {
    for (certificate, _) in &context.intended {
        check_certificate(certificate, context.now, findings);
    }
}

fn check_certificate(certificate: &Certificate, now: OffsetDateTime, findings: &mut Findings) {
    let days_left = (certificate.not_after - now).whole_days();
    let lifetime = (certificate.not_after - certificate.not_before).whole_days();
    let (warning, urgent) = (WARNING_DAYS.min(lifetime / 3), URGENT_DAYS.min(lifetime / 6));
    if !(0..warning).contains(&days_left) {
        return;
    }
    let urgency = if days_left < urgent {
        format!("under {urgent} days: renew now")
    } else {
        format!("under {warning} days: plan the renewal")
    };
    findings.push(
        certificate.thumbprint.clone(),
        format!(
            "{} expires on {} ({days_left} days after the evaluation time, {urgency})",
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
