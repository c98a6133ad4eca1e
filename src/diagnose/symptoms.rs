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
        fragments: &["4.7.320", "subjectmismatch", "subject mismatch"],
        meaning: "Exchange Online connected to your server but the certificate it presented does not carry the name Exchange Online expects (its outbound connector's TlsDomain / smart host).",
        causes: "the hybrid receive connector has no TlsCertificateName, so the self-signed certificate is presented; or TlsCertificateName names a certificate that does not cover the hybrid FQDN; or one of several hybrid servers is set up differently.",
        rules: &[&rules::NO_CERTIFICATE_NAME, &rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::NAMED_CERTIFICATE_AMBIGUOUS, &rules::OUTBOUND_CONNECTOR_TLS_DOMAIN],
        export: "on each hybrid server: Get-ReceiveConnector and Get-ExchangeCertificate (or run `hybridtls collect`), plus the FrontEnd SmtpReceive protocol log rows `Sending certificate` ... `Certificate thumbprint`; in Exchange Online PowerShell: `Get-OutboundConnector | ConvertTo-Json -Depth 4 | Out-File outbound-connectors.json`, given to `hybridtls plan` with the rest (HT031 compares its TlsDomain)",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["nocredentials", "unknowncredentials"],
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
        causes: "TlsCertificateName names a certificate that was removed or renewed (often with a new issuer), or it is expired or invalid; or with TlsCertificateName null no certificate covers the connector FQDN.",
        rules: &[&rules::NAMED_CERTIFICATE_MISSING, &rules::NO_CERTIFICATE_NAME],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Direct,
        fragments: &["5.7.3 starttls is required", "must issue a starttls command", "starttls is required"],
        meaning: "TLS was required but not established: your server did not offer STARTTLS, or Exchange Online's side refused it.",
        causes: "the certificate named by TlsCertificateName is not installed or not valid (event 12014); or the connector's AuthMechanism lacks Tls; or a firewall strips STARTTLS.",
        rules: &[&rules::NAMED_CERTIFICATE_MISSING, &rules::TLS_NOT_OFFERED, &rules::NO_CERTIFICATE_NAME, &rules::TLS12_DISABLED, &rules::EXCHANGE_BUILD_BEFORE_TLS12],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
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
        fragments: &["12016", "12018", "certexpired", "certificate-expired", "4.7.322"],
        meaning: "A certificate used for STARTTLS has expired or expires soon.",
        causes: "the hybrid certificate was not renewed, or the renewed one is not the one the connector names.",
        rules: &[&rules::CERTIFICATE_EXPIRING, &rules::NAMED_CERTIFICATE_MISSING],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["socketerror", "421 4.4.2"],
        meaning: "The TLS handshake (or the connection during it) was dropped: the two sides found no TLS version or cipher suite in common, or one side reset the connection.",
        causes: "TLS 1.2, which Exchange Online requires, is disabled in SCHANNEL for the client or server side, .NET is not set to use the system's TLS versions (SchUseStrongCrypto, SystemDefaultTlsVersions), the Exchange build predates TLS 1.2, or TLS 1.3 is enabled where it is not supported; otherwise a firewall or network device in the path.",
        rules: &[&rules::TLS12_DISABLED, &rules::DOTNET_STRONG_CRYPTO, &rules::TLS_SETTINGS_MISMATCHED, &rules::EXCHANGE_BUILD_BEFORE_TLS12, &rules::TLS13_UNSUPPORTED],
        export: "`hybridtls collect` on the server (tls-settings.json: the SCHANNEL and .NET TLS values, the cipher suites, the builds), plus the protocol log rows of the failed sessions",
    },
    Symptom {
        unless: &[],
        scope: Scope::Anywhere,
        fragments: &["untrustedroot", "untrusted root"],
        meaning: "The peer could not build a chain to a trusted root.",
        causes: "intermediates missing from Cert:\\LocalMachine\\CA, or the root missing from Cert:\\LocalMachine\\Root.",
        rules: &[&rules::MISSING_INTERMEDIATE, &rules::ROOT_NOT_TRUSTED],
        export: CHAIN_EXPORTS,
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
pub fn recognise(text: &str) -> Vec<&'static Symptom> {
    let lower = text.to_lowercase();
    let wrapped = lower.contains(WRAPPER);
    // Inside the wrapper only the inner response says what went wrong.
    let inner = if wrapped {
        lower.split_once("->").map_or("", |(_, inner)| inner)
    } else {
        ""
    };
    SYMPTOMS
        .iter()
        .filter(|symptom| {
            let haystack = match symptom.scope {
                Scope::Anywhere => lower.as_str(),
                Scope::Direct if !wrapped => lower.as_str(),
                Scope::Wrapped if wrapped => inner,
                Scope::Direct | Scope::Wrapped => return false,
            };
            symptom
                .fragments
                .iter()
                .any(|fragment| haystack.contains(fragment))
                && !symptom.unless.iter().any(|fragment| lower.contains(fragment))
        })
        .collect()
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
