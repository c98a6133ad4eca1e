//! SMTP protocol logs (`RECV*.LOG`, `SEND*.LOG`): which certificate a connector really sent,
//! and which TLS negotiations failed. Format: Exchange's UTF-8 CSV with `#Fields:` header
//! (date-time, connector-id, session-id, sequence-number, local-endpoint, remote-endpoint,
//! event, data, context); a certificate is logged as a `Sending certificate` row followed, in
//! the same session, by rows whose context names the field (`Certificate thumbprint`, ...).
//!
//! Logs run to gigabytes, so a UTF-8 log is streamed: one thread reads it in pieces of whole
//! lines and fingerprints each while it is still in the cache, the pieces are examined on both
//! cores, and only the rows that can matter are split into fields. Memory stays flat whatever
//! the file's size; the answers and the errors are those of reading the whole text at once.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::sync::mpsc;

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

/// Splits one CSV line; fields with commas are double-quoted, `""` is a quote. Fields without
/// quotes are borrowed from the line.
fn fields(line: &str) -> Vec<Cow<'_, str>> {
    if !line.contains('"') {
        return line.split(',').map(Cow::Borrowed).collect();
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(Cow::Owned(std::mem::take(&mut current))),
            _ => current.push(c),
        }
    }
    out.push(Cow::Owned(current));
    out
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
/// text hybridtls reads (`Sending certificate`, `Certificate thumbprint`, `Certificate
/// subject`, `Certificate alternate names` share "ertificate"). A field may also be quoted,
/// and a quote anywhere splits nothing for the reader, so rows with a `"` are read too.
const CERTIFICATE_ROWS: &str = "ertificate";
const FAILURE: &str = "TLS negotiation failed with error ";
/// The remote's certificate did not earn the connector's TLS domain capabilities.
const DOMAIN_CAPABILITIES_NONE: &str = "TlsDomainCapabilities='None'; Status='";
/// `TLS protocol SP_PROT_TLS1_2_SERVER negotiation succeeded ...`: the protocol of a session.
const TLS_PROTOCOL: &str = "SP_PROT_TLS1_";
/// The response to EHLO, `250 E19.Contoso.lab Hello [104.47.58.43] SIZE ... STARTTLS ...`,
/// logged as one row with its extensions: one without STARTTLS is a session that could not
/// start TLS (issue 20 point 5).
const EHLO_GREETING: &str = " Hello [";
/// Every substring that makes a row matter, in the order [`Needles`] holds their searches.
const SUBSTRINGS: [&str; 5] = [
    CERTIFICATE_ROWS,
    FAILURE,
    DOMAIN_CAPABILITIES_NONE,
    TLS_PROTOCOL,
    EHLO_GREETING,
];

/// What to do about a log hybridtls cannot read as one.
const DAMAGED_LOG_HINT: &str =
    "copy the log again once Exchange has closed it (it starts a new file each day), or leave this log out";

/// The searches that find the lines that can change the outcome in a whole piece of a log
/// at once, so that the other lines are never split into fields.
struct Needles {
    finders: Vec<memmem::Finder<'static>>,
}

impl Needles {
    fn new() -> Self {
        Needles {
            finders: SUBSTRINGS.iter().map(memmem::Finder::new).collect(),
        }
    }

