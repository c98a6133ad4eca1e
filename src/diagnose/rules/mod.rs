//! Every diagnosis hybridtls makes is a rule with a stable code. Each rule is a unit, one file
//! per rule in this folder (as in ruff): its documentation and metadata live there, next to its
//! check where the check is the rule's alone; `hybridtls rules` and `hybridtls explain` print the
//! documentation, and the README links to that output.

pub(super) mod ht001_hybrid_connector_without_certificate_name;
pub(super) mod ht002_certificate_name_not_found;
pub(super) mod ht003_certificate_name_selects_unsuitable_certificate;
pub(super) mod ht004_certificate_name_ambiguous;
pub(super) mod ht005_no_qualifying_certificate;
pub(super) mod ht006_hybrid_connector_without_tls;
pub(super) mod ht007_hybrid_fqdn_unknown;
pub(super) mod ht008_hybrid_connector_missing;
pub(super) mod ht009_keyless_duplicate_certificate;
pub(super) mod ht010_missing_intermediate_certificate;
pub(super) mod ht011_root_not_in_root_store;
pub(super) mod ht012_certificate_expiring;
pub(super) mod ht013_weak_rsa_key;
pub(super) mod ht014_sha1_signature;
pub(super) mod ht015_send_connector_certificate_not_usable;
pub(super) mod ht016_protocol_log_disagrees;
pub(super) mod ht017_required_export_missing;
pub(super) mod ht018_auth_certificate_expiring;
pub(super) mod ht030_inbound_connector_certificate_mismatch;
pub(super) mod ht031_outbound_connector_tls_domain_mismatch;
pub(super) mod ht032_narrower_connector_takes_cloud_mail;
pub(super) mod ht033_hybrid_configuration_certificate_differs;

pub use ht001_hybrid_connector_without_certificate_name::RULE as NO_CERTIFICATE_NAME;
pub use ht002_certificate_name_not_found::RULE as NAMED_CERTIFICATE_MISSING;
pub use ht003_certificate_name_selects_unsuitable_certificate::RULE as NAMED_CERTIFICATE_UNSUITABLE;
pub use ht004_certificate_name_ambiguous::RULE as NAMED_CERTIFICATE_AMBIGUOUS;
pub use ht005_no_qualifying_certificate::RULE as NO_QUALIFYING_CERTIFICATE;
pub use ht006_hybrid_connector_without_tls::RULE as TLS_NOT_OFFERED;
pub use ht007_hybrid_fqdn_unknown::RULE as HYBRID_FQDN_UNKNOWN;
pub use ht008_hybrid_connector_missing::RULE as HYBRID_CONNECTOR_MISSING;
pub use ht009_keyless_duplicate_certificate::RULE as KEYLESS_SHADOW;
pub use ht010_missing_intermediate_certificate::RULE as MISSING_INTERMEDIATE;
pub use ht011_root_not_in_root_store::RULE as ROOT_NOT_TRUSTED;
pub use ht012_certificate_expiring::RULE as CERTIFICATE_EXPIRING;
pub use ht013_weak_rsa_key::RULE as WEAK_KEY;
pub use ht014_sha1_signature::RULE as SHA1_SIGNATURE;
pub use ht015_send_connector_certificate_not_usable::RULE as SEND_CONNECTOR_CERTIFICATE;
pub use ht016_protocol_log_disagrees::RULE as LOG_DISAGREES;
pub use ht017_required_export_missing::RULE as EXPORT_MISSING;
pub use ht018_auth_certificate_expiring::RULE as AUTH_CERTIFICATE_EXPIRING;
pub use ht030_inbound_connector_certificate_mismatch::RULE as INBOUND_CONNECTOR_CERTIFICATE;
pub use ht031_outbound_connector_tls_domain_mismatch::RULE as OUTBOUND_CONNECTOR_TLS_DOMAIN;
pub use ht032_narrower_connector_takes_cloud_mail::RULE as NARROWER_CONNECTOR_TAKES_CLOUD_MAIL;
pub use ht033_hybrid_configuration_certificate_differs::RULE as HYBRID_CONFIGURATION_CERTIFICATE;

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
    &AUTH_CERTIFICATE_EXPIRING,
    &INBOUND_CONNECTOR_CERTIFICATE,
    &OUTBOUND_CONNECTOR_TLS_DOMAIN,
    &NARROWER_CONNECTOR_TAKES_CLOUD_MAIL,
    &HYBRID_CONFIGURATION_CERTIFICATE,
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
            for heading in [
                "## What it means",
                "## Fix",
                "## When to fix by hand",
                "## Sources",
            ] {
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
