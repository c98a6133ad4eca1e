//! HT044 `renewal-breaks-issuer-pin`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, date, Findings, Remedy};
use crate::model::{Certificate, TlsCertificateName};

pub const RULE: Rule = Rule {
    code: "HT044",
    name: "renewal-breaks-issuer-pin",
    title: "The hybrid certificate's next renewal may come from another issuer",
    severity: Severity::Warning,
    documentation: r#"## What it means
The certificate hybrid mail presents is short-lived (200 days or less) or comes from a
certification authority that issues from several intermediates in turn (Let's Encrypt: R10 to
R14, E5 to E9). Its renewal is near and may well be issued by another intermediate than this one.

## Why it breaks mail flow
`TlsCertificateName` is `<I>issuer<S>subject`: it pins the issuing intermediate. A renewed
certificate from another intermediate matches no connector, so Exchange presents another
certificate or none (HT001 to HT003, HT015, event 12014) on the day the old one is replaced or
expires, and the Hybrid Configuration Wizard's record (`Get-HybridConfiguration`, HT033) goes
stale. Public TLS certificates live at most 200 days when issued from 15 March 2026, 100 days
from 15 March 2027 and 47 days from 15 March 2029, so this happens every few months.

## Symptoms
None yet. After a renewal: `451 5.7.3 STARTTLS is required to send mail`, `450 4.7.320
Certificate validation failed; MSG=SubjectMismatch`, event 12014.

## Detection
The `NotBefore` and `NotAfter` of each certificate the hybrid connectors present once the plan is
carried out, and its issuer. HT012's thresholds scale to this lifetime.

## Fix
None automatic. Treat every renewal as the renewal workflow: install the new certificate with its
private key, export again (`hybridtls collect`) and plan again, so that the receive connectors,
the send connector, `Set-HybridConfiguration` (HT033) and Exchange Online's connectors are moved
to the new issuer and subject together, before the old certificate is removed or expires.

## When to fix by hand
Always: the renewal itself is outside hybridtls.

## Sources
- CA/Browser Forum Ballot SC-081v3, "Introduce Schedule of Reducing Validity and Data Reuse
  Periods" (April 2025): 200 days from 15 March 2026, 100 days from 15 March 2027, 47 days from
  15 March 2029.
- Let's Encrypt, "New Intermediate Certificates" (March 2024): RSA intermediates R10 to R14 and
  ECDSA E5 to E9, "Rotating the set of intermediates we issue from", which discourages pinning an
  issuing intermediate.
- Microsoft Learn, Set-ReceiveConnector / Set-SendConnector `-TlsCertificateName`:
  `<I>X.500Issuer<S>X.500Subject`.
"#,
    check,
    organisation_needs: None,
};

/// At or below this lifetime a certificate is short-lived: the first limit of Ballot SC-081.
const SHORT_LIFETIME_DAYS: i64 = 200;

/// Certification authorities that issue from several intermediates in turn, by the `O=` of the
/// issuer, with what they rotate between.
const ROTATING_ISSUERS: &[(&str, &str)] =
    &[("O=Let's Encrypt", "Let's Encrypt issues from R10 to R14 and E5 to E9 in turn")];

fn check(context: &Context, findings: &mut Findings) {
    for (certificate, name) in &context.intended {
        check_certificate(certificate, name, findings);
    }
}

fn check_certificate(certificate: &Certificate, name: &TlsCertificateName, findings: &mut Findings) {
    let days = certificate.lifetime_days();
    let issuer = crate::x509::dn_key(&certificate.issuer);
    let rotation = ROTATING_ISSUERS
        .iter()
        .find(|(organisation, _)| issuer.contains(&crate::x509::dn_key(organisation)))
        .map(|(_, rotation)| *rotation);
    let short = days <= SHORT_LIFETIME_DAYS;
    if !short && rotation.is_none() {
        return;
    }
    let mut why = Vec::new();
    if short {
        why.push(format!(
            "it lives {days} days ({} to {})",
            date(certificate.not_before),
            date(certificate.not_after)
        ));
    }
    if let Some(rotation) = rotation {
        why.push(format!("its issuer rotates ({rotation})"));
    }
    findings.push(
        certificate.thumbprint.clone(),
        format!(
            "{} must be renewed by {}: {}; TlsCertificateName {name} pins the issuer, so the renewed certificate may match no connector and hybrid mail stops on the day it replaces this one: renew it with the renewal workflow (HT033)",
            certificate.thumbprint,
            date(certificate.not_after),
            why.join(" and ")
        ),
        vec![
            certificate_evidence(certificate, "NotAfter", date(certificate.not_after)),
            certificate_evidence(certificate, "Issuer", certificate.issuer.clone()),
        ],
        Remedy::manual(format!(
            "before {}: install the renewed certificate with its private key, export again and plan again, so the receive connectors, the send connector, Set-HybridConfiguration and Exchange Online's connectors move to its issuer and subject together (the renewal workflow, HT033); remove the old certificate only after that",
            date(certificate.not_after)
        )),
    );
}
