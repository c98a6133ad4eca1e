//! HT051 `dotnet-strong-crypto-not-set`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::tls::{self, net_evidence};
use crate::diagnose::{Findings, Remedy};
use crate::model::{ExchangeRelease, NET_VALUES};

pub const RULE: Rule = Rule {
    code: "HT051",
    name: "dotnet-strong-crypto-not-set",
    title: ".NET Framework is not set to use strong cryptography and the system's TLS versions",
    severity: Severity::Error,
    documentation: r#"## What it means
`SchUseStrongCrypto` or `SystemDefaultTlsVersions` is not 1 under
`HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319` or its 32-bit twin under `Wow6432Node` (and,
on Exchange 2010, which runs on .NET 3.5, under `v2.0.50727`).

## Why it matters
Without them a .NET process may offer only the protocols its code was built with, TLS 1.0
among them, and not TLS 1.2, whatever SCHANNEL allows; Exchange Online refuses anything below
TLS 1.2. HealthChecker reports a value that is not set as an error ("Value should be defined in
registry for consistent results").

## Symptoms
`421 4.4.2 Connection dropped due to SocketError`, `TLS negotiation failed with error
SocketError` toward Exchange Online; TLS 1.0 sessions in the protocol logs.

## Detection
From `tls-settings.json` (written by `hybridtls collect`): each of the four v4.0.30319 values
(64-bit and 32-bit, and the v2.0.50727 ones on Exchange 2010) must be 1. Without the export the
check is listed as not checked (once, under HT050, which reads the same file).

## Fix
Manual: set each value named in the finding to 1 (the commands are in the finding), then restart
the server.

## When to fix by hand
Always: hybridtls changes no registry value.

## Sources
- CSS-Exchange HealthChecker, `Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecuritySettings.ps1`:
  "SystemDefaultTlsVersions or SchUseStrongCrypto is not set to the recommended value", and a
  v4.0.30319 value not set shown in red; `docs/Diagnostics/HealthChecker/TLSConfigurationCheck.md`.
- Exchange Team blog, "Exchange Server TLS guidance Part 2: Enabling TLS 1.2 and Identifying
  Clients Not Using It" (both values, both registry views, v4 and v2).
"#,
    check,
    organisation_needs: None,
};

/// A .NET TLS value that is not 1.
fn check(context: &Context, findings: &mut Findings) {
    let Some(settings) = tls::settings(context) else {
        return;
    };
    let v2 = context.server.release == ExchangeRelease::Exchange2010;
    let wrong: Vec<&(&str, &str, &str)> = NET_VALUES
        .iter()
        .filter(|(name, ..)| name.starts_with("NetV4") || v2)
        .filter(|(name, ..)| settings.value(name) != Some(1))
        .collect();
    if wrong.is_empty() {
        return;
    }
    let names: Vec<String> = wrong.iter().map(|(_, key, value)| format!("HKLM\\{key}\\{value}")).collect();
    let commands: Vec<String> = wrong.iter().map(|(_, key, value)| tls::set_value(key, value, 1)).collect();
    findings.push(
        ".NET Framework".to_owned(),
        format!(
            "{} {} not 1: .NET may not offer TLS 1.2, which Exchange Online requires",
            names.join(", "),
            if names.len() == 1 { "is" } else { "are" }
        ),
        wrong.iter().map(|(name, ..)| net_evidence(settings, name)).collect(),
        Remedy::manual(format!(
            "set the .NET TLS values to 1 ({}), then restart the server",
            commands.join("; ")
        )),
    );
}
