//! HT018 `auth-certificate-expiring`: the rule's documentation, metadata and check.

use super::{Rule, Severity};
use time::OffsetDateTime;

use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, date, Evidence, Findings, ManualCommand, Remedy};
use crate::model::{AuthConfig, Certificate, Server, ServerKind};

/// How far ahead the Auth certificate is judged: HealthChecker shows a certificate lifetime
/// below 60 days as no longer green.
pub const WARNING_DAYS: i64 = 60;

pub const RULE: Rule = Rule {
    code: "HT018",
    name: "auth-certificate-expiring",
    title: "The Auth (OAuth) certificate is expired, expires within 60 days, or is missing",
    severity: Severity::Warning,
    documentation: r#"## What it means
The certificate that `Get-AuthConfig` names as `CurrentCertificateThumbprint`, the Auth
certificate (by default the self-signed `CN=Microsoft Exchange Server Auth Certificate`, five
years), has expired, expires within 60 days of the evaluation time, or is not among the
certificates exported from a Mailbox server. It is not the certificate of any connector: Exchange
signs its OAuth tokens with it.

## Why it matters
Hybrid OAuth (free/busy, MailTips and other requests between Exchange Online and on-premises)
authenticates with this certificate; the Hybrid Configuration Wizard gives its public key to
Microsoft Entra ID. When it expires or is missing, OAuth fails: hybrid free/busy stops, and
Outlook on the web and the EAC on-premises can stop signing in. With serialization payload
signing on (the default since the November 2023 security update), an expired or missing Auth
certificate also makes `Get-ExchangeCertificate` in the Exchange Management Shell return only
`RawData`, without Services, Status or FriendlyName. Mail flow itself is not affected, which is
why this is a warning.

## Symptoms
Free/busy of on-premises mailboxes missing for cloud users (and the other way round); Outlook on
the web or the EAC loop at sign-in, with event 1003 (`MSExchange Front End HTTPS Proxy`,
`FbaModule.ParseCadataCookies`), or `ASSERT: HMACProvider.GetCertificates:protectionCertificates.Length<1`
after a security update.

## Detection
`CurrentCertificateThumbprint` of the Get-AuthConfig export is looked up in each Mailbox
server's exported certificates (Get-ExchangeCertificate or the `Cert:\LocalMachine\My` listing;
Edge servers hold no Auth certificate and are skipped). The rule fires when it is not there, or
when its `NotAfter` is before, or within 60 days after, `--now`, unless a next certificate is
staged in time (`NextCertificateThumbprint` exported on that server, valid for more than 60 days,
with `NextCertificateEffectiveDate` before the current one expires). When no certificate of a
server was exported at all, the finding says so instead of calling the certificate missing.
Without a Get-AuthConfig export the rule does not run.

## Fix
Manual, as Microsoft documents it for an expired or missing Auth certificate, in the Exchange
Management Shell:

1. `New-ExchangeCertificate -KeySize 2048 -PrivateKeyExportable $true -SubjectName "cn=Microsoft Exchange Server Auth Certificate" -FriendlyName "Microsoft Exchange Server Auth Certificate" -DomainName @()`
2. `Set-AuthConfig -NewCertificateThumbprint <thumbprint from step 1> -NewCertificateEffectiveDate (Get-Date)`
3. `Set-AuthConfig -PublishCertificate`
4. `Set-AuthConfig -ClearPreviousCertificate`
5. Restart the Microsoft Exchange Service Host service, and run `IISReset` or recycle the
   `MSExchangeOWAAppPool` and `MSExchangeECPAppPool` application pools (`Restart-WebAppPool`).
   Publishing can take an hour.
6. In a hybrid organisation, Microsoft Entra ID must get the new certificate: where the dedicated
   Exchange hybrid application is configured (the April 2025 hotfix and later), upload it with
   CSS-Exchange's `ConfigureExchangeHybridApplication.ps1 -UpdateCertificate` ("useful if the Auth
   Certificate has been renewed": it uploads the current and, if configured, the next Auth
   certificate); otherwise, or when unsure, run the Hybrid Configuration Wizard again.

While the current certificate is still valid, the new one can instead be staged with a later
`-NewCertificateEffectiveDate` (the date the next certificate should be used) so that Exchange
switches on that date; Microsoft's `MonitorExchangeAuthCertificate.ps1` (CSS-Exchange) does this.
The command hybridtls prints shows the current Auth certificate on the server, to compare before
and after.

