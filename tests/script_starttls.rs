//! The remediation script's last check opens an SMTP session to port 25 of its own server,
//! STARTTLS over TLS 1.2, and compares the certificate presented with the plan (issue 21
//! point 3). Its function runs here in real PowerShell against the loopback STARTTLS server of
//! tests/support/starttls.rs: a healthy server, one that offers no STARTTLS, one that never
//! sends a banner.

mod support;

use std::path::Path;

use sha1::{Digest, Sha1};
use support::starttls::{self, Behaviour, Pki};

#[test]
fn the_scripts_port_25_check_reads_what_a_starttls_server_presents() {
    let Some(pwsh) =
        support::pwsh::require("the_scripts_port_25_check_reads_what_a_starttls_server_presents")
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    support::generated::plan_into(Path::new("examples/seed000-null-tlscertname"), out.path());
    let script = out.path().join("remediate.ps1");

    let pki = Pki::new();
    let leaf = pki.healthy_leaf();
    let thumbprint: String = Sha1::digest(leaf.der.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    let healthy = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone(), pki.intermediate()],
        leaf,
    });
    let plain = starttls::serve(Behaviour::NoStartTls);
    let silent = starttls::serve(Behaviour::SilentBanner);

    // The functions as the script defines them, taken from its syntax tree and run alone.
    let command = format!(
        r#"
$ErrorActionPreference = 'Stop'
$ast = [System.Management.Automation.Language.Parser]::ParseFile('{}', [ref]$null, [ref]$null)
foreach ($name in 'Read-SmtpReply', 'Get-PresentedCertificate') {{
    $definition = $ast.Find({{ param($node) $node -is [System.Management.Automation.Language.FunctionDefinitionAst] -and $node.Name -eq $name }}, $true)
    . ([scriptblock]::Create($definition.Extent.Text))
}}
$results = @(
    (Get-PresentedCertificate -HostName '127.0.0.1' -Port {} -TimeoutSeconds 5),
    (Get-PresentedCertificate -HostName '127.0.0.1' -Port {} -TimeoutSeconds 5),
    (Get-PresentedCertificate -HostName '127.0.0.1' -Port {} -TimeoutSeconds 1)
)
ConvertTo-Json -InputObject $results -Compress
"#,
        script.display().to_string().replace('\'', "''"),
        healthy.address.port(),
        plain.address.port(),
        silent.address.port()
    );
    let output = std::process::Command::new(&pwsh)
        .args(["-NoProfile", "-NonInteractive", "-Command", &command])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(results[0]["Thumbprint"], thumbprint.as_str(), "{results}");
    assert!(
        results[0]["Subject"]
            .as_str()
            .unwrap()
            .contains("CN=mail.contoso.com"),
        "{results}"
    );
    assert!(
        results[1]["Problem"]
            .as_str()
            .unwrap()
            .contains("STARTTLS is not offered"),
        "{results}"
    );
    assert_eq!(results[1]["NoStartTls"], true, "{results}");
    assert!(results[2]["Problem"].as_str().is_some(), "{results}");
    assert!(results[2].get("Thumbprint").is_none(), "{results}");
}
