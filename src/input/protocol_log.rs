//! SMTP protocol logs (`RECV*.LOG`, `SEND*.LOG`): which certificate a connector really sent,
//! and which TLS negotiations failed. Format: Exchange's UTF-8 CSV with `#Fields:` header
//! (date-time, connector-id, session-id, sequence-number, local-endpoint, remote-endpoint,
//! event, data, context); a certificate is logged as a `Sending certificate` row followed, in
//! the same session, by rows whose context names the field (`Certificate thumbprint`, ...).
//!
//! Logs run to gigabytes, so a UTF-8 log is streamed: one thread reads it in pieces of whole
//! lines, one thread per core examines the pieces as they come (fingerprints their blocks,
//! finds the rows that can matter and judges them into records), and the records are taken in
//! file order. Memory stays flat whatever the file's size; the answers and the errors are
//! those of reading the whole text at once.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek};
use std::sync::{mpsc, Mutex, PoisonError};

use aho_corasick::AhoCorasick;
use memchr::memmem;

use super::text::{self, Encoding};
use super::Progress;
use crate::bom::{split_bom, Bom};
use crate::error::{InputError, Position};
use crate::model::{LogFailure, LogFailureKind, Sighting, Source};

/// Whether `text` starts like an Exchange SMTP protocol log.
pub fn is_protocol_log(text: &str) -> bool {
    let head: String = text.lines().take(6).collect::<Vec<_>>().join("\n");
    head.contains("#Software: Microsoft Exchange Server") && head.contains("#Log-type: SMTP")
}

/// Splits one CSV line into `out`; fields with commas are double-quoted, `""` is a quote;
/// `quoted` says whether the line holds a quote at all.
/// A field is where it is in the line, unless dropping its quotes joined two parts of it.
fn fields(line: &str, quoted: bool, out: &mut Vec<Value>) {
    out.clear();
    let bytes = line.as_bytes();
    if !quoted {
        let mut start = 0;
        for comma in memchr::memchr_iter(b',', bytes) {
            out.push(Value::At(start, comma));
            start = comma + 1;
        }
        out.push(Value::At(start, bytes.len()));
        return;
    }
    // Quotes and commas are ASCII, never part of another character: the bytes between them
    // are whole characters.
    let mut value = Value::At(0, 0);
    let mut quoted = false;
    // Where the part of the value not yet added to it starts, and where to look on from.
    let mut from = 0;
    let mut at = 0;
    loop {
        let next = match quoted {
            true => memchr::memchr(b'"', &bytes[at..]),
            false => memchr::memchr2(b'"', b',', &bytes[at..]),
        };
        let Some(next) = next.map(|n| at + n) else {
            value.append(line, from, bytes.len());
            out.push(value);
            return;
        };
        match bytes[next] {
            b',' => {
                value.append(line, from, next);
                out.push(std::mem::replace(&mut value, Value::At(next + 1, next + 1)));
                from = next + 1;
            }
            // `""` inside quotes: one quote, kept.
            _ if quoted && bytes.get(next + 1) == Some(&b'"') => {
                value.append(line, from, next + 1);
                from = next + 2;
            }
            _ => {
                value.append(line, from, next);
                quoted = !quoted;
                from = next + 1;
            }
        }
        at = from;
    }
}

/// A field of a row: where it is in the text (from, to), or its text when dropping its quotes
/// joined parts of it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    At(usize, usize),
    Text(String),
}

impl Default for Value {
    fn default() -> Self {
        Value::At(0, 0)
    }
}

impl Value {
    /// The value in `text`, the text its offsets are in.
    fn str<'a>(&'a self, text: &'a str) -> &'a str {
        match self {
            Value::At(from, to) => text.get(*from..*to).unwrap_or_default(),
            Value::Text(text) => text,
        }
    }

    /// [`Value::str`] in the bytes of a text.
    fn get<'a>(&'a self, text: &'a [u8]) -> &'a str {
        match self {
            // The offsets are at character boundaries of UTF-8 text.
            Value::At(from, to) => text
                .get(*from..*to)
                .and_then(|value| std::str::from_utf8(value).ok())
                .unwrap_or_default(),
            Value::Text(text) => text,
        }
    }

    /// Adds `line[from..to]` to the value.
    fn append(&mut self, line: &str, from: usize, to: usize) {
        if from == to {
            return;
        }
        let part = line.get(from..to).unwrap_or_default();
        match self {
            Value::At(start, end) if *start == *end => *self = Value::At(from, to),
            Value::At(_, end) if *end == from => *end = to,
            Value::At(start, end) => {
                let mut text = line.get(*start..*end).unwrap_or_default().to_owned();
                text.push_str(part);
                *self = Value::Text(text);
            }
            Value::Text(text) => text.push_str(part),
        }
    }

    /// The part `range` of the value.
    fn part(self, range: std::ops::Range<usize>) -> Value {
        match self {
            Value::At(from, _) => Value::At(from + range.start, from + range.end),
            Value::Text(text) => Value::Text(text.get(range).unwrap_or_default().to_owned()),
        }
    }

    /// The value in a text where its line starts at `start`.
    fn shifted(self, start: usize) -> Value {
        match self {
            Value::At(from, to) => Value::At(start + from, start + to),
            text => text,
        }
    }
}

/// What a log shows: every certificate a connector sent, and its TLS failures counted.
#[derive(Debug, Default)]
pub struct Log {
    pub sightings: Vec<Sighting>,
    pub failures: Vec<LogFailure>,
}

/// Every certificate a connector sent and every TLS failure in the log `text`.
pub fn read(file: &str, text: &str) -> Result<Log, InputError> {
    let mut scanner = Scanner::new(file);
    scanner.feed(text);
    scanner.finish()
}

/// Where the columns hybridtls reads are in the `#Fields:` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    time: usize,
    connector: usize,
    session: usize,
    /// `remote-endpoint`, which the failures are counted by when the log has it.
    remote: Option<usize>,
    /// `event`: `>` for what this server sent, `<` for what the remote sent.
    event: Option<usize>,
    data: usize,
    context: usize,
    /// How many fields the header names, which every row has.
    count: usize,
}

impl Columns {
    /// The columns of a `#Fields:` header, or the first column hybridtls reads that it lacks:
    /// without it every row would read as empty there, and a certificate sent as none sent.
    fn parse(header: &str) -> Result<Self, &'static str> {
        let names: Vec<&str> = header.trim().split(',').collect();
        let at = |name: &'static str| names.iter().position(|c| *c == name).ok_or(name);
        Ok(Columns {
            time: at("date-time")?,
            connector: at("connector-id")?,
            session: at("session-id")?,
            remote: at("remote-endpoint").ok(),
            event: at("event").ok(),
            data: at("data")?,
            context: at("context")?,
            count: names.len(),
        })
    }
}

/// Substrings one of which a row must hold to change anything: the contexts and the failure
/// text hybridtls reads. A field may also be quoted, and a quote anywhere splits nothing for
/// the reader, so rows with a `"` are read too.
///
/// The four certificate contexts each, not the "ertificate" they share: that also found the
/// issuer and serial number rows of every certificate sent, which were split into fields only
/// to be passed over (two rows in nine of a log where every session sends one).
const CERTIFICATE_ROWS: [&str; 4] = [
    "Sending certificate",
    "Certificate subject",
    "Certificate thumbprint",
    "Certificate alternate names",
];
const FAILURE: &str = "TLS negotiation failed with error ";
/// The remote's certificate did not earn the connector's TLS domain capabilities.
const DOMAIN_CAPABILITIES_NONE: &str = "TlsDomainCapabilities='None'; Status='";
/// `TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded ...`: the protocol of a session.
const TLS_PROTOCOL: &str = "SP_PROT_TLS1_";
/// The response to EHLO, `250 E19.Contoso.lab Hello [104.47.58.43] SIZE ... STARTTLS ...`,
/// logged as one row with its extensions: one without STARTTLS is a session that could not
/// start TLS (issue 20 point 5).
const EHLO_GREETING: &str = " Hello [";
/// A send connector that requires TLS dropping a connection in which TLS did not start:
/// `Drop connection because TLS configuration requires TLS before MailFrom command and could not
/// achieve it, check connection authentication setting or remote capabilities`
/// (exchange-formats.md §4). It tells a missing STARTTLS whatever shape the remote's EHLO
/// response was logged in: Exchange's SmtpSend logs also log it one line to a row.
const TLS_REQUIRED: &str = "requires TLS before MailFrom";
/// How that row starts, checked before the search for [`TLS_REQUIRED`] in a field.
const DROP_CONNECTION: &str = "Drop connection ";
/// STARTTLS's place masked by a firewall (`XXXXXXXA`): in a response logged one line to a row,
/// that line is a row of its own (`250-XXXXXXXA`), found by this.
const MASKED: &str = "XXXXXXX";
/// Every substring that makes a row matter.
const SUBSTRINGS: [&str; 10] = [
    CERTIFICATE_ROWS[0],
    CERTIFICATE_ROWS[1],
    CERTIFICATE_ROWS[2],
    CERTIFICATE_ROWS[3],
    FAILURE,
    DOMAIN_CAPABILITIES_NONE,
    TLS_PROTOCOL,
    EHLO_GREETING,
    TLS_REQUIRED,
    MASKED,
];

/// What to do about a log hybridtls cannot read as one.
const DAMAGED_LOG_HINT: &str =
    "copy the log again once Exchange has closed it (it starts a new file each day), or leave this log out";

/// The searches that find the lines that can change the outcome in a whole piece of a log
/// at once, so that the other lines are never split into fields.
struct Needles {
    /// Every substring of [`SUBSTRINGS`] in one pass, where one memmem pass per substring read
    /// the piece once per substring.
    substrings: Substrings,
    /// [`DOMAIN_CAPABILITIES_NONE`] and [`TLS_PROTOCOL`] within a field; built once, where
    /// `str::find` built a searcher for each field (a tenth of the time on a dense log).
    domain_capabilities: memmem::Finder<'static>,
    tls_protocol: memmem::Finder<'static>,
    ehlo_greeting: memmem::Finder<'static>,
    starttls: memmem::Finder<'static>,
    tls_required: memmem::Finder<'static>,
}

impl Needles {
    fn new() -> Self {
        Needles {
            substrings: Substrings::new(),
            domain_capabilities: memmem::Finder::new(DOMAIN_CAPABILITIES_NONE),
            tls_protocol: memmem::Finder::new(TLS_PROTOCOL),
            ehlo_greeting: memmem::Finder::new(EHLO_GREETING),
            starttls: memmem::Finder::new("STARTTLS"),
            tls_required: memmem::Finder::new(TLS_REQUIRED),
        }
    }

