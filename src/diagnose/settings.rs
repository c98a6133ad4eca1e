//! What the user tunes about the rules (`plan --ignore`, `--expiry-warning-days`, or
//! `hybridtls.toml`): read by the checks through their context, echoed by every output.

use super::rules::{self, Rule, Severity};

/// The settings a diagnosis was made with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The rules whose findings are listed as ignored instead of planned, in code order. Only
    /// warnings: see [`ignorable`].
    pub ignore: Vec<&'static Rule>,
    /// HT012 warns when the hybrid certificate expires within this many days.
    pub expiry_warning_days: u32,
    /// The configuration file the settings were read from, as it was named.
    pub config: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ignore: Vec::new(),
            expiry_warning_days: rules::CERTIFICATE_EXPIRY_WARNING_DAYS,
            config: None,
        }
    }
}

impl Settings {
    /// Whether the findings of `rule` are ignored; never those of an error, whatever the
    /// settings hold.
    pub fn ignores(&self, rule: &Rule) -> bool {
        rule.severity == Severity::Warning && self.ignore.iter().any(|ignored| ignored.code == rule.code)
    }
}

/// Whether the findings of `rule` may be ignored. An error is what stops hybrid mail flow or
/// what the plan fixes (every scripted step resolves an error), so ignoring one would let a
/// plan say "No changes" while mail is broken: only warnings may be ignored, and they are
/// still listed, as ignored.
pub fn ignorable(rule: &'static Rule) -> Result<&'static Rule, String> {
    match rule.severity {
        Severity::Warning => Ok(rule),
        Severity::Error => Err(format!(
            "{} ({}) is an error and cannot be ignored: errors are what breaks hybrid mail flow and what the plan fixes; only warnings can be ignored ({})",
            rule.code,
            rule.name,
            warnings().join(", ")
        )),
    }
}

/// The rule a setting names (a code or a name, any case), and that it may be ignored.
pub fn ignorable_rule(name: &str) -> Result<&'static Rule, String> {
    let rule = rules::find(name.trim())
        .ok_or_else(|| format!("no rule has the code or name {name:?}; `hybridtls rules` lists them"))?;
    ignorable(rule)
}

fn warnings() -> Vec<&'static str> {
    rules::ALL
        .iter()
        .filter(|rule| rule.severity == Severity::Warning)
        .map(|rule| rule.code)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_warnings_can_be_ignored() {
        assert_eq!(ignorable_rule("ht012").unwrap().code, "HT012");
        assert_eq!(ignorable_rule("certificate-expiring").unwrap().code, "HT012");
        let refused = ignorable_rule("HT001").unwrap_err();
        assert!(
            refused.contains("HT001") && refused.contains("cannot be ignored"),
            "{refused}"
        );
        assert!(
            refused.contains("HT012") && !refused.contains("HT002"),
            "{refused}"
        );
        assert!(ignorable_rule("HT99").unwrap_err().contains("no rule"));
    }

    #[test]
    fn the_default_is_what_hybridtls_does_without_settings() {
        let default = Settings::default();
        assert_eq!(default.expiry_warning_days, 60);
        assert!(default.ignore.is_empty() && default.config.is_none());
        let tuned = Settings {
            ignore: vec![&rules::CERTIFICATE_EXPIRING],
            ..Settings::default()
        };
        assert!(tuned.ignores(&rules::CERTIFICATE_EXPIRING));
        let forced = Settings {
            ignore: vec![&rules::NO_CERTIFICATE_NAME],
            ..Settings::default()
        };
        assert!(
            !forced.ignores(&rules::NO_CERTIFICATE_NAME),
            "an error is never ignored"
        );
    }
}
