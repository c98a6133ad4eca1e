//! `cargo bench`: how long each pipeline stage takes on the shipped examples, and on a large
//! synthetic server (many certificates and connectors). Timing lives here, never in tests.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use hybridtls::render::script;
use hybridtls::{diagnose, input, plan};
use time::macros::datetime;

fn measure(label: &str, rounds: u32, mut work: impl FnMut()) {
    work();
    let start = Instant::now();
    for _ in 0..rounds {
        work();
    }
    let each = start.elapsed() / rounds;
    println!("{label:<48} {:>10.3} ms", each.as_secs_f64() * 1000.0);
}

/// A server with `count` certificates (no RawData) and `count` receive connectors.
fn synthetic(dir: &std::path::Path, count: usize) {
    let certificates: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{"Thumbprint": "{i:040X}", "Subject": "CN=host{i}.contoso.com, O=Contoso", "Issuer": "CN=Contoso CA, O=Contoso",
                   "NotBefore": "\/Date(1780272000000)\/", "NotAfter": "\/Date(2095891200000)\/", "HasPrivateKey": true,
                   "Services": 24, "CertificateDomains": ["host{i}.contoso.com", "mail.contoso.com"],
                   "Identity": "EX1.contoso.com\\{i:040X}"}}"#
            )
        })
        .collect();
    let connectors: Vec<String> = (0..count)
        .map(|i| {
            format!(
                r#"{{"Name": "Connector {i}", "Server": "EX1", "TransportRole": 16384, "Bindings": ["0.0.0.0:{port}"],
                   "Fqdn": "EX1.contoso.com", "AuthMechanism": 31, "TlsCertificateName": null,
                   "TlsDomainCapabilities": ["mail.protection.outlook.com:AcceptCloudServicesMail"]}}"#,
                port = 2000 + i
            )
        })
        .collect();
    std::fs::write(
        dir.join("certificates.json"),
        format!("[{}]", certificates.join(",")),
    )
    .unwrap();
    std::fs::write(dir.join("connectors.json"), format!("[{}]", connectors.join(","))).unwrap();
}

fn main() {
    let now = datetime!(2026-11-24 0:00 UTC);
    let mut examples: Vec<PathBuf> = std::fs::read_dir("examples")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    examples.sort();
    let large = tempfile::tempdir().unwrap();
    synthetic(large.path(), 500);
    examples.push(large.path().to_path_buf());
    let fqdn = ["mail.contoso.com".to_owned()];
    for example in &examples {
        let name = if example == large.path() {
            "synthetic: 500 certificates, 500 connectors".to_owned()
        } else {
            example.file_name().unwrap().to_string_lossy().into_owned()
        };
        println!("{name}");
        let rounds = 20;
        measure("  read inputs", rounds, || {
            black_box(input::load(std::slice::from_ref(example)).unwrap());
        });
        let inventory = input::load(std::slice::from_ref(example)).unwrap();
        let names: &[String] = if example == large.path() { &fqdn } else { &[] };
        measure("  diagnose + plan", rounds, || {
            black_box(plan::build(&diagnose::diagnose(&inventory, names, now)));
        });
        let plans = plan::build(&diagnose::diagnose(&inventory, names, now));
        measure("  render remediate.ps1 + rollback.ps1", rounds, || {
            for server_plan in plans.iter().filter(|p| p.has_automatic_steps()) {
                black_box(
                    script::remediation(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00")
                        .unwrap(),
                );
                black_box(
                    script::rollback(server_plan, &inventory.inputs, "2026-11-24T00:00:00Z", "00").unwrap(),
                );
            }
        });
    }
}