    /// The lines of `text` (whole lines) that hold a header, [`CERTIFICATE_ROWS`], [`FAILURE`]
    /// or a quote that may hide one, each with the byte offset it starts at and without its
    /// line end, in order. When `non_ascii`, also the lines where a character the reader
    /// refuses ([`text::is_hidden_character`]) splits one of the substrings: only text that is
    /// not ASCII can hold one (the C0 ones are binary characters, refused before).
    fn lines_that_matter<'t>(&self, bytes: &'t [u8], non_ascii: bool) -> Vec<(usize, &'t [u8])> {
        // Each candidate with whether it matters by itself (a substring or a header) or only
        // may (a quote, a hidden character).
        let mut candidates: Vec<(usize, bool)> = Vec::new();
        // The first match of each kind in a line is enough: the line is then read or looked at
        // whole. One candidate a match made a line of a million quotes take 16 MB.
        let mut first_in_lines = |find: &dyn Fn(&[u8]) -> Option<usize>, matters: bool| {
            let mut at = 0;
            while let Some(found) = find(&bytes[at..]).map(|n| at + n) {
                candidates.push((found, matters));
                at = memchr::memchr(b'\n', &bytes[found..]).map_or(bytes.len(), |n| found + n + 1);
            }
        };
        for finder in &self.finders {
            first_in_lines(&|text| finder.find(text), true);
        }
        first_in_lines(&|text| memchr::memchr(b'"', text), false);
        if non_ascii {
            // The first bytes of the C1 controls, of U+061C, and of U+2000..U+2FFF.
            first_in_lines(&|text| memchr::memchr3(0xC2, 0xD8, 0xE2, text), false);
        }
        candidates.extend(
            memchr::memchr_iter(b'#', bytes)
                .filter(|&at| at == 0 || bytes[at - 1] == b'\n')
                .map(|at| (at, true)),
        );
        candidates.sort_unstable();
        let mut lines = Vec::new();
        let mut unquoted = Vec::new();
        let mut next = 0;
        while next < candidates.len() {
            let at = candidates[next].0;
            let start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |n| n + 1);
            let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
            let in_line = candidates[next..].iter().take_while(|(at, _)| *at < end);
            let (count, matters) = in_line.fold((0, false), |(count, any), (_, m)| (count + 1, any | m));
            next += count;
            // Without its line end, which would read as a hidden character.
            let line = &bytes[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if matters || self.hides_a_substring(line, non_ascii, &mut unquoted) {
                lines.push((start, line));
            }
        }
        lines
    }

    /// [`Needles::lines_that_matter`], each with its line within `text` (from 0) instead of its
    /// offset.
    fn rows(&self, text: &[u8], non_ascii: bool) -> Vec<(usize, String)> {
        let mut counter = LineCounter {
            text,
            counted: 0,
            ended: 0,
        };
        self.lines_that_matter(text, non_ascii)
            .into_iter()
            .map(|(start, line)| (counter.line_at(start), String::from_utf8_lossy(line).into_owned()))
            .collect()
    }

    /// Whether a row holds one of the substrings once its quotes, which the reader drops, and
    /// the characters it refuses are gone, when it does not with them: such a row is read, and
    /// refused. Dropping a quote joins its neighbours; only a quote between two bytes that are
    /// not field separators (`""` inside a field, a stray quote) can join a substring, which
    /// holds no comma. Exchange quotes whole fields (most quoted rows are SMTP responses), so
    /// mostly there is none and the row is never split.
    fn hides_a_substring(&self, bytes: &[u8], non_ascii: bool, unquoted: &mut Vec<u8>) -> bool {
        // The lines are text: ASCII, or decoded before they are searched. Only text that is not
        // ASCII is searched for hidden characters (see [`Needles::lines_that_matter`]).
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
        self.finders.iter().any(|finder| finder.find(unquoted).is_some())
    }
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

/// Reads a log from complete lines of text, in order, however they are cut into pieces.
struct Scanner<'f> {
    file: &'f str,
    columns: Option<Columns>,
    /// The latest sighting of each connector and certificate, and where each is: a busy server
    /// logs a certificate for every TLS session, and keeping each (issue 20 point 8) made the
    /// memory grow with the log.
    sightings: Vec<Sighting>,
    sighting_at: HashMap<(String, String), usize>,
    failures: FailureCounts,
    /// The sessions that negotiated TLS and have not yet sent their EHLO response over it.
    negotiated: TlsSessions,
    /// Session id → its `Sending certificate` group that has not had its thumbprint yet, with
    /// the line it starts at: only the sessions being logged, whatever the log's size.
    open: HashMap<String, (Sighting, usize)>,
    /// The first line of a group that never got its thumbprint.
    incomplete: Option<usize>,
    /// Lines before the current piece.
    lines: usize,
    /// The first error in the rows; the rest of the text is still checked, because an
    /// encoding error anywhere in the file is reported before it.
    error: Option<InputError>,
    needles: Needles,
}

