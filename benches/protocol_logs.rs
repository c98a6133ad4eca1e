//! `cargo bench --bench protocol_logs`: `hybridtls plan` over one large SMTP receive protocol
//! log (tests/support/smtp_log.rs) next to seed000's exports, against `rg -F` searching the
//! same file for the rows hybridtls reads, in the same run. Goals: at least half of rg's
//! throughput, and a peak RSS under 64 MB whatever the log size.
//!
//! `HYBRIDTLS_BENCH_LOG_MB=1024` sets the log size (default 64 MB, so `cargo bench` is quick);
//! `HYBRIDTLS_BENCH_DENSE=1` makes every session send its certificate (the default: one in 25).

#[path = "support/child.rs"]
mod child;
#[path = "../tests/support/smtp_log.rs"]
mod smtp_log;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const ROUNDS: usize = 5;
const RG: &str = "/usr/bin/rg";
const PEAK_RSS_GOAL: u64 = 64 * 1024 * 1024;

/// One run of `rg -F` for the rows hybridtls reads, or None without rg.
fn ripgrep(log: &std::path::Path) -> Option<Duration> {
    if !std::path::Path::new(RG).exists() {
        return None;
    }
    // The texts of the rows src/input/protocol_log.rs judges, as its SUBSTRINGS name them.
    let patterns = [
        "Sending certificate",
        "Certificate thumbprint",
        "Certificate subject",
        "Certificate alternate names",
        "TLS negotiation failed with error",
        "TlsDomainCapabilities='None'; Status='",
        "SP_PROT_TLS1_",
        " Hello [",
        "requires TLS before MailFrom",
        "XXXXXXX",
    ];
    let start = Instant::now();
    let mut command = Command::new(RG);
    command.args(["-F", "-c"]);
    for pattern in patterns {
        command.args(["-e", pattern]);
    }
    let status = command.arg(log).stdout(Stdio::null()).status().unwrap();
    assert!(status.success(), "rg found nothing");
    Some(start.elapsed())
}

/// SHA-256 throughput on this CPU (sha2 picks SHA-NI at run time when the CPU has it).
fn sha256_throughput() -> f64 {
    let data = vec![0x5Au8; 256 << 20];
    let start = Instant::now();
    std::hint::black_box(Sha256::digest(&data));
    data.len() as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let megabytes: u64 = std::env::var("HYBRIDTLS_BENCH_LOG_MB")
        .map(|v| {
            v.trim()
                .parse()
                .expect("HYBRIDTLS_BENCH_LOG_MB: a number of megabytes")
        })
        .unwrap_or(64);
    let dir = tempfile::tempdir().unwrap();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed000-null-tlscertname");
    for file in [
        "exchange-certificates.json",
        "receive-connectors.json",
        "send-connectors.json",
    ] {
        std::fs::copy(example.join(file), dir.path().join(file)).unwrap();
    }
    let log = dir.path().join("RECV2026112300-1.LOG");
    let dense = std::env::var("HYBRIDTLS_BENCH_DENSE").is_ok_and(|v| v == "1");
    let every = if dense { 1 } else { smtp_log::CERTIFICATE_EVERY };
    let truth = smtp_log::write_with(&log, megabytes * 1_000_000, every);
    println!(
        "protocol log: {:.0} MB, {} sessions, {} certificates sent, {} TLS failures",
        child::megabytes(truth.bytes),
        truth.sessions,
        truth.certificates_sent,
        truth.tls_failures
    );
    println!(
        "  sha256 (sha2)                  {:>8.0} MB/s",
        sha256_throughput() / 1e6
    );

    let dir_arg = dir.path().to_str().expect("a UTF-8 temporary path");
    let args = [
        "plan",
        "--now",
        "2026-11-24T00:00:00Z",
        "--format",
        "json",
        dir_arg,
    ];
    // The plan must have read every sighting before its speed means anything.
    let output = Command::new(env!("CARGO_BIN_EXE_hybridtls"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let read = plan["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|input| input["recognised_as"] == "SMTP protocol log")
        .map(|input| input["objects"].as_u64().unwrap());
    assert_eq!(read, Some(truth.sightings()), "sightings read");

    let throughput = |elapsed: Duration| truth.bytes as f64 / elapsed.as_secs_f64();
    // The rounds alternate between hybridtls and rg, so that both meet the machine as it is
    // over the same minutes: run all of one and then all of the other, a busy spell (or the
    // page cache reclaimed meanwhile) favoured whichever ran in the quieter half.
    let mut plans = Vec::new();
    let mut ripgreps = Vec::new();
    for _ in 0..ROUNDS {
        plans.push(child::hybridtls(&args, &[]));
        ripgreps.extend(ripgrep(&log));
    }
    let plan = child::best(plans);
    println!(
        "  hybridtls plan                 {:>8.0} MB/s   {:.3} s (cpu {:.3} s)   peak RSS {:.0} MiB (goal < {:.0} MiB)",
        throughput(plan.elapsed) / 1e6,
        plan.elapsed.as_secs_f64(),
        plan.cpu.as_secs_f64(),
        child::mebibytes(plan.peak_rss_bytes),
        child::mebibytes(PEAK_RSS_GOAL)
    );
    match ripgreps.into_iter().min() {
        Some(rg) => println!(
            "  rg -F (10 literals)            {:>8.0} MB/s   {:.3} s   hybridtls/rg {:.2} (goal >= 0.5)",
            throughput(rg) / 1e6,
            rg.as_secs_f64(),
            throughput(plan.elapsed) / throughput(rg)
        ),
        None => println!("  rg -F: {RG} not found, no comparison"),
    }
}
