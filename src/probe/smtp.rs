//! The SMTP part of a probe: banner, EHLO, STARTTLS (RFC 5321, RFC 3207), read with a cap on
//! every line and the probe's one deadline on every read.

use std::io::{Read, Write};
use std::net::TcpStream;

use super::{closed, io_error, Deadline, Phase, ProbeError};
use crate::input::text::is_hidden_character;

/// The longest reply line read, CRLF included. RFC 5321 (4.5.3.1.5) allows 512 octets; real
/// servers stay well below, and anything far longer is no SMTP server.
pub const MAX_LINE: usize = 4096;
/// The most lines one reply may have (an EHLO reply has a dozen or two).
pub const MAX_REPLY_LINES: usize = 100;

/// One SMTP reply: its code and its lines as sent (CRLF removed), control and bidirectional
/// characters escaped, so they can be printed safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The keywords of an EHLO reply's extension lines (every line after the first).
    fn offers(&self, keyword: &str) -> bool {
        self.lines.iter().skip(1).any(|line| {
            line.get(4..)
                .and_then(|text| text.split_whitespace().next())
                .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
        })
    }
}

/// What was said before TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    pub banner: Reply,
    pub ehlo_name: String,
    pub ehlo: Reply,
    /// The answer to STARTTLS; `None` when it was not offered (and so not sent).
    pub starttls_reply: Option<Reply>,
}

impl Conversation {
    /// Whether the EHLO reply offered STARTTLS (it was sent only then).
    pub fn starttls_offered(&self) -> bool {
        self.starttls_reply.is_some()
    }
}

/// An SMTP session on a connected stream.
pub struct Session {
    stream: TcpStream,
    /// Bytes read and not yet taken as lines.
    pending: Vec<u8>,
    deadline: Deadline,
}

impl Session {
    pub fn new(stream: TcpStream, deadline: Deadline) -> Self {
        Session {
            stream,
            pending: Vec::new(),
            deadline,
        }
    }

    /// Reads the banner, sends EHLO and, when offered, STARTTLS.
    ///
    /// # Errors
    /// A banner that is not 220, an EHLO that is not answered 250, a peer that does not speak
    /// SMTP, closes the connection or does not answer in time.
    pub fn converse(&mut self, ehlo_name: &str) -> Result<Conversation, ProbeError> {
        let banner = self.read_reply(Phase::Banner)?;
        if banner.code != 220 {
            self.quit();
            return Err(ProbeError::new(
                format!(
                    "the banner is not 220, the server refuses the session: {}",
                    banner.lines.join(" / ")
                ),
                "a 421 or 554 banner is the server (or a filter before it) turning this address away; probe from an address the receive connector accepts, or look in its SmtpReceive protocol log",
            ));
        }
        self.send(&format!("EHLO {ehlo_name}"), Phase::Ehlo)?;
        let ehlo = self.read_reply(Phase::Ehlo)?;
        if ehlo.code != 250 {
            self.quit();
            return Err(ProbeError::new(
                format!("the server refused EHLO {ehlo_name}: {}", ehlo.lines.join(" / ")),
                "Exchange Online speaks ESMTP and needs EHLO answered; if the server objects to the name, give another with --ehlo",
            ));
        }
        let starttls_reply = if ehlo.offers("STARTTLS") {
            self.send("STARTTLS", Phase::StartTls)?;
            Some(self.read_reply(Phase::StartTls)?)
        } else {
            None
        };
        Ok(Conversation {
            banner,
            ehlo_name: ehlo_name.to_owned(),
            ehlo,
            starttls_reply,
        })
    }

    /// Ends the session politely; a server that is gone already is no error.
    pub fn quit(&mut self) {
        let _ = self
            .stream
            .set_write_timeout(Some(std::time::Duration::from_millis(100)));
        let _ = self.stream.write_all(b"QUIT\r\n");
    }

    /// The stream to start TLS on, after the 220 to STARTTLS.
    ///
    /// # Errors
    /// When the server sent anything after that 220: such bytes would be read as if they came
    /// through TLS (a STARTTLS response injection, CVE-2011-0411 and its kin), so the probe stops.
    pub fn into_tls_stream(self) -> Result<TcpStream, ProbeError> {
        if self.pending.is_empty() {
            Ok(self.stream)
        } else {
            Err(ProbeError::new(
                format!(
                    "the server sent {} bytes after its 220 to STARTTLS, before TLS began; the probe stops there (a STARTTLS response injection looks like this)",
                    self.pending.len()
                ),
                "an SMTP proxy or firewall between you and the server may be rewriting the session; probe from closer to the server",
            ))
        }
    }

    fn send(&mut self, line: &str, phase: Phase) -> Result<(), ProbeError> {
        let left = self.deadline.remaining(phase)?;
        self.stream
            .set_write_timeout(Some(left))
            .and_then(|()| self.stream.write_all(format!("{line}\r\n").as_bytes()))
            .map_err(|e| io_error(e, phase, &self.deadline))
    }

