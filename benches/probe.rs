//! `cargo bench --bench probe`: how long `hybridtls probe` takes against a healthy STARTTLS
//! server on loopback (`tests/support/starttls.rs`, TLS 1.3, a leaf and its intermediate), the
//! library call alone and the real binary as a user runs it (process start included). Goal:
//! under 200 ms. Timing lives here, never in tests.

#[allow(dead_code)] // `megabytes` is for the other benches
#[path = "support/child.rs"]
mod child;
#[path = "../tests/support/starttls.rs"]
mod starttls;

use std::time::{Duration, Instant};

use hybridtls::probe::{self, Options, Target, TrustAnchors};
use starttls::{Behaviour, Pki, NAME};

const ROUNDS: usize = 30;

fn summary(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<44} min {:>7.2} ms   median {:>7.2} ms   max {:>7.2} ms   (goal < 200 ms)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

fn main() {
    let pki = Pki::new();
    let leaf = pki.healthy_leaf();
    let server = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone(), pki.intermediate()],
        leaf,
    });
    let anchors = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(anchors.path(), pki.root_pem()).unwrap();
    let target = server.target();

    let options = |trust_anchors| Options {
        fqdn: Some(NAME.to_owned()),
        ehlo: probe::DEFAULT_EHLO.to_owned(),
        timeout: Duration::from_secs(5),
        trust_anchors,
    };
    let parsed = Target::parse(&target).unwrap();
    let test_root = options(TrustAnchors::from_file(anchors.path()).unwrap());
    let mozilla = options(TrustAnchors::Mozilla);
    println!("probe of a healthy STARTTLS server on {target}, {ROUNDS} rounds each");
    for (label, options, passes) in [
        ("  library, test root as trust anchor", &test_root, true),
        ("  library, webpki-roots (the default)", &mozilla, false),
    ] {
        let times = (0..ROUNDS)
            .map(|_| {
                let start = Instant::now();
                let report = probe::probe(&parsed, options).unwrap();
                let elapsed = start.elapsed();
                assert_eq!(report.passed(), passes);
                elapsed
            })
            .collect();
        summary(label, times);
    }

    let args = [
        "probe",
        &target,
        "--fqdn",
        NAME,
        "--timeout",
        "5",
        "--trust-anchors",
        anchors.path().to_str().unwrap(),
    ];
    let runs: Vec<child::Run> = (0..ROUNDS).map(|_| child::hybridtls(&args, &[])).collect();
    assert!(runs.iter().all(|r| r.success), "hybridtls probe failed");
    let peak = runs.iter().map(|r| r.peak_rss_bytes).max().unwrap_or(0);
    let cpu = runs.iter().map(|r| r.cpu).min().unwrap_or_default();
    summary(
        "  hybridtls probe (the binary)",
        runs.iter().map(|r| r.elapsed).collect(),
    );
    println!(
        "  binary: least cpu {:.2} ms, peak RSS {:.1} MiB",
        cpu.as_secs_f64() * 1000.0,
        child::mebibytes(peak)
    );
}
