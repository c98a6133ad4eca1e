//! HT052 `tls-settings-mismatched`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::tls::{self, disabled_by_default, enabled, schannel_evidence};
use crate::diagnose::{Findings, Remedy};
use crate::model::TlsSettings;

pub const RULE: Rule = Rule {
    code: "HT052",
    name: "tls-settings-mismatched",
    title: "A TLS version is set differently for the server and the client side, or half disabled",
    severity: Severity::Error,
    documentation: r#"## What it means
For a TLS version (1.0 to 1.3) the SCHANNEL `Server` and `Client` keys disagree (one enabled, the
other not; or `DisabledByDefault` set on one only), or a side is half disabled: `Enabled` 0 with
`DisabledByDefault` 0, or `Enabled` 1 with `DisabledByDefault` 1.

## Why it matters
Exchange is a TLS server and a TLS client: a version one side speaks and the other does not
makes the handshake between two Exchange servers, or with Exchange Online, depend on who
connects to whom. HealthChecker reports both as errors ("Misconfigured", "Half Disabled"):
they are not configurations Microsoft documents.

## Symptoms
Mail between servers, or with Exchange Online in one direction only, failing with `TLS
negotiation failed with error SocketError` or `AlgorithmMismatch`.

## Detection
From `tls-settings.json` (written by `hybridtls collect`), with the values not set read as
HealthChecker reads them. Without the export the check is listed as not checked
(once, under HT050, which reads the same file).

## Fix
Manual: set the `Server` and `Client` keys of the version alike, both enabled (`Enabled` 1,
`DisabledByDefault` 0) or both disabled (`Enabled` 0, `DisabledByDefault` 1), then restart the
server.

## When to fix by hand
Always: hybridtls changes no registry value.

## Sources
- CSS-Exchange `Shared/TLS/Get-AllTlsSettingsFromRegistry.ps1` (`$misconfigured`,
  `$halfDisabled`) and `Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecuritySettings.ps1`
  ("Mismatch in TLS version for client and server. Exchange can be both client and a server.");
  `docs/Diagnostics/HealthChecker/TLSConfigurationCheck.md` (the Misconfigured and Half Disabled
  definitions).
"#,
    check,
    organisation_needs: None,
};

/// Per TLS version: client and server differ, or a side is half disabled.
fn check(context: &Context, findings: &mut Findings) {
    let Some(settings) = tls::settings(context) else {
        return;
    };
    for version in ["1.0", "1.1", "1.2", "1.3"] {
        if let Some(problem) = problem(settings, version) {
            findings.push(
                format!("TLS {version}"),
                format!("TLS {version} is {problem} in SCHANNEL"),
                ["Server", "Client"]
                    .iter()
                    .flat_map(|side| {
                        ["Enabled", "DisabledByDefault"]
                            .map(|value| schannel_evidence(settings, version, side, value))
                    })
                    .collect(),
                Remedy::manual(format!(
                    "set HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS {version}\\Server and \\Client alike: both enabled (Enabled 1, DisabledByDefault 0) or both disabled (Enabled 0, DisabledByDefault 1), then restart the server"
                )),
            );
        }
    }
}

/// What is wrong with `version`, in words, as HealthChecker's `TLSConfiguration` says it.
fn problem(settings: &TlsSettings, version: &str) -> Option<&'static str> {
    let server = (enabled(settings, version, "Server"), disabled_by_default(settings, version, "Server"));
    let client = (enabled(settings, version, "Client"), disabled_by_default(settings, version, "Client"));
    if server != client {
        return Some("set differently for the server and the client side (Misconfigured)");
    }
    let explicit_default = settings
        .value(&format!("Tls{}ServerDisabledByDefault", version.replace('.', "")))
        .is_some();
    match server {
        (false, false) if explicit_default => Some("half disabled: Enabled 0 with DisabledByDefault 0"),
        (true, true) => Some("half disabled: enabled with DisabledByDefault 1"),
        _ => None,
    }
}
