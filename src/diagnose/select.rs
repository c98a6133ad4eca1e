//! A model of how Exchange picks the STARTTLS certificate of a receive connector, so hybridtls
//! can show the certificate each connector really presents.
//!
//! Sources (see `shared/reference/exchange-formats.md` §3.2): with `TlsCertificateName` set,
//! Exchange searches `LocalMachine\My` for valid certificates with that subject and issuer;
//! Exchange 2013 takes the first in store order, newer guidance the latest `NotAfter`, so more
//! than one valid match is treated as a fault. With it unset, Exchange searches by the connector
//! FQDN, or by the server FQDN when the connector has none ("Selection of inbound STARTTLS
//! certificates", Microsoft Learn, 2025: the name is TlsCertificateName, else the connector
//! Fqdn, else the server's FQDN; nothing eligible means no STARTTLS and event 12014):
//! certificates with a private key whose CN or SAN holds the name (exact matches before
//! wildcards), newest `NotBefore` first, CA-issued before self-signed, and, as the decompiled
//! `FindBest` does, an expired one last (event 12016, STARTTLS still offered).

use time::OffsetDateTime;

use crate::model::{name_covers, Certificate, ReceiveConnector, Server, TlsCertificateName};

/// How the connector's certificate is chosen, and what that yields.
#[derive(Debug, Clone)]
pub enum Selection<'a> {
    /// `TlsCertificateName` is set: `valid` are the valid matches in store order, `invalid` the
    /// matches that are expired or not valid.
    Named {
        name: TlsCertificateName,
        valid: Vec<&'a Certificate>,
        invalid: Vec<&'a Certificate>,
    },
    /// `TlsCertificateName` is null: the FQDN search used `name` and picked `chosen`.
    ByFqdn {
        name: Option<String>,
        chosen: Option<&'a Certificate>,
    },
}

impl<'a> Selection<'a> {
    /// The certificate presented, when there is exactly one answer. For several valid named
    /// matches this is the first in store order (Exchange 2013's rule).
    pub fn effective(&self) -> Option<&'a Certificate> {
        match self {
            Selection::Named { valid, .. } => valid.first().copied(),
            Selection::ByFqdn { chosen, .. } => *chosen,
        }
    }
}

pub fn select<'a>(
    connector: &ReceiveConnector,
    server: Option<&Server>,
    store: &[&'a Certificate],
    now: OffsetDateTime,
) -> Selection<'a> {
    match &connector.tls_certificate_name {
        Some(name) => {
            let (valid, invalid) = store
                .iter()
                .copied()
                .filter(|certificate| name.matches(certificate))
                .partition(|certificate| certificate.valid_at(now));
            Selection::Named {
                name: name.clone(),
                valid,
                invalid,
            }
        }
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

fn search_by_fqdn<'a>(fqdn: &str, store: &[&'a Certificate], now: OffsetDateTime) -> Option<&'a Certificate> {
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
                position: "p".into(),
            },
        }
    }

    fn connector(fqdn: &str, name: Option<TlsCertificateName>) -> ReceiveConnector {
        ReceiveConnector {
            server: "EX1".into(),
            name: "Default Frontend EX1".into(),
            role: None,
            bindings: vec![],
            fqdn: Some(fqdn.into()),
            tls_certificate_name: name,
            tls_domain_capabilities: vec![],
            auth_mechanism: None,
            enabled: None,
            source: Source {
                file: "f".into(),
                position: "p".into(),
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
            version: None,
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
}
