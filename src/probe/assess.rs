//! Judges what a probe saw: the checks a hybrid partner needs, each passed, failed or not
//! judged, with what to do when it fails.

use std::net::SocketAddr;

use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::{CertificateError, RootCertStore};
use time::{Duration, OffsetDateTime};

use super::smtp::Conversation;
use super::target::{Host, Target};
use super::tls::Handshake;
use super::{Options, ProbeError};
use crate::error::Position;
use crate::model::{exo_domain_matches, Apex, Certificate, Source, Store};
use crate::x509::{self, CertificateFacts};

/// What a probe saw, before it is judged.
pub struct Observed {
    pub target: Target,
    pub address: SocketAddr,
    pub probed_at: OffsetDateTime,
    pub conversation: Conversation,
    /// `None` when STARTTLS was not offered or was refused.
    pub handshake: Option<Handshake>,
}

/// A probe, judged.
#[derive(Debug, Clone)]
pub struct Report {
    pub target: Target,
    pub address: SocketAddr,
    pub probed_at: OffsetDateTime,
    /// The name the certificate must cover, and where it came from; `None` when HOST is an
    /// address and `--fqdn` was not given.
    pub name: Option<(String, NameOrigin)>,
    pub conversation: Conversation,
    pub tls: Option<Tls>,
    /// Where the roots come from, in words.
    pub trust_anchors: String,
    /// Whether the roots are webpki-roots (the default) or a `--trust-anchors` file.
    pub trust_anchors_are_mozilla: bool,
    pub checks: Vec<Check>,
}

impl Report {
    /// Everything a hybrid partner needs holds: every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status == Status::Pass)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOrigin {
    /// `--fqdn NAME`.
    Fqdn,
    /// HOST, a name.
    Host,
}

/// The TLS session and the chain the server sent.
#[derive(Debug, Clone)]
pub struct Tls {
    pub version: String,
    pub cipher_suite: String,
    /// As sent, leaf first.
    pub chain: Vec<CertificateFacts>,
    pub path: ChainPath,
    /// The moment the chain's trust was judged: the probe's, or, for a leaf outside its
    /// validity, the last (or first) second of it, so that the trust check does not repeat
    /// the validity check's finding.
    pub trust_judged_at: OffsetDateTime,
}

/// The chain from the leaf up, through the certificates the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainPath {
    /// Indexes into the chain as sent, leaf (0) first, each issued by the next.
    pub sent: Vec<usize>,
    pub end: PathEnd,
}

impl ChainPath {
    /// The certificates were sent in path order (leaf, its issuer, ...), with nothing between.
    pub fn in_order(&self) -> bool {
        self.sent
            .iter()
            .enumerate()
            .all(|(position, index)| position == *index)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathEnd {
    /// The last certificate of the path is self-signed: a root the server sent (or a
    /// self-signed leaf).
    RootSent { root: String },
    /// The last certificate's issuer is a trust anchor (the usual case: servers need not send
    /// the root).
    RootKnown { root: String },
    /// The last certificate's issuer was not sent and is no trust anchor.
    Missing { issuer: String, of: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub id: CheckId,
    pub status: Status,
    pub summary: String,
    /// What to do when it failed or could not be judged; `None` when it passed, or when another
    /// check's hint says it (no TLS session).
    pub hint: Option<String>,
}

/// The checks, in the order they are reported. Their JSON names are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckId {
    StartTls,
    CertificateValid,
    NameCovered,
    ChainComplete,
    ChainTrusted,
}

impl CheckId {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::StartTls => "starttls",
            CheckId::CertificateValid => "certificate_valid",
            CheckId::NameCovered => "name_covered",
            CheckId::ChainComplete => "chain_complete",
            CheckId::ChainTrusted => "chain_trusted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    NotJudged,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::NotJudged => "not_judged",
        }
    }
}

fn check(id: CheckId, status: Status, summary: impl Into<String>, hint: Option<&str>) -> Check {
    Check {
        id,
        status,
        summary: summary.into(),
        hint: hint.map(str::to_owned),
    }
}

