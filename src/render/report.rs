//! `report.md`: the change-board document. Plain Markdown that renders on GitHub and in ticket
//! systems, readable without running anything. Values from the inputs are escaped for Markdown.

use std::fmt::Write;

use crate::diagnose::rules;
use crate::render::json::{restarts, ActionDoc, ActionKind, PlanDocument};
use crate::render::text::{not_checked_place, not_checked_reason};

/// Escapes text for Markdown prose and table cells. A TlsCertificateName value in it
/// (`<I>issuer<S>subject`) becomes a code span, so that it reads as it is when the Markdown is
/// pasted into a plain-text ticket field, instead of `\<I\>...` (issue 22 point 4).
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((start, end)) = certificate_name_span(rest) {
        out.push_str(&escape(&rest[..start]));
        let value = &rest[start..end];
        // A pipe would end a table cell even inside a code span.
        if value.contains(['|', '\r', '\n']) {
            out.push_str(&escape(value));
        } else {
            out.push_str(&code_span(value));
        }
        rest = &rest[end..];
    }
    out.push_str(&escape(rest));
    out
}

/// Backslash escapes for everything Markdown would read as markup.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Where the first TlsCertificateName value (`<I>issuer<S>subject` or `<S>subject`) in `text`
/// starts and ends: the subject runs while `, KEY=` continues its distinguished name, and ends
/// before what follows a value in a sentence (`. `, ` (`, `;`, `)`, `, ` and a word).
fn certificate_name_span(text: &str) -> Option<(usize, usize)> {
    let start = match (text.find("<I>"), text.find("<S>")) {
        (Some(i), Some(s)) => i.min(s),
        (i, s) => i.or(s)?,
    };
    let subject = start + text[start..].find("<S>")? + 3;
    let bytes = text.as_bytes();
    let key_at = |at: usize| {
        let key: &str = &text[at..];
        let name_len = key
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'.')
            .count();
        name_len > 0 && key.as_bytes().get(name_len) == Some(&b'=')
    };
    if !key_at(subject) {
        return None;
    }
    let mut at = subject;
    let mut quoted = false;
    while at < bytes.len() {
        let c = bytes[at];
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted {
            let next = bytes.get(at + 1).copied();
            let ends = match c {
                b',' => !(next == Some(b' ') && key_at(at + 2)),
                b'.' => next.is_none_or(|n| n == b' '),
                b' ' => next == Some(b'('),
                b';' | b')' | b'\r' | b'\n' => true,
                _ => false,
            };
            if ends {
                break;
            }
        }
        at += 1;
    }
    Some((start, at))
}

/// `text` with its first letter in upper case, to start a line.
pub(crate) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A fenced block whose fence is longer than any backtick run inside it.
fn fenced(language: &str, body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}{language}\n{}\n{fence}\n", body.trim_end())
}

