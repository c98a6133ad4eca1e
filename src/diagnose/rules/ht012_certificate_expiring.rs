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
30 days red; the message says which. `--expiry-warning-days N` (or `expiry-warning-days` in
`hybridtls.toml`) moves the first one. For a short-lived certificate they scale to its lifetime:
a third of it left is the warning, a sixth the urgent one (a 90-day certificate warns 30 days
before it expires, a 47-day one 15 days before), as certbot renews with a third left.

## Why it matters
When it expires Exchange Online refuses it. What Exchange itself does then depends on the source
and the release, and the sources disagree:
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019 and SE,
  2025): an expired certificate matched by `TlsCertificateName` or by FQDN is still selected; the
  server logs event 12016 and still offers STARTTLS, with the expired certificate.
- Decompiled Exchange 2013 code (exchange-formats.md §3.2): a named lookup keeps valid certificates
  only (`validOnly`), so an expired named certificate is not found, STARTTLS is not offered and
  event 12014 is logged. That is the 2013 code; no Microsoft text says so for 2016 and later.
Under either reading hybrid mail stops at expiry (Exchange Online rejects the expired certificate,
or no TLS is offered), so the fix is the same: renew before it expires.

## Symptoms
Event 12018 (STARTTLS certificate expires soon) now; after expiry event 12016 and STARTTLS offered
with the expired certificate (Learn, 2016 and later) or event 12014 and no STARTTLS (2013 code),
and in Exchange Online `450 4.7.320 Certificate validation failed` or `451 5.7.3 STARTTLS is
required to send mail`.

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
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019, SE; 2025):
  an expired certificate matched by `TlsCertificateName` or FQDN logs event 12016 and STARTTLS is
  still offered.
- Decompiled Exchange 2013 `TlsCertificateInfo.TryFindFirstCertWithSubjectAndIssuerDistinguishedName`
  (`validOnly: true`; exchange-formats.md §3.2, §3.3): an expired named certificate is not found,
  event 12014. This reading is the 2013 code's only.
- certbot (Let's Encrypt's ACME client) renews 30 days before a 90-day certificate expires by
  default (`renew_before_expiry`), a third of its lifetime; CA/Browser Forum Ballot SC-081v3:
  public lifetimes of 200, 100 and 47 days (see HT044).
"#,
    check,
    organisation_needs: None,
};

/// Below this many days of lifetime left HealthChecker shows a certificate yellow: the default
/// of `--expiry-warning-days`.
pub const WARNING_DAYS: u32 = 60;
/// Below this many days HealthChecker shows it red.
const URGENT_DAYS: i64 = 30;

/// The certificate hybrid mail will present expires within the warning days (60 unless set)
/// of the evaluation time, or within a third of its lifetime when that is shorter.
fn check(context: &Context, findings: &mut Findings) {
    let warning_days = i64::from(context.settings.expiry_warning_days);
    for (certificate, _) in &context.intended {
        check_certificate(certificate, context.now, warning_days, findings);
    }
}

fn check_certificate(
    certificate: &Certificate,
    now: OffsetDateTime,
    warning_days: i64,
    findings: &mut Findings,
) {
    let days_left = (certificate.not_after - now).whole_days();
    let lifetime = certificate.lifetime_days();
    let (warning, urgent) = (warning_days.min(lifetime / 3), URGENT_DAYS.min(lifetime / 6));
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
