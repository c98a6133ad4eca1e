//! Offline chain building for the certificate a hybrid connector presents. Windows sends the
//! intermediates it finds in `Cert:\LocalMachine\CA` (or My); a missing one means Exchange
//! Online sees an incomplete chain (`550 5.7.64 TenantAttribution`, CAPI2 `800B0109`).
//!
//! Issuers are found by name and key identifier and confirmed by checking the signature, so
//! cross-signed and same-name issuers resolve to the certificate that really signed.

use time::OffsetDateTime;

use super::needs::{Export, Missing};
use super::{certificate_evidence, rules, Evidence, Findings, Remedy};
use crate::model::{Certificate, Inventory, Server, Store};
use crate::steps::ImportIntermediate;
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

/// The chain checks judge a store only from its listing: without the CA listing no
/// intermediate can be called missing (HT010), without the Root listing no root (HT011).
pub(super) fn needs(inventory: &Inventory, server: &Server, findings: &mut Findings) {
    for (rule, store) in [
        (&rules::MISSING_INTERMEDIATE, Store::Ca),
        (&rules::ROOT_NOT_TRUSTED, Store::Root),
    ] {
        if !inventory.store_listed(&server.name, store) {
            findings.not_judged(
                rule,
                server.name.clone(),
                Missing::Export(Export::StoreListing(store)),
            );
        }
    }
}

/// Findings about the chain of `leaf` on `server`. Only stores whose listing was given are
/// judged: without a CA listing nothing can be called missing from it ([`needs`] says so).
pub(super) fn findings(
    inventory: &Inventory,
    own: &[&Certificate],
    server: &Server,
    leaf: &Certificate,
    now: OffsetDateTime,
    findings: &mut Findings,
) {
    if !inventory.store_listed(&server.name, Store::Ca) {
        return;
    }
    if leaf.facts.is_none() {
        // Issuers are matched by key identifier and signature, which only the DER holds.
        findings.without_raw_data(&rules::MISSING_INTERMEDIATE, leaf);
        return;
    }
    // `own`: this server's certificates and the supplied files, in inventory order.
    let chain = build(leaf, own, now);
    for issuer in &chain.issuers {
        if issuer.self_signed {
            if inventory.store_listed(&server.name, Store::Root) && !installed(own, &[Store::Root], issuer) {
                findings.push(
                    &rules::ROOT_NOT_TRUSTED,
                    issuer.thumbprint.clone(),
                    format!(
                        "the root {} ({}) of {}'s chain is not in Cert:\\LocalMachine\\Root on {}",
                        issuer.thumbprint, issuer.subject, leaf.thumbprint, server.name
                    ),
                    vec![certificate_evidence(issuer, "Subject", issuer.subject.clone())],
                    Remedy::manual(format!(
                            "check that {} is a root your organisation trusts and that Windows root certificate updates reach {}; roots are never imported automatically",
                            issuer.subject, server.name
                        )),
                );
            }
            continue;
        }
        if installed(own, &[Store::Ca, Store::My], issuer) {
            continue;
        }
        let evidence: Vec<Evidence> = vec![
            certificate_evidence(leaf, "Issuer", leaf.issuer.clone()),
            certificate_evidence(issuer, "Thumbprint", issuer.thumbprint.clone()),
        ];
        let message = format!(
            "the intermediate {} ({}) in the chain of {} is in neither Cert:\\LocalMachine\\CA nor My on {}, so the server does not send it",
            issuer.thumbprint, issuer.subject, leaf.thumbprint, server.name
        );
        let remedy = if issuer.store == Store::File {
            Remedy::step(ImportIntermediate {
                certificate: (*issuer).clone(),
            })
        } else {
            Remedy::manual(format!(
                "import {} ({}) into Cert:\\LocalMachine\\CA on {}",
                issuer.thumbprint, issuer.subject, server.name
            ))
        };
        findings.push(
            &rules::MISSING_INTERMEDIATE,
            issuer.thumbprint.clone(),
            message,
            evidence,
            remedy,
        );
    }
    // Above an intermediate the missing issuer may be the root, which the handshake never sends
    // and which can only be judged from a Root listing; above the leaf it is always an
    // intermediate (public CAs do not issue server certificates from a root).
    let top_is_intermediate = !chain.issuers.is_empty();
    let missing = chain
        .missing
        .filter(|_| !top_is_intermediate || inventory.store_listed(&server.name, Store::Root));
    if let Some((issuer, key_id)) = missing {
        let kind = if top_is_intermediate {
            "the root or a further intermediate"
        } else {
            "the intermediate"
        };
        let key = key_id
            .map(|k| format!(" (authority key identifier {k})"))
            .unwrap_or_default();
        findings.push(
            &rules::MISSING_INTERMEDIATE,
            issuer.clone(),
            format!(
                "no certificate for the issuer {issuer}{key} ({kind}) of the chain of {} is installed on {} or was supplied",
                leaf.thumbprint, server.name
            ),
            vec![certificate_evidence(leaf, "Issuer", leaf.issuer.clone())],
            Remedy::manual(format!(
                    "download the CA certificate of {issuer}{key} from the CA's repository, give it to hybridtls as a .cer or .pem file next to the exports, and plan again"
                )),
        );
    }
}
