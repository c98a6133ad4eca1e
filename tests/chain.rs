//! Offline chain building: several intermediate levels, cross-signed and same-name issuers,
//! duplicates in several stores, and a missing issuer. Certificates from
//! tests/fixtures/chain/make_chain.py.

use hybridtls::diagnose::chain::build;
use hybridtls::error::Position;
use hybridtls::model::{Certificate, Source, Store};
use hybridtls::x509::parse_der;
use time::macros::datetime;

fn certificate(file: &str, store: Store) -> Certificate {
    let der = std::fs::read(format!("tests/fixtures/chain/{file}.der")).unwrap();
    let source = Source {
        file: format!("{file}.der"),
        position: Position::Certificate(1),
    };
    Certificate {
        server: Some("EX1".into()),
        from_store_listing: true,
        ..Certificate::from_facts(parse_der(&der).unwrap(), store, source)
    }
}

fn subjects(chain: &[&Certificate]) -> Vec<String> {
    chain
        .iter()
        .map(|c| format!("{} [{:?}]", c.subject, c.store))
        .collect()
}

const NOW: time::OffsetDateTime = datetime!(2026-11-24 0:00 UTC);

#[test]
fn same_name_issuer_with_the_wrong_key_is_rejected_by_the_signature() {
    let leaf = certificate("leaf", Store::My);
    let rogue = certificate("inter-rogue", Store::Ca);
    let inter = certificate("inter", Store::Ca);
    let root = certificate("root-a", Store::Root);
    assert_eq!(rogue.subject, inter.subject);
    assert_eq!(
        rogue.facts.as_ref().unwrap().subject_key_id,
        inter.facts.as_ref().unwrap().subject_key_id
    );
    let chain = build(&leaf, &[&rogue, &inter, &root], NOW);
    assert_eq!(
        chain
            .issuers
            .iter()
            .map(|c| c.thumbprint.as_str())
            .collect::<Vec<_>>(),
        [inter.thumbprint.as_str(), root.thumbprint.as_str()]
    );
    assert!(chain.missing.is_none());
}

#[test]
fn cross_signed_intermediate_prefers_the_installed_path() {
    let leaf = certificate("leaf", Store::My);
    let cross = certificate("inter-cross", Store::File);
    let inter = certificate("inter", Store::Ca);
    let (root_a, root_b) = (
        certificate("root-a", Store::Root),
        certificate("root-b", Store::Root),
    );
    let chain = build(&leaf, &[&cross, &root_b, &inter, &root_a], NOW);
    assert_eq!(
        subjects(&chain.issuers),
        [
            "CN=Chain Issuing CA, O=Chain Test [Ca]",
            "CN=Chain Root A, O=Chain Test [Root]"
        ]
    );
    // With only the cross-signed copy, the chain runs to the other root.
    let chain = build(&leaf, &[&cross, &root_b, &root_a], NOW);
    assert_eq!(chain.issuers[0].thumbprint, cross.thumbprint);
    assert_eq!(chain.issuers[1].thumbprint, root_b.thumbprint);
}

#[test]
fn several_intermediate_levels_are_followed_to_the_root() {
    let leaf = certificate("leaf-deep", Store::My);
    let pool = [
        certificate("root-a", Store::Root),
        certificate("inter", Store::Ca),
        certificate("inter-2", Store::File),
    ];
    let refs: Vec<&Certificate> = pool.iter().collect();
    let chain = build(&leaf, &refs, NOW);
    assert_eq!(
        subjects(&chain.issuers),
        [
            "CN=Chain Second Level CA, O=Chain Test [File]",
            "CN=Chain Issuing CA, O=Chain Test [Ca]",
            "CN=Chain Root A, O=Chain Test [Root]"
        ]
    );
}

#[test]
fn a_duplicate_issuer_in_a_file_and_in_the_store_resolves_to_the_store() {
    let leaf = certificate("leaf", Store::My);
    let (in_file, in_store) = (certificate("inter", Store::File), certificate("inter", Store::Ca));
    let chain = build(&leaf, &[&in_file, &in_store], NOW);
    assert_eq!(chain.issuers[0].store, Store::Ca);
}

#[test]
fn a_missing_issuer_is_named_with_its_key_identifier() {
    let leaf = certificate("leaf-deep", Store::My);
    let inter = certificate("inter", Store::Ca);
    let second = certificate("inter-2", Store::File);
    let chain = build(&leaf, &[&inter], NOW);
    let (issuer, key) = chain.missing.expect("the second-level CA is missing");
    assert_eq!(issuer, "CN=Chain Second Level CA, O=Chain Test");
    assert_eq!(key, second.facts.as_ref().unwrap().subject_key_id);
    assert!(chain.issuers.is_empty());
}