/// An inline code span whose backtick fence is longer than any backtick run inside it, so a
/// PowerShell command (whose escape character is the backtick) is shown exactly.
fn code_span(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// The first bullet (or sentence block) of a documentation section, its wrapped lines joined.
pub(crate) fn first_item(section: &str) -> String {
    let mut lines = section.lines();
    let mut item = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("- ")
        .trim()
        .to_owned();
    for line in lines {
        if line.trim().is_empty() || line.starts_with("- ") {
            break;
        }
        item.push(' ');
        item.push_str(line.trim());
    }
    item
}

/// The change report, rendered from the plan document.
pub fn report(document: &PlanDocument) -> String {
    let mut out = String::new();
    let summary = &document.summary.0;
    let _ = writeln!(
        out,
        "# Change request: Exchange hybrid mail flow TLS certificate\n"
    );
    let _ = writeln!(
        out,
        "Generated by hybridtls {} from exports evaluated at {}. {summary}\n",
        document.tool.version, document.evaluated_at
    );
    if let Some(names) = &document.hybrid_fqdn {
        let _ = writeln!(
            out,
            "Hybrid FQDN: {} ({}).\n",
            md(&names.names.join(", ")),
            md(&names.origin)
        );
    }

    if !document.settings.is_default() {
        let _ = writeln!(out, "Settings: {}.\n", md(&document.settings.describe()));
    }

    let _ = writeln!(out, "## Summary\n");
    let findings = &document.findings;
    let not_checked = &document.not_checked;
    let ignored = &document.ignored_findings;
    if let Some(summary) = document.nothing_broken() {
        let _ = writeln!(out, "{summary}\n");
    } else {
        let _ = writeln!(out, "**What is broken:**\n");
        let broken = document.broken_rules();
        for (code, title, count) in &broken {
            let _ = writeln!(out, "- {code} {title} ({count})");
        }
        let _ = writeln!(out, "\n**What users see:**\n");
        for (code, _, _) in &broken {
            if let Some(symptoms) = rules::find(code).and_then(|rule| rule.section("Symptoms")) {
                let _ = writeln!(out, "- {code}: {}", first_item(symptoms));
            }
        }
        let _ = writeln!(out, "\n**What will change, on which servers:**\n");
        let mut restarts_per_server: Vec<String> = Vec::new();
        for (server, counts, services) in document.changes_by_server() {
            let _ = writeln!(out, "- {}: {counts}", md(server));
            if !services.is_empty() {
                restarts_per_server.push(format!("{} on {}", services.join(" and "), md(server)));
            }
        }
        let _ = writeln!(
            out,
            "\n**Expected impact:** {}\n",
            if restarts_per_server.is_empty() {
                "none; no script is run.".to_owned()
            } else {
                format!(
                    "a transport service restart of a few seconds per server ({}); mail queues during the restart and is retried.",
                    restarts_per_server.join("; ")
                )
            }
        );
    }

    if !not_checked.is_empty() {
        let _ = writeln!(out, "## Not checked\n");
        let _ = writeln!(
            out,
            "Nothing is said of these checks, neither that they pass nor that they fail, until what they need is given.\n"
        );
        for entry in not_checked {
            let title = rules::find(&entry.rule).map_or("", |rule| rule.title);
            let _ = writeln!(
                out,
                "- {} {}, {}: {}. To get it, {}: {}",
                entry.rule,
                md(title),
                md(&not_checked_place(entry)),
                md(&not_checked_reason(entry)),
                md(&entry.how),
                code_span(&entry.command)
            );
        }
        out.push('\n');
    }

    if !ignored.is_empty() {
        let _ = writeln!(out, "## Ignored\n");
        let _ = writeln!(
            out,
            "Found, but ignored by the settings: nothing is planned for these.\n"
        );
        for finding in ignored {
            let _ = writeln!(
                out,
                "- {} {}, server {}, {}: {}",
                finding.rule,
                md(&finding.title),
                md(&finding.server),
                md(&finding.object),
                md(&finding.message)
            );
        }
        out.push('\n');
    }

    if !findings.is_empty() {
        let _ = writeln!(out, "## Findings\n");
        for finding in findings {
            let _ = writeln!(
                out,
                "### {} {} {}\n",
                finding.severity.label(),
                finding.rule,
                finding.title
            );
            let _ = writeln!(out, "Server {}, {}.\n", md(&finding.server), md(&finding.object));
            let _ = writeln!(out, "{}\n", md(&finding.message));
            if !finding.evidence.is_empty() {
                let _ = writeln!(
                    out,
                    "| File | Position | Field | Value |\n| --- | --- | --- | --- |"
                );
                for e in &finding.evidence {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {} | {} |",
                        md(&e.file),
                        md(&e.position.to_string()),
                        md(&e.field),
                        md(&e.value)
                    );
                }
                out.push('\n');
            }
            let fix = match (&finding.fix.automatic, &finding.fix.command) {
                (true, _) => md(&finding.fix.description),
                (false, Some(command)) => {
                    format!("manual: {}: {}", md(&finding.fix.description), code_span(command))
                }
                (false, None) => format!("manual: {}", md(&finding.fix.description)),
            };
            let _ = writeln!(
                out,
                "Fix: {fix}. Details: `hybridtls explain {}`.\n",
                finding.rule
            );
        }
    }

    for server in &document.servers {
        let actions: Vec<&ActionDoc> = document.actions_of(&server.name).collect();
        if actions.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## Server {}\n", md(&server.name));
        if let Some(fingerprint) = &server.plan_fingerprint {
            let _ = writeln!(
                out,
                "Scripts: `remediate.ps1` and `rollback.ps1`, plan fingerprint `{fingerprint}`.\n"
            );
        }
        let diffs: Vec<(&str, &str)> = actions
            .iter()
            .filter_map(|a| Some((a.description.as_str(), a.diff.as_deref()?)))
            .collect();
        if !diffs.is_empty() {
            let _ = writeln!(out, "### Diff\n");
            for (description, diff) in diffs {
                let _ = writeln!(out, "{}:\n", md(&capitalised(description)));
                out.push_str(&fenced("diff", diff));
                out.push('\n');
            }
        }
        let _ = writeln!(out, "### Steps in order\n");
        let mut step = 0;
        let mut line = |out: &mut String, text: String| {
            step += 1;
            let _ = writeln!(out, "{step}. {text}");
        };
        line(&mut out, "Preflight (changes nothing): Exchange cmdlets present, right server, target certificates present with private key and valid, connectors and certificates still as planned. Any failure stops the script.".to_owned());
        for sentence in actions.iter().filter_map(|a| a.sentence.as_deref()) {
            line(&mut out, md(sentence));
        }
        let restarts = restarts(&actions);
        if !restarts.is_empty() {
            line(&mut out, format!("Restart {} once.", restarts.join(", ")));
            line(
                &mut out,
                "Read every change back and compare with the plan.".to_owned(),
            );
        }
        for manual in actions.iter().filter(|a| a.kind == ActionKind::Manual) {
            let instruction = manual.parameter("instruction").unwrap_or_default();
            let command = manual
                .parameter("command")
                .map(|command| format!(": {}", code_span(command)))
                .unwrap_or_default();
            line(&mut out, format!("Manual: {}{command}", md(instruction)));
        }
        out.push('\n');
    }

    if summary.actions() > summary.manual {
        write_risks(&mut out, document);
        out.push_str(ROLLBACK);
        write_verification(&mut out, document);
    }
    out
}

