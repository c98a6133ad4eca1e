//! Finding PowerShell 7 for the tests that run generated scripts in it.
//!
//! Order: `$HYBRIDTLS_PWSH`, then the project's pinned copy `../shared/tools/pwsh/pwsh` beside
//! the checkout (PowerShell 7.6 with Pester, what `.ci/run` uses), then `pwsh` on `PATH`. Without
//! any, a test says plainly that it was skipped, unless `HYBRIDTLS_REQUIRE_TOOLS` is set (as
//! `.ci/run` sets it), where a missing PowerShell fails the run (tests/support/tools.rs).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn candidates() -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Some(path) = std::env::var_os("HYBRIDTLS_PWSH") {
        found.push(PathBuf::from(path));
    }
    found.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/pwsh/pwsh"));
    found.push(PathBuf::from("pwsh"));
    found
}

/// The first PowerShell that answers `-Version`, if any.
pub fn find() -> Option<PathBuf> {
    candidates().into_iter().find(|candidate| {
        Command::new(candidate)
            .args([
                "-NoProfile",
                "-NonInteractive",
                "-Command",
                "$PSVersionTable.PSVersion.Major",
            ])
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false)
    })
}

/// PowerShell for the test named `test`, or `None` after saying on stderr that it was skipped
/// (a failure where the programs are required).
pub fn require(test: &str) -> Option<PathBuf> {
    let found = find();
    if found.is_none() {
        super::tools::missing(
            &format!(
                "{test}: no PowerShell 7 found (HYBRIDTLS_PWSH, ../shared/tools/pwsh/pwsh, pwsh on PATH)"
            ),
            "install PowerShell 7 with Pester 5+, or set HYBRIDTLS_PWSH",
        );
    }
    found
}
