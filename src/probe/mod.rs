//! `hybridtls probe`: what a server really presents on port 25, seen from outside as Exchange
//! Online sees it.
//!
//! The stages follow the pipeline's: [`target`] reads `HOST[:PORT]` and resolves it, [`smtp`]
//! reads the banner, sends EHLO and STARTTLS, [`tls`] performs the handshake with a verifier
//! that records the chain instead of judging it, [`assess`] judges what was recorded (the same
//! name matching `plan` uses, the chain, the trust anchors) into a [`Report`], and [`render`]
//! prints it as text or as the JSON of `schema/probe.schema.json`.
//!
//! Every step runs against one deadline (`--timeout`), every line read is capped, and nothing
//! the server sends is printed without its control and bidirectional characters escaped.

pub mod assess;
pub mod render;
pub mod smtp;
pub mod target;
pub mod tls;

use std::fmt;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

pub use assess::Report;
pub use target::Target;
pub use tls::TrustAnchors;

/// The EHLO name sent when `--ehlo` is not given: a name under `.invalid` (RFC 6761) says
/// plainly that it is no real host, and Exchange accepts any syntactically valid EHLO name.
pub const DEFAULT_EHLO: &str = "hybridtls.invalid";

/// What `hybridtls probe` was asked to do.
pub struct Options {
    /// The name Exchange Online checks the certificate against (the `TlsDomain` of its outbound
    /// connector); `None` checks HOST when it is a name.
    pub fqdn: Option<String>,
    pub ehlo: String,
    /// For the whole probe, from resolving the name to the end of the TLS handshake.
    pub timeout: Duration,
    pub trust_anchors: TrustAnchors,
}

/// Why a probe could not be completed: what happened, in words, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    pub message: String,
    pub hint: String,
}

impl ProbeError {
    fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        ProbeError {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n  hint: {}", self.message, self.hint)
    }
}

impl std::error::Error for ProbeError {}

/// The step a probe is in, for the words of a timeout or a closed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Resolving,
    Connecting,
    Banner,
    Ehlo,
    StartTls,
    Handshake,
}

impl Phase {
    fn waiting(self) -> &'static str {
        match self {
            Phase::Resolving => "resolving the name",
            Phase::Connecting => "connecting",
            Phase::Banner => "waiting for the banner",
            Phase::Ehlo => "waiting for the answer to EHLO",
            Phase::StartTls => "waiting for the answer to STARTTLS",
            Phase::Handshake => "in the TLS handshake",
        }
    }

    fn after(self) -> &'static str {
        match self {
            Phase::Resolving | Phase::Connecting => "before it was connected",
            Phase::Banner => "before sending its banner",
            Phase::Ehlo => "after EHLO, before answering it",
            Phase::StartTls => "after STARTTLS, before answering it",
            Phase::Handshake => "during the TLS handshake",
        }
    }
}

/// What an I/O error in `phase` means: the deadline passed, the server hung up, or the
/// connection failed otherwise.
fn io_error(error: std::io::Error, phase: Phase, deadline: &Deadline) -> ProbeError {
    use std::io::ErrorKind;
    match error.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => deadline.expired(phase),
        ErrorKind::ConnectionReset
        | ErrorKind::ConnectionAborted
        | ErrorKind::BrokenPipe
        | ErrorKind::UnexpectedEof => closed(phase),
        _ => {
            let when = match phase {
                Phase::Handshake => phase.after().to_owned(),
                _ => format!("while {}", phase.waiting()),
            };
            ProbeError::new(
                format!("the connection failed {when}: {error}"),
                "try again; if it persists, look in the server's SmtpReceive protocol log",
            )
        }
    }
}

/// The server hung up in `phase`, and what that suggests.
fn closed(phase: Phase) -> ProbeError {
    let hint = match phase {
        Phase::Handshake => "Exchange does this when the certificate it selected has no usable private key (the SmtpSend log of the sending side shows `TLS negotiation failed with error NoCredentials`; hybridtls explain HT009); run hybridtls plan on the server's exports",
        Phase::Ehlo | Phase::StartTls => "a server that hangs up here may be filtering or rate-limiting this address; look in the receive connector's SmtpReceive protocol log for the session",
        _ => "the server or a firewall before it ends sessions from this address; look in the receive connector's SmtpReceive protocol log, and check its RemoteIPRanges",
    };
    ProbeError::new(
        format!("the server closed the connection {}", phase.after()),
        hint,
    )
}

