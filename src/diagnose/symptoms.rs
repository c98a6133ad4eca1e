//! Error texts admins paste from NDRs, queues, protocol logs and events, mapped to the rules
//! that explain them and the exports that confirm which one applies.
//!
//! Sources of the texts and their causes: ../shared/reference/exchange-formats.md §5 (which
//! cites them: KB 3212877, the Exchange Online NDR table, KB 2989382, the blogs named there);
//! RestrictDomainsToCertificate and TlsSenderCertificateName as documented for
//! Set-InboundConnector (learn.microsoft.com/powershell/module/exchangepowershell/set-inboundconnector).

use super::rules::{self, Rule};

pub struct Symptom {
    /// Lower-case fragments; any one of them identifies the symptom.
    pub fragments: &'static [&'static str],
    /// Whether the symptom is read on its own or as the inner response of a `4.4.395` wrapper.
    pub scope: Scope,
    /// Lower-case fragments that rule the symptom out: another symptom with the same code.
    pub unless: &'static [&'static str],
    pub meaning: &'static str,
    pub causes: &'static str,
    pub rules: &'static [&'static Rule],
    pub export: &'static str,
}

/// `451 4.4.395 Target host responded with error. -> <inner response>` is how an on-premises
/// queue reports what Exchange Online answered; the same inner text can mean something else
/// there than on its own (a `451 5.7.3` toward Exchange Online is the sending side's TLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Recognised anywhere.
    Anywhere,
    /// Recognised only when the text is not a 4.4.395 wrapper.
    Direct,
    /// Recognised only inside a 4.4.395 wrapper (its inner response).
    Wrapped,
}

/// The fragment that marks the 4.4.395 wrapper.
const WRAPPER: &str = "4.4.395";

const RECEIVE_SIDE_EXPORTS: &str = "on each hybrid server: Get-ReceiveConnector and Get-ExchangeCertificate (or run `hybridtls collect`), plus the FrontEnd SmtpReceive protocol log rows `Sending certificate` ... `Certificate thumbprint`";
const STORE_EXPORTS: &str = "on the server that sends: `hybridtls collect` (it lists Cert:\\LocalMachine\\My with HasPrivateKey), plus the SmtpSend protocol log row with the certificate thumbprint";
const CHAIN_EXPORTS: &str = "`hybridtls collect` on the sending server (CA and Root store listings) and the intermediate certificates from your CA as .cer or .pem files";
const SEND_SIDE_EXPORTS: &str = "on each source transport server of the send connector to Exchange Online: Get-SendConnector, Get-ExchangeCertificate and the Cert:\\LocalMachine\\My listing (or run `hybridtls collect`), plus the SmtpSend protocol log rows of the failed session (`TLS negotiation failed with error ...`, `Certificate thumbprint`)";

