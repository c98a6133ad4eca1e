//! HT011 `root-not-in-root-store`: the rule's documentation, metadata and check, which reports
//! its gaps of the chain walk it shares with HT010 (`diagnose::chain`).

use super::{Rule, Severity};
use crate::diagnose::chain::Gap;
use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::{certificate_evidence, Findings, Remedy};
use crate::model::Store;

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
    check,
    organisation_needs: None,
};

/// The roots of the chains of the certificates hybrid mail presents must be trusted on the
/// server. Without the Root listing no root can be called missing, so the check is not judged.
fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    if context.judges_store() && !context.inventory.store_listed(server, Store::Root) {
        findings.not_judged(server.clone(), Missing::Export(Export::StoreListing(Store::Root)));
    }
    for walk in &context.chains {
        for gap in walk.gaps.iter().flatten() {
            let Gap::RootNotInRootStore(root) = gap else {
                continue;
            };
            findings.push(
                root.thumbprint.clone(),
                format!(
                    "the root {} ({}) of {}'s chain is not in Cert:\\LocalMachine\\Root on {server}",
                    root.thumbprint, root.subject, walk.leaf.thumbprint
                ),
                vec![certificate_evidence(root, "Subject", root.subject.clone())],
                Remedy::manual(format!(
                    "check that {} is a root your organisation trusts and that Windows root certificate updates reach {server}; roots are never imported automatically",
                    root.subject
                )),
            );
        }
    }
}
