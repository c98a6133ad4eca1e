//! The remediation script: a typed model fed to `templates/remediate.ps1.hbs`.
//!
//! Handlebars' escape function is [`ps::literal`], so every `{{value}}` in a template becomes a
//! PowerShell single-quoted literal. Triple braces (`{{{value}}}`) are used only for text
//! hybridtls itself generates (numbers, hex digests, validated server names), in comments.

use base64::Engine;
use handlebars::Handlebars;
use serde::Serialize;

use super::ps;
use crate::error::Error;
use crate::model::{Certificate, InputFile};
use crate::plan::ServerPlan;

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
struct InputLine {
    sha256: String,
    /// The file's name when it is plain enough to show inside a comment; comments are not
    /// literals, so an unusual name (a `#>` would end the help block) is not shown.
    label: String,
}

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
}

/// What both scripts of a plan are rendered from.
#[derive(Serialize)]
struct ScriptModel {
    tool_version: &'static str,
    evaluated_at: String,
    fingerprint: String,
    server: String,
    edge: bool,
    inputs: Vec<InputLine>,
    certificates: Vec<CertificateLine>,
    imports: Vec<ImportLine>,
    removals: Vec<CertificateLine>,
    changes: Vec<ChangeLine>,
    restarts: Vec<&'static str>,
    restart_list: String,
    /// The numbered steps for the help text, made only of fixed words and thumbprints.
    steps: Vec<String>,
}

/// Text that may stand in a comment: letters, digits and a few path characters only.
fn comment_safe(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ' '))
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

fn numbered(steps: Vec<String>) -> Vec<String> {
    steps
        .into_iter()
        .enumerate()
        .map(|(i, step)| format!("{}. {step}", i + 1))
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
    numbered(steps)
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
    steps.push(format!(
        "Restart {} once, after all changes.",
        plan.restarts.join(", ")
    ));
    steps.push("Read every change back and check it.".to_owned());
    numbered(steps)
}

fn certificate_line(certificate: &Certificate) -> CertificateLine {
    CertificateLine {
        thumbprint: certificate.thumbprint.clone(),
        subject: certificate.subject.clone(),
    }
}

fn model(plan: &ServerPlan, inputs: &[InputFile], evaluated_at: &str, fingerprint: &str) -> ScriptModel {
    let changes: Vec<ChangeLine> = plan
        .changes
        .iter()
        .map(|change| ChangeLine {
            identity: change.identity.clone(),
            before: change
                .before
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            after: change.after.to_string(),
            thumbprint: change.certificate.thumbprint.clone(),
        })
        .collect();
    ScriptModel {
        tool_version: env!("CARGO_PKG_VERSION"),
        evaluated_at: evaluated_at.to_owned(),
        fingerprint: fingerprint.to_owned(),
        server: plan.server.clone(),
        edge: plan.edge,
        inputs: inputs
            .iter()
            .map(|input| {
                let name = input.path.rsplit('/').next().unwrap_or(&input.path);
                InputLine {
                    sha256: input.sha256.clone(),
                    label: if comment_safe(name) {
                        name.to_owned()
                    } else {
                        "(name not shown: unusual characters)".to_owned()
                    },
                }
            })
            .collect(),
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
        steps: remediation_steps(plan),
        changes,
        restart_list: plan.restarts.join(", "),
        restarts: plan.restarts.clone(),
    }
}

/// The remediation script for one server's plan.
pub fn remediation(
    plan: &ServerPlan,
    inputs: &[InputFile],
    evaluated_at: &str,
    fingerprint: &str,
) -> Result<String, Error> {
    let model = model(plan, inputs, evaluated_at, fingerprint);
    let script = render(REMEDIATE_TEMPLATE, &model)?;
    Ok(format!("\u{FEFF}{script}"))
}

/// The script that undoes [`remediation`] of the same plan (same fingerprint).
pub fn rollback(
    plan: &ServerPlan,
    inputs: &[InputFile],
    evaluated_at: &str,
    fingerprint: &str,
) -> Result<String, Error> {
    let mut model = model(plan, inputs, evaluated_at, fingerprint);
    model.steps = rollback_steps(plan);
    let script = render(ROLLBACK_TEMPLATE, &model)?;
    Ok(format!("\u{FEFF}{script}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_safe_refuses_comment_terminators() {
        assert!(comment_safe("receive-connectors.json"));
        assert!(!comment_safe("evil#>.json"));
        assert!(!comment_safe("a\nb.json"));
    }

    #[test]
    fn double_braces_quote_and_template_newlines_become_crlf() {
        #[derive(Serialize)]
        struct Model {
            value: &'static str,
        }
        let out = render("$x = {{value}}\n", &Model { value: "it's\nhere" }).unwrap();
        assert_eq!(out, "$x = 'it''s\nhere'\r\n");
    }
}