    /// Calls `each` with the lines of `bytes` (whole lines) that hold a header, one of the
    /// [`SUBSTRINGS`] or a quote that may hide one, each with the byte offset it starts at,
    /// without its line end, and whether it holds a quote, in order. When `non_ascii`, also the lines where a character the
    /// reader refuses ([`text::is_hidden_character`]) splits one of the substrings: only text
    /// that is not ASCII can hold one (the C0 ones are binary characters, refused before).
    ///
    /// The searches run ahead of each other: each remembers the first match it found, and
    /// searches again only once the lines looked at have passed it, so that every byte is
    /// searched once by each, and the lines come out in order without being sorted.
    fn each_line_that_matters<'t>(
        &self,
        bytes: &'t [u8],
        non_ascii: bool,
        mut each: impl FnMut(usize, &'t [u8], bool),
    ) {
        const NONE: usize = usize::MAX;
        let find_substring = |from: usize| {
            self.substrings
                .find(&bytes[from..])
                .map_or(NONE, |found| from + found)
        };
        // The first quote or `#` that starts a line (the first line, or one after a line feed),
        // and whether it is a `#`: one pass for both, where a pass each cost 3% of the cpu.
        let find_mark = |from: usize| {
            for n in memchr::memchr2_iter(b'"', b'#', &bytes[from..]) {
                let at = from + n;
                if bytes[at] == b'"' {
                    return (at, false);
                }
                if at == 0 || bytes[at - 1] == b'\n' {
                    return (at, true);
                }
            }
            (NONE, false)
        };
        // The first bytes of the C1 controls, of U+061C, and of U+2000..U+2FFF.
        let find_hidden = |from: usize| match non_ascii {
            true => memchr::memchr3(0xC2, 0xD8, 0xE2, &bytes[from..]).map_or(NONE, |n| from + n),
            false => NONE,
        };
        // The first match of each search not in a line looked at yet (NONE: no more). A
        // substring or a header makes a line matter by itself, a quote or a hidden character
        // only may.
        let mut substring = find_substring(0);
        let (mut mark, mut header) = find_mark(0);
        let mut hidden = find_hidden(0);
        let mut unquoted = Vec::new();
        loop {
            let first = substring.min(mark).min(hidden);
            if first == NONE {
                break;
            }
            let start = memchr::memrchr(b'\n', &bytes[..first]).map_or(0, |n| n + 1);
            let end = memchr::memchr(b'\n', &bytes[first..]).map_or(bytes.len(), |n| first + n);
            let matters = substring < end || (header && mark < end);
            // In a line that does not start with `#` the first mark is its first quote.
            let quoted = !header && mark < end;
            // Without its line end, which would read as a hidden character.
            let line = &bytes[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if matters || self.hides_a_substring(line, non_ascii, &mut unquoted) {
                each(start, line, quoted);
            }
            let at = end + 1;
            if at >= bytes.len() {
                break;
            }
            // A search runs again only once the lines looked at passed its match: each byte
            // is searched once by each search.
            if substring < at {
                substring = find_substring(at);
            }
            if mark < at {
                (mark, header) = find_mark(at);
            }
            if hidden < at {
                hidden = find_hidden(at);
            }
        }
    }

    /// [`Needles::each_line_that_matters`], collected.
    #[cfg(test)]
    fn lines_that_matter<'t>(&self, bytes: &'t [u8], non_ascii: bool) -> Vec<(usize, &'t [u8])> {
        let mut lines = Vec::new();
        self.each_line_that_matters(bytes, non_ascii, |start, line, _| lines.push((start, line)));
        lines
    }

