//! How admins get hybridtls: the README's first screen and its Install section, the CI and
//! release workflows (which cannot run here, so their promises are checked as text), and the
//! byte-for-byte checkout the Windows runners need.

use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The release targets: the Windows zip, static Linux, both macOS.
const TARGETS: [&str; 4] = [
    "x86_64-pc-windows-msvc",
    "x86_64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
];

#[test]
fn the_first_screen_keeps_its_two_commands_and_the_install_section_follows() {
    let readme = read("README.md");
    let (first_screen, rest) = readme.split_once("\n---\n").unwrap();
    for command in [
        "\n    cargo run --release -- plan examples/seed000-null-tlscertname\n",
        "\n    cargo test\n",
    ] {
        assert!(
            first_screen.contains(command),
            "the first screen lost {command:?}"
        );
    }
    assert!(rest.starts_with("\n## Install\n"), "{}", &rest[..80]);
    let install = &rest[..rest.find("\n## How to get your inputs").unwrap()];
    assert!(install.contains("\n    cargo install --locked --path .\n"));
    assert!(install.contains("target/release/"));
    for target in TARGETS {
        assert!(
            install.contains(&format!("hybridtls-<version>-{target}.")),
            "{target}"
        );
    }
    assert!(install.contains(".sha256"));
}

#[test]
fn ci_tests_on_windows_linux_and_macos_and_lints_as_ci_run_does() {
    let ci = read(".github/workflows/ci.yml");
    for os in ["windows-latest", "ubuntu-latest", "macos-latest"] {
        assert!(ci.contains(os), "{os}");
    }
    for step in [
        "cargo test --locked",
        "cargo fmt --all -- --check",
        "cargo clippy --locked --all-targets -- -D warnings",
        "Install-Module Pester",
    ] {
        assert!(ci.contains(step), "{step}");
    }
}

#[test]
fn a_version_tag_attaches_each_target_with_its_sha256() {
    let release = read(".github/workflows/release.yml");
    assert!(release.contains("tags: [\"v[0-9]+.[0-9]+.[0-9]+*\"]"));
    for target in TARGETS {
        assert!(release.contains(&format!("target: {target},")), "{target}");
    }
    assert!(release.contains("7z a \"$name.zip\""), "Windows gets a zip");
    assert!(release.contains("sha256sum \"$asset\" > \"$asset.sha256\""));
    assert!(release.contains("gh release upload \"$GITHUB_REF_NAME\" \"$ASSET\" \"$ASSET.sha256\""));
}

/// Only widely used actions: the workflows cannot be run here, so nothing unusual may hide in
/// them.
#[test]
fn the_workflows_use_only_standard_actions() {
    for workflow in [".github/workflows/ci.yml", ".github/workflows/release.yml"] {
        for line in read(workflow).lines() {
            if let Some((_, action)) = line.split_once("uses: ") {
                assert!(
                    ["actions/checkout@v4", "dtolnay/rust-toolchain@stable"].contains(&action.trim()),
                    "{workflow}: {line}"
                );
            }
        }
    }
}

/// GitHub's Windows runners check out with core.autocrlf on: without `-text`, the LF golden
/// files would be compared as CRLF and the hashes of the exports in plan.json would change.
#[test]
fn every_file_is_checked_out_byte_for_byte() {
    let attributes = read(".gitattributes");
    assert!(
        attributes.lines().any(|line| line.trim() == "* -text"),
        "{attributes}"
    );
}
