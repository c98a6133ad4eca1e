//! HT014 `sha1-signature`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, renew, Findings};
use crate::model::Certificate;

pub const RULE: Rule = Rule {
    code: "HT014",
    name: "sha1-signature",
    title: "The hybrid certificate is signed with SHA-1",
    severity: Severity::Warning,
    documentation: r#"## What it means
The certificate the hybrid connector presents carries a SHA-1 signature.

## Why it matters
SHA-1 signatures are no longer trusted for TLS server certificates.

## Symptoms
Certificate validation failures at Exchange Online.

## Detection
The signature algorithm is read from the certificate's DER (`RawData`). A certificate exported
without `RawData` is not judged (listed as such with its file), never passed.

## Fix
Renew the certificate with a SHA-256 (or stronger) signature and plan again.

## When to fix by hand
Always.

## Sources
- CSS-Exchange HealthChecker, `Invoke-AnalyzerSecurityExchangeCertificates.ps1`: a signature hash
  outside the SHA-2 family is flagged ("It's recommended to use a hash algorithm from the SHA-2
  family", https://aka.ms/HC-SSLBP).
"#,
    check,
    organisation_needs: None,
};

/// The certificate hybrid mail will present is signed with SHA-1.
fn check(context: &Context, findings: &mut Findings) {
    for (certificate, _) in &context.intended {
        check_certificate(certificate, findings);
    }
}

fn check_certificate(certificate: &Certificate, findings: &mut Findings) {
    let Some(facts) = &certificate.facts else {
        findings.without_raw_data(certificate);
        return;
    };
    if !facts.signature_algorithm.to_ascii_lowercase().starts_with("sha1") {
        return;
    }
    findings.push(
        certificate.thumbprint.clone(),
        format!(
            "{} is signed with {}",
            certificate.thumbprint, facts.signature_algorithm
        ),
        vec![certificate_evidence(
            certificate,
            "RawData",
            facts.signature_algorithm.clone(),
        )],
        renew(certificate),
    );
}
