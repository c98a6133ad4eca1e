//! A probe report for people (text) and for pipelines (JSON, `schema/probe.schema.json`).
//!
//! The JSON is versioned by `format_version` as `plan.json` is: additive changes raise the
//! minor version, anything else the major. A later `plan` reads it as evidence of what a server
//! presents, so it carries each certificate's DER (`raw_data`, base64, as `RawData` is
//! exported) besides the values computed from it.

use base64::Engine;
use serde::Serialize;

use super::assess::{date, NameOrigin, PathEnd, Report, Status};
use super::smtp::printable;
use super::target::Host;
use crate::x509::CertificateFacts;

pub const FORMAT_VERSION: &str = "1.0";

#[derive(Serialize)]
struct ProbeDocument<'a> {
    format_version: &'static str,
    tool: Tool,
    probed_at: String,
    target: TargetDoc,
    name: Option<NameDoc<'a>>,
    smtp: SmtpDoc<'a>,
    tls: Option<TlsDoc<'a>>,
    /// The leaf the server presented; also `chain.sent[0]`.
    certificate: Option<CertificateDoc>,
    chain: Option<ChainDoc<'a>>,
    trust_anchors: AnchorsDoc<'a>,
    checks: Vec<CheckDoc<'a>>,
    /// `pass` when every check passed (exit 0), else `fail` (exit 2).
    result: &'static str,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct TargetDoc {
    /// A name, or an address without brackets.
    host: String,
    port: u16,
    /// The address connected to.
    address: String,
}

#[derive(Serialize)]
struct NameDoc<'a> {
    value: &'a str,
    /// `fqdn` (given with --fqdn) or `host` (HOST, a name).
    origin: &'static str,
}

#[derive(Serialize)]
struct SmtpDoc<'a> {
    banner: &'a [String],
    ehlo_name: &'a str,
    ehlo: &'a [String],
    starttls_offered: bool,
    starttls_reply: Option<&'a [String]>,
}

#[derive(Serialize)]
struct TlsDoc<'a> {
    version: &'a str,
    cipher_suite: &'a str,
}

#[derive(Serialize)]
struct CertificateDoc {
    thumbprint: String,
    subject: String,
    issuer: String,
    serial_number: String,
    not_before: String,
    not_after: String,
    common_name: Option<String>,
    dns_names: Vec<String>,
    self_signed: bool,
    is_ca: bool,
    key_algorithm: String,
    key_bits: u32,
    signature_algorithm: String,
    /// The DER, base64.
    raw_data: String,
}

#[derive(Serialize)]
struct ChainDoc<'a> {
    /// As the server sent them, leaf first.
    sent: Vec<CertificateDoc>,
    /// Indexes into `sent` of the path from the leaf up, each issued by the next.
    path: &'a [usize],
    in_order: bool,
    complete: bool,
    /// The root the path ends in (sent or a trust anchor); null when incomplete.
    root: Option<&'a str>,
    root_sent: bool,
    /// The issuer that was neither sent nor a trust anchor; null when complete.
    missing_issuer: Option<&'a str>,
    trust_judged_at: String,
}

#[derive(Serialize)]
struct AnchorsDoc<'a> {
    /// `webpki-roots` (the Mozilla root program, the default) or `file` (--trust-anchors).
    source: &'static str,
    description: &'a str,
}

#[derive(Serialize)]
struct CheckDoc<'a> {
    id: &'static str,
    status: &'static str,
    summary: &'a str,
    hint: Option<&'a str>,
}

fn certificate(facts: &CertificateFacts) -> CertificateDoc {
    CertificateDoc {
        thumbprint: facts.thumbprint.clone(),
        subject: facts.subject.clone(),
        issuer: facts.issuer.clone(),
        serial_number: facts.serial_number.clone(),
        not_before: date(facts.not_before),
        not_after: date(facts.not_after),
        common_name: facts.common_name.clone(),
        dns_names: facts.dns_names.clone(),
        self_signed: facts.self_signed,
        is_ca: facts.is_ca,
        key_algorithm: facts.key_algorithm.clone(),
        key_bits: facts.key_bits,
        signature_algorithm: facts.signature_algorithm.clone(),
        raw_data: base64::engine::general_purpose::STANDARD.encode(&facts.der),
    }
}

