//! A model of how Exchange picks the certificate of a connector, per release and per direction,
//! so hybridtls can show the certificate each connector really presents.
//!
//! Sources (see `shared/reference/exchange-formats.md` §3.2):
//! - With `TlsCertificateName` set, Exchange looks certificates up by issuer and subject. The
//!   decompiled Exchange 2013 code takes the first valid match in store order and does not check
//!   for a private key, on receive and send alike. For Exchange 2016, 2019 and SE, "Selection of
//!   inbound STARTTLS certificates" (Microsoft Learn, 2025) makes only certificates with a
//!   private key eligible on receive, and the Exchange Team blog (June 2025, Tech Community
//!   4420592) says that among matches the latest expiry wins, where Learn's own ordering is the
//!   newest NotBefore. The send side of those releases is documented only by that blog; seed 002
//!   (`NoCredentials` in SmtpSend on an Exchange 2019 Edge with a key-less copy, inbound working)
//!   shows it does not skip a copy without a key. Where the sources leave more than one answer
//!   open, each is kept as a [`Reading`], and the plan must be right under all of them.
//! - With it unset, Exchange searches by the connector FQDN, or by the server FQDN when the
//!   connector has none (the name is TlsCertificateName, else the connector Fqdn, else the
//!   server's FQDN; nothing eligible means no STARTTLS and event 12014): certificates with a
//!   private key whose CN or SAN holds the name (exact matches before wildcards), newest
//!   `NotBefore` first, CA-issued before self-signed, and, as the decompiled `FindBest` does, an
//!   expired one last (event 12016, STARTTLS still offered).

use time::OffsetDateTime;

use crate::model::{
    name_covers, Certificate, ExchangeRelease, ReceiveConnector, SendConnector, Server, TlsCertificateName,
};

/// One documented way Exchange resolves a `TlsCertificateName`, and what it yields here.
#[derive(Debug, Clone)]
pub struct Reading<'a> {
    /// The rule and its source, in words a reader can check.
    pub rule: &'static str,
    /// None when nothing is eligible under this reading.
    pub presents: Option<&'a Certificate>,
}

/// Which way the certificate is used: the lookups differ (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Receive,
    Send,
}

const FIRST_IN_STORE_ORDER: &str =
    "Exchange 2013 code: the first valid match in store order, with or without a private key";
const LATEST_NOT_AFTER_ANY: &str =
    "Exchange Team blog 2025: the valid match with the latest NotAfter, with or without a private key";
const LATEST_NOT_AFTER_KEYED: &str =
    "Microsoft Learn (only certificates with a private key) and Exchange Team blog 2025 (latest NotAfter)";
const NEWEST_NOT_BEFORE_KEYED: &str =
    "Microsoft Learn: only certificates with a private key, the newest NotBefore first";

/// The readings that apply to a named lookup in `direction` on `release` (all of them when the
/// release is unknown), evaluated over the valid matches in store order.
pub fn named_readings<'a>(
    valid: &[&'a Certificate],
    direction: Direction,
    release: ExchangeRelease,
) -> Vec<Reading<'a>> {
    let keyed = || valid.iter().copied().filter(|c| c.has_private_key != Some(false));
    let first_any = || Reading {
        rule: FIRST_IN_STORE_ORDER,
        presents: valid.first().copied(),
    };
    // `max_by_key` keeps the last of equal keys; store order decides ties, so take the first.
    let latest =
        |candidates: Vec<&'a Certificate>| candidates.iter().copied().rev().max_by_key(|c| c.not_after);
    let latest_any = || Reading {
        rule: LATEST_NOT_AFTER_ANY,
        presents: latest(valid.to_vec()),
    };
    let latest_keyed = || Reading {
        rule: LATEST_NOT_AFTER_KEYED,
        presents: latest(keyed().collect()),
    };
    let newest_keyed = || Reading {
        rule: NEWEST_NOT_BEFORE_KEYED,
        presents: keyed().rev().max_by_key(|c| c.not_before),
    };
    let old_code = matches!(
        release,
        ExchangeRelease::Exchange2010 | ExchangeRelease::Exchange2013
    );
    match (direction, release == ExchangeRelease::Unknown, old_code) {
        (_, false, true) => vec![first_any()],
        (Direction::Receive, false, false) => vec![latest_keyed(), newest_keyed()],
        (Direction::Receive, true, _) => vec![first_any(), latest_keyed(), newest_keyed()],
        (Direction::Send, _, _) => vec![first_any(), latest_any()],
    }
}

