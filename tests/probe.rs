//! `hybridtls probe` against a real STARTTLS server on loopback (`tests/support/starttls.rs`),
//! one behaviour per case: each case's output and exit code. Trust is judged against the test
//! CA's root through the hidden `--trust-anchors FILE`, since no public CA issues test
//! certificates; the default, webpki-roots, is checked to reject that root. Nothing leaves
//! loopback, and every probe has a short --timeout.

mod support;

use std::net::{IpAddr, Ipv6Addr};

use support::cli::hybridtls;
use support::schema::assert_valid_probe;
use support::starttls::{self, Behaviour, Pki, NAME};

/// Probes `target` with `args`, trusting `pki`'s root, within 5 s unless `args` say otherwise;
/// returns the exit code, stdout and stderr.
fn probe(pki: &Pki, target: &str, args: &[&str]) -> (i32, String, String) {
    let anchors = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(anchors.path(), pki.root_pem()).unwrap();
    let anchors = anchors.path().to_str().unwrap().to_owned();
    let mut all = vec!["probe", target, "--trust-anchors", &anchors];
    if !args.contains(&"--timeout") {
        all.extend(["--timeout", "5"]);
    }
    all.extend_from_slice(args);
    hybridtls(&all)
}

fn healthy(pki: &Pki) -> Behaviour {
    let leaf = pki.healthy_leaf();
    Behaviour::StartTls {
        chain: vec![leaf.der.clone(), pki.intermediate()],
        leaf,
    }
}

/// The status of check `id` in a probe's JSON.
fn status<'a>(document: &'a serde_json::Value, id: &str) -> &'a str {
    document["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id}"))["status"]
        .as_str()
        .unwrap()
}