/// Judges `observed`.
///
/// # Errors
/// A certificate the server sent that cannot be read as X.509 (the peer speaks garbage), or
/// trust anchors webpki cannot use.
pub fn assess(observed: Observed, options: &Options) -> Result<Report, ProbeError> {
    let name = match (&options.fqdn, &observed.target.host) {
        (Some(fqdn), _) => Some((fqdn.clone(), NameOrigin::Fqdn)),
        (None, Host::Name(host)) => Some((host.clone(), NameOrigin::Host)),
        (None, Host::Address(_)) => None,
    };
    let roots = options
        .trust_anchors
        .store()
        .map_err(|e| ProbeError::new(e, "give a file of root certificates (PEM or DER)"))?;
    let tls = match observed.handshake {
        Some(handshake) => Some(tls(handshake, &roots, observed.probed_at)?),
        None => None,
    };
    let anchors = options.trust_anchors.describe();
    let mut checks = vec![starttls(&observed.conversation)];
    match &tls {
        None => {
            for (id, what) in [
                (CheckId::CertificateValid, "validity"),
                (CheckId::NameCovered, "name"),
                (CheckId::ChainComplete, "chain"),
                (CheckId::ChainTrusted, "trust"),
            ] {
                checks.push(check(
                    id,
                    Status::NotJudged,
                    format!("{what} not judged: no TLS session, so no certificate"),
                    None,
                ));
            }
        }
        Some(tls) => {
            let leaf = &tls.chain[0];
            checks.push(validity(leaf, observed.probed_at));
            checks.push(name_covered(leaf, name.as_ref().map(|(n, _)| n.as_str())));
            checks.push(complete(tls, &anchors));
            checks.push(trusted(tls, &roots, &anchors, observed.probed_at));
        }
    }
    Ok(Report {
        target: observed.target,
        address: observed.address,
        probed_at: observed.probed_at,
        name,
        conversation: observed.conversation,
        tls,
        trust_anchors: anchors,
        trust_anchors_are_mozilla: matches!(options.trust_anchors, super::TrustAnchors::Mozilla),
        checks,
    })
}

