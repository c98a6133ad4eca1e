//! HT009 `keyless-duplicate-certificate`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::context::Context;
use crate::diagnose::select::{named_readings, Direction};
use crate::diagnose::{certificate_evidence, date, has_key, sourced_send_connectors, Findings, Remedy};
use crate::model::{Certificate, ExchangeRelease, Inventory, Server, Store, TlsCertificateName};
use crate::steps::RemoveCertificate;

pub const RULE: Rule = Rule {
    code: "HT009",
    name: "keyless-duplicate-certificate",
    title: "A copy of the hybrid certificate without a private key shadows it",
    severity: Severity::Error,
    documentation: r#"## What it means
`Cert:\LocalMachine\My` holds a second certificate with the same issuer and subject as the one the
hybrid connector uses, but without a private key (often left behind by a failed or repeated
certificate request). `Get-ExchangeCertificate` does not even list it: it shows only certificates
with a key.

## Why it breaks mail flow
When `TlsCertificateName` is set, Exchange looks certificates up by issuer and subject, and what
it does with a copy that has no key depends on the release and the direction:
- Receive (inbound STARTTLS): Exchange 2013 takes the first valid match in store order without
  checking for a private key, so a key-less copy first in the store breaks inbound TLS. Exchange
  2016, 2019 and SE consider only certificates with a private key, so inbound keeps working.
- Send (the connector to Exchange Online): the lookup does not skip a key-less copy on any
  release. Exchange 2013 takes the first valid match in store order; the 2025 guidance says the
  latest `NotAfter` wins. When the copy is what it picks, the server cannot complete the handshake
  and mail to Exchange Online queues, while inbound mail still works (seed 002).

## Symptoms
- SmtpSend / SmtpReceive protocol log: `TLS negotiation failed with error NoCredentials`, and a
  `Certificate thumbprint` row that differs from the thumbprint `Get-ExchangeCertificate` shows.
- Queue to Exchange Online: `451 4.4.395 Target host responded with error. -> 421 4.4.1 Connection
  timed out`.

## Detection
The store listing of `Cert:\LocalMachine\My` (from `hybridtls collect`) is compared with the issuer
and subject each hybrid receive connector and each send connector to Exchange Online on this
server uses. For each key-less match the finding says which lookup picks it under which documented
rule for the server's release (`AdminDisplayVersion`; every rule when the release is unknown), and
which lookups skip it. Without that listing the check does not run, and the plan says so with
the command that makes the listing: `Get-ExchangeCertificate` lists only certificates with a
private key, so no other export shows the copy. When send connectors were not exported, the receive connectors' name stands
in for theirs: the Hybrid Configuration Wizard names the same certificate on both. A key-less copy
that no lookup can pick under any rule is harmless and not reported.

## Fix
The script exports the key-less copy to the backup folder (`Export-Certificate -Type CERT`) and
removes it by its exact, full thumbprint (`Remove-Item -LiteralPath
Cert:\LocalMachine\My\<THUMBPRINT>`), never by a prefix or wildcard. At run time it checks again
that the certificate still exists, still has no private key and is not the certificate a connector
is planned to use; otherwise nothing is removed. Then it restarts transport.

## When to fix by hand
When `HasPrivateKey` is known only from a `Get-ExchangeCertificate` export (it can be false there
over remoting although the key exists): list the store on the server and plan again. When the
copy is the server's internal transport certificate (`Get-TransportService`), which no plan
removes (KB 2989382, HT040).

## Sources
- Jaap Wesselius, "Exchange Hybrid TLS negotiation failed with error NoCredentials" (2019; seed
  002): a copy of the certificate without its private key in Cert:\LocalMachine\My, removed by
  thumbprint, then a transport restart.
- Decompiled Exchange 2013 named selection has no private-key check and takes the first valid match
  in store order (shared/reference/exchange-formats.md §3.2, [DECOMP]).
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019, SE, 2025):
  only certificates with a private key are eligible on receive.
