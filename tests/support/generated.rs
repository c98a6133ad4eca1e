//! What hybridtls writes for every shipped input, for the tests that check the generated
//! PowerShell (tests/powershell.rs runs it, tests/powershell_syntax.rs parses it): found by
//! walking, so a new example, fixture or kind of step is covered without a change there.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::cli::hybridtls;

/// The evaluation time the golden and rule tests use.
pub const NOW: &str = "2026-11-24T00:00:00Z";

/// Every example, and every rule fixture: the `HT...` folders, as tests/rules.rs requires them
/// to be named (`certs` beside them holds their certificates, not a fixture). Relative to the
/// crate, where cargo runs the tests.
pub fn inputs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for (parent, fixtures_only) in [("examples", false), ("tests/fixtures/rules", true)] {
        for entry in std::fs::read_dir(parent).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() && (!fixtures_only || name.starts_with("HT")) {
                dirs.push(path);
            }
        }
    }
    dirs.sort();
    dirs
}

/// `hybridtls plan INPUT --now NOW --out OUT`, which must succeed.
pub fn plan_into(input: &Path, out: &Path) {
    let (code, stdout, stderr) = hybridtls(&[
        OsStr::new("plan"),
        input.as_os_str(),
        OsStr::new("--now"),
        OsStr::new(NOW),
        OsStr::new("--out"),
        out.as_os_str(),
    ]);
    assert_eq!(code, 0, "plan {}: {stderr}\n{stdout}", input.display());
}

/// Writes the script `hybridtls collect` prints to `path`, as printed.
pub fn write_collector(path: &Path) {
    let (code, collector, stderr) = hybridtls(&["collect"]);
    assert_eq!(code, 0, "collect: {stderr}");
    std::fs::write(path, collector).unwrap();
}
