//! HT056 `event-log-tls-events`: the rule's documentation, metadata and check.

use std::collections::BTreeMap;

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::{date, Evidence, Findings, Remedy};
use crate::model::ExchangeEvent;

pub const RULE: Rule = Rule {
    code: "HT056",
    name: "event-log-tls-events",
    title: "The Application log holds transport TLS certificate events of the last seven days",
    severity: Severity::Warning,
    documentation: r#"## What it means
The server logged, in the seven days before the export, MSExchangeFrontEndTransport or
MSExchangeTransport events 12014, 12016, 12018, 12023, 12012, 12013 or 2004, or MSExchange
EdgeSync event 1035: the events that record a TLS certificate transport could not use.

## Why it matters
They are what Exchange itself found, at the times it found it; each proves the rule that explains
it, or shows that what the exports say was not so a few days ago:
- 12014 (no certificate for the connector's FQDN, so no STARTTLS): HT001, HT002, HT005;
- 12016 (the STARTTLS certificate for the FQDN has expired) and 12018 (it expires soon): HT012;
- 12012 (the internal transport certificate could not be read from Active Directory) and 12013
  (it could not be loaded from the personal store): the internal transport certificate;
- 12023, 2004 and EdgeSync 1035 are collected as issue 20 lists them and shown with their
  message; hybridtls claims no rule for them.

## Symptoms
The events, and `451 5.7.3 STARTTLS is required`, `450 4.7.320`, `454 4.7.5` in the queues.

## Detection
From `exchange-events.json` (written by `hybridtls collect`: `Get-WinEvent -FilterHashtable` of
the last seven days): one finding per provider and event id, with the count, the first and last
time and the first message. Without the export the check is listed as not checked; the
collector's empty `exchange-events.json` (no such event) counts as exported.

## Fix
Manual: the rule each event names; then watch that the event stops.

## When to fix by hand
Always: events are evidence, not configuration.

## Sources
- Microsoft TechNet, Exchange 2010 events (the same ids in later releases): MSExchangeTransport
  12012 `InternalTransportCertificateMissingInAD`, 12013 `CannotLoadInternalTransportCertificateFromStore`,
  12016 `STARTTLSCertificateExpired`, 12018 `STARTTLSCertificateExpiresSoon`, 12024; "How to fix
  MSExchangeTransport Event ID 12014" (blog.expta.com, 2010) for 12014's text.
- exchange-formats.md §5 (event 12014 with `451 5.7.3`, KB 2989382).
"#,
    check,
    organisation_needs: None,
};

/// What an event id says and the rules it proves; None for an id hybridtls claims nothing of.
fn meaning(id: u32) -> Option<&'static str> {
    match id {
        12014 => Some("no certificate for the connector's FQDN, so STARTTLS is not offered (HT001, HT002, HT005)"),
        12016 => Some("the STARTTLS certificate for the FQDN has expired (HT012)"),
        12018 => Some("the STARTTLS certificate expires soon (HT012)"),
        12012 => Some("the internal transport certificate could not be read from Active Directory"),
        12013 => Some("the internal transport certificate could not be loaded from the personal store"),
        _ => None,
    }
}

/// The server's transport TLS events, one finding per provider and id.
fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    let inventory = context.inventory;
    // A server that logged none of the events has an empty export, which names no kind: the
    // collector's file name tells it then.
    let exported = inventory.inputs.iter().any(|input| {
        let events = match input.kind {
            crate::model::InputKind::ExchangeEvents => true,
            crate::model::InputKind::Empty => input.path.ends_with("exchange-events.json"),
            _ => false,
        };
        // An export of no server's folder is the only server's.
        events
            && (input.servers.iter().any(|s| s.eq_ignore_ascii_case(server))
                || (input.servers.is_empty() && inventory.servers.len() == 1))
    });
    if !exported {
        findings.not_judged("the event log".to_owned(), Missing::Export(Export::Events));
        return;
    }
    let mut groups: BTreeMap<(&str, u32), Vec<&ExchangeEvent>> = BTreeMap::new();
    for event in inventory.events.iter().filter(|e| e.server.eq_ignore_ascii_case(server)) {
        groups.entry((event.provider.as_str(), event.id)).or_default().push(event);
    }
    for ((provider, id), mut events) in groups {
        events.sort_by_key(|e| e.time);
        let (first, last) = (events[0], events[events.len() - 1]);
        let what = meaning(id).unwrap_or("see its message");
        findings.push(
            format!("{provider} {id}"),
            format!(
                "{provider} event {id}, {} times from {} to {}: {what}",
                events.len(),
                date(first.time),
                date(last.time)
            ),
            vec![Evidence {
                file: first.source.file.clone(),
                position: first.source.position.clone(),
                field: "Message".to_owned(),
                value: first.message.clone(),
            }],
            Remedy::manual(format!("{what}: fix it with the rule named, then check that event {id} stops")),
        );
    }
}
