//! Synthetic SMTP receive protocol logs in Exchange's format (UTF-8 with BOM, CRLF, the
//! `#Software`..`#Fields` header, one CSV row per event), of any size: mostly plain SMTP
//! sessions, some with STARTTLS and the certificate Exchange sent, a few whose TLS negotiation
//! failed. Returns how many of each it wrote, so a reader can be checked against the truth.
//!
//! Shared by `benches/protocol_logs.rs` (up to gigabytes) and `tests/protocol_log.rs`.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

/// The connector the sessions arrive on: the hybrid connector of examples/seed000.
pub const CONNECTOR: &str = "SERVER1\\Default Frontend SERVER1";
/// The certificate the TLS sessions show being sent (seed000's self-signed one).
pub const THUMBPRINT: &str = "EA0EDA0EA534FCEFE061307D0A09BF42B25F4965";
/// One session in this many sends a certificate; one in `FAILURE_EVERY` fails TLS.
pub const CERTIFICATE_EVERY: u64 = 25;
pub const FAILURE_EVERY: u64 = 397;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogTruth {
    pub bytes: u64,
    pub sessions: u64,
    /// `Sending certificate` groups: one sighting each.
    pub certificates_sent: u64,
    /// `TLS negotiation failed with error NoCredentials` rows.
    pub tls_failures: u64,
    /// The remote addresses of those rows, each counted once: the reader keeps one record per
    /// connector, remote address and failure.
    pub failing_remotes: u64,
}

impl LogTruth {
    /// The records the reader makes of the log: one sighting per connector and certificate (the
    /// log's one connector sends one certificate), one count per remote address that failed.
    pub fn sightings(&self) -> u64 {
        u64::from(self.certificates_sent > 0) + self.failing_remotes
    }
}

/// Writes a log of at least `target_bytes` (whole sessions) to `path`.
pub fn write(path: &Path, target_bytes: u64) -> LogTruth {
    write_with(path, target_bytes, CERTIFICATE_EVERY)
}

/// [`write`], with one session in `certificate_every` sending a certificate (1: every session,
/// a dense log as a busy hybrid server writes it).
pub fn write_with(path: &Path, target_bytes: u64, certificate_every: u64) -> LogTruth {
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut truth = LogTruth::default();
    let header = "\u{FEFF}#Software: Microsoft Exchange Server\r\n#Version: 15.1.2507.6\r\n#Log-type: SMTP Receive Protocol Log\r\n#Date: 2026-11-23T00:00:00.000Z\r\n#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context\r\n";
    out.write_all(header.as_bytes()).unwrap();
    truth.bytes += header.len() as u64;
    let mut session_text = String::with_capacity(8192);
    let mut failing = std::collections::HashSet::new();
    while truth.bytes < target_bytes {
        let session = truth.sessions;
        session_text.clear();
        if session % FAILURE_EVERY == 0 {
            failing.insert((session % 200, session % 250));
        }
        write_session(&mut session_text, session, certificate_every, &mut truth);
        out.write_all(session_text.as_bytes()).unwrap();
        truth.bytes += session_text.len() as u64;
        truth.sessions += 1;
    }
    out.flush().unwrap();
    truth.failing_remotes = failing.len() as u64;
    truth
}

