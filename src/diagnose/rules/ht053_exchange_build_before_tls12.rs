//! HT053 `exchange-build-before-tls12`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::tls::{self, build_evidence, build_text};
use crate::diagnose::{Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT053",
    name: "exchange-build-before-tls12",
    title: "The Exchange build is older than the first that supports TLS 1.2",
    severity: Severity::Error,
    documentation: r#"## What it means
The server runs Exchange 2013 before Cumulative Update 19 (build 15.0.1365) or Exchange 2016
before Cumulative Update 8 (build 15.1.1415): the builds the Exchange Team named as the first
ready for TLS 1.2. Exchange 2013 before CU8 (15.0.1076) is among them.

## Why it matters
Exchange Online accepts only TLS 1.2; an older build cannot be made to use it with registry
settings alone.

## Symptoms
`421 4.4.2 Connection dropped due to SocketError`, `TLS negotiation failed with error
SocketError` toward Exchange Online; `451 5.7.3 Must issue a STARTTLS command first`.

## Detection
The `ExchangeVersion` (the server's `AdminDisplayVersion`) of `tls-settings.json` (written by
`hybridtls collect`), compared with the builds of CSS-Exchange's build table. Without the
export (listed once, under HT050, which reads the same file), or without the version in it, the
check is listed as not checked.

## Fix
Manual: install the current Cumulative Update of the release (Exchange 2013 and 2016 are out of
support: move to Exchange Server SE), then plan again.

## When to fix by hand
Always.

## Sources
- Exchange Team blog, "Exchange Server TLS guidance, part 1: Getting Ready for TLS 1.2": Exchange
  2013 CU19 and Exchange 2016 CU8 as the builds TLS 1.2 needs.
- CSS-Exchange `Shared/Get-ExchangeBuildVersionInformation.ps1` (Exchange 2013 CU8 15.0.1076.9,
  CU19 15.0.1365.1; Exchange 2016 CU8 15.1.1415.2) and HealthChecker's
  `Diagnostics/HealthChecker/Analyzer/Invoke-AnalyzerOsInformation.ps1` (the same CU19 and CU8
  boundaries for the .NET Framework it recommends).
"#,
    check,
    organisation_needs: None,
};

/// Exchange 2013 before CU19, Exchange 2016 before CU8.
fn check(context: &Context, findings: &mut Findings) {
    let Some(settings) = tls::settings(context) else {
        return;
    };
    let Some(build) = settings.exchange_build else {
        findings.not_judged(
            "the Exchange build".to_owned(),
            crate::diagnose::needs::Missing::Property {
                property: "ExchangeVersion",
                source: settings.source.clone(),
                export: crate::diagnose::needs::Export::TlsSettings,
            },
        );
        return;
    };
    let needed = match build {
        (15, 0, number) if number < 1365 => "Exchange 2013 CU19 (15.0.1365)",
        (15, 1, number) if number < 1415 => "Exchange 2016 CU8 (15.1.1415)",
        _ => return,
    };
    findings.push(
        "the Exchange build".to_owned(),
        format!(
            "Exchange {} is older than {needed}, the first build ready for TLS 1.2, which Exchange Online requires",
            build_text(build)
        ),
        vec![build_evidence(settings, "ExchangeVersion", build_text(build))],
        Remedy::manual(format!(
            "install at least {needed}, better the current Cumulative Update, and plan again"
        )),
    );
}
