//! The one judgement of a hybrid receive connector's certificate selection. HT001 to HT004 are
//! its faults, each reported by its own rule from this judgement; HT005 follows from the
//! connectors it leaves needing a new certificate; HT009 to HT014 and HT031 judge the
//! certificates it says the connectors present once the plan is carried out.

use time::OffsetDateTime;

use super::select::{Reading, Selection};
use super::{disqualifications, has_key, no_target_remedy, ConnectorReport, ManualCommand, Remedy};
use crate::model::{AuthMechanism, Certificate, ReceiveConnector, Services, TlsCertificateName};
use crate::steps::SetReceiveCertificateName;

/// The certificate hybrid connectors should name, worked out once per server.
pub(in crate::diagnose) struct Target<'a> {
    pub certificate: &'a Certificate,
    pub name: TlsCertificateName,
    /// Other valid certificates with a private key that the same name would also select.
    keyed_rivals: Vec<&'a str>,
}

impl<'a> Target<'a> {
    pub fn new(certificate: &'a Certificate, store: &[&'a Certificate], now: OffsetDateTime) -> Self {
        let name = TlsCertificateName::for_certificate(certificate);
        let keyed_rivals = store
            .iter()
            .filter(|c| {
                c.thumbprint != certificate.thumbprint && has_key(c) && c.valid_at(now) && name.matches(c)
            })
            .map(|c| c.thumbprint.as_str())
            .collect();
        Target {
            certificate,
            name,
            keyed_rivals,
        }
    }
}

/// What a hybrid connector should present once the plan is carried out.
#[derive(Clone)]
pub(in crate::diagnose) enum Intended<'a> {
    /// This certificate, named by this TlsCertificateName (the current one or the planned one).
    Certificate(&'a Certificate, TlsCertificateName),
    NeedsNewCertificate,
    /// A fault that needs a person first (e.g. several keyed certificates match).
    Undecided,
}

/// What is wrong with a hybrid connector's selection that pointing it at the target fixes.
pub(in crate::diagnose) enum Fault<'a> {
    /// HT001: TlsCertificateName is null (or does not exist, on Exchange 2010), so the FQDN
    /// search by `search` (the server FQDN when None) picks `chosen`.
    NoCertificateName {
        search: Option<String>,
        chosen: Option<&'a Certificate>,
    },
    /// HT002: no valid certificate matches the name; `invalid` are the matches that are not valid.
    NameNotFound { invalid: Vec<&'a Certificate> },
    /// HT003: the name selects one keyed certificate that cannot serve hybrid mail, for `reasons`.
    Unsuitable {
        selected: &'a Certificate,
        reasons: Vec<String>,
    },
    /// HT003: the name matches only valid certificates without a private key.
    OnlyWithoutKey { valid: Vec<&'a Certificate> },
}

/// The verdict on one hybrid connector.
pub(in crate::diagnose) enum Verdict<'a> {
    /// It presents a qualifying certificate: nothing to report.
    Presents(&'a Certificate, TlsCertificateName),
    /// Its selection is wrong; `fix` resolves it, after which it presents `then`.
    Wrong {
        fault: Fault<'a>,
        fix: Remedy,
        then: Intended<'a>,
    },
    /// HT004: several valid certificates with a private key match its name, and the releases'
    /// readings of which one wins are `readings`; a person must keep one first.
    Ambiguous {
        matches: Vec<&'a Certificate>,
        readings: Vec<Reading<'a>>,
    },
}

pub(in crate::diagnose) struct Judgement<'a> {
    pub connector: &'a ReceiveConnector,
    pub verdict: Verdict<'a>,
}

impl<'a> Judgement<'a> {
    /// What the connector presents once the plan is carried out.
    pub fn intended(&self) -> Intended<'a> {
        match &self.verdict {
            Verdict::Presents(certificate, name) => Intended::Certificate(certificate, name.clone()),
            Verdict::Wrong { then, .. } => then.clone(),
            Verdict::Ambiguous { .. } => Intended::Undecided,
        }
    }
}

/// Judges one hybrid connector's certificate selection against the hybrid `names`, with the
/// `target` its fix points it at.
pub(in crate::diagnose) fn judge<'a>(
    report: &ConnectorReport<'a>,
    exchange_2010: bool,
    target: Option<&Target<'a>>,
    store: &[&'a Certificate],
    names: &[String],
    now: OffsetDateTime,
    ecdsa: Option<&str>,
) -> Judgement<'a> {
    let connector = report.connector;
    let judgement = |verdict| Judgement { connector, verdict };
    let fault = match &report.selection {
        Selection::ByFqdn { name, chosen } => {
            // Exchange 2010 has no TlsCertificateName on receive connectors: the FQDN search is
            // how it always chooses, and a qualifying answer is the intended state.
            if exchange_2010 {
                if let Some(c) = chosen.filter(|c| disqualifications(c, names, now, ecdsa).is_empty()) {
                    return judgement(Verdict::Presents(c, TlsCertificateName::for_certificate(c)));
                }
            }
            Fault::NoCertificateName {
                search: name.clone(),
                chosen: *chosen,
            }
        }
        Selection::Named {
            name,
            valid,
            invalid,
            readings,
        } => {
            let keyed: Vec<&Certificate> = valid.iter().copied().filter(|c| has_key(c)).collect();
            match keyed.as_slice() {
                [one] => {
                    let reasons = disqualifications(one, names, now, ecdsa);
                    if reasons.is_empty() {
                        return judgement(Verdict::Presents(one, name.clone()));
                    }
                    Fault::Unsuitable {
                        selected: one,
                        reasons,
                    }
                }
                [] if !valid.is_empty() => Fault::OnlyWithoutKey { valid: valid.clone() },
                [] => Fault::NameNotFound {
                    invalid: invalid.clone(),
                },
                several => {
                    return judgement(Verdict::Ambiguous {
                        matches: several.to_vec(),
                        readings: readings.clone(),
                    })
                }
            }
        }
    };
    let (fix, then) = fix(report, exchange_2010, target, store, names, now, ecdsa);
    judgement(Verdict::Wrong { fault, fix, then })
}