## When to fix by hand
Always: the Auth configuration is one object for the whole organisation, and the Hybrid
Configuration Wizard step cannot be scripted from here.

## Sources
- Microsoft Learn, KB 2617816 "Can't sign in to Outlook on the web or EAC if Exchange Server OAuth
  certificate is expired" (learn.microsoft.com/exchange/troubleshoot/administration/cannot-access-owa-or-ecp-if-oauth-expired):
  the check `(Get-AuthConfig).CurrentCertificateThumbprint | Get-ExchangeCertificate`, the
  renewal steps above, the restarts, the hour to publish and the HCW re-run.
- Microsoft Learn, Set-AuthConfig (learn.microsoft.com/powershell/module/exchangepowershell/set-authconfig):
  `-NewCertificateThumbprint`, `-NewCertificateEffectiveDate`, `-PublishCertificate`,
  `-ClearPreviousCertificate`; Get-AuthConfig; the AuthConfig class members
  `CurrentCertificateThumbprint`, `NextCertificateThumbprint`, `NextCertificateEffectiveDate`,
  `PreviousCertificateThumbprint` (Exchange Server API reference).
- microsoft/CSS-Exchange HealthChecker: `Get-ExchangeServerCertificates.ps1` marks the certificate
  whose thumbprint is `$authConfig.CurrentCertificateThumbprint`;
  `Invoke-AnalyzerSecurityExchangeCertificates.ps1` reports "Auth Certificate has expired", "No
  valid Auth Certificate found", the next certificate staged for rotation and its effective date,
  colours lifetimes below 60 days, and does not check Edge servers.
- microsoft/CSS-Exchange `docs/Hybrid/ConfigureExchangeHybridApplication.md`
  (`Hybrid/ConfigureExchangeHybridApplication/ConfigureExchangeHybridApplication.ps1`):
  `-UpdateCertificate` uploads the current Auth certificate and, if configured, the next one to
  the dedicated Exchange hybrid application in Microsoft Entra ID, "useful if the Auth Certificate
  has been renewed"; the dedicated application came with the April 2025 Exchange Server hotfix
  ("Deploy dedicated Exchange hybrid app", Microsoft Learn).
- microsoft/CSS-Exchange `Admin/MonitorExchangeAuthCertificate` (renewal and staged rotation);
  `Shared/CertificateFunctions/Import-ExchangeCertificateFromRawData.ps1` (only RawData when the
  Auth certificate has expired and serialization data signing is on); `docs/Emerging-Issues.md`
  (the `HMACProvider.GetCertificates` assert when the OAuth certificate is missing or expired).
"#,
    check,
    organisation_needs: None,
};

/// The Auth certificate must be there and not expire soon on every Exchange server but the Edge.
fn check(context: &Context, findings: &mut Findings) {
    // The Auth configuration is organisation-wide; every export of it describes the same object.
    if let Some(auth) = context.inventory.auth_configs.first() {
        check_auth(auth, context.server, &context.store, context.now, findings);
    }
}