    /// Whether a row holds one of the substrings once its quotes, which the reader drops, and
    /// the characters it refuses are gone, when it does not with them: such a row is read, and
    /// refused. Dropping a quote joins its neighbours; only a quote between two bytes that are
    /// not field separators (`""` inside a field, a stray quote) can join a substring, which
    /// holds no comma. Exchange quotes whole fields (most quoted rows are SMTP responses), so
    /// mostly there is none and the row is never split.
    fn hides_a_substring(&self, bytes: &[u8], non_ascii: bool, unquoted: &mut Vec<u8>) -> bool {
        // The lines are text: ASCII, or decoded before they are searched. Only text that is not
        // ASCII is searched for hidden characters (see [`Needles::each_line_that_matters`]).
        let hidden = non_ascii
            .then(|| std::str::from_utf8(bytes).ok())
            .flatten()
            .filter(|line| text::hidden_character(line).is_some());
        if hidden.is_none() && !quotes_join_neighbours(bytes) {
            return false;
        }
        unquoted.clear();
        match hidden {
            Some(line) => {
                for c in line
                    .chars()
                    .filter(|&c| c != '"' && !text::is_hidden_character(c))
                {
                    unquoted.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
            None => {
                for piece in bytes.split(|&b| b == b'"') {
                    unquoted.extend_from_slice(piece);
                }
            }
        }
        self.substrings.find(unquoted).is_some()
    }

    /// The rows of `text` (whole lines of UTF-8, `non_ascii` when not all ASCII) that change
    /// the outcome, judged with `columns` as they stand before the text, which a `#Fields:`
    /// header in it changes for the rows after it, with their values' offsets in `text`.
    /// Stops after the first row that is an error: the rows after it are never read.
    ///
    /// `feeds_before`, when given, are the line feeds before each 64 bytes of `text` ([`survey`]).
    fn classify(
        &self,
        text: &str,
        feeds_before: Option<&[u32]>,
        non_ascii: bool,
        columns: Columns,
    ) -> Vec<Record> {
        let mut columns = columns;
        let mut records = Vec::new();
        let mut counter = LineCounter {
            text: text.as_bytes(),
            feeds_before,
            counted: 0,
            ended: 0,
        };
        let mut values = Vec::new();
        let mut stop = false;
        self.each_line_that_matters(text.as_bytes(), non_ascii, |start, line, quoted| {
            if stop {
                return;
            }
            // A line starts and ends next to an ASCII byte, or at an end of the text.
            let line = text.get(start..start + line.len()).unwrap_or_default();
            let Some((negotiated, what)) = self.what(line, quoted, Some(&columns), &mut values) else {
                return;
            };
            match &what {
                What::Header(Ok(header)) => columns = *header,
                What::Sending { .. }
                | What::Subject { .. }
                | What::Thumbprint { .. }
                | What::AltNames { .. }
                | What::Failure(_)
                | What::Ehlo { .. }
                | What::Negotiated => {}
                What::Header(Err(_)) | What::BeforeHeader | What::Hidden(..) | What::FieldCount { .. } => {
                    stop = true
                }
            }
            records.push(Record {
                line: counter.line_at(start),
                negotiated,
                what: what.shifted(start),
            });
        });
        records
    }

    /// What one line of the log says (`quoted`: whether it holds a quote), with the columns of
    /// the header before it (None before any), its values' offsets in the line: None when it changes nothing. Judged without the
    /// scanner's state, so that the pieces of a log are judged in parallel and only the
    /// records are taken in order.
    fn what(
        &self,
        line: &str,
        quoted: bool,
        columns: Option<&Columns>,
        values: &mut Vec<Value>,
    ) -> Option<(Option<SessionKey>, What)> {
        let alone = |what| Some((None, what));
        if let Some(header) = line.strip_prefix("#Fields:") {
            return alone(What::Header(Columns::parse(header)));
        }
        if line.starts_with('#') || line.trim().is_empty() {
            return None;
        }
        let Some(columns) = columns else {
            return alone(What::BeforeHeader);
        };
        // A row that matters is refused, as a JSON value would be, when it holds a character
        // that hides or rewrites text: ignored, it turned a certificate sent into none sent.
        // Rows that do not matter may hold anything (much of a log is what remote hosts sent).
        if let Some((column, character)) = text::hidden_character(line) {
            return alone(What::Hidden(column, character));
        }
        fields(line, quoted, values);
        if values.len() != columns.count {
            return alone(What::FieldCount {
                found: values.len(),
                named: columns.count,
            });
        }
        let take = |values: &mut Vec<Value>, column: usize| std::mem::take(&mut values[column]);
        let session = |values: &[Value]| SessionKey::of(values[columns.session].str(line));
        // The certificate rows are what their context says: their data (a subject, names, a
        // thumbprint, all the certificate's) is never read as a failure, a protocol or an EHLO
        // response, and is not searched for them.
        let certificate = match values[columns.context].str(line) {
            "Sending certificate" => Some(What::Sending {
                session: session(values),
                time: take(values, columns.time),
                connector: take(values, columns.connector),
            }),
            "Certificate thumbprint" => Some(What::Thumbprint {
                thumbprint: match values[columns.data].str(line) {
                    data if data.bytes().any(|b| b.is_ascii_lowercase()) => {
                        Value::Text(data.to_ascii_uppercase())
                    }
                    _ => take(values, columns.data),
                },
                session: session(values),
            }),
            "Certificate subject" => Some(What::Subject {
                session: session(values),
                subject: take(values, columns.data),
            }),
            "Certificate alternate names" => Some(What::AltNames {
                session: session(values),
            }),
            _ => None,
        };
        if let Some(what) = certificate {
            return alone(what);
        }
        let context = values[columns.context].str(line);
        let data = values[columns.data].str(line);
        // Where each of data and context holds `SP_PROT_TLS1_`, searched once for both the TLS
        // session and its protocol: most fields hold no `_` and are not searched.
        let protocol_at = |text: &str| {
            memchr::memchr(b'_', text.as_bytes())?;
            self.tls_protocol.find(text.as_bytes())
        };
        let protocols = [
            (columns.data, protocol_at(data)),
            (columns.context, protocol_at(context)),
        ];
        let negotiated = protocols
            .iter()
            .any(|(_, at)| at.is_some())
            .then(|| session(values));
        let remote = |values: &mut Vec<Value>| match columns.remote {
            Some(column) => {
                let address = remote_address(values[column].str(line));
                take(values, column).part(address)
            }
            None => Value::default(),
        };
        let failure = protocols.into_iter().find_map(|(column, protocol)| {
            Some((column, self.failure_of(values[column].str(line), protocol)?))
        });
        if let Some((column, (kind, status))) = failure {
            let status = match status {
                Status::Within(within) => take(values, column).part(within),
                Status::Named(name) => Value::Text(name.to_owned()),
            };
            return Some((
                negotiated,
                What::Failure(Box::new(FailureRow {
                    session: session(values),
                    remote: remote(values),
                    time: take(values, columns.time),
                    connector: take(values, columns.connector),
                    kind,
                    status,
                })),
            ));
        }
        let data = values[columns.data].str(line);
        if let Some(offered) = self.starttls_offered(data) {
            let whose = match columns.event.map(|column| values[column].str(line)) {
                Some(">") => "this server",
                Some("<") => "the remote",
                _ => "the responder",
            };
            let session = session(values);
            let unoffered = (offered != Offered::Yes).then(|| {
                let status = match offered {
                    Offered::Masked => format!("{whose} masked STARTTLS as XXXXXXXA"),
                    _ => format!("{whose} offered no STARTTLS"),
                };
                Box::new(FailureRow {
                    session: session.clone(),
                    remote: remote(values),
                    time: take(values, columns.time),
                    connector: take(values, columns.connector),
                    kind: LogFailureKind::NoStartTls,
                    status: Value::Text(status),
                })
            });
            return Some((negotiated, What::Ehlo { session, unoffered }));
        }
        negotiated.map(|session| (Some(session), What::Negotiated))
    }

    /// What the EHLO response `data` offers; None when it is no EHLO response. A HELO response
    /// (`250 host Hello [address]`, no extensions) cannot offer STARTTLS and is no failure; a
    /// response logged one line to a row reads as one, and of its other lines only STARTTLS
    /// masked (`250-XXXXXXXA`) is judged: which lines a response lacks shows only in its end, and
    /// the connection a connector that requires TLS then drops tells that ([`TLS_REQUIRED`]).
    fn starttls_offered(&self, data: &str) -> Option<Offered> {
        if !data.starts_with("250") {
            return None;
        }
        // One line of a response logged one line to a row (SmtpSend logs do): only STARTTLS's
        // place masked tells something on its own.
        let line = data.strip_prefix("250-").or_else(|| data.strip_prefix("250 "));
        if line.is_some_and(masked) {
            return Some(Offered::Masked);
        }
        let at = self.ehlo_greeting.find(data.as_bytes())?;
        let (_, extensions) = data.get(at + EHLO_GREETING.len()..)?.split_once(']')?;
        // Mostly offered as Exchange writes it: found as a word without looking at the others.
        let bytes = extensions.as_bytes();
        let word_edge = |at: Option<&u8>| at.is_none_or(u8::is_ascii_whitespace);
        if let Some(at) = self.starttls.find(bytes) {
            if word_edge(at.checked_sub(1).and_then(|before| bytes.get(before)))
                && word_edge(bytes.get(at + 8))
            {
                return Some(Offered::Yes);
            }
        }
        let mut words = extensions.split_ascii_whitespace().peekable();
        words.peek()?;
        let mut offered = Offered::No;
        for word in words {
            if word.eq_ignore_ascii_case("STARTTLS") {
                return Some(Offered::Yes);
            }
            if masked(word) {
                offered = Offered::Masked;
            }
        }
        Some(offered)
    }

    /// The failure a field tells, with its status: `TLS negotiation failed with error X`,
    /// `TlsDomainCapabilities='None'; Status='X'`, a connection dropped for want of TLS, or a
    /// TLS 1.0 or 1.1 session (`protocol`: where the field holds `SP_PROT_TLS1_`).
    fn failure_of(&self, text: &str, protocol: Option<usize>) -> Option<(LogFailureKind, Status)> {
        if text.starts_with(DROP_CONNECTION) && self.tls_required.find(text.as_bytes()).is_some() {
            return Some((
                LogFailureKind::TlsRequired,
                Status::Named("TLS required before MAIL FROM"),
            ));
        }
        if let Some(rest) = text.strip_prefix(FAILURE) {
            let start = FAILURE.len() + (rest.len() - rest.trim_start().len());
            return Some((
                LogFailureKind::Negotiation,
                Status::Within(start..start + rest.trim().len()),
            ));
        }
        // The capabilities hold a `'`: most fields hold none, and are not searched.
        let capabilities = memchr::memchr(b'\'', text.as_bytes())
            .and_then(|_| self.domain_capabilities.find(text.as_bytes()));
        if let Some(at) = capabilities {
            let start = at + DOMAIN_CAPABILITIES_NONE.len();
            let rest = text.get(start..).unwrap_or_default();
            let status = rest.split('\'').next().unwrap_or(rest);
            return Some((
                LogFailureKind::DomainCapabilities,
                Status::Within(start..start + status.len()),
            ));
        }
        let at = protocol?;
        match text.as_bytes().get(at + TLS_PROTOCOL.len()) {
            Some(b'0') => Some((LogFailureKind::OldProtocol, Status::Named("TLS 1.0"))),
            Some(b'1') => Some((LogFailureKind::OldProtocol, Status::Named("TLS 1.1"))),
            _ => None,
        }
    }
}

/// Where [`Needles::failure_of`] found a failure's status.
#[derive(Debug, PartialEq, Eq)]
enum Status {
    /// These bytes of the field.
    Within(std::ops::Range<usize>),
    /// A name of its own.
    Named(&'static str),
}

/// A search for all of [`SUBSTRINGS`] at once.
enum Substrings {
    /// Packed SIMD (Teddy): the first bytes of every substring compared at once, 32 bytes of
    /// text at a time. The automaton's own choice, a memchr3 for three rare bytes, stopped at
    /// every `e` of "ertificate" and was three times slower.
    Packed(aho_corasick::packed::Searcher),
    /// Where the CPU has no SIMD Teddy can use.
    Automaton(AhoCorasick),
}

impl Substrings {
    fn new() -> Self {
        match aho_corasick::packed::Searcher::new(SUBSTRINGS) {
            Some(packed) => Substrings::Packed(packed),
            None => Substrings::Automaton(
                AhoCorasick::new(SUBSTRINGS).expect("a handful of short substrings fit any automaton"),
            ),
        }
    }

    /// Where in `text` one of the substrings starts: the first or another (the lines are what
    /// matters).
    fn find(&self, text: &[u8]) -> Option<usize> {
        match self {
            Substrings::Packed(searcher) => searcher.find(text),
            Substrings::Automaton(automaton) => automaton.find(text),
        }
        .map(|found| found.start())
    }
}

/// Where the address is in a remote endpoint, without its port: `203.0.113.5:25`,
/// `[2001:db8::5]:25`.
fn remote_address(remote: &str) -> std::ops::Range<usize> {
    let address = match remote.rsplit_once(':') {
        Some((address, port)) if port.bytes().all(|b| b.is_ascii_digit()) => address,
        _ => remote,
    };
    let start = address.len() - address.trim_start_matches('[').len();
    let end = start + address[start..].trim_end_matches(']').len();
    start..end
}

/// Whether a run of quotes in `line` sits between two bytes that are not field separators, so
/// that dropping it joins them. Each run is looked at once, as a whole: walking the run again
/// for each of its quotes made a field of N quotes cost N² (issue 18: a 1 MiB field took
/// minutes).
fn quotes_join_neighbours(line: &[u8]) -> bool {
    let mut from = 0;
    while let Some(start) = memchr::memchr(b'"', &line[from..]).map(|n| from + n) {
        let Some(end) = line[start..].iter().position(|&b| b != b'"').map(|n| start + n) else {
            return false;
        };
        if start > 0 && line[start - 1] != b',' && line[end] != b',' {
            return true;
        }
        from = end;
    }
    false
}

/// A session id as a key: Exchange's (16 hex digits, upper case) as the number they spell, so
/// that a session is looked up without an allocation; any other id as its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SessionKey {
    Hex(u64),
    Text(Box<str>),
}

impl SessionKey {
    fn of(session: &str) -> Self {
        let digit = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        };
        if session.len() == 16 {
            let number = session
                .bytes()
                .try_fold(0u64, |number, b| Some(number << 4 | u64::from(digit(b)?)));
            if let Some(number) = number {
                return SessionKey::Hex(number);
            }
        }
        SessionKey::Text(session.into())
    }
}

/// A row that changes the outcome, at its line within the text it was found in (from 0).
#[derive(Debug)]
struct Record {
    line: usize,
    /// The row names the protocol its session negotiated (`SP_PROT_TLS1_`): taken before
    /// `what`.
    negotiated: Option<SessionKey>,
    what: What,
}

/// What a row says (see [`Needles::what`]), its values by their offsets in the text; taken in
/// file order by [`Scanner::take`].
#[derive(Debug)]
enum What {
    /// A `#Fields:` header: its columns, or the first column hybridtls reads that it lacks.
    Header(Result<Columns, &'static str>),
    /// A row before the header.
    BeforeHeader,
    /// The row holds a character hybridtls refuses, at this column (from 1).
    Hidden(usize, char),
    /// The row has `found` fields where the header names `named`.
    FieldCount {
        found: usize,
        named: usize,
    },
    Sending {
        time: Value,
        connector: Value,
        session: SessionKey,
    },
    Subject {
        session: SessionKey,
        subject: Value,
    },
    Thumbprint {
        session: SessionKey,
        /// In upper case.
        thumbprint: Value,
    },
    AltNames {
        session: SessionKey,
    },
    /// Boxed: rare, and the largest.
    Failure(Box<FailureRow>),
    /// An EHLO response, and the failure it is unless its session negotiated TLS before
    /// (None: it offered STARTTLS).
    Ehlo {
        session: SessionKey,
        unoffered: Option<Box<FailureRow>>,
    },
    /// Nothing besides the protocol its session negotiated.
    Negotiated,
}

impl What {
    /// The row, its line starting at `start` in the text.
    fn shifted(self, start: usize) -> What {
        match self {
            What::Sending {
                time,
                connector,
                session,
            } => What::Sending {
                time: time.shifted(start),
                connector: connector.shifted(start),
                session,
            },
            What::Subject { session, subject } => What::Subject {
                session,
                subject: subject.shifted(start),
            },
            What::Thumbprint { session, thumbprint } => What::Thumbprint {
                session,
                thumbprint: thumbprint.shifted(start),
            },
            What::Failure(row) => What::Failure(row.shifted(start)),
            What::Ehlo { session, unoffered } => What::Ehlo {
                session,
                unoffered: unoffered.map(|row| row.shifted(start)),
            },
            other => other,
        }
    }
}

#[derive(Debug)]
struct FailureRow {
    session: SessionKey,
    time: Value,
    connector: Value,
    /// The remote address without its port.
    remote: Value,
    kind: LogFailureKind,
    status: Value,
}

impl FailureRow {
    fn shifted(mut self: Box<Self>, start: usize) -> Box<Self> {
        let FailureRow {
            time,
            connector,
            remote,
            status,
            ..
        } = &mut *self;
        for value in [time, connector, remote, status] {
            *value = std::mem::take(value).shifted(start);
        }
        self
    }
}

/// Whether an EHLO extension is STARTTLS's eight letters replaced by Xs: `XXXXXXXA` as admins
/// report it.
fn masked(word: &str) -> bool {
    word.len() == 8 && word.starts_with(MASKED)
}

/// What an EHLO response says of STARTTLS.
#[derive(Debug, PartialEq, Eq)]
enum Offered {
    Yes,
    No,
    /// Xs in its place (`XXXXXXXA`): a firewall's SMTP inspection (Cisco's ESMTP inspection)
    /// masked it.
    Masked,
}

/// How many sessions a [`RecentSessions`] remembers. A session's EHLO over TLS follows its
/// handshake, and a dropped connection its EHLO response, within the same second; a busy server
/// has a few hundred sessions open at once.
const REMEMBERED_SESSIONS: usize = 1 << 16;

/// The hasher of the reader's maps, which a busy log looks up several times per session: a
/// session id (a number), a thumbprint, a connector, a failure by remote address. foldhash,
/// where SipHash cost 3% of the cpu on a dense log. SipHash guards against keys chosen to
/// collide; these are what Exchange writes, and the addresses it connected with, which no
/// remote host picks by the thousand to slow down a log read offline. A fixed seed keeps runs
/// alike.
type Hasher = foldhash::fast::FixedState;

/// Sessions waiting for a later row of theirs (the sessions that negotiated TLS, for their EHLO
/// response over it); only the latest [`REMEMBERED_SESSIONS`], so that sessions that never log
/// that row do not make the memory grow with the log. Each is kept by its [`SessionKey`]: an
/// Exchange session id as its number, 8 bytes, so they cost about 3 MB at most.
#[derive(Default)]
struct RecentSessions {
    sessions: HashSet<SessionKey, Hasher>,
    /// The sessions in the order they were remembered (some perhaps already removed).
    order: std::collections::VecDeque<SessionKey>,
}

impl RecentSessions {
    fn insert(&mut self, session: SessionKey) {
        if self.sessions.insert(session.clone()) {
            self.order.push_back(session);
            if self.order.len() > REMEMBERED_SESSIONS {
                if let Some(oldest) = self.order.pop_front() {
                    self.sessions.remove(&oldest);
                }
            }
        }
    }

