//! `cargo bench --bench org`: `hybridtls plan` over a generated organisation (the collector
//! folders of tests/support/org.rs) against a bare serde_json parse of the same files, in the
//! same run. Goals: plan at most 1.5x the parse, and 10x the servers at most 11x the time.
//!
//! `HYBRIDTLS_BENCH_SERVERS=10,100` sets the sizes (default 100 and 1,000 servers).

#[path = "support/child.rs"]
mod child;
#[path = "../tests/support/org.rs"]
mod org;

use std::path::Path;
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;

/// Reads, decodes and parses every JSON file into a `serde_json::Value` on one thread: the least
/// any reader of these exports must do.
fn bare_parse(files: &[std::path::PathBuf]) -> Duration {
    let start = Instant::now();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "json"))
    {
        let bytes = std::fs::read(file).unwrap();
        let text = match bytes.strip_prefix(&[0xFF, 0xFE]) {
            Some(utf16) => {
                let units: Vec<u16> = utf16
                    .chunks_exact(2)
                    .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                    .collect();
                String::from_utf16(&units).unwrap()
            }
            None => String::from_utf8(bytes).unwrap(),
        };
        let text = text.trim_start_matches('\u{FEFF}');
        std::hint::black_box(serde_json::from_str::<serde_json::Value>(text).unwrap());
    }
    start.elapsed()
}

struct Measured {
    servers: usize,
    plan: Duration,
    cpu: Duration,
}

fn measure(servers: usize) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let generated = Instant::now();
    let truth = org::generate(dir.path(), servers);
    println!(
        "org: {servers} servers, {} files, {:.1} MB (generated in {:.1} s)",
        truth.files.len(),
        child::megabytes(truth.bytes),
        generated.elapsed().as_secs_f64()
    );
    let parse = (0..ROUNDS).map(|_| bare_parse(&truth.files)).min().unwrap();
    let args = ["plan", "--now", org::NOW, "--format", "json", path(dir.path())];
    let plan = child::best((0..ROUNDS).map(|_| child::hybridtls(&args, &[])).collect());
    println!("  serde_json parse, 1 thread     {:>8.3} s", parse.as_secs_f64());
    println!(
        "  hybridtls plan                 {:>8.3} s   ratio {:.2} (goal <= 1.5)   cpu {:.3} s   peak RSS {:.0} MiB",
        plan.elapsed.as_secs_f64(),
        plan.elapsed.as_secs_f64() / parse.as_secs_f64(),
        plan.cpu.as_secs_f64(),
        child::mebibytes(plan.peak_rss_bytes)
    );
    Measured {
        servers,
        plan: plan.elapsed,
        cpu: plan.cpu,
    }
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("a UTF-8 temporary path")
}

fn main() {
    let sizes: Vec<usize> = std::env::var("HYBRIDTLS_BENCH_SERVERS")
        .unwrap_or_else(|_| "100,1000".to_owned())
        .split(',')
        .map(|n| {
            n.trim()
                .parse()
                .expect("HYBRIDTLS_BENCH_SERVERS: numbers, comma-separated")
        })
        .collect();
    let measured: Vec<Measured> = sizes.into_iter().map(measure).collect();
    for pair in measured.windows(2) {
        let (small, large) = (&pair[0], &pair[1]);
        let input = large.servers as f64 / small.servers as f64;
        let time = large.plan.as_secs_f64() / small.plan.as_secs_f64();
        let cpu = large.cpu.as_secs_f64() / small.cpu.as_secs_f64();
        println!(
            "linearity: {input}x the servers took {time:.1}x the time, {cpu:.1}x the cpu time (goal <= {:.1}x)",
            input * 1.1
        );
    }
}
