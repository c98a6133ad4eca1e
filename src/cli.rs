//! Command-line interface: parses arguments and runs the pipeline. The work is in the library.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::diagnose;
use crate::error::{Error, InputError, Position};
use crate::render::{html, json, report, script, text, wrap};
use crate::{input, plan, probe};

#[derive(Parser, Debug)]
#[command(
    name = "hybridtls",
    version,
    about = "Plan and script safe TLS certificate fixes for Exchange hybrid mail flow"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Read Exchange exports, show what is wrong and what would change, and optionally write the remediation script
    #[command(
        after_help = "Examples:\n  hybridtls plan examples/seed000-null-tlscertname\n  hybridtls plan --fqdn mail.contoso.com --now 2026-11-24T00:00:00Z --out change-1234 exports/EX01\n\nExit codes: 0 success (with --detailed-exitcode: nothing to change), 1 error, 2 changes or manual actions planned, or a check not judged for want of an export or a property (with --detailed-exitcode)."
    )]
    Plan(PlanArgs),
    /// Render a saved plan again, from its plan.json, without the inputs (as terraform show)
    #[command(
        after_help = "Examples:\n  hybridtls show change-1234\n  hybridtls show change-1234/plan.json --format markdown\n  hybridtls show change-1234 --format html > report.html\n\nThe text is what `plan` printed, but for the lines naming the files that run wrote."
    )]
    Show {
        /// The --out folder of a plan, or its plan.json
        #[arg(value_name = "DIR|PLAN.JSON")]
        path: PathBuf,
        /// text (as `plan` prints it), json (plan.json as written), markdown (report.md) or html (report.html)
        #[arg(long, value_enum, ignore_case = true, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
    },
    /// Connect to a server as Exchange Online does (SMTP, STARTTLS) and judge the certificate it presents
    #[command(
        after_help = "Examples:\n  hybridtls probe mail.contoso.com\n  hybridtls probe 203.0.113.25:25 --fqdn mail.contoso.com --format json > probe.json\n\nTrust is judged against webpki-roots, the Mozilla root program: the closest public approximation of the roots Exchange Online trusts.\n\nExit codes: 0 everything a hybrid partner needs holds, 2 something does not or could not be judged, 1 error (the name does not resolve, the connection is refused or times out, a banner that is not 220, a TLS alert...)."
    )]
    Probe(ProbeArgs),
    /// Print the collector script to paste into the Exchange Management Shell on each server
    #[command(after_help = "Example:\n  hybridtls collect > Collect-HybridTls.ps1")]
    Collect,
    /// List every rule code with its title
    #[command(after_help = "Examples:\n  hybridtls rules\n  hybridtls rules --format json")]
    Rules {
        /// text for people, json for tools
        #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
        format: Format,
    },
    /// Explain a rule, or an error text pasted from an NDR, a queue, a protocol log or an event
    #[command(
        after_help = "Examples:\n  hybridtls explain HT001\n  hybridtls explain \"450 4.7.320 Certificate validation failed; MSG=SubjectMismatch\"\n\nExit codes: 0 explained, 1 not recognised."
    )]
    Explain {
        /// A rule code (HT001), a rule name, an error text or code (5.7.3), or protocol log rows
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        /// text for people, json for tools
        #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  hybridtls completions bash > /etc/bash_completion.d/hybridtls\n  hybridtls completions powershell >> $PROFILE   # names its types in full, so it works appended after anything"
    )]
    Completions {
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args, Debug)]
struct PlanArgs {
    /// Export files and folders (folders are walked; files are recognised by content)
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Write remediate.ps1 into DIR (without --out nothing is written: a dry run)
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The name Exchange Online uses to reach on-premises (repeatable); derived from the inputs when absent
    #[arg(long, value_name = "NAME", value_parser = parse_fqdn)]
    fqdn: Vec<String>,
    /// Evaluation time for validity checks, RFC 3339 (default: now), so reviews are reproducible
    #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
    now: Option<OffsetDateTime>,
    /// Exit 0 when nothing needs changing, 2 when changes or manual actions are planned or a check
    /// could not be judged, 1 on error
    #[arg(long)]
    detailed_exitcode: bool,
    /// Output on stdout: text for people, json for pipelines (the same document as plan.json)
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
    format: Format,
    /// List a warning rule's findings as ignored instead of planning for them (repeatable; a
    /// code such as HT012 or a name); errors cannot be ignored
    #[arg(long, value_name = "RULE")]
    ignore: Vec<String>,
    /// HT012 warns when the hybrid certificate expires within N days (default 60)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::config::MAX_WARNING_DAYS)))]
    expiry_warning_days: Option<u32>,
    /// Read the settings from FILE instead of ./hybridtls.toml (ignore = [...], expiry-warning-days = N)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct ProbeArgs {
    /// The server: HOST or HOST:PORT, port 25 by default; an IPv6 address in brackets ([2001:db8::25]:25)
    #[arg(value_name = "HOST[:PORT]", value_parser = probe::Target::parse)]
    target: probe::Target,
    /// The name the certificate must cover: the TlsDomain of Exchange Online's outbound connector (default: HOST when it is a name)
    #[arg(long, value_name = "NAME", value_parser = parse_fqdn)]
    fqdn: Option<String>,
    /// The name to send with EHLO
    #[arg(long, value_name = "NAME", default_value = probe::DEFAULT_EHLO, value_parser = probe::parse_ehlo)]
    ehlo: String,
    /// How long the whole probe may take, in seconds (0.5 allowed)
    #[arg(long, value_name = "SECONDS", default_value = "20", value_parser = probe::parse_timeout)]
    timeout: std::time::Duration,
    /// Output on stdout: text for people, json for pipelines and for `plan` (schema/probe.schema.json)
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
    format: Format,
    /// For tests: judge trust against the roots in FILE (PEM or DER) instead of webpki-roots
    #[arg(long, value_name = "FILE", hide = true)]
    trust_anchors: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ShowFormat {
    Text,
    Json,
    Markdown,
    Html,
}

fn parse_now(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.to_offset(time::UtcOffset::UTC))
        .map_err(|e| format!("expected RFC 3339, e.g. 2026-11-24T09:00:00Z: {e}"))
}