impl<'f> Scanner<'f> {
    fn new(file: &'f str) -> Self {
        Scanner {
            file,
            columns: None,
            sightings: Vec::new(),
            sighting_at: HashMap::new(),
            failures: FailureCounts::default(),
            negotiated: TlsSessions::default(),
            open: HashMap::new(),
            incomplete: None,
            lines: 0,
            error: None,
            needles: Needles::new(),
        }
    }

    /// Reads `text`: whole lines, the last one ending in `\n` unless the log ends there.
    fn feed(&mut self, text: &str) {
        let mut rest = text;
        // Up to the header every line is read: a row before it is an error.
        while self.columns.is_none() && self.error.is_none() && !rest.is_empty() {
            let (line, after) = match rest.find('\n') {
                Some(end) => (&rest[..end], &rest[end + 1..]),
                None => (rest, ""),
            };
            self.lines += 1;
            let number = self.lines;
            self.row(line.strip_suffix('\r').unwrap_or(line), &mut || number);
            rest = after;
        }
        if self.error.is_some() {
            self.lines += count_lines(rest.as_bytes());
            return;
        }
        self.rows_that_matter(rest);
    }

    /// Reads only the lines of `text` that can change the outcome (see [`Needles`]), and
    /// counts the others.
    fn rows_that_matter(&mut self, text: &str) {
        let rows = self.needles.rows(text.as_bytes(), !text.is_ascii());
        self.examined_rows(&rows, count_lines(text.as_bytes()));
    }

    /// Reads the rows [`Needles::rows`] found in a piece of `lines` line feeds, after the header.
    fn examined_rows(&mut self, rows: &[(usize, String)], lines: usize) {
        if self.error.is_none() {
            let before = self.lines;
            for (line, row) in rows {
                self.row(row, &mut || before + line + 1);
                if self.error.is_some() {
                    break;
                }
            }
        }
        self.lines += lines;
    }