/// The one deadline every step of a probe runs against, so that no peer, however slow or
/// chatty, keeps it longer than `--timeout`.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    end: Instant,
    limit: Duration,
}

impl Deadline {
    pub fn after(limit: Duration) -> Self {
        Deadline {
            end: Instant::now() + limit,
            limit,
        }
    }

    /// The time left, or the timeout error of `phase` when none is.
    pub fn remaining(&self, phase: Phase) -> Result<Duration, ProbeError> {
        let left = self.end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(self.expired(phase))
        } else {
            Ok(left)
        }
    }

    pub fn expired(&self, phase: Phase) -> ProbeError {
        let hint = match phase {
            Phase::Resolving => "the DNS server did not answer in time; check the resolver, or give the server's IP address and the name with --fqdn",
            Phase::Connecting => "nothing answered: a firewall that drops packets (rather than refusing them) looks like this; check that port 25 is open from where you probe, or give a longer --timeout",
            Phase::Banner => "the server accepted the connection but sent no banner: an SMTP proxy or a firewall may hold it, or the transport service is overloaded; give a longer --timeout to wait longer",
            _ => "the server stopped answering: give a longer --timeout, and look in the server's SmtpReceive protocol log for the session",
        };
        ProbeError::new(
            format!(
                "timed out: no answer within {} while {}",
                seconds(self.limit),
                phase.waiting()
            ),
            hint,
        )
    }
}

/// `20 s`, `0.5 s`: a duration as `--timeout` takes it.
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

/// `--timeout SECONDS`: more than 0, at most an hour; decimals allowed (`0.5`).
///
/// # Errors
/// A sentence saying what a valid value is.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 3600.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(format!(
            "{text:?} is not a timeout; give seconds, more than 0 and at most 3600, e.g. 20 or 0.5"
        )),
    }
}

/// `--ehlo NAME`: a domain name or an address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), as
/// RFC 5321 allows after EHLO, so that nothing else can be slipped into the session.
///
/// # Errors
/// A sentence saying what a valid name is.
pub fn parse_ehlo(text: &str) -> Result<String, String> {
    let literal = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|inside| {
            inside.parse::<std::net::Ipv4Addr>().is_ok()
                || inside
                    .strip_prefix("IPv6:")
                    .is_some_and(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok())
        });
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if literal || (text.len() <= 253 && text.split('.').all(label_ok)) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an EHLO name; give a domain name (mail.contoso.com) or an address literal ([192.0.2.1])"
        ))
    }
}

/// Probes `target` and judges what it presents.
///
/// # Errors
/// A [`ProbeError`] when the probe cannot be completed: the name does not resolve, the
/// connection is refused or times out, the banner is not 220, the peer does not speak SMTP or
/// closes the connection, or the TLS handshake fails (an alert, no common version).
/// STARTTLS not offered or refused is no error: it is a finding of the [`Report`].
pub fn probe(target: &Target, options: &Options) -> Result<Report, ProbeError> {
    let deadline = Deadline::after(options.timeout);
    let probed_at = OffsetDateTime::now_utc();
    let probed_at = probed_at.replace_nanosecond(0).unwrap_or(probed_at);
    let addresses = target::resolve(target, &deadline)?;
    let (stream, address) = target::connect(&addresses, &deadline)?;
    let mut session = smtp::Session::new(stream, deadline);
    let conversation = session.converse(&options.ehlo)?;
    let handshake = match &conversation.starttls_reply {
        Some(reply) if reply.code == 220 => {
            let mut stream = session.into_tls_stream()?;
            Some(tls::handshake(
                &mut stream,
                target,
                address.ip(),
                options.fqdn.as_deref(),
                &deadline,
            )?)
        }
        _ => {
            session.quit();
            None
        }
    };
    assess::assess(
        assess::Observed {
            target: target.clone(),
            address,
            probed_at,
            conversation,
            handshake,
        },
        options,
    )
}
