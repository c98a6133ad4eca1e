//! HT011 `root-not-in-root-store`: the rule's documentation and metadata (checked with HT010 in
//! `diagnose::chain::findings`, which builds the chain both judge).

use super::{Rule, Severity};

pub const RULE: Rule = Rule {
    code: "HT011",
    name: "root-not-in-root-store",
    title: "The root CA of the chain is not in the server's Root store",
    severity: Severity::Warning,
    documentation: r#"## What it means
The chain of the hybrid certificate ends in a root certificate that the `Cert:\LocalMachine\Root`
listing of the server does not contain.

## Why it matters
Exchange validates its own certificate (`validOnly`) and Exchange Online's certificate against the
local roots; a missing root can make the certificate invalid for Exchange and breaks validation of
certificates issued by that root. It is a warning only because Windows may still fetch the root
through automatic root certificate updates when the chain is first built. Where those cannot
run (turned off by Group Policy, or no access to Windows Update), the chain does not validate:
`Get-ExchangeCertificate` then reports a `Status` other than Valid, which hybridtls treats as a
certificate Exchange's lookup skips (HT002, HT003), and the script's preflight refuses a
certificate that fails `X509Certificate2.Verify()`.

## Symptoms
`Status` other than Valid in `Get-ExchangeCertificate`, event 12014, `454 4.7.5 certificate
validation failure`.

## Detection
The offline chain (see HT010) is compared with the Root listing. Without the Root listing the
check does not run and the plan lists it as not judged, with the command that makes the listing.

## Fix
None automatic: roots are trust decisions. Make sure Windows root certificate updates reach the
server, or deploy the root through Group Policy.

## When to fix by hand
Always.

## Sources
- Microsoft support KB 3212877: CAPI2 event 30 with 800B0109 ("terminated in a root certificate
  which is not trusted").
- Windows obtains trusted roots through automatic root certificate updates; a root missing from the
  exported Root store may still be fetched when it is needed, so this is a warning.
"#,
};