/// The report as the JSON document of `schema/probe.schema.json`, with a final line feed.
pub fn json(report: &Report) -> String {
    let conversation = &report.conversation;
    let document = ProbeDocument {
        format_version: FORMAT_VERSION,
        tool: Tool {
            name: "hybridtls",
            version: env!("CARGO_PKG_VERSION"),
        },
        probed_at: date(report.probed_at),
        target: TargetDoc {
            host: match &report.target.host {
                Host::Name(name) => name.clone(),
                Host::Address(address) => address.to_string(),
            },
            port: report.target.port,
            address: report.address.ip().to_string(),
        },
        name: report.name.as_ref().map(|(value, origin)| NameDoc {
            value,
            origin: match origin {
                NameOrigin::Fqdn => "fqdn",
                NameOrigin::Host => "host",
            },
        }),
        smtp: SmtpDoc {
            banner: &conversation.banner.lines,
            ehlo_name: &conversation.ehlo_name,
            ehlo: &conversation.ehlo.lines,
            starttls_offered: conversation.starttls_offered(),
            starttls_reply: conversation.starttls_reply.as_ref().map(|r| r.lines.as_slice()),
        },
        tls: report.tls.as_ref().map(|tls| TlsDoc {
            version: &tls.version,
            cipher_suite: &tls.cipher_suite,
        }),
        certificate: report.tls.as_ref().map(|tls| certificate(&tls.chain[0])),
        chain: report.tls.as_ref().map(|tls| {
            let (root, root_sent, missing_issuer) = match &tls.path.end {
                PathEnd::RootSent { root } => (Some(root.as_str()), true, None),
                PathEnd::RootKnown { root } => (Some(root.as_str()), false, None),
                PathEnd::Missing { issuer, .. } => (None, false, Some(issuer.as_str())),
            };
            ChainDoc {
                sent: tls.chain.iter().map(certificate).collect(),
                path: &tls.path.sent,
                in_order: tls.path.in_order(),
                complete: root.is_some(),
                root,
                root_sent,
                missing_issuer,
                trust_judged_at: date(tls.trust_judged_at),
            }
        }),
        trust_anchors: AnchorsDoc {
            source: if report.trust_anchors_are_mozilla {
                "webpki-roots"
            } else {
                "file"
            },
            description: &report.trust_anchors,
        },
        checks: report
            .checks
            .iter()
            .map(|c| CheckDoc {
                id: c.id.as_str(),
                status: c.status.as_str(),
                summary: &c.summary,
                hint: c.hint.as_deref(),
            })
            .collect(),
        result: if report.passed() { "pass" } else { "fail" },
    };
    crate::render::json::to_string(&document).unwrap_or_default()
}

/// The report for people: the session as telnet would show it, the certificate as
/// Get-ExchangeCertificate shows it, the chain as sent, then each check.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let address = match report.target.host {
        Host::Name(_) => format!(" ({})", report.address),
        Host::Address(_) => String::new(),
    };
    line(format!(
        "Probe of {}{address} at {}",
        report.target,
        date(report.probed_at)
    ));
    match &report.name {
        Some((name, NameOrigin::Fqdn)) => line(format!("Name checked: {name} (--fqdn)")),
        Some((name, NameOrigin::Host)) => line(format!("Name checked: {name} (HOST; give --fqdn for the TlsDomain of Exchange Online's outbound connector when it differs)")),
        None => line("Name checked: none (HOST is an address; give --fqdn)".to_owned()),
    }
    line(String::new());
    let conversation = &report.conversation;
    line("SMTP".to_owned());
    for reply_line in &conversation.banner.lines {
        line(format!("  < {reply_line}"));
    }
    line(format!("  > EHLO {}", conversation.ehlo_name));
    for reply_line in &conversation.ehlo.lines {
        line(format!("  < {reply_line}"));
    }
    if let Some(reply) = &conversation.starttls_reply {
        line("  > STARTTLS".to_owned());
        for reply_line in &reply.lines {
            line(format!("  < {reply_line}"));
        }
    }
    if let Some(tls) = &report.tls {
        line(String::new());
        line(format!("TLS: {}, {}", tls.version, tls.cipher_suite));
        line(String::new());
        let leaf = &tls.chain[0];
        line("Certificate presented (as Get-ExchangeCertificate shows it)".to_owned());
        line(format!("  Thumbprint:  {}", leaf.thumbprint));
        line(format!("  Subject:     {}", printable(leaf.subject.as_bytes())));
        line(format!("  Issuer:      {}", printable(leaf.issuer.as_bytes())));
        let san = if leaf.dns_names.is_empty() {
            "(none)".to_owned()
        } else {
            printable(leaf.dns_names.join(", ").as_bytes())
        };
        line(format!("  SAN:         {san}"));
        line(format!("  NotBefore:   {}", date(leaf.not_before)));
        line(format!("  NotAfter:    {}", date(leaf.not_after)));
        line(String::new());
        let count = tls.chain.len();
        line(format!(
            "Chain as sent ({count} certificate{}, leaf first)",
            if count == 1 { "" } else { "s" }
        ));
        for (index, facts) in tls.chain.iter().enumerate() {
            let mut marks = Vec::new();
            if report.probed_at > facts.not_after || report.probed_at < facts.not_before {
                marks.push("EXPIRED or not yet valid");
            }
            if facts.self_signed {
                marks.push("self-signed");
            }
            if !tls.path.sent.contains(&index) {
                marks.push("not on the path to the root");
            }
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!("  [{}]", marks.join(", "))
            };
            line(format!(
                "  {}  {}  {}{marks}",
                index + 1,
                facts.thumbprint,
                printable(facts.subject.as_bytes())
            ));
            line(format!("       issued by {}", printable(facts.issuer.as_bytes())));
        }
    }
    line(String::new());
    line("Checks".to_owned());
    for check in &report.checks {
        let label = match check.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotJudged => "----",
        };
        line(format!("  {label}  {}", printable(check.summary.as_bytes())));
        if check.status != Status::Pass {
            if let Some(hint) = &check.hint {
                line(format!("        what to do: {hint}"));
            }
        }
    }
    line(String::new());
    let failed = report.checks.iter().filter(|c| c.status == Status::Fail).count();
    let unjudged = report
        .checks
        .iter()
        .filter(|c| c.status == Status::NotJudged)
        .count();
    if report.passed() {
        line("Result: everything a hybrid partner needs holds.".to_owned());
    } else {
        line(format!(
            "Result: {failed} check{} failed, {unjudged} not judged: Exchange Online's mail to this server will fail or is not shown to work.",
            if failed == 1 { "" } else { "s" }
        ));
    }
    out
}