pub const SYMPTOMS: &[Symptom] = &[
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["must issue a starttls command first", "socketerror"],
        meaning: "TLS could not be negotiated between the two servers. Microsoft Learn (\"Mail flow errors caused by TLS 1.0 and TLS 1.1 disablement\") gives `TLS negotiation failed with error SocketError`, `421 4.4.2 Connection dropped due to SocketError` and `451 5.7.3 Must issue a STARTTLS command first` first as the sign that TLS 1.2 is not enabled: Exchange Online accepts TLS 1.2 only.",
        causes: "first, TLS 1.2 disabled on the server that sends or receives (the SCHANNEL `Protocols\\TLS 1.2` Client and Server keys, and .NET's SystemDefaultTlsVersions; HealthChecker's TLS configuration check reads them); only then a certificate STARTTLS cannot use (the rules below).",
        rules: &[&rules::TLS12_DISABLED, &rules::DOTNET_STRONG_CRYPTO, &rules::TLS_SETTINGS_MISMATCHED, &rules::EXCHANGE_BUILD_BEFORE_TLS12, &rules::TLS13_UNSUPPORTED],
        export: "`hybridtls collect` on the server (tls-settings.json: the SCHANNEL and .NET TLS values, the cipher suites, the builds), plus the protocol log rows of the failed sessions",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &[WRAPPER, "target host responded with error"],
        meaning: "A wrapper: your server's queue toward Exchange Online reports that the remote host answered with an error; what went wrong is the response after `->`.",
        causes: "those of the inner response (below); in the cases on record it was the sending server's own TLS: a send connector certificate without a usable private key (`NoCredentials` in the SmtpSend protocol log), or TLS not established (`451 5.7.3 STARTTLS is required`).",
        rules: &[],
        export: "the queue's LastError in full (Get-Queue | Format-List Identity,LastError) and the SmtpSend protocol log of the failed session on the sending server",
    },
    Symptom {
        unless: &[],
        scope: Scope::Wrapped,
        fragments: &["421 4.4.1", "connection timed out"],
        meaning: "Inside 4.4.395 toward Exchange Online, `421 4.4.1 Connection timed out` names no cause by itself: in the documented hybrid case the session failed on your side during TLS, and the SmtpSend protocol log showed `TLS negotiation failed with error NoCredentials`.",
        causes: "the certificate the send connector presents has no usable private key: a key-less copy with the same issuer and subject shadows it (often on an Edge server), it was imported without its key, or TlsCertificateName names a certificate that is not usable; otherwise a network problem toward Exchange Online.",
        rules: &[&rules::KEYLESS_SHADOW, &rules::SEND_CONNECTOR_CERTIFICATE, &rules::NAMED_CERTIFICATE_UNSUITABLE],
        export: SEND_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Wrapped,
        fragments: &["5.7.3 starttls is required", "must issue a starttls command", "starttls is required"],
        meaning: "Inside 4.4.395 toward Exchange Online, `451 5.7.3 STARTTLS is required` means your sending server did not establish TLS with Exchange Online, which requires it from a hybrid server.",
        causes: "the send connector's certificate is not usable on this server (TlsCertificateName names a missing or invalid certificate, or only a key-less copy is there); or a firewall that inspects SMTP strips STARTTLS (the one source for this case is a blog post).",
        rules: &[&rules::SEND_CONNECTOR_CERTIFICATE, &rules::KEYLESS_SHADOW, &rules::TLS12_DISABLED, &rules::DOTNET_STRONG_CRYPTO, &rules::EXCHANGE_BUILD_BEFORE_TLS12],
        export: SEND_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["5.7.51", "tenantinboundattribution"],
        meaning: "Exchange Online matched an inbound connector of type Partner to the message's domain, and that connector accepts mail only from a server whose TLS certificate subject matches its TlsSenderCertificateName (RestrictDomainsToCertificate) or only from its IP addresses (RestrictDomainsToIPAddresses); the connection from your server did not satisfy it.",
        causes: "the certificate your send connector to Exchange Online presents does not match the inbound connector's TlsSenderCertificateName: TlsCertificateName names another certificate, or names none so a default certificate is presented; or TlsSenderCertificateName does not match the certificate (and, when it is not a wildcard, is not an accepted domain).",
        rules: &[&rules::SEND_CONNECTOR_CERTIFICATE, &rules::KEYLESS_SHADOW, &rules::INBOUND_CONNECTOR_CERTIFICATE],
        export: "on premises: Get-SendConnector and Get-ExchangeCertificate on each source transport server (or `hybridtls collect`) and the SmtpSend protocol log row `Certificate thumbprint`; in Exchange Online PowerShell: `Get-InboundConnector | ConvertTo-Json -Depth 4 | Out-File inbound-connectors.json`, given to `hybridtls plan` with the rest (HT030 compares its TlsSenderCertificateName)",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["subjectmismatch", "subject mismatch"],
        meaning: "Exchange Online connected to your server but the certificate it presented does not carry the name Exchange Online expects (its outbound connector's TlsDomain / smart host).",
        causes: "the hybrid receive connector has no TlsCertificateName, so the self-signed certificate is presented; or TlsCertificateName names a certificate that does not cover the hybrid FQDN; or one of several hybrid servers is set up differently.",
        rules: &[&rules::NO_CERTIFICATE_NAME, &rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::NAMED_CERTIFICATE_AMBIGUOUS, &rules::OUTBOUND_CONNECTOR_TLS_DOMAIN],
        export: "on each hybrid server: Get-ReceiveConnector and Get-ExchangeCertificate (or run `hybridtls collect`), plus the FrontEnd SmtpReceive protocol log rows `Sending certificate` ... `Certificate thumbprint`; in Exchange Online PowerShell: `Get-OutboundConnector | ConvertTo-Json -Depth 4 | Out-File outbound-connectors.json`, given to `hybridtls plan` with the rest (HT031 compares its TlsDomain)",
    },
    Symptom {
        unless: &["subjectmismatch", "subject mismatch"],
        scope: Scope::Anywhere,
        fragments: &["4.7.320"],
        meaning: "Exchange Online could not validate the certificate your server presented; the `MSG=` field of the message trace says why, and that reason is the explanation (a SubjectMismatch is explained above; UntrustedRoot and an expired certificate below). Without `MSG=`, SubjectMismatch is the case on record.",
        causes: "what `MSG=` names: the subject does not carry the expected name (SubjectMismatch), the chain ends in a root Exchange Online does not trust (UntrustedRoot), the certificate expired; paste the whole line with its `MSG=` for the rules of that reason.",
        rules: &[&rules::NO_CERTIFICATE_NAME, &rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::OUTBOUND_CONNECTOR_TLS_DOMAIN],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["unknowncredentials"],
        meaning: "The TLS handshake failed on your side: Exchange selected a certificate it cannot use for SMTP.",
        causes: "first, the certificate is not enabled for the SMTP service (Services lacks SMTP: Exchange still selects it by TlsCertificateName or FQDN and TLS then fails, KB 4051498); or it has no usable private key (a key-less copy shadows it, or it was imported without its key).",
        rules: &[&rules::NOT_ENABLED_FOR_SMTP, &rules::KEYLESS_SHADOW, &rules::NAMED_CERTIFICATE_UNSUITABLE],
        export: STORE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["nocredentials"],
        meaning: "The TLS handshake failed on your side: the certificate Exchange selected has no usable private key.",
        causes: "a copy of the certificate without its private key shadows the real one (same issuer and subject); or the certificate was imported without its key; or several copies match and Exchange picks the wrong one.",
        rules: &[&rules::KEYLESS_SHADOW, &rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::NAMED_CERTIFICATE_AMBIGUOUS],
        export: STORE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["12014", "could not find a certificate that contains the domain name"],
        meaning: "Exchange found no certificate for the connector and does not offer STARTTLS on it.",
        causes: "TlsCertificateName names a certificate that was removed or renewed (often with a new issuer), or Exchange does not take it (Status RevocationCheckFailure when the server cannot reach the CRL/OCSP endpoints, Untrusted, Revoked; expired only under the decompiled 2013 code, Learn says an expired one logs 12016 and is still offered); or with TlsCertificateName null no certificate covers the connector FQDN.",
        rules: &[&rules::NAMED_CERTIFICATE_MISSING, &rules::NO_CERTIFICATE_NAME],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Direct,
        fragments: &["5.7.3 starttls is required", "must issue a starttls command", "starttls is required"],
        meaning: "TLS was required but not established: your server did not offer STARTTLS, or Exchange Online's side refused it.",
        causes: "the certificate named by TlsCertificateName is not installed or not valid (event 12014); or the connector's AuthMechanism lacks Tls; or a firewall strips STARTTLS. The protocol log's EHLO response shows which side did not offer it (HT055).",
        rules: &[&rules::NAMED_CERTIFICATE_MISSING, &rules::TLS_NOT_OFFERED, &rules::NO_CERTIFICATE_NAME, &rules::TLS12_DISABLED, &rules::EXCHANGE_BUILD_BEFORE_TLS12, &rules::PROTOCOL_LOG_TLS_FAILURES],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["requires tls before mailfrom"],
        meaning: "An SmtpSend protocol log row: the send connector requires TLS, TLS did not start, and Exchange dropped the connection before MAIL FROM.",
        causes: "the remote, or a device in the path, offered no STARTTLS or refused it: Exchange Online always offers it, so a firewall's SMTP inspection that strips or masks it (`XXXXXXXA` in the EHLO response rows of the session) or a relay in between is likely; a `TLS negotiation failed with error ...` row before it names a failed handshake instead.",
        rules: &[&rules::PROTOCOL_LOG_TLS_FAILURES, &rules::TLS12_DISABLED],
        export: "the SmtpSend protocol log of the failed sessions on the source transport servers (or `hybridtls collect`, which copies it)",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["attr36"],
        meaning: "`550 5.7.64 TenantAttribution; Relay Access Denied ATTR36`: Exchange Online attributed the connection by certificate, and the certificate's subject is not an accepted domain of the tenant (KB 4019940, as issue 19 cites it).",
        causes: "the certificate the send connector presents names a domain that is not an accepted domain in Exchange Online, or the inbound connector's TlsSenderCertificateName is not one; add the domain as an accepted domain or present a certificate for one.",
        rules: &[&rules::INBOUND_CONNECTOR_CERTIFICATE, &rules::SEND_CONNECTOR_CERTIFICATE],
        export: "on premises: Get-SendConnector and Get-ExchangeCertificate on each source transport server (or `hybridtls collect`); in Exchange Online PowerShell: `Get-AcceptedDomain` and `Get-InboundConnector | ConvertTo-Json -Depth 4 | Out-File inbound-connectors.json`",
    },
    Symptom {
        unless: &["attr36"],
        scope: Scope::Anywhere,
        fragments: &["5.7.64", "tenantattribution", "800b0109"],
        meaning: "Exchange Online could not attribute the connection to your tenant's inbound connector: it could not validate your server's certificate chain.",
        causes: "the server does not send the intermediate CA certificates because they are missing from Cert:\\LocalMachine\\CA (KB 3212877); or the certificate's name does not match the inbound connector's TlsSenderCertificateName.",
        rules: &[&rules::MISSING_INTERMEDIATE, &rules::ROOT_NOT_TRUSTED, &rules::SEND_CONNECTOR_CERTIFICATE, &rules::INBOUND_CONNECTOR_CERTIFICATE],
        export: CHAIN_EXPORTS,
    },
    Symptom {
        unless: &["certificate validation failure"],
        scope: Scope::Anywhere,
        fragments: &["454 4.7.5", "tlscertificatename of the sendconnector could not be found", "certificate specified in tlscertificatename"],
        meaning: "The send connector's TlsCertificateName names a certificate Exchange cannot find in Cert:\\LocalMachine\\My.",
        causes: "the certificate was renewed or removed and the send connector (\"Outbound to Office 365\") still names the old one, or it is not valid.",
        rules: &[&rules::SEND_CONNECTOR_CERTIFICATE, &rules::NAMED_CERTIFICATE_MISSING],
        export: "Get-SendConnector and Get-ExchangeCertificate on each source transport server (or `hybridtls collect`)",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["4.7.5 certificate validation failure"],
        meaning: "A TLS certificate failed validation between two servers; unlike `454 4.7.5 The certificate specified in TlsCertificateName ...` it does not say the certificate is missing.",
        causes: "the certificates of the Mailbox and the Edge server do not match (after a renewal on one side), or one has expired; or the peer's certificate is not trusted because a root or intermediate is missing.",
        rules: &[&rules::SEND_CONNECTOR_CERTIFICATE, &rules::CERTIFICATE_EXPIRING, &rules::ROOT_NOT_TRUSTED],
        export: SEND_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["12016", "12018", "certexpired"],
        meaning: "A certificate used for STARTTLS has expired or expires soon.",
        causes: "the hybrid certificate was not renewed, or the renewed one is not the one the connector names.",
        rules: &[&rules::CERTIFICATE_EXPIRING, &rules::NAMED_CERTIFICATE_MISSING],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["421 4.4.2"],
        meaning: "The TLS handshake (or the connection during it) was dropped: the two sides found no TLS version or cipher suite in common, or one side reset the connection.",
        causes: "TLS 1.2, which Exchange Online requires, is disabled in SCHANNEL for the client or server side, .NET is not set to use the system's TLS versions (SchUseStrongCrypto, SystemDefaultTlsVersions), the Exchange build predates TLS 1.2, or TLS 1.3 is enabled where it is not supported; otherwise a firewall or network device in the path.",
        rules: &[&rules::TLS12_DISABLED, &rules::DOTNET_STRONG_CRYPTO, &rules::TLS_SETTINGS_MISMATCHED, &rules::EXCHANGE_BUILD_BEFORE_TLS12, &rules::TLS13_UNSUPPORTED],
        export: "`hybridtls collect` on the server (tls-settings.json: the SCHANNEL and .NET TLS values, the cipher suites, the builds), plus the protocol log rows of the failed sessions",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["untrustedroot", "untrusted root"],
        meaning: "The peer could not build a chain to a root it trusts. In hybrid mail flow (`454 4.7.0 Failed to establish appropriate TLS channel: UntrustedRoot: Access Denied` on premises, `450 4.4.317 ... UntrustedRoot` in Exchange Online) the documented cause is a certificate from a non-public CA: one your organisation issued (KB 2888788), which hybrid mail transport does not support; a missing intermediate is a different error (5.7.64).",
        causes: "a certificate from your organisation's own CA (Get-ExchangeCertificate `RootCAType` Enterprise, GroupPolicy or Registry), even when its root is in every server's Root store: replace it with one from a public CA; less often a root missing from Cert:\\LocalMachine\\Root.",
        rules: &[&rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::NO_QUALIFYING_CERTIFICATE, &rules::ROOT_NOT_TRUSTED],
        export: "on each hybrid server: Get-ExchangeCertificate with RootCAType (or run `hybridtls collect`), and the CA and Root store listings",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["4.7.321", "4.7.322", "4.7.323", "4.7.324", "4.7.325", "starttls-not-supported", "certificate-expired", "tlsa-invalid", "dnssec-invalid", "certificate-host-mismatch"],
        meaning: "An SMTP DANE result of Exchange Online's outbound mail (Microsoft Learn, \"How SMTP DNS-based Authentication of Named Entities (DANE) works\"): 4.7.321 starttls-not-supported, 4.7.322 certificate-expired, 4.7.323 tlsa-invalid, 4.7.324 dnssec-invalid, 4.7.325 certificate-host-mismatch, for a destination domain with DNSSEC-signed TLSA records.",
        causes: "the destination's DANE setup (its TLSA records, DNSSEC, or its certificate against them); hybrid mail to on-premises over the OnPremises outbound connector is judged by the connector's TlsSettings, not DANE. When the destination is your own server reached by MX with TLSA records, 4.7.322 is its certificate's expiry.",
        rules: &[&rules::CERTIFICATE_EXPIRING],
        export: "the destination domain's MX, TLSA and DNSSEC records (Resolve-DnsName -Type TLSA _25._tcp.<mx host>), and on premises `hybridtls collect` when the destination is your server",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["temporary authentication failure"],
        meaning: "`454 4.7.0 Temporary authentication failure` is an authentication failure between servers (Kerberos, with Exchange Server authentication), not TLS.",
        causes: "Kerberos between the Exchange servers: clock skew, service principal names, the computer account's secure channel; no certificate rule explains it.",
        rules: &[],
        export: "the SmtpReceive protocol log of the session on the receiving server and the System event log (Kerberos and Netlogon events)",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["sending certificate", "certificate subject", "certificate thumbprint", "remote certificate", "received certificate"],
        meaning: "A protocol log row about a certificate: `Sending certificate` and the rows after it show the certificate a connector presented in that session, `Remote certificate` and `Received certificate` the one the other side presented.",
        causes: "when Exchange Online refuses the connection, this is the certificate to compare: with the TlsDomain of Exchange Online's outbound connector on the receive side (SmtpReceive), with the TlsSenderCertificateName of its inbound connector on the send side (SmtpSend). A CN without a domain is Exchange's self-signed certificate: TlsCertificateName is not set, or names a certificate Exchange does not use.",
        rules: &[&rules::NO_CERTIFICATE_NAME, &rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::LOG_DISAGREES],
        export: "the protocol log itself: give the RECV*.LOG or SEND*.LOG file to `hybridtls plan` with the exports of that server (or `hybridtls collect`); it reads these rows and says where they contradict the exports (HT016)",
    },
];

