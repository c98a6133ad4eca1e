//! HT032 `narrower-connector-takes-cloud-mail`: the rule's documentation, metadata and check.
//! Which connector a connection reaches is modelled in [`crate::diagnose::reach`].

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::reach::{exchange_online_overlaps, takeovers};
use crate::diagnose::{is_hybrid, ConnectorReport, Evidence, Findings, Remedy};
use crate::model::{AuthMechanism, ExchangeRelease, ReceiveConnector};

pub const RULE: Rule = Rule {
    code: "HT032",
    name: "narrower-connector-takes-cloud-mail",
    title: "A narrower port-25 receive connector takes the connections from part of the hybrid connector's remote range",
    severity: Severity::Warning,
    documentation: r#"## What it means
Another receive connector on the same server listens on the same local address and port 25 in
the same transport service as the hybrid receive connector (`Default Frontend <SERVER>`, or the
connector with the Exchange Online `TlsDomainCapabilities`), and its `RemoteIPRanges` hold a
range narrower than the hybrid connector's. Exchange gives a connection to the connector whose
remote range matches the connecting address most specifically, so every connection from that
range reaches the other connector, whatever its TLS settings. If Exchange Online's connections
arrive from that range, they land on it. That happens when its range overlaps Exchange
Online's published addresses, and behind source NAT: the firewall then presents its own address
to Exchange, and a relay connector for internal devices often holds it.

## Why it breaks mail flow
The other connector presents its own certificate (its `TlsCertificateName`, or on Exchange 2010
what its `Fqdn` finds), may not offer STARTTLS, and lacks the Exchange Online
`TlsDomainCapabilities` the hybrid connector has. Exchange Online then defers its mail although
the hybrid connector is right.

## Symptoms
- `450 4.7.320 Certificate validation failed; MSG=SubjectMismatch` in the Exchange Online
  message trace while `Get-ReceiveConnector` shows the right certificate on the hybrid
  connector.
- In the SmtpReceive protocol log, the sessions from Exchange Online (or from the NAT address)
  carry the other connector's name in the `connector-id` column.

## Detection
From `Bindings`, `TransportRole`, `Enabled` and `RemoteIPRanges` of the receive connector
export (strings such as `0.0.0.0-255.255.255.255`, `10.0.0.0/8`, `192.0.2.7`, or `IPRange`
objects, read by `Expression`). A range of a non-hybrid, enabled connector on port 25 is
reported when it lies inside the hybrid connector's range, is narrower, no third connector
holds it as narrowly, and both connectors can meet on one local address (`0.0.0.0` and `[::]`
mean all addresses of their family; an address the export does not carry counts as any).
hybridtls does not know which address Exchange Online's connections come from: behind source
NAT it is the NAT device's, which no export holds. So the finding is a warning. It says when
the range overlaps the Exchange Online (worldwide) ranges on TCP port 25 listed by Microsoft
(a snapshot; the list changes, and the sovereign clouds have their own), and what the other
connector would do with the mail. When `RemoteIPRanges` were not exported, nothing is said.

## Fix
None is planned; a person decides, after looking at the protocol log or the firewall:
- If Exchange Online's connections do not come from that range, nothing is wrong.
- If they do: let the firewall keep the source address (no source NAT for port 25 from
  Exchange Online), or take the NAT address out of the other connector's `RemoteIPRanges`.
  Or give Exchange Online a connector of its own, scoped to its ranges and the NAT address, with
  the hybrid connector's certificate and `TlsDomainCapabilities`.
- On Exchange 2010 the connector is chosen by the remote address alone, and receive connectors
  there have no `TlsCertificateName`. The fix is a connector scoped to Exchange Online's ranges
  and the NAT address, with `mail.protection.outlook.com:AcceptOorgProtocol` and an `Fqdn` the
  hybrid certificate covers. The Hybrid Configuration Wizard's "Inbound from Office 365"
  connector is that connector. No Exchange 2013 or later parameter applies there.

## When to fix by hand
Always: only a person knows where Exchange Online's connections come from.

## Sources
- Microsoft Learn, Set-ReceiveConnector, `-RemoteIPRanges` (Exchange 2010 to 2019): "When
  remote IP address ranges overlap, the Receive connector with the most specific match to the IP
  address of the connecting server is used"; single addresses, ranges and CIDR are the valid
  values. `-TlsDomainCapabilities`: `AcceptCloudServicesMail` (Exchange 2013 or later),
  `AcceptOorgProtocol` (Exchange 2010).
- Microsoft Learn, "Receive connectors" (Exchange Server), local address bindings and remote
  addresses: several connectors may share local addresses and ports "if the remote IP address
  ranges are different", and the worked example in which `Custom Connector B` (`192.168.1.75`)
  takes the connections from that address from the connectors for `192.168.1.0/24` and for all
  addresses.
- Microsoft Learn, "Allow anonymous relay on Exchange servers": a relay connector in the Front
  End Transport service on port 25 "will always be used for incoming connections from those
  specific network hosts".
- Microsoft Learn, "Microsoft 365 URLs and IP address ranges", Exchange Online ID 10:
  `40.92.0.0/15, 40.107.0.0/16, 52.100.0.0/14, 104.47.0.0/17, 2a01:111:f400::/48,
  2a01:111:f403::/48`, TCP 25.
- Exchange Team blog, "Advanced Office 365 Routing: Locking Down Exchange On-Premises when MX
  points to Office 365" (2019): mail from Exchange Online is received by Default Frontend or by
  the wizard's "Inbound from Office 365" connector, which holds the Office 365 ranges.
- Microsoft Learn archive, "Mail not routing to on-premise Exchange 2013 environment from O365
  with 450 4.7.320 Certificate validation failed error" (2017), comments: on Exchange 2010 with
  source NAT the receive connector is chosen by the NAT address.
"#,
    check,
    organisation_needs: None,
};

