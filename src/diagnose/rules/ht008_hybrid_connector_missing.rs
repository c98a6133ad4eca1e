//! HT008 `hybrid-connector-missing`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT008",
    name: "hybrid-connector-missing",
    title: "No hybrid receive connector found on the server",
    severity: Severity::Warning,
    documentation: r#"## What it means
The Get-ReceiveConnector export of a server has no `Default Frontend <SERVER>` port-25 connector
and no connector whose `TlsDomainCapabilities` contain
`mail.protection.outlook.com:AcceptCloudServicesMail` (or `AcceptOorgProtocol`).

## Why it matters
Exchange Online delivers hybrid mail to such a connector; without one there is nothing to plan for
that server, or the export is incomplete.

## Fix
Check that the export contains every receive connector of the server (`Get-ReceiveConnector
-Server <SERVER>`), or run the Hybrid Configuration Wizard for this server.

## When to fix by hand
Always.

## Sources
- Microsoft Learn, Set-ReceiveConnector, parameter TlsDomainCapabilities:
  `mail.protection.outlook.com:AcceptCloudServicesMail` (Exchange 2013 and later) and
  `AcceptOorgProtocol` (Exchange 2010) mark the connector Exchange Online delivers to.
"#,
    check,
    organisation_needs: None,
};

/// A server with receive connectors needs one Exchange Online delivers to.
fn check(context: &Context, findings: &mut Findings) {
    let (server, reports) = (context.server, &context.reports);
    if !reports.is_empty() && !reports.iter().any(|r| r.hybrid) {
        findings.push(
            server.name.clone(),
            format!(
                "none of the {} receive connectors of {} is a hybrid connector",
                reports.len(),
                server.name
            ),
            vec![],
            Remedy::manual(
                "export every receive connector of the server, or run the Hybrid Configuration Wizard for it"
                    .to_owned(),
            ),
        );
    }
}
