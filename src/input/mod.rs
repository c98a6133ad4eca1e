//! Stage 1 of the pipeline: read every input file into the normalised [`Inventory`].
//!
//! Files are recognised by their content (which cmdlet produced them), never by their name;
//! what hybridtls knows about each kind of input is its entry in [`kinds::KINDS`].

pub mod clixml;
pub mod exchange;
pub mod kinds;
pub mod nrbf;
pub mod protocol_log;
pub mod psjson;
pub mod saved_probe;
pub mod text;

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{InputError, Position};
use crate::model::{Certificate, FileHash, HashAlgorithm, InputFile, InputKind, Inventory, Store};
use kinds::Scope;
use psjson::Record;

/// Extensions of the exports read when walking a folder, besides those of the kinds of a format
/// of their own ([`kinds::format_of`]). Anything else in a folder (a README, a zip) is listed as
/// skipped; a file named explicitly is always read.
const EXPORT_EXTENSIONS: &[&str] = &["json", "xml"];

/// The largest file hybridtls reads whole. The exports of a server with hundreds of connectors
/// and certificates stay far below it; a file above it is a mistake or damage, and reading it
/// would only exhaust memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Told how far reading has come, for a progress display.
pub trait Progress: Sync {
    /// Reading starts; the files add up to `total_bytes`.
    fn start(&self, total_bytes: u64);
    /// `bytes` more have been read.
    fn advance(&self, bytes: u64);
}

/// No progress display.
impl Progress for () {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
}

/// Reads all `paths` (files and folders, folders walked in sorted order) into an inventory.
pub fn load(paths: &[PathBuf]) -> Result<Inventory, InputError> {
    load_reporting(paths, &())
}

/// One step of reading the inputs, in the order the inputs name them.
enum Work {
    Read { file: PathBuf, explicit: bool },
    Skip(String, String),
    Fail(InputError),
}

/// [`load`], telling `progress` how far it has come. Files are read and decoded in parallel;
/// their results are merged in input order and the first error in that order is returned, so
/// the outcome is the same as reading them one after the other.
pub fn load_reporting(paths: &[PathBuf], progress: &dyn Progress) -> Result<Inventory, InputError> {
    use rayon::prelude::*;
    let mut work: Vec<Work> = Vec::new();
    'paths: for path in paths {
        if path.is_dir() {
            // Each file with, for a link that leads nowhere, why it is skipped.
            let mut entries: Vec<(PathBuf, Option<String>)> = Vec::new();
            // Links are followed: an export linked into the folder is as much an input as a
            // copy of it. One that leads nowhere is no export, like a README.
            for entry in walkdir::WalkDir::new(path).follow_links(true) {
                match entry {
                    Ok(entry) if entry.file_type().is_file() => entries.push((entry.into_path(), None)),
                    Ok(_) => {}
                    Err(e) => match broken_link_entry(&e) {
                        Some((link, reason)) => entries.push((link, Some(reason))),
                        None => {
                            work.push(Work::Fail(InputError::new(
                                display(path),
                                format!("cannot walk the folder: {e}"),
                            )));
                            break 'paths;
                        }
                    },
                }
            }
            entries.sort();
            for (file, broken) in entries {
                if let Some(reason) = broken {
                    work.push(match shown_path(&file) {
                        Ok(name) => Work::Skip(name, reason),
                        Err(e) => Work::Fail(e),
                    });
                    continue;
                }
                match extension(&file).as_str() {
                    ext if EXPORT_EXTENSIONS.contains(&ext) || kinds::format_of(ext).is_some() => {
                        work.push(Work::Read {
                            file,
                            explicit: false,
                        })
                    }
                    _ => work.push(match shown_path(&file) {
                        Ok(name) => Work::Skip(name, "not an export hybridtls reads".to_owned()),
                        Err(e) => Work::Fail(e),
                    }),
                }
            }
        } else if path.is_file() {
            work.push(Work::Read {
                file: path.clone(),
                explicit: true,
            });
        } else if let Some(reason) = broken_link(path) {
            work.push(Work::Fail(InputError::new(display(path), reason)));
            break;
        } else if path.exists() {
            work.push(Work::Fail(InputError::new(
                display(path),
                "not a regular file or folder (a FIFO, socket or device): hybridtls reads export files",
            )
            .hint("save the export to a file first, e.g. `... | ConvertTo-Json -Depth 6 | Out-File exports.json`")));
            break;
        } else {
            work.push(Work::Fail(InputError::new(
                display(path),
                "no such file or folder",
            )));
            break;
        }
    }
    // Nothing after the first error in input order is read.
    if let Some(first_error) = work.iter().position(|w| matches!(w, Work::Fail(_))) {
        work.truncate(first_error + 1);
    }
    let total = work
        .iter()
        .filter_map(|w| match w {
            Work::Read { file, .. } => std::fs::metadata(file).ok().map(|m| m.len()),
            _ => None,
        })
        .sum();
    progress.start(total);
    let parts: Vec<Result<Inventory, InputError>> = work
        .into_par_iter()
        .map(|step| match step {
            Work::Read { file, explicit } => read_file(&file, explicit, progress),
            Work::Skip(name, reason) => Ok(Inventory {
                skipped: vec![(name, reason)],
                ..Inventory::default()
            }),
            Work::Fail(error) => Err(error),
        })
        .collect();
    let mut inventory = Inventory::default();
    for part in parts {
        inventory.append(part?);
    }
    refuse_several_organisations(&inventory)?;
    // Before the servers are resolved and duplicates merged: a merged certificate keeps one
    // record's source, which may not be the file that holds a value it took from another.
    refuse_hidden_characters(&inventory)?;
    resolve_servers(&mut inventory)?;
    Ok(inventory)
}

