//! `hybridtls collect` prints a valid PowerShell script that writes every file hybridtls reads.

mod support;

use assert_cmd::Command;
use support::powershell::assert_parses_cleanly;

#[test]
fn the_collector_is_valid_powershell_and_writes_every_input() {
    let output = Command::cargo_bin("hybridtls")
        .unwrap()
        .arg("collect")
        .output()
        .unwrap();
    assert!(output.status.success());
    let script = String::from_utf8(output.stdout).unwrap();
    assert_parses_cleanly(&script);
    for file in [
        "server.json",
        "exchange-certificates.json",
        "receive-connectors.json",
        "send-connectors.json",
        "store-{0}.json",
        "auth-config.json",
        "hybrid-configuration.json",
    ] {
        assert!(script.contains(file), "the collector does not write {file}");
    }
    for needle in [
        "-Depth 6",
        "-Encoding utf8",
        "HasPrivateKey",
        "ToBase64String($_.RawData)",
        "HybridTlsCollector",
        "Get-AuthConfig",
        "CurrentCertificateThumbprint",
        "Get-HybridConfiguration",
        "ReceivingTransportServers",
    ] {
        assert!(script.contains(needle), "the collector lacks {needle}");
    }
}
