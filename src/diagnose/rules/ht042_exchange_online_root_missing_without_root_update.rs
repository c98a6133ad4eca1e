//! HT042 `exchange-online-root-missing-without-root-update`: the rule's documentation, metadata
//! and check, which reports from the decision HT041 makes.

use super::ht041_exchange_online_root_missing::{message, remedy, root_check, RootCheck, DIGICERT_GLOBAL_ROOT_G2};
use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{Evidence, Findings};

pub const RULE: Rule = Rule {
    code: "HT042",
    name: "exchange-online-root-missing-without-root-update",
    title: "DigiCert Global Root G2 is missing and automatic root update is disabled",
    severity: Severity::Error,
    documentation: r#"## What it means
As HT041: the server validates Exchange Online's certificate and its `Cert:\LocalMachine\Root`
lacks DigiCert Global Root G2 (`DF3C24F9BFD666761B268073FE06D1CC8D4F82A4`). In addition the
policy value `DisableRootAutoUpdate` under
`HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates\AuthRoot` is set, so Windows never fetches
the root.

## Why it breaks mail flow
Exchange Online's TLS certificates chain to DigiCert Global Root G2 since March 2026. With the
root missing and never fetched, the chain ends in an untrusted root: every TLS connection that
validates Exchange Online's certificate fails.

## Symptoms
`TLS negotiation failed with error UntrustedRoot` in the SmtpSend protocol log, `450 4.4.317
Cannot connect to remote server`, queues to Exchange Online; Exchange Online's mail not
recognised by the hybrid receive connector.

## Detection
HT041's check, with `DisableRootAutoUpdate` from `server.json` (written by `hybridtls collect`:
the value, or null when the policy does not set it).

## Fix
None automatic: import DigiCert Global Root G2 into `Cert:\LocalMachine\Root` (through the Group
Policy that manages the trusted roots, or from the Microsoft 365 root certificate bundle), or let
automatic root update run, and export again.

## When to fix by hand
Always.

## Sources
- Microsoft 365 message center MC1224565 and Exchange Team blog, "Trust DigiCert Global Root G2
  Certificate Authority to Avoid Exchange Online Email Disruption" (January 2026): organisations
  that disabled the Windows CTL updater must install the root themselves.
- Windows SDK `wincrypt.h` (as the `windows` crate documents it):
  `CERT_DISABLE_ROOT_AUTO_UPDATE_REGPATH` `Software\Policies\Microsoft\SystemCertificates\AuthRoot`
  and `CERT_DISABLE_ROOT_AUTO_UPDATE_VALUE_NAME` `DisableRootAutoUpdate`, the policy value that
  turns automatic root update off.
"#,
    check,
    organisation_needs: None,
};

fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    let Some(settings) = context
        .server_settings
        .filter(|s| s.root_auto_update_disabled == Some(true))
    else {
        return;
    };
    if let RootCheck::Missing(mut evidence) = root_check(context) {
        let message = message(
            server,
            &evidence,
            "automatic root update is disabled (DisableRootAutoUpdate), so Windows never fetches it: TLS with Exchange Online fails (UntrustedRoot)",
        );
        evidence.push(Evidence {
            file: settings.source.file.clone(),
            position: settings.source.position.clone(),
            field: "DisableRootAutoUpdate".to_owned(),
            value: "set".to_owned(),
        });
        findings.push(DIGICERT_GLOBAL_ROOT_G2.to_owned(), message, evidence, remedy(server));
    }
}
