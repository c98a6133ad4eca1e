//! SMTP protocol logs (`RECV*.LOG`, `SEND*.LOG`): which certificate a connector really sent,
//! and which TLS negotiations failed. Format: Exchange's UTF-8 CSV with `#Fields:` header
//! (date-time, connector-id, session-id, sequence-number, local-endpoint, remote-endpoint,
//! event, data, context); a certificate is logged as a `Sending certificate` row followed, in
//! the same session, by rows whose context names the field (`Certificate thumbprint`, ...).
//!
//! Logs run to gigabytes, so a UTF-8 log is streamed: read in blocks, fingerprinted on a second
//! thread in the same pass, and only the rows that can matter are split into fields. Memory
//! stays flat whatever the file's size; the answers and the errors are those of reading the
//! whole text at once.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;
use std::sync::Arc;

use memchr::memmem;
use sha2::{Digest, Sha256};

use super::text::{self, Encoding};
use super::Progress;
use crate::error::{InputError, Position};
use crate::model::{Sighting, Source};

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

/// Every certificate a connector sent and every failed TLS negotiation in the log `text`.
pub fn read(file: &str, text: &str) -> Result<Vec<Sighting>, InputError> {
    let mut scanner = Scanner::new(file);
    scanner.feed(text);
    scanner.finish()
}

/// Where the columns hybridtls reads are in the `#Fields:` header.
struct Columns {
    time: Option<usize>,
    connector: Option<usize>,
    session: Option<usize>,
    data: Option<usize>,
    context: Option<usize>,
}

impl Columns {
    fn parse(header: &str) -> Self {
        let names: Vec<&str> = header.trim().split(',').collect();
        let at = |name: &str| names.iter().position(|c| *c == name);
        Columns {
            time: at("date-time"),
            connector: at("connector-id"),
            session: at("session-id"),
            data: at("data"),
            context: at("context"),
        }
    }
}

/// Substrings one of which a row must hold to change anything: the contexts and the failure
/// text hybridtls reads (`Sending certificate`, `Certificate thumbprint`, `Certificate
/// subject`, `Certificate alternate names` share "ertificate"). A field may also be quoted,
/// and a quote anywhere splits nothing for the reader, so rows with a `"` are read too.
const CERTIFICATE_ROWS: &str = "ertificate";
const FAILURE: &str = "TLS negotiation failed with error ";

/// Reads a log from complete lines of text, in order, however they are cut into pieces.
struct Scanner<'f> {
    file: &'f str,
    columns: Option<Columns>,
    sightings: Vec<Sighting>,
    /// Session id → index of its open `Sending certificate` sighting.
    open: HashMap<String, usize>,
    /// Lines before the current piece.
    lines: usize,
    /// The first error in the rows; the rest of the text is still checked, because an
    /// encoding error anywhere in the file is reported before it.
    error: Option<InputError>,
    certificate_rows: memmem::Finder<'static>,
    failures: memmem::Finder<'static>,
    headers: memmem::Finder<'static>,
    candidates: Vec<usize>,
    /// A quoted line without its quotes, for [`Scanner::may_matter`].
    unquoted: Vec<u8>,
}

impl<'f> Scanner<'f> {
    fn new(file: &'f str) -> Self {
        Scanner {
            file,
            columns: None,
            sightings: Vec::new(),
            open: HashMap::new(),
            lines: 0,
            error: None,
            certificate_rows: memmem::Finder::new(CERTIFICATE_ROWS),
            failures: memmem::Finder::new(FAILURE),
            headers: memmem::Finder::new("\n#"),
            candidates: Vec::new(),
            unquoted: Vec::new(),
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
            self.lines += count_lines(rest);
            return;
        }
        self.rows_that_matter(rest);
    }