/// A DNS name as Exchange Online's outbound connector may hold it in TlsDomain: dot-separated
/// labels of letters, digits and hyphens, optionally with one leading `*.` wildcard label.
fn parse_fqdn(text: &str) -> Result<String, String> {
    let name = text.trim().trim_end_matches('.');
    let labels = name.strip_prefix("*.").unwrap_or(name);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.is_empty() || name.len() > 253 || !labels.split('.').all(label_ok) {
        return Err(format!(
            "{text:?} is not a DNS name; give the name Exchange Online uses to reach on-premises, e.g. mail.contoso.com or *.contoso.com"
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let habit = powershell_habit(&args);
    // `/?` could be read as an input path; on Windows no file has that name.
    if let Some(habit @ PowerShellHabit { help: true, .. }) = &habit {
        eprint!("{habit}");
        return 1;
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            match habit.filter(|_| e.use_stderr()) {
                Some(habit) => eprint!("{habit}"),
                None => {
                    let _ = e.print();
                }
            }
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let mut stdout = std::io::stdout().lock();
    let result = match cli.command {
        Command::Plan(args) => run_plan(&args, &mut stdout),
        Command::Show { path, format } => run_show(&path, format, &mut stdout),
        Command::Probe(args) => run_probe(&args, &mut stdout),
        Command::Collect => write_out(&mut stdout, crate::render::collector()).map(|()| 0),
        Command::Rules { format } => crate::explain::rules(format == Format::Json)
            .and_then(|listing| write_out(&mut stdout, &listing))
            .map(|()| 0),
        Command::Explain { text, format } => crate::explain::explain(&text.join(" "), format == Format::Json)
            .and_then(|(page, code)| write_out(&mut stdout, &page).map(|()| code)),
        Command::Completions { shell } => {
            // Generated into memory first: clap_complete panics when its writer fails.
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "hybridtls", &mut script);
            let mut script = String::from_utf8_lossy(&script).into_owned();
            if shell == clap_complete::Shell::PowerShell {
                script = appendable_powershell(&script);
            }
            write_out(&mut stdout, &script).map(|()| 0)
        }
    };
    match result {
        Ok(code) => code,
        // The reader went away (`hybridtls plan ... | head`): it has all it wanted.
        Err(Error::Write { path, source })
            if path == STANDARD_OUTPUT && source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// An argument written as PowerShell takes parameters (`-Out`, `-WhatIf`, `/?`), with the tip
/// that names what hybridtls takes instead.
#[derive(Debug)]
struct PowerShellHabit {
    argument: String,
    tip: String,
    /// `/?` or `-?`: a request for help, refused whether or not the rest parses.
    help: bool,
}

impl std::fmt::Display for PowerShellHabit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "error: unexpected argument '{}' found\n\n  tip: {}\n\nFor more information, try 'hybridtls --help'.\n",
            self.argument, self.tip
        )
    }
}

/// The first argument before `--` that is a PowerShell habit: `/?` or `-?` for help,
/// `-WhatIf` (plan is already a dry run; the script takes it), or one dash before the name of
/// one of hybridtls's long options in any case (`-Out`, `-DetailedExitCode`).
fn powershell_habit(args: &[std::ffi::OsString]) -> Option<PowerShellHabit> {
    let command = <Cli as clap::CommandFactory>::command();
    let mut longs: Vec<String> = vec!["help".to_owned(), "version".to_owned()];
    let mut commands = vec![&command];
    while let Some(command) = commands.pop() {
        longs.extend(
            command
                .get_arguments()
                .filter_map(|a| a.get_long())
                .map(str::to_owned),
        );
        commands.extend(command.get_subcommands());
    }
    let arguments = args.iter().skip(1).map(|a| a.to_string_lossy());
    for argument in arguments.take_while(|a| a != "--") {
        let habit = |tip: String, help: bool| {
            Some(PowerShellHabit {
                argument: argument.clone().into_owned(),
                tip,
                help,
            })
        };
        if argument == "/?" || argument == "-?" {
            return habit(
                "hybridtls takes --help (or -h): 'hybridtls --help', 'hybridtls plan --help'".to_owned(),
                true,
            );
        }
        let Some(name) = argument
            .strip_prefix('-')
            .filter(|n| n.len() > 1 && !n.starts_with('-'))
        else {
            continue;
        };
        let name = name
            .split_once(':')
            .map_or(name, |(name, _)| name)
            .to_ascii_lowercase();
        if name == "whatif" {
            return habit(
                "'hybridtls plan' changes nothing, and without '--out' it writes nothing: it already is a dry run. -WhatIf is a parameter of the remediate.ps1 it writes with '--out DIR': '.\\remediate.ps1 -WhatIf'".to_owned(),
                false,
            );
        }
        if let Some(long) = longs
            .iter()
            .find(|long| long.replace('-', "") == name.replace('-', ""))
        {
            return habit(
                format!("hybridtls takes its options with two dashes, as most command-line tools do: use '--{long}'"),
                false,
            );
        }
    }
    None
}

/// The types clap_complete's PowerShell script names through `using namespace`, qualified.
const POWERSHELL_COMPLETION_TYPES: &[(&str, &str)] = &[
    (
        "[CompletionResult]",
        "[System.Management.Automation.CompletionResult]",
    ),
    (
        "[CompletionResultType]",
        "[System.Management.Automation.CompletionResultType]",
    ),
    (
        "[StringConstantExpressionAst]",
        "[System.Management.Automation.Language.StringConstantExpressionAst]",
    ),
    (
        "[StringConstantType]",
        "[System.Management.Automation.Language.StringConstantType]",
    ),
];

/// clap_complete's PowerShell script without its `using namespace` statements, which must come
/// before any other statement: appended to a `$PROFILE` that holds anything, they stop the
/// whole profile with a parse error (rust-lang/rustup#3128). The types are named in full instead.
fn appendable_powershell(script: &str) -> String {
    let mut out = String::with_capacity(script.len() + 2048);
    for line in script.split_inclusive('\n') {
        if !line.trim_start().starts_with("using namespace ") {
            out.push_str(line);
        }
    }
    for (short, qualified) in POWERSHELL_COMPLETION_TYPES {
        out = out.replace(short, qualified);
    }
    out.trim_start_matches(['\r', '\n']).to_owned()
}

const STANDARD_OUTPUT: &str = "standard output";

fn write_out(out: &mut impl Write, text: &str) -> Result<(), Error> {
    out.write_all(text.as_bytes()).map_err(|source| Error::Write {
        path: STANDARD_OUTPUT.to_owned(),
        source,
    })
}

fn run_plan(args: &PlanArgs, out: &mut impl Write) -> Result<i32, Error> {
    let now = args.now.unwrap_or_else(OffsetDateTime::now_utc);
    let now = now.replace_nanosecond(0).unwrap_or(now);
    // Settings first: a bad hybridtls.toml stops the run before anything is read.
    let settings = crate::config::settings(args.config.as_deref(), &args.ignore, args.expiry_warning_days)?;
    let progress = ReadProgress::new();
    let inventory = input::load_reporting(&args.inputs, &progress);
    progress.bar.finish_and_clear();
    let inventory = inventory?;
    if inventory.inputs.is_empty() {
        return Err(Error::Usage(format!(
            "no export files found in the given inputs{}",
            input::skipped_listing(&inventory)
        )));
    }
    input::require_receive_connectors(&inventory, &args.inputs)?;
    let diagnosis = diagnose::diagnose_with(&inventory, &args.fqdn, now, settings);
    let plans = plan::build(&diagnosis);
    let evaluated_at = diagnose::date(now);
    let fingerprints: Vec<Option<String>> = plans
        .iter()
        .map(|p| {
            p.has_automatic_steps()
                .then(|| p.fingerprint(&inventory.inputs_for(&p.server), &evaluated_at))
        })
        .collect();
    let document = json::document(&inventory, &diagnosis, &plans, &fingerprints);
    let document_text = json::to_string(&document)?;

    // Everything is rendered before anything is written, so an error leaves no files behind.
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if let Some(dir) = &args.out {
        for (server_plan, fingerprint) in plans.iter().zip(&fingerprints) {
            let Some(fingerprint) = fingerprint else { continue };
            let folder = if plans.len() == 1 {
                PathBuf::new()
            } else {
                PathBuf::from(&server_plan.server)
            };
            let inputs = inventory.inputs_for(&server_plan.server);
            let remediate = script::remediation(server_plan, &inputs, &evaluated_at, fingerprint)?;
            let rollback = script::rollback(server_plan, &inputs, &evaluated_at, fingerprint)?;
            files.push((folder.join("remediate.ps1"), remediate));
            files.push((folder.join("rollback.ps1"), rollback));
        }
        if files.is_empty() {
            notes.push("No script written: nothing for a script to change.".to_owned());
        }
        files.push((PathBuf::from("plan.json"), document_text.clone()));
        files.push((PathBuf::from("report.md"), report::report(&document)));
        files.push((PathBuf::from("report.html"), html::report(&document)));
        replace_output_folder(dir, &files)?;
        for (path, _) in &files {
            notes.push(format!("Wrote {}", input::display(&dir.join(path))));
        }
    }
    match args.format {
        Format::Json => write_out(out, &document_text)?,
        Format::Text => {
            write_out(
                out,
                &for_terminal(text::plan(&document, &notes, terminal_style())),
            )?;
        }
    }
    Ok(if args.detailed_exitcode && document.summary.0.has_work() {
        2
    } else {
        0
    })
}

/// Colours only for a terminal, and never when NO_COLOR is set.
fn terminal_style() -> text::Style {
    text::Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// `text` folded to the terminal's width when standard output is a terminal; piped, as it is.
fn for_terminal(text: String) -> String {
    let width = std::io::stdout()
        .is_terminal()
        .then(|| console::Term::stdout().size_checked())
        .flatten()
        .map(|(_, columns)| usize::from(columns));
    match width {
        // Narrower than this, folding would make it harder to read, not easier.
        Some(width) if width >= 40 => wrap::fold(&text, width),
        _ => text,
    }
}

/// `hybridtls show`: the saved plan document, rendered as `plan` rendered it.
fn run_show(path: &Path, format: ShowFormat, out: &mut impl Write) -> Result<i32, Error> {
    let file = if path.is_dir() {
        path.join("plan.json")
    } else {
        path.to_path_buf()
    };
    let shown = input::display(&file);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        Error::Input(
            InputError::new(&shown, format!("cannot read it: {e}"))
                .hint("give the --out folder of `hybridtls plan`, or the plan.json in it"),
        )
    })?;
    let document: json::PlanDocument = serde_json::from_str(&text).map_err(|e| {
        Error::Input(
            InputError::new(&shown, format!("not a plan.json this version can show: {e}"))
                .at(Position::LineColumn {
                    line: e.line(),
                    column: e.column(),
                })
                .hint(format!(
                    "`hybridtls show` reads the plan.json of hybridtls {} (format {}); plan again with this version",
                    env!("CARGO_PKG_VERSION"),
                    json::FORMAT_VERSION
                )),
        )
    })?;
    let major = |version: &str| version.split('.').next().unwrap_or_default().to_owned();
    if major(&document.format_version) != major(json::FORMAT_VERSION) {
        return Err(Error::Input(InputError::new(
            &shown,
            format!(
                "format_version {} cannot be shown by this version, which writes {}; plan again",
                document.format_version,
                json::FORMAT_VERSION
            ),
        )));
    }
    let rendered = match format {
        ShowFormat::Text => for_terminal(text::plan(&document, &[], terminal_style())),
        ShowFormat::Json => json::to_string(&document)?,
        ShowFormat::Markdown => report::report(&document),
        ShowFormat::Html => html::report(&document),
    };
    write_out(out, &rendered).map(|()| 0)
}

/// `hybridtls probe`: SMTP and STARTTLS to a live server, and what it presents, judged.
fn run_probe(args: &ProbeArgs, out: &mut impl Write) -> Result<i32, Error> {
    let trust_anchors = match &args.trust_anchors {
        Some(path) => probe::TrustAnchors::from_file(path).map_err(Error::Usage)?,
        None => probe::TrustAnchors::Mozilla,
    };
    let options = probe::Options {
        fqdn: args.fqdn.clone(),
        ehlo: args.ehlo.clone(),
        timeout: args.timeout,
        trust_anchors,
    };
    let report = probe::probe(&args.target, &options)?;
    match args.format {
        Format::Json => write_out(out, &probe::render::json(&report))?,
        Format::Text => write_out(out, &probe::render::text(&report))?,
    }
    Ok(if report.passed() { 0 } else { 2 })
}

/// A progress bar on stderr while the inputs are read, for reads that last longer than a second
/// (an organisation's exports, gigabytes of protocol logs). Never drawn when stderr is not a
/// terminal, so pipelines, CI and redirected output see nothing.
struct ReadProgress {
    bar: indicatif::ProgressBar,
    started: std::time::Instant,
    shown: std::sync::atomic::AtomicBool,
    terminal: bool,
}

impl ReadProgress {
    const SHOW_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

    fn new() -> Self {
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "reading inputs {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}",
        ) {
            bar.set_style(style);
        }
        ReadProgress {
            bar,
            started: std::time::Instant::now(),
            shown: std::sync::atomic::AtomicBool::new(false),
            terminal: std::io::stderr().is_terminal(),
        }
    }
}