    /// Whether `session` was remembered; it is forgotten.
    fn remove(&mut self, session: &SessionKey) -> bool {
        self.sessions.remove(session)
    }
}

/// Reads a log from complete lines of text, in order, however they are cut into pieces.
struct Scanner<'f> {
    file: &'f str,
    columns: Option<Columns>,
    /// The latest sighting of each connector and certificate: a busy server logs a certificate
    /// for every TLS session, and keeping each (issue 20 point 8) made the memory grow with the
    /// log.
    sightings: Vec<Kept>,
    /// Where each sighting is: by connector (its index in `connectors`), then thumbprint.
    sighting_at: Vec<HashMap<String, usize, Hasher>>,
    connectors: Connectors,
    failures: FailureCounts,
    /// The sessions that negotiated TLS and have not yet sent their EHLO response over it.
    negotiated: RecentSessions,
    /// The sessions whose failure to start TLS was counted (an EHLO response without STARTTLS,
    /// a failed negotiation): the connection their connector then drops is not counted again.
    explained: RecentSessions,
    /// Session → its `Sending certificate` group that has not had its thumbprint yet: only the
    /// sessions being logged, whatever the log's size.
    open: HashMap<SessionKey, Kept, Hasher>,
    /// The first line of a group that never got its thumbprint.
    incomplete: Option<usize>,
    /// Lines before the current piece.
    lines: usize,
    /// The first error in the rows; the rest of the text is still checked, because an
    /// encoding error anywhere in the file is reported before it.
    error: Option<InputError>,
    needles: Needles,
}

/// A sighting as the scanner keeps it: its connector by index, its line by number; made a
/// [`Sighting`] at the end.
struct Kept {
    time: String,
    connector: usize,
    /// None while its group is open.
    thumbprint: Option<String>,
    subject: Option<String>,
    /// Where its `Sending certificate` row is.
    line: usize,
}

/// The connectors of a log, each kept once and named by its index: a log names a handful,
/// in every row.
#[derive(Default)]
struct Connectors {
    names: Vec<String>,
    index: HashMap<String, usize, Hasher>,
}

impl Connectors {
    fn index(&mut self, name: &str) -> usize {
        // Mostly the same connector as the row before.
        if self.names.last().is_some_and(|last| last == name) {
            return self.names.len() - 1;
        }
        if let Some(&at) = self.index.get(name) {
            return at;
        }
        self.index.insert(name.to_owned(), self.names.len());
        self.names.push(name.to_owned());
        self.names.len() - 1
    }
}

/// The TLS failures counted so far, one per connector, remote address, kind and status.
#[derive(Default)]
struct FailureCounts {
    list: Vec<LogFailure>,
    /// Where each is, by connector, remote, kind and status written as one key.
    at: HashMap<String, usize, Hasher>,
    /// The key of the row being counted, written here to look it up without an allocation.
    key: String,
}

impl FailureCounts {
    /// Counts the failure `row` on `line`, its values in `text`.
    fn count(&mut self, row: &FailureRow, line: usize, text: &[u8]) {
        use std::fmt::Write as _;
        let (connector, remote, kind) = (row.connector.get(text), row.remote.get(text), row.kind);
        let (status, time) = (row.status.get(text), row.time.get(text));
        // Each part after its length, so that no two keys read the same.
        self.key.clear();
        let _ = write!(
            self.key,
            "{kind:?}:{}:{connector}{}:{remote}{}:{status}",
            connector.len(),
            remote.len(),
            status.len()
        );
        match self.at.get(self.key.as_str()) {
            Some(&at) => {
                let failure = &mut self.list[at];
                failure.count += 1;
                // Logs are in time order, but a log given twice or out of order is not.
                if time < failure.first.as_str() {
                    failure.first = time.to_owned();
                }
                if time > failure.last.as_str() {
                    failure.last = time.to_owned();
                }
            }
            None => {
                self.at.insert(self.key.clone(), self.list.len());
                self.list.push(LogFailure {
                    connector: connector.to_owned(),
                    remote: remote.to_owned(),
                    kind,
                    status: status.to_owned(),
                    count: 1,
                    first: time.to_owned(),
                    last: time.to_owned(),
                    // Made at the end, with the file's name.
                    sample: Source {
                        file: String::new(),
                        position: Position::Line(line),
                    },
                });
            }
        }
    }
}

impl<'f> Scanner<'f> {
    fn new(file: &'f str) -> Self {
        Scanner {
            file,
            columns: None,
            sightings: Vec::new(),
            sighting_at: Vec::new(),
            connectors: Connectors::default(),
            failures: FailureCounts::default(),
            negotiated: RecentSessions::default(),
            explained: RecentSessions::default(),
            open: HashMap::default(),
            incomplete: None,
            lines: 0,
            error: None,
            needles: Needles::new(),
        }
    }

    /// Reads `text`: whole lines, the last one ending in `\n` unless the log ends there.
    fn feed(&mut self, text: &str) {
        let mut rest = text;
        let mut values = Vec::new();
        // Up to the header every line is read: a row before it is an error.
        while self.columns.is_none() && self.error.is_none() && !rest.is_empty() {
            let (line, after) = match rest.find('\n') {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, ""),
            };
            self.lines += 1;
            let line = line.strip_suffix('\r').unwrap_or(line);
            let quoted = line.contains('"');
            if let Some((negotiated, what)) =
                self.needles
                    .what(line, quoted, self.columns.as_ref(), &mut values)
            {
                self.take(negotiated, what, self.lines, line.as_bytes());
            }
            rest = after;
        }
        self.rows_that_matter(rest);
    }

    /// Reads only the lines of `text` that can change the outcome (see [`Needles`]), and
    /// counts the others.
    fn rows_that_matter(&mut self, text: &str) {
        let lines = count_lines(text.as_bytes());
        match (self.columns, &self.error) {
            (Some(columns), None) => {
                let records = self.needles.classify(text, None, !text.is_ascii(), columns);
                self.take_records(records, lines, text.as_bytes());
            }
            _ => self.lines += lines,
        }
    }

    /// Takes, in order, the records [`Needles::classify`] made of `text`, a piece of `lines`
    /// line feeds after the header.
    fn take_records(&mut self, records: Vec<Record>, lines: usize, text: &[u8]) {
        if self.error.is_none() {
            let before = self.lines;
            for record in records {
                self.take(record.negotiated, record.what, before + record.line + 1, text);
                if self.error.is_some() {
                    break;
                }
            }
        }
        self.lines += lines;
    }

