//! Human output of `hybridtls plan`: inputs, assumptions, the certificate each connector
//! presents, findings with evidence, and a terraform-style diff and summary.

use std::fmt::Write;

use time::OffsetDateTime;

use crate::diagnose::needs::{Missing, NotJudged};
use crate::diagnose::select::Selection;
use crate::diagnose::{date, ConnectorReport, Diagnosis, Fix, SendReport};
use crate::model::Inventory;
use crate::plan::{summarize, ServerPlan};
use crate::render::ps;

/// ANSI colours, only when writing to a terminal and NO_COLOR is not set.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
    fn green(self, text: &str) -> String {
        self.paint("32", text)
    }
    fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }
    fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}

fn write_send_connector(out: &mut String, report: &SendReport, now: OffsetDateTime) {
    let how = match &report.selection {
        Selection::Named { name, .. } => format!("TlsCertificateName {name}"),
        Selection::ByFqdn { name: Some(fqdn), .. } => {
            format!("TlsCertificateName null, search by Fqdn {fqdn}")
        }
        Selection::ByFqdn { name: None, .. } => "TlsCertificateName null, Fqdn null".to_owned(),
    };
    // The send side has no STARTTLS to withhold: without a certificate it sends without one.
    let presents = match &report.selection {
        Selection::Named { valid, .. } if valid.is_empty() => {
            "nothing: no valid certificate with that issuer and subject here (454 4.7.5)".to_owned()
        }
        Selection::ByFqdn { name: None, .. } => "nothing: there is no name to search by".to_owned(),
        Selection::ByFqdn { chosen: None, .. } => {
            "nothing: no certificate with a private key covers the Fqdn".to_owned()
        }
        selection => selection.describe(now),
    };
    let _ = writeln!(out, "    {}", report.connector.name);
    let _ = writeln!(out, "      {how}");
    let _ = writeln!(out, "      presents: {presents}");
}

fn write_connector(out: &mut String, report: &ConnectorReport, now: OffsetDateTime) {
    let connector = report.connector;
    let marker = if report.hybrid { " (hybrid)" } else { "" };
    let how = match &report.selection {
        Selection::Named { name, .. } => format!("TlsCertificateName {name}"),
        Selection::ByFqdn { name, .. } => format!(
            "TlsCertificateName null, search by FQDN {}",
            name.as_deref().unwrap_or("(unknown)")
        ),
    };
    let _ = writeln!(out, "    {}{marker}", connector.identity());
    let _ = writeln!(out, "      {how}");
    let _ = writeln!(out, "      presents: {}", report.selection.describe(now));
    if let Some(observed) = report.observed {
        let _ = writeln!(
            out,
            "      protocol log: sent {} at {} ({}, {})",
            observed.thumbprint.as_deref().unwrap_or("?"),
            observed.time,
            observed.source.file,
            observed.source.position
        );
    }
}