/// Whether an Exchange 2010 receive connector's Fqdn may be pointed at the hybrid name: not on
/// `Default <SERVER>`, which Microsoft Learn says not to modify, nor on a connector with
/// ExchangeServer authentication, whose Fqdn must stay the server's (Set-ReceiveConnector, `-Fqdn`).
fn fqdn_may_change(connector: &ReceiveConnector) -> bool {
    let default = connector
        .name
        .strip_prefix("Default ")
        .is_some_and(|rest| rest.eq_ignore_ascii_case(&connector.server));
    let exchange_server = connector
        .auth_mechanism
        .is_some_and(|auth| auth.contains(AuthMechanism::EXCHANGE_SERVER));
    !default && !exchange_server
}

/// What resolves a wrong selection: the connector pointed at `target`, or what a person must do.
fn fix<'a>(
    report: &ConnectorReport,
    exchange_2010: bool,
    target: Option<&Target<'a>>,
    store: &[&Certificate],
    names: &[String],
    now: OffsetDateTime,
    ecdsa: Option<&str>,
) -> (Remedy, Intended<'a>) {
    let connector = report.connector;
    match target {
        // `Set-ReceiveConnector -TlsCertificateName` does not exist on Exchange 2010, so it is
        // never planned there: the connector's Fqdn decides which certificate it presents.
        // `Default <SERVER>` is not to be modified (Learn, "Receive connectors": the default
        // connectors), and a connector with ExchangeServer authentication refuses an Fqdn other
        // than the server's; its Fqdn is what internal Exchange-to-Exchange mail relies on.
        Some(target) if exchange_2010 && !fqdn_may_change(connector) => (
            Remedy::manual(format!(
                "Exchange 2010 chooses the receive certificate by the connector's Fqdn (TlsCertificateName does not exist there), and {} must keep its Fqdn (a default connector, or one with ExchangeServer authentication, which carries mail between Exchange servers): give Exchange Online a receive connector of its own, scoped to its published port-25 ranges (and the source NAT address, if any), with TlsDomainCapabilities mail.protection.outlook.com:AcceptOorgProtocol and an Fqdn {} covers (what the Hybrid Configuration Wizard's \"Inbound from Office 365\" connector is); enable that certificate for SMTP (Enable-ExchangeCertificate -Services SMTP, answering No to replacing the default certificate), then restart MSExchangeTransport",
                connector.identity(),
                target.certificate.thumbprint
            )),
            Intended::Undecided,
        ),
        Some(target) if exchange_2010 => (
            Remedy::Manual {
                instruction: format!(
                    "Exchange 2010 chooses the receive certificate by the connector's Fqdn (TlsCertificateName does not exist there): enable {} for SMTP (Enable-ExchangeCertificate -Services SMTP) and set the connector's Fqdn to a name it covers with the command below, then restart MSExchangeTransport",
                    target.certificate.thumbprint
                ),
                command: names.first().map(|fqdn| ManualCommand {
                    cmdlet: "Set-ReceiveConnector",
                    switches: Vec::new(),
                    parameters: vec![("Identity", connector.identity()), ("Fqdn", fqdn.clone())],
                }),
            },
            Intended::Undecided,
        ),
        Some(Target {
            certificate,
            name: after,
            keyed_rivals,
        }) => {
            if keyed_rivals.is_empty() {
                let step = SetReceiveCertificateName {
                    identity: connector.identity(),
                    role: connector.role,
                    before: connector.tls_certificate_name.clone(),
                    after: after.clone(),
                    certificate: (*certificate).clone(),
                    presented_before: report.selection.describe(now),
                };
                // Exchange would select a certificate without SMTP and TLS would fail (HT020);
                // enabling SMTP cannot be scripted safely, so neither is what depends on it.
                let smtp_disabled = certificate
                    .services
                    .is_some_and(|services| !services.contains(Services::SMTP));
                let remedy = if smtp_disabled {
                    Remedy::by_hand(
                        step,
                        format!(
                            "not scripted because {} is not enabled for SMTP yet (HT020): enable it first, then set TlsCertificateName with the command below and restart the transport service, or export again and plan again for a script",
                            certificate.thumbprint
                        ),
                    )
                } else {
                    Remedy::step(step)
                };
                (remedy, Intended::Certificate(certificate, after.clone()))
            } else {
                (
                    Remedy::manual(format!(
                            "{} shares its issuer and subject with {}, which also have a private key; TlsCertificateName cannot tell them apart. Back up and remove the surplus certificate(s) by full thumbprint, then plan again",
                            certificate.thumbprint,
                            keyed_rivals.join(", ")
                        )),
                    Intended::Undecided,
                )
            }
        }
        None => (
            no_target_remedy(store, names, now, !exchange_2010, ecdsa),
            Intended::NeedsNewCertificate,
        ),
    }
}