/// Whether the plan takes a step the risk row is about (a row about no kind is about the run).
pub(crate) fn risk_taken(risk: &Risk, document: &PlanDocument) -> bool {
    risk.kinds.is_empty()
        || document
            .actions
            .iter()
            .any(|action| risk.kinds.contains(&action.kind.name()))
}

/// The command that reads back what a connector change set, for the verification.
pub(crate) fn read_back_command(action: &ActionDoc) -> Option<String> {
    // A kind that sets a TlsCertificateName reads its connector with its first cmdlet.
    let cmdlet = match action.kind {
        ActionKind::Step(kind) if kind.sets_certificate_name => kind.remediate_cmdlets.first()?,
        _ => return None,
    };
    Some(format!(
        "{cmdlet} -Identity {} | Format-List TlsCertificateName",
        crate::render::ps::literal(&action.target)
    ))
}

/// How to verify: each change of this plan read back with its planned value, then what the
/// logs and message trace show.
fn write_verification(out: &mut String, document: &PlanDocument) {
    out.push_str("## How to verify afterwards\n\n");
    for action in &document.actions {
        if let Some(command) = read_back_command(action) {
            let _ = writeln!(
                out,
                "- On {}: {} shows {}.",
                md(&action.server),
                code_span(&command),
                code_span(action.after.as_deref().unwrap_or_default())
            );
        }
    }
    out.push_str(VERIFY_LOGS);
}

/// A row of the risk table: the kinds of action it is about (none: the run as a whole).
pub(crate) struct Risk {
    pub kinds: &'static [&'static str],
    pub step: &'static str,
    pub risk: &'static str,
    pub guard: &'static str,
}

