//! HT010 `missing-intermediate-certificate`: the rule's documentation, metadata and check, which
//! reports its gaps of the chain walk it shares with HT011 (`diagnose::chain`).

use super::{Rule, Severity};
use crate::diagnose::chain::Gap;
use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::{certificate_evidence, Findings, Remedy};
use crate::model::Store;
use crate::steps::ImportIntermediate;

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
    check,
    organisation_needs: None,
};

/// The chains of the certificates hybrid mail presents must be complete on the server. Without
/// the CA listing no intermediate can be called missing, so the check is not judged.
fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    if context.judges_store() && !context.inventory.store_listed(server, Store::Ca) {
        findings.not_judged(server.clone(), Missing::Export(Export::StoreListing(Store::Ca)));
    }
    for walk in &context.chains {
        let leaf = walk.leaf;
        let Some(gaps) = &walk.gaps else {
            findings.without_raw_data(leaf);
            continue;
        };
        for gap in gaps {
            match gap {
                Gap::IntermediateNotInstalled(issuer) => {
                    let evidence = vec![
                        certificate_evidence(leaf, "Issuer", leaf.issuer.clone()),
                        certificate_evidence(issuer, "Thumbprint", issuer.thumbprint.clone()),
                    ];
                    let message = format!(
                        "the intermediate {} ({}) in the chain of {} is in neither Cert:\\LocalMachine\\CA nor My on {server}, so the server does not send it",
                        issuer.thumbprint, issuer.subject, leaf.thumbprint
                    );
                    let remedy = if issuer.store == Store::File {
                        Remedy::step(ImportIntermediate {
                            certificate: (*issuer).clone(),
                        })
                    } else {
                        Remedy::manual(format!(
                            "import {} ({}) into Cert:\\LocalMachine\\CA on {server}",
                            issuer.thumbprint, issuer.subject
                        ))
                    };
                    findings.push(issuer.thumbprint.clone(), message, evidence, remedy);
                }
                Gap::IssuerNotFound {
                    issuer,
                    key_id,
                    top_is_intermediate,
                } => {
                    let kind = if *top_is_intermediate {
                        "the root or a further intermediate"
                    } else {
                        "the intermediate"
                    };
                    let key = key_id
                        .as_ref()
                        .map(|k| format!(" (authority key identifier {k})"))
                        .unwrap_or_default();
                    findings.push(
                        issuer.clone(),
                        format!(
                            "no certificate for the issuer {issuer}{key} ({kind}) of the chain of {} is installed on {server} or was supplied",
                            leaf.thumbprint
                        ),
                        vec![certificate_evidence(leaf, "Issuer", leaf.issuer.clone())],
                        Remedy::manual(format!(
                            "download the CA certificate of {issuer}{key} from the CA's repository, give it to hybridtls as a .cer or .pem file next to the exports, and plan again"
                        )),
                    );
                }
                Gap::RootNotInRootStore(_) => {}
            }
        }
    }
}