- Exchange Team blog, "TLS certificates in Exchange hybrid: common issues and how to fix them"
  (June 2025, Tech Community 4420592): with several matches the latest expiration wins; it does
  not say a key-less copy is skipped on send, and seed 002 shows it is not.
- The sources disagree on which copy wins, so the copy is removed whichever reading holds: with
  it gone, every reading gives the certificate with the key.
"#,
    check,
    organisation_needs: None,
};

/// Key-less copies of the certificates hybrid mail names on the server, in the store listing
/// that shows them (judged where there are hybrid connectors to look at and certificates).
fn check(context: &Context, findings: &mut Findings) {
    if context.judges_store() {
        needs(context.inventory, context.server, &context.store, findings);
    }
    if !context.store.is_empty() {
        let lookups = name_lookups(context);
        // The internal transport certificate is never removed (KB 2989382, HT040).
        let internal = context
            .inventory
            .transport_service(&context.server.name)
            .and_then(|service| service.internal_certificate_thumbprint.as_deref());
        check_lookups(&lookups, &context.store, context.server.release, context.now, internal, findings);
    }
}

/// One lookup of a `TlsCertificateName` on this server: a receive connector's or a send
/// connector's.
struct Lookup<'a> {
    /// Who looks the name up, for the message (`send connector "Outbound to Office 365"`).
    what: String,
    name: &'a TlsCertificateName,
    direction: Direction,
}

/// A key-less copy is seen only in the `Cert:\LocalMachine\My` listing: Get-ExchangeCertificate
/// lists only certificates with a private key (Wesselius 2019, in Sources). The listing must
/// also say which certificates have their key: one without `HasPrivateKey` (`Get-ChildItem
/// Cert:\LocalMachine\My | Export-Clixml` keeps only RawData) hides every key-less copy.
fn needs(
    inventory: &Inventory,
    server: &Server,
    store: &[&Certificate],
    findings: &mut Findings,
) {
    if !inventory.store_listed(&server.name, Store::My) {
        findings.not_judged(
            server.name.clone(),
            Missing::Export(Export::StoreListing(Store::My)),
        );
    } else if let Some(unknown) = store
        .iter()
        .find(|c| c.from_store_listing && c.has_private_key.is_none())
    {
        findings.not_judged(
            server.name.clone(),
            Missing::Property {
                property: "HasPrivateKey",
                source: unknown.source.clone(),
                export: Export::StoreListing(Store::My),
            },
        );
    }
}

/// What one key-less copy does to the lookups that match it.
struct Shadow<'a> {
    copy: &'a Certificate,
    /// A valid match with a private key that the lookup should find instead.
    keyed: Option<&'a Certificate>,
    picked: Vec<String>,
    skipped: Vec<String>,
}