    /// Reads only the lines of `text` that can change the outcome (see [`CERTIFICATE_ROWS`]),
    /// found by a search over the whole piece, and counts the others.
    fn rows_that_matter(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        candidates.extend(self.certificate_rows.find_iter(bytes));
        candidates.extend(self.failures.find_iter(bytes));
        candidates.extend(memchr::memchr_iter(b'"', bytes));
        candidates.extend(self.headers.find_iter(bytes).map(|at| at + 1));
        if bytes.first() == Some(&b'#') {
            candidates.push(0);
        }
        candidates.sort_unstable();
        // Line numbers are counted only for the rows that need one (a sighting's position),
        // each count picking up where the last stopped.
        let mut lines = LineCounter {
            text,
            counted: 0,
            before: self.lines,
        };
        let mut next_line = 0;
        for &at in &candidates {
            if at < next_line {
                continue;
            }
            let start =
                memchr::memrchr(b'\n', &bytes[next_line..at]).map_or(next_line, |n| next_line + n + 1);
            let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n);
            next_line = end + 1;
            let line = &text[start..end];
            if !self.may_matter(line) {
                continue;
            }
            self.row(line.strip_suffix('\r').unwrap_or(line), &mut || {
                lines.number_at(start)
            });
            if self.error.is_some() {
                break;
            }
        }
        self.lines = lines.number_at(text.len()) - 1;
        self.candidates = candidates;
    }

    /// Whether a candidate line can change anything: a header, or a row that holds one of the
    /// substrings once its quotes, which the reader drops, are gone. Most quoted rows are SMTP
    /// responses, and this spares splitting them into fields.
    fn may_matter(&mut self, line: &str) -> bool {
        if line.starts_with('#') || !line.contains('"') {
            return true;
        }
        self.unquoted.clear();
        self.unquoted.extend(line.bytes().filter(|&b| b != b'"'));
        self.certificate_rows.find(&self.unquoted).is_some() || self.failures.find(&self.unquoted).is_some()
    }

    /// One line of the log; `number` tells its number, counted from 1, when a row needs it.
    fn row(&mut self, line: &str, number: &mut dyn FnMut() -> usize) {
        if let Some(header) = line.strip_prefix("#Fields:") {
            self.columns = Some(Columns::parse(header));
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
        let values = fields(line);
        let get = |column: Option<usize>| column.and_then(|i| values.get(i)).map_or("", |v| v.as_ref());
        let (time, connector, session) = (get(columns.time), get(columns.connector), get(columns.session));
        let (data, context) = (get(columns.data), get(columns.context));
        let mut source = || Source {
            file: self.file.to_owned(),
            position: format!("line {}", number()),
        };
        if context == "Sending certificate" {
            self.open.insert(session.to_owned(), self.sightings.len());
            self.sightings.push(Sighting {
                time: time.to_owned(),
                connector: connector.to_owned(),
                thumbprint: None,
                subject: None,
                failure: None,
                source: source(),
            });
            return;
        }
        if let Some(failure) = [data, context].iter().find_map(|text| text.strip_prefix(FAILURE)) {
            self.sightings.push(Sighting {
                time: time.to_owned(),
                connector: connector.to_owned(),
                thumbprint: None,
                subject: None,
                failure: Some(failure.trim().to_owned()),
                source: source(),
            });
            return;
        }
        let Some(&index) = self.open.get(session) else {
            return;
        };
        match context {
            "Certificate thumbprint" => self.sightings[index].thumbprint = Some(data.to_ascii_uppercase()),
            "Certificate subject" => self.sightings[index].subject = Some(data.to_owned()),
            "Certificate alternate names" => {
                self.open.remove(session);
            }
            _ => {}
        }
    }

    fn finish(self) -> Result<Vec<Sighting>, InputError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.columns.is_none() {
            return Err(InputError::new(
                self.file,
                "an SMTP protocol log without a #Fields: header",
            ));
        }
        Ok(self.sightings)
    }
}

/// Counts the lines of a piece of text up to a position, resuming where it last stopped.
struct LineCounter<'t> {
    text: &'t str,
    counted: usize,
    /// Lines ended before `counted`, including those before the piece.
    before: usize,
}

impl LineCounter<'_> {
    /// The number (from 1) of the line that starts at byte `start`, which never decreases.
    fn number_at(&mut self, start: usize) -> usize {
        self.before += count_lines(&self.text[self.counted..start]);
        self.counted = start;
        self.before + 1
    }
}

/// Lines ended in `text` (its `\n`s), counted in a loop the compiler vectorises.
fn count_lines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

/// A protocol log read by [`stream`].
pub struct Streamed {
    pub sightings: Vec<Sighting>,
    pub sha256: String,
    pub encoding: Encoding,
}

