//! HT007 `hybrid-fqdn-unknown`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{Findings, Remedy};

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
    check,
    organisation_needs: None,
};

/// With hybrid connectors but no hybrid FQDN, no certificate can be judged.
fn check(context: &Context, findings: &mut Findings) {
    if context.hybrid.is_none() && context.hybrid_reports().next().is_some() {
        findings.push(
            context.server.name.clone(),
            "the name Exchange Online uses to reach this server is unknown, so certificates cannot be judged".to_owned(),
            vec![],
            Remedy::manual("run again with --fqdn <hybrid FQDN>, e.g. the TlsDomain of the Exchange Online outbound connector".to_owned()),
        );
    }
}
