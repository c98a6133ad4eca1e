//! HT007 `hybrid-fqdn-unknown`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::{ConnectorReport, Findings, Remedy};
use crate::model::Server;

pub const RULE: Rule = Rule {
    code: "HT007",
    name: "hybrid-fqdn-unknown",
    title: "The hybrid FQDN could not be determined",
    severity: Severity::Warning,
    documentation: r#"## What it means
hybridtls needs the name Exchange Online uses to reach on-premises (the `TlsDomain` / smart host of
the Exchange Online outbound connector) to judge certificates. It was not given with `--fqdn` and
could not be derived from the inputs (send connector to Exchange Online `Fqdn`, the CN of the
hybrid connector's current `TlsCertificateName`, or a hybrid connector `Fqdn` other than the
server's own name).

## Why it matters
Without it, hybridtls cannot tell which certificate should be presented, so it plans no
certificate changes.

## Fix
Run again with `--fqdn <name>` (repeatable), for example `--fqdn mail.contoso.com`. In Exchange
Online, `Get-OutboundConnector | Format-List Name,SmartHosts,TlsDomain` shows the name.

## When to fix by hand
Always: give the name.

## Sources
- Microsoft Learn, Set-OutboundConnector, parameter TlsDomain: the name Exchange Online checks the
  on-premises certificate against (TlsSettings DomainValidation).
"#,
};

/// With hybrid connectors but no hybrid FQDN, no certificate can be judged.
pub(in crate::diagnose) fn check(
    server: &Server,
    names_known: bool,
    hybrid_reports: &[&ConnectorReport],
    findings: &mut Findings,
) {
    if !names_known && !hybrid_reports.is_empty() {
        findings.push(
            &RULE,
            server.name.clone(),
            "the name Exchange Online uses to reach this server is unknown, so certificates cannot be judged".to_owned(),
            vec![],
            Remedy::manual("run again with --fqdn <hybrid FQDN>, e.g. the TlsDomain of the Exchange Online outbound connector".to_owned()),
        );
    }
}
