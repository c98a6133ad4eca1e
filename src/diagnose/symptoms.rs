//! Error texts admins paste from NDRs, queues, protocol logs and events, mapped to the rules
//! that explain them and the exports that confirm which one applies.

use super::rules::{self, Rule};

pub struct Symptom {
    /// Lower-case fragments; any one of them identifies the symptom.
    pub fragments: &'static [&'static str],
    pub meaning: &'static str,
    pub causes: &'static str,
    pub rules: &'static [&'static Rule],
    pub export: &'static str,
}

const RECEIVE_SIDE_EXPORTS: &str = "on each hybrid server: Get-ReceiveConnector and Get-ExchangeCertificate (or run `hybridtls collect`), plus the FrontEnd SmtpReceive protocol log rows `Sending certificate` ... `Certificate thumbprint`";
const STORE_EXPORTS: &str = "on the server that sends: `hybridtls collect` (it lists Cert:\\LocalMachine\\My with HasPrivateKey), plus the SmtpSend protocol log row with the certificate thumbprint";
const CHAIN_EXPORTS: &str = "`hybridtls collect` on the sending server (CA and Root store listings) and the intermediate certificates from your CA as .cer or .pem files";

pub const SYMPTOMS: &[Symptom] = &[
    Symptom {
        fragments: &["4.7.320", "subjectmismatch", "subject mismatch"],
        meaning: "Exchange Online connected to your server but the certificate it presented does not carry the name Exchange Online expects (its outbound connector's TlsDomain / smart host).",
        causes: "the hybrid receive connector has no TlsCertificateName, so the self-signed certificate is presented; or TlsCertificateName names a certificate that does not cover the hybrid FQDN; or one of several hybrid servers is set up differently.",
        rules: &[&rules::NO_CERTIFICATE_NAME, &rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::NAMED_CERTIFICATE_AMBIGUOUS],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        fragments: &["nocredentials", "unknowncredentials"],
        meaning: "The TLS handshake failed on your side: the certificate Exchange selected has no usable private key.",
        causes: "a copy of the certificate without its private key shadows the real one (same issuer and subject); or the certificate was imported without its key; or several copies match and Exchange picks the wrong one.",
        rules: &[&rules::KEYLESS_SHADOW, &rules::NAMED_CERTIFICATE_UNSUITABLE, &rules::NAMED_CERTIFICATE_AMBIGUOUS],
        export: STORE_EXPORTS,
    },
    Symptom {
        fragments: &["12014", "could not find a certificate that contains the domain name"],
        meaning: "Exchange found no certificate for the connector and does not offer STARTTLS on it.",
        causes: "TlsCertificateName names a certificate that was removed or renewed (often with a new issuer), or it is expired or invalid; or with TlsCertificateName null no certificate covers the connector FQDN.",
        rules: &[&rules::NAMED_CERTIFICATE_MISSING, &rules::NO_CERTIFICATE_NAME],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        fragments: &["5.7.3 starttls is required", "must issue a starttls command", "starttls is required"],
        meaning: "TLS was required but not established: your server did not offer STARTTLS, or Exchange Online's side refused it.",
        causes: "the certificate named by TlsCertificateName is not installed or not valid (event 12014); or the connector's AuthMechanism lacks Tls; or a firewall strips STARTTLS.",
        rules: &[&rules::NAMED_CERTIFICATE_MISSING, &rules::TLS_NOT_OFFERED, &rules::NO_CERTIFICATE_NAME],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        fragments: &["5.7.64", "tenantattribution", "800b0109"],
        meaning: "Exchange Online could not attribute the connection to your tenant's inbound connector: it could not validate your server's certificate chain.",
        causes: "the server does not send the intermediate CA certificates because they are missing from Cert:\\LocalMachine\\CA (KB 3212877); or the certificate's name does not match the inbound connector's TlsSenderCertificateName.",
        rules: &[&rules::MISSING_INTERMEDIATE, &rules::ROOT_NOT_TRUSTED, &rules::SEND_CONNECTOR_CERTIFICATE],
        export: CHAIN_EXPORTS,
    },
    Symptom {
        fragments: &["454 4.7.5", "tlscertificatename of the sendconnector could not be found"],
        meaning: "The send connector's TlsCertificateName names a certificate Exchange cannot find in Cert:\\LocalMachine\\My.",
        causes: "the certificate was renewed or removed and the send connector (\"Outbound to Office 365\") still names the old one, or it is not valid.",
        rules: &[&rules::SEND_CONNECTOR_CERTIFICATE, &rules::NAMED_CERTIFICATE_MISSING],
        export: "Get-SendConnector and Get-ExchangeCertificate on each source transport server (or `hybridtls collect`)",
    },
    Symptom {
        fragments: &["12016", "12018", "certexpired", "certificate-expired", "4.7.322"],
        meaning: "A certificate used for STARTTLS has expired or expires soon.",
        causes: "the hybrid certificate was not renewed, or the renewed one is not the one the connector names.",
        rules: &[&rules::CERTIFICATE_EXPIRING, &rules::NAMED_CERTIFICATE_MISSING],
        export: RECEIVE_SIDE_EXPORTS,
    },
    Symptom {
        fragments: &["untrustedroot", "untrusted root"],
        meaning: "The peer could not build a chain to a trusted root.",
        causes: "intermediates missing from Cert:\\LocalMachine\\CA, or the root missing from Cert:\\LocalMachine\\Root.",
        rules: &[&rules::MISSING_INTERMEDIATE, &rules::ROOT_NOT_TRUSTED],
        export: CHAIN_EXPORTS,
    },
];

/// Every symptom whose fragments occur in `text` (case-insensitive), in table order.
pub fn recognise(text: &str) -> Vec<&'static Symptom> {
    let lower = text.to_lowercase();
    SYMPTOMS
        .iter()
        .filter(|symptom| symptom.fragments.iter().any(|fragment| lower.contains(fragment)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_rule(text: &str) -> Option<&'static str> {
        recognise(text).first().map(|s| s.rules[0].code)
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
}