/// What `connector` would do with Exchange Online's mail, judged by its own settings.
fn consequences(report: &ConnectorReport, names: &[String], exchange_2010: bool) -> Vec<String> {
    let connector = report.connector;
    let mut said = Vec::new();
    if connector.auth_mechanism.is_some_and(|m| !m.contains(AuthMechanism::TLS)) {
        said.push("offers no STARTTLS (AuthMechanism lacks Tls)".to_owned());
    } else {
        let named = if exchange_2010 {
            "on Exchange 2010 it presents what its Fqdn search finds".to_owned()
        } else {
            match &connector.tls_certificate_name {
                Some(name) => format!("its TlsCertificateName is {name}"),
                None => "its TlsCertificateName is null".to_owned(),
            }
        };
        let presented = match report.selection.effective() {
            Some(c) if !names.is_empty() && names.iter().all(|n| c.covers(n)) => {
                format!(
                    "it presents {} ({}), which covers {}",
                    c.thumbprint,
                    c.subject,
                    names.join(", ")
                )
            }
            Some(c) if !names.is_empty() => format!(
                "it presents {} ({}), which does not cover {}",
                c.thumbprint,
                c.subject,
                names.join(", ")
            ),
            Some(c) => format!("it presents {} ({})", c.thumbprint, c.subject),
            None if report.selection.possible().is_empty() => {
                "it finds no certificate, so STARTTLS is not offered".to_owned()
            }
            None => format!(
                "it presents one of {}, depending on the release's reading",
                report.selection.possible().join(", ")
            ),
        };
        said.push(format!("{named}; {presented}"));
    }
    said.push(if exchange_2010 {
        "it has no mail.protection.outlook.com:AcceptOorgProtocol in TlsDomainCapabilities".to_owned()
    } else {
        "it has no mail.protection.outlook.com:AcceptCloudServicesMail in TlsDomainCapabilities".to_owned()
    });
    said
}

fn ranges_evidence(connector: &ReceiveConnector) -> Evidence {
    Evidence {
        file: connector.source.file.clone(),
        position: connector.source.position.clone(),
        field: "RemoteIPRanges".to_owned(),
        value: connector
            .remote_ip_ranges
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Reports every narrower port-25 connector of `server` that takes connections from part of a
/// hybrid connector's range; `reports` are the server's connectors with their selections.
fn check(context: &Context, findings: &mut Findings) {
    let (server, reports, names) = (context.server, &context.reports, context.names);
    let connectors: Vec<&ReceiveConnector> = reports.iter().map(|r| r.connector).collect();
    let exchange_2010 = server.release == ExchangeRelease::Exchange2010;
    for takeover in takeovers(&connectors, is_hybrid) {
        let Some(report) = reports
            .iter()
            .find(|r| std::ptr::eq(r.connector, takeover.connector))
        else {
            continue;
        };
        let (identity, hybrid) = (takeover.connector.identity(), takeover.hybrid.identity());
        let mut overlaps_exchange_online = false;
        let ranges: Vec<String> = takeover
            .ranges
            .iter()
            .map(|(range, held)| {
                let overlaps = exchange_online_overlaps(range);
                overlaps_exchange_online |= !overlaps.is_empty();
                if overlaps.is_empty() {
                    format!("{range} (inside {held})")
                } else {
                    format!(
                        "{range} (inside {held}; overlaps Exchange Online's published {})",
                        overlaps.join(", ")
                    )
                }
            })
            .collect();
        let taken = takeover
            .ranges
            .iter()
            .map(|(range, _)| range.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let when = if overlaps_exchange_online {
            "connections from Exchange Online from those addresses land on it"
        } else {
            "if Exchange Online's connections arrive from there (behind source NAT they carry the NAT device's address), they land on it"
        };
        let selection = if exchange_2010 {
            "Exchange 2010 chooses the receive connector by the remote address"
        } else {
            "Exchange chooses the receive connector with the most specific remote range"
        };
        let message = format!(
            "{identity} listens on port 25 beside the hybrid connector {hybrid} and accepts the narrower remote range {}; {selection}, so {when} instead of on {hybrid}: {}",
            ranges.join(", "),
            consequences(report, names, exchange_2010).join("; ")
        );
        let instruction = if exchange_2010 {
            format!(
                "find out from the SmtpReceive protocol log or the firewall whether Exchange Online's connections reach {} from {}; if they do, take that address out of the RemoteIPRanges of {identity}, stop source NAT for them, or give Exchange Online a receive connector scoped to its ranges and the NAT address with TlsDomainCapabilities mail.protection.outlook.com:AcceptOorgProtocol and an Fqdn the hybrid certificate covers (what the Hybrid Configuration Wizard's \"Inbound from Office 365\" connector is); if not, nothing needs to change",
                server.name, taken
            )
        } else {
            format!(
                "find out from the SmtpReceive protocol log (the connector-id of Exchange Online's sessions) or the firewall whether Exchange Online's connections reach {} from {}; if they do, take that address out of the RemoteIPRanges of {identity} or stop source NAT for them, or give {identity} the TlsCertificateName and TlsDomainCapabilities of {hybrid}; if not, nothing needs to change",
                server.name, taken
            )
        };
        let mut evidence = vec![
            ranges_evidence(takeover.connector),
            ranges_evidence(takeover.hybrid),
        ];
        evidence.push(Evidence {
            file: takeover.connector.source.file.clone(),
            position: takeover.connector.source.position.clone(),
            field: "Bindings".to_owned(),
            value: takeover.connector.bindings.join(", "),
        });
        findings.push(identity, message, evidence, Remedy::manual(instruction));
    }
}
