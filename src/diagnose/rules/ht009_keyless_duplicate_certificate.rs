//! HT009 `keyless-duplicate-certificate`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::{certificate_evidence, date, has_key, Findings, Remedy};
use crate::model::{Certificate, TlsCertificateName};

pub const RULE: Rule = Rule {
    code: "HT009",
    name: "keyless-duplicate-certificate",
    title: "A copy of the hybrid certificate without a private key shadows it",
    severity: Severity::Error,
    documentation: r#"## What it means
`Cert:\LocalMachine\My` holds a second certificate with the same issuer and subject as the one the
hybrid connector uses, but without a private key (often left behind by a failed or repeated
certificate request). `Get-ExchangeCertificate` does not even list it: it shows only certificates
with a key.

## Why it breaks mail flow
When `TlsCertificateName` is set, Exchange looks certificates up by issuer and subject and does not
check for a private key. Exchange 2013 takes the first valid match in store order; newer builds take
the one with the latest `NotAfter`. When that is the key-less copy, the TLS handshake cannot be
completed.

## Symptoms
- SmtpSend / SmtpReceive protocol log: `TLS negotiation failed with error NoCredentials`, and a
  `Certificate thumbprint` row that differs from the thumbprint `Get-ExchangeCertificate` shows.
- Queue to Exchange Online: `451 4.4.395 Target host responded with error. -> 421 4.4.1 Connection
  timed out`.

## Detection
The store listing of `Cert:\LocalMachine\My` (from `hybridtls collect`) is compared with the issuer
and subject the connector uses; each match's `HasPrivateKey` and `NotAfter` show which copy each
selection rule would pick.

## Fix
The script exports the key-less copy to the backup folder (`Export-Certificate -Type CERT`) and
removes it by its exact, full thumbprint (`Remove-Item -LiteralPath
Cert:\LocalMachine\My\<THUMBPRINT>`), never by a prefix or wildcard. At run time it checks again
that the certificate still exists, still has no private key and is not the certificate a connector
is planned to use; otherwise nothing is removed. Then it restarts transport.

## When to fix by hand
When `HasPrivateKey` is known only from a `Get-ExchangeCertificate` export (it can be false there
over remoting although the key exists): list the store on the server and plan again.

## Sources
- Jaap Wesselius, "Exchange Hybrid TLS negotiation failed with error NoCredentials" (2019; seed
  002): a copy of the certificate without its private key in Cert:\LocalMachine\My, removed by
  thumbprint, then a transport restart.
- Decompiled Exchange 2013 named selection has no private-key check
  (shared/reference/exchange-formats.md §3.2, [DECOMP]); newer builds may differ, so the copy is
  removed whichever reading holds.
"#,
};

/// Key-less copies that share the intended certificate's issuer and subject: Exchange may pick
/// one of them (no private-key check when TlsCertificateName is set), and TLS then fails.
pub(in crate::diagnose) fn check(
    intended: &Certificate,
    name: &TlsCertificateName,
    store: &[&Certificate],
    now: OffsetDateTime,
    findings: &mut Findings,
) {
    let matches: Vec<&Certificate> = store
        .iter()
        .copied()
        .filter(|c| name.matches(c) && c.valid_at(now))
        .collect();
    let shadows: Vec<&Certificate> = matches.iter().copied().filter(|c| !has_key(c)).collect();
    if shadows.is_empty() {
        return;
    }
    let first = matches[0];
    let latest = matches
        .iter()
        .copied()
        .max_by_key(|c| c.not_after)
        .unwrap_or(first);
    let picks = format!(
        "Exchange 2013 picks {} (first valid in store order){}, newer builds pick {} (latest NotAfter){}",
        first.thumbprint,
        if has_key(first) {
            ""
        } else {
            ", which has no private key"
        },
        latest.thumbprint,
        if has_key(latest) {
            ""
        } else {
            ", which has no private key"
        },
    );
    for shadow in shadows {
        let object = format!("{}\\{}", crate::model::Store::My.path(), shadow.thumbprint);
        let message = format!(
            "{} has the issuer and subject of {} ({}) but no private key; {} valid certificates match TlsCertificateName {name}: {picks}",
            shadow.thumbprint,
            intended.thumbprint,
            intended.subject,
            matches.len(),
        );
        let evidence = vec![
            certificate_evidence(shadow, "HasPrivateKey", "false".to_owned()),
            certificate_evidence(shadow, "NotAfter", date(shadow.not_after)),
            certificate_evidence(intended, "Thumbprint", intended.thumbprint.clone()),
        ];
        let remedy = if shadow.from_store_listing {
            Remedy::RemoveCertificate {
                certificate: Box::new(shadow.clone()),
            }
        } else {
            Remedy::manual(format!(
                    "HasPrivateKey is false only in the Get-ExchangeCertificate export, which can be wrong over remoting: list Cert:\\LocalMachine\\My\\{} on the server (or use `hybridtls collect`) and plan again",
                    shadow.thumbprint
                ))
        };
        findings.push(&RULE, object, message, evidence, remedy);
    }
}
