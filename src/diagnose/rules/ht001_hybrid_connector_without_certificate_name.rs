//! HT001 `hybrid-connector-without-certificate-name`: the rule's documentation, metadata and
//! check, which reports its fault of the judgement of a hybrid connector (`diagnose::connector`).

use super::{Rule, Severity};
use crate::diagnose::connector::{Fault, Verdict};
use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, describe, name_evidence, Findings};
use crate::model::ExchangeRelease;

pub const RULE: Rule = Rule {
    code: "HT001",
    name: "hybrid-connector-without-certificate-name",
    title: "Hybrid receive connector has no TlsCertificateName",
    severity: Severity::Error,
    documentation: r#"## What it means
The receive connector that Exchange Online delivers to (the port-25 `Default Frontend <SERVER>`
connector, or one whose `TlsDomainCapabilities` contain
`mail.protection.outlook.com:AcceptCloudServicesMail`) has `TlsCertificateName` set to `$null`.

## Why it breaks mail flow
Without `TlsCertificateName`, Exchange picks the STARTTLS certificate by the connector's `Fqdn`
(by the server FQDN only when `Fqdn` is null): certificates with a private key whose CN or SAN
holds that name, newest `NotBefore` first, CA-issued before self-signed. When `Fqdn` is set and
no certificate covers it, Exchange does not go on to the server FQDN: it offers no STARTTLS and
logs event 12014. The connector FQDN is usually the server's own
name, which only the self-signed Exchange certificate covers, so that certificate is presented.
Exchange Online validates the certificate against the hybrid FQDN and rejects it.

## Symptoms
- Exchange Online message trace: `450 4.7.320 Certificate validation failed; MSG=SubjectMismatch`
  or `450 4.4.317 Cannot connect to remote server [Message=SubjectMismatch ...]`.
- SmtpReceive protocol log: `Sending certificate` followed by the self-signed subject `CN=<SERVER>`.

## Detection
hybridtls reads `TlsCertificateName` from the Get-ReceiveConnector export and models the FQDN
fallback over the Get-ExchangeCertificate export to show which certificate is presented.

## Fix
`Set-ReceiveConnector -TlsCertificateName '<I>issuer<S>subject'` naming the CA-issued certificate
that covers the hybrid FQDN, then a restart of the transport service that owns the connector
(MSExchangeFrontEndTransport for a FrontendTransport connector, MSExchangeTransport otherwise).

On Exchange 2010 (`AdminDisplayVersion` 14.x) receive connectors have no `TlsCertificateName`;
the FQDN search is how 2010 always chooses, so a connector whose search finds a qualifying
certificate is fine, and otherwise the fix is manual: enable the certificate for SMTP and set the
connector's `Fqdn` to the hybrid name (`Set-ReceiveConnector -Fqdn`). Never on `Default
<SERVER>` or a connector with `ExchangeServer` authentication: the default connectors are not to
be modified, and their Fqdn carries mail between Exchange servers; there the advice is a receive
connector of Exchange Online's own, scoped to its published port-25 ranges, with
`mail.protection.outlook.com:AcceptOorgProtocol` and an `Fqdn` the hybrid certificate covers (the
Hybrid Configuration Wizard's "Inbound from Office 365", as HT032 says). hybridtls never plans a
2013+ parameter for a 2010 server.

## When to fix by hand
When no installed certificate qualifies (see HT005), install one first and plan again. On
Exchange 2010, always.

## Sources
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019, SE; 2025):
  without TlsCertificateName the search is by the connector Fqdn, else the server FQDN.
- Exchange Team blog (learn.microsoft.com archive), "Mail not routing to on-premise Exchange 2013
  environment from O365 with 450 4.7.320 Certificate validation failed error": the self-signed
  certificate presented with TlsCertificateName null, fixed with `Set-ReceiveConnector
  -TlsCertificateName "<I>issuer<S>subject"` and a transport restart.
- Microsoft Learn (Exchange 2010 SP2/SP3 archive), "Selection of Inbound STARTTLS
  Certificates": the certificate is found by the connector's FQDN, or the server's physical FQDN
  when the connector has none; the 2010 Set-ReceiveConnector has no TlsCertificateName.
- Microsoft Learn, "Receive connectors" (default Receive connectors: do not modify them) and
  Set-ReceiveConnector, `-Fqdn`: with ExchangeServer authentication the value is the server's own
  name, as Exchange-to-Exchange mail needs (as issue 19 reads them; a person should check the
  2010 case before changing either).
- Microsoft Learn, Set-ReceiveConnector, parameter TlsCertificateName (the
  `<I>X.500Issuer<S>X.500Subject` syntax).
"#,
    check,
    organisation_needs: None,
};

/// A hybrid connector without TlsCertificateName presents what the FQDN search finds.
fn check(context: &Context, findings: &mut Findings) {
    for judgement in &context.judgements {
        let Verdict::Wrong {
            fault: Fault::NoCertificateName { search, chosen },
            fix,
            ..
        } = &judgement.verdict
        else {
            continue;
        };
        let identity = judgement.connector.identity();
        let search = search.as_deref().unwrap_or("the server FQDN");
        let presented = match chosen {
            Some(c) => format!("Exchange falls back to a search by {search} and presents {}", describe(c)),
            None => format!("Exchange falls back to a search by {search} and finds no certificate, so STARTTLS is not offered"),
        };
        let mut evidence = vec![name_evidence(judgement.connector)];
        if let Some(c) = chosen {
            evidence.push(certificate_evidence(c, "Subject", c.subject.clone()));
        }
        let message = if context.server.release == ExchangeRelease::Exchange2010 {
            format!("{identity} is on Exchange 2010, which has no TlsCertificateName; {presented}")
        } else {
            format!("TlsCertificateName of {identity} is null; {presented}")
        };
        findings.push(identity, message, evidence, fix.clone());
    }
}
