//! Every diagnosis hybridtls makes is a rule with a stable code. The documentation of each rule
//! lives here, next to its code, and nowhere else: `hybridtls rules` and `hybridtls explain`
//! print it, and the README links to that output.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable code; never reused for another meaning.
    pub code: &'static str,
    /// Kebab-case name, also accepted by `explain`.
    pub name: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// Markdown: what it means, why mail breaks, symptoms, detection, fix, when to fix by hand.
    pub documentation: &'static str,
}

pub const NO_CERTIFICATE_NAME: Rule = Rule {
    code: "HT001",
    name: "hybrid-connector-without-certificate-name",
    title: "Hybrid receive connector has no TlsCertificateName",
    severity: Severity::Error,
    documentation: r#"## What it means
The receive connector that Exchange Online delivers to (the port-25 `Default Frontend <SERVER>`
connector, or one whose `TlsDomainCapabilities` contain
`mail.protection.outlook.com:AcceptCloudServicesMail`) has `TlsCertificateName` set to `$null`.

## Why it breaks mail flow
Without `TlsCertificateName`, Exchange picks the STARTTLS certificate by the connector's `Fqdn`
(then the server FQDN): certificates with a private key whose CN or SAN holds that name, newest
`NotBefore` first, CA-issued before self-signed. The connector FQDN is usually the server's own
name, which only the self-signed Exchange certificate covers, so that certificate is presented.
Exchange Online validates the certificate against the hybrid FQDN and rejects it.

## Symptoms
- Exchange Online message trace: `450 4.7.320 Certificate validation failed; MSG=SubjectMismatch`
  or `450 4.4.317 Cannot connect to remote server [Message=SubjectMismatch ...]`.
- SmtpReceive protocol log: `Sending certificate` followed by the self-signed subject `CN=<SERVER>`.

## Detection
hybridtls reads `TlsCertificateName` from the Get-ReceiveConnector export and models the FQDN
fallback over the Get-ExchangeCertificate export to show which certificate is presented.

## Fix
`Set-ReceiveConnector -TlsCertificateName '<I>issuer<S>subject'` naming the CA-issued certificate
that covers the hybrid FQDN, then a restart of the transport service that owns the connector
(MSExchangeFrontEndTransport for a FrontendTransport connector, MSExchangeTransport otherwise).

## When to fix by hand
When no installed certificate qualifies (see HT005), install one first and plan again.
"#,
};

pub const NAMED_CERTIFICATE_MISSING: Rule = Rule {
    code: "HT002",
    name: "certificate-name-not-found",
    title: "TlsCertificateName names a certificate that is not installed or not valid",
    severity: Severity::Error,
    documentation: r#"## What it means
`TlsCertificateName` on the connector names an issuer and subject for which
`Cert:\LocalMachine\My` holds no currently valid certificate. Typically the certificate was renewed
(often from a new intermediate, so the issuer changed) and the old one removed, but the connector
still names the old one.

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

## When to fix by hand
When the intended certificate is not installed yet: install it with its private key, enable it
for SMTP (answer **No** to replacing the default certificate), and plan again.
"#,
};

pub const NAMED_CERTIFICATE_UNSUITABLE: Rule = Rule {
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
"#,
};

pub const NAMED_CERTIFICATE_AMBIGUOUS: Rule = Rule {
    code: "HT004",
    name: "certificate-name-ambiguous",
    title: "TlsCertificateName matches more than one valid certificate",
    severity: Severity::Error,
    documentation: r#"## What it means
More than one valid certificate in `Cert:\LocalMachine\My` has the issuer and subject that
`TlsCertificateName` names, for example after a renewal by the same CA or a duplicate import.

## Why it breaks mail flow
Exchange versions disagree on which one wins: Exchange 2013 code takes the first valid match in
store order, and newer guidance says the one with the latest `NotAfter`. Either may be a copy
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
"#,
};