/// How many bytes are read at a time; a few blocks are alive at once (one being hashed, one
/// queued, one being read), whatever the size of the file.
const BLOCK: usize = 1 << 20;

/// How far [`streams`] looks for the first six lines. A file whose header lines are longer is
/// no log Exchange wrote; it is read whole like any export (and refused when over the cap).
const HEAD_BYTES: usize = 1 << 20;

/// Whether the file at `path` (of `size` bytes) is a protocol log that [`stream`] reads: one
/// that starts like one (its first six lines) and is not UTF-16, which is decoded whole like
/// any export.
pub fn streams(path: &Path, size: u64) -> std::io::Result<bool> {
    let mut head = Vec::new();
    let mut file = std::fs::File::open(path)?;
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
    let (bom, rest) = text::split_bom(&head);
    let utf16 = matches!(bom, Some(text::Bom::Utf16Le | text::Bom::Utf16Be))
        || (bom.is_none() && text::starts_like_utf16le(rest, size));
    Ok(!utf16 && is_protocol_log(&String::from_utf8_lossy(rest)))
}

/// Reads the UTF-8 (or, failing that, Windows-1252) protocol log at `path` in one pass: its
/// sightings, and the SHA-256 of its bytes computed on a second thread as the blocks go by.
pub fn stream(name: &str, path: &Path, progress: &dyn Progress) -> Result<Streamed, InputError> {
    match stream_as(name, path, progress, false)? {
        Some(streamed) => Ok(streamed),
        // Not UTF-8 after all: read the file again as the ANSI code page, as a whole-text read
        // would have decoded it.
        None => stream_as(name, path, &(), true)?
            .ok_or_else(|| InputError::new(name, "cannot decode the log as Windows-1252")),
    }
}