/// Key-less copies that a lookup may pick under some documented rule for `release`: TLS then
/// fails on that side.
fn check_lookups(
    lookups: &[Lookup],
    store: &[&Certificate],
    release: ExchangeRelease,
    now: OffsetDateTime,
    internal: Option<&str>,
    findings: &mut Findings,
) {
    let mut shadows: Vec<Shadow> = Vec::new();
    for lookup in lookups {
        let valid: Vec<&Certificate> = store
            .iter()
            .copied()
            .filter(|c| lookup.name.matches(c) && c.valid_at(now))
            .collect();
        let readings = named_readings(&valid, lookup.direction, release);
        for copy in valid.iter().copied().filter(|c| !has_key(c)) {
            let index = match shadows.iter().position(|s| s.copy.thumbprint == copy.thumbprint) {
                Some(index) => index,
                None => {
                    shadows.push(Shadow {
                        copy,
                        keyed: None,
                        picked: Vec::new(),
                        skipped: Vec::new(),
                    });
                    shadows.len() - 1
                }
            };
            let shadow = &mut shadows[index];
            shadow.keyed = shadow
                .keyed
                .or_else(|| valid.iter().copied().find(|c| has_key(c)));
            let rules: Vec<&str> = readings
                .iter()
                .filter(|r| r.presents.is_some_and(|c| c.thumbprint == copy.thumbprint))
                .map(|r| r.rule)
                .collect();
            if rules.is_empty() {
                shadow.skipped.push(lookup.what.clone());
            } else {
                shadow.picked.push(format!(
                    "{} picks it under \"{}\"",
                    lookup.what,
                    rules.join("\" and \"")
                ));
            }
        }
    }
    let release = release.label();
    for shadow in shadows.into_iter().filter(|s| !s.picked.is_empty()) {
        let copy = shadow.copy;
        let object = format!("{}\\{}", crate::model::Store::My.path(), copy.thumbprint);
        let mut message = format!(
            "{} ({}) matches the TlsCertificateName in use but has no private key; on {release} {}, so TLS fails there (NoCredentials)",
            copy.thumbprint,
            copy.subject,
            shadow.picked.join("; ")
        );
        if !shadow.skipped.is_empty() {
            message.push_str(&format!(
                "; {} skip{} it (only certificates with a private key are eligible)",
                shadow.skipped.join(", "),
                if shadow.skipped.len() == 1 { "s" } else { "" }
            ));
        }
        let mut evidence = vec![
            certificate_evidence(copy, "HasPrivateKey", "false".to_owned()),
            certificate_evidence(copy, "NotAfter", date(copy.not_after)),
        ];
        if let Some(keyed) = shadow.keyed {
            evidence.push(certificate_evidence(
                keyed,
                "Thumbprint",
                keyed.thumbprint.clone(),
            ));
        }
        let remedy = if internal.is_some_and(|t| t.eq_ignore_ascii_case(&copy.thumbprint)) {
            Remedy::manual(format!(
                "{} is the internal transport certificate of the server (Get-TransportService), which a plan never removes (KB 2989382): a person must decide, after creating a new internal transport certificate (HT040)",
                copy.thumbprint
            ))
        } else if copy.from_store_listing {
            Remedy::step(RemoveCertificate {
                certificate: copy.clone(),
            })
        } else {
            Remedy::manual(format!(
                    "HasPrivateKey is false only in the Get-ExchangeCertificate export, which can be wrong over remoting: list Cert:\\LocalMachine\\My\\{} on the server (or use `hybridtls collect`) and plan again",
                    copy.thumbprint
                ))
        };
        findings.push(object, message, evidence, remedy);
    }
}

/// Every `TlsCertificateName` looked up on the server for hybrid mail: the names its hybrid
/// receive connectors are meant to use, and those of the send connectors to Exchange Online it
/// sources. Without a send connector export, the receive names stand in for the send side,
/// which the Hybrid Configuration Wizard sets to the same certificate.
fn name_lookups<'n>(context: &'n Context) -> Vec<Lookup<'n>> {
    let (inventory, server) = (context.inventory, context.server);
    // On Exchange 2010 receive connectors find their certificate by FQDN, never by name.
    let named_receive = server.release != ExchangeRelease::Exchange2010;
    let mut lookups: Vec<Lookup> = context
        .intended
        .iter()
        .filter(|_| named_receive)
        .map(|(_, name)| Lookup {
            what: "the hybrid receive connector".to_owned(),
            name,
            direction: Direction::Receive,
        })
        .collect();
    let send_exported = inventory
        .inputs
        .iter()
        .any(|input| input.kind == crate::model::InputKind::SendConnectors);
    if send_exported {
        lookups.extend(
            sourced_send_connectors(inventory, server).filter_map(|connector| {
                Some(Lookup {
                    what: format!("send connector {:?}", connector.name),
                    name: connector.tls_certificate_name.as_ref()?,
                    direction: Direction::Send,
                })
            }),
        );
    } else {
        lookups.extend(context.intended.iter().map(|(_, name)| {
            Lookup {
                what:
                    "the send connector to Exchange Online (not exported; the HCW names the same certificate)"
                        .to_owned(),
                name,
                direction: Direction::Send,
            }
        }));
    }
    lookups
}