/// The whole human report; `notes` (files written, scripts skipped) come just before the
/// summary line, which is always last, as in terraform.
pub fn plan(
    inventory: &Inventory,
    diagnosis: &Diagnosis,
    plans: &[ServerPlan],
    notes: &[String],
    style: Style,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("hybridtls plan, evaluated at {}", date(diagnosis.now)))
    );
    let _ = writeln!(out, "\nInputs:");
    for input in &inventory.inputs {
        let encoding = input.encoding.map(|e| format!(", {e}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}: {}, {} object(s){encoding}",
            input.path,
            input.kind.describe(),
            input.records
        );
    }
    for (path, reason) in &inventory.skipped {
        let _ = writeln!(out, "  skipped {path}: {reason}");
    }
    if !diagnosis.settings.is_default() {
        let _ = writeln!(out, "\nSettings: {}", diagnosis.settings.describe());
    }
    let failures: Vec<_> = inventory
        .sightings
        .iter()
        .filter(|s| s.failure.is_some())
        .collect();
    if !failures.is_empty() {
        let _ = writeln!(out, "\nTLS failures in the protocol logs:");
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for failure in &failures {
            let key = (
                failure.connector.as_str(),
                failure.failure.as_deref().unwrap_or(""),
            );
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let same: Vec<_> = failures
                .iter()
                .filter(|f| (f.connector.as_str(), f.failure.as_deref().unwrap_or("")) == key)
                .collect();
            let last = same.iter().map(|f| f.time.as_str()).max().unwrap_or("");
            let _ = writeln!(
                out,
                "  {}: TLS negotiation failed with error {} ({} time(s), last at {last}; `hybridtls explain {}`)",
                key.0,
                key.1,
                same.len(),
                key.1
            );
        }
    }
    match &diagnosis.hybrid_names {
        Some(names) => {
            let _ = writeln!(
                out,
                "\nHybrid FQDN: {} ({})",
                names.names.join(", "),
                names.origin
            );
            if !names.origin.starts_with("given") {
                let _ = writeln!(
                    out,
                    "  This was assumed from the inputs; pass --fqdn to state it."
                );
            }
        }
        None => {
            let _ = writeln!(out, "\nHybrid FQDN: unknown; pass --fqdn.");
        }
    }
    for (server, server_plan) in diagnosis.servers.iter().zip(plans) {
        let fqdn = server
            .server
            .fqdn
            .as_deref()
            .map(|f| format!(" ({f})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "\n{}",
            style.bold(&format!("Server {}{fqdn}", server.server.name))
        );
        if server.connectors.is_empty() {
            let _ = writeln!(out, "  No receive connectors in the inputs.");
        } else {
            let _ = writeln!(out, "  Receive connectors and the certificate each presents:");
            for report in &server.connectors {
                write_connector(&mut out, report, diagnosis.now);
            }
        }
        if !server.send_connectors.is_empty() {
            let _ = writeln!(
                out,
                "  Send connectors to Exchange Online from this server and the certificate each presents:"
            );
            for report in &server.send_connectors {
                write_send_connector(&mut out, report, diagnosis.now);
            }
        }
        if let Some(target) = server.target {
            let _ = writeln!(
                out,
                "  Certificate for hybrid mail flow: {}",
                target.line(diagnosis.now)
            );
            let _ = writeln!(
                out,
                "    (of the certificates that qualify: SMTP enabled first, then latest NotAfter, latest NotBefore, lowest thumbprint)"
            );
        }
        for finding in &server.findings {
            let severity = finding.rule.severity.label();
            let head = format!("{severity}[{}]", finding.rule.code);
            let head = if severity == "error" {
                style.red(&head)
            } else {
                style.yellow(&head)
            };
            let _ = writeln!(out, "\n  {head}: {}", finding.rule.title);
            let _ = writeln!(out, "    --> {}", finding.object);
            let _ = writeln!(out, "    {}", finding.message);
            for evidence in &finding.evidence {
                let _ = writeln!(
                    out,
                    "    evidence: {}, {}: {} = {}",
                    evidence.file, evidence.position, evidence.field, evidence.value
                );
            }
            match finding.remedy.fix() {
                Fix::Scripted(step) => {
                    let _ = writeln!(out, "    fix: {}", step.fix());
                }
                Fix::ByHand { instruction, command } => {
                    let _ = writeln!(out, "    fix (manual): {instruction}");
                    if let Some(command) = command {
                        let _ = writeln!(out, "      PS> {}", ps::command(&command));
                    }
                }
            }
        }
        for finding in &server.ignored {
            let _ = writeln!(
                out,
                "\n  ignored[{}]: {}\n    --> {}\n    {}",
                finding.rule.code, finding.rule.title, finding.object, finding.message
            );
        }
        write_changes(&mut out, server_plan, diagnosis.now, style);
    }
    write_not_judged(&mut out, &diagnosis.not_judged, style);
    let summary = summarize(diagnosis, plans);
    let ignored: usize = diagnosis.servers.iter().map(|s| s.ignored.len()).sum();
    if !summary.has_work() && ignored > 0 {
        let _ = writeln!(
            out,
            "\nNo changes, apart from {ignored} ignored finding(s) listed above."
        );
    } else if !summary.has_work() {
        let _ = writeln!(
            out,
            "\nNo changes. The TLS certificate setup matches what hybrid mail flow needs."
        );
    } else if summary.actions() == 0 {
        let _ = writeln!(
            out,
            "\nNo changes in what was checked, but {} check(s) could not be judged (see \"Not checked\"): give what they need and plan again.",
            summary.not_checked
        );
    }
    for note in notes {
        let _ = writeln!(out, "{note}");
    }
    let _ = writeln!(out, "\n{}", style.bold(&summary.to_string()));
    out
}

/// Where a not-judged check applies: the server, and the object when it is not the server.
pub fn not_judged_place(entry: &NotJudged) -> String {
    match entry.server.as_deref() {
        Some(server) if server == entry.object => server.to_owned(),
        Some(server) => format!("{server}, {}", entry.object),
        None => format!("organisation, {}", entry.object),
    }
}

/// What the check did not do and why: `did not run: the ... listing was not given`.
pub fn not_judged_reason(entry: &NotJudged) -> String {
    match entry.missing {
        Missing::Export(_) => format!("did not run: {}", entry.reason()),
        Missing::Property { .. } => format!("not judged: {}", entry.reason()),
    }
}

/// The checks that could not be judged, each with what it lacks and the command that exports
/// it, so that the plan is never read as an all-clear.
fn write_not_judged(out: &mut String, entries: &[NotJudged], style: Style) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        style.bold("Not checked (nothing is said of these until the data is given):")
    );
    for entry in entries {
        let head = style.yellow(&format!("{} ({})", entry.rule.code, entry.rule.name));
        let _ = writeln!(
            out,
            "  {head}, {}: {}",
            not_judged_place(entry),
            not_judged_reason(entry)
        );
        let _ = writeln!(out, "    {}:", entry.missing.how());
        let _ = writeln!(out, "      PS> {}", entry.missing.export().command());
    }
}

/// A diff under a change line: additions green, removals red.
fn write_painted_diff(out: &mut String, diff: &str, style: Style) {
    for line in diff.lines() {
        let painted = match line.chars().next() {
            Some('+') if !line.starts_with("+++") => style.green(line),
            Some('-') if !line.starts_with("---") => style.red(line),
            _ => line.to_owned(),
        };
        let _ = writeln!(out, "      {painted}");
    }
}

fn write_changes(out: &mut String, plan: &ServerPlan, now: OffsetDateTime, style: Style) {
    if plan.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  Changes, in execution order:");
    for planned in &plan.steps {
        let change = planned.step.change(now);
        let sign = change.sign.to_string();
        let sign = match change.sign {
            '+' => style.green(&sign),
            '-' => style.red(&sign),
            _ => style.yellow(&sign),
        };
        let _ = writeln!(out, "  {sign} {}", change.head);
        if let Some(diff) = &change.diff {
            write_painted_diff(out, diff, style);
        }
    }
    for service in &plan.restarts {
        let _ = writeln!(
            out,
            "  {} restart service {service} (once, after the changes)",
            style.yellow("~")
        );
    }
    for action in &plan.manual {
        let _ = writeln!(
            out,
            "  {} manual: {} ({})",
            style.yellow("!"),
            action.instruction,
            action.object
        );
        if let Some(command) = &action.command {
            let _ = writeln!(out, "      PS> {}", ps::command(command));
        }
    }
}
