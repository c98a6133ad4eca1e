//! Finding PowerShell 7 for the tests that run generated scripts in it.
//!
//! Order: `$HYBRIDTLS_PWSH`, then the project's pinned copy `../shared/tools/pwsh/pwsh` beside
//! the checkout (PowerShell 7.6 with Pester, what `.ci/run` uses), then `pwsh` on `PATH`. Without
//! any, a test says plainly that it was skipped, except under CI (`CI` set), where a missing
//! PowerShell fails the run: CI must never pass for want of the interpreter.
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

/// PowerShell for the test named `test`, or `None` after saying on stderr that it was skipped.
/// Under CI a missing PowerShell is a failure.
pub fn require(test: &str) -> Option<PathBuf> {
    match find() {
        Some(pwsh) => Some(pwsh),
        None if std::env::var_os("CI").is_some() => panic!(
            "{test}: no PowerShell 7 found (HYBRIDTLS_PWSH, ../shared/tools/pwsh/pwsh, pwsh on PATH); CI requires it"
        ),
        None => {
            // Written past the test harness's capture, so the skip is seen in `cargo test`.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no PowerShell 7 found (install PowerShell 7 with Pester 5+, or set HYBRIDTLS_PWSH)"
            );
            None
        }
    }
}
