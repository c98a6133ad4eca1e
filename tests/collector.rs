//! `hybridtls collect` prints a valid PowerShell script that writes every file hybridtls reads,
//! and the collector, the test generators and the shipped inputs they wrote agree with the table
//! of input kinds (`hybridtls::input::kinds::KINDS`): the files the collector writes are the
//! table's, each with properties its kind's signature recognises, and the generators write only
//! files the table knows, each read as the kind its name says.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use hybridtls::input::kinds::{self, KINDS};
use hybridtls::input::{psjson, text};
use hybridtls::model::InputKind;
use serde_json::{Map, Value};
use support::org;
use support::powershell::assert_parses_cleanly;

fn collector() -> String {
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .arg("collect")
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_collector_is_valid_powershell() {
    let script = collector();
    assert_parses_cleanly(&script);
    for needle in [
        "-Depth 6",
        "-Encoding utf8",
        "ToBase64String($_.RawData)",
        "Get-AuthConfig",
        "Get-HybridConfiguration",
    ] {
        assert!(script.contains(needle), "the collector lacks {needle}");
    }
}

/// The kind whose entry names `file` (`store-My.json`), or whose format its extension is.
fn kind_named(file: &str) -> Option<InputKind> {
    KINDS
        .iter()
        .find(|spec| spec.file_names.contains(&file))
        .map(|spec| spec.kind)
        .or_else(|| {
            let (_, extension) = file.rsplit_once('.')?;
            kinds::format_of(&extension.to_ascii_lowercase())
        })
}

#[test]
fn the_collector_writes_the_files_of_the_table_with_properties_their_signatures_recognise() {
    let script = collector();
    let written = collector_files(&script);
    let names: BTreeSet<&str> = written.keys().map(String::as_str).collect();
    let collected: BTreeSet<&str> = KINDS
        .iter()
        .filter(|spec| spec.collected)
        .flat_map(|spec| spec.file_names.iter().copied())
        .collect();
    assert_eq!(
        names, collected,
        "the files the collector writes, and the table's"
    );
    for (file, properties) in &written {
        let object: Map<String, Value> = properties
            .iter()
            .map(|name| (name.clone(), Value::String("x".to_owned())))
            .collect();
        assert_eq!(
            kinds::recognise(&object).map(|(kind, _)| kind),
            kind_named(file),
            "{file} holds objects with {properties:?}"
        );
        // The script's help lists what it writes.
        let help = &script[..script.find("#>").unwrap()];
        assert!(
            help.contains(file.as_str()),
            "the collector's help does not list {file}"
        );
    }
}

/// The files `Save-Json` writes in `script`, each with the properties of the objects written to
/// it. A model of just the script's own shapes: `-Name` a literal or `('fmt{0}.json' -f $var)` in
/// a `foreach ($var in @(...))`; `-Objects` a variable or an inline `@(...)`; properties the
/// single-quoted words of `Select-Object` lists and the keys of `[pscustomobject]@{...}`, through
/// the variables the objects' statement uses.
fn collector_files(script: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = BTreeMap::new();
    let call = "Save-Json -Name ";
    for (at, _) in script.match_indices(call) {
        let rest = &script[at + call.len()..];
        let (name, rest) = expression(rest);
        let names: Vec<String> = match name.strip_prefix('(') {
            None => vec![name.trim_matches('\'').to_owned()],
            Some(format) => {
                // ('store-{0}.json' -f $store)
                let (pattern, variable) = format.trim_end_matches(')').split_once(" -f $").unwrap();
                let head = format!("foreach (${variable} in @(");
                let list = &script[script.find(&head).unwrap() + head.len()..];
                let list = &list[..list.find(')').unwrap()];
                quoted_words(list)
                    .into_iter()
                    .map(|value| pattern.trim_matches('\'').replace("{0}", &value))
                    .collect()
            }
        };
        let objects = rest.trim_start().strip_prefix("-Objects ").unwrap();
        let (objects, _) = expression(objects);
        let mut statements = String::new();
        let mut pending = vec![objects.to_owned()];
        let mut seen = BTreeSet::new();
        while let Some(text) = pending.pop() {
            statements.push_str(&text);
            statements.push('\n');
            for variable in variables(&text) {
                if let Some(definition) = definition(script, &variable) {
                    if seen.insert(variable) {
                        pending.push(definition.to_owned());
                    }
                }
            }
        }
        let properties = properties(&statements);
        for name in names {
            files.insert(name, properties.clone());
        }
    }
    files
}

/// The expression at the start of `text` (a word, a quoted string or a bracketed expression)
/// and what follows it.
fn expression(text: &str) -> (&str, &str) {
    let end = end_of_expression(text, |c| c == ' ' || c == '\n' || c == '\r');
    (&text[..end], &text[end..])
}

/// Where the expression at the start of `text` ends: at the first character `stops` accepts
/// outside quotes and brackets.
fn end_of_expression(text: &str, stops: impl Fn(char) -> bool) -> usize {
    let mut depth = 0usize;
    let mut quoted = false;
    for (at, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            _ if quoted => {}
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 && stops(c) => return at,
            _ => {}
        }
    }
    text.len()
}

/// The statement that assigns `$variable` at the start of a line, up to its end.
fn definition<'s>(script: &'s str, variable: &str) -> Option<&'s str> {
    let assignment = format!("${variable} = ");
    let (at, _) = script.match_indices(&assignment).find(|(at, _)| {
        let indent = script[..*at].rsplit('\n').next().unwrap_or_default();
        indent.trim().is_empty()
    })?;
    let start = at + assignment.len();
    let text = &script[start..];
    Some(&text[..end_of_expression(text, |c| c == '\n')])
}