/// The inner response of a 4.4.395 wrapper (the text after `->`, up to the end of its
/// `{LED=...}` field), as pasted.
pub fn inner_response(text: &str) -> Option<&str> {
    if !text.to_lowercase().contains(WRAPPER) {
        return None;
    }
    let (_, inner) = text.split_once("->")?;
    let end = inner.find(['}', ']', '\n']).unwrap_or(inner.len());
    Some(inner[..end].trim()).filter(|inner| !inner.is_empty())
}

/// Every symptom whose fragments occur in `text` (case-insensitive), in table order; one
/// scoped [`Scope::Wrapped`] is looked for only in the inner response of a 4.4.395 wrapper.
/// What [`read`] finds beyond the words (a bare code, another language, a protocol log row)
/// counts as the English text it stands for.
pub fn recognise(text: &str) -> Vec<&'static Symptom> {
    read(text).symptoms
}

/// What `explain` read in a pasted text: the symptoms, and what it understood besides the
/// English words, so that it can say how it read them.
#[derive(Default, serde::Serialize)]
pub struct Reading {
    /// How a bare code or a text in another language was read: the English response it stands
    /// for and why.
    pub read_as: Vec<String>,
    /// The SmtpReceive or SmtpSend protocol log rows pasted as they are, in order.
    pub log_rows: Vec<LogRow>,
    /// The reason a `4.7.320` gives (`MSG=...` or `[Message=...]`), as pasted.
    pub validation_reason: Option<String>,
    #[serde(skip)]
    pub symptoms: Vec<&'static Symptom>,
}

