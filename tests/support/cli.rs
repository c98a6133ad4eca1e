//! Running the real binary from integration tests.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;

use assert_cmd::Command;

/// Runs `hybridtls ARGS` without colour and returns its exit code, stdout and stderr.
pub fn hybridtls<S: AsRef<OsStr>>(args: &[S]) -> (i32, String, String) {
    hybridtls_in(Path::new("."), args)
}

/// [`hybridtls`], run in the folder `cwd` (where it looks for `hybridtls.toml`).
pub fn hybridtls_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> (i32, String, String) {
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .env("NO_COLOR", "1")
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}
