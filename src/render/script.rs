//! The remediation script: a typed model fed to `templates/remediate.ps1.hbs`.
//!
//! Handlebars' escape function is [`ps::literal`], so every `{{value}}` in a template becomes a
//! PowerShell single-quoted literal. Triple braces (`{{{comments.value}}}`) render only
//! [`CommentText`], text hybridtls composed itself for the help comment.

use handlebars::Handlebars;
use serde::Serialize;

use super::ps::{self, CommentText};
use crate::error::Error;
use crate::model::{Certificate, InputFile};
use crate::plan::ServerPlan;
use crate::steps::{Direction, Step, StepKind, KINDS};

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

/// The steps of one kind: the template partials of the kind render `rows`.
#[derive(Serialize)]
struct StepGroup {
    remediate: String,
    rollback: String,
    rows: Vec<serde_json::Value>,
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

/// The plan's data tables, shared by both scripts. A template renders the partials of a kind of
/// step only when the plan has steps of it, so a script holds only the steps its plan makes.
#[derive(Serialize)]
struct PlanTables {
    server: String,
    fingerprint: String,
    edge: bool,
    /// The cmdlets the script calls beyond the core ones, checked by the preflight.
    cmdlets: Vec<&'static str>,
    certificates: Vec<CertificateLine>,
    /// What port 25 should present after STARTTLS once the plan is carried out.
    receive_certificates: Vec<CertificateLine>,
    /// In the order the script carries them out.
    steps: Vec<StepGroup>,
    /// Whether a step sets a connector's TlsCertificateName (see [`StepKind`]).
    sets_certificate_name: bool,
    /// Whether a step may complete a planned certificate's chain (see [`StepKind`]).
    completes_chains: bool,
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
    let step_partials = KINDS.iter().flat_map(|kind| {
        [
            (
                partial_name(kind, Direction::Remediation),
                kind.remediate_template,
            ),
            (partial_name(kind, Direction::Rollback), kind.rollback_template),
        ]
    });
    let shared = PARTIALS.iter().map(|(name, text)| ((*name).to_owned(), *text));
    for (name, partial) in shared.chain(step_partials) {
        handlebars
            .register_partial(&name, crlf(partial))
            .map_err(|e| Error::Template(e.to_string()))?;
    }
    handlebars
        .register_template_string("script", crlf(template))
        .map_err(|e| Error::Template(e.to_string()))?;
    handlebars
        .render("script", model)
        .map_err(|e| Error::Template(e.to_string()))
}

/// The name a kind's partial is registered under: `steps/<kind>/remediate`.
fn partial_name(kind: &StepKind, direction: Direction) -> String {
    let script = match direction {
        Direction::Remediation => "remediate",
        Direction::Rollback => "rollback",
    };
    format!("steps/{}/{script}", kind.name)
}

fn numbered(steps: Vec<String>) -> Vec<CommentText> {
    steps
        .into_iter()
        .enumerate()
        .map(|(i, step)| CommentText::new(format!("{}. {step}", i + 1)))
        .collect()
}

/// The plan's steps in the order `direction` takes them: a rollback undoes by each kind's
/// `undo_order`.
fn ordered(plan: &ServerPlan, direction: Direction) -> Vec<&dyn Step> {
    let mut steps: Vec<&dyn Step> = plan.steps.iter().map(|planned| planned.step.as_ref()).collect();
    if direction == Direction::Rollback {
        steps.sort_by_key(|step| step.kind().undo_order);
    }
    steps
}

/// The numbered lines of the help comment: each step, then the restart and the check.
fn help_steps(plan: &ServerPlan, direction: Direction) -> Vec<String> {
    let mut steps: Vec<String> = ordered(plan, direction)
        .into_iter()
        .map(|step| step.help(direction))
        .collect();
    steps.push(format!(
        "Restart {} once, after all changes.",
        plan.restarts.join(", ")
    ));
    steps.push("Read every change back and check it.".to_owned());
    steps
}

/// The cmdlets a script calls that a plain Windows PowerShell may lack: the Exchange cmdlets,
/// and the PKI module's certificate cmdlets. The remediation's preflight and verification ask
/// Exchange for each certificate's Status, whatever the steps.
fn required_cmdlets(plan: &ServerPlan, direction: Direction) -> Vec<&'static str> {
    let mut cmdlets: Vec<&'static str> = Vec::new();
    if direction == Direction::Remediation {
        cmdlets.push("Get-ExchangeCertificate");
    }
    for step in ordered(plan, direction) {
        let kind = step.kind();
        let needed = match direction {
            Direction::Remediation => kind.remediate_cmdlets,
            Direction::Rollback => kind.rollback_cmdlets,
        };
        for cmdlet in needed {
            if !cmdlets.contains(cmdlet) {
                cmdlets.push(cmdlet);
            }
        }
    }
    cmdlets
}

/// The steps grouped by kind, each group once, in the order `direction` takes them.
fn step_groups(plan: &ServerPlan, direction: Direction) -> Vec<StepGroup> {
    let mut groups: Vec<(&StepKind, StepGroup)> = Vec::new();
    for step in ordered(plan, direction) {
        let kind = step.kind();
        let row = step.row(direction);
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, group)) => group.rows.push(row),
            None => groups.push((
                kind,
                StepGroup {
                    remediate: partial_name(kind, Direction::Remediation),
                    rollback: partial_name(kind, Direction::Rollback),
                    rows: vec![row],
                },
            )),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
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
    let comments = Comments {
        server: CommentText::new(plan.server.as_str()),
        tool_version: CommentText::new(env!("CARGO_PKG_VERSION")),
        evaluated_at: CommentText::new(evaluated_at),
        fingerprint: CommentText::new(fingerprint),
        steps: numbered(help_steps(plan, direction)),
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
    let kinds = || plan.steps.iter().map(|planned| planned.step.kind());
    let tables = PlanTables {
        server: plan.server.clone(),
        fingerprint: fingerprint.to_owned(),
        edge: plan.edge,
        cmdlets: required_cmdlets(plan, direction),
        certificates: plan.keep.iter().map(certificate_line).collect(),
        receive_certificates: plan.receive_certificates.iter().map(certificate_line).collect(),
        steps: step_groups(plan, direction),
        sets_certificate_name: kinds().any(|kind| kind.sets_certificate_name),
        completes_chains: kinds().any(|kind| kind.completes_chains),
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
            .chain(PARTIALS.iter().map(|(_, text)| *text))
            .chain(
                KINDS
                    .iter()
                    .flat_map(|kind| [kind.remediate_template, kind.rollback_template]),
            );
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
