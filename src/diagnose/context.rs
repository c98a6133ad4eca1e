//! The one context every rule's check reads, worked out once per server. What several rules
//! report from one decision is decided here once: the judgement of each hybrid connector's
//! selection (HT001 to HT005, [`super::connector`]), the certificates the connectors present
//! once the plan is carried out, and the chain walk of each (HT010, HT011, [`super::chain`]).

use time::OffsetDateTime;

use super::chain::{self, ChainWalk};
use super::connector::{self, Intended, Judgement, Target, Verdict};
use super::select;
use super::settings::Settings;
use super::{choose_target, is_hybrid, ConnectorReport, HybridNames, ServerIndex};
use crate::model::{
    Certificate, ExchangeRelease, Inventory, ReceiveConnector, Server, ServerSettings, Store,
    TlsCertificateName, TlsSettings,
};

/// What every rule's check reads about one server: `'a` borrows the inventory, `'c` what the
/// diagnosis of the whole organisation works out once (the index, the hybrid names).
pub(in crate::diagnose) struct Context<'c, 'a> {
    pub inventory: &'a Inventory,
    pub index: &'c ServerIndex<'a>,
    pub server: &'a Server,
    pub now: OffsetDateTime,
    /// What the user tuned (the expiry warning HT012 reads).
    pub settings: &'c Settings,
    /// The hybrid names and their origin; None when they could not be determined (HT007).
    pub hybrid: Option<&'c HybridNames>,
    /// The hybrid names, empty when unknown.
    pub names: &'c [String],
    /// The server's certificates in `Cert:\LocalMachine\My`.
    pub store: Vec<&'a Certificate>,
    /// Every receive connector of the server, by name, with the certificate it presents.
    pub reports: Vec<ConnectorReport<'a>>,
    /// The certificate hybrid mail should use here, when one qualifies.
    pub target: Option<Target<'a>>,
    /// Whether this server carries the organisation's one-off steps (the first non-Edge server
    /// in sorted order).
    pub renewal_carrier: bool,
    /// The judgement of each hybrid connector's selection; none without the hybrid names or the
    /// server's certificates, when no selection can be judged.
    pub judgements: Vec<Judgement<'a>>,
    /// The certificates the hybrid connectors present once the plan is carried out, each once,
    /// with the TlsCertificateName that names it.
    pub intended: Vec<(&'a Certificate, TlsCertificateName)>,
    /// The chain walk of each intended certificate; none without the CA listing.
    pub chains: Vec<ChainWalk<'a>>,
    /// Why a certificate with an ECDSA key cannot serve here; None where one can.
    pub ecdsa_refusal: Option<String>,
    /// What the server record says beyond the [`Server`] (root update, ECC support, build).
    pub server_settings: Option<&'a ServerSettings>,
    /// The server's `tls-settings.json` (HT050 to HT054); None when not exported.
    pub tls_settings: Option<&'a TlsSettings>,
}

impl<'c, 'a> Context<'c, 'a> {
    pub fn new(
        inventory: &'a Inventory,
        index: &'c ServerIndex<'a>,
        server: &'a Server,
        hybrid: Option<&'c HybridNames>,
        renewal_carrier: bool,
        now: OffsetDateTime,
        settings: &'c Settings,
    ) -> Self {
        // The server's certificates of every store and the supplied files, in inventory order
        // (the order chain building relies on).
        let own = index.certificates(&server.name);
        let store: Vec<&Certificate> = own.iter().copied().filter(|c| c.store == Store::My).collect();
        let mut connectors: Vec<&ReceiveConnector> = index
            .receive_connectors
            .get(&server.name.to_ascii_uppercase())
            .cloned()
            .unwrap_or_default();
        connectors.sort_by_key(|c| c.name.to_ascii_lowercase());
        let reports: Vec<ConnectorReport> = connectors
            .iter()
            .map(|connector| ConnectorReport {
                connector,
                hybrid: is_hybrid(connector),
                selection: select::select(connector, Some(server), &store, now),
                observed: index
                    .latest_sightings
                    .get(&connector.identity().to_ascii_uppercase())
                    .copied(),
            })
            .collect();
        let names: &[String] = hybrid.map_or(&[], |h| &h.names);
        let server_settings = inventory.settings(&server.name);
        let ecdsa_refusal = super::ecdsa_refusal(server, server_settings);
        let ecdsa = ecdsa_refusal.as_deref();
        let exchange_2010 = server.release == ExchangeRelease::Exchange2010;
        // Exchange 2010 chooses by the connector's Fqdn: its target need not be nameable.
        let target = hybrid
            .and_then(|h| choose_target(&store, &h.names, now, !exchange_2010, ecdsa))
            .map(|certificate| Target::new(certificate, &store, now));
        // Without the server's certificates (HT017) no selection can be judged: saying "obtain
        // a certificate" would be a confident guess.
        let judgements: Vec<Judgement> = if hybrid.is_some() && !store.is_empty() {
            reports
                .iter()
                .filter(|r| r.hybrid)
                .map(|report| {
                    connector::judge(report, exchange_2010, target.as_ref(), &store, names, now, ecdsa)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut intended: Vec<(&Certificate, TlsCertificateName)> = Vec::new();
        for judgement in &judgements {
            if let Intended::Certificate(certificate, name) = judgement.intended() {
                if !intended
                    .iter()
                    .any(|(c, _)| c.thumbprint == certificate.thumbprint)
                {
                    intended.push((certificate, name));
                }
            }
        }
        let chains = intended
            .iter()
            .filter_map(|(leaf, _)| chain::walk(inventory, own, server, leaf, now))
            .collect();
        Context {
            inventory,
            index,
            server,
            now,
            settings,
            hybrid,
            names,
            store,
            reports,
            target,
            renewal_carrier,
            judgements,
            intended,
            chains,
            ecdsa_refusal,
            server_settings,
            tls_settings: inventory
                .tls_settings
                .iter()
                .find(|settings| settings.server.eq_ignore_ascii_case(&server.name)),
        }
    }

    /// The receive connectors Exchange Online delivers to.
    pub fn hybrid_reports(&self) -> impl Iterator<Item = &ConnectorReport<'a>> {
        self.reports.iter().filter(|r| r.hybrid)
    }

    /// Whether the store checks (HT009 to HT011) have anything to look at: the certificates the
    /// hybrid connectors present. Without hybrid connectors (HT008) or certificates (HT017)
    /// they do not, and lack nothing.
    pub fn judges_store(&self) -> bool {
        self.hybrid_reports().next().is_some() && !self.store.is_empty()
    }

    /// Whether a hybrid connector can only be fixed with a certificate the server does not have.
    pub fn needs_new_certificate(&self) -> bool {
        self.judgements.iter().any(|j| {
            matches!(
                j.verdict,
                Verdict::Wrong {
                    then: Intended::NeedsNewCertificate,
                    ..
                }
            )
        })
    }
}
