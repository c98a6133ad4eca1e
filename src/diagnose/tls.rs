//! What the TLS settings export says (HT050 to HT054): the SCHANNEL protocol states as
//! HealthChecker reads them (CSS-Exchange `Shared/TLS/Get-AllTlsSettingsFromRegistry.ps1`), the
//! .NET values, and the builds TLS 1.2 and TLS 1.3 need.

use super::needs::{record_or_export, Export};
use super::{Evidence, Findings};
use crate::diagnose::context::Context;
use crate::model::{TlsSettings, NET_VALUES, SCHANNEL_VALUES};

/// The TLS settings exported for the context's server.
pub(super) fn settings<'a>(context: &Context<'_, 'a>) -> Option<&'a TlsSettings> {
    context.tls_settings
}

/// [`settings`]; when there are none, the checks that read them (HT050 to HT054) are recorded
/// once, under the rule calling, as not judged.
pub(super) fn settings_or_not_judged<'a>(
    context: &Context<'_, 'a>,
    findings: &mut Findings,
) -> Option<&'a TlsSettings> {
    let found = settings(context);
    if found.is_none() {
        findings.not_judged(
            "the TLS settings (HT050 to HT054)".to_owned(),
            record_or_export(context.inventory, Export::TlsSettings, &context.server.name),
        );
    }
    found
}

/// The SCHANNEL property of `version` (`1.2`), `side` (`Server`, `Client`) and `value`
/// (`Enabled`, `DisabledByDefault`).
fn property(version: &str, side: &str, value: &str) -> &'static str {
    SCHANNEL_VALUES
        .iter()
        .find(|(_, v, s, name)| *v == version && *s == side && *name == value)
        .map_or("", |(property, ..)| property)
}

/// Whether `side` of TLS `version` is enabled: `Enabled` not set counts as enabled but for TLS
/// 1.3, which is then disabled (HealthChecker's `Get-TLSMemberValue`).
pub(super) fn enabled(settings: &TlsSettings, version: &str, side: &str) -> bool {
    match settings.value(property(version, side, "Enabled")) {
        None => version != "1.3",
        Some(value) => value != 0,
    }
}

/// Whether `DisabledByDefault` of `side` of TLS `version` is set and not 0.
pub(super) fn disabled_by_default(settings: &TlsSettings, version: &str, side: &str) -> bool {
    settings
        .value(property(version, side, "DisabledByDefault"))
        .is_some_and(|value| value != 0)
}

/// The value of a SCHANNEL property as evidence, its registry key and value in the field.
pub(super) fn schannel_evidence(settings: &TlsSettings, version: &str, side: &str, value: &str) -> Evidence {
    let name = property(version, side, value);
    evidence(
        settings,
        format!("{name} (HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS {version}\\{side}\\{value})"),
        settings.value(name),
    )
}

/// The value of a .NET property of [`NET_VALUES`] as evidence.
pub(super) fn net_evidence(settings: &TlsSettings, property: &str) -> Evidence {
    let (name, key, value) = NET_VALUES
        .iter()
        .find(|(name, ..)| *name == property)
        .copied()
        .unwrap_or_default();
    evidence(
        settings,
        format!("{name} (HKLM\\{key}\\{value})"),
        settings.value(name),
    )
}

fn evidence(settings: &TlsSettings, field: String, value: Option<i64>) -> Evidence {
    Evidence {
        file: settings.source.file.clone(),
        position: settings.source.position.clone(),
        field,
        value: value.map_or_else(|| "not set".to_owned(), |v| v.to_string()),
    }
}

/// The Exchange build as `15.2.1544` for messages.
pub(crate) fn build_text((major, minor, build): (u32, u32, u32)) -> String {
    format!("{major}.{minor}.{build}")
}

/// The evidence of the builds a settings export was read on: `field` `ExchangeVersion` or
/// `OSVersion`.
pub(super) fn build_evidence(settings: &TlsSettings, field: &str, value: String) -> Evidence {
    Evidence {
        file: settings.source.file.clone(),
        position: settings.source.position.clone(),
        field: field.to_owned(),
        value,
    }
}

/// What sets a registry value, for the manual remedies: the value, the key, and that Schannel
/// and .NET read them when a process starts (a restart of the server applies them everywhere).
pub(super) fn set_value(key: &str, value: &str, data: u32) -> String {
    format!("New-ItemProperty -Path 'HKLM:\\{key}' -Name '{value}' -Value {data} -PropertyType DWord -Force")
}