/// One protocol log row (`#Fields: date-time,connector-id,session-id,sequence-number,
/// local-endpoint,remote-endpoint,event,data,context`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LogRow {
    pub connector: String,
    pub session: String,
    pub data: String,
    pub context: String,
    /// What the row tells, when hybridtls can say more than its text.
    pub note: Option<String>,
}

/// An error text as Microsoft's articles in another language print it: SMTP responses are
/// English on the wire, but admins paste them from translated articles, NDRs and traces.
struct Translation {
    /// Lower-case fragments that must all occur.
    fragments: &'static [&'static str],
    language: &'static str,
    /// The English response it translates, which the symptoms know.
    english: &'static str,
}

/// The translations found in Microsoft's and admins' pages (seed 003 quotes the Japanese one;
/// the Spanish ones are learn.microsoft.com/es-es "send-receive-emails-socketerror" and a
/// Spanish Exchange Online message trace). No German or French text of `451 5.7.3` was found:
/// those are read by their codes ([`CODE_PAIRS`]). The other common codes (`4.7.320`, `5.7.64`,
/// `5.7.51`, `4.4.395`, `454 4.7.5`) are recognised by the code alone in any language.
const TRANSLATIONS: &[Translation] = &[
    Translation {
        fragments: &["starttls", "が必要です"],
        language: "Japanese",
        english: "451 5.7.3 STARTTLS is required to send mail",
    },
    Translation {
        fragments: &["starttls", "se requiere"],
        language: "Spanish",
        english: "451 5.7.3 STARTTLS is required to send mail",
    },
    Translation {
        fragments: &["starttls", "debe emitir primero"],
        language: "Spanish",
        english: "451 5.7.3 Must issue a STARTTLS command first",
    },
];

/// A status code and an enhanced code that together name one response whatever the words
/// around them: Exchange answers `451 5.7.3` only when STARTTLS was required and not
/// established (`530 5.7.3` is another error, an unauthenticated client).
const CODE_PAIRS: &[(&str, &str, &str)] = &[("451", "5.7.3", "451 5.7.3 STARTTLS is required to send mail")];