/// One pass over the file; None when it holds invalid UTF-8 without a BOM (so it is
/// Windows-1252 text and must be read again with `windows_1252`).
fn stream_as(
    name: &str,
    path: &Path,
    progress: &dyn Progress,
    windows_1252: bool,
) -> Result<Option<Streamed>, InputError> {
    let cannot_read = |e: std::io::Error| InputError::new(name, format!("cannot read: {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot_read)?;
    std::thread::scope(|scope| {
        let (to_hasher, blocks) = mpsc::sync_channel::<Arc<Vec<u8>>>(1);
        let hasher = scope.spawn(move || {
            let mut sha256 = Sha256::new();
            for block in blocks {
                sha256.update(&block[..]);
            }
            crate::x509::hex(&sha256.finalize()).to_ascii_lowercase()
        });
        let mut decoder = Decoder::new(name, windows_1252);
        let mut scanner = Scanner::new(name);
        let mut carry: Vec<u8> = Vec::new();
        let mut offset = 0;
        loop {
            let block = Arc::new(read_block(&mut file).map_err(cannot_read)?);
            if block.is_empty() {
                break;
            }
            progress.advance(block.len() as u64);
            // The hasher may have stopped only by panicking, which join reports below.
            let _ = to_hasher.send(Arc::clone(&block));
            let mut bytes: &[u8] = &block;
            if offset == 0 {
                decoder.bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
                if decoder.bom {
                    bytes = &bytes[3..];
                    offset = 3;
                }
            }
            // Whole lines only: the part after the last line feed waits for the next block.
            let Some(last) = memchr::memrchr(b'\n', bytes) else {
                carry.extend_from_slice(bytes);
                guard_line_length(name, &carry)?;
                continue;
            };
            let (mut lines, tail) = bytes.split_at(last + 1);
            if !carry.is_empty() {
                // Only the line that straddles the edge is copied.
                let first_end = memchr::memchr(b'\n', lines).map_or(lines.len(), |n| n + 1);
                carry.extend_from_slice(&lines[..first_end]);
                lines = &lines[first_end..];
                match decoder.lines(&carry, offset, &mut scanner) {
                    Step::Go => {}
                    Step::NotUtf8 => return Ok(None),
                    Step::Failed(error) => return Err(error),
                }
                offset += carry.len();
                carry.clear();
            }
            match decoder.lines(lines, offset, &mut scanner) {
                Step::Go => {}
                Step::NotUtf8 => return Ok(None),
                Step::Failed(error) => return Err(error),
            }
            offset += lines.len();
            carry.extend_from_slice(tail);
        }
        match decoder.lines(&carry, offset, &mut scanner) {
            Step::Go => {}
            Step::NotUtf8 => return Ok(None),
            Step::Failed(error) => return Err(error),
        }
        drop(to_hasher);
        let sha256 = hasher
            .join()
            .map_err(|_| InputError::new(name, "the fingerprint of the log could not be computed"))?;
        if let Some(error) = decoder.error {
            return Err(error);
        }
        let encoding = match (windows_1252, decoder.bom) {
            (true, _) => Encoding::Windows1252,
            (false, true) => Encoding::Utf8Bom,
            (false, false) => Encoding::Utf8,
        };
        Ok(Some(Streamed {
            sightings: scanner.finish()?,
            sha256,
            encoding,
        }))
    })
}

/// Reads up to [`BLOCK`] bytes, fewer only at the end of the file.
fn read_block(file: &mut std::fs::File) -> std::io::Result<Vec<u8>> {
    let mut block = Vec::with_capacity(BLOCK);
    file.by_ref().take(BLOCK as u64).read_to_end(&mut block)?;
    Ok(block)
}

/// A line longer than any export hybridtls reads whole is damage, and holding it would undo
/// the flat memory.
fn guard_line_length(name: &str, carry: &[u8]) -> Result<(), InputError> {
    if carry.len() as u64 > super::MAX_FILE_BYTES {
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
    NotUtf8,
    Failed(InputError),
}

/// Checks each piece as [`text::decode`] checks a whole text, and hands the text to the
/// scanner. Errors come in the order a whole read gives them: invalid UTF-8 after a BOM first,
/// then the first binary character, then the rows' errors.
struct Decoder<'f> {
    file: &'f str,
    windows_1252: bool,
    bom: bool,
    /// The first binary character, reported once the rest of the file proved to be UTF-8.
    error: Option<InputError>,
}

impl<'f> Decoder<'f> {
    fn new(file: &'f str, windows_1252: bool) -> Self {
        Decoder {
            file,
            windows_1252,
            bom: false,
            error: None,
        }
    }

    /// `bytes`: whole lines starting at file byte `offset`.
    fn lines(&mut self, bytes: &[u8], offset: usize, scanner: &mut Scanner) -> Step {
        let text: Cow<str> = if self.windows_1252 {
            encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0
        } else {
            match std::str::from_utf8(bytes) {
                Ok(text) => Cow::Borrowed(text),
                Err(e) if self.bom => {
                    return Step::Failed(text::invalid_utf8_after_bom(self.file, offset + e.valid_up_to()))
                }
                Err(_) => return Step::NotUtf8,
            }
        };
        if self.error.is_some() {
            return Step::Go;
        }
        if let Some(at) = text::first_binary_character(&text) {
            let before = &text[..at];
            let line_start = before.rfind('\n').map_or(0, |n| n + 1);
            let character = text[at..].chars().next().unwrap_or_default();
            self.error = Some(text::binary_text(
                self.file,
                character,
                Position::LineColumn {
                    line: scanner.lines + count_lines(before) + 1,
                    column: before[line_start..].chars().count() + 1,
                },
            ));
            return Step::Go;
        }
        scanner.feed(&text);
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
        let sightings = read("RECV.LOG", LOG).unwrap();
        assert_eq!(sightings.len(), 2);
        assert_eq!(sightings[0].connector, "SERVER1\\Default Frontend SERVER1");
        assert_eq!(
            sightings[0].thumbprint.as_deref(),
            Some("9876534210FEDCBA9876534210FEDCBA12345678")
        );
        assert_eq!(sightings[0].subject.as_deref(), Some("CN=SERVER1, O=\"A, B\""));
        assert_eq!(sightings[1].failure.as_deref(), Some("NoCredentials"));
        assert_eq!(sightings[1].source.position, "line 10");
    }

    #[test]
    fn rows_without_a_header_are_an_error_with_a_line() {
        let err = read("x.LOG", "#Software: Microsoft Exchange Server\n2017,a,b\n").unwrap_err();
        assert_eq!(err.position, Some(Position::LineColumn { line: 2, column: 1 }));
    }
}
