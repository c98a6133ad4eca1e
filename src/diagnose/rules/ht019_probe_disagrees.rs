//! HT019 `probe-disagrees`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::{Evidence, Findings, Remedy};
use crate::model::SavedProbe;

pub const RULE: Rule = Rule {
    code: "HT019",
    name: "probe-disagrees",
    title: "A saved probe shows the server presenting something else than hybridtls expects",
    severity: Severity::Error,
    documentation: r#"## What it means
A `hybridtls probe` of this server's port 25, saved with `--format json` and given to `plan`,
saw another certificate after STARTTLS (or no STARTTLS at all) than the one hybridtls computes
from the connector and certificate exports for the server's hybrid receive connectors.

## Why it matters
Exchange Online sees what the probe saw, not what the exports say. Something between them
answers differently: a load balancer, firewall or mail gateway that terminates TLS with its own
certificate, another receive connector bound to port 25 with a narrower RemoteIPRanges, another
server behind the same name, or exports older than the probe. A plan made from the exports alone
would then fix the wrong thing.

## Symptoms
Whatever the probe shows: `450 4.7.320 Certificate validation failed` for its certificate, or
`451 5.7.3 STARTTLS is required` when no STARTTLS was offered.

## Detection
Each saved probe of port 25 whose host is this server's name or FQDN, or the hybrid name when the
inputs hold one server only, is compared with the certificates the server's hybrid receive
connectors bound to port 25 present under each documented selection rule (`hybridtls explain
HT004`). A probe is not judged when the server has no hybrid connector on port 25 in the inputs.

## Fix
Manual: find what answers on port 25 (`hybridtls probe SERVER:25` from inside and from outside,
the load balancer's TLS settings, `Get-ReceiveConnector | Format-List Identity,Bindings,
RemoteIPRanges`), export again right after probing (`hybridtls collect`), and plan again.

## When to fix by hand
Always: hybridtls cannot see the device or connector that answers.

## Sources
- The same comparison as HT016 with the protocol log, made from outside as Exchange Online
  connects (Microsoft Learn, "Mail flow best practices for Exchange Online, Microsoft 365, and
  Office 365": the hybrid connector is reached on TCP 25 with STARTTLS).
- Devices that terminate TLS break hybrid mail flow unless they present the hybrid certificate
  (Microsoft Learn, "Certificate requirements for hybrid deployments": the certificate Exchange
  Online validates is the one the on-premises endpoint presents).
"#,
    check,
    organisation_needs: None,
};

/// Whether `probe` was made of this server (its name or FQDN), or of the hybrid name when the
/// inputs hold only this server.
fn probes_this_server(context: &Context, probe: &SavedProbe) -> bool {
    let server = context.server;
    let own_name = probe.host.eq_ignore_ascii_case(&server.name)
        || server.fqdn.as_deref().is_some_and(|fqdn| probe.host.eq_ignore_ascii_case(fqdn));
    let only_server = context.inventory.servers.len() == 1
        && context.names.iter().any(|name| probe.host.eq_ignore_ascii_case(name));
    probe.port == 25 && (own_name || only_server)
}

fn check(context: &Context, findings: &mut Findings) {
    let port25: Vec<_> = context
        .reports
        .iter()
        .filter(|report| report.hybrid && report.connector.listens_on_port(25))
        .collect();
    if port25.is_empty() {
        return;
    }
    for probe in context.inventory.probes.iter().filter(|p| probes_this_server(context, p)) {
        let agrees = match &probe.thumbprint {
            Some(seen) => port25.iter().any(|report| report.selection.may_present(seen)),
            None => false,
        };
        if agrees {
            continue;
        }
        let mut expected: Vec<&str> = port25.iter().flat_map(|r| r.selection.possible()).collect();
        expected.sort_unstable();
        expected.dedup();
        let expected = if expected.is_empty() {
            "no certificate (STARTTLS not offered)".to_owned()
        } else {
            expected.join(" or ")
        };
        let connectors: Vec<String> = port25.iter().map(|r| r.connector.identity()).collect();
        let seen = match (&probe.thumbprint, probe.starttls_offered) {
            (Some(thumbprint), _) => format!(
                "{thumbprint} ({})",
                probe.subject.as_deref().unwrap_or_default()
            ),
            (None, false) => "no STARTTLS offered".to_owned(),
            (None, true) => "no TLS session after STARTTLS".to_owned(),
        };
        findings.push(
            format!("{}:{}", probe.host, probe.port),
            format!(
                "hybridtls probe of {}:{} at {} saw {seen}, but the exports make {} present {expected}",
                probe.host,
                probe.port,
                probe.probed_at,
                connectors.join(", ")
            ),
            vec![Evidence {
                file: probe.source.file.clone(),
                position: probe.source.position.clone(),
                field: "certificate.thumbprint".to_owned(),
                value: probe.thumbprint.clone().unwrap_or_else(|| "(none)".to_owned()),
            }],
            Remedy::manual(
                "find what answers on port 25 (a load balancer or firewall that terminates TLS, another receive connector bound to port 25, another server behind the name), export again right after probing, and plan again",
            ),
        );
    }
}
