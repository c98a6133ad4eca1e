//! Fuzzes the whole pipeline (read, diagnose, plan, render) through one damaged file of a
//! shipped case (an example, or a rule fixture with the newer exports): any bytes give a
//! complete run, or an error that names the damaged file; never a panic.
//!
//! An input is the file's path from the project's folder, a line feed, and the bytes that
//! replace the file; the seeds are every such file as it is (fuzz/README.md makes them).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hybridtls::render::{html, json, report, script, text};
use hybridtls::{diagnose, input, plan};
use libfuzzer_sys::fuzz_target;
use time::macros::datetime;

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

/// Runs every stage; a panic anywhere is what the fuzzer looks for.
fn run_everything(folder: &Path) -> Result<(), String> {
    let inventory = input::load(&[folder.to_path_buf()]).map_err(|e| e.to_string())?;
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    let plans = plan::build(&diagnosis);
    let fingerprints: Vec<Option<String>> = plans
        .iter()
        .map(|p| p.has_automatic_steps().then(|| "00".to_owned()))
        .collect();
    for server_plan in plans.iter().filter(|p| p.has_automatic_steps()) {
        script::remediation(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00")
            .map_err(|e| e.to_string())?;
        script::rollback(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00")
            .map_err(|e| e.to_string())?;
    }
    let document = json::document(&inventory, &diagnosis, &plans, &fingerprints);
    json::to_string(&document).map_err(|e| e.to_string())?;
    report::report(&document);
    html::report(&document);
    text::plan(&document, &[], text::Style { color: false });
    Ok(())
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
