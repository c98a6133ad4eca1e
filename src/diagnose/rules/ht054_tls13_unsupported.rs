//! HT054 `tls13-unsupported`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::tls::{self, build_evidence, build_text, enabled, schannel_evidence};
use crate::diagnose::{Findings, Remedy};

/// Windows Server 2022, the first Windows HealthChecker counts as supporting TLS 1.3 with Exchange.
const FIRST_OS_BUILD: u32 = 20348;
/// Exchange 2019 CU15 (15.2.1748.10), the first Exchange build with TLS 1.3; SE RTM is later.
const FIRST_EXCHANGE_BUILD: (u32, u32, u32) = crate::diagnose::EXCHANGE_2019_CU15;

pub const RULE: Rule = Rule {
    code: "HT054",
    name: "tls13-unsupported",
    title: "TLS 1.3 is enabled where the Exchange build or Windows does not support it",
    severity: Severity::Error,
    documentation: r#"## What it means
TLS 1.3 is enabled in SCHANNEL (`Enabled` not 0 under `TLS 1.3\Server` or `\Client`) on a server
that is not Exchange 2019 CU15 or later (or Exchange Server SE) on Windows Server 2022 or later.

## Why it matters
Exchange supports TLS 1.3 only from Exchange 2019 CU15 on Windows Server 2022; elsewhere
HealthChecker reports an enabled TLS 1.3 as an error, known to break communication between
servers and STARTTLS.

## Symptoms
`TLS negotiation failed with error SocketError` or `IllegalMessage` in the protocol logs,
`421 4.4.2 Connection dropped due to SocketError`.

## Detection
From `tls-settings.json` (written by `hybridtls collect`): the TLS 1.3 `Enabled` values (not set
is disabled, as HealthChecker reads it), `OSVersion` (build 20348 is Windows Server 2022) and
`ExchangeVersion`. Without the export the check is listed as not checked
(once, under HT050, which reads the same file); with TLS 1.3 enabled
and a build unknown, too.

## Fix
Manual: disable TLS 1.3 (`Enabled` 0, `DisabledByDefault` 1 under both keys), or move to a
build and Windows that support it, then restart the server.

## When to fix by hand
Always: hybridtls changes no registry value.

## Sources
- CSS-Exchange HealthChecker, `Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecuritySettings.ps1`:
  "TLS 1.3 started support with Exchange 2019 CU15 with Windows Server 2022 or newer versions";
  TLS 1.3 enabled is red on an OS of Windows 2012 to 2019 or a build before Exchange 2019 CU15
  or SE RTM.
- CSS-Exchange `Shared/Get-ExchangeBuildVersionInformation.ps1` (Exchange 2019 CU15 15.2.1748.10).
"#,
    check,
    organisation_needs: None,
};

/// TLS 1.3 enabled without Exchange 2019 CU15+ on Windows Server 2022+.
fn check(context: &Context, findings: &mut Findings) {
    let Some(settings) = tls::settings(context) else {
        return;
    };
    let sides: Vec<&str> = ["Server", "Client"]
        .into_iter()
        .filter(|side| enabled(settings, "1.3", side))
        .collect();
    if sides.is_empty() {
        return;
    }
    let missing = |property| Missing::Property {
        property,
        source: settings.source.clone(),
        export: Export::TlsSettings,
    };
    let (Some(os), Some(exchange)) = (settings.os_build, settings.exchange_build) else {
        let property = if settings.os_build.is_none() { "OSVersion" } else { "ExchangeVersion" };
        findings.not_judged("TLS 1.3".to_owned(), missing(property));
        return;
    };
    let mut reasons = Vec::new();
    if os < FIRST_OS_BUILD {
        reasons.push(format!("Windows build {os} is older than Windows Server 2022 ({FIRST_OS_BUILD})"));
    }
    if exchange < FIRST_EXCHANGE_BUILD {
        reasons.push(format!(
            "Exchange {} is older than Exchange 2019 CU15 ({})",
            build_text(exchange),
            build_text(FIRST_EXCHANGE_BUILD)
        ));
    }
    if reasons.is_empty() {
        return;
    }
    let mut evidence: Vec<_> = sides
        .iter()
        .map(|side| schannel_evidence(settings, "1.3", side, "Enabled"))
        .collect();
    evidence.push(build_evidence(settings, "OSVersion", os.to_string()));
    evidence.push(build_evidence(settings, "ExchangeVersion", build_text(exchange)));
    findings.push(
        "TLS 1.3".to_owned(),
        format!(
            "TLS 1.3 is enabled for the {} side, but {}",
            sides.join(" and the ").to_lowercase(),
            reasons.join(" and ")
        ),
        evidence,
        Remedy::manual(
            "disable TLS 1.3 in SCHANNEL (Enabled 0, DisabledByDefault 1 under HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.3\\Server and \\Client), then restart the server",
        ),
    );
}