/// Enhanced codes pasted on their own (`5.7.3`, `451 5.7.3`) whose symptom is known only with
/// its words; the other codes the symptoms know are fragments already.
const BARE_CODES: &[(&str, &str)] = &[
    ("5.7.3", "451 5.7.3 STARTTLS is required to send mail"),
    ("4.7.5", "454 4.7.5"),
];

/// Reads `text` as `explain` is given it, then finds its symptoms (see [`recognise`]).
pub fn read(text: &str) -> Reading {
    let mut reading = Reading::default();
    let lower = text.to_lowercase();
    let mut haystack = lower.clone();
    let mut stands_for = |english: &str, why: String, reading: &mut Reading| {
        haystack.push('\n');
        haystack.push_str(&english.to_lowercase());
        reading.read_as.push(format!("`{english}` ({why})"));
    };
    let bare = lower.trim();
    let bare = bare
        .split_once(' ')
        .filter(|(basic, _)| basic.len() == 3 && basic.bytes().all(|b| b.is_ascii_digit()))
        .map_or(bare, |(_, code)| code.trim());
    if let Some((code, english)) = BARE_CODES.iter().find(|(code, _)| *code == bare) {
        stands_for(
            english,
            format!("the code {code} on its own, as Exchange answers with it in hybrid mail flow"),
            &mut reading,
        );
    } else if let Some(translation) = TRANSLATIONS
        .iter()
        .find(|t| t.fragments.iter().all(|f| lower.contains(f)))
    {
        stands_for(
            translation.english,
            format!(
                "{}, as Microsoft's articles in that language print it",
                translation.language
            ),
            &mut reading,
        );
    } else if let Some((basic, enhanced, english)) = CODE_PAIRS.iter().find(|(basic, enhanced, english)| {
        has_code_pair(&lower, basic, enhanced) && !lower.contains(&english.to_lowercase())
    }) {
        if !SYMPTOMS.iter().any(|s| {
            s.fragments
                .iter()
                .any(|f| f.contains(enhanced) && lower.contains(f))
        }) {
            stands_for(
                english,
                format!("by its codes {basic} {enhanced} alone: the words around them are not a text hybridtls knows, in English, Japanese or Spanish"),
                &mut reading,
            );
        }
    }
    for line in text.lines() {
        if let Some(row) = log_row(line) {
            if self_signed_subject(&row) {
                stands_for(
                    "450 4.7.320 Certificate validation failed; MSG=SubjectMismatch",
                    "the certificate in the log row names no domain: what Exchange Online answers to it"
                        .to_owned(),
                    &mut reading,
                );
            }
            reading.log_rows.push(row);
        }
    }
    reading.validation_reason = validation_reason(text);
    let other_reason = reading
        .validation_reason
        .as_deref()
        .is_some_and(|reason| !reason.to_ascii_lowercase().contains("subjectmismatch"));
    reading.symptoms = matching(&haystack, other_reason);
    reading
}

fn matching(lower: &str, other_validation_reason: bool) -> Vec<&'static Symptom> {
    let wrapped = lower.contains(WRAPPER);
    // Inside the wrapper only the inner response says what went wrong.
    let inner = if wrapped {
        lower.split_once("->").map_or("", |(_, inner)| inner)
    } else {
        ""
    };
    let mut found: Vec<&'static Symptom> = SYMPTOMS
        .iter()
        .filter(|symptom| {
            let haystack = match symptom.scope {
                Scope::Anywhere => lower,
                Scope::Direct if !wrapped => lower,
                Scope::Wrapped if wrapped => inner,
                Scope::Direct | Scope::Wrapped => return false,
            };
            // A 4.7.320 for another reason than the name is not the SubjectMismatch symptom.
            let subject_mismatch = symptom.fragments.contains(&"4.7.320");
            symptom
                .fragments
                .iter()
                .any(|fragment| haystack.contains(fragment))
                && !symptom.unless.iter().any(|fragment| lower.contains(fragment))
                && !(subject_mismatch && other_validation_reason)
        })
        .collect();
    if other_validation_reason {
        found.push(&VALIDATION_FAILED_OTHER);
    }
    found
}

/// `450 4.7.320 Certificate validation failed` with another `MSG=` reason than
/// SubjectMismatch. The reasons are not documented verbatim (the Mail flow intelligence page
/// names "Certificate expired", "Certificate subject mismatch", "Certificate is no longer
/// valid"), so the rules are every other reason Exchange Online can have to refuse it.
pub static VALIDATION_FAILED_OTHER: Symptom = Symptom {
    unless: &[],
    scope: Scope::Anywhere,
    fragments: &[],
    meaning: "Exchange Online connected to your server and refused the certificate it presented, for the reason given after `MSG=` (not its name: that is SubjectMismatch).",
    causes: "the certificate has expired or is no longer valid (renewed, but the connector still names the old one); or Exchange Online cannot build its chain because your server does not send the intermediates or the root is not a public one; or the connector names an unsuitable certificate.",
    rules: &[&rules::CERTIFICATE_EXPIRING, &rules::NAMED_CERTIFICATE_MISSING, &rules::MISSING_INTERMEDIATE, &rules::ROOT_NOT_TRUSTED, &rules::NAMED_CERTIFICATE_UNSUITABLE],
    export: RECEIVE_SIDE_EXPORTS,
};

/// Whether `lower` holds the status code `basic` followed by the enhanced code `enhanced`, each
/// a whole code (`451 5.7.3`, not `1451 5.7.30`).
fn has_code_pair(lower: &str, basic: &str, enhanced: &str) -> bool {
    let bytes = lower.as_bytes();
    lower.match_indices(basic).any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_digit() || b == b'.') {
            return false;
        }
        let rest = lower[at + basic.len()..].trim_start_matches([' ', '-']);
        rest.len() < lower.len() - at - basic.len()
            && rest.strip_prefix(enhanced).is_some_and(|after| {
                let digit = |text: &str| text.starts_with(|c: char| c.is_ascii_digit());
                // `5.7.30` and `5.7.3.1` are other codes.
                !(digit(after) || after.strip_prefix('.').is_some_and(digit))
            })
    })
}

