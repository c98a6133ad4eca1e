//! HT006 `hybrid-connector-without-tls`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::{Evidence, Findings, ManualCommand, Remedy};
use crate::model::{AuthMechanism, ReceiveConnector};

pub const RULE: Rule = Rule {
    code: "HT006",
    name: "hybrid-connector-without-tls",
    title: "Hybrid receive connector does not offer TLS (AuthMechanism lacks Tls)",
    severity: Severity::Error,
    documentation: r#"## What it means
The hybrid receive connector's `AuthMechanism` does not include `Tls`, so STARTTLS is never
advertised whatever the certificate.

## Why it breaks mail flow
Exchange Online requires TLS to deliver hybrid mail.

## Symptoms
`451 5.7.3 STARTTLS is required to send mail` in Exchange Online; no `STARTTLS` in the EHLO answer.

## Detection
`AuthMechanism` in the Get-ReceiveConnector export (a number in Windows PowerShell 5.1: Tls = 1).
A hybrid connector exported without `AuthMechanism` is not judged: the plan lists the check as
not judged, with the file and record, and never calls the connector right.

## Fix
Manual, because `AuthMechanism` carries other settings too: add `Tls` with
`Set-ReceiveConnector -AuthMechanism` listing every mechanism the connector needs (the Hybrid
Configuration Wizard sets `Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer`).

## When to fix by hand
Always.

## Sources
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019, SE; 2025):
  "the connector must have AuthMechanism containing Tls", otherwise STARTTLS is not offered.
- Microsoft Learn, Set-ReceiveConnector, parameter AuthMechanism.
"#,
    check,
    organisation_needs: None,
};

/// The AuthMechanism the Hybrid Configuration Wizard sets on the hybrid receive connector.
const HYBRID_AUTH_MECHANISM: &str = "Tls, Integrated, BasicAuth, BasicAuthRequireTLS, ExchangeServer";

/// The hybrid connector must offer STARTTLS: its AuthMechanism must include Tls. Without the
/// property (left out of the export) the check is not judged; no connector lacks the value.
fn check(context: &Context, findings: &mut Findings) {
    for report in context.hybrid_reports() {
        check_connector(report.connector, findings);
    }
}

fn check_connector(connector: &ReceiveConnector, findings: &mut Findings) {
    let identity = connector.identity();
    let Some(mechanism) = connector.auth_mechanism else {
        findings.not_judged(
            identity,
            Missing::Property {
                property: "AuthMechanism",
                source: connector.source.clone(),
                export: Export::ReceiveConnectors,
            },
        );
        return;
    };
    if mechanism.contains(AuthMechanism::TLS) {
        return;
    }
    findings.push(
        identity.clone(),
        format!("AuthMechanism of {identity} does not include Tls, so STARTTLS is not offered"),
        vec![Evidence {
            file: connector.source.file.clone(),
            position: connector.source.position.clone(),
            field: "AuthMechanism".to_owned(),
            value: mechanism.bits().to_string(),
        }],
        Remedy::Manual {
            instruction: format!(
                "add Tls to the AuthMechanism of {identity}, with the mechanisms the Hybrid Configuration Wizard sets"
            ),
            command: Some(ManualCommand {
                cmdlet: "Set-ReceiveConnector",
                switches: Vec::new(),
                parameters: vec![
                    ("Identity", identity.clone()),
                    ("AuthMechanism", HYBRID_AUTH_MECHANISM.to_owned()),
                ],
            }),
        },
    );
}
