//! Offline chain building for the certificate a hybrid connector presents. Windows sends the
//! intermediates it finds in `Cert:\LocalMachine\CA` (or My); a missing one means Exchange
//! Online sees an incomplete chain (`550 5.7.64 TenantAttribution`, CAPI2 `800B0109`).
//!
//! Issuers are found by name and key identifier and confirmed by checking the signature, so
//! cross-signed and same-name issuers resolve to the certificate that really signed.

use time::OffsetDateTime;

use crate::model::{Certificate, Inventory, Server, Store};
use crate::x509;

/// The chain above a leaf, leaf excluded, nearest issuer first.
#[derive(Debug)]
pub struct Chain<'a> {
    pub issuers: Vec<&'a Certificate>,
    /// When the chain stops below a self-signed root: the issuer no available certificate
    /// matches, and its key identifier.
    pub missing: Option<(String, Option<String>)>,
}

/// Installed certificates are preferred over supplied files, valid over expired, then the
/// latest NotAfter and the lowest thumbprint, so the same inputs build the same chain.
fn preference(certificate: &Certificate, now: OffsetDateTime) -> impl Ord {
    (
        certificate.store == Store::File,
        !certificate.valid_at(now),
        std::cmp::Reverse(certificate.not_after),
        certificate.thumbprint.clone(),
    )
}

pub fn build<'a>(leaf: &'a Certificate, pool: &[&'a Certificate], now: OffsetDateTime) -> Chain<'a> {
    let mut issuers: Vec<&'a Certificate> = Vec::new();
    let mut current = leaf;
    loop {
        if current.self_signed {
            return Chain {
                issuers,
                missing: None,
            };
        }
        let Some(current_facts) = &current.facts else {
            return Chain {
                issuers,
                missing: None,
            };
        };
        let seen = |c: &Certificate| {
            c.thumbprint == leaf.thumbprint || issuers.iter().any(|i| i.thumbprint == c.thumbprint)
        };
        let issuer = pool
            .iter()
            .copied()
            .filter(|candidate| !seen(candidate))
            .filter(|candidate| {
                candidate
                    .facts
                    .as_ref()
                    .is_some_and(|facts| x509::issued_by(current_facts, facts))
            })
            .min_by_key(|candidate| preference(candidate, now));
        match issuer {
            Some(issuer) => {
                issuers.push(issuer);
                current = issuer;
            }
            None => {
                return Chain {
                    issuers,
                    missing: Some((current.issuer.clone(), current_facts.authority_key_id.clone())),
                }
            }
        }
    }
}

/// Whether `certificate` is installed in one of `stores` of the server whose certificates are
/// `own`.
fn installed(own: &[&Certificate], stores: &[Store], certificate: &Certificate) -> bool {
    own.iter()
        .any(|c| stores.contains(&c.store) && c.server.is_some() && c.thumbprint == certificate.thumbprint)
}

/// What HT010 and HT011 find in the chain of one certificate hybrid mail presents, walked once
/// for both.
pub(in crate::diagnose) struct ChainWalk<'a> {
    pub leaf: &'a Certificate,
    /// None when the leaf came without its DER (`RawData`): issuers are matched by key
    /// identifier and signature, which only the DER holds.
    pub gaps: Option<Vec<Gap<'a>>>,
}

/// A certificate of the chain the server does not have where the handshake needs it.
pub(in crate::diagnose) enum Gap<'a> {
    /// HT011: the self-signed root is not in `Cert:\LocalMachine\Root`.
    RootNotInRootStore(&'a Certificate),
    /// HT010: an intermediate, found among the server's other stores or the supplied files, is in
    /// neither `CA` nor `My`.
    IntermediateNotInstalled(&'a Certificate),
    /// HT010: no available certificate is the issuer `issuer` (with `key_id`); above an
    /// intermediate (`top_is_intermediate`) it may be the root or a further intermediate.
    IssuerNotFound {
        issuer: String,
        key_id: Option<String>,
        top_is_intermediate: bool,
    },
}

/// Walks the chain of `leaf` on `server`, whose certificates and the supplied files are `own`.
/// Only stores whose listing was given are judged: without a CA listing nothing can be called
/// missing from it, so there is no walk (HT010 says it is not judged).
pub(in crate::diagnose) fn walk<'a>(
    inventory: &Inventory,
    own: &[&'a Certificate],
    server: &Server,
    leaf: &'a Certificate,
    now: OffsetDateTime,
) -> Option<ChainWalk<'a>> {
    if !inventory.store_listed(&server.name, Store::Ca) {
        return None;
    }
    if leaf.facts.is_none() {
        return Some(ChainWalk { leaf, gaps: None });
    }
    let root_listed = inventory.store_listed(&server.name, Store::Root);
    let mut gaps = Vec::new();
    // `own`: this server's certificates and the supplied files, in inventory order.
    let chain = build(leaf, own, now);
    for issuer in &chain.issuers {
        if issuer.self_signed {
            if root_listed && !installed(own, &[Store::Root], issuer) {
                gaps.push(Gap::RootNotInRootStore(issuer));
            }
        } else if !installed(own, &[Store::Ca, Store::My], issuer) {
            gaps.push(Gap::IntermediateNotInstalled(issuer));
        }
    }
    // Above an intermediate the missing issuer may be the root, which the handshake never sends
    // and which can only be judged from a Root listing; above the leaf it is always an
    // intermediate (public CAs do not issue server certificates from a root).
    let top_is_intermediate = !chain.issuers.is_empty();
    if let Some((issuer, key_id)) = chain.missing.filter(|_| !top_is_intermediate || root_listed) {
        gaps.push(Gap::IssuerNotFound {
            issuer,
            key_id,
            top_is_intermediate,
        });
    }
    Some(ChainWalk {
        leaf,
        gaps: Some(gaps),
    })
}