/// Checks the current Auth certificate of `auth` on `server`, whose exported certificates are
/// `store` (Cert:\LocalMachine\My).
fn check_auth(
    auth: &AuthConfig,
    server: &Server,
    store: &[&Certificate],
    now: OffsetDateTime,
    findings: &mut Findings,
) {
    if server.kind == Some(ServerKind::Edge) {
        return;
    }
    let current_evidence = Evidence {
        file: auth.source.file.clone(),
        position: auth.source.position.clone(),
        field: "CurrentCertificateThumbprint".to_owned(),
        value: auth
            .current_thumbprint
            .clone()
            .unwrap_or_else(|| "null".to_owned()),
    };
    let Some(current) = &auth.current_thumbprint else {
        findings.push(
            "Auth Configuration".to_owned(),
            "the Auth configuration names no current certificate (CurrentCertificateThumbprint is empty), so Exchange has no certificate to sign OAuth tokens with".to_owned(),
            vec![current_evidence],
            renew(None, server),
        );
        return;
    };
    if store.is_empty() {
        // No certificate export of this server: whether the certificate is there is unknown.
        findings.push(
            current.clone(),
            format!(
                "the Auth configuration names {current} as the current Auth certificate, but no certificate of {} was exported, so hybridtls cannot tell whether it is installed there or when it expires",
                server.name
            ),
            vec![current_evidence],
            Remedy::manual(format!(
                "export the certificates of {} (Get-ExchangeCertificate -Server {} with RawData, or `hybridtls collect`) and plan again",
                server.name, server.name
            )),
        );
        return;
    }
    let find = |thumbprint: &str| {
        store
            .iter()
            .copied()
            .find(|c| c.thumbprint.eq_ignore_ascii_case(thumbprint))
    };
    let Some(certificate) = find(current) else {
        findings.push(
            current.clone(),
            format!(
                "the current Auth certificate {current} is not among the {} certificates exported from {}, so OAuth (hybrid free/busy) cannot sign its tokens there",
                store.len(),
                server.name
            ),
            vec![current_evidence],
            renew(Some(current), server),
        );
        return;
    };
    let expired = now > certificate.not_after;
    let days_left = (certificate.not_after - now).whole_days();
    if !expired && days_left > WARNING_DAYS {
        return;
    }
    // A next certificate staged to take over before the current one expires is the rotation
    // Exchange does by itself.
    let staged = auth
        .next_thumbprint
        .as_deref()
        .and_then(find)
        .zip(auth.next_effective_date)
        .filter(|(next, effective)| {
            !expired
                && *effective <= certificate.not_after
                && next.has_private_key != Some(false)
                && (next.not_after - now).whole_days() > WARNING_DAYS
        });
    if staged.is_some() {
        return;
    }
    let when = if expired {
        format!("expired on {}", date(certificate.not_after))
    } else {
        format!(
            "expires on {} ({days_left} days after the evaluation time)",
            date(certificate.not_after)
        )
    };
    let next = match (&auth.next_thumbprint, auth.next_effective_date) {
        (Some(next), Some(effective)) => format!(
            "; the next certificate {next} (effective {}) does not take over in time or is not usable on {}",
            date(effective),
            server.name
        ),
        (Some(next), None) => format!("; the next certificate {next} has no effective date"),
        (None, _) => "; no next certificate is staged".to_owned(),
    };
    findings.push(
        current.clone(),
        format!(
            "the current Auth certificate {current} on {} {when}{next}; hybrid OAuth (free/busy) fails once it has expired",
            server.name
        ),
        vec![
            current_evidence,
            certificate_evidence(certificate, "NotAfter", date(certificate.not_after)),
        ],
        renew(Some(current), server),
    );
}

/// The documented renewal, with the command that shows the current Auth certificate on the
/// server (its thumbprint comes from the input, so it is a [`ManualCommand`]).
fn renew(current: Option<&str>, server: &Server) -> Remedy {
    let instruction = "renew the Auth certificate as Microsoft documents it (KB 2617816; see `hybridtls explain HT018`): New-ExchangeCertificate -KeySize 2048 -PrivateKeyExportable $true -SubjectName \"cn=Microsoft Exchange Server Auth Certificate\" -FriendlyName \"Microsoft Exchange Server Auth Certificate\" -DomainName @(); Set-AuthConfig -NewCertificateThumbprint <thumbprint of the new certificate> -NewCertificateEffectiveDate (Get-Date); Set-AuthConfig -PublishCertificate; Set-AuthConfig -ClearPreviousCertificate; restart the Microsoft Exchange Service Host service and recycle MSExchangeOWAAppPool and MSExchangeECPAppPool (or IISReset); then give Microsoft Entra ID the new certificate: with the dedicated Exchange hybrid application (April 2025 hotfix and later) run CSS-Exchange's ConfigureExchangeHybridApplication.ps1 -UpdateCertificate, otherwise run the Hybrid Configuration Wizard again".to_owned();
    Remedy::Manual {
        instruction: match current {
            Some(_) => format!(
                "{instruction}. The command below shows the current Auth certificate on {}",
                server.name
            ),
            None => instruction,
        },
        command: current.map(|thumbprint| ManualCommand {
            cmdlet: "Get-ExchangeCertificate",
            switches: Vec::new(),
            parameters: vec![
                ("Thumbprint", thumbprint.to_owned()),
                ("Server", server.name.clone()),
            ],
        }),
    }
}
