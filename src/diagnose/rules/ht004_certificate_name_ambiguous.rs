//! HT004 `certificate-name-ambiguous`: the rule's documentation, metadata and check, which
//! reports its verdict of the judgement of a hybrid connector (`diagnose::connector`).

use super::{Rule, Severity};
use crate::diagnose::connector::Verdict;
use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT004",
    name: "certificate-name-ambiguous",
    title: "TlsCertificateName matches more than one valid certificate",
    severity: Severity::Error,
    documentation: r#"## What it means
More than one valid certificate in `Cert:\LocalMachine\My` has the issuer and subject that
`TlsCertificateName` names, for example after a renewal by the same CA or a duplicate import.

## Why it breaks mail flow
Exchange versions disagree on which one wins: Exchange 2013 code takes the first valid match in
store order; for Exchange 2016, 2019 and SE the 2025 guidance says the one with the latest
`NotAfter`, while Learn orders certificates by the newest `NotBefore`. The finding names the
certificate each rule for the server's release picks (`AdminDisplayVersion`). Either may be a copy
without a private key or the older certificate, so TLS can fail or switch certificates after a
restart. The only safe state is a single valid match.

## Symptoms
Intermittent or restart-dependent failures: `TLS negotiation failed with error NoCredentials`,
`450 4.7.320 Certificate validation failed`, a different thumbprint in the protocol log's
`Certificate thumbprint` row than the one `Get-ExchangeCertificate` shows.

## Detection
All valid matches are listed with the certificate each selection rule would pick.

## Fix
Remove the surplus certificates so that only the intended one matches; hybridtls plans this as a
manual action, naming each certificate by its full thumbprint.

## When to fix by hand
Always review which copy holds the private key before removing anything, and back it up first
(`Export-Certificate -Type CERT`). Never remove by a thumbprint prefix or wildcard.

## Sources
- Decompiled Exchange 2013
  `TlsCertificateInfo.TryFindFirstCertWithSubjectAndIssuerDistinguishedName`: the first valid match
  in store order (shared/reference/exchange-formats.md §3.2, [DECOMP]).
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019, SE): only
  certificates with a private key, the most recent valid-from date first.
- Exchange Team blog, 2025 (Tech Community 4420592), on hybrid TLS certificates for Exchange 2016,
  2019 and SE: among certificates with the same issuer and subject the newest expiration wins. The
  two disagree, so hybridtls plans nothing that depends on which is right.
"#,
    check,
    organisation_needs: None,
};

/// A hybrid connector's TlsCertificateName matches several valid certificates with a key.
fn check(context: &Context, findings: &mut Findings) {
    for judgement in &context.judgements {
        let Verdict::Ambiguous { matches, readings } = &judgement.verdict else {
            continue;
        };
        let identity = judgement.connector.identity();
        let picks: Vec<String> = readings
            .iter()
            .map(|r| {
                format!(
                    "{} under \"{}\"",
                    r.presents.map_or("nothing", |c| c.thumbprint.as_str()),
                    r.rule
                )
            })
            .collect();
        let message = format!(
            "TlsCertificateName of {identity} matches {} valid certificates with a private key; on {} Exchange picks {}",
            matches.len(),
            context.server.release.label(),
            picks.join("; "),
        );
        let evidence = matches.iter().map(|c| certificate_evidence(c, "Thumbprint", c.thumbprint.clone())).collect();
        let instruction = format!(
            "keep one certificate with this issuer and subject in Cert:\\LocalMachine\\My; back up the others (Export-Certificate -Type CERT) and remove them by full thumbprint ({})",
            matches.iter().map(|c| c.thumbprint.as_str()).collect::<Vec<_>>().join(", ")
        );
        findings.push(identity, message, evidence, Remedy::manual(instruction));
    }
}