impl input::Progress for ReadProgress {
    fn start(&self, total_bytes: u64) {
        self.bar.set_length(total_bytes);
    }

    fn advance(&self, bytes: u64) {
        use std::sync::atomic::Ordering;
        self.bar.inc(bytes);
        if self.terminal
            && self.started.elapsed() >= Self::SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }
}

/// The files a plan writes into `--out DIR`, at the top and in the `DIR/<SERVER>/` folders.
const OUTPUT_FILES: &[&str] = &[
    "plan.json",
    "report.md",
    "report.html",
    "remediate.ps1",
    "rollback.ps1",
];
const SERVER_FILES: &[&str] = &["remediate.ps1", "rollback.ps1"];

/// Writes the set `files` (paths relative to `dir`) so that `dir` holds either the whole
/// previous set or the whole new one, never a mix: a script of the previous plan beside the
/// new plan.json could be run as if it were the new plan's. The set is written into a work
/// folder beside `dir` (`.<DIR>.hybridtls-*`, so that the renames stay on one file system) and
/// swapped in by renaming folders; a failure before the swap leaves `dir` untouched. Between
/// the two renames `dir` is briefly absent; a run killed there leaves the previous set in the
/// work folder's `old`, and the work folders of killed runs are removed by the next run that
/// writes `dir`.
fn replace_output_folder(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), Error> {
    let error = |path: &Path| {
        let path = input::display(path);
        move |source| Error::Write { path, source }
    };
    let (parent, name) = output_folder_place(dir).map_err(error(dir))?;
    let target = parent.join(&name);
    let previous = target.exists();
    if previous {
        refuse_foreign_contents(dir)?;
    }
    // Removed with what it holds when dropped: on any failure, and after the swap.
    let work = tempfile::Builder::new()
        .prefix(&format!(".{name}.hybridtls-"))
        .tempdir_in(&parent)
        .map_err(error(dir))?;
    // Made as any new folder is (the work folder is private to its owner), or with the mode
    // the previous set's folder had. A mode is Unix's: on Windows the folder's access is the
    // ACL it inherits from the parent, as any new folder's, and its only "permission" is a
    // read-only attribute that Explorer sets on folders for its own use.
    let staged = work.path().join("new");
    std::fs::create_dir(&staged).map_err(error(dir))?;
    #[cfg(unix)]
    if previous {
        let permissions = std::fs::metadata(&target).map_err(error(dir))?.permissions();
        std::fs::set_permissions(&staged, permissions).map_err(error(dir))?;
    }
    for (relative, contents) in files {
        let path = staged.join(relative);
        let shown = dir.join(relative);
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder).map_err(error(&shown))?;
        }
        let mut file = std::fs::File::create(&path).map_err(error(&shown))?;
        file.write_all(contents.as_bytes()).map_err(error(&shown))?;
        file.sync_all().map_err(error(&shown))?;
    }
    remove_stale_work_folders(&parent, &name, work.path());
    let old = work.path().join("old");
    if previous {
        std::fs::rename(&target, &old).map_err(error(dir))?;
    }
    if let Err(source) = std::fs::rename(&staged, &target) {
        if previous {
            let _ = std::fs::rename(&old, &target);
        }
        return Err(error(dir)(source));
    }
    Ok(())
}

