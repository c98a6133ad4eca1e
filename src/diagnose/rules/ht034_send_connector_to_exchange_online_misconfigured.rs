//! HT034 `send-connector-to-exchange-online-misconfigured`: the rule's documentation, metadata
//! and check, which judges the send connector to Exchange Online as HealthChecker does.

use super::{Rule, Severity};

use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, NotJudged};
use crate::diagnose::{absent_property, Evidence, Findings, ManualCommand, Remedy};
use crate::model::{
    ExchangeRelease, Inventory, SendConnector, ServerKind, TlsAuthLevel, EXCHANGE_ONLINE_CLOUDS,
    MX_MICROSOFT,
};

pub const RULE: Rule = Rule {
    code: "HT034",
    name: "send-connector-to-exchange-online-misconfigured",
    title: "The send connector to Exchange Online is not set as the Hybrid Configuration Wizard sets it",
    severity: Severity::Warning,
    documentation: r#"## What it means
A send connector to Exchange Online (recognised by its smart host `<tenant>.mail.protection.outlook.com`
or the same in GCC High / DoD and 21Vianet, by a smart host under `mx.microsoft`, by an address
space `<tenant>.mail.onmicrosoft.com`, or by `CloudServicesMailEnabled`, whatever that flag's
value) has a setting other than the one the Hybrid Configuration Wizard gives it:
- `CloudServicesMailEnabled` false: the cross-premises headers of hybrid mail are stripped, and
  Exchange Online no longer treats the mail as internal to the organisation;
- `TlsAuthLevel` neither `CertificateValidation` nor `DomainValidation` (null or EncryptionOnly):
  Exchange Online's certificate is not validated;
- `TlsDomain` not the cloud's `mail.protection.*` domain while `TlsAuthLevel` is
  `DomainValidation`;
- `RequireTLS` false: mail may leave without TLS;
- `Enabled` false: the connector sends nothing.

## Why it breaks mail flow
HealthChecker flags the first three as a connector "misconfigured to send authenticated internal
mail to M365": hybrid mail is then attributed and treated as external, or the TLS validation of
Exchange Online's certificate does not happen as designed. A disabled connector routes no mail to
Exchange Online at all.

## Symptoms
- Mail from on-premises to Exchange Online mailboxes arrives as external mail (no cross-premises
  headers), or is routed another way.
- HealthChecker's "Send Connector - ... Misconfigured to send authenticated internal mail to M365"
  or "TlsAuthLevel not set to CertificateValidation or DomainValidation".

## Detection
The connector's `CloudServicesMailEnabled`, `TlsAuthLevel`, `TlsDomain`, `RequireTLS` and `Enabled`
are read from the Get-SendConnector export (as numbers or names). The connector is one object of
the organisation, judged once, on the first of its source transport servers that was exported in
sorted order (else on the first non-Edge server). A property left out of the export is listed as
not judged. With only a smart host under `mx.microsoft`, which HealthChecker does not know yet,
`CertificateValidation` is proposed rather than a `TlsDomain` no Microsoft source gives.

## Fix
Manual, one `Set-SendConnector` with the values the Hybrid Configuration Wizard sets, for the
settings that differ: `-CloudServicesMailEnabled:$true`, `-TlsAuthLevel DomainValidation`,
`-TlsDomain mail.protection.outlook.com` (or the cloud's `mail.protection.office365.us`,
`mail.protection.partner.outlook.cn`), `-RequireTLS:$true`, `-Enabled:$true`; in the Exchange
Management Shell of a Mailbox server (on an Edge the connector is an EdgeSync'd copy). Not
scripted: a connector may route more than hybrid mail (HealthChecker's documentation warns that
`CloudServicesMailEnabled` may be false on purpose when on-premises mail to the internet is
routed through Exchange Online), and a disabled connector may be disabled on purpose. Exchange
2010 send connectors have no `CloudServicesMailEnabled` (Set-SendConnector, Exchange 2010 SP3
help): it is neither asked for nor proposed for a connector only Exchange 2010 servers source.

## When to fix by hand
Always; read the reasons above before setting a value, and run the Hybrid Configuration Wizard
again when unsure, which sets all of them.

## Sources
- microsoft/CSS-Exchange HealthChecker,
  `Diagnostics/HealthChecker/Analyzer/Invoke-AnalyzerFrequentConfigurationIssues.ps1`: the
  connector to Exchange Online by smart host (`$eopDomainRegExPattern`) or address space
  (`$remoteRoutingDomainRegExPattern`); flagged when `CloudServicesMailEnabled` is false, when
  `TlsAuthLevel` is not `DomainValidation` or `CertificateValidation`, and when `TlsDomain` does
  not match `$serviceDomainRegExPattern` under `DomainValidation`. HealthChecker does not check
  `RequireTLS` or `Enabled`.
- CSS-Exchange `docs/Diagnostics/HealthChecker/ExoConnectorCheck.md` (aka.ms/HC-ExoConnectorIssue):
  the same checks, and that `CloudServicesMailEnabled` may be false when on-premises mail is routed
  through Exchange Online to external domains.
- Hybrid Configuration Wizard log (exchange-formats.md §2.3): `New-SendConnector ... -RequireTLS:$true
  -TLSAuthLevel DomainValidation -TLSDomain 'mail.protection.outlook.com'
  -CloudServicesMailEnabled:$true`; the Exchange Team blog (June 2025) lists the same values.
- Microsoft Learn, Set-SendConnector: `-CloudServicesMailEnabled`, `-TlsAuthLevel`, `-TlsDomain`,
  `-RequireTLS`, `-Enabled`.
- Microsoft Learn, "Microsoft 365 URLs and IP address ranges" (Exchange Online, TCP 25):
  `*.mail.protection.outlook.com` and `*.mx.microsoft`.
"#,
    check,
    organisation_needs: Some(needs),
};

/// The settings judged, as the export names them.
const SETTINGS: [&str; 5] = [
    "CloudServicesMailEnabled",
    "TlsAuthLevel",
    "TlsDomain",
    "RequireTLS",
    "Enabled",
];

/// A setting left out of the export cannot be judged: it is not "as the wizard sets it".
fn needs(inventory: &Inventory, list: &mut Vec<NotJudged>) {
    for connector in inventory.send_connectors.iter().filter(|c| c.targets_exchange_online()) {
        for property in SETTINGS
            .iter()
            .filter(|p| connector.absent.contains(p) && !(**p == "CloudServicesMailEnabled" && only_exchange_2010(inventory, connector)))
        {
            list.push(absent_property(
                &RULE,
                None,
                connector.name.clone(),
                property,
                &connector.source,
                Export::SendConnectors,
            ));
        }
    }
}

fn check(context: &Context, findings: &mut Findings) {
    for connector in context
        .inventory
        .send_connectors
        .iter()
        .filter(|c| c.targets_exchange_online())
    {
        if judged_here(context, connector) {
            judge(context, connector, findings);
        }
    }
}

/// Whether every exported source server of the connector runs Exchange 2010, whose send
/// connectors have no `CloudServicesMailEnabled` (Set-SendConnector, Exchange 2010 SP3 help).
fn only_exchange_2010(inventory: &Inventory, connector: &SendConnector) -> bool {
    let mut releases = connector
        .source_servers
        .iter()
        .filter_map(|s| inventory.server(s))
        .map(|s| s.release)
        .peekable();
    releases.peek().is_some() && releases.all(|r| r == ExchangeRelease::Exchange2010)
}

/// Whether this server reports the connector, an organisation object reported once: on the first
/// of its source transport servers that was exported, in sorted order, else on the server that
/// carries the organisation's one-off steps.
fn judged_here(context: &Context, connector: &SendConnector) -> bool {
    let mut sources: Vec<&str> = connector
        .source_servers
        .iter()
        .map(String::as_str)
        .filter(|s| context.inventory.server(s).is_some())
        .collect();
    sources.sort_by_key(|s| s.to_ascii_uppercase());
    match sources.first() {
        Some(first) => first.eq_ignore_ascii_case(&context.server.name),
        None => context.renewal_carrier,
    }
}

/// The cloud's protection domain the connector sends to, from its smart host or address space;
/// None when only `mx.microsoft` or `CloudServicesMailEnabled` tells it is Exchange Online.
fn protection_domain(connector: &SendConnector) -> Option<&'static str> {
    let below = |name: &str, parent: &str| {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        name.ends_with(&format!(".{parent}"))
    };
    EXCHANGE_ONLINE_CLOUDS
        .iter()
        .find(|cloud| {
            connector
                .smart_hosts
                .iter()
                .any(|h| below(h, cloud.protection_domain))
                || connector
                    .address_spaces
                    .iter()
                    .any(|s| below(s.split(';').next().unwrap_or(""), cloud.routing_domain))
        })
        .map(|cloud| cloud.protection_domain)
        .or_else(|| {
            // Only the hybrid flag or an mx.microsoft smart host: the wizard's worldwide value
            // applies to the former, no documented value to the latter.
            let mx = connector.smart_hosts.iter().any(|h| below(h, MX_MICROSOFT));
            (!mx).then_some(EXCHANGE_ONLINE_CLOUDS[0].protection_domain)
        })
}