pub const NO_QUALIFYING_CERTIFICATE: Rule = Rule {
    code: "HT005",
    name: "no-qualifying-certificate",
    title: "No installed certificate qualifies for hybrid mail flow",
    severity: Severity::Error,
    documentation: r#"## What it means
No certificate exported from the server has a private key, is valid at the evaluation time, is
issued by a CA (not self-signed), and covers every hybrid FQDN in its subject CN or SAN.

## Why it breaks mail flow
Exchange Online requires a publicly trusted certificate whose name matches the FQDN its outbound
connector uses for the on-premises endpoint.

## Symptoms
Any of the certificate errors of HT001 to HT003; the fix cannot be automated.

## Detection
Each exported certificate is checked against the criteria above; the reasons each one fails are
listed.

## Fix
Manual: obtain a certificate from a public CA that covers the hybrid FQDN, import it with its
private key on every hybrid server, enable it for SMTP, export again and plan again.

## When to fix by hand
Always: hybridtls does not create or request certificates.
"#,
};

pub const TLS_NOT_OFFERED: Rule = Rule {
    code: "HT006",
    name: "hybrid-connector-without-tls",
    title: "Hybrid receive connector does not offer TLS (AuthMechanism lacks Tls)",
    severity: Severity::Error,
    documentation: r#"## What it means
The hybrid receive connector's `AuthMechanism` does not include `Tls`, so STARTTLS is never
advertised whatever the certificate.

## Why it breaks mail flow
Exchange Online requires TLS to deliver hybrid mail.

## Symptoms
`451 5.7.3 STARTTLS is required to send mail` in Exchange Online; no `STARTTLS` in the EHLO answer.

## Detection
`AuthMechanism` in the Get-ReceiveConnector export (a number in Windows PowerShell 5.1: Tls = 1).

## Fix
Manual, because `AuthMechanism` carries other settings too: add `Tls` with
`Set-ReceiveConnector -AuthMechanism` listing every mechanism the connector needs (the Hybrid
Configuration Wizard sets `Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer`).

## When to fix by hand
Always.
"#,
};