/// The reason of a `4.7.320` as Exchange Online's message trace gives it: `{MSG=SubjectMismatch}`
/// or `[Message=SubjectMismatch ...]`; None without one, or when `MSG=` is empty.
fn validation_reason(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if !lower.contains("4.7.320") {
        return None;
    }
    ["msg=", "message="].iter().find_map(|key| {
        let at = lower.find(key)? + key.len();
        let value: String = text
            .get(at..)?
            .chars()
            .take_while(|c| !matches!(c, '}' | ']' | ';' | ',') && !c.is_whitespace())
            .collect();
        Some(value).filter(|v| !v.is_empty())
    })
}

/// The fields of one CSV line as Exchange writes its logs (`"` quotes a field, `""` inside is
/// one quote), character by character: also the oracle the protocol log reader's splitter,
/// which keeps offsets, is tested against.
pub(crate) fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// A protocol log row pasted as it is: nine fields, a date-time first, an event of `+ - > < *`.
fn log_row(line: &str) -> Option<LogRow> {
    let fields = csv_fields(line.trim());
    let [time, connector, session, _, _, _, event, data, context, ..] = fields.as_slice() else {
        return None;
    };
    let date = time.as_bytes();
    let dated = date.len() >= 11
        && date[..4].iter().all(u8::is_ascii_digit)
        && date[4] == b'-'
        && date[7] == b'-'
        && date[10] == b'T';
    if !dated || !["+", "-", ">", "<", "*"].contains(&event.as_str()) {
        return None;
    }
    let mut row = LogRow {
        connector: connector.clone(),
        session: session.clone(),
        data: data.clone(),
        context: context.clone(),
        note: None,
    };
    if context.eq_ignore_ascii_case("Certificate subject") && self_signed_subject(&row) {
        row.note = Some(format!(
            "{data} names no domain, as the self-signed certificate Exchange makes for a server does: Exchange Online expects a certificate for the hybrid name and refuses this one (450 4.7.320 SubjectMismatch)"
        ));
    }
    Some(row)
}

