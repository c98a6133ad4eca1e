//! Protocol logs confirm or contradict the model of Exchange's certificate choice.

mod support;

use hybridtls::{diagnose, input};
use support::smtp_log;
use time::macros::datetime;

const EXAMPLE: &str = "examples/seed000-null-tlscertname";

fn codes(dir: &std::path::Path) -> Vec<&'static str> {
    let inventory = input::load(&[dir.to_path_buf()]).unwrap();
    let diagnosis = diagnose::diagnose(&inventory, &[], datetime!(2026-11-24 0:00 UTC));
    diagnosis.servers[0]
        .findings
        .iter()
        .map(|f| f.rule.code)
        .collect()
}

fn copy_example(dir: &std::path::Path) {
    for entry in std::fs::read_dir(EXAMPLE).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn a_log_that_agrees_with_the_exports_adds_no_finding() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path());
    assert_eq!(codes(dir.path()), ["HT001"]);
}

#[test]
fn a_log_that_shows_another_certificate_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path());
    let log = std::fs::read_to_string(format!("{EXAMPLE}/RECV2026112309-1.LOG")).unwrap();
    let other = log.replace(
        "EA0EDA0EA534FCEFE061307D0A09BF42B25F4965",
        "1234567890ABCDEF1234567890ABCDEF12345678",
    );
    std::fs::write(dir.path().join("RECV2026112309-1.LOG"), other).unwrap();
    assert_eq!(codes(dir.path()), ["HT001", "HT016"]);
}

#[test]
fn a_log_file_that_is_not_a_protocol_log_is_skipped_in_folders_and_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    copy_example(dir.path());
    let transcript = dir.path().join("transcript.log");
    std::fs::write(
        &transcript,
        "**********************\nWindows PowerShell transcript start\n",
    )
    .unwrap();
    let inventory = input::load(&[dir.path().to_path_buf()]).unwrap();
    assert!(inventory
        .skipped
        .iter()
        .any(|(path, _)| path.ends_with("transcript.log")));
    let err = input::load(&[transcript]).unwrap_err();
    assert!(
        err.to_string().contains("not an Exchange SMTP protocol log"),
        "{err}"
    );
}

#[test]
fn a_generated_log_reads_as_many_sightings_as_were_written() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("RECV2026112300-1.LOG");
    // A few megabytes: several read buffers, so rows and sessions straddle their edges.
    let truth = smtp_log::write(&log, 3_000_000);
    let inventory = input::load(&[log]).unwrap();
    assert_eq!(inventory.inputs[0].records as u64, truth.sightings());
    let failures = inventory.sightings.iter().filter(|s| s.failure.is_some()).count();
    assert_eq!(failures as u64, truth.tls_failures);
    assert!(
        inventory
            .sightings
            .iter()
            .filter(|s| s.failure.is_none())
            .all(|s| s.thumbprint.as_deref() == Some(smtp_log::THUMBPRINT)
                && s.connector == smtp_log::CONNECTOR)
    );
}