fn write_session(out: &mut String, session: u64, certificate_every: u64, truth: &mut LogTruth) {
    use std::fmt::Write as _;
    // A day of mail: one session every ~0.2 s, wrapping at midnight.
    let millis = (session * 197) % 86_400_000;
    let time = format!(
        "2026-11-23T{:02}:{:02}:{:02}.{:03}Z",
        millis / 3_600_000,
        millis / 60_000 % 60,
        millis / 1000 % 60,
        millis % 1000
    );
    let id = format!("08DE2B6F{:08X}", session & 0xFFFF_FFFF);
    let remote = format!(
        "52.100.{}.{}:{}",
        session % 200,
        session % 250 + 1,
        20_000 + session % 40_000
    );
    let mut sequence = 0;
    let mut row = |out: &mut String, event: &str, data: &str, context: &str| {
        let _ = write!(
            out,
            "{time},{CONNECTOR},{id},{sequence},172.20.102.10:25,{remote},{event},{data},{context}\r\n"
        );
        sequence += 1;
    };
    row(out, "+", "", "");
    row(
        out,
        "*",
        "SMTPSubmit SMTPAcceptAnySender SMTPAcceptAuthoritativeDomainSender AcceptRoutingHeaders",
        "Set Session Permissions",
    );
    row(
        out,
        ">",
        "\"220 SERVER1.domain.com Microsoft ESMTP MAIL Service ready at Mon, 23 Nov 2026 09:14:41 +0000\"",
        "",
    );
    row(out, "<", "EHLO mail.protection.outlook.com", "");
    row(out, ">", "250-SERVER1.domain.com Hello [52.100.7.16] SIZE 37748736 PIPELINING DSN ENHANCEDSTATUSCODES STARTTLS X-ANONYMOUSTLS AUTH NTLM X-EXPS GSSAPI NTLM 8BITMIME BINARYMIME CHUNKING SMTPUTF8 XRDST", "");
    if session % FAILURE_EVERY == 0 {
        row(out, "<", "STARTTLS", "");
        row(out, ">", "220 2.0.0 SMTP server ready", "");
        row(out, "*", "", "TLS negotiation failed with error NoCredentials");
        row(out, "-", "", "Local");
        truth.tls_failures += 1;
        return;
    }
    if session % certificate_every == 0 {
        row(out, "<", "STARTTLS", "");
        row(out, ">", "220 2.0.0 SMTP server ready", "");
        row(out, "*", "", "Sending certificate");
        row(out, "*", "CN=SERVER1", "Certificate subject");
        row(out, "*", "CN=SERVER1", "Certificate issuer name");
        row(
            out,
            "*",
            "5F1E2D3C4B5A69788796A5B4C3D2E1F0",
            "Certificate serial number",
        );
        row(out, "*", THUMBPRINT, "Certificate thumbprint");
        row(
            out,
            "*",
            "SERVER1;SERVER1.domain.com",
            "Certificate alternate names",
        );
        row(out, "*", "", "\"TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk encryption algorithm CALG_AES_256 with strength 256 bits, MAC hash algorithm CALG_SHA_384 with strength 0 bits and key exchange algorithm CALG_ECDHE with strength 384 bits\"");
        // The client greets again over TLS; the response rightly lists no STARTTLS.
        row(out, "<", "EHLO mail.protection.outlook.com", "");
        row(out, ">", "250-SERVER1.domain.com Hello [52.100.7.16] SIZE 37748736 PIPELINING DSN ENHANCEDSTATUSCODES AUTH NTLM X-EXPS GSSAPI NTLM 8BITMIME BINARYMIME CHUNKING SMTPUTF8 XRDST", "");
        truth.certificates_sent += 1;
    }
    row(
        out,
        "<",
        "MAIL FROM:<alerts@contoso.onmicrosoft.com> SIZE=48213",
        "",
    );
    row(
        out,
        "*",
        "08DE2B6F4521204D;2026-11-23T09:14:41.125Z;1",
        "receiving message",
    );
    row(out, "<", "RCPT TO:<user@domain.com>", "");
    row(out, ">", "250 2.1.0 Sender OK", "");
    row(out, ">", "250 2.1.5 Recipient OK", "");
    row(out, "<", "BDAT 48213 LAST", "");
    row(out, ">", "\"250 2.6.0 <a1b2c3@mail.protection.outlook.com> [InternalId=123, Hostname=SERVER1.domain.com] 48213 bytes in 0.031, 1500.2 KB/sec Queued mail for delivery\"", "");
    row(out, "<", "QUIT", "");
    row(out, ">", "221 2.0.0 Service closing transmission channel", "");
    row(out, "-", "", "Local");
}