    /// One line of the log; `number` tells its number, counted from 1, when a row needs it.
    fn row(&mut self, line: &str, number: &mut dyn FnMut() -> usize) {
        if let Some(header) = line.strip_prefix("#Fields:") {
            match Columns::parse(header) {
                Ok(columns) => self.columns = Some(columns),
                Err(missing) => {
                    self.error = Some(
                        InputError::new(
                            self.file,
                            format!("the #Fields: header has no {missing} column, which hybridtls reads"),
                        )
                        .at(Position::LineColumn {
                            line: number(),
                            column: 1,
                        })
                        .hint(DAMAGED_LOG_HINT),
                    )
                }
            }
            return;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            return;
        }
        let Some(columns) = &self.columns else {
            let line_number = number();
            self.error = Some(
                InputError::new(self.file, "a log row before the #Fields: header")
                    .at(Position::LineColumn {
                        line: line_number,
                        column: 1,
                    })
                    .hint("give hybridtls the whole log file, header included"),
            );
            return;
        };
        // A row that matters is refused, as a JSON value would be, when it holds a character
        // that hides or rewrites text: ignored, it turned a certificate sent into none sent.
        // Rows that do not matter may hold anything (much of a log is what remote hosts sent).
        if let Some((column, character)) = text::hidden_character(line) {
            self.error = Some(
                InputError::new(
                    self.file,
                    format!(
                        "the row holds the invisible character U+{:04X}; hybridtls refuses it because it would hide or rewrite text in the terminal, the report and the script",
                        u32::from(character)
                    ),
                )
                .at(Position::LineColumn {
                    line: number(),
                    column,
                })
                .hint(DAMAGED_LOG_HINT),
            );
            return;
        }
        let values = fields(line);
        if values.len() != columns.count {
            self.error = Some(
                InputError::new(
                    self.file,
                    format!(
                        "the row has {} fields where the #Fields: header names {}: the log is cut off or damaged here",
                        values.len(),
                        columns.count
                    ),
                )
                .at(Position::LineColumn {
                    line: number(),
                    column: 1,
                })
                .hint(DAMAGED_LOG_HINT),
            );
            return;
        }
        let get = |column: usize| values[column].as_ref();
        let (time, connector, session) = (get(columns.time), get(columns.connector), get(columns.session));
        let (data, context) = (get(columns.data), get(columns.context));
        let mut source = || Source {
            file: self.file.to_owned(),
            position: Position::Line(number()),
        };
        if context == "Sending certificate" {
            let source = source();
            let line = number();
            let sighting = Sighting {
                time: time.to_owned(),
                connector: connector.to_owned(),
                thumbprint: None,
                subject: None,
                source,
            };
            if let Some((_, earlier)) = self.open.insert(session.to_owned(), (sighting, line)) {
                self.incomplete_at(earlier);
            }
            return;
        }
        let remote = || {
            let remote = columns.remote.map_or("", |column| get(column));
            // The address without its port: `203.0.113.5:25`, `[2001:db8::5]:25`.
            let remote = match remote.rsplit_once(':') {
                Some((address, port)) if port.bytes().all(|b| b.is_ascii_digit()) => address,
                _ => remote,
            };
            remote.trim_start_matches('[').trim_end_matches(']')
        };
        if [data, context].iter().any(|text| text.contains(TLS_PROTOCOL)) {
            self.negotiated.insert(session);
        }
        if let Some(failure) = [data, context].iter().find_map(|text| failure_of(text)) {
            if failure.0 == LogFailureKind::Negotiation {
                self.negotiated.remove(session);
            }
            self.failures
                .count(connector, remote(), failure, time, &mut source);
            return;
        }
        if let Some(offered) = starttls_offered(data) {
            // The response to the EHLO sent again over TLS lists no STARTTLS, rightly.
            let over_tls = self.negotiated.remove(session);
            if offered != Offered::Yes && !over_tls {
                let whose = match columns.event.map(get) {
                    Some(">") => "this server",
                    Some("<") => "the remote",
                    _ => "the responder",
                };
                let status = match offered {
                    Offered::Masked => format!("{whose} masked STARTTLS as XXXXXXXA"),
                    _ => format!("{whose} offered no STARTTLS"),
                };
                let failure = (LogFailureKind::NoStartTls, status.as_str());
                self.failures
                    .count(connector, remote(), failure, time, &mut source);
            }
            return;
        }
        let Some((sighting, line)) = self.open.get_mut(session) else {
            return;
        };
        match context {
            "Certificate thumbprint" => {
                let thumbprint = data.to_ascii_uppercase();
                let Some((mut sighting, _)) = self.open.remove(session) else {
                    return;
                };
                sighting.thumbprint = Some(thumbprint.clone());
                let key = (sighting.connector.clone(), thumbprint);
                match self.sighting_at.get(&key) {
                    // Of equal times the later row wins, as it did when every row was kept.
                    Some(&at) if sighting.time >= self.sightings[at].time => self.sightings[at] = sighting,
                    Some(_) => {}
                    None => {
                        self.sighting_at.insert(key, self.sightings.len());
                        self.sightings.push(sighting);
                    }
                }
            }
            "Certificate subject" => sighting.subject = Some(data.to_owned()),
            "Certificate alternate names" => {
                let line = *line;
                self.open.remove(session);
                self.incomplete_at(line);
            }
            _ => {}
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
        let still_open = self.open.values().map(|(_, line)| *line).min();
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
        Ok(Log {
            sightings: self.sightings,
            failures: self.failures.list,
        })
    }
}

/// The TLS failures counted so far, one per connector, remote address, kind and status.
#[derive(Default)]
struct FailureCounts {
    list: Vec<LogFailure>,
    at: HashMap<(String, String, LogFailureKind, String), usize>,
}

impl FailureCounts {
    fn count(
        &mut self,
        connector: &str,
        remote: &str,
        (kind, status): (LogFailureKind, &str),
        time: &str,
        source: &mut dyn FnMut() -> Source,
    ) {
        let key = (connector.to_owned(), remote.to_owned(), kind, status.to_owned());
        match self.at.get(&key) {
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
                self.at.insert(key, self.list.len());
                self.list.push(LogFailure {
                    connector: connector.to_owned(),
                    remote: remote.to_owned(),
                    kind,
                    status: status.to_owned(),
                    count: 1,
                    first: time.to_owned(),
                    last: time.to_owned(),
                    sample: source(),
                });
            }
        }
    }
}

/// How many sessions [`TlsSessions`] remembers. A session's EHLO over TLS follows its
/// handshake within the same second; a busy server has a few hundred sessions open at once.
const REMEMBERED_TLS_SESSIONS: usize = 1 << 16;