/// A plan needs at least one receive connector: without one, "nothing to change" would be a
/// guess. An error naming the inputs (and any that held no objects) says so instead.
pub fn require_receive_connectors(inventory: &Inventory, paths: &[PathBuf]) -> Result<(), InputError> {
    if !inventory.receive_connectors.is_empty() {
        return Ok(());
    }
    let empty: Vec<&str> = inventory
        .inputs
        .iter()
        .filter(|input| input.kind == InputKind::Empty)
        .map(|input| input.path.as_str())
        .collect();
    let detail = if empty.is_empty() {
        String::new()
    } else {
        format!(" ({} held no objects)", empty.join(", "))
    };
    Err(InputError::new(
        paths.iter().map(|p| display(p)).collect::<Vec<_>>().join(", "),
        format!(
            "no receive connector was read from the inputs{detail}, so hybridtls cannot tell which certificate any connector presents{}",
            skipped_listing(inventory)
        ),
    )
    .hint("export Get-ReceiveConnector of each server that takes part in hybrid mail flow (or run the script from `hybridtls collect`) and give that file or folder too"))
}

/// The files skipped in folders, one a line as the plan lists them, for an error that stops
/// the run before the plan would list them: the export that was meant may be among them.
pub fn skipped_listing(inventory: &Inventory) -> String {
    inventory
        .skipped
        .iter()
        .map(|(path, reason)| format!("\n  skipped {path}: {reason}"))
        .collect()
}

/// One plan is for one Exchange organisation: merged, the exports of several would be planned as
/// one (one certificate for all their domains, one carrier of one organisation's send connector
/// for another's servers). Inputs that name no organisation cannot conflict; those that name
/// more than one are refused, naming the files of each.
fn refuse_several_organisations(inventory: &Inventory) -> Result<(), InputError> {
    // Each organisation with the files that name it, in input order.
    let mut organisations: Vec<(&crate::model::Organisation, Vec<&str>)> = Vec::new();
    for input in &inventory.inputs {
        let Some(organisation) = &input.organisation else {
            continue;
        };
        match organisations
            .iter_mut()
            .find(|(known, _)| known.same_as(organisation))
        {
            Some((_, files)) => files.push(&input.path),
            None => organisations.push((organisation, vec![&input.path])),
        }
    }
    let [_, (second, _), ..] = organisations.as_slice() else {
        return Ok(());
    };
    // A thousand servers' folders of one organisation are not all worth naming.
    const NAMED: usize = 3;
    let each: Vec<String> = organisations
        .iter()
        .map(|(organisation, files)| {
            let mut named = files[..files.len().min(NAMED)].join(", ");
            if files.len() > NAMED {
                named.push_str(&format!(" and {} more", files.len() - NAMED));
            }
            format!("\n    {organisation}: {named}")
        })
        .collect();
    Err(InputError::new(
        &second.source.file,
        format!(
            "the inputs are exports of {} Exchange organisations, and one plan is for one organisation (merged, they would get one certificate for all their domains):{}",
            organisations.len(),
            each.concat()
        ),
    )
    .at(second.source.position.clone())
    .hint("plan each organisation on its own, giving only its files or folders"))
}

/// Every text of the model can reach the terminal, report.md or a script, so a value holding a
/// character that hides or rewrites text there ([`text::hidden_character`]) is refused with
/// its file and position, in every field alike; each kind's entry in [`kinds::KINDS`] names
/// its texts. Fields hybridtls does not read (a connector's Comment, say) never reach the model
/// and may hold anything.
fn refuse_hidden_characters(inventory: &Inventory) -> Result<(), InputError> {
    kinds::check_shown_texts(inventory, &mut |source, field, value| {
        let Some((index, character)) = text::hidden_character(value) else {
            return Ok(());
        };
        Err(InputError::new(
            &source.file,
            format!(
                "the value of {field} holds the invisible character U+{:04X} at character {index}; hybridtls refuses it because it would hide or rewrite text in the terminal, the report and the script",
                u32::from(character)
            ),
        )
        .at(source.position.clone())
        .hint("no Exchange name holds such a character: export again, and rename the object in Exchange if it really does"))
    })
}