/// The variables `text` uses, `$store` in `$_.store` excepted.
fn variables(text: &str) -> Vec<String> {
    text.split('$')
        .skip(1)
        .map(|rest| rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect())
        .filter(|name: &String| !name.is_empty())
        .collect()
}

/// Words in single quotes: `'Thumbprint'`.
fn quoted_words(text: &str) -> Vec<String> {
    text.split('\'')
        .skip(1)
        .step_by(2)
        .filter(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric()))
        .map(str::to_owned)
        .collect()
}

/// The properties of the objects `statements` make: the quoted words of their `Select-Object`
/// lists (a calculated property's `Name = 'RawData'` included) and the keys of the
/// `[pscustomobject]@{...}` they build, one `Key = value` a line.
fn properties(statements: &str) -> BTreeSet<String> {
    let keys = statements.lines().filter_map(|line| {
        let (key, _) = line.trim_start().split_once(" = ")?;
        let key = key.trim_end();
        (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric())).then(|| key.to_owned())
    });
    quoted_words(statements).into_iter().chain(keys).collect()
}

/// Every file under `dir` that hybridtls reads, as `load` reads it, each with the kind it was
/// recognised as.
fn read_kinds(dir: &Path) -> Vec<(PathBuf, InputKind)> {
    let inventory = hybridtls::input::load(&[dir.to_path_buf()]).unwrap();
    inventory
        .inputs
        .iter()
        .map(|input| (PathBuf::from(&input.path), input.kind))
        .collect()
}

/// Each file is named as the table names its kind: a name of the kind's entry, or an extension
/// of its format. An export that holds no object may bear any kind's name. In a collector
/// folder (one with the collector's `server.json`), the objects of each file hold only
/// properties the collector writes to it.
fn assert_named_as_read(dir: &Path, collected: &BTreeMap<String, BTreeSet<String>>) {
    for (path, kind) in read_kinds(dir) {
        let file = path.file_name().unwrap().to_string_lossy();
        let named = kind_named(&file);
        assert!(
            named == Some(kind) || (kind == InputKind::Empty && named.is_some()),
            "{} is read as {kind:?}, and its name says {named:?}",
            path.display()
        );
        let in_collector_folder = path.with_file_name("server.json").is_file();
        if let (true, Some(written)) = (in_collector_folder, collected.get(file.as_ref())) {
            let name = path.display().to_string();
            let (text, _) = text::decode(&name, &std::fs::read(&path).unwrap()).unwrap();
            for (index, object) in psjson::parse_records(&name, &text).unwrap().iter().enumerate() {
                let extra: Vec<&String> = object.keys().filter(|key| !written.contains(*key)).collect();
                assert!(
                    extra.is_empty(),
                    "{name}, record {}: the collector writes no {extra:?}",
                    index + 1
                );
            }
        }
    }
}

#[test]
fn the_organisation_generator_writes_the_collectors_files() {
    let dir = tempfile::tempdir().unwrap();
    let truth = org::generate(dir.path(), 2);
    for file in &truth.files {
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            kind_named(&name).is_some(),
            "the generator writes {name}, which the table does not know"
        );
    }
    // Each server's folder holds only files the collector writes there.
    let script = collector();
    let collected = collector_files(&script);
    assert_named_as_read(dir.path(), &collected);
    for server in &truth.servers {
        let folder = dir.path().join(format!("hybridtls-{server}"));
        for entry in std::fs::read_dir(&folder).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            // Besides its JSON files the collector copies protocol logs, by a prefix of its own.
            let copied_log = kind_named(&name) == Some(InputKind::ProtocolLog)
                && ["FrontEnd-Receive-", "FrontEnd-Send-", "Hub-Receive-", "Hub-Send-"]
                    .iter()
                    .any(|prefix| {
                        name.starts_with(prefix) && script.contains(&format!("-Prefix '{prefix}'"))
                    });
            assert!(
                collected.contains_key(&name) || copied_log,
                "{}: the collector writes no {name}",
                folder.display()
            );
        }
    }
}

/// The examples (tools/make_examples) and the rule fixtures (tests/fixtures/rules/make_rules.py)
/// hold only files the table knows, each read as the kind its name says.
#[test]
fn the_shipped_inputs_are_named_as_the_table_names_their_kinds() {
    let collected = collector_files(&collector());
    for dir in support::generated::inputs() {
        assert_named_as_read(&dir, &collected);
    }
}

/// The README's export commands write the files the table names (`.xml` for CLIXML).
#[test]
fn the_readme_writes_the_files_of_the_table() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let mut commands = 0;
    for redirection in ["> ", "Out-File ", "Export-Clixml "] {
        for (at, _) in readme.match_indices(redirection) {
            let file = readme[at + redirection.len()..]
                .split_whitespace()
                .next()
                .unwrap_or_default();
            let Some(stem) = file.strip_suffix(".json").or_else(|| file.strip_suffix(".xml")) else {
                continue;
            };
            commands += 1;
            assert!(
                kind_named(&format!("{stem}.json")).is_some(),
                "the README writes {file}, which the table does not know"
            );
        }
    }
    assert!(commands >= 10, "found {commands} export commands in the README");
}