    /// What the row on line `number` (from 1) says, taken in file order; its values are in
    /// `text`.
    fn take(&mut self, negotiated: Option<SessionKey>, what: What, number: usize, text: &[u8]) {
        if let Some(session) = negotiated {
            self.negotiated.insert(session);
        }
        let at = |column| Position::LineColumn { line: number, column };
        let error = |message: String| InputError::new(self.file, message).hint(DAMAGED_LOG_HINT);
        match what {
            What::Header(Ok(columns)) => self.columns = Some(columns),
            What::Header(Err(missing)) => {
                self.error = Some(
                    error(format!(
                        "the #Fields: header has no {missing} column, which hybridtls reads"
                    ))
                    .at(at(1)),
                )
            }
            What::BeforeHeader => {
                self.error = Some(
                    InputError::new(self.file, "a log row before the #Fields: header")
                        .at(at(1))
                        .hint("give hybridtls the whole log file, header included"),
                )
            }
            What::Hidden(column, character) => {
                self.error = Some(
                    error(format!(
                        "the row holds the invisible character U+{:04X}; hybridtls refuses it because it would hide or rewrite text in the terminal, the report and the script",
                        u32::from(character)
                    ))
                    .at(at(column)),
                )
            }
            What::FieldCount { found, named } => {
                self.error = Some(
                    error(format!(
                        "the row has {found} fields where the #Fields: header names {named}: the log is cut off or damaged here"
                    ))
                    .at(at(1)),
                )
            }
            What::Sending {
                time,
                connector,
                session,
            } => {
                let sighting = Kept {
                    time: time.get(text).to_owned(),
                    connector: self.connectors.index(connector.get(text)),
                    thumbprint: None,
                    subject: None,
                    line: number,
                };
                if let Some(earlier) = self.open.insert(session, sighting) {
                    self.incomplete_at(earlier.line);
                }
            }
            What::Failure(row) => {
                match row.kind {
                    LogFailureKind::Negotiation => {
                        self.negotiated.remove(&row.session);
                        self.explained.insert(row.session.clone());
                    }
                    LogFailureKind::TlsRequired if self.explained.remove(&row.session) => return,
                    _ => {}
                }
                self.failures.count(&row, number, text);
            }
            What::Ehlo { session, unoffered } => {
                // The response to the EHLO sent again over TLS lists no STARTTLS, rightly.
                let over_tls = self.negotiated.remove(&session);
                if let Some(row) = unoffered.filter(|_| !over_tls) {
                    self.failures.count(&row, number, text);
                    self.explained.insert(session);
                }
            }
            What::Negotiated => {}
            What::Subject { session, subject } => {
                if let Some(sighting) = self.open.get_mut(&session) {
                    sighting.subject = Some(subject.get(text).to_owned());
                }
            }
            What::AltNames { session } => {
                if let Some(sighting) = self.open.remove(&session) {
                    self.incomplete_at(sighting.line);
                }
            }
            What::Thumbprint { session, thumbprint } => {
                let Some(mut sighting) = self.open.remove(&session) else {
                    return;
                };
                if self.sighting_at.len() <= sighting.connector {
                    self.sighting_at.resize_with(sighting.connector + 1, HashMap::default);
                }
                let at = &mut self.sighting_at[sighting.connector];
                let thumbprint = thumbprint.get(text);
                match at.get(thumbprint) {
                    // Of equal times the later row wins, as it did when every row was kept.
                    Some(&at) if sighting.time >= self.sightings[at].time => {
                        let kept = &mut self.sightings[at];
                        sighting.thumbprint = kept.thumbprint.take();
                        *kept = sighting;
                    }
                    Some(_) => {}
                    None => {
                        let thumbprint = thumbprint.to_owned();
                        at.insert(thumbprint.clone(), self.sightings.len());
                        sighting.thumbprint = Some(thumbprint);
                        self.sightings.push(sighting);
                    }
                }
            }
        }
    }

    /// A `Sending certificate` group from `line` on ended without its thumbprint.
    fn incomplete_at(&mut self, line: usize) {
        self.incomplete = Some(self.incomplete.map_or(line, |first| first.min(line)));
    }

    fn finish(self) -> Result<Log, InputError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.columns.is_none() {
            return Err(InputError::new(
                self.file,
                "an SMTP protocol log without a #Fields: header",
            ));
        }
        // Exchange logs a certificate as six rows at once; one without its thumbprint row was
        // cut off (a copy of a log being written) or damaged, and dropping it would hide that
        // certificate.
        let still_open = self.open.values().map(|sighting| sighting.line).min();
        let first = match (self.incomplete, still_open) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(line) = first {
            return Err(InputError::new(
                self.file,
                "the certificate logged from this line on has no Certificate thumbprint row: the log is cut off or damaged",
            )
            .at(Position::LineColumn { line, column: 1 })
            .hint(DAMAGED_LOG_HINT));
        }
        let source = |line| Source {
            file: self.file.to_owned(),
            position: Position::Line(line),
        };
        let connectors = &self.connectors.names;
        let sightings = self
            .sightings
            .into_iter()
            .map(|kept| Sighting {
                time: kept.time,
                connector: connectors.get(kept.connector).cloned().unwrap_or_default(),
                thumbprint: kept.thumbprint,
                subject: kept.subject,
                source: source(kept.line),
            })
            .collect();
        let mut failures = self.failures.list;
        for failure in &mut failures {
            failure.sample.file = self.file.to_owned();
        }
        Ok(Log { sightings, failures })
    }
}

/// Counts the lines of a piece of text up to a position, resuming where it last stopped.
struct LineCounter<'t> {
    text: &'t [u8],
    /// The line feeds before each 64 bytes of `text`, and after the last whole 64, when known
    /// ([`survey`]): a row's line is then the count before its block and the feeds before it
    /// within the block, where counting from the row before read every byte between them one by
    /// one (most of the time taking a row cost, on a log where every session sends its
    /// certificate).
    feeds_before: Option<&'t [u32]>,
    counted: usize,
    /// Lines ended before `counted`.
    ended: usize,
}

impl LineCounter<'_> {
    /// The line (from 0) that starts at byte `start`, which never decreases.
    fn line_at(&mut self, start: usize) -> usize {
        let block = start / 64;
        if let Some(&before) = self.feeds_before.and_then(|feeds| feeds.get(block)) {
            let from = block * 64;
            return before as usize
                + match self
                    .text
                    .get(from..from + 64)
                    .and_then(|b| <&[u8; 64]>::try_from(b).ok())
                {
                    Some(whole) => feeds_in_first(whole, start - from),
                    // The part of a block after the last whole 64.
                    None => count_lines(&self.text[from..start]),
                };
        }
        self.ended += count_lines(&self.text[self.counted..start]);
        self.counted = start;
        self.ended
    }
}

/// The line feeds in the first `end` bytes of `block`: a count over all 64 bytes that leaves
/// out those from `end` on, which the compiler turns into whole-register compares; a count of
/// the first `end` bytes one by one is not.
fn feeds_in_first(block: &[u8; 64], end: usize) -> usize {
    let feeds = block
        .iter()
        .enumerate()
        .fold(0u8, |n, (at, &b)| n + u8::from((b == b'\n') & (at < end)));
    usize::from(feeds)
}

/// Lines ended in `bytes` (its `\n`s). Counted per 64-byte block in a byte-wide sum, which the
/// compiler turns into whole-register compares; a sum over the bytes one by one is not.
fn count_lines(bytes: &[u8]) -> usize {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let in_blocks: usize = blocks
        .map(|block| usize::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'))))
        .sum();
    // At most 63: a byte-wide sum too, which a count widened to 64 bits for each byte is not.
    in_blocks + usize::from(rest.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')))
}

/// The line feeds in `bytes`, and whether it may hold a binary character (see
/// [`text::first_binary_character`]), in one pass: per 64-byte block, byte-wide sums and ors
/// the compiler turns into whole-register compares. `feeds_before` gets the feeds before each
/// whole block and after the last ([`LineCounter`]). Non-ASCII bytes are suspects too, the C1
/// controls among them.
fn survey(bytes: &[u8], feeds_before: &mut Vec<u32>) -> (usize, bool) {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let mut lines = 0;
    let mut suspect = 0u8;
    feeds_before.clear();
    feeds_before.reserve(bytes.len() / 64 + 1);
    for block in blocks {
        let (feeds, odd) = block.iter().fold((0u8, 0u8), |(feeds, odd), &b| {
            let binary = (b < 0x09) | ((b > 0x0D) & (b < 0x20)) | (b >= 0x7F);
            (feeds + u8::from(b == b'\n'), odd | u8::from(binary))
        });
        // A piece's line feeds are those of its last block read (the part of a line before
        // it holds none): far fewer than 2^32.
        feeds_before.push(lines as u32);
        lines += usize::from(feeds);
        suspect |= odd;
    }
    feeds_before.push(lines as u32);
    let rest_suspect = rest
        .iter()
        .any(|&b| b < 0x09 || (b > 0x0D && b < 0x20) || b >= 0x7F);
    (lines + count_lines(rest), suspect != 0 || rest_suspect)
}

/// A protocol log read by [`stream`].
pub struct Streamed {
    pub log: Log,
    /// BLAKE3 of the file's bytes, lowercase hex.
    pub blake3: String,
    pub encoding: Encoding,
    /// How many bytes were read: the file's size unless it changed while it was read.
    pub bytes: u64,
}

/// How many bytes are read at a time (see [`IN_FLIGHT`] for how many pieces are alive at once).
const BLOCK: usize = 1 << 20;

/// How far [`streams`] looks for the first six lines. A file whose header lines are longer is
/// no log Exchange wrote; it is read whole like any export (and refused when over the cap).
const HEAD_BYTES: usize = 1 << 20;

/// Whether the opened `file` (of `size` bytes) is a protocol log that [`stream`] reads: one
/// that starts like one (its first six lines) and is not UTF-16, which is decoded whole like
/// any export.
pub fn streams(mut file: &std::fs::File, size: u64) -> std::io::Result<bool> {
    let mut head = Vec::new();
    let mut block = vec![0; 64 * 1024];
    while memchr::memchr_iter(b'\n', &head).count() < 6 {
        if head.len() >= HEAD_BYTES {
            return Ok(false);
        }
        let read = file.read(&mut block)?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&block[..read]);
    }
    let (bom, rest) = split_bom(&head);
    let utf16 = matches!(bom, Some(Bom::Utf16Le | Bom::Utf16Be))
        || (bom.is_none() && text::starts_like_utf16le(rest, size));
    Ok(!utf16 && is_protocol_log(&String::from_utf8_lossy(rest)))
}

/// Reads the UTF-8 (or, failing that, Windows-1252) protocol log opened as `file`, from its
/// start, in one pass: its sightings, and the BLAKE3 of its bytes computed by the reading
/// thread as they go by.
pub fn stream(name: &str, file: &std::fs::File, progress: &dyn Progress) -> Result<Streamed, InputError> {
    match stream_as(name, file, progress, None)? {
        Ok(streamed) => Ok(streamed),
        // Not UTF-8 after all: read the file again as the ANSI code page, as a whole-text read
        // would have decoded it.
        Err(offset) => stream_as(name, file, &(), Some(offset))?
            .map_err(|_| InputError::new(name, "cannot decode the log as Windows-1252")),
    }
}

/// How many pieces are alive at once, whatever the size of the file: being read, waiting to be
/// examined, examined and waiting for their turn, being taken in order. Their buffers are read
/// into again.
const IN_FLIGHT: usize = 6;

/// How many threads examine pieces at most (one per core up to this).
const MAX_EXAMINERS: usize = 8;

/// One piece of a log: whole lines (the last one unended only at the end of the file), the
/// first piece with the byte order mark, if any, which is fingerprinted but not text.
struct Piece {
    bytes: Vec<u8>,
    /// Where the text starts in `bytes`: after the byte order mark.
    text_start: usize,
    /// Where the text ends in `bytes`: after its last line feed, or at the end of the file. The
    /// part of a line after it is the next piece's text too.
    text_end: usize,
    /// Where the text starts in the file.
    offset: usize,
    /// Where the bytes read for this piece start in `bytes` (the part of a line before them
    /// was read for the piece before), and where they are in the file: blocks of [`BLOCK`]
    /// bytes at multiples of it, the last one perhaps shorter, which are fingerprinted.
    fresh: usize,
    fresh_offset: u64,
}

impl Piece {
    fn text(&self) -> &[u8] {
        &self.bytes[self.text_start..self.text_end]
    }

    /// The BLAKE3 subtrees of the blocks read for this piece.
    fn subtrees(&self) -> Vec<Subtree> {
        subtrees(&self.bytes[self.fresh..], self.fresh_offset)
    }
}

/// The BLAKE3 subtrees of `bytes`, blocks read from the file at `offset`, a multiple of
/// [`BLOCK`]: every block but the file's last is [`BLOCK`] bytes.
fn subtrees(bytes: &[u8], offset: u64) -> Vec<Subtree> {
    use blake3::hazmat::HasherExt;
    let mut offset = offset;
    let mut subtrees = Vec::new();
    for block in bytes.chunks(BLOCK) {
        subtrees.push(Subtree {
            value: blake3::Hasher::new()
                .set_input_offset(offset)
                .update(block)
                .finalize_non_root(),
            bytes: block.len() as u64,
            alone: (offset == 0).then(|| blake3::hash(block)),
        });
        offset += block.len() as u64;
    }
    subtrees
}

/// The BLAKE3 chaining value of one block of a file: a block of [`BLOCK`] bytes (a power of
/// two of chunks) at a multiple of it is a whole subtree of the file's BLAKE3 tree, and so is
/// the shorter last block, so blocks are hashed apart, each on the thread that examines it,
/// and merged in file order ([`Fingerprint`]).
struct Subtree {
    value: blake3::hazmat::ChainingValue,
    bytes: u64,
    /// The first block's hash as the whole file, which it is when there is no other.
    alone: Option<blake3::Hash>,
}

/// The BLAKE3 of a file from its blocks' subtrees, taken in order: merged as BLAKE3's own
/// hasher merges chunks, the complete subtrees as soon as more input follows them, the rest at
/// the end, the last merge as the root. The same value as hashing the bytes in one go (checked
/// against `blake3::hash` in the tests, and by `b3sum`): hashing them all on the thread that
/// reads them made that thread the slowest of the reading (42% of the cpu on a sparse log).
#[derive(Default)]
struct Fingerprint {
    stack: Vec<blake3::hazmat::ChainingValue>,
    subtrees: u64,
    bytes: u64,
    alone: Option<blake3::Hash>,
}

impl Fingerprint {
    fn push(&mut self, subtree: Subtree) {
        use blake3::hazmat::{merge_subtrees_non_root, Mode};
        // More input follows what is on the stack: the subtrees it completes are merged.
        while self.stack.len() > self.subtrees.count_ones() as usize {
            let (Some(right), Some(left)) = (self.stack.pop(), self.stack.pop()) else {
                break;
            };
            self.stack
                .push(merge_subtrees_non_root(&left, &right, Mode::Hash));
        }
        if self.subtrees == 0 {
            self.alone = subtree.alone;
        }
        self.stack.push(subtree.value);
        self.subtrees += 1;
        self.bytes += subtree.bytes;
    }

    fn finish(mut self) -> blake3::Hash {
        use blake3::hazmat::{merge_subtrees_non_root, merge_subtrees_root, Mode};
        while self.stack.len() > 2 {
            let (Some(right), Some(left)) = (self.stack.pop(), self.stack.pop()) else {
                break;
            };
            self.stack
                .push(merge_subtrees_non_root(&left, &right, Mode::Hash));
        }
        match self.stack[..] {
            [left, right] => merge_subtrees_root(&left, &right, Mode::Hash),
            // One block: the file's hash is that block's, as the root.
            _ => self.alone.unwrap_or_else(|| blake3::hash(b"")),
        }
    }
}

/// Cuts a file into [`Piece`]s of about [`BLOCK`] bytes at line ends.
struct Pieces<'a> {
    name: &'a str,
    file: std::fs::File,
    /// The part after the last line feed read so far.
    carry: Vec<u8>,
    /// Text bytes handed out so far.
    offset: usize,
    /// File bytes read so far.
    read: u64,
    /// Bytes left up to the size the file had when reading began: a log Exchange appends to
    /// while it is read is read no further (and then refused as changed), so neither the time
    /// nor the memory follows its growth (issue 20 point 8).
    remaining: u64,
    at_end: bool,
}

