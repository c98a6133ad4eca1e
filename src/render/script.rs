//! The remediation script: a typed model fed to `templates/remediate.ps1.hbs`.
//!
//! Handlebars' escape function is [`ps::literal`], so every `{{value}}` in a template becomes a
//! PowerShell single-quoted literal. Triple braces (`{{{comments.value}}}`) render only
//! [`CommentText`], text hybridtls composed itself for the help comment.

use base64::Engine;
use handlebars::Handlebars;
use serde::Serialize;

use super::ps::{self, CommentText};
use crate::error::Error;
use crate::model::{Certificate, InputFile};
use crate::plan::{NameChange, ServerPlan};

const REMEDIATE_TEMPLATE: &str = include_str!("../../templates/remediate.ps1.hbs");
const ROLLBACK_TEMPLATE: &str = include_str!("../../templates/rollback.ps1.hbs");
/// Blocks both scripts share, so the step log and the environment checks cannot drift apart.
const PARTIALS: [(&str, &str); 2] = [
    (
        "script-functions",
        include_str!("../../templates/partials/script-functions.ps1.hbs"),
    ),
    (
        "environment-checks",
        include_str!("../../templates/partials/environment-checks.ps1.hbs"),
    ),
];

#[derive(Serialize)]
struct CertificateLine {
    thumbprint: String,
    subject: String,
}

#[derive(Serialize)]
struct ImportLine {
    thumbprint: String,
    subject: String,
    base64: String,
}

#[derive(Serialize)]
struct ChangeLine {
    identity: String,
    before: String,
    after: String,
    thumbprint: String,
    /// The planned certificate's issuer and subject: the preflight checks that exactly one
    /// certificate in `Cert:\LocalMachine\My` answers to them.
    issuer: String,
    subject: String,
}

impl From<&NameChange<'_>> for ChangeLine {
    fn from(change: &NameChange<'_>) -> Self {
        ChangeLine {
            identity: change.identity.to_owned(),
            before: change.before_text(),
            after: change.after.to_string(),
            thumbprint: change.certificate.thumbprint.clone(),
            issuer: change.certificate.issuer.clone(),
            subject: change.certificate.subject.clone(),
        }
    }
}

/// A send connector change: `before_null` tells a null value from an empty one, so the rollback
/// sets `$null` back only when the connector had no TlsCertificateName; `source_servers` are the
/// source transport servers the plan checked, which the preflight compares with the live ones.
#[derive(Serialize)]
struct SendChangeLine {
    #[serde(flatten)]
    change: ChangeLine,
    before_null: bool,
    source_servers: Vec<String>,
}

/// The only values a template renders unquoted (`{{{comments.…}}}`), each a [`CommentText`].
#[derive(Serialize)]
struct Comments {
    server: CommentText,
    tool_version: CommentText,
    evaluated_at: CommentText,
    fingerprint: CommentText,
    /// The numbered steps of the help text, made of fixed words and thumbprints.
    steps: Vec<CommentText>,
    /// `<SHA-256>  <path>` of every input the plan was made from, organisation-wide ones marked.
    inputs: Vec<CommentText>,
}

/// The plan's data tables, shared by both scripts. A template renders the section of a kind of
/// step only when its table is non-empty, so a script holds only the steps its plan makes.
#[derive(Serialize)]
struct PlanTables {
    server: String,
    fingerprint: String,
    edge: bool,
    /// The cmdlets the script calls beyond the core ones, checked by the preflight.
    cmdlets: Vec<&'static str>,
    certificates: Vec<CertificateLine>,
    imports: Vec<ImportLine>,
    removals: Vec<CertificateLine>,
    changes: Vec<ChangeLine>,
    send_changes: Vec<SendChangeLine>,
    /// Whether a script reads a connector's TlsCertificateName (receive or send).
    reads_connector_names: bool,
    restarts: Vec<&'static str>,
}

/// What `templates/remediate.ps1.hbs` and `templates/rollback.ps1.hbs` are rendered from.
#[derive(Serialize)]
struct Script {
    comments: Comments,
    #[serde(flatten)]
    tables: PlanTables,
}

/// Renders one template with PowerShell literal escaping and CRLF line endings. The template
/// text gets CRLF before rendering, so line breaks inside values are kept as they are.
fn render<T: Serialize>(template: &str, model: &T) -> Result<String, Error> {
    let mut handlebars = Handlebars::new();
    handlebars.set_strict_mode(true);
    handlebars.register_escape_fn(ps::literal);
    let crlf = |text: &str| text.replace("\r\n", "\n").replace('\n', "\r\n");
    for (name, partial) in PARTIALS {
        handlebars
            .register_partial(name, crlf(partial))
            .map_err(|e| Error::Template(e.to_string()))?;
    }
    handlebars
        .register_template_string("script", crlf(template))
        .map_err(|e| Error::Template(e.to_string()))?;
    handlebars
        .render("script", model)
        .map_err(|e| Error::Template(e.to_string()))
}

