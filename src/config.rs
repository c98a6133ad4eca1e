//! `hybridtls.toml`: the settings of `plan` kept beside the exports, so that every plan of a
//! change is made alike. Read from the current folder, or from `--config FILE`; the command
//! line adds rules to ignore and overrides the expiry warning.
//!
//! ```toml
//! ignore = ["HT012", "weak-rsa-key"]   # codes or names; warnings only
//! expiry-warning-days = 30
//! ```

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnose::settings::{self, Settings};
use crate::error::Error;

/// The name looked for in the current folder.
pub const FILE_NAME: &str = "hybridtls.toml";

/// The most days ahead the expiry warning may look: ten years, longer than any certificate.
pub const MAX_WARNING_DAYS: u32 = 3650;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    expiry_warning_days: Option<Spanned<u32>>,
}

/// The settings of a plan: `config` (or `hybridtls.toml` in the current folder, when there is
/// one), then the command line's `ignore` and `expiry_warning_days` over it.
pub fn settings(
    config: Option<&Path>,
    ignore: &[String],
    expiry_warning_days: Option<u32>,
) -> Result<Settings, Error> {
    let found = Path::new(FILE_NAME);
    let file = match config {
        Some(path) => Some(path),
        None => found.is_file().then_some(found),
    };
    let mut settings = match file {
        Some(path) => read(path)?,
        None => Settings::default(),
    };
    for name in ignore {
        let rule =
            settings::ignorable_rule(name).map_err(|e| Error::Usage(format!("--ignore {name}: {e}")))?;
        settings.ignore.push(rule);
    }
    if let Some(days) = expiry_warning_days {
        settings.expiry_warning_days = days;
    }
    settings.ignore.sort_by_key(|rule| rule.code);
    settings.ignore.dedup_by_key(|rule| rule.code);
    Ok(settings)
}

fn read(path: &Path) -> Result<Settings, Error> {
    let shown = crate::input::display(path);
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read the configuration {shown}: {e}")))?;
    let line = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let at =
        |offset: usize, message: &str| Error::Usage(format!("{shown}, line {}: {message}", line(offset)));
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        let offset = e.span().map_or(0, |span| span.start);
        at(offset, e.message().trim())
    })?;
    let mut settings = Settings {
        config: Some(shown.clone()),
        ..Settings::default()
    };
    for name in &file.ignore {
        let rule = settings::ignorable_rule(name.get_ref())
            .map_err(|e| at(name.span().start, &format!("ignore: {e}")))?;
        settings.ignore.push(rule);
    }
    if let Some(days) = &file.expiry_warning_days {
        let value = *days.get_ref();
        if !(1..=MAX_WARNING_DAYS).contains(&value) {
            return Err(at(
                days.span().start,
                &format!("expiry-warning-days: {value} is not a number of days from 1 to {MAX_WARNING_DAYS}"),
            ));
        }
        settings.expiry_warning_days = value;
    }
    Ok(settings)
}