#[test]
fn a_complete_chain_for_the_name_passes_every_check() {
    let pki = Pki::new();
    let leaf = pki.healthy_leaf();
    // The thumbprint as Exchange shows it: SHA-1 of the DER, uppercase hex.
    let thumbprint = hybridtls::x509::parse_der(&leaf.der).unwrap().thumbprint;
    let server = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone(), pki.intermediate()],
        leaf,
    });
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 0, "{out}{err}");
    for needle in [
        "< 220 mail.contoso.com Microsoft ESMTP",
        "> EHLO hybridtls.invalid",
        "< 250-STARTTLS",
        "> STARTTLS",
        "< 220 2.0.0 SMTP server ready",
        "TLS: TLS 1.3, TLS13_",
        &format!("Thumbprint:  {thumbprint}"),
        "Subject:     CN=mail.contoso.com, O=Contoso Test",
        "Issuer:      CN=Contoso Test Intermediate, O=Contoso Test",
        "SAN:         mail.contoso.com, autodiscover.contoso.com",
        "NotBefore:   2025-01-01T00:00:00Z",
        "NotAfter:    2045-01-01T00:00:00Z",
        "Chain as sent (2 certificates, leaf first)",
        &format!("  1  {thumbprint}  CN=mail.contoso.com, O=Contoso Test\n       issued by CN=Contoso Test Intermediate"),
        "PASS  STARTTLS is offered and accepted",
        "PASS  the certificate is valid until 2045-01-01T00:00:00Z",
        "PASS  the certificate covers mail.contoso.com as Exchange Online matches its outbound connector's TlsDomain (by mail.contoso.com)",
        "PASS  complete: the server sends every certificate up to the root CN=Contoso Test Root, O=Contoso Test (not sent; it need not be)",
        "PASS  the chain reaches the root CN=Contoso Test Root, O=Contoso Test of ",
        " (--trust-anchors)\n",
        "Result: everything a hybrid partner needs holds.",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert_eq!(thumbprint.len(), 40);
    assert!(thumbprint
        .chars()
        .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
}

#[test]
fn the_json_of_a_healthy_probe_matches_its_schema_and_carries_the_chain_as_sent() {
    let pki = Pki::new();
    let server = starttls::serve(healthy(&pki));
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME, "--format", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let document = assert_valid_probe(&out);
    assert_eq!(document["format_version"], "1.0");
    assert_eq!(document["result"], "pass");
    assert_eq!(document["target"]["host"], "127.0.0.1");
    assert_eq!(document["name"]["value"], NAME);
    assert_eq!(document["name"]["origin"], "fqdn");
    assert_eq!(document["smtp"]["starttls_offered"], true);
    assert_eq!(document["tls"]["version"], "TLS 1.3");
    let sent = document["chain"]["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(document["chain"]["complete"], true);
    assert_eq!(document["chain"]["in_order"], true);
    assert_eq!(document["chain"]["root"], "CN=Contoso Test Root, O=Contoso Test");
    assert_eq!(document["trust_anchors"]["source"], "file");
    // raw_data is the DER: its SHA-1 is the thumbprint, and it is what the server sent.
    use base64::Engine;
    for (certificate, expected) in sent.iter().zip([None, Some(pki.intermediate())]) {
        let der = base64::engine::general_purpose::STANDARD
            .decode(certificate["raw_data"].as_str().unwrap())
            .unwrap();
        let facts = hybridtls::x509::parse_der(&der).unwrap();
        assert_eq!(certificate["thumbprint"], facts.thumbprint.as_str());
        assert_eq!(certificate["subject"], facts.subject.as_str());
        if let Some(expected) = expected {
            assert_eq!(der, expected.as_ref());
        }
    }
    assert_eq!(document["certificate"], sent[0]);
    for id in [
        "starttls",
        "certificate_valid",
        "name_covered",
        "chain_complete",
        "chain_trusted",
    ] {
        assert_eq!(status(&document, id), "pass", "{id}");
    }
}

#[test]
fn without_the_test_root_the_chain_does_not_reach_a_mozilla_root() {
    let pki = Pki::new();
    let server = starttls::serve(healthy(&pki));
    let (code, out, err) = hybridtls(&["probe", &server.target(), "--fqdn", NAME, "--timeout", "5"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("FAIL  the chain does not reach a root of webpki-roots, the Mozilla root program: the closest public approximation of the roots Exchange Online trusts"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  incomplete: the server does not send CN=Contoso Test Root, O=Contoso Test"),
        "{out}"
    );
}

#[test]
fn a_leaf_without_its_intermediate_is_an_incomplete_chain() {
    let pki = Pki::new();
    let leaf = pki.healthy_leaf();
    let server = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone()],
        leaf,
    });
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("Chain as sent (1 certificate, leaf first)"), "{out}");
    assert!(
        out.contains("FAIL  incomplete: the server does not send CN=Contoso Test Intermediate, O=Contoso Test, the issuer of CN=mail.contoso.com, O=Contoso Test"),
        "{out}"
    );
    assert!(out.contains("Cert:\\LocalMachine\\CA"), "{out}");
    assert!(out.contains("HT010"), "{out}");
    assert!(out.contains("FAIL  the chain does not reach a root of "), "{out}");
    assert!(out.contains("make the server send the whole chain"), "{out}");
    assert!(
        out.contains("PASS  the certificate covers mail.contoso.com"),
        "{out}"
    );
    let (_, json, _) = probe(&pki, &server.target(), &["--fqdn", NAME, "--format", "json"]);
    let document = assert_valid_probe(&json);
    assert_eq!(document["chain"]["complete"], false);
    assert_eq!(
        document["chain"]["missing_issuer"],
        "CN=Contoso Test Intermediate, O=Contoso Test"
    );
    assert_eq!(status(&document, "chain_complete"), "fail");
    assert_eq!(status(&document, "chain_trusted"), "fail");
    assert_eq!(status(&document, "name_covered"), "pass");
}

#[test]
fn no_starttls_is_a_finding_and_leaves_the_certificate_unjudged() {
    let pki = Pki::new();
    let server = starttls::serve(Behaviour::NoStartTls);
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("FAIL  STARTTLS is not offered: the EHLO reply does not list it"),
        "{out}"
    );
    assert!(out.contains("451 5.7.3 STARTTLS is required"), "{out}");
    assert!(!out.contains("> STARTTLS"), "{out}");
    assert!(!out.contains("Certificate presented"), "{out}");
    for what in ["validity", "name", "chain", "trust"] {
        assert!(
            out.contains(&format!(
                "----  {what} not judged: no TLS session, so no certificate\n"
            )),
            "{out}"
        );
    }
    let (_, json, _) = probe(&pki, &server.target(), &["--fqdn", NAME, "--format", "json"]);
    let document = assert_valid_probe(&json);
    assert_eq!(document["smtp"]["starttls_offered"], false);
    assert!(document["tls"].is_null() && document["certificate"].is_null() && document["chain"].is_null());
    assert_eq!(status(&document, "starttls"), "fail");
    assert_eq!(status(&document, "chain_trusted"), "not_judged");
}