/// The sessions that negotiated TLS and have not yet logged their EHLO response over it; only
/// the latest [`REMEMBERED_TLS_SESSIONS`], so that sessions that end right after their
/// handshake do not make the memory grow with the log.
/// Each session is kept as a 64-bit hash of its id (two sessions of one log sharing one would
/// take one chance in 2^48 with all of them remembered), so they cost 1.5 MB at most.
#[derive(Default)]
struct TlsSessions {
    sessions: std::collections::HashSet<u64>,
    /// The sessions in the order they negotiated (some perhaps already removed).
    order: std::collections::VecDeque<u64>,
}

impl TlsSessions {
    fn key(session: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        // Fixed keys: the same log is read the same way every time.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        session.hash(&mut hasher);
        hasher.finish()
    }

    fn insert(&mut self, session: &str) {
        let key = Self::key(session);
        if self.sessions.insert(key) {
            self.order.push_back(key);
            if self.order.len() > REMEMBERED_TLS_SESSIONS {
                if let Some(oldest) = self.order.pop_front() {
                    self.sessions.remove(&oldest);
                }
            }
        }
    }

    /// Whether `session` had negotiated TLS; it is forgotten.
    fn remove(&mut self, session: &str) -> bool {
        self.sessions.remove(&Self::key(session))
    }
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

/// What the EHLO response `data` offers; None when it is no EHLO response. A HELO response
/// (`250 host Hello [address]`, no extensions) cannot offer STARTTLS and is no failure; a
/// response logged one line to a row would read as one and is not judged.
fn starttls_offered(data: &str) -> Option<Offered> {
    if !data.starts_with("250") {
        return None;
    }
    let at = data.find(EHLO_GREETING)?;
    let (_, extensions) = data[at + EHLO_GREETING.len()..].split_once(']')?;
    let mut words = extensions.split_ascii_whitespace().peekable();
    words.peek()?;
    let mut offered = Offered::No;
    for word in words {
        if word.eq_ignore_ascii_case("STARTTLS") {
            return Some(Offered::Yes);
        }
        // STARTTLS's eight letters replaced by Xs: `XXXXXXXA` as admins report it.
        if word.len() == 8 && word.bytes().take(7).all(|b| b == b'X') {
            offered = Offered::Masked;
        }
    }
    Some(offered)
}

/// The failure a field tells, with its status: `TLS negotiation failed with error X`,
/// `TlsDomainCapabilities='None'; Status='X'`, or a TLS 1.0 or 1.1 session.
fn failure_of(text: &str) -> Option<(LogFailureKind, &str)> {
    if let Some(status) = text.strip_prefix(FAILURE) {
        return Some((LogFailureKind::Negotiation, status.trim()));
    }
    if let Some(at) = text.find(DOMAIN_CAPABILITIES_NONE) {
        let rest = &text[at + DOMAIN_CAPABILITIES_NONE.len()..];
        return Some((
            LogFailureKind::DomainCapabilities,
            rest.split('\'').next().unwrap_or(rest),
        ));
    }
    let at = text.find(TLS_PROTOCOL)?;
    match text.as_bytes().get(at + TLS_PROTOCOL.len()) {
        Some(b'0') => Some((LogFailureKind::OldProtocol, "TLS 1.0")),
        Some(b'1') => Some((LogFailureKind::OldProtocol, "TLS 1.1")),
        _ => None,
    }
}

/// Counts the lines of a piece of text up to a position, resuming where it last stopped.
struct LineCounter<'t> {
    text: &'t [u8],
    counted: usize,
    /// Lines ended before `counted`.
    ended: usize,
}

impl LineCounter<'_> {
    /// The line (from 0) that starts at byte `start`, which never decreases.
    fn line_at(&mut self, start: usize) -> usize {
        self.ended += count_lines(&self.text[self.counted..start]);
        self.counted = start;
        self.ended
    }
}

