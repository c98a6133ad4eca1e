//! HT010 `missing-intermediate-certificate`: the rule's documentation and metadata (checked with
//! HT011 in `diagnose::chain::findings`, which builds the chain both judge).

use super::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "HT010",
    name: "missing-intermediate-certificate",
    title: "An intermediate CA certificate of the chain is not installed",
    severity: Severity::Error,
    documentation: r#"## What it means
The chain of the certificate the hybrid connector presents needs an intermediate CA certificate that
is in neither `Cert:\LocalMachine\CA` nor `Cert:\LocalMachine\My`, so Windows does not send it
during the TLS handshake.

## Why it breaks mail flow
Exchange Online cannot build the chain to a trusted root from the leaf alone, so it cannot
attribute the connection to your tenant's inbound connector (KB 3212877).

## Symptoms
- `550 5.7.64 TenantAttribution; Relay Access Denied` in NDRs or the send protocol log.
- CAPI2 event 30 with result `800B0109` ("A certificate chain processed, but terminated in a root
  certificate which is not trusted by the trust provider").

## Detection
The chain is built offline from the My, CA and Root listings and the certificate files given,
matching issuer name and key identifier and checking each signature. Without the CA listing,
or without the certificate's `RawData`, the check does not run and the plan lists it as not
judged, with the command that exports what is missing (KB 3212877: the intermediate belongs in
`Cert:\LocalMachine\CA`, so only that listing can show it missing).

## Fix
When the intermediate was supplied as a file (PEM, DER `.cer`), the script embeds it, writes it to
a temporary file, imports it with `Import-Certificate -CertStoreLocation Cert:\LocalMachine\CA`,
checks the resulting thumbprint, and skips the import when that thumbprint is already present.

## When to fix by hand
When no file with the intermediate was given: the finding names the missing issuer and its key
identifier; download it from the CA's repository and plan again with the file.

## Sources
- Microsoft support KB 3212877, "550 5.7.64 TenantAttribution; Relay Access Denied": the server does
  not send the intermediate chain; import the intermediates into Cert:\LocalMachine\CA with
  `Import-Certificate -CertStoreLocation cert:\LocalMachine\CA`.
"#,
};