pub const HYBRID_FQDN_UNKNOWN: Rule = Rule {
    code: "HT007",
    name: "hybrid-fqdn-unknown",
    title: "The hybrid FQDN could not be determined",
    severity: Severity::Warning,
    documentation: r#"## What it means
hybridtls needs the name Exchange Online uses to reach on-premises (the `TlsDomain` / smart host of
the Exchange Online outbound connector) to judge certificates. It was not given with `--fqdn` and
could not be derived from the inputs (send connector to Exchange Online `Fqdn`, the CN of the
hybrid connector's current `TlsCertificateName`, or a hybrid connector `Fqdn` other than the
server's own name).

## Why it matters
Without it, hybridtls cannot tell which certificate should be presented, so it plans no
certificate changes.

## Fix
Run again with `--fqdn <name>` (repeatable), for example `--fqdn mail.contoso.com`. In Exchange
Online, `Get-OutboundConnector | Format-List Name,SmartHosts,TlsDomain` shows the name.

## When to fix by hand
Always: give the name.
"#,
};

pub const HYBRID_CONNECTOR_MISSING: Rule = Rule {
    code: "HT008",
    name: "hybrid-connector-missing",
    title: "No hybrid receive connector found on the server",
    severity: Severity::Warning,
    documentation: r#"## What it means
The Get-ReceiveConnector export of a server has no `Default Frontend <SERVER>` port-25 connector
and no connector whose `TlsDomainCapabilities` contain
`mail.protection.outlook.com:AcceptCloudServicesMail` (or `AcceptOorgProtocol`).

## Why it matters
Exchange Online delivers hybrid mail to such a connector; without one there is nothing to plan for
that server, or the export is incomplete.

## Fix
Check that the export contains every receive connector of the server (`Get-ReceiveConnector
-Server <SERVER>`), or run the Hybrid Configuration Wizard for this server.

## When to fix by hand
Always.
"#,
};

pub const KEYLESS_SHADOW: Rule = Rule {
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
"#,
};

pub const MISSING_INTERMEDIATE: Rule = Rule {
    code: "HT010",
    name: "missing-intermediate-certificate",
    title: "An intermediate CA certificate of the chain is not installed",
    severity: Severity::Error,
    documentation: r#"## What it means
The chain of the certificate the hybrid connector presents needs an intermediate CA certificate that
is in neither `Cert:\LocalMachine\CA` nor `Cert:\LocalMachine\My`, so Windows does not send it
during the TLS handshake.

## Why it breaks mail flow
Exchange Online cannot build the chain to a trusted root from the leaf alone, so it cannot
attribute the connection to your tenant's inbound connector (KB 3212877).

## Symptoms
- `550 5.7.64 TenantAttribution; Relay Access Denied` in NDRs or the send protocol log.
- CAPI2 event 30 with result `800B0109` ("A certificate chain processed, but terminated in a root
  certificate which is not trusted by the trust provider").

## Detection
The chain is built offline from the My, CA and Root listings and the certificate files given,
matching issuer name and key identifier and checking each signature.

## Fix
When the intermediate was supplied as a file (PEM, DER `.cer`), the script embeds it, writes it to
a temporary file, imports it with `Import-Certificate -CertStoreLocation Cert:\LocalMachine\CA`,
checks the resulting thumbprint, and skips the import when that thumbprint is already present.

## When to fix by hand
When no file with the intermediate was given: the finding names the missing issuer and its key
identifier; download it from the CA's repository and plan again with the file.
"#,
};

pub const ROOT_NOT_TRUSTED: Rule = Rule {
    code: "HT011",
    name: "root-not-in-root-store",
    title: "The root CA of the chain is not in the server's Root store",
    severity: Severity::Warning,
    documentation: r#"## What it means
The chain of the hybrid certificate ends in a root certificate that the `Cert:\LocalMachine\Root`
listing of the server does not contain.

## Why it matters
Exchange validates its own certificate (`validOnly`) and Exchange Online's certificate against the
local roots; a missing root can make the certificate invalid for Exchange and breaks validation of
certificates issued by that root.

## Symptoms
`Status` other than Valid in `Get-ExchangeCertificate`, event 12014, `454 4.7.5 certificate
validation failure`.

## Detection
The offline chain (see HT010) is compared with the Root listing.

## Fix
None automatic: roots are trust decisions. Make sure Windows root certificate updates reach the
server, or deploy the root through Group Policy.

## When to fix by hand
Always.
"#,
};

pub const CERTIFICATE_EXPIRING: Rule = Rule {
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

pub const WEAK_KEY: Rule = Rule {
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
The key size is read from the certificate's DER (`RawData`).

## Fix
Renew with a 2048-bit or larger RSA key and plan again.

## When to fix by hand
Always.
"#,
};

pub const SHA1_SIGNATURE: Rule = Rule {
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
The signature algorithm is read from the certificate's DER (`RawData`).

## Fix
Renew the certificate with a SHA-256 (or stronger) signature and plan again.

## When to fix by hand
Always.
"#,
};

impl Rule {
    /// One section of the documentation (`## Symptoms`, `## Fix`...), without its heading.
    pub fn section(&self, heading: &str) -> Option<&'static str> {
        let marker = format!("## {heading}\n");
        let start = self.documentation.find(&marker)? + marker.len();
        let rest = &self.documentation[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

pub const SEND_CONNECTOR_CERTIFICATE: Rule = Rule {
    code: "HT015",
    name: "send-connector-certificate-not-usable",
    title: "The send connector to Exchange Online names no usable certificate on this server",
    severity: Severity::Error,
    documentation: r#"## What it means
The send connector that delivers to Exchange Online (smart host in mail.protection.outlook.com,
address space in mail.onmicrosoft.com, or CloudServicesMailEnabled) has this server as a source
transport server, but its `TlsCertificateName` is null or names no valid certificate in this
server's `Cert:\LocalMachine\My`.

## Why it breaks mail flow
Exchange Online attributes hybrid mail to your tenant by the certificate the on-premises server
presents when it sends. Without the named certificate the server sends without it, or queues.

## Symptoms
- `454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be
  found` in the queue.
- `550 5.7.64 TenantAttribution` or `550 5.7.51 TenantInboundAttribution` in NDRs.

## Detection
The send connector export is matched with each source server's certificate export, as for
receive connectors.

## Fix
Manual, because a send connector is one object for the whole organisation:
`Set-SendConnector -Identity <name> -TlsCertificateName '<I>issuer<S>subject'` naming a
certificate installed, with its private key, on every source transport server; then restart
MSExchangeTransport on each of them.

## When to fix by hand
Always; hybridtls names the value to set.
"#,
};

pub const LOG_DISAGREES: Rule = Rule {
    code: "HT016",
    name: "protocol-log-disagrees",
    title: "The protocol log shows a different certificate than hybridtls expects",
    severity: Severity::Warning,
    documentation: r#"## What it means
The SmtpReceive protocol log given with the exports shows the connector sending a certificate
(`Sending certificate` ... `Certificate thumbprint`) other than the one hybridtls computes from
the connector and certificate exports.

## Why it matters
Either the log and the exports are from different times (a certificate or the connector changed
in between), or this Exchange build selects certificates differently from the model hybridtls
uses (see `hybridtls explain HT004`). The plan is based on the exports; check before running it.

## Symptoms
Whatever the log shows: often `450 4.7.320 Certificate validation failed` for the thumbprint in
the log.

## Detection
The latest `Sending certificate` row of each connector in the given `RECV*.LOG` files is compared
with the certificate hybridtls computes for that connector.

## Fix
Manual: export the connectors and certificates again, take a fresh protocol log after a test
message, and plan again. If they still disagree, the selection model does not fit this build:
make sure only one certificate can match (remove duplicates) and report the case.

## When to fix by hand
Always.
"#,
};

pub const EXPORT_MISSING: Rule = Rule {
    code: "HT017",
    name: "required-export-missing",
    title: "An export hybridtls needs for this server is missing or empty",
    severity: Severity::Error,
    documentation: r#"## What it means
The inputs name a server but hold no receive connector of it, or hold its receive connectors
but no certificate of it (neither a Get-ExchangeCertificate export nor a Cert:\LocalMachine\My
listing). An export that is `[]`, a file left out, or a folder of the wrong server look like this.

## Why it matters
Without the connectors hybridtls cannot say which certificate Exchange Online is shown; without
the certificates it cannot say whether the one named exists. "Nothing to change" would be a
guess, so hybridtls says what is missing instead.

## Symptoms
None on the server: this rule is about the inputs.

## Detection
After reading every input, each server is checked for at least one receive connector and, when
it has any, at least one certificate.

## Fix
Manual: export what is missing on that server (`hybridtls collect` writes every export hybridtls
reads) and plan again.

## When to fix by hand
Always.
"#,
};

/// Every rule, in code order.
pub const ALL: &[&Rule] = &[
    &NO_CERTIFICATE_NAME,
    &NAMED_CERTIFICATE_MISSING,
    &NAMED_CERTIFICATE_UNSUITABLE,
    &NAMED_CERTIFICATE_AMBIGUOUS,
    &NO_QUALIFYING_CERTIFICATE,
    &TLS_NOT_OFFERED,
    &HYBRID_FQDN_UNKNOWN,
    &HYBRID_CONNECTOR_MISSING,
    &KEYLESS_SHADOW,
    &MISSING_INTERMEDIATE,
    &ROOT_NOT_TRUSTED,
    &CERTIFICATE_EXPIRING,
    &WEAK_KEY,
    &SHA1_SIGNATURE,
    &SEND_CONNECTOR_CERTIFICATE,
    &LOG_DISAGREES,
    &EXPORT_MISSING,
];

/// Finds a rule by code (`HT001`, case-insensitive) or kebab-case name.
pub fn find(query: &str) -> Option<&'static Rule> {
    ALL.iter()
        .copied()
        .find(|rule| rule.code.eq_ignore_ascii_case(query) || rule.name.eq_ignore_ascii_case(query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_documented() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.code, b.code);
                assert_ne!(a.name, b.name);
            }
            for heading in ["## What it means", "## Fix", "## When to fix by hand"] {
                assert!(a.documentation.contains(heading), "{} lacks {heading}", a.code);
            }
        }
        assert_eq!(find("ht002"), Some(&NAMED_CERTIFICATE_MISSING));
        assert_eq!(find("hybrid-fqdn-unknown"), Some(&HYBRID_FQDN_UNKNOWN));
        assert_eq!(find("HT999"), None);
        assert!(NO_CERTIFICATE_NAME
            .section("Symptoms")
            .unwrap()
            .contains("4.7.320"));
        assert_eq!(NO_CERTIFICATE_NAME.section("Nope"), None);
    }
}