/// The certificate every reading agrees on; None when they disagree or nothing is eligible.
pub fn agreed<'a>(readings: &[Reading<'a>]) -> Option<&'a Certificate> {
    let first = readings.first()?.presents?;
    readings
        .iter()
        .all(|r| r.presents.is_some_and(|c| c.thumbprint == first.thumbprint))
        .then_some(first)
}

/// How the connector's certificate is chosen, and what that yields.
#[derive(Debug, Clone)]
pub enum Selection<'a> {
    /// `TlsCertificateName` is set: `valid` are the valid matches in store order, `invalid` the
    /// matches that are expired or not valid, `readings` what each documented rule presents.
    Named {
        name: TlsCertificateName,
        valid: Vec<&'a Certificate>,
        invalid: Vec<&'a Certificate>,
        readings: Vec<Reading<'a>>,
    },
    /// `TlsCertificateName` is null: the FQDN search used `name` and picked `chosen`.
    ByFqdn {
        name: Option<String>,
        chosen: Option<&'a Certificate>,
    },
}

impl<'a> Selection<'a> {
    /// What a receive connector presents under this selection, in words: the certificate, or
    /// nothing and why, or each documented reading's answer when they disagree.
    pub fn describe(&self, now: OffsetDateTime) -> String {
        let line = |certificate: &Certificate| certificate.line(now);
        match self {
            Selection::Named {
                valid,
                invalid,
                readings,
                ..
            } => match (self.effective(), valid.as_slice()) {
                (_, []) if invalid.is_empty() => {
                    "nothing: no installed certificate matches, STARTTLS is not offered".to_owned()
                }
                (_, []) => {
                    "nothing: the matching certificates are not valid, STARTTLS is not offered".to_owned()
                }
                (Some(one), [_]) => line(one),
                (Some(one), several) => format!(
                    "{} (of {} valid matches, under every documented rule for this build)",
                    line(one),
                    several.len()
                ),
                (None, _) => {
                    let answers: Vec<String> = readings
                        .iter()
                        .map(|reading| {
                            let what = reading
                                .presents
                                .map_or_else(|| "nothing (no eligible certificate)".to_owned(), line);
                            format!("{what} under \"{}\"", reading.rule)
                        })
                        .collect();
                    format!("depends on the build's rule: {}", answers.join("; "))
                }
            },
            Selection::ByFqdn { chosen: Some(c), .. } => line(c),
            Selection::ByFqdn { chosen: None, .. } => {
                "nothing: no certificate matches the FQDN, STARTTLS is not offered".to_owned()
            }
        }
    }

    /// The certificate presented, when every reading gives the same answer.
    pub fn effective(&self) -> Option<&'a Certificate> {
        match self {
            Selection::Named { readings, .. } => agreed(readings),
            Selection::ByFqdn { chosen, .. } => *chosen,
        }
    }

    /// The thumbprints the connector presents under some reading, without repeats.
    pub fn possible(&self) -> Vec<&'a str> {
        let mut thumbprints: Vec<&'a str> = match self {
            Selection::Named { readings, .. } => readings
                .iter()
                .filter_map(|r| r.presents.map(|c| c.thumbprint.as_str()))
                .collect(),
            Selection::ByFqdn { chosen, .. } => chosen.iter().map(|c| c.thumbprint.as_str()).collect(),
        };
        let mut unique: Vec<&'a str> = Vec::new();
        for thumbprint in thumbprints.drain(..) {
            if !unique.contains(&thumbprint) {
                unique.push(thumbprint);
            }
        }
        unique
    }

    pub fn may_present(&self, thumbprint: &str) -> bool {
        self.possible().contains(&thumbprint)
    }
}

