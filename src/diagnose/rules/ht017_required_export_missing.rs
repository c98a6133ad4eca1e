//! HT017 `required-export-missing`: the rule's documentation, metadata and check.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::{Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT017",
    name: "required-export-missing",
    title: "An export hybridtls needs for this server is missing or empty",
    severity: Severity::Error,
    documentation: r#"## What it means
The inputs name a server but hold no receive connector of it, or hold its receive connectors
but no certificate of it (neither a Get-ExchangeCertificate export nor a Cert:\LocalMachine\My
listing). An export that is `[]`, a file left out, or a folder of the wrong server look like this.

## Why it matters
Without the connectors hybridtls cannot say which certificate Exchange Online is shown; without
the certificates it cannot say whether the one named exists. "Nothing to change" would be a
guess, so hybridtls says what is missing instead.

## Symptoms
None on the server: this rule is about the inputs.

## Detection
After reading every input, each server is checked for at least one receive connector and, when
it has any, at least one certificate.

## Fix
Manual: export what is missing on that server (`hybridtls collect` writes every export hybridtls
reads) and plan again.

## When to fix by hand
Always.

## Sources
- hybridtls's own rule about its inputs: no Exchange source applies. The exports it asks for are
  those of `hybridtls collect`.
"#,
    check,
    organisation_needs: None,
};

/// A server must come with its receive connectors and, when it has any, its certificates.
fn check(context: &Context, findings: &mut Findings) {
    let server = context.server;
    if context.reports.is_empty() {
        findings.push(
            server.name.clone(),
            format!("the inputs hold no receive connector of {}", server.name),
            vec![],
            Remedy::manual(format!(
                "export the receive connectors of {} (Get-ReceiveConnector -Server {}, or `hybridtls collect`) and plan again",
                server.name, server.name
            )),
        );
    } else if context.store.is_empty() {
        findings.push(
            server.name.clone(),
            format!("the inputs hold no certificate of {}", server.name),
            vec![],
            Remedy::manual(format!(
                "export the certificates of {} (Get-ExchangeCertificate -Server {} with RawData, or `hybridtls collect`) and plan again",
                server.name, server.name
            )),
        );
    }
}