impl Pieces<'_> {
    /// The next piece, read into `buffer` (a used one: fresh megabytes would cost a page fault
    /// per page, more than the reading itself); None at the end of the file.
    fn next(&mut self, mut buffer: Vec<u8>, progress: &dyn Progress) -> Result<Option<Piece>, InputError> {
        if self.at_end {
            return Ok(None);
        }
        buffer.clear();
        buffer.extend_from_slice(&self.carry);
        self.carry.clear();
        let (fresh, fresh_offset) = (buffer.len(), self.read);
        // Whole lines only: the part after the last line feed waits for the next piece. A line
        // longer than a block is read on into the same buffer and only its new part searched,
        // so that a long line costs what it weighs (copying it again for each block did not).
        // The part of a line after the last line feed is kept too (it is fingerprinted with
        // its block) and copied to the next piece, whose text it starts.
        let mut searched = buffer.len();
        let text_end = loop {
            let want = BLOCK.min(usize::try_from(self.remaining).unwrap_or(BLOCK));
            let read = read_block(&mut self.file, &mut buffer, want)
                .map_err(|e| InputError::new(self.name, format!("cannot read: {e}")))?;
            progress.advance(read as u64);
            self.remaining -= read as u64;
            self.read += read as u64;
            self.at_end = read < BLOCK;
            if self.at_end {
                break buffer.len();
            }
            if let Some(last) = memchr::memrchr(b'\n', &buffer[searched..]) {
                let end = searched + last + 1;
                self.carry.extend_from_slice(&buffer[end..]);
                break end;
            }
            guard_line_length(self.name, &buffer)?;
            searched = buffer.len();
        };
        if buffer.is_empty() {
            return Ok(None);
        }
        let offset = self.offset;
        self.offset += text_end;
        // A UTF-16 log was never streamed ([`streams`]): a UTF-8 one is all a BOM can mark.
        let text_start = match offset {
            0 => buffer.len() - split_bom(&buffer).1.len(),
            _ => 0,
        };
        Ok(Some(Piece {
            bytes: buffer,
            text_start,
            text_end,
            offset: offset + text_start,
            fresh,
            fresh_offset,
        }))
    }
}

/// What a piece holds, found without the scanner's state so that pieces are examined in
/// parallel; [`Decoder::apply`] then takes them in file order.
struct Examined {
    /// `Err(valid_up_to)` when the piece is not UTF-8 (never when read as Windows-1252).
    utf8: Result<(), usize>,
    /// The first binary character and its position within the piece.
    binary: Option<(Position, char)>,
    /// The rows that change the outcome (see [`Needles::classify`]), judged with these
    /// columns; None when the piece was not judged (no header was known when it was examined).
    rows: Option<(Columns, Vec<Record>)>,
    /// The piece's text when decoding made it another (Windows-1252 text that is not ASCII),
    /// which the records' offsets are in; else they are in the piece's text.
    decoded: Option<String>,
    /// Line feeds in the piece.
    lines: usize,
    /// Whether the piece, read as Windows-1252, holds UTF-8 characters (see
    /// [`text::holds_utf8_characters`]).
    utf8_characters: bool,
}

/// A piece's text: Windows-1252 decoded, or UTF-8 as it is; `Err(valid_up_to)` when it is not
/// UTF-8.
fn decode(bytes: &[u8], windows_1252: bool) -> Result<Cow<'_, str>, usize> {
    if windows_1252 {
        Ok(encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0)
    } else {
        std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|e| e.valid_up_to())
    }
}

/// Examines `bytes`, a piece of the log, and judges its rows with `columns`, the columns of
/// the latest header taken in order when the piece was handed out (None: none yet).
fn examine(bytes: &[u8], windows_1252: bool, needles: &Needles, columns: Option<Columns>) -> Examined {
    let mut feeds = Vec::new();
    let (lines, suspect) = survey(bytes, &mut feeds);
    let examined = |rows| Examined {
        utf8: Ok(()),
        binary: None,
        rows,
        decoded: None,
        lines,
        utf8_characters: false,
    };
    if !suspect {
        // ASCII without a control character: UTF-8, the same text in Windows-1252, and no
        // binary character, so nothing to decode or look for.
        // ASCII is UTF-8, but only a check says so without `unsafe`: SIMD, AVX2 where the CPU
        // has it (simdutf8), several times faster than `str::from_utf8` on a whole piece.
        let text = simdutf8::basic::from_utf8(bytes).unwrap_or_default();
        return examined(
            columns.map(|columns| (columns, needles.classify(text, Some(&feeds), false, columns))),
        );
    }
    if windows_1252 && text::holds_utf8_characters(bytes) {
        return Examined {
            utf8_characters: true,
            ..examined(None)
        };
    }
    let text = match decode(bytes, windows_1252) {
        Ok(text) => text,
        Err(valid_up_to) => {
            return Examined {
                utf8: Err(valid_up_to),
                ..examined(None)
            }
        }
    };
    if let Some(at) = text::first_binary_character(&text) {
        let character = text[at..].chars().next().unwrap_or_default();
        return Examined {
            binary: Some((text::line_column(&text, at), character)),
            ..examined(None)
        };
    }
    // The feeds are the piece's, not those of a text decoded from it.
    let feeds = matches!(text, Cow::Borrowed(_)).then_some(feeds.as_slice());
    let rows = columns.map(|columns| (columns, needles.classify(&text, feeds, !text.is_ascii(), columns)));
    Examined {
        decoded: match text {
            Cow::Owned(text) => Some(text),
            Cow::Borrowed(_) => None,
        },
        ..examined(rows)
    }
}