/// The receive connector's STARTTLS certificate on `server`.
pub fn select<'a>(
    connector: &ReceiveConnector,
    server: Option<&Server>,
    store: &[&'a Certificate],
    now: OffsetDateTime,
) -> Selection<'a> {
    match &connector.tls_certificate_name {
        Some(name) => named(
            name,
            store,
            Direction::Receive,
            server.map_or(ExchangeRelease::Unknown, |s| s.release),
            now,
        ),
        None => {
            // One name, never a fallback chain: the connector's Fqdn when set, the server's
            // FQDN only when it is not. With Fqdn set and no certificate for it Exchange offers
            // no STARTTLS (event 12014); it does not go on to the server FQDN.
            let name = connector
                .fqdn
                .clone()
                .or_else(|| server.and_then(|s| s.fqdn.clone()));
            let chosen = name.as_deref().and_then(|name| search_by_fqdn(name, store, now));
            Selection::ByFqdn { name, chosen }
        }
    }
}

/// The lookup of `name` in `store` as `direction` makes it on `release`.
fn named<'a>(
    name: &TlsCertificateName,
    store: &[&'a Certificate],
    direction: Direction,
    release: ExchangeRelease,
    now: OffsetDateTime,
) -> Selection<'a> {
    let (valid, invalid): (Vec<&Certificate>, Vec<&Certificate>) = store
        .iter()
        .copied()
        .filter(|certificate| name.matches(certificate))
        .partition(|certificate| certificate.valid_at(now));
    let readings = named_readings(&valid, direction, release);
    Selection::Named {
        name: name.clone(),
        valid,
        invalid,
        readings,
    }
}

/// What the send connector to Exchange Online presents from `server`: with TlsCertificateName
/// set, the send lookup (no private-key check, see [`named_readings`]); with it null, the search
/// by the connector's Fqdn, as [`send_certificates`] judges it.
pub fn select_send<'a>(
    connector: &SendConnector,
    server: &Server,
    store: &[&'a Certificate],
    now: OffsetDateTime,
) -> Selection<'a> {
    match &connector.tls_certificate_name {
        Some(name) => named(name, store, Direction::Send, server.release, now),
        None => Selection::ByFqdn {
            name: connector.fqdn.clone(),
            chosen: connector
                .fqdn
                .as_deref()
                .and_then(|fqdn| search_by_fqdn(fqdn, store, now)),
        },
    }
}

/// The certificates a send connector can present from `store`: the valid matches with a private
/// key of its TlsCertificateName or, with that null, the certificate the FQDN search finds for
/// its Fqdn when Exchange Online can trust it (valid, CA-issued). Empty when it can present none.
pub fn send_certificates<'a>(
    connector: &SendConnector,
    store: &[&'a Certificate],
    now: OffsetDateTime,
) -> Vec<&'a Certificate> {
    match (&connector.tls_certificate_name, &connector.fqdn) {
        (Some(name), _) => store
            .iter()
            .copied()
            .filter(|c| name.matches(c) && c.valid_at(now) && super::has_key(c))
            .collect(),
        // A null TlsCertificateName is valid when Fqdn is set: the certificate is then found
        // by that name, as on receive.
        (None, Some(fqdn)) => search_by_fqdn(fqdn, store, now)
            .filter(|c| c.valid_at(now) && !c.self_signed)
            .into_iter()
            .collect(),
        (None, None) => Vec::new(),
    }
}