/// The risks of each kind of step and how the scripts guard against them.
pub(crate) const RISKS: &[Risk] = &[
    Risk {
        kinds: &[],
        step: "All",
        risk: "Running on the wrong server or after the state changed",
        guard: "The preflight checks the computer name, each connector's current TlsCertificateName, each certificate's presence and private key, and stops with \"state changed since the plan was made; export again\" before anything changes",
    },
    Risk {
        kinds: &["import_certificate"],
        step: "Import intermediate",
        risk: "Importing the wrong certificate",
        guard: "The certificate is embedded in the script and its thumbprint is checked before and after the import",
    },
    Risk {
        kinds: &["remove_certificate"],
        step: "Remove certificate",
        risk: "Deleting a certificate that is still needed",
        guard: "Exact full thumbprint only (never a prefix or wildcard), only when it still has no private key and is not a certificate a connector will use; exported to the backup folder first",
    },
    Risk {
        kinds: &["set_receive_connector", "set_send_connector"],
        step: "Connector change",
        risk: "A wrong value stops hybrid mail",
        guard: "The new value names a certificate the preflight found with its private key; each connector is exported with Export-Clixml first; -WhatIf shows every change",
    },
    Risk {
        kinds: &["restart_service"],
        step: "Restart",
        risk: "A few seconds without transport on the server",
        guard: "One restart per service after all changes; mail is queued and retried",
    },
];

/// The risk table, with the rows of the steps this plan takes only.
fn write_risks(out: &mut String, document: &PlanDocument) {
    out.push_str("## Risk and how each step is guarded\n\n| Step | Risk | Guard |\n| --- | --- | --- |\n");
    for risk in RISKS.iter().filter(|risk| risk_taken(risk, document)) {
        let _ = writeln!(out, "| {} | {} | {} |", risk.step, risk.risk, risk.guard);
    }
    out.push('\n');
}

const ROLLBACK: &str = "## Rollback

Run `rollback.ps1` from the same folder (same plan fingerprint). It uses the backup that `remediate.ps1` wrote, checks that the server is in the state `remediate.ps1` left, re-imports removed certificates, restores each connector's previous TlsCertificateName, restarts the same services and reads everything back. Imported intermediates stay unless `-RemoveImportedIntermediates` is given.

";

/// What the logs and message trace show once the plan is carried out.
const VERIFY_LOGS: &str = "- In the FrontEnd SmtpReceive protocol log (`TransportRoles\\Logs\\FrontEnd\\ProtocolLog\\SmtpReceive`, Edge: `TransportRoles\\Logs\\Edge\\ProtocolLog`), a session from Exchange Online shows `Sending certificate` followed by the planned certificate's subject and thumbprint, then `TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded`, and `TlsDomainCapabilities='AcceptCloudServicesMail'; Status='Success'`.
- No `TLS negotiation failed with error NoCredentials` in the SmtpSend protocol log.
- In Exchange Online message trace, a test message from a cloud mailbox to an on-premises mailbox is delivered, without `450 4.7.320` or `451 5.7.3` deferrals; messages to Exchange Online leave the on-premises queue without `550 5.7.64 TenantAttribution`.
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_item_joins_wrapped_lines_and_stops_at_the_next_bullet() {
        let section =
            "- SmtpSend log: `TLS negotiation failed`, and a\n  thumbprint row.\n- Queue: 451 4.4.395";
        assert_eq!(
            first_item(section),
            "SmtpSend log: `TLS negotiation failed`, and a thumbprint row."
        );
        assert_eq!(first_item("One line.\nwrapped.\n\nNext."), "One line. wrapped.");
    }

    #[test]
    fn markdown_specials_are_escaped_and_fences_outgrow_the_content() {
        assert_eq!(md("a|b <I>*x*\nc"), "a\\|b \\<I\\>\\*x\\* c");
        // A TlsCertificateName value is a code span, what follows it prose again.
        assert_eq!(
            md("set TlsCertificateName to <I>CN=CA 1, O=\"Trust, Inc.\", C=US<S>CN=mail.contoso.com, O=Contoso_Ltd, C=US, once for the organisation."),
            "set TlsCertificateName to ` <I>CN=CA 1, O=\"Trust, Inc.\", C=US<S>CN=mail.contoso.com, O=Contoso_Ltd, C=US `, once for the organisation."
        );
        assert_eq!(md("to <S>CN=mail.contoso.com."), "to ` <S>CN=mail.contoso.com `.");
        assert_eq!(md("<S>CN=a (b) <I>x"), "` <S>CN=a ` (b) \\<I\\>x");
        assert!(fenced("diff", "x ``` y").starts_with("````diff\n"));
    }
}