fn judge(context: &Context, connector: &SendConnector, findings: &mut Findings) {
    let mut faults = Vec::new();
    let mut evidence = Vec::new();
    let mut switches = Vec::new();
    let mut parameters = vec![("Identity", connector.name.clone())];
    let proof = |field: &str, value: String| Evidence {
        file: connector.source.file.clone(),
        position: connector.source.position.clone(),
        field: field.to_owned(),
        value,
    };
    let domain = protection_domain(connector);
    if connector.cloud_services_mail_enabled == Some(false) && !only_exchange_2010(context.inventory, connector) {
        faults.push("CloudServicesMailEnabled is false (the cross-premises headers of hybrid mail are stripped)".to_owned());
        evidence.push(proof("CloudServicesMailEnabled", "False".to_owned()));
        switches.push("CloudServicesMailEnabled");
    }
    let level = connector.tls_auth_level;
    let validates = matches!(
        level,
        Some(TlsAuthLevel::CertificateValidation | TlsAuthLevel::DomainValidation)
    );
    if !validates && !connector.absent.contains(&"TlsAuthLevel") {
        let shown = match level {
            Some(TlsAuthLevel::EncryptionOnly) => "EncryptionOnly",
            _ => "null",
        };
        faults.push(format!(
            "TlsAuthLevel is {shown}, not CertificateValidation or DomainValidation (Exchange Online's certificate is not validated)"
        ));
        evidence.push(proof("TlsAuthLevel", shown.to_owned()));
        match domain {
            Some(domain) => {
                parameters.push(("TlsAuthLevel", "DomainValidation".to_owned()));
                parameters.push(("TlsDomain", domain.to_owned()));
            }
            // No source gives the TlsDomain of an mx.microsoft endpoint: CertificateValidation
            // validates the chain without naming a domain.
            None => parameters.push(("TlsAuthLevel", "CertificateValidation".to_owned())),
        }
    }
    if level == Some(TlsAuthLevel::DomainValidation) {
        let tls_domain = connector.tls_domain.as_deref().unwrap_or("");
        let service_domain = EXCHANGE_ONLINE_CLOUDS
            .iter()
            .any(|cloud| tls_domain.eq_ignore_ascii_case(cloud.protection_domain));
        if !service_domain {
            let shown = connector.tls_domain.clone().unwrap_or_else(|| "null".to_owned());
            evidence.push(proof("TlsDomain", shown.clone()));
            match domain {
                Some(domain) => {
                    faults.push(format!(
                        "TlsDomain is {shown} under DomainValidation, not the service domain {domain}"
                    ));
                    parameters.push(("TlsDomain", domain.to_owned()));
                }
                None => faults.push(format!(
                    "TlsDomain is {shown} under DomainValidation, and no Microsoft source gives the TlsDomain of an mx.microsoft smart host: a person must decide (TlsAuthLevel CertificateValidation validates the chain without a domain)"
                )),
            }
        }
    }
    if connector.require_tls == Some(false) {
        faults.push("RequireTLS is false (mail may leave without TLS)".to_owned());
        evidence.push(proof("RequireTLS", "False".to_owned()));
        switches.push("RequireTLS");
    }
    if connector.enabled == Some(false) {
        faults.push("Enabled is false (the connector sends nothing)".to_owned());
        evidence.push(proof("Enabled", "False".to_owned()));
        switches.push("Enabled");
    }
    if faults.is_empty() {
        return;
    }
    let command = (parameters.len() > 1 || !switches.is_empty()).then_some(ManualCommand {
        cmdlet: "Set-SendConnector",
        switches,
        parameters,
    });
    let edge = connector.source_servers.iter().any(|s| {
        context
            .inventory
            .server(s)
            .is_some_and(|server| server.kind == Some(ServerKind::Edge))
    });
    findings.push(
        connector.name.clone(),
        format!(
            "the send connector to Exchange Online {:?} differs from what the Hybrid Configuration Wizard sets: {}",
            connector.name,
            faults.join("; ")
        ),
        evidence,
        Remedy::Manual {
            instruction: format!(
                "set the values the Hybrid Configuration Wizard sets{}, in the Exchange Management Shell of a Mailbox server{}; not scripted: CloudServicesMailEnabled may be false on purpose when on-premises mail to the internet is routed through Exchange Online (HealthChecker's ExoConnectorCheck), and a connector may be disabled on purpose. Running the Hybrid Configuration Wizard again sets all of them",
                if command.is_none() { " (a person must decide the TlsDomain)" } else { " with the command below" },
                if edge { " (EdgeSync brings it to the Edge; Start-EdgeSynchronization speeds it up)" } else { "" }
            ),
            command,
        },
    );
}