/// Which of the two scripts of a plan is rendered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Remediation,
    Rollback,
}

fn numbered(steps: Vec<String>) -> Vec<CommentText> {
    steps
        .into_iter()
        .enumerate()
        .map(|(i, step)| CommentText::new(format!("{}. {step}", i + 1)))
        .collect()
}

fn rollback_steps(plan: &ServerPlan) -> Vec<String> {
    let mut steps = Vec::new();
    for removal in &plan.removals {
        steps.push(format!(
            "Re-import the removed certificate {} from the remediation's backup into Cert:\\LocalMachine\\My.",
            removal.certificate.thumbprint
        ));
    }
    for change in &plan.changes {
        steps.push(format!(
            "Set TlsCertificateName of a receive connector back to its value before the change to {}.",
            change.certificate.thumbprint
        ));
    }
    for change in &plan.send_changes {
        steps.push(format!(
            "Set TlsCertificateName of the send connector (organisation-wide) back to its value before the change to {}.",
            change.certificate.thumbprint
        ));
    }
    for import in &plan.imports {
        steps.push(format!(
            "Only with -RemoveImportedIntermediates: remove the imported intermediate {} from Cert:\\LocalMachine\\CA.",
            import.certificate.thumbprint
        ));
    }
    steps.push(format!(
        "Restart {} once, after all changes.",
        plan.restarts.join(", ")
    ));
    steps.push("Read every change back and check it.".to_owned());
    steps
}

fn remediation_steps(plan: &ServerPlan) -> Vec<String> {
    let mut steps = Vec::new();
    for import in &plan.imports {
        steps.push(format!(
            "Import the intermediate CA certificate {} into Cert:\\LocalMachine\\CA.",
            import.certificate.thumbprint
        ));
    }
    for removal in &plan.removals {
        steps.push(format!(
            "Back up, then remove the certificate without private key Cert:\\LocalMachine\\My\\{}.",
            removal.certificate.thumbprint
        ));
    }
    for change in &plan.changes {
        steps.push(format!(
            "Set TlsCertificateName of a receive connector to name the certificate {}.",
            change.certificate.thumbprint
        ));
    }
    for change in &plan.send_changes {
        steps.push(format!(
            "Set TlsCertificateName of the send connector to Exchange Online (one object for the organisation, changed from this server only) to name the certificate {}.",
            change.certificate.thumbprint
        ));
    }
    steps.push(format!(
        "Restart {} once, after all changes.",
        plan.restarts.join(", ")
    ));
    steps.push("Read every change back and check it.".to_owned());
    steps
}

/// The cmdlets a script calls that a plain Windows PowerShell may lack: the Exchange cmdlets,
/// and the PKI module's certificate cmdlets.
fn required_cmdlets(plan: &ServerPlan, direction: Direction) -> Vec<&'static str> {
    let mut cmdlets = Vec::new();
    if !plan.changes.is_empty() {
        cmdlets.extend(["Get-ReceiveConnector", "Set-ReceiveConnector"]);
    }
    if !plan.send_changes.is_empty() {
        cmdlets.extend(["Get-SendConnector", "Set-SendConnector"]);
    }
    match direction {
        Direction::Remediation => {
            // The preflight and the verification ask Exchange for each certificate's Status.
            cmdlets.push("Get-ExchangeCertificate");
            if !plan.imports.is_empty() {
                cmdlets.push("Import-Certificate");
            }
            if !plan.removals.is_empty() {
                cmdlets.push("Export-Certificate");
            }
        }
        Direction::Rollback => {
            if !plan.removals.is_empty() {
                cmdlets.push("Import-Certificate");
            }
        }
    }
    cmdlets
}

fn certificate_line(certificate: &Certificate) -> CertificateLine {
    CertificateLine {
        thumbprint: certificate.thumbprint.clone(),
        subject: certificate.subject.clone(),
    }
}

