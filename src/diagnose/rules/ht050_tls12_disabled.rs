//! HT050 `tls12-disabled`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::tls::{self, disabled_by_default, enabled, schannel_evidence};
use crate::diagnose::{Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT050",
    name: "tls12-disabled",
    title: "TLS 1.2 is disabled in SCHANNEL for the server or the client side",
    severity: Severity::Error,
    documentation: r#"## What it means
The SCHANNEL registry key of TLS 1.2 on this server (`HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Server`
or `\Client`) has `Enabled` 0 or `DisabledByDefault` set to a value other than 0.

## Why it matters
Exchange Online accepts only TLS 1.2 (or later) on its mail endpoints. Exchange is both a TLS
server (receiving from Exchange Online, the `Server` key) and a TLS client (sending to it, the
`Client` key): with TLS 1.2 off on one side, mail in that direction fails during the handshake.

## Symptoms
`421 4.4.2 Connection dropped due to SocketError` in the queue toward Exchange Online, `TLS
negotiation failed with error SocketError` (or `AlgorithmMismatch`) in the SmtpSend or
SmtpReceive protocol log, `451 5.7.3 Must issue a STARTTLS command first` when no TLS session
could be set up.

## Detection
From `tls-settings.json` (written by `hybridtls collect`): a value not set counts as
HealthChecker counts it, `Enabled` as enabled and `DisabledByDefault` as not set. Without the
export the check is listed as not checked.

## Fix
Manual: under both the `Server` and the `Client` key of TLS 1.2 set `Enabled` to 1 and
`DisabledByDefault` to 0 (the commands are in the finding), then restart the server: SCHANNEL
reads these values when it starts.

## When to fix by hand
Always: hybridtls changes no registry value.

## Sources
- CSS-Exchange HealthChecker, `Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecuritySettings.ps1`
  ("Only TLS 1.2 being Disabled is Red") and `Shared/TLS/Get-AllTlsSettingsFromRegistry.ps1`
  (the defaults of values not set); `docs/Diagnostics/HealthChecker/TLSConfigurationCheck.md`.
- Exchange Team blog, "Exchange Server TLS guidance Part 2: Enabling TLS 1.2 and Identifying
  Clients Not Using It" (the `Enabled` and `DisabledByDefault` values of the Server and Client keys).
- Exchange Team blog, "Exchange Server TLS guidance, part 1: Getting Ready for TLS 1.2": Office 365
  accepts only TLS 1.2 from on-premises servers.
"#,
    check,
    organisation_needs: None,
};

/// TLS 1.2 off for a side of SCHANNEL.
fn check(context: &Context, findings: &mut Findings) {
    let Some(settings) = tls::settings_or_not_judged(context, findings) else {
        return;
    };
    let mut sides = Vec::new();
    let mut evidence = Vec::new();
    for side in ["Server", "Client"] {
        let off = !enabled(settings, "1.2", side);
        let hidden = disabled_by_default(settings, "1.2", side);
        if off || hidden {
            sides.push(side);
            evidence.push(schannel_evidence(settings, "1.2", side, "Enabled"));
            evidence.push(schannel_evidence(settings, "1.2", side, "DisabledByDefault"));
        }
    }
    if sides.is_empty() {
        return;
    }
    let key = "SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2";
    let commands: Vec<String> = sides
        .iter()
        .flat_map(|side| {
            [
                format!("New-Item -Path 'HKLM:\\{key}\\{side}' -Force"),
                tls::set_value(&format!("{key}\\{side}"), "Enabled", 1),
                tls::set_value(&format!("{key}\\{side}"), "DisabledByDefault", 0),
            ]
        })
        .collect();
    findings.push(
        "TLS 1.2".to_owned(),
        format!(
            "TLS 1.2 is disabled in SCHANNEL for the {} side: Exchange Online accepts only TLS 1.2, so mail {} fails in the handshake",
            sides.join(" and the ").to_lowercase(),
            match sides.as_slice() {
                ["Server"] => "from Exchange Online",
                ["Client"] => "to Exchange Online",
                _ => "in both directions",
            }
        ),
        evidence,
        Remedy::manual(format!(
            "enable TLS 1.2 in SCHANNEL ({}), then restart the server",
            commands.join("; ")
        )),
    );
}
