//! HT013 `weak-rsa-key`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, renew, Findings};
use crate::model::Certificate;

pub const RULE: Rule = Rule {
    code: "HT013",
    name: "weak-rsa-key",
    title: "The hybrid certificate has an RSA key shorter than 2048 bits",
    severity: Severity::Warning,
    documentation: r#"## What it means
The public key of the certificate the hybrid connector presents is RSA with fewer than 2048 bits.

## Why it matters
Public CAs no longer issue such certificates and Microsoft 365 may refuse them.

## Symptoms
TLS failures with Exchange Online that no configuration change fixes.

## Detection
The key size is read from the certificate's DER (`RawData`). A certificate exported without
`RawData` is not judged (listed as such with its file), never passed.

## Fix
Renew with a 2048-bit or larger RSA key and plan again.

## When to fix by hand
Always.

## Sources
- CSS-Exchange HealthChecker, `Invoke-AnalyzerSecurityExchangeCertificates.ps1`: a key smaller than
  2048 bits is shown red ("It's recommended to use a key size of at least 2048 bit").
"#,
    check,
    organisation_needs: None,
};

/// The certificate hybrid mail will present has an RSA key shorter than 2048 bits.
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
    if facts.key_algorithm != "RSA" || facts.key_bits == 0 || facts.key_bits >= 2048 {
        return;
    }
    findings.push(
        certificate.thumbprint.clone(),
        format!("{} has a {}-bit RSA key", certificate.thumbprint, facts.key_bits),
        vec![certificate_evidence(
            certificate,
            "RawData",
            format!("RSA {} bits", facts.key_bits),
        )],
        renew(certificate),
    );
}