fn tls(handshake: Handshake, roots: &RootCertStore, now: OffsetDateTime) -> Result<Tls, ProbeError> {
    let chain = handshake
        .chain
        .iter()
        .enumerate()
        .map(|(index, der)| {
            x509::parse_der(der).map_err(|e| {
                ProbeError::new(
                    format!("certificate {} of the chain the server sent cannot be read: {e}", index + 1),
                    "the server (or a TLS-inspecting firewall before it) sends a malformed certificate; look at the certificate bound to the receive connector",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if chain.is_empty() {
        return Err(ProbeError::new(
            "the server completed the TLS handshake without a certificate",
            "the receive connector must present a certificate; run hybridtls plan on the server's exports",
        ));
    }
    let path = chain_path(&chain, roots);
    let leaf = &chain[0];
    let trust_judged_at = if now > leaf.not_after {
        leaf.not_after - Duration::seconds(1)
    } else if now < leaf.not_before {
        leaf.not_before + Duration::seconds(1)
    } else {
        now
    };
    Ok(Tls {
        version: handshake.version,
        cipher_suite: handshake.cipher_suite,
        chain,
        path,
        trust_judged_at,
    })
}

/// Builds the path from the leaf up through the certificates sent (in any order, each link's
/// signature verified), to a self-signed certificate, to the issuer of a trust anchor's name, or
/// to an issuer that is neither sent nor known.
fn chain_path(chain: &[CertificateFacts], roots: &RootCertStore) -> ChainPath {
    let anchors: Vec<Vec<u8>> = roots.subjects().iter().map(|s| s.as_ref().to_vec()).collect();
    let mut sent = vec![0];
    loop {
        let current = &chain[sent[sent.len() - 1]];
        if current.self_signed {
            let root = current.subject.clone();
            return ChainPath {
                sent,
                end: PathEnd::RootSent { root },
            };
        }
        let issuer = (0..chain.len()).find(|i| !sent.contains(i) && x509::issued_by(current, &chain[*i]));
        if let Some(issuer) = issuer {
            sent.push(issuer);
            continue;
        }
        let end = if issuer_name(&current.der).is_some_and(|name| anchors.contains(&name)) {
            PathEnd::RootKnown {
                root: current.issuer.clone(),
            }
        } else {
            PathEnd::Missing {
                issuer: current.issuer.clone(),
                of: current.subject.clone(),
            }
        };
        return ChainPath { sent, end };
    }
}

/// The DER of a certificate's issuer name, as webpki keeps a trust anchor's subject.
fn issuer_name(der: &[u8]) -> Option<Vec<u8>> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(certificate.issuer().as_raw().to_vec())
}

fn starttls(conversation: &Conversation) -> Check {
    match &conversation.starttls_reply {
        None => check(
            CheckId::StartTls,
            Status::Fail,
            "STARTTLS is not offered: the EHLO reply does not list it",
            Some("Exchange offers STARTTLS only when it can load the receive connector's certificate (event 12014; hybridtls explain HT002), and an SMTP-inspecting firewall can strip it; Exchange Online then fails with 451 5.7.3 STARTTLS is required. Run hybridtls plan on the server's exports"),
        ),
        Some(reply) if reply.code != 220 => check(
            CheckId::StartTls,
            Status::Fail,
            format!("STARTTLS is offered but refused: {}", reply.lines.join(" / ")),
            Some("Exchange answers 454 when it cannot load the certificate it selected (event 12014 in the Application log; hybridtls explain HT002); run hybridtls plan on the server's exports"),
        ),
        Some(_) => check(CheckId::StartTls, Status::Pass, "STARTTLS is offered and accepted", None),
    }
}

fn validity(leaf: &CertificateFacts, now: OffsetDateTime) -> Check {
    let hint = Some("Exchange Online refuses a certificate outside its validity: install the renewed certificate and point the connectors at it (hybridtls plan on the server's exports; hybridtls explain HT003)");
    if now > leaf.not_after {
        check(
            CheckId::CertificateValid,
            Status::Fail,
            format!("the certificate expired on {}", date(leaf.not_after)),
            hint,
        )
    } else if now < leaf.not_before {
        check(
            CheckId::CertificateValid,
            Status::Fail,
            format!("the certificate is not valid before {}", date(leaf.not_before)),
            hint,
        )
    } else {
        check(
            CheckId::CertificateValid,
            Status::Pass,
            format!("the certificate is valid until {}", date(leaf.not_after)),
            None,
        )
    }
}

/// The name check `plan` makes (HT031): [`Certificate::covers`] on the certificate's CN and
/// SAN names, as Exchange Online matches its outbound connector's `TlsDomain`.
fn name_covered(leaf: &CertificateFacts, name: Option<&str>) -> Check {
    let Some(name) = name else {
        return check(
            CheckId::NameCovered,
            Status::NotJudged,
            "name not judged: HOST is an address and no --fqdn was given",
            Some("give --fqdn NAME, the TlsDomain of Exchange Online's outbound connector to on-premises"),
        );
    };
    let certificate = Certificate::from_facts(
        leaf.clone(),
        Store::File,
        Source {
            file: "the probed server".to_owned(),
            position: Position::Certificate(1),
        },
    );
    if certificate.covers(name) {
        let by = certificate
            .names
            .iter()
            .find(|n| exo_domain_matches(name, n, Apex::Excluded))
            .cloned()
            .unwrap_or_default();
        check(
            CheckId::NameCovered,
            Status::Pass,
            format!("the certificate covers {name} as Exchange Online matches its outbound connector's TlsDomain (by {by})"),
            None,
        )
    } else {
        let names = if certificate.names.is_empty() {
            "no name at all".to_owned()
        } else {
            certificate.names.join(", ")
        };
        check(
            CheckId::NameCovered,
            Status::Fail,
            format!("the certificate does not cover {name} as Exchange Online matches its outbound connector's TlsDomain: it names {names}"),
            Some("Exchange Online fails with 450 4.7.320 Certificate validation failed; MSG=SubjectMismatch: the server presents another certificate than the hybrid one (the connector's TlsCertificateName, hybridtls explain HT001 to HT003), or the TlsDomain is not the name the certificate has (HT031); run hybridtls plan on the server's exports"),
        )
    }
}

fn complete(tls: &Tls, anchors: &str) -> Check {
    let order = if tls.path.in_order() {
        String::new()
    } else {
        "; the certificates were not sent in order from the leaf up".to_owned()
    };
    match &tls.path.end {
        PathEnd::RootSent { root } if tls.path.sent.len() == 1 => check(
            CheckId::ChainComplete,
            Status::Pass,
            format!("the certificate is self-signed: it is its own root ({root}){order}"),
            None,
        ),
        PathEnd::RootSent { root } => check(
            CheckId::ChainComplete,
            Status::Pass,
            format!("complete: the server sends every certificate up to the root {root}, the root included{order}"),
            None,
        ),
        PathEnd::RootKnown { root } => check(
            CheckId::ChainComplete,
            Status::Pass,
            format!("complete: the server sends every certificate up to the root {root} (not sent; it need not be){order}"),
            None,
        ),
        PathEnd::Missing { issuer, of } => check(
            CheckId::ChainComplete,
            Status::Fail,
            format!("incomplete: the server does not send {issuer}, the issuer of {of}, and it is not a root of {anchors}{order}"),
            Some("Exchange sends the intermediates it finds in Cert:\\LocalMachine\\CA: import the missing intermediate there and restart the transport service (hybridtls explain HT010); Exchange Online otherwise fails with 550 5.7.64 TenantAttribution (KB 3212877). If it is a root instead, it is not one Exchange Online trusts"),
        ),
    }
}

fn trusted(tls: &Tls, roots: &RootCertStore, anchors: &str, now: OffsetDateTime) -> Check {
    let ders: Vec<CertificateDer<'_>> = tls
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.der.as_slice()))
        .collect();
    let at = tls.trust_judged_at;
    let when = if at == now {
        String::new()
    } else {
        format!(" (judged at {}, when the certificate was valid)", date(at))
    };
    let seconds = u64::try_from(at.unix_timestamp()).unwrap_or(0);
    let algorithms = super::tls::provider().signature_verification_algorithms.all;
    let result = rustls::server::ParsedCertificate::try_from(&ders[0]).and_then(|leaf| {
        rustls::client::verify_server_cert_signed_by_trust_anchor(
            &leaf,
            roots,
            &ders[1..],
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds)),
            algorithms,
        )
    });
    let hint = match &tls.path.end {
        PathEnd::Missing { .. } => "make the server send the whole chain (see above); if the chain is whole and its root is still not reached, the certificate is not from a certification authority Exchange Online trusts: get one from a public CA",
        PathEnd::RootSent { .. } if tls.chain[0].self_signed => "the server presents a self-signed certificate (Exchange's own certificate when the connector names none or a wrong one, hybridtls explain HT001 and HT002): point the connector's TlsCertificateName at the certificate from a public CA; run hybridtls plan on the server's exports",
        _ => "Exchange Online accepts only a certificate from a certification authority it trusts, with a valid chain up to it: get one from a public CA (hybridtls explain HT003)",
    };
    match result {
        Ok(()) => {
            let root = match &tls.path.end {
                PathEnd::RootSent { root } | PathEnd::RootKnown { root } => root.as_str(),
                PathEnd::Missing { .. } => "a trust anchor",
            };
            check(
                CheckId::ChainTrusted,
                Status::Pass,
                format!("the chain reaches the root {root} of {anchors}{when}"),
                None,
            )
        }
        Err(error) => {
            let why = match (&error, &tls.path.end) {
                (rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer), _) if tls.chain[0].self_signed => {
                    "the certificate is self-signed, and no trust anchor is it (Exchange's own default certificate, CN=<server name>, is self-signed)".to_owned()
                }
                (rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer), PathEnd::RootSent { root }) => {
                    format!("the chain ends in the root {root}, which is not one of them")
                }
                (rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer), PathEnd::Missing { issuer, .. }) => {
                    format!("no path to one of them: {issuer} was not sent and is not one of them")
                }
                (rustls::Error::InvalidCertificate(
                    CertificateError::Expired
                    | CertificateError::ExpiredContext { .. }
                    | CertificateError::NotValidYet
                    | CertificateError::NotValidYetContext { .. },
                ), _) => {
                    let outside: Vec<&str> = tls
                        .chain
                        .iter()
                        .filter(|c| at < c.not_before || at > c.not_after)
                        .map(|c| c.subject.as_str())
                        .collect();
                    format!("a certificate of the chain is outside its validity: {}", outside.join(", "))
                }
                (other, _) => other.to_string(),
            };
            check(
                CheckId::ChainTrusted,
                Status::Fail,
                format!("the chain does not reach a root of {anchors}{when}: {why}"),
                Some(hint),
            )
        }
    }
}

/// RFC 3339, UTC, as the rest of hybridtls writes moments.
pub use crate::model::date;
