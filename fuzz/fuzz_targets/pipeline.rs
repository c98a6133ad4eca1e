//! Fuzzes the whole pipeline (read, diagnose, plan, render) through one damaged file of a
//! shipped case (an example, or a rule fixture with the newer exports): any bytes give a
//! complete run, or an error that names the damaged file; never a panic.
//!
//! An input is the file's path from the project's folder, a line feed, and the bytes that
//! replace the file; the seeds are every such file as it is (fuzz/README.md makes them).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use pipeline::run_everything;

#[path = "../../tests/support/pipeline.rs"]
mod pipeline;

/// A case's folder, copied once into a temporary folder, and the file the fuzzer replaces.
struct Target {
    /// The file's path from the project's folder, with `/`.
    name: String,
    folder: PathBuf,
    file: PathBuf,
    original: Vec<u8>,
}

/// Every input file of the examples and of the rule fixtures, each in its own copy of its case.
fn cases() -> &'static (tempfile::TempDir, Vec<Target>) {
    static CASES: OnceLock<(tempfile::TempDir, Vec<Target>)> = OnceLock::new();
    CASES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let mut folders: Vec<PathBuf> = ["examples", "tests/fixtures/rules"]
            .iter()
            .flat_map(|parent| std::fs::read_dir(root.join(parent)).expect("the cases"))
            .map(|entry| entry.expect("a case").path())
            .filter(|path| path.is_dir())
            .collect();
        folders.sort();
        let mut targets = Vec::new();
        for (n, folder) in folders.iter().enumerate() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
                .expect("a case folder")
                .map(|entry| entry.expect("a file").path())
                .filter(|path| path.is_file() && !path.extension().is_some_and(|e| e == "md" || e == "py"))
                .collect();
            files.sort();
            let copy = scratch.path().join(n.to_string());
            std::fs::create_dir_all(&copy).expect("a case copy");
            for file in &files {
                std::fs::copy(file, copy.join(file.file_name().expect("a name"))).expect("a copy");
            }
            for file in files {
                let base = file.file_name().expect("a name").to_owned();
                let name = file.strip_prefix(&root).expect("under the project");
                targets.push(Target {
                    name: name.to_string_lossy().replace('\\', "/"),
                    folder: copy.clone(),
                    file: copy.join(&base),
                    original: std::fs::read(&file).expect("a case file"),
                });
            }
        }
        (scratch, targets)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(end) = data.iter().position(|&b| b == b'\n') else {
        return;
    };
    let (name, bytes) = (&data[..end], &data[end + 1..]);
    let (_, targets) = cases();
    let Some(target) = targets.iter().find(|t| t.name.as_bytes() == name) else {
        return;
    };
    std::fs::write(&target.file, bytes).expect("the damaged file written");
    let outcome = run_everything(&target.folder);
    std::fs::write(&target.file, &target.original).expect("the file restored");
    if let Err(message) = outcome {
        let name = target.file.file_name().expect("a name").to_string_lossy();
        assert!(message.contains(&*name), "the error does not name {name}: {message}");
    }
});