/// Whether a `Certificate subject` row names a certificate whose CN holds no domain.
fn self_signed_subject(row: &LogRow) -> bool {
    row.context.eq_ignore_ascii_case("Certificate subject")
        && crate::model::common_name(&row.data).is_some_and(|cn| !cn.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first rule of the first symptom that names rules (a wrapper names none).
    fn first_rule(text: &str) -> Option<&'static str> {
        recognise(text)
            .iter()
            .find_map(|s| s.rules.first())
            .map(|rule| rule.code)
    }

    fn rules_of(text: &str) -> Vec<&'static str> {
        recognise(text)
            .iter()
            .flat_map(|s| s.rules.iter().map(|rule| rule.code))
            .collect()
    }

    #[test]
    fn tenant_inbound_attribution_is_the_send_connector_certificate() {
        let text = "550 5.7.51 TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain. The connector had either the RestrictDomainsToIPAddresses or RestrictDomainsToCertificate set";
        let found = recognise(text);
        assert_eq!(found.len(), 1, "only the 5.7.51 symptom");
        assert_eq!(first_rule(text), Some("HT015"));
        assert!(found[0].causes.contains("TlsSenderCertificateName"));
        // 5.7.51 is not 5.7.64 TenantAttribution (a missing intermediate).
        assert!(!rules_of(text).contains(&"HT010"));
    }

    #[test]
    fn the_4_4_395_wrapper_is_read_by_its_inner_response() {
        let timed_out = "451 4.4.395 Target host responded with error. -> 421 4.4.1 Connection timed out";
        let found = recognise(timed_out);
        assert_eq!(found.len(), 2, "the wrapper and its inner response");
        assert!(found[0].rules.is_empty() && found[0].meaning.contains("->"));
        assert!(found[1].meaning.contains("NoCredentials"));
        assert_eq!(first_rule(timed_out), Some("HT009"));
        assert_eq!(inner_response(timed_out), Some("421 4.4.1 Connection timed out"));
        // As the queue's LastError shows it.
        let last_error = "LastError : [{LED=451 4.4.395 Target host responded with error. -> 421 4.4.1 Connection timed out};{MSG=};{FQDN=contoso-com.mail.protection.outlook.com}]";
        assert_eq!(inner_response(last_error), Some("421 4.4.1 Connection timed out"));
        assert_eq!(first_rule(last_error), Some("HT009"));

        // 5.7.3 inside the wrapper is the sending side's TLS, not the receive connector's.
        let starttls =
            "451 4.4.395 Target host responded with error. -> 451 5.7.3 STARTTLS is required to send mail";
        assert_eq!(first_rule(starttls), Some("HT015"));
        assert!(!rules_of(starttls).contains(&"HT006"), "{:?}", rules_of(starttls));
        // On its own it still is the receive side.
        assert_eq!(
            first_rule("451 5.7.3 STARTTLS is required to send mail"),
            Some("HT002")
        );
        // A timeout outside the wrapper is not claimed.
        assert!(recognise("421 4.4.1 Connection timed out").is_empty());

        // An inner response hybridtls does not know still explains the wrapper.
        let unknown =
            "451 4.4.395 Target host responded with error. -> 550 5.1.10 RESOLVER.ADR.RecipientNotFound";
        assert_eq!(recognise(unknown).len(), 1);
        assert_eq!(first_rule(unknown), None);
        assert_eq!(
            inner_response(unknown),
            Some("550 5.1.10 RESOLVER.ADR.RecipientNotFound")
        );
        assert_eq!(inner_response("451 5.7.3 STARTTLS is required"), None);
    }

    #[test]
    fn the_two_454_4_7_5_texts_are_told_apart() {
        let missing = "454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found.";
        assert_eq!(recognise(missing).len(), 1);
        assert_eq!(first_rule(missing), Some("HT015"));
        assert!(recognise(missing)[0].meaning.contains("cannot find"));
        // The bare code is the send connector's, as before.
        assert_eq!(first_rule("454 4.7.5"), Some("HT015"));
        let validation = "454 4.7.5 certificate validation failure";
        assert_eq!(recognise(validation).len(), 1);
        assert!(!recognise(validation)[0].meaning.contains("cannot find"));
    }

    #[test]
    fn exchange_online_connector_rules_are_named_for_their_error_texts() {
        assert!(rules_of("550 5.7.64 TenantAttribution; Relay Access Denied").contains(&"HT030"));
        assert!(rules_of("550 5.7.51 TenantInboundAttribution").contains(&"HT030"));
        let mismatch = "450 4.7.320 Certificate validation failed; MSG=SubjectMismatch";
        assert!(rules_of(mismatch).contains(&"HT031"));
        assert!(recognise(mismatch)[0].export.contains("Get-OutboundConnector"));
    }

    /// Issue 19 point 7: corrections to what the error texts mean, each checked against its source.
    #[test]
    fn corrected_texts_name_their_documented_cause_first() {
        // TLS 1.2 first (Learn, "Mail flow errors caused by TLS 1.0 and TLS 1.1 disablement").
        for text in [
            "451 5.7.3 Must issue a STARTTLS command first",
            "TLS negotiation failed with error SocketError",
        ] {
            assert!(recognise(text)[0].meaning.contains("TLS 1.2"), "{text}");
        }
        // UntrustedRoot is a non-public CA (KB 2888788), not a missing intermediate.
        let untrusted = "454 4.7.0 Failed to establish appropriate TLS channel: UntrustedRoot: Access Denied";
        assert_eq!(first_rule(untrusted), Some("HT003"));
        assert!(!rules_of(untrusted).contains(&"HT010"));
        // ATTR36: the subject is not an accepted domain (KB 4019940).
        let attr36 = "550 5.7.64 TenantAttribution; Relay Access Denied ATTR36";
        assert_eq!(recognise(attr36).len(), 1);
        assert!(recognise(attr36)[0].meaning.contains("accepted domain"));
        // 4.7.321 to 4.7.325 are Exchange Online's DANE results.
        for code in ["4.7.321", "4.7.322", "4.7.323", "4.7.324", "4.7.325"] {
            let found = recognise(code);
            assert_eq!(found.len(), 1, "{code}");
            assert!(found[0].meaning.contains("DANE"), "{code}");
        }
        // Kerberos, not TLS: no certificate rule.
        let kerberos = "454 4.7.0 Temporary authentication failure";
        assert_eq!(recognise(kerberos).len(), 1);
        assert!(recognise(kerberos)[0].meaning.contains("Kerberos"));
        assert_eq!(first_rule(kerberos), None);
        // A 4.7.320 is explained by its MSG= reason.
        let expired = "450 4.7.320 Certificate validation failed; MSG=UntrustedRoot";
        assert!(recognise(expired)
            .iter()
            .any(|s| s.meaning.contains("non-public CA")));
        assert!(!recognise(expired)
            .iter()
            .any(|s| s.fragments.contains(&"subjectmismatch")));
    }

    #[test]
    fn the_known_error_texts_map_to_their_rules() {
        assert_eq!(
            first_rule("Reason: [{LED=450 4.7.320 Certificate validation failed};{MSG=SubjectMismatch}]"),
            Some("HT001")
        );
        assert_eq!(
            first_rule("TLS negotiation failed with error NoCredentials"),
            Some("HT009")
        );
        // A certificate not enabled for SMTP comes first for UnknownCredentials (KB 4051498).
        assert_eq!(
            first_rule("TLS negotiation failed with error UnknownCredentials"),
            Some("HT020")
        );
        assert_eq!(
            first_rule("Event ID: 12014 Microsoft Exchange could not find a certificate"),
            Some("HT002")
        );
        assert_eq!(
            first_rule("451 5.7.3 STARTTLS is required to send mail"),
            Some("HT002")
        );
        assert_eq!(
            first_rule("550 5.7.64 TenantAttribution; Relay Access Denied"),
            Some("HT010")
        );
        assert_eq!(
            first_rule("454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be found."),
            Some("HT015")
        );
        assert!(recognise("550 5.1.1 User unknown").is_empty());
    }

    #[test]
    fn bare_codes_are_read_as_the_response_they_stand_for() {
        for bare in ["5.7.3", " 451 5.7.3 ", "4.7.320", "4.7.5"] {
            assert!(!recognise(bare).is_empty(), "{bare}");
        }
        assert_eq!(first_rule("5.7.3"), Some("HT002"));
        assert_eq!(read("5.7.3").read_as.len(), 1);
        assert_eq!(first_rule("4.7.5"), Some("HT015"));
        // A code inside another code is not that code, and 530 5.7.3 is another error.
        assert!(recognise("5.7.30").is_empty());
        assert!(recognise("530 5.7.3 Client was not authenticated").is_empty());
        // 5.7.321 is a DANE result of its own, never the 5.7.3 it begins with.
        let starttls_required = recognise("451 5.7.3 STARTTLS is required to send mail")[0];
        assert!(recognise("5.7.321 starttls-not-supported")
            .iter()
            .all(|symptom| !std::ptr::eq(*symptom, starttls_required)));
    }

    #[test]
    fn other_languages_are_read_by_their_translations_or_their_codes() {
        // Seed 003, as Microsoft's Japanese article quotes it.
        let japanese = "450 4.4.101 プロキシ セッションのセットアップにおいて、‘451 4.4.0 プライマリの対象 IP アドレスが “電子メールの送信には 451 5.7.3 STARTTLS が必要です。” と応答しました。";
        assert_eq!(first_rule(japanese), Some("HT002"));
        assert!(
            read(japanese).read_as[0].contains("Japanese"),
            "{:?}",
            read(japanese).read_as
        );
        // Each Spanish text reads as the English one it translates.
        for (spanish, english) in [
            (
                "451 5.7.3 Debe emitir primero un comando STARTTLS.",
                "451 5.7.3 Must issue a STARTTLS command first",
            ),
            (
                "450 4.4.317 No se puede conectar al servidor remoto. 5.7.3 Se requiere STARTTLS para enviar correo",
                "451 5.7.3 STARTTLS is required to send mail",
            ),
        ] {
            assert_eq!(first_rule(spanish), first_rule(english), "{spanish}");
            assert!(first_rule(spanish).is_some(), "{spanish}");
            assert!(read(spanish).read_as[0].contains("Spanish"), "{spanish}");
        }
        // No German or French text was found: they are read by `451 5.7.3`, and say so.
        for other in [
            "451 5.7.3 STARTTLS ist zum Senden von E-Mails erforderlich",
            "451 5.7.3 STARTTLS est requis pour envoyer du courrier",
        ] {
            assert_eq!(first_rule(other), Some("HT002"), "{other}");
            assert!(
                read(other).read_as[0].contains("by its codes 451 5.7.3"),
                "{other}"
            );
        }
        // The English text needs no reading.
        assert!(read("451 5.7.3 STARTTLS is required to send mail")
            .read_as
            .is_empty());
        // The other common codes are their own fragments in any language.
        assert_eq!(
            first_rule("550 5.7.64 TenantAttribution; Relayzugriff verweigert SMTP"),
            first_rule("550 5.7.64 TenantAttribution; Relay Access Denied SMTP")
        );
        assert_eq!(
            first_rule("550 5.7.64 Accès au relais refusé ATTR36"),
            first_rule("550 5.7.64 TenantAttribution; Relay Access Denied ATTR36")
        );
        assert!(first_rule("550 5.7.64 Accès au relais refusé ATTR36").is_some());
    }

    #[test]
    fn protocol_log_rows_are_read_as_pasted() {
        // Seed 000's SmtpReceive rows: the self-signed certificate was sent.
        let rows = "2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,20,172.20.102.10:25,155.39.36.248:30648,*,,Sending certificate\n\
            2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,21,172.20.102.10:25,155.39.36.248:30648,*,CN=SERVER1,Certificate subject\n\
            2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,25,172.20.102.10:25,155.39.36.248:30648,*,SERVER1;SERVER1.domain.com,Certificate alternate names";
        let reading = read(rows);
        assert_eq!(reading.log_rows.len(), 3);
        assert_eq!(reading.log_rows[1].connector, "SERVER1\\Default Frontend SERVER1");
        assert_eq!(reading.log_rows[1].data, "CN=SERVER1");
        assert!(reading.log_rows[1]
            .note
            .as_deref()
            .unwrap()
            .contains("self-signed"));
        assert_eq!(first_rule(rows), Some("HT001"));
        // A certificate for a real name is shown, not called self-signed; the rows still say
        // which rules compare it.
        let named = "2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,21,172.20.102.10:25,155.39.36.248:30648,*,\"CN=mail.contoso.com, O=Contoso, C=US\",Certificate subject";
        let reading = read(named);
        assert_eq!(reading.log_rows[0].data, "CN=mail.contoso.com, O=Contoso, C=US");
        assert_eq!(reading.log_rows[0].note, None);
        assert!(reading.read_as.is_empty());
        assert_eq!(first_rule(named), Some("HT001"));
        assert!(rules_of(named).contains(&"HT016"));
        // Seed 002's SmtpSend row.
        let send = "2019-05-02T06:32:14.125Z,Outbound to Office 365,08D6CEBC4A4B1C7D,5,10.0.0.5:21234,104.47.2.36:25,*,,TLS negotiation failed with error NoCredentials";
        assert_eq!(read(send).log_rows[0].connector, "Outbound to Office 365");
        assert_eq!(first_rule(send), Some("HT009"));
        // Not a log row: no date first.
        assert!(read("a,b,c,d,e,f,*,g,h").log_rows.is_empty());
    }

    #[test]
    fn a_4_7_320_for_another_reason_is_not_subject_mismatch() {
        let expired = "Reason: [{LED=450 4.7.320 Certificate validation failed};{MSG=CertificateExpired};{FQDN=hybrid.domain.com}]";
        let reading = read(expired);
        assert_eq!(reading.validation_reason.as_deref(), Some("CertificateExpired"));
        assert_eq!(reading.symptoms.len(), 1);
        assert!(std::ptr::eq(reading.symptoms[0], &VALIDATION_FAILED_OTHER));
        assert_eq!(first_rule(expired), Some("HT012"));
        assert!(!rules_of(expired).contains(&"HT001"));
        let bracketed = "450 4.7.320 Certificate validation failed [Message=UntrustedRoot] [LastAttemptedServerName=mail.contoso.com]";
        assert_eq!(
            read(bracketed).validation_reason.as_deref(),
            Some("UntrustedRoot")
        );
        assert!(rules_of(bracketed).contains(&"HT010"));
        // SubjectMismatch, or no reason, is the name.
        for name in [
            "Reason: [{LED=450 4.7.320 Certificate validation failed};{MSG=SubjectMismatch}]",
            "450 4.7.320 Certificate validation failed; {MSG=}",
        ] {
            assert_eq!(first_rule(name), Some("HT001"), "{name}");
        }
    }

    /// Issue 20: the texts of a TLS version Exchange Online refuses point to the TLS settings.
    #[test]
    fn socket_errors_and_starttls_first_point_to_the_tls_settings() {
        for text in [
            "421 4.4.2 Connection dropped due to SocketError",
            "TLS negotiation failed with error SocketError",
        ] {
            assert_eq!(first_rule(text), Some("HT050"), "{text}");
            assert!(rules_of(text).contains(&"HT051") && rules_of(text).contains(&"HT054"));
            assert!(recognise(text)[0].export.contains("tls-settings.json"));
        }
        let first = "451 5.7.3 Must issue a STARTTLS command first";
        assert!(rules_of(first).contains(&"HT050"), "{:?}", rules_of(first));
        assert!(rules_of(first).contains(&"HT053"));
    }
}
