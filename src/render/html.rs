//! `report.html`: the change report for a change board, rendered from the plan document (so
//! `hybridtls show DIR --format html` renders it again byte for byte). What `report.md` says,
//! and a picture of hybrid mail flow before and after the plan as inline SVG.
//!
//! Self-contained: inline CSS, no script, no link, no font, no image, and a Content Security
//! Policy that forbids loading anything, so the file shows the same on a machine without a
//! network and cannot call out. Every value from the inputs passes through [`esc`].

use std::fmt::Write;

use crate::diagnose::rules::{self, Severity};
use crate::model::InputKind;
use crate::render::json::{
    restarts, ActionDoc, ActionKind, ConnectorDoc, FindingDoc, PlanDocument, SendConnectorDoc, ServerDoc,
};
use crate::render::report::{capitalised, first_item, read_back_command, risk_taken, RISKS};
use crate::render::text::{not_checked_place, not_checked_reason};
use crate::render::wrap::fold_line;

/// Escapes text for HTML and SVG, in element content and in quoted attribute values alike.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: 'Segoe UI', Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.45; color: #1b1b1b; margin: 0 auto; max-width: 1240px; padding: 16px 24px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 21px; border-bottom: 2px solid #d0d7de; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 17px; margin: 20px 0 6px; }
code, pre { font-family: Consolas, 'DejaVu Sans Mono', monospace; font-size: 13px; }
code { background: #f3f4f6; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #f3f4f6; }
.meta { color: #555; }
.summary-line { font-weight: 600; font-size: 16px; }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 13px; font-weight: 600; color: #fff; }
.badge.error { background: #c62828; }
.badge.warning { background: #b26a00; }
.finding { border-left: 4px solid #c62828; padding: 2px 0 2px 12px; margin: 14px 0; }
.finding.warning { border-left-color: #b26a00; }
.diff .add { color: #116329; background: #dafbe1; display: block; }
.diff .del { color: #82071e; background: #ffebe9; display: block; }
.diff .hunk { color: #555; display: block; }
.legend span { display: inline-block; margin-right: 18px; }
.swatch { display: inline-block; width: 14px; height: 14px; border: 2px solid; vertical-align: -3px; margin-right: 4px; border-radius: 3px; }
figure { margin: 10px 0 24px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: auto; border: 1px solid #d0d7de; background: #fff; }
svg text { font-family: 'Segoe UI', Arial, Helvetica, sans-serif; font-size: 13px; fill: #1b1b1b; }
svg .title { font-weight: 700; }
svg .column { font-size: 16px; font-weight: 700; fill: #333; }
svg .server { fill: #f6f8fa; stroke: #8c959f; stroke-width: 1; }
svg .ok { fill: #eef3fb; stroke: #4a6fa5; stroke-width: 1.5; }
svg .fault { fill: #fdecea; stroke: #c62828; stroke-width: 3; }
svg .pending { fill: #fff4e0; stroke: #b26a00; stroke-width: 3; }
svg .changed { fill: #e8f5e9; stroke: #2e7d32; stroke-width: 3; }
svg .unknown { fill: #f3f4f6; stroke: #8c959f; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .flow { stroke: #57606a; stroke-width: 1.5; fill: none; }
svg .flow.fault { stroke: #c62828; stroke-width: 2.5; stroke-dasharray: 8 5; fill: none; }
svg .flow.pending { stroke: #b26a00; stroke-width: 2.5; stroke-dasharray: 8 5; fill: none; }
svg .note { fill: #444; font-style: italic; }
svg .mark { font-weight: 700; }
svg .mark-fault { fill: #c62828; }
svg .mark-pending { fill: #b26a00; }
svg .mark-changed { fill: #2e7d32; }
";

/// The change report, rendered from the plan document.
pub fn report(document: &PlanDocument) -> String {
    let mut out = String::new();
    let summary = &document.summary.0;
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>Change request: Exchange hybrid mail flow TLS certificate</title>\n");
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<h1>Change request: Exchange hybrid mail flow TLS certificate</h1>\n");
    let _ = writeln!(
        out,
        "<p class=\"meta\">Generated by hybridtls {} from exports evaluated at {}.</p>",
        esc(&document.tool.version),
        esc(&document.evaluated_at)
    );
    let _ = writeln!(out, "<p class=\"summary-line\">{}</p>", esc(&summary.to_string()));
    if let Some(names) = &document.hybrid_fqdn {
        let _ = writeln!(
            out,
            "<p>Hybrid FQDN: <code>{}</code> ({}{}).</p>",
            esc(&names.names.join(", ")),
            esc(&names.origin),
            if names.given {
                ""
            } else {
                "; assumed from the inputs"
            }
        );
    }

    if !document.settings.is_default() {
        let _ = writeln!(out, "<p>Settings: {}.</p>", esc(&document.settings.describe()));
    }

    write_summary(&mut out, document);
    write_flow(&mut out, document);
    write_not_checked(&mut out, document);
    write_ignored(&mut out, document);
    write_findings(&mut out, document);
    for server in &document.servers {
        write_server_changes(&mut out, document, server);
    }
    if summary.actions() > summary.manual {
        write_risks(&mut out, document);
        out.push_str(ROLLBACK);
        write_verification(&mut out, document);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn write_summary(out: &mut String, document: &PlanDocument) {
    out.push_str("<h2 id=\"summary\">Summary</h2>\n");
    if let Some(summary) = document.nothing_broken() {
        let _ = writeln!(out, "<p>{}</p>", esc(&summary));
        return;
    }
    out.push_str("<h3>What is broken</h3>\n<ul>\n");
    let broken = document.broken_rules();
    for (code, title, count) in &broken {
        let _ = writeln!(out, "<li>{} {} ({count})</li>", esc(code), esc(title));
    }
    out.push_str("</ul>\n<h3>What users see</h3>\n<ul>\n");
    for (code, _, _) in &broken {
        if let Some(symptoms) = rules::find(code).and_then(|rule| rule.section("Symptoms")) {
            let _ = writeln!(
                out,
                "<li>{}: {}</li>",
                esc(code),
                inline_code(&first_item(symptoms))
            );
        }
    }
    out.push_str("</ul>\n<h3>What will change, on which servers</h3>\n<ul>\n");
    let mut restarts_per_server = Vec::new();
    for (server, counts, services) in document.changes_by_server() {
        let _ = writeln!(out, "<li>{}: {counts}</li>", esc(server));
        if !services.is_empty() {
            restarts_per_server.push(format!("{} on {}", esc(&services.join(" and ")), esc(server)));
        }
    }
    out.push_str("</ul>\n");
    let _ = writeln!(
        out,
        "<p><strong>Expected impact:</strong> {}</p>",
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

/// Documentation text with its `code` spans as `<code>`, everything escaped.
fn inline_code(text: &str) -> String {
    text.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", esc(part))
            } else {
                esc(part)
            }
        })
        .collect()
}

fn write_not_checked(out: &mut String, document: &PlanDocument) {
    if document.not_checked.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"not-checked\">Not checked</h2>\n<p>Nothing is said of these checks, neither that they pass nor that they fail, until what they need is given.</p>\n<ul>\n");
    for entry in &document.not_checked {
        let title = rules::find(&entry.rule).map_or("", |rule| rule.title);
        let _ = writeln!(
            out,
            "<li>{} {}, {}: {}. To get it, {}:<pre>{}</pre></li>",
            esc(&entry.rule),
            esc(title),
            esc(&not_checked_place(entry)),
            esc(&not_checked_reason(entry)),
            inline_code(&entry.how),
            esc(&entry.command)
        );
    }
    out.push_str("</ul>\n");
}

/// The findings of the rules the settings ignore, as report.md lists them: found, not planned.
fn write_ignored(out: &mut String, document: &PlanDocument) {
    if document.ignored_findings.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"ignored\">Ignored</h2>\n<p>Found, but ignored by the settings: nothing is planned for these.</p>\n<ul>\n");
    for finding in &document.ignored_findings {
        let _ = writeln!(
            out,
            "<li>{} {}, server {}, <code>{}</code>: {}</li>",
            esc(&finding.rule),
            esc(&finding.title),
            esc(&finding.server),
            esc(&finding.object),
            esc(&finding.message)
        );
    }
    out.push_str("</ul>\n");
}

fn write_findings(out: &mut String, document: &PlanDocument) {
    if document.findings.is_empty() {
        return;
    }
    out.push_str("<h2 id=\"findings\">Findings</h2>\n");
    for finding in &document.findings {
        let severity = finding.severity.label();
        let _ = writeln!(
            out,
            "<div class=\"finding {severity}\" data-rule=\"{}\">\n<h3><span class=\"badge {severity}\">{severity}</span> {} {}</h3>",
            esc(&finding.rule),
            esc(&finding.rule),
            esc(&finding.title)
        );
        let _ = writeln!(
            out,
            "<p>Server {}, <code>{}</code>.</p>\n<p>{}</p>",
            esc(&finding.server),
            esc(&finding.object),
            esc(&finding.message)
        );
        if !finding.evidence.is_empty() {
            out.push_str("<table>\n<tr><th>File</th><th>Position</th><th>Field</th><th>Value</th></tr>\n");
            for e in &finding.evidence {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                    esc(&e.file),
                    esc(&e.position),
                    esc(&e.field),
                    esc(&e.value)
                );
            }
            out.push_str("</table>\n");
        }
        let fix = if finding.fix.automatic {
            esc(&finding.fix.description)
        } else {
            format!("manual: {}", esc(&finding.fix.description))
        };
        let _ = writeln!(out, "<p>Fix: {fix}.</p>");
        if let (false, Some(command)) = (finding.fix.automatic, &finding.fix.command) {
            let _ = writeln!(out, "<pre>{}</pre>", esc(command));
        }
        let _ = writeln!(
            out,
            "<p class=\"meta\">Details: <code>hybridtls explain {}</code>.</p>\n</div>",
            esc(&finding.rule)
        );
    }
}

fn write_server_changes(out: &mut String, document: &PlanDocument, server: &ServerDoc) {
    let actions: Vec<&ActionDoc> = document.actions_of(&server.name).collect();
    if actions.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h2>Server {}</h2>", esc(&server.name));
    if let Some(fingerprint) = &server.plan_fingerprint {
        let _ = writeln!(
            out,
            "<p>Scripts: <code>remediate.ps1</code> and <code>rollback.ps1</code>, plan fingerprint <code>{}</code>.</p>",
            esc(fingerprint)
        );
    }
    let diffs: Vec<(&str, &str)> = actions
        .iter()
        .filter_map(|a| Some((a.description.as_str(), a.diff.as_deref()?)))
        .collect();
    if !diffs.is_empty() {
        out.push_str("<h3>Diff</h3>\n");
        for (description, diff) in diffs {
            let _ = writeln!(
                out,
                "<p>{}:</p>\n<pre class=\"diff\">",
                esc(&capitalised(description))
            );
            for line in diff.lines() {
                let class = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => "add",
                    Some('-') if !line.starts_with("---") => "del",
                    _ => "hunk",
                };
                let _ = write!(out, "<span class=\"{class}\">{}</span>", esc(line));
            }
            out.push_str("</pre>\n");
        }
    }
    out.push_str("<h3>Steps in order</h3>\n<ol>\n<li>Preflight (changes nothing): Exchange cmdlets present, right server, target certificates present with private key and valid, connectors and certificates still as planned. Any failure stops the script.</li>\n");
    for sentence in actions.iter().filter_map(|a| a.sentence.as_deref()) {
        let _ = writeln!(out, "<li>{}</li>", esc(sentence));
    }
    let restarts = restarts(&actions);
    if !restarts.is_empty() {
        let _ = writeln!(out, "<li>Restart {} once.</li>", esc(&restarts.join(", ")));
        out.push_str("<li>Read every change back and compare with the plan.</li>\n");
    }
    for manual in actions.iter().filter(|a| a.kind == ActionKind::Manual) {
        let _ = write!(
            out,
            "<li>Manual: {}",
            esc(manual.parameter("instruction").unwrap_or_default())
        );
        if let Some(command) = manual.parameter("command") {
            let _ = write!(out, "<pre>{}</pre>", esc(command));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n");
}

/// The risks of the kinds of step this plan takes, and of the run as a whole.
fn write_risks(out: &mut String, document: &PlanDocument) {
    out.push_str("<h2 id=\"risks\">Risk and how each step is guarded</h2>\n<table>\n<tr><th>Step</th><th>Risk</th><th>Guard</th></tr>\n");
    for risk in RISKS {
        if risk_taken(risk, document) {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(risk.step),
                esc(risk.risk),
                esc(risk.guard)
            );
        }
    }
    out.push_str("</table>\n");
}

const ROLLBACK: &str = "<h2 id=\"rollback\">Rollback</h2>
<p>Run <code>rollback.ps1</code> from the same folder (same plan fingerprint). It uses the backup that <code>remediate.ps1</code> wrote, checks that the server is in the state <code>remediate.ps1</code> left, re-imports removed certificates, restores each connector's previous TlsCertificateName, restarts the same services and reads everything back. Imported intermediates stay unless <code>-RemoveImportedIntermediates</code> is given.</p>
";

/// How to verify: the planned values of this plan's changes, then what the logs and message
/// trace show.
fn write_verification(out: &mut String, document: &PlanDocument) {
    out.push_str("<h2 id=\"verify\">How to verify afterwards</h2>\n<ul>\n");
    for action in &document.actions {
        let Some(check) = read_back_command(action) else {
            continue;
        };
        let _ = writeln!(
            out,
            "<li>On {}: <code>{}</code> shows <code>{}</code>.</li>",
            esc(&action.server),
            esc(&check),
            esc(action.after.as_deref().unwrap_or_default())
        );
    }
    out.push_str(VERIFY_LOGS);
    out.push_str("</ul>\n");
}

const VERIFY_LOGS: &str = "<li>In the FrontEnd SmtpReceive protocol log (<code>TransportRoles\\Logs\\FrontEnd\\ProtocolLog\\SmtpReceive</code>, Edge: <code>TransportRoles\\Logs\\Edge\\ProtocolLog</code>), a session from Exchange Online shows <code>Sending certificate</code> followed by the planned certificate's subject and thumbprint, then <code>TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded</code>, and <code>TlsDomainCapabilities='AcceptCloudServicesMail'; Status='Success'</code>.</li>
<li>No <code>TLS negotiation failed with error NoCredentials</code> in the SmtpSend protocol log.</li>
<li>In Exchange Online message trace, a test message from a cloud mailbox to an on-premises mailbox is delivered, without <code>450 4.7.320</code> or <code>451 5.7.3</code> deferrals; messages to Exchange Online leave the on-premises queue without <code>550 5.7.64 TenantAttribution</code>.</li>
";

// ---- The picture of hybrid mail flow ----

/// How a connector stands in one picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ok,
    /// A finding names it (before), or one the plan's scripts do not resolve (after).
    Fault,
    /// A finding only a person can resolve, after the scripts ran.
    Pending,
    /// The plan changes it, or what it presents.
    Changed,
    /// Its side was not exported: nothing is said of it.
    Unknown,
}

impl State {
    fn class(self) -> &'static str {
        match self {
            State::Ok => "ok",
            State::Fault => "fault",
            State::Pending => "pending",
            State::Changed => "changed",
            State::Unknown => "unknown",
        }
    }
}

/// A box of the picture: one connector.
struct Node {
    /// `receive`, `send`, `exo-outbound`, `exo-inbound`, or `exo-unknown` and `send-unknown` for
    /// a side not exported.
    kind: &'static str,
    identity: String,
    lines: Vec<String>,
    /// Marked lines: the findings, what the plan does.
    marks: Vec<(State, String)>,
    state: State,
    /// Whether mail flows through it in hybrid mail flow (an arrow starts or ends at it).
    flows: bool,
}

/// Whether `finding` names the connector `identity`: as its object, or in its message, where
/// connectors are written in quotes or, for receive connectors, as `SERVER\Name`.
fn names(finding: &FindingDoc, identity: &str, receive: bool) -> bool {
    finding.object == identity
        || finding.message.contains(&format!("{identity:?}"))
        || (receive && finding.message.contains(identity))
}

/// Whether `finding` names any connector of the document.
fn names_a_connector(document: &PlanDocument, finding: &FindingDoc) -> bool {
    let exo = &document.exchange_online;
    document.servers.iter().any(|server| {
        server
            .connectors
            .iter()
            .any(|c| names(finding, &c.identity, true))
            || server
                .send_connectors
                .iter()
                .any(|c| names(finding, &c.identity, false))
    }) || exo
        .outbound_connectors
        .iter()
        .flatten()
        .any(|c| names(finding, &c.name, false))
        || exo
            .inbound_connectors
            .iter()
            .flatten()
            .any(|c| names(finding, &c.name, false))
}

/// Whether `finding` concerns a connector: it names it or, naming no connector at all (the
/// chain of a certificate, HT010), it names one of the `certificates` the connector presents in
/// hybrid mail flow, by thumbprint.
fn concerns(
    document: &PlanDocument,
    finding: &FindingDoc,
    identity: &str,
    receive: bool,
    certificates: &[&str],
) -> bool {
    names(finding, identity, receive)
        || (!names_a_connector(document, finding)
            && certificates.iter().any(|thumbprint| {
                finding.object.ends_with(&format!("\\{thumbprint}"))
                    || finding.message.contains(thumbprint)
                    || finding.evidence.iter().any(|e| e.value == *thumbprint)
            }))
}

/// The action of `server`'s plan that resolves `finding` by script, if any: the one whose
/// target is the finding's object, else the first that resolves its rule there.
fn resolving<'d>(document: &'d PlanDocument, finding: &FindingDoc) -> Option<&'d ActionDoc> {
    if !finding.fix.automatic {
        return None;
    }
    let candidates = || {
        document
            .actions
            .iter()
            .filter(|a| a.automatic && a.server == finding.server && a.resolves.contains(&finding.rule))
    };
    candidates()
        .find(|a| a.target == finding.object)
        .or_else(|| candidates().next())
}

/// The findings that name a connector, as marks, and its state, before or after the plan.
fn judge(document: &PlanDocument, named: &[&FindingDoc], after: bool) -> (State, Vec<(State, String)>) {
    let mut state = State::Ok;
    let mut marks = Vec::new();
    for finding in named {
        let head = format!(
            "{} {}: {}",
            severity_mark(finding.severity),
            finding.rule,
            finding.title
        );
        let (mark, text) = match (after, resolving(document, finding)) {
            (false, _) => (State::Fault, head),
            (true, Some(action)) => (
                State::Changed,
                format!("{} resolved by step {}", finding.rule, action.order),
            ),
            (true, None) if !finding.fix.automatic => (
                State::Pending,
                format!("{} left to a person: {}", finding.rule, finding.title),
            ),
            (true, None) => (State::Fault, format!("{head} (not resolved by this plan)")),
        };
        state = worse(state, mark);
        marks.push((mark, text));
    }
    (state, marks)
}

fn severity_mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "\u{2716}",
        Severity::Warning => "\u{26a0}",
    }
}

/// The state that should catch the eye: a fault over a pending action over a change.
fn worse(a: State, b: State) -> State {
    let rank = |s: State| match s {
        State::Fault => 4,
        State::Pending => 3,
        State::Changed => 2,
        State::Unknown => 1,
        State::Ok => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// The certificate `thumbprint` in words: the server's hybrid certificate's description when it
/// is that one.
fn certificate_words(server: &ServerDoc, thumbprint: &str) -> String {
    match &server.hybrid_certificate {
        Some(c) if c.thumbprint == thumbprint => c.description.clone(),
        _ => thumbprint.to_owned(),
    }
}

fn receive_node(document: &PlanDocument, server: &ServerDoc, connector: &ConnectorDoc, after: bool) -> Node {
    let presented: Vec<&str> = connector
        .presented_certificate
        .as_deref()
        .filter(|_| connector.hybrid)
        .into_iter()
        .collect();
    let named: Vec<&FindingDoc> = document
        .findings
        .iter()
        .filter(|f| concerns(document, f, &connector.identity, true, &presented))
        .collect();
    let (mut state, mut marks) = judge(document, &named, after);
    let change = after
        .then(|| connector_change(document, "set_receive_connector", &connector.identity))
        .flatten();
    let lines = match change {
        Some(action) => {
            state = worse(state, State::Changed);
            marks.push((State::Changed, format!("changed by step {}", action.order)));
            changed_lines(server, action)
        }
        None => {
            let mut lines = vec![
                connector.lookup.clone(),
                format!("presents: {}", connector.presents),
            ];
            if let (false, Some(logged)) = (after, &connector.logged) {
                lines.push(format!(
                    "protocol log: sent {} at {}",
                    logged.thumbprint.as_deref().unwrap_or("?"),
                    logged.time
                ));
            }
            lines
        }
    };
    Node {
        kind: "receive",
        identity: connector.identity.clone(),
        lines,
        marks,
        state,
        flows: connector.hybrid,
    }
}

/// The step of kind `kind_name` that changes the connector `identity`, if the plan has one.
fn connector_change<'d>(
    document: &'d PlanDocument,
    kind_name: &str,
    identity: &str,
) -> Option<&'d ActionDoc> {
    document
        .actions
        .iter()
        .find(|a| matches!(a.kind, ActionKind::Step(kind) if kind.name == kind_name) && a.target == identity)
}

/// A connector's lines once `action` set its TlsCertificateName.
fn changed_lines(server: &ServerDoc, action: &ActionDoc) -> Vec<String> {
    vec![
        format!(
            "TlsCertificateName {}",
            action.after.as_deref().unwrap_or_default()
        ),
        format!(
            "presents: {}",
            certificate_words(
                server,
                action.parameter("certificate_thumbprint").unwrap_or_default()
            )
        ),
    ]
}

fn send_node(document: &PlanDocument, server: &ServerDoc, connector: &SendConnectorDoc, after: bool) -> Node {
    let possible: Vec<&str> = connector
        .possible_certificates
        .iter()
        .map(String::as_str)
        .collect();
    let named: Vec<&FindingDoc> = document
        .findings
        .iter()
        .filter(|f| concerns(document, f, &connector.identity, false, &possible))
        .collect();
    let (mut state, mut marks) = judge(document, &named, after);
    let mut lines = vec![
        connector.lookup.clone(),
        format!("presents: {}", connector.presents),
    ];
    if after {
        let set = connector_change(document, "set_send_connector", &connector.identity);
        let removals: Vec<&ActionDoc> = document
            .actions
            .iter()
            .filter(|a| {
                matches!(a.kind, ActionKind::Step(kind) if kind.name == "remove_certificate")
                    && a.server == server.name
                    && a.parameter("thumbprint").is_some_and(|t| possible.contains(&t))
            })
            .collect();
        if let Some(action) = set {
            state = worse(state, State::Changed);
            marks.push((State::Changed, format!("changed by step {}", action.order)));
            lines = changed_lines(server, action);
        } else if !removals.is_empty() {
            state = worse(state, State::Changed);
            for removal in removals {
                marks.push((
                    State::Changed,
                    format!(
                        "step {} removes {}, which it may present today",
                        removal.order,
                        removal.parameter("thumbprint").unwrap_or_default()
                    ),
                ));
            }
            lines = vec![
                connector.lookup.clone(),
                "presents: what the same lookup finds among the certificates left".to_owned(),
            ];
        }
    }
    Node {
        kind: "send",
        identity: connector.identity.clone(),
        lines,
        marks,
        state,
        flows: true,
    }
}

/// Exchange Online's connectors of one direction, or a box saying that side was not exported.
fn exchange_online_nodes(document: &PlanDocument, outbound: bool, after: bool) -> Vec<Node> {
    let node = |kind, name: &str, lines: Vec<String>, flows: bool| {
        let named: Vec<&FindingDoc> = document
            .findings
            .iter()
            .filter(|f| names(f, name, false))
            .collect();
        let (state, marks) = judge(document, &named, after);
        Node {
            kind,
            identity: name.to_owned(),
            lines,
            marks,
            state,
            flows,
        }
    };
    let or_null = |value: &Option<String>| value.clone().unwrap_or_else(|| "null".to_owned());
    let enabled = |value: Option<bool>| if value == Some(false) { ", disabled" } else { "" };
    let on_premises = |kind: &Option<String>| kind.as_deref() == Some("OnPremises");
    let exo = &document.exchange_online;
    let nodes: Option<Vec<Node>> = if outbound {
        exo.outbound_connectors.as_ref().map(|connectors| {
            connectors
                .iter()
                .map(|c| {
                    let mut lines = vec![
                        format!(
                            "{}{}, TlsSettings {}",
                            or_null(&c.connector_type),
                            enabled(c.enabled),
                            or_null(&c.tls_settings)
                        ),
                        format!("TlsDomain {}", or_null(&c.tls_domain)),
                    ];
                    if !c.smart_hosts.is_empty() {
                        lines.push(format!("smart hosts {}", c.smart_hosts.join(", ")));
                    }
                    node(
                        "exo-outbound",
                        &c.name,
                        lines,
                        on_premises(&c.connector_type) && c.enabled != Some(false),
                    )
                })
                .collect()
        })
    } else {
        exo.inbound_connectors.as_ref().map(|connectors| {
            connectors
                .iter()
                .map(|c| {
                    let lines = vec![
                        format!("{}{}", or_null(&c.connector_type), enabled(c.enabled)),
                        format!(
                            "TlsSenderCertificateName {}",
                            or_null(&c.tls_sender_certificate_name)
                        ),
                    ];
                    // One without TlsSenderCertificateName attributes by IP address instead.
                    node(
                        "exo-inbound",
                        &c.name,
                        lines,
                        on_premises(&c.connector_type)
                            && c.enabled != Some(false)
                            && c.tls_sender_certificate_name.is_some(),
                    )
                })
                .collect()
        })
    };
    let (cmdlet, said) = if outbound {
        (
            "Get-OutboundConnector",
            "which name Exchange Online validates the on-premises certificate against",
        )
    } else {
        (
            "Get-InboundConnector",
            "which certificate name Exchange Online attributes on-premises mail by",
        )
    };
    let (mut nodes, missing) = match nodes {
        None => (Vec::new(), format!("{cmdlet} not given: {said} is not known")),
        Some(nodes) => (nodes, format!("{cmdlet} holds no enabled OnPremises connector")),
    };
    // The mail still flows: to or from a box that says what is not known.
    if !nodes.iter().any(|n| n.flows) {
        nodes.push(Node {
            kind: "exo-unknown",
            identity: "Exchange Online".to_owned(),
            lines: vec![missing],
            marks: Vec::new(),
            state: State::Unknown,
            flows: true,
        });
    }
    nodes
}

const WIDTH: usize = 1200;
const BOX: usize = 470;
const LEFT: usize = 10;
const RIGHT: usize = WIDTH - BOX - 10;
const LINE: usize = 17;
/// Characters per line in a box: 13px text (thumbprints and distinguished names, wider than
/// prose) in a 470px box with its margins.
const CHARS: usize = 56;

/// A node laid out: its box's top and height.
struct Placed {
    node: Node,
    x: usize,
    y: usize,
    height: usize,
}

fn place(node: Node, x: usize, y: usize) -> Placed {
    let lines: usize = std::iter::once(&node.identity)
        .chain(&node.lines)
        .chain(node.marks.iter().map(|(_, text)| text))
        .map(|line| fold_line(line, CHARS).len())
        .sum();
    Placed {
        node,
        x,
        y,
        height: lines * LINE + 14,
    }
}

fn write_node(out: &mut String, placed: &Placed) {
    let node = &placed.node;
    let _ = writeln!(
        out,
        "<g class=\"connector\" data-connector=\"{}\" data-identity=\"{}\" data-state=\"{}\">",
        node.kind,
        esc(&node.identity),
        node.state.class()
    );
    let _ = writeln!(
        out,
        "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{BOX}\" height=\"{}\" rx=\"6\"/>",
        node.state.class(),
        placed.x,
        placed.y,
        placed.height
    );
    let mut y = placed.y + 20;
    let x = placed.x + 10;
    let mut text = |out: &mut String, class: &str, line: &str| {
        for part in fold_line(line, CHARS) {
            let _ = writeln!(
                out,
                "<text x=\"{x}\" y=\"{y}\"{class}>{}</text>",
                esc(part.trim_start())
            );
            y += LINE;
        }
    };
    text(out, " class=\"title\"", &node.identity);
    for line in &node.lines {
        text(out, "", line);
    }
    for (state, mark) in &node.marks {
        text(out, &format!(" class=\"mark mark-{}\"", state.class()), mark);
    }
    out.push_str("</g>\n");
}

/// An arrow from the right edge of `from` to the left edge of `to`, or the other way round.
fn write_arrow(out: &mut String, left: &Placed, right: &Placed, to_right: bool) {
    let class = match worse(left.node.state, right.node.state) {
        State::Fault => " fault",
        State::Pending => " pending",
        _ => "",
    };
    let (x1, y1) = (left.x + BOX, left.y + left.height / 2);
    let (x2, y2) = (right.x, right.y + right.height / 2);
    let ((x1, y1), (x2, y2)) = if to_right {
        ((x1, y1), (x2 - 2, y2))
    } else {
        ((x2, y2), (x1 + 2, y1))
    };
    let middle = (x1 + x2) / 2;
    let _ = writeln!(
        out,
        "<path class=\"flow{class}\" d=\"M {x1} {y1} C {middle} {y1}, {middle} {y2}, {x2} {y2}\" marker-end=\"url(#head{})\"/>",
        class.replace(' ', "-")
    );
}

/// The picture of hybrid mail flow, before or after the plan: Exchange Online's connectors on
/// the left, each server's connectors on the right; mail from Exchange Online to each hybrid
/// receive connector, and from each send connector to Exchange Online.
fn diagram(document: &PlanDocument, after: bool) -> String {
    let mut right: Vec<Placed> = Vec::new();
    let mut servers: Vec<(String, usize, usize)> = Vec::new();
    let mut y = 44;
    let mut first_send: Option<usize> = None;
    for server in &document.servers {
        let top = y;
        y += 26;
        let mut nodes: Vec<Node> = server
            .connectors
            .iter()
            .map(|c| receive_node(document, server, c, after))
            .filter(|n| n.flows || n.state != State::Ok)
            .collect();
        let receive_count = nodes.len();
        nodes.extend(
            server
                .send_connectors
                .iter()
                .map(|c| send_node(document, server, c, after)),
        );
        for (index, node) in nodes.into_iter().enumerate() {
            if index == receive_count {
                first_send.get_or_insert(y);
            }
            let placed = place(node, RIGHT, y);
            y += placed.height + 12;
            right.push(placed);
        }
        let title = match &server.fqdn {
            Some(fqdn) => format!("Server {} ({fqdn})", server.name),
            None => format!("Server {}", server.name),
        };
        servers.push((title, top, y - top));
        y += 16;
    }
    // Mail to Exchange Online still flows: from a box that says what is not known.
    if !right.iter().any(|p| p.node.kind == "send") {
        let given = document
            .inputs
            .iter()
            .any(|input| input.recognised_as == InputKind::SendConnectors.describe());
        let said = if given {
            "none of the Get-SendConnector export sends to Exchange Online from these servers"
        } else {
            "Get-SendConnector not given: which certificate on-premises presents to Exchange Online is not known"
        };
        first_send.get_or_insert(y);
        let placed = place(
            Node {
                kind: "send-unknown",
                identity: "Send connectors to Exchange Online".to_owned(),
                lines: vec![said.to_owned()],
                marks: Vec::new(),
                state: State::Unknown,
                flows: true,
            },
            RIGHT,
            y,
        );
        y += placed.height + 12;
        right.push(placed);
    }
    let mut left: Vec<Placed> = Vec::new();
    let mut ly = 70;
    for node in exchange_online_nodes(document, true, after) {
        let placed = place(node, LEFT, ly);
        ly += placed.height + 12;
        left.push(placed);
    }
    let outbound_count = left.len();
    ly = ly.max(first_send.unwrap_or(0)) + 20;
    for node in exchange_online_nodes(document, false, after) {
        let placed = place(node, LEFT, ly);
        ly += placed.height + 12;
        left.push(placed);
    }
    let height = y.max(ly) + 10;
    let which = if after { "after" } else { "before" };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" data-diagram=\"{which}\" role=\"img\" aria-label=\"Hybrid mail flow {which} the plan\">"
    );
    out.push_str("<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#57606a\"/></marker><marker id=\"head-fault\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#c62828\"/></marker><marker id=\"head-pending\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#b26a00\"/></marker></defs>\n");
    let _ = writeln!(
        out,
        "<text class=\"column\" x=\"{LEFT}\" y=\"24\">Exchange Online</text>"
    );
    let _ = writeln!(
        out,
        "<text class=\"column\" x=\"{RIGHT}\" y=\"24\">On-premises</text>"
    );
    let _ = writeln!(
        out,
        "<text x=\"{LEFT}\" y=\"52\" class=\"note\">Outbound connectors (mail to on-premises)</text>"
    );
    if let Some(first) = left.get(outbound_count) {
        let _ = writeln!(
            out,
            "<text x=\"{LEFT}\" y=\"{}\" class=\"note\">Inbound connectors (mail from on-premises)</text>",
            first.y - 8
        );
    }
    for (title, top, height) in &servers {
        let _ = writeln!(
            out,
            "<rect class=\"server\" x=\"{}\" y=\"{top}\" width=\"{}\" height=\"{height}\" rx=\"8\"/><text class=\"title\" x=\"{}\" y=\"{}\">{}</text>",
            RIGHT - 8,
            BOX + 16,
            RIGHT,
            top + 18,
            esc(title)
        );
    }
    let (outbound, inbound) = left.split_at(outbound_count);
    for target in right.iter().filter(|p| p.node.kind == "receive" && p.node.flows) {
        for source in outbound.iter().filter(|p| p.node.flows) {
            write_arrow(&mut out, source, target, true);
        }
    }
    for source in right
        .iter()
        .filter(|p| p.node.kind == "send" || p.node.kind == "send-unknown")
    {
        for target in inbound.iter().filter(|p| p.node.flows) {
            write_arrow(&mut out, target, source, false);
        }
    }
    for placed in left.iter().chain(&right) {
        write_node(&mut out, placed);
    }
    out.push_str("</svg>\n");
    out
}

fn write_flow(out: &mut String, document: &PlanDocument) {
    out.push_str("<h2 id=\"flow\">Hybrid mail flow</h2>\n");
    out.push_str("<p>Exchange Online's outbound connector sends to each hybrid receive connector and, with TlsSettings DomainValidation, accepts only a certificate that matches its TlsDomain. Each send connector to Exchange Online presents its certificate to Exchange Online, whose OnPremises inbound connector attributes the mail to the tenant by TlsSenderCertificateName. Receive connectors that are not hybrid are shown only when a finding names them.</p>\n");
    out.push_str("<p class=\"legend\"><span><i class=\"swatch\" style=\"background:#eef3fb;border-color:#4a6fa5\"></i>no finding</span><span><i class=\"swatch\" style=\"background:#fdecea;border-color:#c62828\"></i>fault</span><span><i class=\"swatch\" style=\"background:#e8f5e9;border-color:#2e7d32\"></i>changed or resolved by the plan</span><span><i class=\"swatch\" style=\"background:#fff4e0;border-color:#b26a00\"></i>left to a person</span><span><i class=\"swatch\" style=\"background:#f3f4f6;border-color:#8c959f;border-style:dashed\"></i>not exported</span></p>\n");
    for (after, caption) in [(false, "Before the plan"), (true, "After the plan")] {
        let _ = write!(
            out,
            "<figure>\n<figcaption>{caption}</figcaption>\n{}</figure>\n",
            diagram(document, after)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_html_gives_meaning_is_escaped() {
        assert_eq!(
            esc("<I>CN=a & b, O=\"x\" 'y'"),
            "&lt;I&gt;CN=a &amp; b, O=&quot;x&quot; &#39;y&#39;"
        );
    }

    #[test]
    fn documentation_code_spans_become_code_elements() {
        assert_eq!(
            inline_code("trace: `450 4.7.320 <x>` or `451`."),
            "trace: <code>450 4.7.320 &lt;x&gt;</code> or <code>451</code>."
        );
    }
}
