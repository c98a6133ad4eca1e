//! Which receive connector an inbound SMTP connection reaches.
//!
//! Exchange gives each connection to the receive connector of the transport service whose
//! `Bindings` hold the local address and port it arrived on and whose `RemoteIPRanges` hold the
//! remote address; when several connectors' ranges hold it, "the Receive connector with the
//! most specific match to the IP address of the connecting server is used" (Set-ReceiveConnector,
//! `-RemoteIPRanges`, Microsoft Learn, Exchange 2010 to 2019; "Receive connectors", remote
//! addresses, for Exchange 2016 and later). So a connector for a relay or a partner that shares
//! port 25 with the hybrid connector takes every connection from its narrower range, Exchange
//! Online's included when it arrives from there, for example from a firewall's address behind
//! source NAT.
//!
//! hybridtls does not know the address Exchange Online's connections arrive from: behind source
//! NAT it is the NAT device's, which no export holds. So it names the ranges of other connectors
//! that would win over the hybrid connector, and leaves the judgement to a person.

use crate::ip_range::IpRange;
use crate::model::ReceiveConnector;

/// The addresses Exchange Online (worldwide) connects from on TCP port 25: Microsoft Learn,
/// "Microsoft 365 URLs and IP address ranges", Exchange Online, ID 10
/// (`*.mail.protection.outlook.com`, `*.mx.microsoft`, TCP 25). Microsoft changes the list from
/// time to time and publishes other lists for its sovereign clouds; a snapshot only says
/// "overlaps", never "Exchange Online does not use this address".
pub const EXCHANGE_ONLINE_SMTP_RANGES: &[&str] = &[
    "40.92.0.0/15",
    "40.107.0.0/16",
    "52.100.0.0/14",
    "104.47.0.0/17",
    "2a01:111:f400::/48",
    "2a01:111:f403::/48",
];

/// The published Exchange Online ranges that `range` overlaps.
pub fn exchange_online_overlaps(range: &IpRange) -> Vec<&'static str> {
    EXCHANGE_ONLINE_SMTP_RANGES
        .iter()
        .copied()
        .filter(|text| IpRange::parse(text).is_some_and(|eop| eop.overlaps(range)))
        .collect()
}

/// The local side of a binding: `0.0.0.0` and `[::]` are every address of their family; an
/// address deeper exports do not carry (the `IPAddress` object without its text) is unknown.
#[derive(Debug, PartialEq, Eq)]
enum Local {
    Unknown,
    AnyV4,
    AnyV6,
    Address(String),
}

fn binding(text: &str) -> Option<(Local, u16)> {
    let (address, port) = text.trim().rsplit_once(':')?;
    let port = port.parse().ok()?;
    let address = address
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let local = match address.as_str() {
        "" => Local::Unknown,
        "0.0.0.0" => Local::AnyV4,
        "::" => Local::AnyV6,
        _ => Local::Address(address),
    };
    Some((local, port))
}

fn is_v4(address: &str) -> bool {
    !address.contains(':')
}

/// Whether a connection to one local address can meet both bindings.
fn locals_meet(a: &Local, b: &Local) -> bool {
    match (a, b) {
        (Local::Unknown, _) | (_, Local::Unknown) => true,
        (Local::AnyV4, Local::AnyV4) | (Local::AnyV6, Local::AnyV6) => true,
        (Local::AnyV4, Local::Address(x)) | (Local::Address(x), Local::AnyV4) => is_v4(x),
        (Local::AnyV6, Local::Address(x)) | (Local::Address(x), Local::AnyV6) => !is_v4(x),
        (Local::Address(x), Local::Address(y)) => x == y,
        (Local::AnyV4, Local::AnyV6) | (Local::AnyV6, Local::AnyV4) => false,
    }
}

/// Whether a connection on `port` can arrive at both connectors: the same transport service
/// (`TransportRole`, when both are known), and bindings on `port` one local address can meet.
pub fn share_endpoint(a: &ReceiveConnector, b: &ReceiveConnector, port: u16) -> bool {
    let same_service = match (a.role, b.role) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    let locals = |c: &ReceiveConnector| -> Vec<Local> {
        c.bindings
            .iter()
            .filter_map(|text| binding(text))
            .filter(|(_, p)| *p == port)
            .map(|(local, _)| local)
            .collect()
    };
    let (left, right) = (locals(a), locals(b));
    same_service && left.iter().any(|x| right.iter().any(|y| locals_meet(x, y)))
}

