//! HT005 `no-qualifying-certificate`: the rule's documentation, metadata and check, which reports
//! the hybrid connectors whose judgement (`diagnose::connector`) leaves them needing a new certificate.

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::{certificate_evidence, disqualifications, install_certificate_instruction, Findings, Remedy};

pub const RULE: Rule = Rule {
    code: "HT005",
    name: "no-qualifying-certificate",
    title: "No installed certificate qualifies for hybrid mail flow",
    severity: Severity::Error,
    documentation: r#"## What it means
No certificate exported from the server has a private key, is valid at the evaluation time, is
issued by a CA (not self-signed), and covers every hybrid FQDN in its subject CN or SAN.

## Why it breaks mail flow
Exchange Online requires a publicly trusted certificate whose name matches the FQDN its outbound
connector uses for the on-premises endpoint.

## Symptoms
Any of the certificate errors of HT001 to HT003; the fix cannot be automated.

## Detection
Each exported certificate is checked against the criteria above; the reasons each one fails are
listed.

## Fix
Manual: obtain a certificate from a public CA that covers the hybrid FQDN, import it with its
private key on every hybrid server, enable it for SMTP, export again and plan again.

## When to fix by hand
Always: hybridtls does not create or request certificates.

## Sources
- Microsoft Learn, "Certificate requirements for hybrid deployments".
- Microsoft Learn, "Selection of inbound STARTTLS certificates" (Exchange 2016, 2019, SE; 2025):
  eligible certificates have a private key and a CN or SAN holding the FQDN.
"#,
    check,
    organisation_needs: None,
};

/// No certificate of the server qualifies, so a hybrid connector can only be fixed with a new one.
fn check(context: &Context, findings: &mut Findings) {
    if !context.needs_new_certificate() {
        return;
    }
    let (server, store, names, now) = (context.server, &context.store, context.names, context.now);
    let evidence = store
        .iter()
        .map(|c| {
            certificate_evidence(
                c,
                "Subject",
                format!("{}: {}", c.subject, disqualifications(c, names, now, context.ecdsa_refusal.as_deref()).join(", ")),
            )
        })
        .collect();
    findings.push(
        server.name.clone(),
        format!(
            "none of the {} certificates exported from {} has a private key, is valid, is CA-issued and covers {}",
            store.len(),
            server.name,
            names.join(", ")
        ),
        evidence,
        Remedy::manual(install_certificate_instruction(names)),
    );
}
