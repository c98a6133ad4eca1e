//! Every diagnosis hybridtls makes is a rule with a stable code. Each rule is a unit, one file
//! per rule in this folder (as in ruff): its documentation, metadata and check live there as one
//! [`Rule`] constant. The registry below is the one list of rules: `hybridtls rules` lists it,
//! `hybridtls explain` searches it and [`crate::diagnose::diagnose`] runs it, so a rule cannot
//! be listed without being run or run without being listed. The README links to that output.

use crate::model::Inventory;

use super::context::Context;
use super::needs::NotJudged;
use super::Findings;

/// Declares each rule module once and the registry [`ALL`] of their `RULE`s from that one list.
macro_rules! registry {
    ($($module:ident),* $(,)?) => {
        $(pub(super) mod $module;)*

        /// Every rule, in code order: what `rules` lists, `explain` finds and `plan` runs.
        pub const ALL: &[&Rule] = &[$(&$module::RULE),*];
    };
}

registry! {
    ht001_hybrid_connector_without_certificate_name,
    ht002_certificate_name_not_found,
    ht003_certificate_name_selects_unsuitable_certificate,
    ht004_certificate_name_ambiguous,
    ht005_no_qualifying_certificate,
    ht006_hybrid_connector_without_tls,
    ht007_hybrid_fqdn_unknown,
    ht008_hybrid_connector_missing,
    ht009_keyless_duplicate_certificate,
    ht010_missing_intermediate_certificate,
    ht011_root_not_in_root_store,
    ht012_certificate_expiring,
    ht013_weak_rsa_key,
    ht014_sha1_signature,
    ht015_send_connector_certificate_not_usable,
    ht016_protocol_log_disagrees,
    ht017_required_export_missing,
    ht018_auth_certificate_expiring,
    ht019_probe_disagrees,
    ht020_certificate_not_enabled_for_smtp,
    ht021_send_connector_copies_differ,
    ht030_inbound_connector_certificate_mismatch,
    ht031_outbound_connector_tls_domain_mismatch,
    ht032_narrower_connector_takes_cloud_mail,
    ht033_hybrid_configuration_certificate_differs,
    ht034_send_connector_to_exchange_online_misconfigured,
    ht040_internal_transport_certificate,
    ht041_exchange_online_root_missing,
    ht042_exchange_online_root_missing_without_root_update,
    ht043_send_certificate_not_in_accepted_domain,
    ht044_renewal_breaks_issuer_pin,
    ht050_tls12_disabled,
    ht051_dotnet_strong_crypto_not_set,
    ht052_tls_settings_mismatched,
    ht053_exchange_build_before_tls12,
    ht054_tls13_unsupported,
    ht055_protocol_log_tls_failures,
    ht056_event_log_tls_events,
}

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
pub use ht012_certificate_expiring::WARNING_DAYS as CERTIFICATE_EXPIRY_WARNING_DAYS;
pub use ht013_weak_rsa_key::RULE as WEAK_KEY;
pub use ht014_sha1_signature::RULE as SHA1_SIGNATURE;
pub use ht015_send_connector_certificate_not_usable::RULE as SEND_CONNECTOR_CERTIFICATE;
pub use ht016_protocol_log_disagrees::RULE as LOG_DISAGREES;
pub use ht017_required_export_missing::RULE as EXPORT_MISSING;
pub use ht018_auth_certificate_expiring::RULE as AUTH_CERTIFICATE_EXPIRING;
pub use ht020_certificate_not_enabled_for_smtp::RULE as NOT_ENABLED_FOR_SMTP;
pub use ht030_inbound_connector_certificate_mismatch::RULE as INBOUND_CONNECTOR_CERTIFICATE;
pub use ht031_outbound_connector_tls_domain_mismatch::RULE as OUTBOUND_CONNECTOR_TLS_DOMAIN;
pub use ht032_narrower_connector_takes_cloud_mail::RULE as NARROWER_CONNECTOR_TAKES_CLOUD_MAIL;
pub use ht033_hybrid_configuration_certificate_differs::RULE as HYBRID_CONFIGURATION_CERTIFICATE;
pub use ht040_internal_transport_certificate::RULE as INTERNAL_TRANSPORT_CERTIFICATE;
pub use ht050_tls12_disabled::RULE as TLS12_DISABLED;
pub use ht051_dotnet_strong_crypto_not_set::RULE as DOTNET_STRONG_CRYPTO;
pub use ht052_tls_settings_mismatched::RULE as TLS_SETTINGS_MISMATCHED;
pub use ht053_exchange_build_before_tls12::RULE as EXCHANGE_BUILD_BEFORE_TLS12;
pub use ht054_tls13_unsupported::RULE as TLS13_UNSUPPORTED;
pub use ht055_protocol_log_tls_failures::RULE as PROTOCOL_LOG_TLS_FAILURES;
pub use ht056_event_log_tls_events::RULE as EVENT_LOG_TLS_EVENTS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
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

/// A rule's check: what it finds on one server, from the context every rule shares.
pub(in crate::diagnose) type Check = fn(&Context, &mut Findings);

/// What a rule cannot judge about the organisation's own objects (the send connector to Exchange
/// Online, the Exchange Online connectors) for want of an export or a property; said once.
pub(in crate::diagnose) type OrganisationNeeds = fn(&Inventory, &mut Vec<NotJudged>);

pub struct Rule {
    /// Stable code; never reused for another meaning.
    pub code: &'static str,
    /// Kebab-case name, also accepted by `explain`.
    pub name: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// Markdown: what it means, why mail breaks, symptoms, detection, fix, when to fix by hand.
    pub documentation: &'static str,
    /// Run on every server, in the registry's order.
    pub(in crate::diagnose) check: Check,
    /// Run once per plan, before the servers; None for a rule that judges no organisation-wide
    /// object.
    pub(in crate::diagnose) organisation_needs: Option<OrganisationNeeds>,
}

/// Rules compare by code, which is unique (a test checks it): a function pointer has no
/// reliable identity to compare.
impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for Rule {}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
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

    /// The registry is the one list of rules: a rule file left out of it would be neither listed
    /// nor run (the compiler does not even read it), and each registered rule is the file named
    /// after its code and name.
    #[test]
    fn every_rule_file_is_registered_and_every_registered_rule_has_its_file() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnose/rules");
        let mut files: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "mod.rs")
            .collect();
        files.sort();
        let registered: Vec<String> = ALL
            .iter()
            .map(|rule| {
                format!(
                    "{}_{}.rs",
                    rule.code.to_ascii_lowercase(),
                    rule.name.replace('-', "_")
                )
            })
            .collect();
        assert_eq!(files, registered);
    }
}