/// One pass over the file; `Ok(Err(offset))` when it holds invalid UTF-8 from file byte
/// `offset` on without a BOM, so that it must be read again as Windows-1252, with
/// `not_utf8_from` that offset (the error when it holds UTF-8 characters after all).
///
/// One thread reads the pieces; one thread per core examines them as they come, fingerprints
/// their blocks ([`Fingerprint`]) and judges their rows; this thread takes the examined pieces
/// in file order, merges the fingerprints, and hands the buffers back to be read into again.
/// Taking the rows in order while the next pieces are examined keeps every core busy, where
/// examining a window of pieces and then taking it left one idle half the time; and the thread
/// that reads, which also hashed every byte, no longer holds the others back.
fn stream_as(
    name: &str,
    file: &std::fs::File,
    progress: &dyn Progress,
    not_utf8_from: Option<usize>,
) -> Result<Result<Streamed, usize>, InputError> {
    let windows_1252 = not_utf8_from.is_some();
    let cannot_read = |e: std::io::Error| InputError::new(name, format!("cannot read: {e}"));
    let mut file = file.try_clone().map_err(cannot_read)?;
    file.seek(std::io::SeekFrom::Start(0)).map_err(cannot_read)?;
    let size = file.metadata().map_err(cannot_read)?.len();
    let mut pieces = Pieces {
        name,
        file,
        carry: Vec::new(),
        offset: 0,
        read: 0,
        remaining: size,
        at_end: false,
    };
    let needles = Needles::new();
    let mut fingerprint = Fingerprint::default();
    let mut decoder = Decoder::new(name, not_utf8_from);
    let mut scanner = Scanner::new(name);
    // The columns of the latest header taken, which the examiners judge rows with.
    let columns = Mutex::new(None::<Columns>);
    let examiners = std::thread::available_parallelism().map_or(2, |n| n.get().min(MAX_EXAMINERS));
    let (to_examiners, work) = mpsc::channel::<(usize, Piece)>();
    let work = Mutex::new(work);
    let not_utf8 = std::thread::scope(|scope| {
        let (to_taker, examined) =
            mpsc::channel::<(usize, Result<(Piece, Examined, Vec<Subtree>), InputError>)>();
        let (to_reader, used) = mpsc::channel::<Vec<u8>>();
        let reader_to_taker = to_taker.clone();
        scope.spawn(move || {
            let mut buffers = 0;
            for index in 0.. {
                // Fresh megabytes would cost a page fault per page, more than the reading
                // itself: a used buffer if there is one, a new one while fewer than
                // IN_FLIGHT are alive, else wait for one.
                let buffer = match used.try_recv() {
                    Ok(buffer) => buffer,
                    Err(_) if buffers < IN_FLIGHT => {
                        buffers += 1;
                        Vec::new()
                    }
                    // None: the taker stopped early, at an error; nothing to do.
                    Err(_) => match used.recv() {
                        Ok(buffer) => buffer,
                        Err(_) => break,
                    },
                };
                match pieces.next(buffer, progress) {
                    Ok(Some(piece)) => {
                        if to_examiners.send((index, piece)).is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        let _ = reader_to_taker.send((index, Err(error)));
                        break;
                    }
                }
            }
        });
        for _ in 0..examiners {
            let to_taker = to_taker.clone();
            let (work, columns, needles) = (&work, &columns, &needles);
            scope.spawn(move || loop {
                // Ends when the reader has read everything, or stopped.
                let Ok(Ok((index, piece))) = work.lock().map(|work| work.recv()) else {
                    break;
                };
                let columns = *columns.lock().unwrap_or_else(PoisonError::into_inner);
                let examined = examine(piece.text(), windows_1252, needles, columns);
                let subtrees = piece.subtrees();
                if to_taker.send((index, Ok((piece, examined, subtrees)))).is_err() {
                    break;
                }
            });
        }
        drop(to_taker);
        // The pieces examined ahead of their turn, by their index.
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        for (index, result) in examined {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&next) {
                next += 1;
                let (piece, examined, subtrees) = result?;
                for subtree in subtrees {
                    fingerprint.push(subtree);
                }
                // Only the first piece starts after a byte order mark.
                decoder.bom |= piece.text_start > 0;
                match decoder.apply(examined, &piece, &mut scanner) {
                    Step::Go => {}
                    Step::NotUtf8(offset) => return Ok(Some(offset)),
                    Step::Failed(error) => return Err(error),
                }
                *columns.lock().unwrap_or_else(PoisonError::into_inner) = scanner.columns;
                // The reader may have finished already.
                let _ = to_reader.send(piece.bytes);
            }
        }
        Ok(None)
    })?;
    if let Some(offset) = not_utf8 {
        return Ok(Err(offset));
    }
    let bytes = fingerprint.bytes;
    let blake3 = fingerprint.finish().to_hex().to_string();
    if let Some(error) = decoder.error {
        return Err(error);
    }
    let encoding = match (windows_1252, decoder.bom) {
        (true, _) => Encoding::Windows1252,
        (false, true) => Encoding::Utf8Bom,
        (false, false) => Encoding::Utf8,
    };
    Ok(Ok(Streamed {
        log: scanner.finish()?,
        blake3,
        encoding,
        bytes,
    }))
}

/// Appends up to `want` (at most [`BLOCK`]) bytes of `file` to `bytes` and says how many;
/// fewer only at the end of the file.
fn read_block(file: &mut std::fs::File, bytes: &mut Vec<u8>, want: usize) -> std::io::Result<usize> {
    bytes.reserve(BLOCK);
    file.by_ref().take(want as u64).read_to_end(bytes)
}

/// A line longer than any export hybridtls reads whole is damage, and holding it would undo
/// the flat memory.
fn guard_line_length(name: &str, line: &[u8]) -> Result<(), InputError> {
    if line.len() as u64 > super::MAX_FILE_BYTES {
        return Err(InputError::new(
            name,
            format!(
                "a line of more than {} bytes: not an Exchange protocol log",
                super::MAX_FILE_BYTES
            ),
        ));
    }
    Ok(())
}

enum Step {
    Go,
    /// Not UTF-8 from this file byte on.
    NotUtf8(usize),
    Failed(InputError),
}

/// Checks each piece as [`text::decode`] checks a whole text, and hands the text to the
/// scanner. Errors come in the order a whole read gives them: invalid UTF-8 after a BOM first,
/// then the first binary character, then the rows' errors.
struct Decoder<'f> {
    file: &'f str,
    windows_1252: bool,
    /// When reading as Windows-1252: where the text stopped being UTF-8.
    not_utf8_from: Option<usize>,
    bom: bool,
    /// The first binary character, reported once the rest of the file proved to be UTF-8.
    error: Option<InputError>,
}

impl<'f> Decoder<'f> {
    fn new(file: &'f str, not_utf8_from: Option<usize>) -> Self {
        Decoder {
            file,
            windows_1252: not_utf8_from.is_some(),
            not_utf8_from,
            bom: false,
            error: None,
        }
    }