/// The link a folder walk could not follow and why, when the walk's error is a link that leads
/// nowhere; None for other errors (a folder that cannot be read), which stop the run.
fn broken_link_entry(error: &walkdir::Error) -> Option<(PathBuf, String)> {
    let path = error.path()?;
    if let Some(ancestor) = error.loop_ancestor() {
        let reason = format!("a link loop: it leads back to {}", display(ancestor));
        return Some((path.to_path_buf(), reason));
    }
    broken_link(path).map(|reason| (path.to_path_buf(), reason))
}

/// Why the link at `path` leads to nothing hybridtls can read; None when `path` is no link or
/// leads to something.
fn broken_link(path: &Path) -> Option<String> {
    if !std::fs::symlink_metadata(path).ok()?.file_type().is_symlink() {
        return None;
    }
    let error = std::fs::metadata(path).err()?;
    Some(if is_link_loop(path) {
        "a link loop: following it never reaches a file or folder".to_owned()
    } else if error.kind() == std::io::ErrorKind::NotFound {
        "a link to a file or folder that does not exist".to_owned()
    } else {
        format!("a link that cannot be followed: {error}")
    })
}

/// Whether following the link at `path`, link after link, comes back to one it passed (the
/// system's own answer, ELOOP, has no stable std name). A chain longer than any system
/// follows counts as a loop, as the system treats it.
fn is_link_loop(path: &Path) -> bool {
    let mut passed = std::collections::HashSet::new();
    let mut current = path.to_path_buf();
    for _ in 0..64 {
        if !passed.insert(current.clone()) {
            return true;
        }
        let Ok(target) = std::fs::read_link(&current) else {
            return false;
        };
        current = current.parent().unwrap_or(Path::new("")).join(target);
    }
    true
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Paths as the user will recognise them, with `/` separators for stable output across OSes:
/// every path hybridtls prints or writes goes through here (Windows takes `/` too).
pub fn display(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

/// The path as outputs show it; a path holding a character that would hide or rewrite text
/// there is refused like such a value (see [`refuse_hidden_characters`]).
fn shown_path(path: &Path) -> Result<String, InputError> {
    let name = display(path);
    match text::hidden_character(&name) {
        None => Ok(name),
        Some((index, character)) => Err(InputError::new(
            name.escape_debug().to_string(),
            format!(
                "the file's path holds the invisible character U+{:04X} at character {index}; rename the file",
                u32::from(character)
            ),
        )),
    }
}

/// A file's size and modification time, taken from the opened file before and after it is
/// read: a file that changed in between (a log truncated or appended to, an export written
/// over) was read as a state it never had, and is refused instead.
#[derive(PartialEq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    fn of(metadata: &std::fs::Metadata) -> Self {
        Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        }
    }

    /// Checks that `file` is still as it was and that `read` bytes, when known, are all of it.
    fn unchanged(&self, name: &str, file: &std::fs::File, read: Option<u64>) -> Result<(), InputError> {
        let after = file
            .metadata()
            .map(|m| Stamp::of(&m))
            .map_err(|e| InputError::new(name, format!("cannot read: {e}")))?;
        if after == *self && read.is_none_or(|read| read == self.len) {
            return Ok(());
        }
        Err(InputError::new(
            name,
            format!(
                "the file changed while it was read ({} bytes before, {} after{})",
                self.len,
                after.len,
                read.map(|read| format!(", {read} read")).unwrap_or_default()
            ),
        )
        .hint("copy the file and give hybridtls the copy; for the protocol log Exchange is writing now, copy it or use one Exchange has closed"))
    }
}

/// Opens the file at `path` and checks what was opened, not the name: a regular file, with its
/// [`Stamp`]. A file the folder walk found and that was swapped for a FIFO since is refused
/// instead of blocking for ever: on Unix the open does not wait for a FIFO's writer.
fn open_regular(name: &str, path: &Path) -> Result<(std::fs::File, Stamp), InputError> {
    let cannot_read = |e: std::io::Error| InputError::new(name, format!("cannot read: {e}"));
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Reads of a regular file ignore it.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(cannot_read)?;
    let metadata = file.metadata().map_err(cannot_read)?;
    if !metadata.is_file() {
        return Err(InputError::new(
            name,
            "not a regular file (a FIFO, socket or device): hybridtls reads export files",
        ));
    }
    Ok((file, Stamp::of(&metadata)))
}