#[test]
fn starttls_refused_is_a_finding() {
    let pki = Pki::new();
    let server = starttls::serve(Behaviour::RefuseStartTls);
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("FAIL  STARTTLS is offered but refused: 454 4.7.0 Temporary authentication failure"),
        "{out}"
    );
}

#[test]
fn an_expired_leaf_fails_validity_and_its_chain_is_judged_when_it_was_valid() {
    let pki = Pki::new();
    let leaf = pki.leaf(&[NAME], (2020, 1, 1), (2021, 1, 1));
    let server = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone(), pki.intermediate()],
        leaf,
    });
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("FAIL  the certificate expired on 2021-01-01T00:00:00Z"),
        "{out}"
    );
    assert!(out.contains("HT003"), "{out}");
    assert!(out.contains("[EXPIRED or not yet valid]"), "{out}");
    assert!(out.contains("PASS  complete:"), "{out}");
    assert!(
        out.contains("(judged at 2020-12-31T23:59:59Z, when the certificate was valid)"),
        "{out}"
    );
    assert!(out.contains("PASS  the chain reaches the root"), "{out}");
}

#[test]
fn a_leaf_for_another_name_fails_the_tlsdomain_match() {
    let pki = Pki::new();
    let leaf = pki.leaf(
        &["mail.fabrikam.com", "autodiscover.fabrikam.com"],
        (2025, 1, 1),
        (2045, 1, 1),
    );
    let server = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone(), pki.intermediate()],
        leaf,
    });
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("FAIL  the certificate does not cover mail.contoso.com as Exchange Online matches its outbound connector's TlsDomain: it names mail.fabrikam.com, autodiscover.fabrikam.com"),
        "{out}"
    );
    assert!(
        out.contains("450 4.7.320 Certificate validation failed; MSG=SubjectMismatch"),
        "{out}"
    );
    assert!(out.contains("PASS  the chain reaches the root"), "{out}");
    // The match is plan's: a wildcard TlsDomain stands for all subdomains of fabrikam.com.
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", "*.fabrikam.com"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("covers *.fabrikam.com as Exchange Online matches its outbound connector's TlsDomain (by mail.fabrikam.com)"), "{out}");
    // Without --fqdn and with an address for HOST there is no name to judge.
    let (code, out, err) = probe(&pki, &server.target(), &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("----  name not judged: HOST is an address and no --fqdn was given"),
        "{out}"
    );
}

#[test]
fn a_chain_sent_out_of_order_with_its_root_is_complete_and_says_so() {
    let pki = Pki::new();
    let leaf = pki.healthy_leaf();
    let server = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone(), pki.root(), pki.intermediate()],
        leaf,
    });
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("PASS  complete: the server sends every certificate up to the root CN=Contoso Test Root, O=Contoso Test, the root included; the certificates were not sent in order from the leaf up"),
        "{out}"
    );
    let (_, json, _) = probe(&pki, &server.target(), &["--fqdn", NAME, "--format", "json"]);
    let document = assert_valid_probe(&json);
    assert_eq!(document["chain"]["path"], serde_json::json!([0, 2, 1]));
    assert_eq!(document["chain"]["in_order"], false);
    assert_eq!(document["chain"]["root_sent"], true);
}

#[test]
fn a_self_signed_certificate_is_its_own_root_and_not_trusted() {
    let pki = Pki::new();
    let leaf = Pki::self_signed("EX01.contoso.com");
    let server = starttls::serve(Behaviour::StartTls {
        chain: vec![leaf.der.clone()],
        leaf,
    });
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("[self-signed]"), "{out}");
    assert!(
        out.contains(
            "PASS  the certificate is self-signed: it is its own root (CN=EX01.contoso.com, O=Contoso Test)"
        ),
        "{out}"
    );
    assert!(
        out.contains("the certificate is self-signed, and no trust anchor is it"),
        "{out}"
    );
    assert!(
        out.contains("point the connector's TlsCertificateName at the certificate from a public CA"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  the certificate does not cover mail.contoso.com"),
        "{out}"
    );
}

#[test]
fn a_server_that_closes_after_ehlo_is_an_error() {
    let pki = Pki::new();
    let server = starttls::serve(Behaviour::CloseAfterEhlo);
    let (code, out, err) = probe(&pki, &server.target(), &["--fqdn", NAME]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.starts_with("error: the server closed the connection after EHLO, before answering it\n  hint: "),
        "{err}"
    );
}

