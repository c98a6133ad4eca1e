//! HT015 `send-connector-certificate-not-usable`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::needs::{Export, NotJudged};
use crate::diagnose::context::Context;
use crate::diagnose::select::send_certificates;
use crate::diagnose::{
    absent_property, no_target_remedy, sourced_send_connectors, Evidence, Findings,
    ManualCommand, Remedy, ServerIndex,
};
use crate::model::{
    Certificate, ExchangeRelease, Inventory, SendConnector, Server, ServerKind, Store, TlsCertificateName,
};
use crate::steps::SetSendCertificateName;

pub const RULE: Rule = Rule {
    code: "HT015",
    name: "send-connector-certificate-not-usable",
    title: "The send connector to Exchange Online names no usable certificate on this server",
    severity: Severity::Error,
    documentation: r#"## What it means
The send connector that delivers to Exchange Online (smart host in mail.protection.outlook.com,
address space in mail.onmicrosoft.com, the same in GCC High / DoD, `mail.protection.office365.us`
and `mail.onmicrosoft.us`, or 21Vianet, `mail.protection.partner.outlook.cn` and
`mail.partner.onmschina.cn`, or CloudServicesMailEnabled) has this server as a source
transport server, but its `TlsCertificateName` names no valid certificate with a private key in this
server's `Cert:\LocalMachine\My`, or it is null and so is `Fqdn`, or it is null and no valid,
CA-issued certificate with a private key covers the connector's `Fqdn`. A null
`TlsCertificateName` with `Fqdn` set is a valid configuration: Exchange then finds the
certificate by that name, and HealthChecker does not flag it.

## Why it breaks mail flow
Exchange Online attributes hybrid mail to your tenant by the certificate the on-premises server
presents when it sends. Without the named certificate the server sends without it, or queues.

## Symptoms
- `454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not be
  found` in the queue.
- `550 5.7.64 TenantAttribution` or `550 5.7.51 TenantInboundAttribution` in NDRs.

## Detection
The send connector export is matched with each source server's certificate export, as for
receive connectors. Without a Get-SendConnector export, or with a connector to Exchange Online
exported without `SourceTransportServers`, the check is listed as not judged with the command
that exports it: the send side breaks alone in seed 002, so the receive side says nothing of it.

## Fix
`Set-SendConnector -Identity <name> -TlsCertificateName '<I>issuer<S>subject'`, naming the
certificate the hybrid receive connectors are planned to use. A send connector is one object of
the organisation (in Active Directory), so it is changed once: hybridtls puts the change into
the script of the first source transport server in sorted order (the carrier), and the plan of
every other source server restarts MSExchangeTransport there afterwards. The carrier's script
refuses to change it when the connector's TlsCertificateName is no longer what the plan saw, or
when the certificate is not in its `Cert:\LocalMachine\My` with its private key; it exports the
connector (Export-Clixml) to the run folder first, and `rollback.ps1` sets the old value back
(`$null` when it was null). Then MSExchangeTransport, which runs the send connectors, is
restarted, as the cited fixes do; the connector is read from Active Directory, so the other
source servers pick it up too, and their restart makes that immediate.

## When to fix by hand
When a source transport server runs Exchange 2010: its Set-SendConnector has no
`-TlsCertificateName` (nor `-CloudServicesMailEnabled`), so the fix is the connector's `Fqdn`, a
name the certificate covers, never `-TlsCertificateName`.
When a source transport server of the connector was not exported, or one of them lacks a valid
certificate with a private key under that issuer and subject (or has a key-less copy, which the
send side may pick), the change is a manual action with the reason and the command. On an Edge
Transport server the send connector is an EdgeSync'd copy of the organisation's: it is changed in
the organisation, from a Mailbox server, and EdgeSync brings it to the Edge; the Edge needs a
certificate with the same issuer and subject as the Mailbox servers.

## Sources
- microsoft/CSS-Exchange HealthChecker,
  `Diagnostics/HealthChecker/Analyzer/Invoke-AnalyzerFrequentConfigurationIssues.ps1`: the send
  connector to Exchange Online by smart host (`$eopDomainRegExPattern`) or address space
  (`$remoteRoutingDomainRegExPattern`) in each cloud.
- Microsoft Learn, "Edge Subscriptions" / Start-EdgeSynchronization: EdgeSync replicates send
  connectors from Active Directory to the subscribed Edge Transport servers, where they are not
  edited.
- CSS-Exchange HealthChecker, `Diagnostics/HealthChecker/DataCollection/ExchangeInformation/Get-ExchangeConnectors.ps1`
  and the Cloud Connector Check documentation: the send connector's TlsCertificateName is
  compared with the certificates on the server; Microsoft Learn, Set-SendConnector (`Fqdn`,
  `TlsCertificateName`).
- Hybrid Configuration Wizard log (SammyKrosoft/Hybrid-Config-Wiz-Checks): `New-SendConnector ...
  -TLSCertificateName '<I>issuer<S>subject'` on "Outbound to Office 365".
- Exchange 2010 SP3 help, Set-SendConnector (Applies to: Exchange Server 2010 SP3, SP2): no
  `-TlsCertificateName` in its syntax; Microsoft Learn's Set-SendConnector lists it from Exchange
  2013 on. That a 2010 send connector finds its certificate by its `Fqdn` is assumed from the
  receive side's documented search; hybridtls says so in the instruction.
- Microsoft Learn, Set-SendConnector, `-TlsCertificateName` (type `SmtpX509Identifier`,
  `"<I>X.500Issuer<S>X.500Subject"`); the same type takes `$null` on Set-ReceiveConnector in
  KB 2989382, which is how a null value is set back.
- ex-shell.com, "Notes on upgrading an Exchange on-premises certificate in a hybrid
  environment" (2021) and exchange-formats.md §3.3: after `Set-SendConnector -TlsCertificateName`
  the transport service is restarted.
- Decompiled Exchange 2013 `SmtpOutConnection`: no match for the send connector's TlsCertificateName
  queues `454 4.7.5 The certificate specified in TlsCertificateName of the SendConnector could not
  be found.` (exchange-formats.md §3.2, §5).
"#,
    check,
    organisation_needs: Some(needs),
};