/// The certificate the FQDN search picks for `fqdn` (receive connectors with a null
/// TlsCertificateName, and send connectors likewise).
pub fn search_by_fqdn<'a>(
    fqdn: &str,
    store: &[&'a Certificate],
    now: OffsetDateTime,
) -> Option<&'a Certificate> {
    let eligible = |exact: bool| -> Vec<&'a Certificate> {
        let mut found: Vec<&'a Certificate> = store
            .iter()
            .copied()
            .filter(|c| c.has_private_key != Some(false))
            .filter(|c| {
                c.names.iter().any(|name| {
                    let wildcard = name.starts_with("*.");
                    wildcard != exact && name_covers(name, fqdn)
                })
            })
            .collect();
        // Stable sort keeps store order among equal NotBefore.
        found.sort_by_key(|c| std::cmp::Reverse(c.not_before));
        found
    };
    let mut candidates = eligible(true);
    if candidates.is_empty() {
        candidates = eligible(false);
    }
    candidates
        .iter()
        .copied()
        .find(|c| !c.self_signed && c.valid_at(now))
        .or_else(|| candidates.iter().copied().find(|c| c.self_signed))
        .or_else(|| candidates.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Source, Store};
    use time::macros::datetime;

    fn certificate(
        thumbprint: &str,
        names: &[&str],
        self_signed: bool,
        not_before: OffsetDateTime,
    ) -> Certificate {
        Certificate {
            server: Some("EX1".into()),
            store: Store::My,
            thumbprint: thumbprint.into(),
            subject: format!("CN={}", names[0]),
            issuer: if self_signed {
                format!("CN={}", names[0])
            } else {
                "CN=CA".into()
            },
            not_before,
            not_after: datetime!(2030-01-01 0:00 UTC),
            names: names.iter().map(|n| n.to_string()).collect(),
            self_signed,
            has_private_key: Some(true),
            from_store_listing: false,
            services: None,
            status: None,
            friendly_name: None,
            facts: None,
            source: Source {
                file: "f".into(),
                position: crate::error::Position::Line(1),
            },
        }
    }

    fn connector(fqdn: &str, name: Option<TlsCertificateName>) -> ReceiveConnector {
        ReceiveConnector {
            server: "EX1".into(),
            name: "Default Frontend EX1".into(),
            role: None,
            bindings: vec![],
            remote_ip_ranges: vec![],
            fqdn: Some(fqdn.into()),
            tls_certificate_name: name,
            tls_domain_capabilities: vec![],
            auth_mechanism: None,
            enabled: None,
            source: Source {
                file: "f".into(),
                position: crate::error::Position::Line(1),
            },
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-11-24 0:00 UTC);

    #[test]
    fn fqdn_search_prefers_ca_issued_then_newest_and_falls_back_to_self_signed() {
        let self_signed = certificate(
            "A",
            &["EX1", "ex1.contoso.com"],
            true,
            datetime!(2026-05-01 0:00 UTC),
        );
        let older_ca = certificate("B", &["ex1.contoso.com"], false, datetime!(2025-01-01 0:00 UTC));
        let newer_ca = certificate("C", &["ex1.contoso.com"], false, datetime!(2026-01-01 0:00 UTC));
        let store = [&self_signed, &older_ca, &newer_ca];
        let chosen = select(&connector("ex1.contoso.com", None), None, &store, NOW).effective();
        assert_eq!(chosen.map(|c| c.thumbprint.as_str()), Some("C"));
        let chosen = select(&connector("ex1.contoso.com", None), None, &[&self_signed], NOW).effective();
        assert_eq!(chosen.map(|c| c.thumbprint.as_str()), Some("A"));
    }

    #[test]
    fn exact_names_win_over_wildcards() {
        let wildcard = certificate("W", &["*.contoso.com"], false, datetime!(2026-06-01 0:00 UTC));
        let exact = certificate("E", &["ex1.contoso.com"], false, datetime!(2025-06-01 0:00 UTC));
        let chosen = select(
            &connector("ex1.contoso.com", None),
            None,
            &[&wildcard, &exact],
            NOW,
        )
        .effective();
        assert_eq!(chosen.map(|c| c.thumbprint.as_str()), Some("E"));
    }

    #[test]
    fn named_selection_splits_valid_and_expired_matches() {
        let mut expired = certificate("X", &["mail.contoso.com"], false, datetime!(2020-01-01 0:00 UTC));
        expired.not_after = datetime!(2021-01-01 0:00 UTC);
        let current = certificate("Y", &["mail.contoso.com"], false, datetime!(2026-01-01 0:00 UTC));
        let name = TlsCertificateName {
            issuer: Some("cn=ca".into()),
            subject: "CN = mail.contoso.com".into(),
        };
        let selection = select(
            &connector("ex1.contoso.com", Some(name)),
            None,
            &[&expired, &current],
            NOW,
        );
        match selection {
            Selection::Named { valid, invalid, .. } => {
                assert_eq!(valid.len(), 1);
                assert_eq!(invalid.len(), 1);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_connector_fqdn_without_a_certificate_offers_no_starttls_instead_of_the_server_fqdn() {
        let server = Server {
            name: "EX1".into(),
            fqdn: Some("ex1.contoso.com".into()),
            kind: None,
            release: ExchangeRelease::Unknown,
            folder: None,
        };
        let server_certificate =
            certificate("S", &["ex1.contoso.com"], false, datetime!(2026-01-01 0:00 UTC));
        let store = [&server_certificate];
        // Fqdn set and nothing covers it: no STARTTLS (event 12014), no fallback.
        match select(&connector("mail.contoso.com", None), Some(&server), &store, NOW) {
            Selection::ByFqdn { name, chosen } => {
                assert_eq!(name.as_deref(), Some("mail.contoso.com"));
                assert!(chosen.is_none(), "fell back to the server FQDN: {chosen:?}");
            }
            other => panic!("{other:?}"),
        }
        // Fqdn null: the server FQDN is the name searched.
        let mut without_fqdn = connector("unused", None);
        without_fqdn.fqdn = None;
        let chosen = select(&without_fqdn, Some(&server), &store, NOW).effective();
        assert_eq!(chosen.map(|c| c.thumbprint.as_str()), Some("S"));
    }

    fn server(release: ExchangeRelease) -> Server {
        Server {
            name: "EX1".into(),
            fqdn: Some("ex1.contoso.com".into()),
            kind: None,
            release,
            folder: None,
        }
    }

    /// Seed 002's store: a key-less copy first in store order with the later NotAfter, and the
    /// certificate with its key.
    fn keyless_first() -> (Certificate, Certificate) {
        let mut copy = certificate(
            "COPY",
            &["mail.contoso.com"],
            false,
            datetime!(2026-01-01 0:00 UTC),
        );
        copy.has_private_key = Some(false);
        copy.not_after = datetime!(2031-01-01 0:00 UTC);
        let keyed = certificate(
            "KEYED",
            &["mail.contoso.com"],
            false,
            datetime!(2026-01-01 0:00 UTC),
        );
        (copy, keyed)
    }

    fn named(release: ExchangeRelease, store: &[&Certificate]) -> Vec<String> {
        let name = TlsCertificateName {
            issuer: Some("CN=CA".into()),
            subject: "CN=mail.contoso.com".into(),
        };
        select(
            &connector("mail.contoso.com", Some(name)),
            Some(&server(release)),
            store,
            NOW,
        )
        .possible()
        .into_iter()
        .map(str::to_owned)
        .collect()
    }

    #[test]
    fn named_receive_selection_follows_the_release() {
        let (copy, keyed) = keyless_first();
        let store = [&copy, &keyed];
        // Exchange 2013 code: first valid match, no private-key check: inbound breaks.
        assert_eq!(named(ExchangeRelease::Exchange2013, &store), ["COPY"]);
        // 2016 and later consider only certificates with a key: inbound works (seed 002).
        assert_eq!(named(ExchangeRelease::Exchange2016, &store), ["KEYED"]);
        assert_eq!(named(ExchangeRelease::Exchange2019, &store), ["KEYED"]);
        // Unknown release: every reading stays open, so nothing is claimed for certain.
        assert_eq!(named(ExchangeRelease::Unknown, &store), ["COPY", "KEYED"]);
    }

    #[test]
    fn named_send_selection_never_skips_a_keyless_copy() {
        let (copy, keyed) = keyless_first();
        for release in [
            ExchangeRelease::Unknown,
            ExchangeRelease::Exchange2013,
            ExchangeRelease::Exchange2019,
        ] {
            let readings = named_readings(&[&copy, &keyed], Direction::Send, release);
            assert!(
                readings
                    .iter()
                    .all(|r| r.presents.map(|c| c.thumbprint.as_str()) == Some("COPY")),
                "{release:?}"
            );
            assert_eq!(agreed(&readings).map(|c| c.thumbprint.as_str()), Some("COPY"));
            // Store order and expiry disagree when the copy comes second and expires earlier.
            let mut early = copy.clone();
            early.not_after = datetime!(2029-01-01 0:00 UTC);
            let readings = named_readings(&[&keyed, &early], Direction::Send, release);
            let first_any = readings.iter().find(|r| r.rule == FIRST_IN_STORE_ORDER).unwrap();
            assert_eq!(first_any.presents.map(|c| c.thumbprint.as_str()), Some("KEYED"));
        }
        // The 2025 guidance (latest NotAfter) and Exchange 2013 code (store order) disagree here.
        let mut later = keyless_first().1;
        later.thumbprint = "LATER".into();
        later.not_after = datetime!(2032-01-01 0:00 UTC);
        let readings = named_readings(&[&keyed, &later], Direction::Send, ExchangeRelease::Unknown);
        assert!(agreed(&readings).is_none());
    }
}
