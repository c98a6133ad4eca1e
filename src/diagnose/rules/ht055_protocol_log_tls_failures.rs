//! HT055 `protocol-log-tls-failures`: the rule's documentation, metadata and check.

use std::collections::BTreeMap;

use super::{Rule, Severity};
use crate::diagnose::context::Context;
use crate::diagnose::needs::{Export, Missing};
use crate::diagnose::{times, Evidence, Findings, Remedy};
use crate::model::{AuthMechanism, InputKind, LogFailure, LogFailureKind};

/// How many remote addresses a finding shows as evidence; the rest are counted.
const SHOWN_REMOTES: usize = 5;

pub const RULE: Rule = Rule {
    code: "HT055",
    name: "protocol-log-tls-failures",
    title: "The protocol logs show TLS failures, counted per remote host and time range",
    severity: Severity::Warning,
    documentation: r#"## What it means
The SmtpReceive or SmtpSend protocol log of the server holds rows where TLS failed or fell short:
`TLS negotiation failed with error <X>` (NoCredentials, UnknownCredentials, SocketError,
IllegalMessage, AlgorithmMismatch, UntrustedRoot, ...), `TlsDomainCapabilities='None';
Status='<X>'` (the remote's certificate did not earn the connector's domain capabilities, so
Exchange Online's mail is not recognised as such), or sessions that negotiated TLS 1.0 or 1.1
(`SP_PROT_TLS1_0`, `SP_PROT_TLS1_1`), which Exchange Online refuses, or EHLO responses that did
not offer STARTTLS (`250 ... Hello [...] SIZE ... PIPELINING ...` without `STARTTLS`, or with a
firewall's `XXXXXXXA` in its place) in sessions that had not negotiated TLS yet, or connections a
send connector that requires TLS dropped because TLS did not start (`Drop connection because TLS
configuration requires TLS before MailFrom command and could not achieve it`).

## Why it matters
These rows are what really happened, whatever the exports say: each names its cause, and the
remote hosts and times say whether it is Exchange Online (and still going on) or one old peer.

## Symptoms
The rows themselves; in the queues `421 4.4.2 Connection dropped due to SocketError`, `451 4.4.395
... 421 4.4.1 Connection timed out`, `450 4.7.320 Certificate validation failed`.

## Detection
Each log is read once; its failures are counted as they are read, per connector, remote address
(without the port), kind and status, with the first and last time and the first row's line:
nothing else of the rows is kept. An EHLO response is the row whose data starts with `250` and
holds `Hello [address]` followed by extensions (a HELO response, without them, cannot offer
STARTTLS); its event says whose it is: `>` this server's (a receive log), `<` the remote's (a send
log). An SmtpSend log may log the remote's response one line to a row instead: then the first row
holds no extensions and is not judged, a line that is STARTTLS masked (`250-XXXXXXXA`) is judged
on its own, and a missing STARTTLS is told by the dropped connection that follows; a dropped
connection is counted only when no row of its session (an EHLO response without STARTTLS, a failed
negotiation) already said why. A receive connector whose AuthMechanism lacks Tls is set not to
offer it (an internal relay): its responses are not reported here (HT006 judges the hybrid
connectors' setting). The response to the EHLO a client sends again over TLS never lists STARTTLS,
so the sessions that negotiated TLS (their `SP_PROT_TLS1_` row) are remembered until that
response. One finding per connector, kind and status, with the remote hosts that failed most as
evidence. Without any protocol log of the server the check is listed as not checked. Logging must
be on: `ProtocolLoggingLevel Verbose` on the hybrid receive and send connectors
(`Set-ReceiveConnector`/`Set-SendConnector -ProtocolLoggingLevel Verbose`).

## Fix
Manual: the cause named in the finding, with the rule that checks it (`hybridtls explain HT009`,
`HT010`, `HT011`, `HT015`, `HT050`, `HT051`, `HT052`, `HT054`).

## When to fix by hand
Always: the logs are evidence, not configuration.

## Sources
- Decompiled Exchange protocol log writer (`ProtocolLog.cs`) and the SmtpReceive/SmtpSend rows
  quoted in exchange-formats.md §4: `TLS negotiation failed with error NoCredentials` (KB 2989382,
  seed 002), the `TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded ...` row, and
  `TlsDomainCapabilities='None'; Status='NoRemoteCertificate'`; on the send side `Drop connection
  because TLS configuration requires TLS before MailFrom command and could not achieve it, check
  connection authentication setting or remote capabilities`.
- An Exchange 2013 SmtpSend log quoted in a public support case write-up (case 17388217, 2019,
  Exchange 2013 sending to Exchange 2010) logs the remote's EHLO response one line to a row:
  `<,250-... Hello [...]`, `<,250-SIZE`, `<,250-PIPELINING`, ..., `<,250 XSHADOW`.
- Exchange Team blog, "Exchange Server TLS guidance Part 2: Enabling TLS 1.2 and Identifying
  Clients Not Using It" (finding TLS 1.0 sessions in the logs).
- exchange-formats.md §4: a missing STARTTLS shows as the EHLO response row without the
  `STARTTLS` token (real log quoted from the jpmessaging blog, 2025: `>,250 E19.Contoso.lab Hello
  [104.47.58.43] SIZE 37748736 PIPELINING DSN ENHANCEDSTATUSCODES X-ANONYMOUSTLS AUTH NTLM ...`),
  and §5: `451 5.7.3 STARTTLS is required to send mail` when on-premises did not advertise
  STARTTLS (event 12014, KB 2989382) or an SMTP-inspecting firewall stripped it.
- Cisco ASA Series Firewall CLI Configuration Guide, "SMTP and Extended SMTP Inspection": by
  default "the STARTTLS indication is removed" and EHLO reply parameters it does not allow are
  masked; Cisco TAC document 113423 ("ASA ESMTP/SMTP inspection"): what is not allowed is
  replaced by Xs (`XXXXXXXA` for STARTTLS, as admins report it).
- Microsoft Learn, "Protocol logging" (Exchange Server): `ProtocolLoggingLevel` on receive and
  send connectors, the log paths of the Front End and Hub transport services.
"#,
    check,
    organisation_needs: None,
};

/// The TLS failures of the server's logs, one finding per connector, kind and status.
fn check(context: &Context, findings: &mut Findings) {
    let server = &context.server.name;
    let inventory = context.inventory;
    let logs: Vec<&str> = inventory
        .inputs
        .iter()
        .filter(|input| input.kind == InputKind::ProtocolLog && inventory.is_own_input(input, server))
        .map(|input| input.path.as_str())
        .collect();
    if logs.is_empty() {
        findings.not_judged("the protocol logs".to_owned(), Missing::Export(Export::ProtocolLogs));
        return;
    }
    let mut groups: BTreeMap<(&str, LogFailureKind, &str), Vec<&LogFailure>> = BTreeMap::new();
    for failure in &inventory.log_failures {
        if logs.contains(&failure.sample.file.as_str()) {
            let key = (failure.connector.as_str(), failure.kind, failure.status.as_str());
            groups.entry(key).or_default().push(failure);
        }
    }
    for ((connector, kind, status), mut rows) in groups {
        if kind == LogFailureKind::NoStartTls && set_without_tls(context, connector, status) {
            continue;
        }
        rows.sort_by(|a, b| b.count.cmp(&a.count).then(a.remote.cmp(&b.remote)));
        let count: u64 = rows.iter().map(|r| r.count).sum();
        let first = rows.iter().map(|r| r.first.as_str()).min().unwrap_or_default();
        let last = rows.iter().map(|r| r.last.as_str()).max().unwrap_or_default();
        let what = match kind {
            LogFailureKind::Negotiation => format!("TLS negotiation failed with error {status}"),
            LogFailureKind::DomainCapabilities => {
                format!("TlsDomainCapabilities='None'; Status='{status}'")
            }
            LogFailureKind::OldProtocol => format!("{status} sessions"),
            LogFailureKind::NoStartTls => format!("EHLO responses without STARTTLS ({status})"),
            LogFailureKind::TlsRequired => {
                "connections dropped because TLS is required before MAIL FROM and did not start".to_owned()
            }
        };
        let hosts = match rows.len() {
            1 => format!("from {}", remote(rows[0])),
            n => format!("from {n} remote hosts"),
        };
        let mut evidence: Vec<Evidence> = rows
            .iter()
            .take(SHOWN_REMOTES)
            .map(|row| Evidence {
                file: row.sample.file.clone(),
                position: row.sample.position.clone(),
                field: format!("remote {}", remote(row)),
                value: format!("{}, {} to {}", times(row.count), row.first, row.last),
            })
            .collect();
        if rows.len() > SHOWN_REMOTES {
            let rest = &rows[SHOWN_REMOTES..];
            evidence.push(Evidence {
                file: rest[0].sample.file.clone(),
                position: rest[0].sample.position.clone(),
                field: format!("{} more remote hosts", rest.len()),
                value: times(rest.iter().map(|r| r.count).sum::<u64>()),
            });
        }
        findings.push(
            format!("{connector}: {what}"),
            format!("{connector}: {what}, {} {hosts}, {first} to {last}: {}", times(count), cause(kind, status)),
            evidence,
            Remedy::manual(format!("find the cause named for {what} ({}) and fix it there; then check a fresh log", cause(kind, status))),
        );
    }
}

/// Whether `connector` is a receive connector of the server set not to offer TLS (its
/// AuthMechanism lacks Tls), so that its responses without STARTTLS are what it was set to
/// send: an internal relay's, say. HT006 judges that setting on the hybrid connectors.
fn set_without_tls(context: &Context, connector: &str, status: &str) -> bool {
    status.starts_with("this server")
        && context.reports.iter().any(|report| {
            report.connector.identity().eq_ignore_ascii_case(connector)
                && report
                    .connector
                    .auth_mechanism
                    .is_some_and(|mechanism| !mechanism.contains(AuthMechanism::TLS))
        })
}

fn remote(failure: &LogFailure) -> &str {
    if failure.remote.is_empty() {
        "an unlogged address"
    } else {
        &failure.remote
    }
}

/// The likely cause of a failure and the rules that check it.
fn cause(kind: LogFailureKind, status: &str) -> &'static str {
    match (kind, status.to_ascii_lowercase().as_str()) {
        (LogFailureKind::NoStartTls, status) if status.contains("xxxxxxxa") => "a firewall's SMTP inspection (Cisco's ESMTP inspection) replaced STARTTLS by XXXXXXXA, so no TLS can start through it: turn the inspection off for port 25 between Exchange and Exchange Online",
        (LogFailureKind::NoStartTls, status) if status.starts_with("this server") => "the connector did not offer STARTTLS: no certificate qualifies for its TlsCertificateName or FQDN (event 12014; HT001, HT002, HT005, HT020) or its AuthMechanism lacks Tls (HT006); Exchange Online then fails with `451 5.7.3 STARTTLS is required to send mail`",
        (LogFailureKind::NoStartTls, _) => "the remote, or a device in the path, did not offer STARTTLS: Exchange Online always offers it, so a firewall's SMTP inspection or a relay in between is likely; a connector that requires TLS then drops the connection (`451 5.7.3`)",
        (LogFailureKind::TlsRequired, _) => "the send connector requires TLS and could not start it: the remote, or a device in the path, offered no STARTTLS or refused it (no row of these sessions shows it masked as XXXXXXXA); Exchange Online always offers it, so a relay or an SMTP-inspecting device in between that strips it is likely: read the EHLO response rows of these sessions",
        (LogFailureKind::OldProtocol, _) => "Exchange Online refuses TLS 1.0 and 1.1: enable TLS 1.2 for both sides and .NET strong crypto (HT050, HT051)",
        (LogFailureKind::DomainCapabilities, _) => "the remote's certificate did not earn the connector's TLS domain capabilities, so its mail is not taken as Exchange Online's: for UntrustedRoot a root or intermediate is missing (HT010, HT011); otherwise the certificate's name or validity",
        (_, "nocredentials" | "unknowncredentials") => "the certificate the connector presents has no usable private key: a key-less copy (HT009) or a send connector naming an unusable certificate (HT015)",
        (_, "socketerror") => "the connection was dropped in the handshake: no TLS version or cipher suite in common (HT050, HT051, HT052, HT054) or a device in the path",
        (_, "illegalmessage") => "a handshake message was malformed or unexpected: TLS 1.3 where it is not supported (HT054), mismatched TLS settings (HT052), or an SMTP-inspecting firewall",
        (_, "algorithmmismatch") => "no TLS version or cipher suite in common: TLS 1.2 or its cipher suites disabled (HT050, HT052)",
        (_, "untrustedroot") => "the peer's chain does not reach a root in Cert:\\LocalMachine\\Root, or an intermediate is missing (HT010, HT011)",
        _ => "see `hybridtls explain` with the row's text",
    }
}