/// The check reads the Get-SendConnector export, and in it `SourceTransportServers`: without
/// them no server is known to send to Exchange Online, which is not "every server is fine".
fn needs(inventory: &Inventory, list: &mut Vec<NotJudged>) {
    crate::diagnose::send_connector_export_missing(&RULE, inventory, list);
    for connector in inventory
        .send_connectors
        .iter()
        .filter(|c| c.targets_exchange_online() && c.absent.contains(&"SourceTransportServers"))
    {
        list.push(absent_property(
            &RULE,
            None,
            connector.name.clone(),
            "SourceTransportServers",
            &connector.source,
            Export::SendConnectors,
        ));
    }
}

/// Send connectors to Exchange Online that this server sources must name a certificate it has.
/// A send connector is one object of the organisation (in Active Directory), so when the fix is
/// scripted it is scripted once, in the script of the first source server in sorted order (the
/// carrier, see [`automation`]); otherwise the finding says what to set by hand and why.
fn check(context: &Context, findings: &mut Findings) {
    let (inventory, server, store, now) = (context.inventory, context.server, &context.store, context.now);
    // Without the hybrid names (HT007) or the server's certificates (HT017) nothing is judged.
    if context.hybrid.is_none() || store.is_empty() {
        return;
    }
    let target = context.target.as_ref().ok_or(context.names);
    for connector in sourced_send_connectors(inventory, server) {
        let usable = !send_certificates(connector, store, now).is_empty();
        if usable {
            continue;
        }
        let current = connector
            .tls_certificate_name
            .as_ref()
            .map_or_else(|| "null".to_owned(), ToString::to_string);
        let exchange_2010: Vec<&str> = connector
            .source_servers
            .iter()
            .filter(|s| inventory.server(s).is_some_and(|s| s.release == ExchangeRelease::Exchange2010))
            .map(String::as_str)
            .collect();
        // This server judges its own differing copy (HT021): what a script would change is the
        // organisation's object, which says something else.
        let stale_copy = inventory
            .send_connector_copies
            .iter()
            .any(|copy| std::ptr::eq(copy, connector));
        let remedy = match target {
            _ if stale_copy => Remedy::manual(format!(
                "{}'s copy of this connector differs from the organisation's (HT021): bring the copies in line first (EdgeSync, or exports made at the same time), then plan again",
                server.name
            )),
            // Set-SendConnector has no -TlsCertificateName on Exchange 2010 (its Learn page
            // applies from 2013 on; the 2010 SP3 help lists no such parameter): never scripted,
            // nor given as a command, for a connector an Exchange 2010 server sources.
            Ok(target) if !exchange_2010.is_empty() => Remedy::Manual {
                instruction: format!(
                    "not scripted because {} runs Exchange 2010, where Set-SendConnector has no -TlsCertificateName: the connector presents the certificate found by its Fqdn, so set its Fqdn to a name {} covers with the command below (Exchange 2010 SP3 help, Set-SendConnector; the search by Fqdn is documented for receive connectors and assumed here for send: check the SmtpSend protocol log after the change), then restart MSExchangeTransport on each source server",
                    exchange_2010.join(", "),
                    target.certificate.thumbprint
                ),
                command: context.names.iter().find(|n| !n.starts_with("*.")).map(|fqdn| ManualCommand {
                    cmdlet: "Set-SendConnector",
                    switches: Vec::new(),
                    parameters: vec![("Identity", connector.name.clone()), ("Fqdn", fqdn.clone())],
                }),
            },
            Ok(target) => match automation(inventory, context.index, server, connector, &target.name, now) {
                Ok((carrier, certificate)) => Remedy::step(SetSendCertificateName::new(
                    connector.name.clone(),
                    connector.tls_certificate_name.clone(),
                    target.name.clone(),
                    carrier,
                    certificate.clone(),
                    connector.source_servers.clone(),
                )),
                Err(reason) => Remedy::by_hand(
                    SetSendCertificateName::new(
                        connector.name.clone(),
                        connector.tls_certificate_name.clone(),
                        target.name.clone(),
                        server.name.clone(),
                        target.certificate.clone(),
                        connector.source_servers.clone(),
                    ),
                    format!(
                        "not scripted because {reason}: once the certificate {} is installed with its private key on every source transport server of the connector, set its TlsCertificateName with the command below{}, then restart MSExchangeTransport on each",
                        target.certificate.thumbprint,
                        if server.kind == Some(ServerKind::Edge) {
                            // EdgeSync replicates the organisation's send connectors to the Edge,
                            // where they are read-only.
                            " in the Exchange Management Shell of a Mailbox server, not on the Edge (EdgeSync replicates the connector; Start-EdgeSynchronization speeds it up); the Edge needs a certificate with the same issuer and subject as the Mailbox servers"
                        } else {
                            ""
                        }
                    ),
                ),
            },
            // No certificate here qualifies: the new one must cover the hybrid names.
            Err(names) => no_target_remedy(store, names, now, exchange_2010.is_empty(), context.ecdsa_refusal.as_deref()),
        };
        findings.push(
            connector.name.clone(),
            format!(
                "the send connector {:?} has TlsCertificateName {current}, which names no valid certificate with a private key on {}",
                connector.name, server.name
            ),
            vec![Evidence {
                file: connector.source.file.clone(),
                position: connector.source.position.clone(),
                field: "TlsCertificateName".to_owned(),
                value: current,
            }],
            remedy,
        );
    }
}

