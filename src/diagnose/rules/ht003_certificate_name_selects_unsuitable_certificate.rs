//! HT003 `certificate-name-selects-unsuitable-certificate`: the rule's documentation, metadata
//! and check, which reports its fault of the judgement of a hybrid connector (`diagnose::connector`).

use super::{Rule, Severity};
use crate::diagnose::connector::{Fault, Verdict};
use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, describe, name_evidence, Findings};

pub const RULE: Rule = Rule {
    code: "HT003",
    name: "certificate-name-selects-unsuitable-certificate",
    title: "TlsCertificateName selects a certificate that cannot serve hybrid mail",
    severity: Severity::Error,
    documentation: r#"## What it means
The connector's `TlsCertificateName` resolves to exactly one certificate, but that certificate is
self-signed, does not cover the hybrid FQDN in its subject CN or SAN, or has no private key.

## Why it breaks mail flow
Exchange Online checks the presented certificate against the FQDN configured on its outbound
connector and trusts only public CA chains. A self-signed or mismatched certificate fails that
check; a certificate without a private key cannot complete the TLS handshake.

## Symptoms
`450 4.7.320 Certificate validation failed; MSG=SubjectMismatch` in Exchange Online message trace;
`TLS negotiation failed with error NoCredentials` in the protocol log when the key is missing.

## Detection
The selected certificate is checked against the hybrid FQDN (`--fqdn`, or derived from the inputs
and printed), its validity at `--now`, its issuer, and `HasPrivateKey`.

## Fix
Point `TlsCertificateName` at the certificate that qualifies, then restart the transport service.

## When to fix by hand
When no installed certificate qualifies (HT005).

## Sources
- Microsoft Learn, "Certificate requirements for hybrid deployments": a certificate from a trusted
  third-party CA that covers the FQDN Exchange Online connects to.
- Exchange Team blog (learn.microsoft.com archive), "... 450 4.7.320 Certificate validation failed
  error": `MSG=SubjectMismatch` when the presented certificate does not name the hybrid FQDN.
"#,
    check,
    organisation_needs: None,
};

/// A hybrid connector's TlsCertificateName selects a certificate that cannot serve hybrid mail.
fn check(context: &Context, findings: &mut Findings) {
    for judgement in &context.judgements {
        let Verdict::Wrong { fault, fix, .. } = &judgement.verdict else {
            continue;
        };
        let connector = judgement.connector;
        let identity = connector.identity();
        let (message, evidence) = match fault {
            Fault::Unsuitable { selected, reasons } => (
                format!("TlsCertificateName of {identity} selects {}, which {}", describe(selected), reasons.join(", ")),
                vec![name_evidence(connector), certificate_evidence(selected, "Subject", selected.subject.clone())],
            ),
            Fault::OnlyWithoutKey { valid } => (
                format!(
                    "TlsCertificateName of {identity} matches only certificates without a private key ({})",
                    valid.iter().map(|c| c.thumbprint.as_str()).collect::<Vec<_>>().join(", ")
                ),
                valid
                    .iter()
                    .map(|c| certificate_evidence(c, "HasPrivateKey", "false".to_owned()))
                    .chain([name_evidence(connector)])
                    .collect(),
            ),
            Fault::NoCertificateName { .. } | Fault::NameNotFound { .. } => continue,
        };
        findings.push(identity, message, evidence, fix.clone());
    }
}
