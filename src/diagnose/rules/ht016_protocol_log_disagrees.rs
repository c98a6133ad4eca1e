//! HT016 `protocol-log-disagrees`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::{ConnectorReport, Evidence, Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT016",
    name: "protocol-log-disagrees",
    title: "The protocol log shows a different certificate than hybridtls expects",
    severity: Severity::Warning,
    documentation: r#"## What it means
The SmtpReceive protocol log given with the exports shows the connector sending a certificate
(`Sending certificate` ... `Certificate thumbprint`) other than the one hybridtls computes from
the connector and certificate exports.

## Why it matters
Either the log and the exports are from different times (a certificate or the connector changed
in between), or this Exchange build selects certificates differently from the model hybridtls
uses (see `hybridtls explain HT004`). The plan is based on the exports; check before running it.

## Symptoms
Whatever the log shows: often `450 4.7.320 Certificate validation failed` for the thumbprint in
the log.

## Detection
The latest `Sending certificate` row of each connector in the given `RECV*.LOG` files is compared
with the certificates hybridtls computes for that connector under each documented selection rule
for the server's release (`hybridtls explain HT004`); only a certificate none of them gives is
reported.

## Fix
Manual: export the connectors and certificates again, take a fresh protocol log after a test
message, and plan again. If they still disagree, the selection model does not fit this build:
make sure only one certificate can match (remove duplicates) and report the case.

## When to fix by hand
Always.

## Sources
- Decompiled Exchange protocol log writer (`ProtocolLog.cs`, `LogCertificate`): the `Sending
  certificate` rows and their fields (exchange-formats.md §4), as in the SmtpReceive log quoted by
  the Exchange Team blog article of seed 000.
"#,
    check,
    organisation_needs: None,
};

/// A protocol log that shows another certificate than the model computes.
fn check(context: &Context, findings: &mut Findings) {
    for report in &context.reports {
        check_connector(report, findings);
    }
}

fn check_connector(report: &ConnectorReport, findings: &mut Findings) {
    let Some(observed) = report.observed else {
        return;
    };
    let seen = observed.thumbprint.as_deref().unwrap_or_default();
    if report.selection.may_present(seen) {
        return;
    }
    let computed = report.selection.possible();
    let computed = if computed.is_empty() {
        "no certificate".to_owned()
    } else {
        computed.join(" or ")
    };
    let identity = report.connector.identity();
    findings.push(
        identity.clone(),
        format!(
            "the protocol log shows {identity} sending {seen} at {}, but the exports make it present {}",
            observed.time,
            computed
        ),
        vec![Evidence {
            file: observed.source.file.clone(),
            position: observed.source.position.clone(),
            field: "Certificate thumbprint".to_owned(),
            value: seen.to_owned(),
        }],
        Remedy::manual("export the connectors and certificates again, take a fresh protocol log after a test message, and plan again".to_owned()),
    );
}