/// Lines ended in `bytes` (its `\n`s). Counted per 64-byte block in a byte-wide sum, which the
/// compiler turns into whole-register compares; a sum over the bytes one by one is not.
fn count_lines(bytes: &[u8]) -> usize {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let in_blocks: usize = blocks
        .map(|block| usize::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'))))
        .sum();
    in_blocks + rest.iter().filter(|&&b| b == b'\n').count()
}

/// The line feeds in `bytes`, and whether it may hold a binary character (see
/// [`text::first_binary_character`]), in one pass: per 64-byte block, byte-wide sums and ors
/// the compiler turns into whole-register compares. Non-ASCII bytes are suspects too, the
/// C1 controls among them.
fn survey(bytes: &[u8]) -> (usize, bool) {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let mut lines = 0;
    let mut suspect = 0u8;
    for block in blocks {
        let (feeds, odd) = block.iter().fold((0u8, 0u8), |(feeds, odd), &b| {
            let binary = (b < 0x09) | ((b > 0x0D) & (b < 0x20)) | (b >= 0x7F);
            (feeds + u8::from(b == b'\n'), odd | u8::from(binary))
        });
        lines += usize::from(feeds);
        suspect |= odd;
    }
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

/// How many bytes are read at a time (see [`WINDOW`] for how many are alive at once).
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

/// How many blocks are read before they are examined together, on both
/// cores; about twice this many blocks are alive at once, whatever the size of the file.
const WINDOW: usize = 4;

/// One piece of a log: whole lines (the last one unended only at the end of the file), the
/// first piece with the byte order mark, if any, which is fingerprinted but not text.
struct Piece {
    bytes: Vec<u8>,
    /// Where the text starts in `bytes`: after the byte order mark.
    text_start: usize,
    /// Where the text starts in the file.
    offset: usize,
}

impl Piece {
    fn text(&self) -> &[u8] {
        &self.bytes[self.text_start..]
    }
}

/// Cuts a file into [`Piece`]s of about [`BLOCK`] bytes at line ends.
struct Pieces<'a> {
    name: &'a str,
    file: std::fs::File,
    /// The part after the last line feed read so far.
    carry: Vec<u8>,
    /// File bytes handed out so far.
    offset: usize,
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
        // Whole lines only: the part after the last line feed waits for the next piece. A line
        // longer than a block is read on into the same buffer and only its new part searched,
        // so that a long line costs what it weighs (copying it again for each block did not).
        let mut searched = buffer.len();
        loop {
            let want = BLOCK.min(usize::try_from(self.remaining).unwrap_or(BLOCK));
            let read = read_block(&mut self.file, &mut buffer, want)
                .map_err(|e| InputError::new(self.name, format!("cannot read: {e}")))?;
            progress.advance(read as u64);
            self.remaining -= read as u64;
            self.at_end = read < BLOCK;
            if self.at_end {
                break;
            }
            if let Some(last) = memchr::memrchr(b'\n', &buffer[searched..]) {
                let last = searched + last;
                self.carry.extend_from_slice(&buffer[last + 1..]);
                buffer.truncate(last + 1);
                break;
            }
            guard_line_length(self.name, &buffer)?;
            searched = buffer.len();
        }
        if buffer.is_empty() {
            return Ok(None);
        }
        let offset = self.offset;
        self.offset += buffer.len();
        let text_start = if offset == 0 && buffer.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        Ok(Some(Piece {
            bytes: buffer,
            text_start,
            offset: offset + text_start,
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
    /// The lines that can matter (see [`Needles`]), by line within the piece (from 0).
    rows: Vec<(usize, String)>,
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

fn examine(bytes: &[u8], windows_1252: bool, needles: &Needles) -> Examined {
    let (lines, suspect) = survey(bytes);
    let examined = |rows| Examined {
        utf8: Ok(()),
        binary: None,
        rows,
        lines,
        utf8_characters: false,
    };
    if !suspect {
        // ASCII without a control character: UTF-8, the same text in Windows-1252, and no
        // binary character, so nothing to decode or look for.
        return examined(needles.rows(bytes, false));
    }
    if windows_1252 && text::holds_utf8_characters(bytes) {
        return Examined {
            utf8_characters: true,
            ..examined(Vec::new())
        };
    }
    let text = match decode(bytes, windows_1252) {
        Ok(text) => text,
        Err(valid_up_to) => {
            return Examined {
                utf8: Err(valid_up_to),
                ..examined(Vec::new())
            }
        }
    };
    if let Some(at) = text::first_binary_character(&text) {
        let character = text[at..].chars().next().unwrap_or_default();
        return Examined {
            binary: Some((text::line_column(&text, at), character)),
            ..examined(Vec::new())
        };
    }
    examined(needles.rows(text.as_bytes(), !text.is_ascii()))
}

/// One pass over the file; `Ok(Err(offset))` when it holds invalid UTF-8 from file byte
/// `offset` on without a BOM, so that it must be read again as Windows-1252, with
/// `not_utf8_from` that offset (the error when it holds UTF-8 characters after all).
fn stream_as(
    name: &str,
    file: &std::fs::File,
    progress: &dyn Progress,
    not_utf8_from: Option<usize>,
) -> Result<Result<Streamed, usize>, InputError> {
    let windows_1252 = not_utf8_from.is_some();
    use rayon::prelude::*;
    let cannot_read = |e: std::io::Error| InputError::new(name, format!("cannot read: {e}"));
    let mut file = file.try_clone().map_err(cannot_read)?;
    file.seek(std::io::SeekFrom::Start(0)).map_err(cannot_read)?;
    let size = file.metadata().map_err(cannot_read)?.len();
    let mut pieces = Pieces {
        name,
        file,
        carry: Vec::new(),
        offset: 0,
        remaining: size,
        at_end: false,
    };
    let needles = Needles::new();
    let mut fingerprint = blake3::Hasher::new();
    let mut decoder = Decoder::new(name, not_utf8_from);
    let mut scanner = Scanner::new(name);
    let not_utf8 = std::thread::scope(|scope| {
        // The next pieces are read and fingerprinted while a window of them is examined; the
        // used buffers come back to be read into again. Hashing a piece right after reading
        // it finds it in the cache: the 1 GB bench ran 10% faster than hashing it later.
        let (to_scanner, read) = mpsc::sync_channel::<Result<Piece, InputError>>(WINDOW);
        let (to_reader, used) = mpsc::channel::<Vec<u8>>();
        let fingerprint = &mut fingerprint;
        scope.spawn(move || loop {
            let buffer = used.try_recv().unwrap_or_default();
            let piece = pieces.next(buffer, progress).transpose();
            if let Some(Ok(piece)) = &piece {
                fingerprint.update(&piece.bytes);
            }
            let last = !matches!(piece, Some(Ok(_)));
            // A closed channel means the scanner stopped early, at an error: nothing to do.
            if piece.is_some_and(|piece| to_scanner.send(piece).is_err()) || last {
                break;
            }
        });
        let mut read = read.into_iter().peekable();
        while read.peek().is_some() {
            let window: Vec<Piece> = read.by_ref().take(WINDOW).collect::<Result<_, _>>()?;
            let examined: Vec<Examined> = window
                .par_iter()
                .map(|piece| examine(piece.text(), windows_1252, &needles))
                .collect();
            for (piece, examined) in window.iter().zip(examined) {
                // Only the first piece starts after a byte order mark.
                decoder.bom |= piece.text_start > 0;
                match decoder.apply(examined, piece, &mut scanner) {
                    Step::Go => {}
                    Step::NotUtf8(offset) => return Ok(Some(offset)),
                    Step::Failed(error) => return Err(error),
                }
            }
            for piece in window {
                // The reader may have finished already.
                let _ = to_reader.send(piece.bytes);
            }
        }
        Ok(None)
    })?;
    if let Some(offset) = not_utf8 {
        return Ok(Err(offset));
    }
    let blake3 = fingerprint.finalize().to_hex().to_string();
    let bytes = fingerprint.count();
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
        if scanner.columns.is_none() && scanner.error.is_none() {
            // Checked above: the text decodes.
            if let Ok(text) = decode(piece.text(), self.windows_1252) {
                scanner.feed(&text);
            }
        } else {
            scanner.examined_rows(&examined.rows, examined.lines);
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

    #[test]
    fn rows_without_a_header_are_an_error_with_a_line() {
        let err = read("x.LOG", "#Software: Microsoft Exchange Server\n2017,a,b\n").unwrap_err();
        assert_eq!(err.position, Some(Position::LineColumn { line: 2, column: 1 }));
    }
}