fn script(
    plan: &ServerPlan,
    inputs: &[InputFile],
    evaluated_at: &str,
    fingerprint: &str,
    direction: Direction,
) -> Script {
    let changes: Vec<ChangeLine> = plan
        .changes
        .iter()
        .map(|change| ChangeLine::from(&change.name_change()))
        .collect();
    let steps = match direction {
        Direction::Remediation => remediation_steps(plan),
        Direction::Rollback => rollback_steps(plan),
    };
    let comments = Comments {
        server: CommentText::new(plan.server.as_str()),
        tool_version: CommentText::new(env!("CARGO_PKG_VERSION")),
        evaluated_at: CommentText::new(evaluated_at),
        fingerprint: CommentText::new(fingerprint),
        steps: numbered(steps),
        inputs: inputs
            .iter()
            .map(|input| {
                let path = CommentText::new(input.path.as_str());
                let scope = if input.servers.is_empty() {
                    "  (organisation-wide)"
                } else {
                    ""
                };
                CommentText::new(format!("{}  {}{scope}", input.hash, path.as_str()))
            })
            .collect(),
    };
    let tables = PlanTables {
        server: plan.server.clone(),
        fingerprint: fingerprint.to_owned(),
        edge: plan.edge,
        cmdlets: required_cmdlets(plan, direction),
        certificates: plan.keep.iter().map(certificate_line).collect(),
        imports: plan
            .imports
            .iter()
            .map(|import| ImportLine {
                thumbprint: import.certificate.thumbprint.clone(),
                subject: import.certificate.subject.clone(),
                base64: import
                    .certificate
                    .facts
                    .as_ref()
                    .map(|facts| base64::engine::general_purpose::STANDARD.encode(&facts.der))
                    .unwrap_or_default(),
            })
            .collect(),
        removals: plan
            .removals
            .iter()
            .map(|r| certificate_line(&r.certificate))
            .collect(),
        reads_connector_names: !(changes.is_empty() && plan.send_changes.is_empty()),
        changes,
        send_changes: plan
            .send_changes
            .iter()
            .map(|change| {
                let name_change = change.name_change();
                SendChangeLine {
                    before_null: name_change.before.is_none(),
                    change: ChangeLine::from(&name_change),
                    source_servers: change.source_servers.clone(),
                }
            })
            .collect(),
        restarts: plan.restarts.clone(),
    };
    Script { comments, tables }
}

/// The remediation script for one server's plan; `inputs` are the files that plan was made from.
pub fn remediation(
    plan: &ServerPlan,
    inputs: &[InputFile],
    evaluated_at: &str,
    fingerprint: &str,
) -> Result<String, Error> {
    let model = script(plan, inputs, evaluated_at, fingerprint, Direction::Remediation);
    let text = render(REMEDIATE_TEMPLATE, &model)?;
    Ok(format!("\u{FEFF}{text}"))
}

/// The script that undoes [`remediation`] of the same plan (same fingerprint).
pub fn rollback(
    plan: &ServerPlan,
    inputs: &[InputFile],
    evaluated_at: &str,
    fingerprint: &str,
) -> Result<String, Error> {
    let model = script(plan, inputs, evaluated_at, fingerprint, Direction::Rollback);
    let text = render(ROLLBACK_TEMPLATE, &model)?;
    Ok(format!("\u{FEFF}{text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_braces_quote_and_template_newlines_become_crlf() {
        #[derive(Serialize)]
        struct Model {
            value: &'static str,
        }
        let out = render("$x = {{value}}\n", &Model { value: "it's\nhere" }).unwrap();
        assert_eq!(out, "$x = 'it''s\nhere'\r\n");
    }

    /// Triple braces render without quoting, so they may only hold [`CommentText`]: the fields
    /// of `comments`, or `this` inside an `{{#each comments.…}}` block.
    #[test]
    fn templates_render_only_comment_text_unquoted() {
        let templates = [REMEDIATE_TEMPLATE, ROLLBACK_TEMPLATE]
            .into_iter()
            .chain(PARTIALS.iter().map(|(_, text)| *text));
        for template in templates {
            let mut each_stack: Vec<&str> = Vec::new();
            let mut rest = template;
            while let Some(open) = rest.find("{{") {
                rest = &rest[open..];
                let close = rest.find("}}").expect("unclosed tag");
                let tag = &rest[..close + 2];
                if let Some(block) = tag.strip_prefix("{{#each ") {
                    each_stack.push(block.trim_end_matches("}}"));
                } else if tag == "{{/each}}" {
                    each_stack.pop();
                } else if let Some(raw) = tag.strip_prefix("{{{") {
                    let name = raw.trim_end_matches('}');
                    let allowed = name.starts_with("comments.")
                        || (name == "this" && each_stack.last().is_some_and(|b| b.starts_with("comments.")));
                    assert!(
                        allowed,
                        "{{{{{{{name}}}}}}} renders a value unquoted that is not CommentText"
                    );
                }
                rest = &rest[close + 2..];
            }
        }
    }
}