/// The narrowest of `connector`'s ranges that holds all of `range`.
pub fn narrowest_holding<'c>(connector: &'c ReceiveConnector, range: &IpRange) -> Option<&'c IpRange> {
    connector
        .remote_ip_ranges
        .iter()
        .filter(|own| own.contains(range))
        .min_by_key(|own| own.span())
}

/// A range of a non-hybrid connector that wins over a hybrid connector for port-25 connections.
#[derive(Debug)]
pub struct Takeover<'a> {
    /// The connector that takes the connections.
    pub connector: &'a ReceiveConnector,
    /// The hybrid connector that would take them without it.
    pub hybrid: &'a ReceiveConnector,
    /// Each range of `connector` that wins, with the narrowest range of `hybrid` holding it.
    pub ranges: Vec<(&'a IpRange, &'a IpRange)>,
}

/// Every non-hybrid, enabled connector among `connectors` (one server's) with a remote range
/// on port 25 that Exchange gives to it instead of to a hybrid connector: the range lies inside
/// one of the hybrid connector's ranges, and no other connector sharing the endpoint holds it as
/// narrowly (ties would be a configuration Exchange refuses, and are left alone).
pub fn takeovers<'a>(
    connectors: &[&'a ReceiveConnector],
    is_hybrid: impl Fn(&ReceiveConnector) -> bool,
) -> Vec<Takeover<'a>> {
    const PORT: u16 = 25;
    let enabled: Vec<&ReceiveConnector> = connectors
        .iter()
        .copied()
        .filter(|c| c.enabled != Some(false) && c.listens_on_port(PORT))
        .collect();
    let mut found = Vec::new();
    for &hybrid in enabled.iter().filter(|c| is_hybrid(c)) {
        for &other in enabled.iter().filter(|c| !is_hybrid(c)) {
            if !share_endpoint(hybrid, other, PORT) {
                continue;
            }
            let ranges: Vec<(&IpRange, &IpRange)> = other
                .remote_ip_ranges
                .iter()
                .filter_map(|range| {
                    let held = narrowest_holding(hybrid, range)?;
                    let wins = range.span() < held.span()
                        && enabled.iter().all(|rival| {
                            std::ptr::eq(*rival, other)
                                || !share_endpoint(rival, other, PORT)
                                || narrowest_holding(rival, range).is_none_or(|r| r.span() > range.span())
                        });
                    wins.then_some((range, held))
                })
                .collect();
            if !ranges.is_empty() {
                found.push(Takeover {
                    connector: other,
                    hybrid,
                    ranges,
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Source, TransportRole};

    fn connector(name: &str, bindings: &[&str], ranges: &[&str]) -> ReceiveConnector {
        ReceiveConnector {
            server: "EX01".into(),
            name: name.into(),
            role: Some(TransportRole::FrontendTransport),
            bindings: bindings.iter().map(|b| b.to_string()).collect(),
            remote_ip_ranges: ranges.iter().map(|r| IpRange::parse(r).unwrap()).collect(),
            fqdn: None,
            tls_certificate_name: None,
            tls_domain_capabilities: vec![],
            auth_mechanism: None,
            enabled: Some(true),
            source: Source {
                file: "f".into(),
                position: crate::error::Position::Line(1),
            },
        }
    }

    const ALL: &[&str] = &[
        "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "0.0.0.0-255.255.255.255",
    ];
    const BOTH_25: &[&str] = &["[::]:25", "0.0.0.0:25"];

    fn hybrid(c: &ReceiveConnector) -> bool {
        c.name.starts_with("Default Frontend")
    }

    #[test]
    fn the_most_specific_range_wins_as_learn_shows() {
        // Learn's example: A (192.168.1.0/24) and B (192.168.1.75) beside a connector for all.
        let frontend = connector("Default Frontend EX01", BOTH_25, ALL);
        let a = connector(
            "Custom Connector A",
            &["0.0.0.0:25"],
            &["192.168.1.0-192.168.1.255"],
        );
        let b = connector("Custom Connector B", &["0.0.0.0:25"], &["192.168.1.75"]);
        let all = [&frontend, &a, &b];
        let found = takeovers(&all, hybrid);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].connector.name, "Custom Connector A");
        assert_eq!(found[0].ranges[0].1.text, "0.0.0.0-255.255.255.255");
        assert_eq!(found[1].connector.name, "Custom Connector B");
    }

    #[test]
    fn another_port_address_or_service_is_another_endpoint() {
        let frontend = connector("Default Frontend EX01", BOTH_25, ALL);
        let other_port = connector("Relay", &["0.0.0.0:2525"], &["10.0.0.0/8"]);
        let other_address = connector("Relay", &["10.0.0.5:25"], &["10.0.0.0/8"]);
        let mut hub = connector("Relay", &["0.0.0.0:25"], &["10.0.0.0/8"]);
        hub.role = Some(TransportRole::HubTransport);
        let mut disabled = connector("Relay", &["0.0.0.0:25"], &["10.0.0.0/8"]);
        disabled.enabled = Some(false);
        for relay in [&other_port, &hub, &disabled] {
            assert!(takeovers(&[&frontend, relay], hybrid).is_empty(), "{relay:?}");
        }
        // Both bound to one address, or one to all of its family: the same endpoint.
        let bound = connector("Default Frontend EX01", &["10.0.0.5:25"], ALL);
        assert_eq!(takeovers(&[&bound, &other_address], hybrid).len(), 1);
        assert_eq!(takeovers(&[&frontend, &other_address], hybrid).len(), 1);
        let elsewhere = connector("Relay", &["10.0.0.6:25"], &["10.0.0.0/8"]);
        assert!(takeovers(&[&bound, &elsewhere], hybrid).is_empty());
        // An address the export did not carry (":25") may be any.
        let unknown = connector("Relay", &[":25"], &["10.0.0.0/8"]);
        assert_eq!(takeovers(&[&bound, &unknown], hybrid).len(), 1);
    }

    #[test]
    fn a_range_as_wide_as_the_hybrid_connectors_or_unexported_takes_nothing() {
        let frontend = connector("Default Frontend EX01", BOTH_25, ALL);
        let same = connector("Relay", &["0.0.0.0:25"], &["0.0.0.0-255.255.255.255"]);
        let none = connector("Relay", &["0.0.0.0:25"], &[]);
        assert!(takeovers(&[&frontend, &same], hybrid).is_empty());
        assert!(takeovers(&[&frontend, &none], hybrid).is_empty());
        let unexported = connector("Default Frontend EX01", BOTH_25, &[]);
        let relay = connector("Relay", &["0.0.0.0:25"], &["10.0.0.0/8"]);
        assert!(takeovers(&[&unexported, &relay], hybrid).is_empty());
    }

    #[test]
    fn a_narrower_rival_wins_instead() {
        // A hybrid connector scoped to Exchange Online's range, inside which a relay sits:
        // the relay still wins for its /24.
        let frontend = connector("Default Frontend EX01", BOTH_25, ALL);
        let relay = connector("Relay", &["0.0.0.0:25"], &["10.0.0.0/8"]);
        let device = connector("Scanner", &["0.0.0.0:25"], &["10.0.0.0/8", "10.1.2.3"]);
        let found = takeovers(&[&frontend, &relay, &device], hybrid);
        // 10.0.0.0/8 is held as narrowly by both: a tie, reported for neither; 10.1.2.3 by one.
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].connector.name, "Scanner");
        assert_eq!(found[0].ranges.len(), 1);
        assert_eq!(found[0].ranges[0].0.text, "10.1.2.3");
    }

    #[test]
    fn exchange_online_overlaps_are_named() {
        let range = IpRange::parse("40.107.12.0/24").unwrap();
        assert_eq!(exchange_online_overlaps(&range), ["40.107.0.0/16"]);
        assert!(exchange_online_overlaps(&IpRange::parse("192.0.2.1").unwrap()).is_empty());
        let all = IpRange::parse("0.0.0.0-255.255.255.255").unwrap();
        assert_eq!(exchange_online_overlaps(&all).len(), 4);
    }
}