    /// Takes `piece`, examined in parallel, in file order: its errors, then its rows (up to
    /// the header every line of it is read, in order).
    fn apply(&mut self, examined: Examined, piece: &Piece, scanner: &mut Scanner) -> Step {
        if let (Some(offset), true) = (self.not_utf8_from, examined.utf8_characters) {
            return Step::Failed(text::almost_utf8(self.file, offset));
        }
        match examined.utf8 {
            Err(valid_up_to) if self.bom => {
                return Step::Failed(text::invalid_utf8_after_bom(
                    self.file,
                    piece.offset + valid_up_to,
                ))
            }
            Err(valid_up_to) => return Step::NotUtf8(piece.offset + valid_up_to),
            Ok(()) => {}
        }
        if self.error.is_some() {
            return Step::Go;
        }
        if let Some((position, character)) = examined.binary {
            // The position is within the piece; the lines before it come first.
            let position = match position {
                Position::LineColumn { line, column } => Position::LineColumn {
                    line: scanner.lines + line,
                    column,
                },
                other => other,
            };
            self.error = Some(text::binary_text(self.file, character, position));
            return Step::Go;
        }
        match examined.rows {
            _ if scanner.columns.is_none() && scanner.error.is_none() => {
                // Checked above: the text decodes.
                if let Ok(text) = decode(piece.text(), self.windows_1252) {
                    scanner.feed(&text);
                }
            }
            Some((columns, records)) if scanner.columns == Some(columns) || scanner.error.is_some() => {
                let text = examined
                    .decoded
                    .as_ref()
                    .map_or(piece.text(), |text| text.as_bytes());
                scanner.take_records(records, examined.lines, text)
            }
            // Judged with other columns than a header in the window left, or not at all.
            _ => {
                if let Ok(text) = decode(piece.text(), self.windows_1252) {
                    scanner.rows_that_matter(&text);
                }
            }
        }
        Step::Go
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n#Log-type: SMTP Receive Protocol Log\r\n#Date: 2017-04-14T17:00:00.000Z\r\n#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,20,172.20.102.10:25,155.39.36.248:30648,*,,Sending certificate\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,21,172.20.102.10:25,155.39.36.248:30648,*,\"CN=SERVER1, O=\"\"A, B\"\"\",Certificate subject\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,24,172.20.102.10:25,155.39.36.248:30648,*,9876534210fedcba9876534210fedcba12345678,Certificate thumbprint\r\n\
2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,25,172.20.102.10:25,155.39.36.248:30648,*,SERVER1;SERVER1.domain.com,Certificate alternate names\r\n\
2019-05-02T06:32:14.000Z,Outbound to Office 365,08D6CE9B3B8A3D4E,7,10.0.0.5:23456,104.47.1.1:25,*,,TLS negotiation failed with error NoCredentials\r\n";

    #[test]
    fn reads_the_certificate_sent_and_tls_failures() {
        assert!(is_protocol_log(LOG));
        let log = read("RECV.LOG", LOG).unwrap();
        let sightings = &log.sightings;
        assert_eq!(sightings.len(), 1);
        assert_eq!(sightings[0].connector, "SERVER1\\Default Frontend SERVER1");
        assert_eq!(
            sightings[0].thumbprint.as_deref(),
            Some("9876534210FEDCBA9876534210FEDCBA12345678")
        );
        assert_eq!(sightings[0].subject.as_deref(), Some("CN=SERVER1, O=\"A, B\""));
        assert_eq!(log.failures.len(), 1);
        assert_eq!(log.failures[0].status, "NoCredentials");
        assert_eq!(log.failures[0].remote, "104.47.1.1");
        assert_eq!(log.failures[0].sample.position, Position::Line(10));
    }

    /// A certificate row is what its context says: a subject that reads like a failure or a
    /// protocol is the certificate's subject.
    #[test]
    fn certificate_rows_are_read_by_their_context_whatever_their_data() {
        let row = |sequence: u32, data: &str, context: &str| {
            format!("2017-04-14T17:00:41.125Z,SERVER1\\Default Frontend SERVER1,08D479E14521204D,{sequence},172.20.102.10:25,155.39.36.248:30648,*,{data},{context}\r\n")
        };
        let header = LOG.split_inclusive('\n').take(5).collect::<String>();
        let subject = "CN=TLS negotiation failed with error NoCredentials SP_PROT_TLS1_0";
        let log = header
            + &row(1, "", "Sending certificate")
            + &row(2, subject, "Certificate subject")
            + &row(
                3,
                "9876534210FEDCBA9876534210FEDCBA12345678",
                "Certificate thumbprint",
            );
        let log = read("RECV.LOG", &log).unwrap();
        assert!(log.failures.is_empty(), "{:?}", log.failures);
        assert_eq!(log.sightings.len(), 1);
        assert_eq!(log.sightings[0].subject.as_deref(), Some(subject));
    }

    /// The line of a position from the survey's counts is the count of line feeds before it,
    /// in whole blocks, in the part after the last, at a block's first and last byte, and
    /// without the survey's counts.
    #[test]
    fn a_rows_line_from_the_surveys_counts_is_the_line_feeds_before_it() {
        // Lines of 0 to 150 bytes, runs of line feeds among them, and a part after the last
        // whole 64 bytes.
        let mut text = Vec::new();
        for n in 0..400usize {
            text.extend(std::iter::repeat_n(b'a', (n * 37) % 151));
            text.extend(std::iter::repeat_n(b'\n', 1 + n % 3));
        }
        text.extend(b"tail");
        assert_ne!(text.len() % 64, 0);
        let mut feeds_before = Vec::new();
        let (lines, _) = survey(&text, &mut feeds_before);
        assert_eq!(lines, text.iter().filter(|&&b| b == b'\n').count());
        let mut surveyed = LineCounter {
            text: &text,
            feeds_before: Some(&feeds_before),
            counted: 0,
            ended: 0,
        };
        let mut counted = LineCounter {
            text: &text,
            feeds_before: None,
            counted: 0,
            ended: 0,
        };
        let mut expected = 0;
        for start in 0..=text.len() {
            expected += usize::from(start > 0 && text[start - 1] == b'\n');
            assert_eq!(surveyed.line_at(start), expected, "at {start}");
            assert_eq!(counted.line_at(start), expected, "at {start}");
        }
    }

    /// The lines a reader that splits every line would find changing something: a header, or
    /// a line that holds a substring once its quotes are gone.
    fn matter_by_reading_every_line(text: &str) -> Vec<(usize, String)> {
        let mut start = 0;
        let mut lines = Vec::new();
        for line in text.split_inclusive('\n') {
            let bare = line.trim_end_matches('\n').trim_end_matches('\r');
            let unquoted: String = bare
                .chars()
                .filter(|&c| c != '"' && !text::is_hidden_character(c))
                .collect();
            if bare.starts_with('#') || SUBSTRINGS.iter().any(|text| unquoted.contains(text)) {
                lines.push((start, bare.to_owned()));
            }
            start += line.len();
        }
        lines
    }

    #[test]
    fn the_whole_piece_search_finds_the_lines_a_line_by_line_reader_would() {
        // Every line of up to four fragments: substrings whole and cut, quotes inside and
        // around them, commas, headers.
        let fragments = [
            "Cert",
            "ertif",
            "icate",
            "Sending certificate",
            "\"",
            "\"\"",
            ",",
            "x",
            "#",
            "TLS negotiation failed with error ",
            "TLS nego",
            "tiation failed with error ",
            "SP_PROT_TLS1_",
            "SP_PROT_",
            "\u{202E}",
            "\u{85}",
            " Hello [",
            "lo [",
        ];
        let mut lines = vec![String::new()];
        let mut all = Vec::new();
        for _ in 0..4 {
            lines = lines
                .iter()
                .flat_map(|line| fragments.iter().map(move |f| format!("{line}{f}")))
                .collect();
            all.extend(lines.iter().cloned());
        }
        let needles = Needles::new();
        for chunk in all.chunks(500) {
            let text = chunk.join("\r\n");
            let found: Vec<(usize, String)> = needles
                .lines_that_matter(text.as_bytes(), true)
                .into_iter()
                .map(|(start, line)| (start, String::from_utf8(line.to_vec()).unwrap()))
                .collect();
            assert_eq!(found, matter_by_reading_every_line(&text));
        }
    }

    /// Issue 20 point 8: a certificate sent in every session is one sighting, the latest, and a
    /// group cut off before its thumbprint is still an error at its first line.
    #[test]
    fn certificates_are_kept_once_per_connector_and_certificate() {
        let header = LOG.lines().take(5).collect::<Vec<_>>().join("\n");
        let session = |id: &str, time: &str, thumbprint: bool| {
            let row = |n: u32, data: &str, context: &str| {
                format!("{time},EX01\\Default Frontend EX01,{id},{n},10.0.0.1:25,52.100.1.1:1,*,{data},{context}\n")
            };
            let mut rows = row(1, "", "Sending certificate") + &row(2, "CN=mail", "Certificate subject");
            if thumbprint {
                rows += &row(3, "ab12", "Certificate thumbprint");
            }
            rows + &row(4, "mail", "Certificate alternate names")
        };
        let text = format!(
            "{header}\n{}{}{}",
            session("A", "2026-11-23T08:00:00.000Z", true),
            session("B", "2026-11-23T09:00:00.000Z", true),
            session("C", "2026-11-23T07:00:00.000Z", true)
        );
        let log = read("RECV.LOG", &text).unwrap();
        assert_eq!(log.sightings.len(), 1);
        assert_eq!(log.sightings[0].time, "2026-11-23T09:00:00.000Z");
        assert_eq!(log.sightings[0].thumbprint.as_deref(), Some("AB12"));
        assert_eq!(log.sightings[0].source.position, Position::Line(10));
        let cut = format!(
            "{header}\n{}{}",
            session("A", "2026-11-23T08:00:00.000Z", true),
            session("B", "2026-11-23T09:00:00.000Z", false)
        );
        let err = read("RECV.LOG", &cut).unwrap_err();
        assert_eq!(err.position, Some(Position::LineColumn { line: 10, column: 1 }));
    }

    /// Issue 20 point 5: an EHLO response without STARTTLS, before TLS, is counted with whose
    /// response it was; the one over TLS, a HELO response and a response offering it are not.
    #[test]
    fn ehlo_responses_without_starttls_are_counted_before_tls_only() {
        let header = LOG.lines().take(5).collect::<Vec<_>>().join("\n");
        let row = |session: &str, remote: &str, event: &str, data: &str| {
            format!("2026-11-23T08:00:00.000Z,EX01\\Default Frontend EX01,{session},1,10.0.0.1:25,{remote}:1000,{event},{data},\n")
        };
        let without = "250 EX01.contoso.com Hello [104.47.58.43] SIZE 37748736 PIPELINING DSN ENHANCEDSTATUSCODES X-ANONYMOUSTLS AUTH NTLM 8BITMIME";
        let with =
            "250 EX01.contoso.com Hello [104.47.58.43] SIZE 37748736 PIPELINING STARTTLS X-ANONYMOUSTLS";
        let tls = "*,,\"TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded using bulk encryption algorithm CALG_AES_256 with strength 256 bits\"";
        let text = [
            header + "\n",
            // Not offered, twice from one remote.
            row("A", "104.47.58.43", ">", without),
            row("B", "104.47.58.43", ">", without),
            // Offered, TLS negotiated, then the EHLO over TLS lists no STARTTLS, rightly.
            row("C", "104.47.58.44", ">", with),
            row("C", "104.47.58.44", "*", "").replace("*,,", tls),
            row("C", "104.47.58.44", ">", without),
            // A HELO response has no extensions at all.
            row("D", "104.47.58.45", ">", "250 EX01.contoso.com Hello [104.47.58.45]"),
            // The remote's response, masked by a firewall.
            row("E", "52.100.1.1", "<", "250-mail.protection.outlook.com Hello [10.0.0.1] SIZE 157286400 PIPELINING XXXXXXXA 8BITMIME"),
        ]
        .concat();
        let log = read("RECV.LOG", &text).unwrap();
        let found: Vec<(&str, &str, u64)> = log
            .failures
            .iter()
            .map(|f| (f.remote.as_str(), f.status.as_str(), f.count))
            .collect();
        assert_eq!(
            found,
            [
                ("104.47.58.43", "this server offered no STARTTLS", 2),
                ("52.100.1.1", "the remote masked STARTTLS as XXXXXXXA", 1)
            ]
        );
        assert!(log.failures.iter().all(|f| f.kind == LogFailureKind::NoStartTls));
        assert_eq!(log.failures[0].sample.position, Position::Line(6));
    }

    /// The offsets-keeping splitter splits as a reader of one character at a time does.
    #[test]
    fn fields_are_split_as_the_character_reader_split_them() {
        let fragments = ["a", ",", "\"", "\"\"", "é", "\u{202E}", " ", "bc"];
        let mut lines = vec![String::new()];
        let mut values = Vec::new();
        for _ in 0..5 {
            lines = lines
                .iter()
                .flat_map(|line| fragments.iter().map(move |f| format!("{line}{f}")))
                .collect();
            for line in &lines {
                fields(line, line.contains('"'), &mut values);
                let found: Vec<&str> = values.iter().map(|value| value.str(line)).collect();
                assert_eq!(found, crate::diagnose::symptoms::csv_fields(line), "{line:?}");
            }
        }
    }

    /// The blocks' subtrees, hashed apart and merged in order, give the file's BLAKE3 whatever
    /// its size and however the blocks fall into pieces (a long line makes a piece of several).
    #[test]
    fn the_fingerprint_from_subtrees_is_the_files_blake3() {
        let bytes: Vec<u8> = (0..5 * BLOCK as u64 + 777)
            .map(|n| (n.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let sizes = [
            0,
            1,
            1024,
            BLOCK - 1,
            BLOCK,
            BLOCK + 1,
            2 * BLOCK,
            3 * BLOCK + 5,
            4 * BLOCK,
            5 * BLOCK + 777,
        ];
        for size in sizes {
            let file = &bytes[..size];
            // One block a piece, then two and three blocks a piece.
            for per_piece in 1..=3 {
                let mut fingerprint = Fingerprint::default();
                for (n, piece) in file.chunks(per_piece * BLOCK).enumerate() {
                    for subtree in subtrees(piece, (n * per_piece * BLOCK) as u64) {
                        fingerprint.push(subtree);
                    }
                }
                assert_eq!(fingerprint.bytes, size as u64);
                assert_eq!(
                    fingerprint.finish(),
                    blake3::hash(file),
                    "{size} bytes, {per_piece} blocks a piece"
                );
            }
        }
    }

    #[test]
    fn rows_without_a_header_are_an_error_with_a_line() {
        let err = read("x.LOG", "#Software: Microsoft Exchange Server\n2017,a,b\n").unwrap_err();
        assert_eq!(err.position, Some(Position::LineColumn { line: 2, column: 1 }));
    }
}
