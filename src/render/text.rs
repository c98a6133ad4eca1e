//! Human output of `hybridtls plan` and `hybridtls show`: inputs, assumptions, the certificate
//! each connector presents, findings with evidence, and a terraform-style diff and summary, all
//! rendered from the plan document.

use std::fmt::Write;

use crate::diagnose::rules::Severity;
use crate::render::json::{ActionKind, MissingKind, NotCheckedDoc, PlanDocument, ServerDoc};

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

/// The whole human plan, rendered from the plan document (so `hybridtls show` prints it again
/// from a saved `plan.json`); `notes` (files written, scripts skipped) come just before the
/// summary line, which is always last, as in terraform.
pub fn plan(document: &PlanDocument, notes: &[String], style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!("hybridtls plan, evaluated at {}", document.evaluated_at))
    );
    let _ = writeln!(out, "\nInputs:");
    for input in &document.inputs {
        let encoding = input
            .encoding
            .as_deref()
            .map(|e| format!(", {e}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}: {}, {} object(s){encoding}",
            input.path, input.recognised_as, input.objects
        );
    }
    for skipped in &document.skipped {
        let _ = writeln!(out, "  skipped {}: {}", skipped.path, skipped.reason);
    }
    if !document.settings.is_default() {
        let _ = writeln!(out, "\nSettings: {}", document.settings.describe());
    }
    if !document.log_failures.is_empty() {
        let _ = writeln!(out, "\nTLS failures in the protocol logs:");
        for failure in &document.log_failures {
            let _ = writeln!(
                out,
                "  {}: TLS negotiation failed with error {} ({} time(s), last at {}; `hybridtls explain {}`)",
                failure.connector, failure.failure, failure.count, failure.last, failure.failure
            );
        }
    }
    match &document.hybrid_fqdn {
        Some(names) => {
            let _ = writeln!(
                out,
                "\nHybrid FQDN: {} ({})",
                names.names.join(", "),
                names.origin
            );
            if !names.given {
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
    for server in &document.servers {
        write_server(&mut out, document, server, style);
    }
    write_not_checked(&mut out, &document.not_checked, style);
    let summary = &document.summary.0;
    if !summary.has_work() && !document.ignored_findings.is_empty() {
        let _ = writeln!(
            out,
            "\nNo changes, apart from {} ignored finding(s) listed above.",
            document.ignored_findings.len()
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

fn write_server(out: &mut String, document: &PlanDocument, server: &ServerDoc, style: Style) {
    let fqdn = server
        .fqdn
        .as_deref()
        .map(|f| format!(" ({f})"))
        .unwrap_or_default();
    let _ = writeln!(out, "\n{}", style.bold(&format!("Server {}{fqdn}", server.name)));
    if server.connectors.is_empty() {
        let _ = writeln!(out, "  No receive connectors in the inputs.");
    } else {
        let _ = writeln!(out, "  Receive connectors and the certificate each presents:");
        for connector in &server.connectors {
            let marker = if connector.hybrid { " (hybrid)" } else { "" };
            let _ = writeln!(out, "    {}{marker}", connector.identity);
            let _ = writeln!(out, "      {}", connector.lookup);
            let _ = writeln!(out, "      presents: {}", connector.presents);
            if let Some(logged) = &connector.logged {
                let _ = writeln!(
                    out,
                    "      protocol log: sent {} at {} ({}, {})",
                    logged.thumbprint.as_deref().unwrap_or("?"),
                    logged.time,
                    logged.file,
                    logged.position
                );
            }
        }
    }
    if !server.send_connectors.is_empty() {
        let _ = writeln!(
            out,
            "  Send connectors to Exchange Online from this server and the certificate each presents:"
        );
        for connector in &server.send_connectors {
            let _ = writeln!(out, "    {}", connector.identity);
            let _ = writeln!(out, "      {}", connector.lookup);
            let _ = writeln!(out, "      presents: {}", connector.presents);
        }
    }
    if let Some(target) = &server.hybrid_certificate {
        let _ = writeln!(out, "  Certificate for hybrid mail flow: {}", target.description);
        let _ = writeln!(
            out,
            "    (of the certificates that qualify: SMTP enabled first, then latest NotAfter, latest NotBefore, lowest thumbprint)"
        );
    }
    for finding in document.findings.iter().filter(|f| f.server == server.name) {
        let head = format!("{}[{}]", finding.severity.label(), finding.rule);
        let head = match finding.severity {
            Severity::Error => style.red(&head),
            Severity::Warning => style.yellow(&head),
        };
        let _ = writeln!(out, "\n  {head}: {}", finding.title);
        let _ = writeln!(out, "    --> {}", finding.object);
        let _ = writeln!(out, "    {}", finding.message);
        for evidence in &finding.evidence {
            let _ = writeln!(
                out,
                "    evidence: {}, {}: {} = {}",
                evidence.file, evidence.position, evidence.field, evidence.value
            );
        }
        if finding.fix.automatic {
            let _ = writeln!(out, "    fix: {}", finding.fix.description);
        } else {
            let _ = writeln!(out, "    fix (manual): {}", finding.fix.description);
            if let Some(command) = &finding.fix.command {
                let _ = writeln!(out, "      PS> {command}");
            }
        }
    }
    for finding in document
        .ignored_findings
        .iter()
        .filter(|f| f.server == server.name)
    {
        let _ = writeln!(
            out,
            "\n  ignored[{}]: {}\n    --> {}\n    {}",
            finding.rule, finding.title, finding.object, finding.message
        );
    }
    write_changes(out, document, &server.name, style);
}

/// Where a not-checked check applies: the server, and the object when it is not the server.
pub fn not_checked_place(entry: &NotCheckedDoc) -> String {
    match entry.server.as_deref() {
        Some(server) if server == entry.object => server.to_owned(),
        Some(server) => format!("{server}, {}", entry.object),
        None => format!("organisation, {}", entry.object),
    }
}

/// What the check did not do and why: `did not run: the ... listing was not given`.
pub fn not_checked_reason(entry: &NotCheckedDoc) -> String {
    match entry.missing_kind {
        MissingKind::Export | MissingKind::Record => format!("did not run: {}", entry.reason),
        MissingKind::Property => format!("not judged: {}", entry.reason),
    }
}

/// The checks that could not be judged, each with what it lacks and the command that exports
/// it, so that the plan is never read as an all-clear.
fn write_not_checked(out: &mut String, entries: &[NotCheckedDoc], style: Style) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        style.bold("Not checked (nothing is said of these until the data is given):")
    );
    for entry in entries {
        let head = style.yellow(&format!("{} ({})", entry.rule, entry.name));
        let _ = writeln!(
            out,
            "  {head}, {}: {}",
            not_checked_place(entry),
            not_checked_reason(entry)
        );
        let _ = writeln!(out, "    {}:", entry.how);
        let _ = writeln!(out, "      PS> {}", entry.command);
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

/// The sign the text plan marks an action with.
pub fn sign(kind: ActionKind) -> char {
    match kind {
        ActionKind::Step(kind) => kind.sign,
        ActionKind::RestartService => '~',
        ActionKind::Manual => '!',
    }
}

fn write_changes(out: &mut String, document: &PlanDocument, server: &str, style: Style) {
    let actions: Vec<_> = document.actions_of(server).collect();
    if actions.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n  Changes, in execution order:");
    for action in actions {
        let mark = sign(action.kind).to_string();
        let mark = match sign(action.kind) {
            '+' => style.green(&mark),
            '-' => style.red(&mark),
            _ => style.yellow(&mark),
        };
        let _ = writeln!(out, "  {mark} {}", action.description);
        if let Some(diff) = &action.diff {
            write_painted_diff(out, diff, style);
        }
        if let Some(command) = action.parameter("command") {
            let _ = writeln!(out, "      PS> {command}");
        }
    }
}