/// Whether the change of `connector` to `name` may be scripted, and if so by which server's
/// script (the first source transport server in sorted order) with which of its certificates.
/// It may be when every source server was exported, none is an Edge Transport server (an
/// EdgeSync'd connector is changed in the organisation, from a Mailbox server), and each has
/// exactly one valid certificate with a private key and no key-less valid copy under that
/// issuer and subject: the send side does not skip a copy without a key (seed 002). Otherwise
/// the reason, for the manual action.
fn automation<'i>(
    inventory: &Inventory,
    index: &ServerIndex<'i>,
    server: &Server,
    connector: &SendConnector,
    name: &TlsCertificateName,
    now: OffsetDateTime,
) -> Result<(String, &'i Certificate), String> {
    if server.kind == Some(ServerKind::Edge) {
        return Err("on an Edge Transport server the send connector is an EdgeSync'd copy".to_owned());
    }
    let mut sources: Vec<&str> = connector.source_servers.iter().map(String::as_str).collect();
    sources.sort_by_key(|s| s.to_ascii_uppercase());
    sources.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let mut carrier: Option<(String, &Certificate)> = None;
    for source in sources {
        let Some(exported) = inventory.server(source) else {
            return Err(format!("its source transport server {source} was not exported"));
        };
        if exported.kind == Some(ServerKind::Edge) {
            return Err(format!(
                "its source transport server {source} is an Edge Transport server (the connector is changed in the organisation and synchronised by EdgeSync)"
            ));
        }
        let matches: Vec<&Certificate> = index
            .certificates(&exported.name)
            .iter()
            .copied()
            .filter(|c| c.store == Store::My && c.valid_at(now) && name.matches(c))
            .collect();
        let keyed: Vec<&Certificate> = matches
            .iter()
            .copied()
            .filter(|c| c.has_private_key == Some(true))
            .collect();
        let certificate = match (keyed.as_slice(), matches.len()) {
            ([one], 1) => *one,
            ([], _) => {
                return Err(format!(
                    "{} has no valid certificate with a private key named {name}",
                    exported.name
                ))
            }
            _ => {
                return Err(format!(
                    "{} has more than one valid certificate named {name}, or a copy without a private key",
                    exported.name
                ))
            }
        };
        if carrier.is_none() {
            carrier = Some((exported.name.clone(), certificate));
        }
    }
    carrier.ok_or_else(|| "it lists no source transport server".to_owned())
}
