//! Damaged exports never make hybridtls panic: the pipeline either stops with an error that
//! names the damaged file, or runs every stage to the end.

use std::path::{Path, PathBuf};

use pipeline::run_everything;
use proptest::prelude::*;

#[path = "support/pipeline.rs"]
mod pipeline;

/// Every file of every example, as (example folder, file name).
fn example_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    for example in std::fs::read_dir("examples").unwrap() {
        let example = example.unwrap().path();
        for entry in walk(&example) {
            let name = entry
                .strip_prefix(&example)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if !name.ends_with(".md") {
                files.push((example.clone(), name));
            }
        }
    }
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Damage {
    Truncate(usize),
    Flip(usize, u8),
    Insert(usize, Vec<u8>),
    DropBom,
    /// A run of this many double quotes (issue 18: a long run cost its square in a log).
    Quotes(usize, usize),
    /// The line at this position written twice: in an export, mostly a property given twice.
    DuplicateLine(usize),
    /// One column name taken out of a protocol log's `#Fields:` header.
    DropColumn(usize),
}

fn damage(bytes: &[u8], how: &Damage) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = |i: usize| if out.is_empty() { 0 } else { i % (out.len() + 1) };
    match how {
        Damage::Truncate(i) => {
            let cut = at(*i);
            out.truncate(cut);
        }
        Damage::Flip(i, mask) => {
            if !out.is_empty() {
                let index = i % out.len();
                out[index] ^= mask.max(&1);
            }
        }
        Damage::Insert(i, junk) => {
            let index = at(*i);
            out.splice(index..index, junk.iter().copied());
        }
        Damage::DropBom => {
            for bom in [&[0xEF, 0xBB, 0xBF][..], &[0xFF, 0xFE][..]] {
                if out.starts_with(bom) {
                    out.drain(..bom.len());
                }
            }
        }
        Damage::Quotes(i, count) => {
            let index = at(*i);
            out.splice(index..index, std::iter::repeat_n(b'"', *count));
        }
        Damage::DuplicateLine(i) => {
            let index = at(*i).min(out.len());
            let start = out[..index]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |n| n + 1);
            let end = out[index..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(out.len(), |n| index + n + 1);
            let line = out[start..end].to_vec();
            out.splice(end..end, line);
        }
        Damage::DropColumn(k) => {
            if let Some(header) = out.windows(8).position(|w| w == b"#Fields:") {
                let end = out[header..]
                    .iter()
                    .position(|&b| b == b'\r' || b == b'\n')
                    .map_or(out.len(), |n| header + n);
                let names = String::from_utf8_lossy(&out[header + 8..end]).into_owned();
                let mut names: Vec<&str> = names.trim().split(',').collect();
                names.remove(k % names.len());
                out.splice(header + 8..end, format!(" {}", names.join(",")).into_bytes());
            }
        }
    }
    out
}

fn damages() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<usize>().prop_map(Damage::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, m)| Damage::Flip(i, m)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, j)| Damage::Insert(i, j)),
        Just(Damage::DropBom),
        (any::<usize>(), 1..200_000usize).prop_map(|(i, n)| Damage::Quotes(i, n)),
        any::<usize>().prop_map(Damage::DuplicateLine),
        any::<usize>().prop_map(Damage::DropColumn),
    ]
}

/// Copies the example that holds `name` with that file damaged by `how`, and runs everything.
fn damaged_example_runs_or_names_the_file(
    example: &Path,
    name: &str,
    how: &Damage,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    for file in walk(example) {
        let relative = file.strip_prefix(example).unwrap();
        let target = dir.path().join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        let bytes = std::fs::read(&file).unwrap();
        let bytes = if relative.to_string_lossy() == name {
            damage(&bytes, how)
        } else {
            bytes
        };
        std::fs::write(target, bytes).unwrap();
    }
    if let Err(message) = run_everything(dir.path()) {
        let file_name = Path::new(name)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        prop_assert!(
            message.contains(&file_name),
            "the error does not name {}: {}",
            name,
            message
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_give_an_error_naming_them_or_a_complete_run(
        pick in any::<prop::sample::Index>(),
        how in damages(),
    ) {
        let files = example_files();
        let (example, name) = &files[pick.index(files.len())];
        damaged_example_runs_or_names_the_file(example, name, &how)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The streamed protocol log reader, which one file in twenty gets above, on its own.
    #[test]
    fn damaged_protocol_logs_give_an_error_naming_them_or_a_complete_run(how in damages()) {
        let files = example_files();
        for (example, name) in files.iter().filter(|(_, name)| name.ends_with(".LOG")) {
            damaged_example_runs_or_names_the_file(example, name, &how)?;
        }
    }
}
