//! Running `tests/powershell/Test-ScriptSyntax.ps1`: PowerShell's own parser and the check for
//! anything newer than Windows PowerShell 5.1, over many scripts in one pwsh process (starting
//! pwsh takes seconds, checking a script milliseconds).
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// The checker, relative to the package root (where `cargo test` runs integration tests).
pub const CHECKER: &str = "tests/powershell/Test-ScriptSyntax.ps1";

/// A parse error, as `Parser.ParseFile` reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub id: String,
    pub message: String,
}

/// A construct that Windows PowerShell 5.1 lacks.
#[derive(Debug, Clone, Deserialize)]
pub struct Finding {
    pub line: usize,
    pub column: usize,
    /// The checker's name for the rule, e.g. `ternary`.
    pub rule: String,
    pub construct: String,
    /// The first PowerShell version that has it.
    pub since: String,
    /// The start of the code where it was found.
    pub text: String,
}

/// A string token (`-Strings`): PowerShell's `TokenKind` and `Value`, and its extent in UTF-16
/// code units of the text PowerShell read.
#[derive(Debug, Clone, Deserialize)]
pub struct StringToken {
    pub token: String,
    pub start: usize,
    pub end: usize,
    pub value: String,
}

/// What the checker found in one script.
#[derive(Debug, Clone, Deserialize)]
pub struct FileReport {
    pub path: PathBuf,
    /// Length of the text PowerShell read, in UTF-16 code units (byte order mark not counted).
    pub length: usize,
    #[serde(rename = "parseErrors")]
    pub parse_errors: Vec<ParseError>,
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub strings: Vec<StringToken>,
}

/// One rule of the checker (`-ListRules`).
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub rule: String,
    /// A line of code for each entry of the rule's table (cmdlets, parameters, variables, ...),
    /// each of which the rule must report; empty for a rule without a table.
    pub examples: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Line {
    Rule(Rule),
    File(FileReport),
}

/// The checker's answer: its rules (when asked for) and one report per script, in the order the
/// scripts were given.
#[derive(Debug)]
pub struct Report {
    pub rules: Vec<Rule>,
    pub files: Vec<FileReport>,
}

/// Runs the checker in one `pwsh` over `scripts`, with `switches` (`-Strings`, `-ListRules`,
/// `-ParseOnly`).
/// Panics when pwsh fails, writes to stderr, or does not report on every script, so a checker
/// that broke half-way cannot pass for one that found nothing.
pub fn check(pwsh: &Path, scripts: &[PathBuf], switches: &[&str]) -> Report {
    assert!(!scripts.is_empty(), "no scripts to check");
    // The checker reports each script under its resolved path; resolve them alike here.
    let scripts: Vec<PathBuf> = scripts
        .iter()
        .map(|s| std::fs::canonicalize(s).unwrap_or_else(|e| panic!("{}: {e}", s.display())))
        .collect();
    let output = Command::new(pwsh)
        .args(["-NoProfile", "-NonInteractive", "-File", CHECKER])
        .args(switches)
        .args(&scripts)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", pwsh.display()));
    let stdout = String::from_utf8(output.stdout).expect("the checker writes ASCII JSON");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "{CHECKER} failed ({}):\n{stderr}\n{stdout}",
        output.status
    );

    let mut rules = Vec::new();
    let mut by_path = HashMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{CHECKER} wrote a line that is not a report ({e}): {line}"))
        {
            Line::Rule(rule) => rules.push(rule),
            Line::File(report) => {
                by_path.insert(report.path.clone(), report);
            }
        }
    }
    let files = scripts
        .iter()
        .map(|script| {
            by_path
                .remove(script)
                .unwrap_or_else(|| panic!("{CHECKER} did not report on {}:\n{stdout}", script.display()))
        })
        .collect();
    Report { rules, files }
}

/// PowerShell's `TokenKind` of a single-quoted string (`StringLiteralToken`; a bare word is a
/// `StringLiteralToken` too, but of kind `Generic`).
pub const SINGLE_QUOTED: &str = "StringLiteral";

/// Asserts, from the checker's `-Strings` report on `text` (the script as rendered, byte order
/// mark and all), that the script parses and that each `(value, expected)` is the `Value` of
/// exactly `expected` single-quoted string tokens; and that, when the value has at least 3
/// characters and is not all whitespace, its text occurs nowhere outside a single-quoted token
/// (not in code, a comment, a double-quoted string or a here-string). `what` names the script in
/// messages.
pub fn assert_values_in_single_quoted_literals(
    what: &str,
    report: &FileReport,
    text: &str,
    values: &[(String, usize)],
) {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    assert!(
        report.parse_errors.is_empty(),
        "{what}: PowerShell's parser rejects it: {:#?}\n--- script ---\n{text}",
        report.parse_errors
    );
    // Extents count UTF-16 code units; the byte offset where each one starts, and the end.
    let mut byte_at: Vec<usize> = Vec::with_capacity(text.len() + 1);
    for (at, c) in text.char_indices() {
        byte_at.extend(std::iter::repeat_n(at, c.len_utf16()));
    }
    byte_at.push(text.len());
    assert_eq!(
        report.length,
        byte_at.len() - 1,
        "{what}: PowerShell read a text of another length than the one rendered"
    );
    let literals: Vec<(usize, usize, &str)> = report
        .strings
        .iter()
        .filter(|s| s.token == SINGLE_QUOTED)
        .map(|s| (byte_at[s.start], byte_at[s.end], s.value.as_str()))
        .collect();
    for (value, expected) in values {
        let count = literals.iter().filter(|(_, _, v)| v == value).count();
        assert_eq!(
            count, *expected,
            "{what}: {value:?} is the value of {count} single-quoted string(s), not {expected}; \
             PowerShell's string tokens: {:#?}",
            report.strings
        );
        if value.chars().count() < 3 || value.trim().is_empty() {
            continue;
        }
        // Every occurrence, overlapping ones included: step one character past each match.
        let mut from = 0;
        while let Some(found) = text[from..].find(value.as_str()) {
            let at = from + found;
            let inside = literals
                .iter()
                .any(|(start, end, _)| *start <= at && at + value.len() <= *end);
            assert!(
                inside,
                "{what}: {value:?} occurs at byte {at} outside any single-quoted string, on the \
                 line {:?}",
                text[..at].rsplit('\n').next().unwrap_or_default().to_owned()
                    + text[at..].split('\n').next().unwrap_or_default()
            );
            from = at + text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
}