/// Reads one file into an inventory of its own; `explicit` when the user named it (then it must
/// be recognised), false when it was found in a folder.
fn read_file(path: &Path, explicit: bool, progress: &dyn Progress) -> Result<Inventory, InputError> {
    let mut inventory = Inventory::default();
    read_file_into(path, explicit, progress, &mut inventory)?;
    Ok(inventory)
}

fn read_file_into(
    path: &Path,
    explicit: bool,
    progress: &dyn Progress,
    inventory: &mut Inventory,
) -> Result<(), InputError> {
    let name = shown_path(path)?;
    let cannot_read = |e: std::io::Error| InputError::new(&name, format!("cannot read: {e}"));
    let (mut file, before) = open_regular(&name, path)?;
    let size = before.len;
    let ext = extension(path);
    // A protocol log is streamed, whatever its size: it is never held whole. Only `.log` files
    // are looked at for it; reading the head of every export to ask would read it twice.
    let format = kinds::format_of(&ext);
    if format == Some(InputKind::ProtocolLog) && protocol_log::streams(&file, size).map_err(cannot_read)? {
        let log = protocol_log::stream(&name, &file, progress);
        // A change explains any error the reading found, so it is told first.
        before.unchanged(&name, &file, log.as_ref().ok().map(|log| log.bytes))?;
        let log = log?;
        inventory.inputs.push(InputFile {
            path: name,
            hash: FileHash {
                algorithm: HashAlgorithm::Blake3,
                hex: log.blake3,
            },
            kind: InputKind::ProtocolLog,
            encoding: Some(log.encoding.name()),
            records: log.log.sightings.len() + log.log.failures.len(),
            servers: Vec::new(),
            organisation: None,
        });
        inventory.sightings.extend(log.log.sightings);
        inventory.log_failures.extend(log.log.failures);
        return Ok(());
    }
    if size > MAX_FILE_BYTES {
        return Err(InputError::new(
            &name,
            format!(
                "the file is {size} bytes, more than the {MAX_FILE_BYTES} hybridtls reads from one export"
            ),
        )
        .hint("an export of one server is a few megabytes at most: check that this is the file you meant, or split the export by server"));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // From the start: a `.log` file's head was read to ask whether it streams.
    file.rewind().map_err(cannot_read)?;
    file.read_to_end(&mut bytes).map_err(cannot_read)?;
    before.unchanged(&name, &file, Some(bytes.len() as u64))?;
    progress.advance(size);
    let sha256 = || FileHash {
        algorithm: HashAlgorithm::Sha256,
        hex: sha256_hex(&bytes),
    };
    if format == Some(InputKind::CertificateFile) {
        return read_certificate_file(&name, &bytes, sha256(), inventory);
    }
    let (text, encoding) = text::decode(&name, &bytes)?;
    if protocol_log::is_protocol_log(&text) {
        let log = protocol_log::read(&name, &text)?;
        inventory.inputs.push(InputFile {
            path: name,
            // Like a streamed log's: one algorithm for every protocol log, whatever its encoding.
            hash: FileHash {
                algorithm: HashAlgorithm::Blake3,
                hex: blake3::hash(&bytes).to_hex().to_string(),
            },
            kind: InputKind::ProtocolLog,
            encoding: Some(encoding.name()),
            records: log.sightings.len() + log.failures.len(),
            servers: Vec::new(),
            organisation: None,
        });
        inventory.sightings.extend(log.sightings);
        inventory.log_failures.extend(log.failures);
        return Ok(());
    }
    if format == Some(InputKind::ProtocolLog) {
        if !explicit {
            inventory
                .skipped
                .push((name, "a .log file that is not an SMTP protocol log".to_owned()));
            return Ok(());
        }
        return Err(InputError::new(
            &name,
            "not an Exchange SMTP protocol log (no #Software/#Log-type: SMTP header)",
        )
        .hint("give the SmtpReceive (RECV*.LOG) or SmtpSend (SEND*.LOG) protocol log files"));
    }
    let records = if ext == "xml" {
        // Export-Clixml writes UTF-16LE in Windows PowerShell 5.1, UTF-8 in 7; the decoding is
        // the JSON exports'. In a folder, XML that is no CLIXML (another tool's settings) is
        // listed as skipped with the reason, as stray JSON is; named on the command line it
        // must be read.
        if !clixml::is_clixml(&text) {
            if !explicit {
                inventory
                    .skipped
                    .push((name, "an XML file that is not CLIXML (Export-Clixml)".to_owned()));
                return Ok(());
            }
            let start = text.len() - text.trim_start().len();
            return Err(InputError::new(
                &name,
                "an XML file that is not CLIXML: it does not start with PowerShell's <Objs>",
            )
            .at(text::line_column(&text, start))
            .hint("give the file written by Export-Clixml or ConvertTo-Json, or use `hybridtls collect`"));
        }
        clixml::parse_records(&name, &text)?
    } else {
        psjson::parse_records(&name, &text)?
    };
    // A JSON file found in a folder that is no export (a tool's settings, another cmdlet's
    // output) is listed as skipped, not fatal; one named on the command line must be an export.
    if let (false, Some(first)) = (explicit, records.first()) {
        if kinds::recognise(first).is_none() {
            let reason = kinds::unrecognised(&Record::new(&name, 0, first)).message;
            inventory.skipped.push((name, reason));
            return Ok(());
        }
    }
    let mut kind = InputKind::Empty;
    let mut organisation: Option<crate::model::Organisation> = None;
    for (index, object) in records.iter().enumerate() {
        let record = Record::new(&name, index, object);
        let (record_kind, read) = kinds::recognise(object).ok_or_else(|| kinds::unrecognised(&record))?;
        if let Some(named) = exchange::read_organisation(&record) {
            match &organisation {
                None => organisation = Some(named),
                Some(first) if first.same_as(&named) => {}
                Some(first) => {
                    return Err(InputError::new(
                        &name,
                        format!(
                            "this object is of the Exchange organisation {named}, and {} of this file is of {first}; one plan is for one organisation",
                            first.source.position
                        ),
                    )
                    .at(named.source.position.clone())
                    .hint("keep each organisation's exports in files of their own, and plan each organisation on its own"))
                }
            }
        }
        if kind != InputKind::Empty && kind != record_kind {
            return Err(record.error(
                "",
                format!(
                    "this object looks like {} output, the ones before it like {} output; keep one cmdlet's output per file",
                    record_kind.describe(),
                    kind.describe()
                ),
            ));
        }
        kind = record_kind;
        read(&record, inventory)?;
    }
    inventory.inputs.push(InputFile {
        path: name,
        hash: sha256(),
        kind,
        encoding: Some(encoding.name()),
        records: records.len(),
        servers: Vec::new(),
        organisation,
    });
    Ok(())
}

fn read_certificate_file(
    name: &str,
    bytes: &[u8],
    hash: FileHash,
    inventory: &mut Inventory,
) -> Result<(), InputError> {
    let certificates = crate::x509::parse_certificate_file(bytes).map_err(|e| match e {
        crate::x509::CertificateError::InBundle {
            index,
            offset,
            reason,
        } => InputError::new(
            name,
            format!("certificate {index} of the file is not a well-formed certificate: {reason}"),
        )
        .at(Position::Byte(offset)),
        other => InputError::new(name, other.to_string()),
    })?;
    let count = certificates.len();
    for (index, facts) in certificates.into_iter().enumerate() {
        let source = crate::model::Source {
            file: name.to_owned(),
            position: Position::Certificate(index + 1),
        };
        inventory
            .certificates
            .push(Certificate::from_facts(facts, Store::File, source));
    }
    inventory.inputs.push(InputFile {
        path: name.to_owned(),
        hash,
        kind: InputKind::CertificateFile,
        encoding: None,
        records: count,
        servers: Vec::new(),
        organisation: None,
    });
    Ok(())
}

/// The folder part of a displayed path.
fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// Certificates name their server by FQDN (`Identity`), connectors by NetBIOS name, and store
/// listings not at all: map every certificate to a NetBIOS name. An unnamed certificate belongs
/// to the server whose exports sit in the same folder (the collector writes one folder per
/// server), or to the only server of the inputs.
fn resolve_servers(inventory: &mut Inventory) -> Result<(), InputError> {
    use std::collections::{HashMap, HashSet};
    // Indexed by lowercase name, not searched: an organisation has a thousand servers and
    // eighty thousand certificates, and a search per record made loading quadratic.
    let mut known: Vec<(String, Option<String>)> = inventory
        .servers
        .iter()
        .map(|s| (s.name.clone(), s.fqdn.clone()))
        .collect();
    let mut seen: HashSet<String> = known.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    let mut add = |name: &str| {
        if seen.insert(name.to_ascii_lowercase()) {
            known.push((name.to_owned(), None));
        }
    };
    for connector in &inventory.receive_connectors {
        add(&connector.server);
    }
    for certificate in &inventory.certificates {
        if let Some(server) = &certificate.server {
            add(server.split('.').next().unwrap_or(server));
        }
    }
    // The first FQDN a certificate's server was written as, by its short name.
    let mut fqdn_of: HashMap<String, &str> = HashMap::new();
    for written in inventory.certificates.iter().filter_map(|c| c.server.as_deref()) {
        if let Some((first, _)) = written.split_once('.') {
            fqdn_of.entry(first.to_ascii_lowercase()).or_insert(written);
        }
    }
    for (name, fqdn) in &mut known {
        if fqdn.is_none() {
            *fqdn = fqdn_of.get(&name.to_ascii_lowercase()).map(|s| (*s).to_owned());
        }
    }
    let mut index: HashMap<String, usize> = HashMap::new();
    for (at, server) in inventory.servers.iter().enumerate() {
        index.entry(server.name.to_ascii_lowercase()).or_insert(at);
    }
    for (name, fqdn) in &known {
        match index.get(&name.to_ascii_lowercase()) {
            Some(&at) => {
                let server = &mut inventory.servers[at];
                if server.fqdn.is_none() {
                    server.fqdn = fqdn.clone();
                }
            }
            None => {
                index.insert(name.to_ascii_lowercase(), inventory.servers.len());
                inventory.servers.push(crate::model::Server {
                    name: name.clone(),
                    fqdn: fqdn.clone(),
                    kind: None,
                    release: crate::model::ExchangeRelease::Unknown,
                    folder: None,
                });
            }
        }
    }
    // Which server each folder's exports describe, and which file says so: a folder whose
    // files name several servers describes none of them.
    let server_files: HashMap<&str, &str> = inventory
        .inputs
        .iter()
        .filter(|i| i.kind == InputKind::ExchangeServer)
        .map(|i| (folder_of(&i.path), i.path.as_str()))
        .collect();
    let mut folders: Vec<(String, String, String)> = inventory
        .servers
        .iter()
        .filter_map(|s| {
            let folder = s.folder.as_deref()?;
            let file = server_files.get(folder).copied().unwrap_or(folder);
            Some((folder.to_owned(), s.name.clone(), file.to_owned()))
        })
        .chain(inventory.receive_connectors.iter().map(|c| {
            (
                folder_of(&c.source.file).to_owned(),
                c.server.clone(),
                c.source.file.clone(),
            )
        }))
        .collect();
    folders.sort();
    folders.dedup_by(|a, b| a.0 == b.0 && a.1.eq_ignore_ascii_case(&b.1));
    let mut by_folder: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for (folder, server, file) in folders {
        by_folder.entry(folder).or_default().push((server, file));
    }
    let folder_server = |file: &str| -> Option<String> {
        match by_folder.get(folder_of(file)).map(Vec::as_slice) {
            Some([(server, _)]) => Some(server.clone()),
            _ => None,
        }
    };
    // For the error when a certificate cannot be attributed: the servers its folder names.
    let folder_servers = |file: &str| -> String {
        by_folder
            .get(folder_of(file))
            .map(|servers| {
                servers
                    .iter()
                    .map(|(server, file)| format!("{server} in {file}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_else(|| "none".to_owned())
    };
    let canonical: HashMap<String, String> = inventory
        .servers
        .iter()
        .rev()
        .map(|s| (s.name.to_ascii_lowercase(), s.name.clone()))
        .collect();
    let single = (inventory.servers.len() == 1).then(|| inventory.servers[0].name.clone());
    for certificate in &mut inventory.certificates {
        certificate.server = match &certificate.server {
            Some(written) => {
                let short = written.split('.').next().unwrap_or(written);
                canonical.get(&short.to_ascii_lowercase()).cloned()
            }
            None if certificate.store == Store::File => None,
            None => match folder_server(&certificate.source.file).or_else(|| single.clone()) {
                Some(name) => Some(name),
                // No server in the inputs at all: nothing to attribute to, and nothing to plan.
                None if inventory.servers.is_empty() => None,
                None => {
                    return Err(InputError::new(
                        &certificate.source.file,
                        format!(
                            "cannot tell which server this certificate is installed on (no Identity, and the folder holds no single server's exports) while the inputs cover several servers; the servers this folder's exports name: {}",
                            folder_servers(&certificate.source.file)
                        ),
                    )
                    .at(certificate.source.position.clone())
                    .hint("keep each server's exports in a folder of its own, as `hybridtls collect` does"))
                }
            },
        };
    }
    let mut listed: HashSet<(String, Store)> = HashSet::new();
    for (file, store) in std::mem::take(&mut inventory.listed_stores) {
        if let Some(server) = folder_server(&file).or_else(|| single.clone()) {
            if listed.insert((server.to_ascii_lowercase(), store)) {
                inventory.listed_stores.push((server, store));
            }
        }
    }
    attribute_inputs(inventory);
    refuse_repeated_exports(inventory)?;
    merge_duplicates(inventory);
    merge_send_connectors(inventory);
    Ok(())
}

/// Each object of a server once, as the kinds of [`Scope::Server`] tell their objects apart: a
/// receive connector (by name), a certificate in Get-ExchangeCertificate or in one store's
/// listing (by thumbprint), the server record. Two
/// exports of one server of the same kind (an old and a new one, or one file read twice) list
/// its objects twice, and a plan from both would judge and change both copies and contradict
/// itself: refused, naming both files. Exports that share no object (a certificate exported on
/// its own beside the server's list) are parts of one export and are read together. The
/// organisation-wide exports (send connectors, of which each collector folder holds a copy; the
/// Auth and hybrid configurations; Exchange Online's connectors), protocol logs (one per hour)
/// and supplied certificate files are not a server's, and are not counted.
fn refuse_repeated_exports(inventory: &Inventory) -> Result<(), InputError> {
    use std::collections::hash_map::Entry;
    // Where an object was read: its file, and its position there (None for the server record).
    type Place<'a> = (&'a str, Option<&'a Position>);
    // (server, kind of export, store, the object's own name) and where the object was read.
    // Indexed: an organisation has thousands of servers and tens of thousands of certificates.
    let mut seen: std::collections::HashMap<(String, InputKind, Option<Store>, String), Place> =
        std::collections::HashMap::new();
    for spec in kinds::KINDS {
        let Scope::Server(objects) = spec.scope else {
            continue;
        };
        for found in objects(inventory) {
            let place: Place = (found.file, found.position);
            let server = found.server;
            let earlier = match seen.entry((
                server.to_ascii_lowercase(),
                spec.kind,
                found.store,
                found.object.to_ascii_lowercase(),
            )) {
                Entry::Vacant(vacant) => {
                    vacant.insert(place);
                    continue;
                }
                Entry::Occupied(occupied) => *occupied.get(),
            };
            let what = match found.store {
                Some(store) => format!("{} listing", store.path()),
                None => spec.describe.to_owned(),
            };
            let at = |(file, position): Place| match position {
                None => file.to_owned(),
                Some(position) => format!("{file}, {position}"),
            };
            let (message, hint) = if earlier == place {
                (
                    format!("this {what} export of {server} is read twice (named twice, or inside two of the folders given)"),
                    "give each file or folder once",
                )
            } else {
                (
                    format!(
                        "{} of {server} is in {} too: two {what} exports of one server (made at different times, or copies) list its objects twice, and one plan from both would contradict itself",
                        found.object,
                        at(earlier)
                    ),
                    "give one export of each kind per server: keep the newest (or export again) and leave the other out, as `hybridtls collect` writes one folder per server",
                )
            };
            let error = InputError::new(found.file, message).hint(hint);
            return Err(match found.position {
                None => error,
                Some(position) => error.at(position.clone()),
            });
        }
    }
    Ok(())
}

/// Every collector folder holds the organisation's send connectors: copies of one connector
/// that say the same are one connector, the first read kept (folders are walked in sorted
/// order), so its file is the evidence; without this every server's diagnosis went through a
/// copy per server (issue 9: 1,000 copies at 1,000 servers). A copy that says something else is
/// kept apart ([`Inventory::send_connector_copies`]), never dropped: an Edge server's copy is
/// EdgeSync'd and can be stale. The copy kept for the organisation is a Mailbox server's when
/// there is one: those are read from Active Directory.
fn merge_send_connectors(inventory: &mut Inventory) {
    let edge_folders: std::collections::HashSet<&str> = inventory
        .servers
        .iter()
        .filter(|s| s.kind == Some(crate::model::ServerKind::Edge))
        .filter_map(|s| s.folder.as_deref())
        .collect();
    let mut copies = std::mem::take(&mut inventory.send_connectors);
    // Stable: Mailbox servers' copies (and those outside a server's folder) first.
    copies.sort_by_key(|c| edge_folders.contains(folder_of(&c.source.file)));
    let mut kept: Vec<crate::model::SendConnector> = Vec::new();
    let mut differing: Vec<crate::model::SendConnector> = Vec::new();
    for copy in copies {
        match kept.iter().find(|k| k.name.eq_ignore_ascii_case(&copy.name)) {
            None => kept.push(copy),
            Some(first) if first.same_settings(&copy) => {}
            // Every server that holds a differing copy diagnoses with its own.
            Some(_) => differing.push(copy),
        }
    }
    // The input order, which evidence and plans follow.
    kept.sort_by(|a, b| a.source.file.cmp(&b.source.file));
    inventory.send_connectors = kept;
    inventory.send_connector_copies = differing;
}

/// Records which servers each input describes (before duplicates are merged, so a certificate
/// seen in two files counts for both): a connector's server, a certificate's server, the
/// server of a protocol log's connector, and the server whose collector folder holds the file.
fn attribute_inputs(inventory: &mut Inventory) {
    use std::collections::{BTreeMap, BTreeSet, HashMap};
    // Indexed, not searched: an organisation has thousands of servers and files.
    let by_name: HashMap<String, &str> = inventory
        .servers
        .iter()
        .map(|s| (s.name.to_ascii_lowercase(), s.name.as_str()))
        .collect();
    let by_folder: HashMap<&str, &str> = inventory
        .servers
        .iter()
        .filter_map(|s| s.folder.as_deref().map(|folder| (folder, s.name.as_str())))
        .collect();
    let mut servers_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut add = |file, server: &str| {
        if let Some(name) = by_name.get(&server.to_ascii_lowercase()) {
            servers_of.entry(file).or_default().insert(*name);
        }
    };
    for connector in &inventory.receive_connectors {
        add(&connector.source.file, &connector.server);
    }
    for certificate in &inventory.certificates {
        if let Some(server) = &certificate.server {
            add(&certificate.source.file, server);
        }
    }
    for sighting in &inventory.sightings {
        if let Some((server, _)) = sighting.connector.split_once('\\') {
            add(&sighting.source.file, server);
        }
    }
    for service in &inventory.transport_services {
        add(&service.source.file, &service.server);
    }
    for failure in &inventory.log_failures {
        if let Some((server, _)) = failure.connector.split_once('\\') {
            add(&failure.sample.file, server);
        }
    }
    for settings in &inventory.tls_settings {
        add(&settings.source.file, &settings.server);
    }
    for event in &inventory.events {
        add(&event.source.file, &event.server);
    }
    // The organisation's exports (Get-AuthConfig, Exchange Online's connectors) describe it
    // wherever they were put.
    for input in inventory
        .inputs
        .iter()
        .filter(|i| !matches!(kinds::spec(i.kind).scope, Scope::Organisation))
    {
        if let Some(server) = by_folder.get(folder_of(&input.path)) {
            add(&input.path, server);
        }
    }
    let servers_of: HashMap<String, Vec<String>> = servers_of
        .into_iter()
        .map(|(file, servers)| (file.to_owned(), servers.into_iter().map(str::to_owned).collect()))
        .collect();
    for input in &mut inventory.inputs {
        input.servers = servers_of.get(&input.path).cloned().unwrap_or_default();
    }
}

/// The same certificate often arrives twice: from Get-ExchangeCertificate and from the store
/// listing. Keep one entry per server, store and thumbprint, in store-listing order (the order
/// Exchange enumerates), with the store's own HasPrivateKey and Exchange's own properties.
fn merge_duplicates(inventory: &mut Inventory) {
    let (listed, exchange): (Vec<Certificate>, Vec<Certificate>) =
        std::mem::take(&mut inventory.certificates)
            .into_iter()
            .partition(|c| c.from_store_listing);
    // Indexed by (store, thumbprint, server): an organisation holds tens of thousands of
    // certificates, and a linear search per certificate made loading quadratic (issue 10).
    let mut index: std::collections::HashMap<(Store, String, Option<String>), usize> =
        std::collections::HashMap::new();
    let mut merged: Vec<Certificate> = Vec::new();
    for certificate in listed.into_iter().chain(exchange) {
        let key = (
            certificate.store,
            certificate.thumbprint.clone(),
            certificate.server.clone(),
        );
        match index.get(&key) {
            Some(&at) => {
                let kept = &mut merged[at];
                kept.services = kept.services.or(certificate.services);
                kept.status = kept.status.or(certificate.status);
                kept.root_ca_type = kept.root_ca_type.or(certificate.root_ca_type);
                kept.friendly_name = kept.friendly_name.take().or(certificate.friendly_name);
                kept.has_private_key = kept.has_private_key.or(certificate.has_private_key);
                if kept.facts.is_none() {
                    kept.facts = certificate.facts;
                }
            }
            None => {
                index.insert(key, merged.len());
                merged.push(certificate);
            }
        }
    }
    inventory.certificates = merged;
}

/// SHA-256 of `data` in lowercase hex, the usual form for file and plan fingerprints.
pub fn sha256_hex(data: &[u8]) -> String {
    crate::x509::hex(&Sha256::digest(data)).to_ascii_lowercase()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// Issue 18: a file the folder walk found, swapped for a FIFO before it is read, blocked
    /// the run for ever (the open waits for a writer). Reading is what follows the walk, so
    /// reading a FIFO by its path stands for the swap, deterministically.
    #[test]
    fn a_fifo_where_a_file_was_found_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["exports.json", "RECV2026112300-1.LOG"] {
            let fifo = dir.path().join(name);
            let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
            assert!(status.success());
            let (done, result) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = done.send(read_file(&fifo, false, &()).map(|_| ()));
            });
            let err = result
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("reading the FIFO {name} blocked"))
                .unwrap_err();
            assert!(err.message.contains("not a regular file"), "{err}");
        }
    }
}
