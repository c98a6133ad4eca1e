//! What a test does when a program it drives (PowerShell, Chromium, tmux) is missing: it says
//! SKIPPED and passes, unless `HYBRIDTLS_REQUIRE_TOOLS` is set. `.ci/run` sets it once it has
//! installed them, so that CI never passes for want of one. The GitHub workflow does not: its
//! Windows and macOS runners have neither Debian's chromium nor tmux (GitHub sets `CI` on every
//! runner, so `CI` cannot be the switch).
#![allow(dead_code)]

/// Skips the test whose program is missing (`what`), saying so past the test harness's capture
/// and how to get it; fails it instead when the programs are required.
pub fn missing(what: &str, install: &str) {
    assert!(
        std::env::var_os("HYBRIDTLS_REQUIRE_TOOLS").is_none(),
        "{what}; HYBRIDTLS_REQUIRE_TOOLS is set, which requires it ({install})"
    );
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what} ({install})");
}
