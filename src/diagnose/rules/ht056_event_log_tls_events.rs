//! HT056 `event-log-tls-events`: the rule's documentation, metadata and check.

use std::collections::BTreeMap;

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::needs::{given_as, record_or_export, Export};
use crate::diagnose::{date, times, Evidence, Findings, Remedy};
use crate::model::ExchangeEvent;

pub const RULE: Rule = Rule {
    code: "HT056",
    name: "event-log-tls-events",
    title: "The Application log holds transport TLS certificate events of the last seven days",
    severity: Severity::Warning,
    documentation: r#"## What it means
The server logged, in the seven days before the export, MSExchangeFrontEndTransport or
MSExchangeTransport events 12014, 12016, 12018, 12023, 12012, 12013, 12015, 12024 or 2004, or
MSExchange EdgeSync event 1035: the events that record a TLS certificate transport could not use.

## Why it matters
They are what Exchange itself found, at the times it found it. Each is evidence for the rule that
explains it, and shown in that rule's finding when the rule finds the cause in the exports:
- 12014 (no certificate for the connector's TlsCertificateName or FQDN, so no STARTTLS): HT001,
  HT002, HT003, HT005, HT011;
- 12016 (the STARTTLS certificate for the FQDN has expired) and 12018 (it expires soon): HT012;
- 12012 (the internal transport certificate could not be read from Active Directory), 12013 (it
  could not be loaded from the personal store), 12015 (it has expired) and 12024 (transport fell
  back to an ephemeral certificate): HT040.

This rule reports the rest: an event none of those rules explains in the exports (they may be
newer than the event, the cause fixed since, or the cause outside what hybridtls reads), and
12023 (a fallback to the certificate for the server's FQDN), 2004 and EdgeSync 1035, which issue
20 lists and hybridtls collects and shows with their message without claiming a rule for them.

## Symptoms
The events, and `451 5.7.3 STARTTLS is required`, `450 4.7.320`, `454 4.7.5` in the queues.

## Detection
From `exchange-events.json` (written by `hybridtls collect`: `Get-WinEvent -FilterHashtable` of
the last seven days), per provider and event id: the count, the first and last time and the first
message, added as evidence to each finding of the rules the id proves on the server (this rule
runs after them), or else one finding of this rule. Without the export the check is listed as not
checked; the collector's empty `exchange-events.json` (no such event) counts as exported.

## Fix
Manual: the rule each event names; then watch that the event stops.

## When to fix by hand
Always: events are evidence, not configuration.

## Sources
- Microsoft TechNet, Exchange 2010 events (the same ids in later releases): MSExchangeTransport
  12012 `InternalTransportCertificateMissingInAD`, 12013 `CannotLoadInternalTransportCertificateFromStore`,
  12016 `STARTTLSCertificateExpired`, 12018 `STARTTLSCertificateExpiresSoon`, 12024
  `CannotLoadInternalTransportCertificateFallbackEphemeralCertificate` (12013's text, then
  "Meanwhile, an ephemeral, self-signed certificate with thumbprint %2 is being used."); "How to fix
  MSExchangeTransport Event ID 12014" (blog.expta.com, 2010) for 12014's text.
- Exchange's `TransportEventLogConstants` (exchange-formats.md §3.2 and §3.3): 12015
  `InternalTransportCertificateExpired`, 12023 a fallback to the server-FQDN certificate and 12024
  to an ephemeral one; issue 20 point 3 names 12012, 12013 and 12024 for the internal transport
  certificate.
- exchange-formats.md §5 (event 12014 with `451 5.7.3`, KB 2989382).
"#,
    check,
    organisation_needs: None,
};

/// An event id hybridtls knows, what it says, and the rules whose findings it proves (none: it
/// claims no rule for it).
struct Proof {
    id: u32,
    meaning: &'static str,
    proves: &'static [&'static Rule],
}

/// Every event id hybridtls knows the meaning of, with the rules it proves: each must run before
/// this rule (rule code order).
const PROOFS: &[Proof] = &[
    Proof {
        id: 12014,
        meaning: "no certificate for the connector's TlsCertificateName or FQDN, so STARTTLS is not offered",
        proves: &[
            &super::NO_CERTIFICATE_NAME,
            &super::NAMED_CERTIFICATE_MISSING,
            &super::NAMED_CERTIFICATE_UNSUITABLE,
            &super::NO_QUALIFYING_CERTIFICATE,
            &super::ROOT_NOT_TRUSTED,
        ],
    },
    Proof {
        id: 12016,
        meaning: "the STARTTLS certificate for the FQDN has expired",
        proves: &[&super::CERTIFICATE_EXPIRING],
    },
    Proof {
        id: 12018,
        meaning: "the STARTTLS certificate expires soon",
        proves: &[&super::CERTIFICATE_EXPIRING],
    },
    Proof {
        id: 12012,
        meaning: "the internal transport certificate could not be read from Active Directory",
        proves: &[&super::INTERNAL_TRANSPORT_CERTIFICATE],
    },
    Proof {
        id: 12013,
        meaning: "the internal transport certificate could not be loaded from the personal store",
        proves: &[&super::INTERNAL_TRANSPORT_CERTIFICATE],
    },
    Proof {
        id: 12015,
        meaning: "the internal transport certificate has expired",
        proves: &[&super::INTERNAL_TRANSPORT_CERTIFICATE],
    },
    Proof {
        id: 12024,
        meaning: "transport fell back to an ephemeral certificate, for want of a usable internal transport certificate",
        proves: &[&super::INTERNAL_TRANSPORT_CERTIFICATE],
    },
    Proof {
        id: 12023,
        meaning: "transport fell back to the certificate for the server's FQDN",
        proves: &[],
    },
];

/// The rule codes a proof names, as a sentence's list.
fn codes(proves: &[&Rule]) -> String {
    proves.iter().map(|rule| rule.code).collect::<Vec<_>>().join(", ")
}

/// The server's transport TLS events, one finding per provider and id.
fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    let inventory = context.inventory;
    // A server that logged none of the events has an empty export, which names no kind: the
    // collector's file name tells it then.
    let exported = inventory
        .inputs
        .iter()
        .any(|input| given_as(input, Export::Events) && inventory.is_own_input(input, server));
    if !exported {
        findings.not_judged(
            "the event log".to_owned(),
            record_or_export(inventory, Export::Events, server),
        );
        return;
    }
    let mut groups: BTreeMap<(&str, u32), Vec<&ExchangeEvent>> = BTreeMap::new();
    for event in inventory.events.iter().filter(|e| e.server.eq_ignore_ascii_case(server)) {
        groups.entry((event.provider.as_str(), event.id)).or_default().push(event);
    }
    for ((provider, id), mut events) in groups {
        events.sort_by_key(|e| e.time);
        let (first, last) = (events[0], events[events.len() - 1]);
        let when = match events.len() {
            1 => format!("{}, {}", times(1), date(first.time)),
            n => format!("{} from {} to {}", times(n as u64), date(first.time), date(last.time)),
        };
        let known = PROOFS.iter().find(|proof| proof.id == id);
        let proof = known.filter(|proof| !proof.proves.is_empty());
        let evidence = Evidence {
            file: first.source.file.clone(),
            position: first.source.position.clone(),
            field: format!("{provider} event {id}"),
            value: format!("{when}: {}", first.message),
        };
        if let Some(proof) = proof {
            if findings.prove(proof.proves, &evidence) {
                continue;
            }
        }
        let (what, remedy) = match proof {
            Some(proof) => (
                format!(
                    "{}; none of the rules it proves ({}) finds the cause in the exports: they may be newer than the event (fixed since?), or the cause is outside what hybridtls reads",
                    proof.meaning,
                    codes(proof.proves)
                ),
                format!(
                    "check whether event {id} still comes; if it does, export again (`hybridtls collect`) and look at {} with the fresh exports",
                    codes(proof.proves)
                ),
            ),
            None => (
                match known {
                    Some(event) => format!(
                        "{}; see its message: hybridtls claims no rule for this event",
                        event.meaning
                    ),
                    None => "see its message; hybridtls claims no rule for this event".to_owned(),
                },
                format!("read event {id}'s message in the Application log and act on it"),
            ),
        };
        findings.push(
            format!("{provider} {id}"),
            format!("{provider} event {id}, {when}: {what}"),
            vec![Evidence {
                field: "Message".to_owned(),
                value: first.message.clone(),
                ..evidence
            }],
            Remedy::manual(remedy),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id this rule claims is one the collector and the hand export ask Get-WinEvent for.
    #[test]
    fn every_event_id_claimed_is_collected_and_in_the_hand_export() {
        let collector = crate::render::collector();
        let asked = collector
            .lines()
            .find(|line| line.contains("'MSExchangeTransport'); Id = @("))
            .expect("the collector's filter for the transport events");
        let hand = Export::Events.command();
        for proof in PROOFS {
            let id = proof.id.to_string();
            assert!(asked.contains(&format!("{id},")) || asked.contains(&format!("{id})")), "{id}: {asked}");
            assert!(hand.contains(&format!("{id},")), "{id}: {hand}");
        }
    }

    /// Findings exist to be proved only once their rules ran: rules run in code order.
    #[test]
    fn evidence_rules_run_after_the_rules_they_prove() {
        let position = |code: &str| super::super::ALL.iter().position(|rule| rule.code == code).unwrap();
        for proof in PROOFS {
            for rule in proof.proves {
                assert!(position(rule.code) < position(RULE.code), "{} runs after HT056", rule.code);
            }
        }
    }
}