    /// One whole reply: lines `ddd-text` up to the line `ddd text` (or `ddd`).
    fn read_reply(&mut self, phase: Phase) -> Result<Reply, ProbeError> {
        let mut lines = Vec::new();
        let mut first_code = None;
        loop {
            let raw = self.read_line(phase)?;
            let (code, last) = parse_line(&raw).ok_or_else(|| not_smtp(&raw, phase))?;
            // Every line of a reply has the same code.
            if *first_code.get_or_insert(code) != code {
                return Err(not_smtp(&raw, phase));
            }
            lines.push(printable(&raw));
            if last {
                return Ok(Reply { code, lines });
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(ProbeError::new(
                    format!(
                        "the reply {} goes on for more than {MAX_REPLY_LINES} lines: this is no SMTP server",
                        phase.waiting()
                    ),
                    "check that HOST:PORT is the server's SMTP port (Exchange Online delivers to 25)",
                ));
            }
        }
    }

    /// One line without its line ending, at most [`MAX_LINE`] bytes.
    fn read_line(&mut self, phase: Phase) -> Result<Vec<u8>, ProbeError> {
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = memchr::memchr(b'\n', &self.pending) {
                if end < MAX_LINE {
                    let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                    line.pop();
                    if line.last() == Some(&b'\r') {
                        line.pop();
                    }
                    return Ok(line);
                }
            }
            if self.pending.len() >= MAX_LINE {
                return Err(ProbeError::new(
                    format!(
                        "the server sent a line longer than {MAX_LINE} bytes while the probe was {}: this is no SMTP server",
                        phase.waiting()
                    ),
                    "check that HOST:PORT is the server's SMTP port (Exchange Online delivers to 25)",
                ));
            }
            let left = self.deadline.remaining(phase)?;
            let read = self
                .stream
                .set_read_timeout(Some(left))
                .and_then(|()| self.stream.read(&mut chunk))
                .map_err(|e| io_error(e, phase, &self.deadline))?;
            if read == 0 {
                return Err(closed(phase));
            }
            self.pending.extend_from_slice(&chunk[..read]);
        }
    }
}

/// The code of a reply line and whether it is the reply's last line, or `None` when the line
/// is no SMTP reply line.
fn parse_line(line: &[u8]) -> Option<(u16, bool)> {
    let digits = line.get(..3)?;
    if !(b'2'..=b'5').contains(&digits[0]) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let code = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match line.get(3) {
        None | Some(b' ') => Some((code, true)),
        Some(b'-') => Some((code, false)),
        Some(_) => None,
    }
}

fn not_smtp(line: &[u8], phase: Phase) -> ProbeError {
    let shown: Vec<u8> = line.iter().copied().take(80).collect();
    ProbeError::new(
        format!(
            "the server does not speak SMTP: {} it sent {:?}",
            phase.waiting(),
            printable(&shown)
        ),
        "check that HOST:PORT is the server's SMTP port (Exchange Online delivers to 25); an SMTP proxy or an inspecting firewall can also garble the session",
    )
}

/// `bytes` as text, with what could hide or rewrite text in a terminal (control characters,
/// bidirectional overrides, invalid UTF-8) escaped.
pub fn printable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden_character(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_reply_lines_and_refuses_others() {
        assert_eq!(parse_line(b"220 mail.contoso.com ESMTP"), Some((220, true)));
        assert_eq!(parse_line(b"250-STARTTLS"), Some((250, false)));
        assert_eq!(parse_line(b"250"), Some((250, true)));
        assert_eq!(parse_line(b"HTTP/1.1 400 Bad Request"), None);
        assert_eq!(parse_line(b"25"), None);
        assert_eq!(parse_line(b"220x"), None);
        assert_eq!(parse_line(b"120 wait"), None);
    }

    #[test]
    fn finds_starttls_among_the_extensions_only() {
        let reply = |lines: &[&str]| Reply {
            code: 250,
            lines: lines.iter().map(|l| l.to_string()).collect(),
        };
        assert!(
            reply(&["250-mail.contoso.com Hello", "250-SIZE 37748736", "250 starttls"]).offers("STARTTLS")
        );
        assert!(!reply(&["250 STARTTLS.contoso.com Hello"]).offers("STARTTLS"));
        assert!(!reply(&["250-mail.contoso.com", "250 X-STARTTLS"]).offers("STARTTLS"));
    }

    #[test]
    fn escapes_what_could_rewrite_a_terminal() {
        assert_eq!(printable(b"220 ok\x1b[2J"), "220 ok\\u{1b}[2J");
        assert_eq!(printable("a\u{202E}b".as_bytes()), "a\\u{202e}b");
        assert_eq!(printable(b"\xff"), "\u{FFFD}");
    }
}