#[test]
fn a_banner_that_never_comes_times_out() {
    let pki = Pki::new();
    let server = starttls::serve(Behaviour::SilentBanner);
    let started = std::time::Instant::now();
    let (code, out, err) = probe(&pki, &server.target(), &["--timeout", "0.3"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with("error: timed out: no answer within 0.3 s while waiting for the banner\n  hint: "),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_banner_that_is_not_220_is_an_error() {
    let pki = Pki::new();
    let server = starttls::serve(Behaviour::Raw(b"554 5.7.1 Access denied\r\n".to_vec()));
    let (code, _, err) = probe(&pki, &server.target(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(
            "error: the banner is not 220, the server refuses the session: 554 5.7.1 Access denied\n"
        ),
        "{err}"
    );
}

#[test]
fn a_peer_that_speaks_garbage_or_sends_a_10_mb_line_is_an_error_not_a_hang() {
    let pki = Pki::new();
    let http = starttls::serve(Behaviour::Raw(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()));
    let (code, _, err) = probe(&pki, &http.target(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with("error: the server does not speak SMTP: waiting for the banner it sent \"HTTP/1.1 400 Bad Request\""),
        "{err}"
    );
    let binary = starttls::serve(Behaviour::Raw(b"\x16\x03\x01\x00\xa5\x01\x1b[2J\n".to_vec()));
    let (code, _, err) = probe(&pki, &binary.target(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not speak SMTP"), "{err}");
    assert!(
        !err.contains('\x1b'),
        "escape sequences are printed escaped: {err:?}"
    );
    let huge = starttls::serve(Behaviour::Raw(vec![b'A'; 10 * 1024 * 1024]));
    let (code, _, err) = probe(&pki, &huge.target(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(
            "error: the server sent a line longer than 4096 bytes while the probe was waiting for the banner"
        ),
        "{err}"
    );
}

#[test]
fn a_peer_that_answers_starttls_with_no_tls_or_injects_a_reply_is_an_error() {
    let pki = Pki::new();
    let not_tls = starttls::serve(Behaviour::NotTls);
    let (code, out, err) = probe(&pki, &not_tls.target(), &["--fqdn", NAME]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.starts_with("error: the TLS handshake failed: "), "{err}");
    let injecting = starttls::serve(Behaviour::InjectAfterStartTls);
    let (code, out, err) = probe(&pki, &injecting.target(), &["--fqdn", NAME]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with("error: the server sent 20 bytes after its 220 to STARTTLS, before TLS began"),
        "{err}"
    );
}

#[test]
fn bad_targets_are_errors_that_say_what_to_do() {
    let (code, _, err) = hybridtls(&["probe", "mail.contoso.invalid", "--timeout", "2"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: mail.contoso.invalid does not resolve: .invalid is reserved and never resolves (RFC 6761)\n  hint: "),
        "{err}"
    );
    let (code, _, err) = hybridtls(&["probe", "127.0.0.1:70000"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("port 70000 is out of range; give a port from 1 to 65535"),
        "{err}"
    );
    let (code, _, err) = hybridtls(&["probe", "mail.contoso.com", "--timeout", "0"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not a timeout"), "{err}");
    let (code, _, err) = hybridtls(&["probe", "mail.contoso.com", "--ehlo", "x\r\nRSET"]);
    assert_eq!(code, 1);
    assert!(err.contains("is not an EHLO name"), "{err}");
    // A port nothing listens on: refused, said in words.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (code, _, err) = hybridtls(&["probe", &format!("127.0.0.1:{port}"), "--timeout", "2"]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with(&format!(
            "error: connection refused by 127.0.0.1:{port}: nothing listens on that port"
        )),
        "{err}"
    );
}

#[test]
fn an_ipv6_literal_in_brackets_is_probed() {
    let pki = Pki::new();
    let Ok(server) = starttls::serve_on(IpAddr::V6(Ipv6Addr::LOCALHOST), healthy(&pki)) else {
        eprintln!("no IPv6 loopback here: the [::1] case is not run");
        return;
    };
    let target = format!("[::1]:{}", server.address.port());
    let (code, out, err) = probe(&pki, &target, &["--fqdn", NAME]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with(&format!("Probe of {target} at ")), "{out}");
}