/// The existing folder `dir` is to be, or will be in, and its name there: `--out .` or a path
/// ending in `..` name their folder only once resolved.
fn output_folder_place(dir: &Path) -> std::io::Result<(PathBuf, String)> {
    let resolved = match dir.file_name() {
        Some(_) if !dir.exists() => {
            let parent = dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::create_dir_all(parent)?;
            parent.canonicalize()?.join(dir.file_name().unwrap_or_default())
        }
        _ => dir.canonicalize()?,
    };
    match (resolved.parent(), resolved.file_name()) {
        (Some(parent), Some(name)) => Ok((parent.to_path_buf(), name.to_string_lossy().into_owned())),
        _ => Err(std::io::Error::other(
            "the root of a file system cannot be an output folder",
        )),
    }
}

/// `--out DIR` is replaced as a whole, so it must hold nothing but what a plan writes (and the
/// temporary files older versions left behind when killed); anything else, a note or the
/// inputs, stops the run before anything is written.
fn refuse_foreign_contents(dir: &Path) -> Result<(), Error> {
    let foreign = |path: &Path| {
        Error::Usage(format!(
            "--out {} holds {}, which hybridtls did not write; the folder is replaced as a whole, so give a new folder or one only hybridtls wrote",
            input::display(dir),
            input::display(path)
        ))
    };
    let cannot_read = |path: &Path| {
        let path = input::display(path);
        move |source| Error::Write { path, source }
    };
    // tempfile's names: `.tmp` and six letters or digits.
    let leftover = |name: &str| {
        name.len() == 10 && name.starts_with(".tmp") && name[4..].chars().all(|c| c.is_ascii_alphanumeric())
    };
    if !std::fs::metadata(dir).map_err(cannot_read(dir))?.is_dir() {
        return Err(foreign(dir));
    }
    for entry in std::fs::read_dir(dir).map_err(cannot_read(dir))? {
        let entry = entry.map_err(cannot_read(dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type().map_err(cannot_read(&path))?;
        if kind.is_file() && (OUTPUT_FILES.contains(&name.as_str()) || leftover(&name)) {
            continue;
        }
        if !kind.is_dir() || OUTPUT_FILES.contains(&name.as_str()) {
            return Err(foreign(&path));
        }
        for inner in std::fs::read_dir(&path).map_err(cannot_read(&path))? {
            let inner = inner.map_err(cannot_read(&path))?;
            let inner_name = inner.file_name().to_string_lossy().into_owned();
            let is_file = inner.file_type().map_err(cannot_read(&inner.path()))?.is_file();
            if !(is_file && (SERVER_FILES.contains(&inner_name.as_str()) || leftover(&inner_name))) {
                return Err(foreign(&inner.path()));
            }
        }
    }
    Ok(())
}

/// Removes the work folders that killed runs left beside `DIR` (`name`), except `current`.
/// Best effort: one that cannot be removed now is tried again next time.
fn remove_stale_work_folders(parent: &Path, name: &str, current: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    let prefix = format!(".{name}.hybridtls-");
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) && entry.path() != current {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
