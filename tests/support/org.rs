//! A synthetic Exchange organisation written as `hybridtls collect` writes it: one
//! `hybridtls-<SERVER>/` folder per server with server.json, exchange-certificates.json,
//! receive-connectors.json, send-connectors.json and the My, CA and Root store listings, plus the
//! intermediate the administrator downloaded. It plants known faults on known servers and
//! returns them, so a plan over it can be checked against the truth at any size.
//!
//! Shared by `benches/org.rs` (100 and 1,000 servers) and `tests/org_scale.rs` (a few servers);
//! the bench includes this file with `#[path]`, so it uses dev-dependencies only.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, SanType, SerialNumber,
};
use sha1::{Digest, Sha1};

/// The collector folder of the examples whose connector exports every server's are made from.
const TEMPLATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/seed004-missing-intermediate/hybridtls-EXCH02"
);
/// The server name the template's exports carry, replaced by each generated server's.
const TEMPLATE_SERVER: &str = "EXCH02";
/// Certificates in each server's `Cert:\LocalMachine\My` before any planted copy.
pub const CERTIFICATES_PER_SERVER: usize = 30;
/// The hybrid FQDN of the organisation, as the template's send connector names it.
pub const HYBRID_FQDN: &str = "mail.fabrikam.com";
/// The evaluation time plans over the organisation are made at (`--now`).
pub const NOW: &str = "2026-11-24T00:00:00Z";

/// What was planted where, by server name, each list in server order.
#[derive(Debug, Clone, Default)]
pub struct GroundTruth {
    pub servers: Vec<String>,
    /// `Default Frontend` has TlsCertificateName null (HT001): one connector change each.
    pub null_certificate_name: Vec<String>,
    /// A key-less copy of the hybrid certificate in My on a source server of the send connector,
    /// which picks it without checking for a private key (HT009): one removal each.
    pub keyless_duplicate: Vec<String>,
    /// A key-less copy on a server that is no source of the send connector: its receive
    /// connectors (Exchange 2019) skip certificates without a key, so nothing picks it.
    pub harmless_keyless_copy: Vec<String>,
    /// The hybrid certificate's intermediate missing from CA (HT010): one import each.
    pub missing_intermediate: Vec<String>,
    /// Every file written, and their total size.
    pub files: Vec<PathBuf>,
    pub bytes: u64,
}

/// How a server's exports are encoded: Windows PowerShell 5.1 `>` writes UTF-16LE with BOM,
/// PowerShell 7 `Out-File` UTF-8 without BOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shell {
    WindowsPowerShell,
    PowerShell7,
}

/// Writes an organisation of `servers` servers into `dir` and returns what it planted.
pub fn generate(dir: &Path, servers: usize) -> GroundTruth {
    let pki = Pki::new();
    let templates = Templates::read(servers);
    let mut truth = GroundTruth::default();
    let pem_path = dir.join("intermediate.pem");
    std::fs::write(&pem_path, pki.intermediate.pem()).unwrap();
    truth.files.push(pem_path);
    for index in 0..servers {
        let name = format!("EX{index:04}");
        let faults = Faults::of(index);
        let shell = if index % 2 == 0 {
            Shell::WindowsPowerShell
        } else {
            Shell::PowerShell7
        };
        let folder = dir.join(format!("hybridtls-{name}"));
        std::fs::create_dir_all(&folder).unwrap();
        for (file, text) in server_files(&name, index, faults, &pki, &templates) {
            let path = folder.join(file);
            std::fs::write(&path, encode(&text, shell)).unwrap();
            truth.files.push(path);
        }
        let sends = sends_to_office365(index);
        for (planted, list) in [
            (faults.null_certificate_name, &mut truth.null_certificate_name),
            (faults.keyless_duplicate && sends, &mut truth.keyless_duplicate),
            (
                faults.keyless_duplicate && !sends,
                &mut truth.harmless_keyless_copy,
            ),
            (faults.missing_intermediate, &mut truth.missing_intermediate),
        ] {
            if planted {
                list.push(name.clone());
            }
        }
        truth.servers.push(name);
    }
    truth.bytes = truth
        .files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    truth
}

/// Which faults server `index` has: fixed strides, so every size has some of each, some
/// servers have two, and the counts follow from the size alone.
#[derive(Debug, Clone, Copy)]
struct Faults {
    null_certificate_name: bool,
    keyless_duplicate: bool,
    missing_intermediate: bool,
}

impl Faults {
    fn of(index: usize) -> Self {
        Faults {
            null_certificate_name: index % 10 == 3,
            keyless_duplicate: index % 7 == 1,
            missing_intermediate: index % 5 == 2,
        }
    }
}

/// Whether server `index` is a source server of the send connector to Office 365: every third
/// of the first thirty, so that some key-less copies are picked by the send side and some by
/// nothing. Ten at most, as in a real organisation: every folder holds the whole connector,
/// so more would grow the organisation with the square of its servers.
fn sends_to_office365(index: usize) -> bool {
    index % 3 == 1 && index < 30
}

/// The template's send connector with every server that [`sends_to_office365`] as a source
/// server, each an ADObjectId like the template's one.
fn with_source_servers(send_connectors: &str, servers: usize) -> String {
    let key = "\"SourceTransportServers\":  [";
    let open = send_connectors.find(key).unwrap() + key.len();
    let mut depth = 1;
    let close = open
        + send_connectors[open..]
            .find(|c| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .unwrap();
    let element = &send_connectors[open..close];
    let elements: Vec<String> = (0..servers)
        .filter(|&index| sends_to_office365(index))
        .map(|index| element.replace(TEMPLATE_SERVER, &format!("EX{index:04}")))
        .collect();
    format!(
        "{}{}{}",
        &send_connectors[..open],
        elements.join(","),
        &send_connectors[close..]
    )
}

fn encode(text: &str, shell: Shell) -> Vec<u8> {
    match shell {
        Shell::WindowsPowerShell => {
            // A plain loop: iterator adapters are slow in the unoptimised test build.
            let mut bytes = Vec::with_capacity(2 + text.len() * 2);
            bytes.extend_from_slice(&[0xFF, 0xFE]);
            for unit in text.encode_utf16() {
                bytes.extend_from_slice(&unit.to_le_bytes());
            }
            bytes
        }
        Shell::PowerShell7 => text.as_bytes().to_vec(),
    }
}

/// The template's connector exports, as Windows PowerShell 5.1 `ConvertTo-Json -Depth 6` wrote
/// them (deep Identity objects and all), with a sixth receive connector added.
struct Templates {
    receive_connectors: String,
    send_connectors: String,
    /// The hybrid connector's TlsCertificateName object, replaced by `null` where planted.
    certificate_name: String,
}

impl Templates {
    fn read(servers: usize) -> Self {
        let read = |file: &str| {
            let text = std::fs::read_to_string(Path::new(TEMPLATE).join(file)).unwrap();
            text.trim_start_matches('\u{FEFF}').to_owned()
        };
        let receive = read("receive-connectors.json");
        // Records of the top-level array, as ConvertTo-Json separates them.
        let body = receive
            .trim()
            .strip_prefix("[\r\n")
            .and_then(|b| b.strip_suffix("\r\n]"))
            .unwrap();
        let mut records: Vec<String> = body.split(",\r\n    {\r\n").map(str::to_owned).collect();
        for record in records.iter_mut().skip(1) {
            *record = format!("    {{\r\n{record}");
        }
        let relay = records
            .iter()
            .find(|r| r.contains("\"Name\":  \"Client Proxy EXCH02\""))
            .unwrap()
            .replace("Client Proxy ", "Partner Relay ");
        records.push(relay);
        let receive_connectors = format!("[\r\n{}\r\n]\r\n", records.join(",\r\n"));
        let start = receive_connectors.find("\"TlsCertificateName\":  {").unwrap();
        let end = start
            + receive_connectors[start..]
                .find("\r\n                               }")
                .unwrap();
        let certificate_name =
            receive_connectors[start..end + "\r\n                               }".len()].to_owned();
        Templates {
            receive_connectors,
            send_connectors: with_source_servers(&read("send-connectors.json"), servers),
            certificate_name,
        }
    }
}

/// The organisation's certificates that every server shares, and the CAs that issue the rest.
struct Pki {
    root: rcgen::Certificate,
    intermediate: rcgen::Certificate,
    intermediate_key: KeyPair,
    internal_ca: rcgen::Certificate,
    internal_ca_key: KeyPair,
    partner_ca: rcgen::Certificate,
    hybrid: rcgen::Certificate,
    auth: rcgen::Certificate,
}

const VALID_FROM: (i32, u8, u8) = (2026, 1, 1);
const VALID_UNTIL: (i32, u8, u8) = (2030, 1, 1);
/// The planted key-less copy expires later than the real certificate, so that the send side's
/// latest-NotAfter reading picks it (the Exchange Team blog 2025; seed 002).
const COPY_VALID_UNTIL: (i32, u8, u8) = (2031, 1, 1);

fn name(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (kind, value) in parts {
        dn.push(kind.clone(), *value);
    }
    dn
}

fn params(subject: DistinguishedName, dns_names: &[&str], serial: u64, ca: bool) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = subject;
    params.subject_alt_names = dns_names
        .iter()
        .map(|n| SanType::DnsName((*n).try_into().unwrap()))
        .collect();
    params.serial_number = Some(SerialNumber::from(serial.to_be_bytes().to_vec()));
    params.not_before = rcgen::date_time_ymd(VALID_FROM.0, VALID_FROM.1, VALID_FROM.2);
    params.not_after = rcgen::date_time_ymd(VALID_UNTIL.0, VALID_UNTIL.1, VALID_UNTIL.2);
    params.use_authority_key_identifier_extension = true;
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    params
}

/// The subject of the hybrid certificate and of its key-less copies (DER order: C, O, CN).
fn hybrid_subject() -> DistinguishedName {
    name(&[
        (DnType::CountryName, "US"),
        (DnType::OrganizationName, "Fabrikam Inc"),
        (DnType::CommonName, HYBRID_FQDN),
    ])
}

impl Pki {
    fn new() -> Self {
        let key = || KeyPair::generate().unwrap();
        let trust = |cn| {
            name(&[
                (DnType::CountryName, "US"),
                (DnType::OrganizationName, "Fabrikam Trust, Inc."),
                (DnType::CommonName, cn),
            ])
        };
        let root_key = key();
        let root = params(trust("Fabrikam Trust Root CA"), &[], 1, true)
            .self_signed(&root_key)
            .unwrap();
        let intermediate_key = key();
        let intermediate = params(trust("Fabrikam Trust Issuing CA 1"), &[], 2, true)
            .signed_by(&intermediate_key, &root, &root_key)
            .unwrap();
        let internal_ca_key = key();
        let internal_ca = params(
            name(&[(DnType::CommonName, "Fabrikam Internal CA")]),
            &[],
            3,
            true,
        )
        .self_signed(&internal_ca_key)
        .unwrap();
        let partner_ca = params(
            name(&[(DnType::CommonName, "Contoso Partner Issuing CA")]),
            &[],
            4,
            true,
        )
        .signed_by(&key(), &internal_ca, &internal_ca_key)
        .unwrap();
        let hybrid = params(
            hybrid_subject(),
            &[HYBRID_FQDN, "autodiscover.fabrikam.com"],
            5,
            false,
        )
        .signed_by(&key(), &intermediate, &intermediate_key)
        .unwrap();
        let auth_key = key();
        let auth = params(
            name(&[(DnType::CommonName, "Microsoft Exchange Server Auth Certificate")]),
            &[],
            6,
            false,
        )
        .self_signed(&auth_key)
        .unwrap();
        Pki {
            root,
            intermediate,
            intermediate_key,
            internal_ca,
            internal_ca_key,
            partner_ca,
            hybrid,
            auth,
        }
    }
}

/// A minimal JSON value that keeps property order, written as ConvertTo-Json 5.1 writes it.
enum Json {
    Null,
    Bool(bool),
    Number(u64),
    Text(String),
    /// A DateTime, which Windows PowerShell 5.1 writes as `"\/Date(ms)\/"`.
    Date(i64),
    List(Vec<Json>),
    Object(Vec<(&'static str, Json)>),
}

fn text(value: impl Into<String>) -> Json {
    Json::Text(value.into())
}

/// ConvertTo-Json 5.1 layout: CRLF, `"key":  value`, and nested values indented four spaces
/// past the column their opening bracket stands in.
fn write_json(value: &Json, column: usize, out: &mut String) {
    let pad = |out: &mut String, n: usize| out.extend(std::iter::repeat_n(' ', n));
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::Text(s) => out.push_str(&serde_json::to_string(s).unwrap()),
        Json::Date(ms) => out.push_str(&format!("\"\\/Date({ms})\\/\"")),
        Json::List(items) => {
            out.push_str("[\r\n");
            if items.is_empty() {
                out.push_str("\r\n");
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\r\n");
                }
                pad(out, column + 4);
                write_json(item, column + 4, out);
            }
            if !items.is_empty() {
                out.push_str("\r\n");
            }
            pad(out, column);
            out.push(']');
        }
        Json::Object(properties) => {
            out.push_str("{\r\n");
            for (i, (key, item)) in properties.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\r\n");
                }
                pad(out, column + 4);
                let key = format!("\"{key}\":  ");
                out.push_str(&key);
                write_json(item, column + 4 + key.len(), out);
            }
            out.push_str("\r\n");
            pad(out, column);
            out.push('}');
        }
    }
}

fn document(records: Vec<Json>) -> String {
    let mut out = String::new();
    write_json(&Json::List(records), 0, &mut out);
    out.push_str("\r\n");
    out
}

fn date((year, month, day): (i32, u8, u8)) -> Json {
    Json::Date(rcgen::date_time_ymd(year, month, day).unix_timestamp() * 1000)
}

/// One certificate as installed on a server.
struct Installed<'a> {
    der: &'a [u8],
    subject: String,
    issuer: String,
    names: Vec<String>,
    friendly_name: &'a str,
    has_private_key: bool,
    self_signed: bool,
    services: u64,
    not_after: (i32, u8, u8),
}

impl Installed<'_> {
    fn thumbprint(&self) -> String {
        Sha1::digest(self.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }

    /// A Get-ExchangeCertificate record, as the collector selects it.
    fn exchange_record(&self, fqdn: &str) -> Json {
        let thumbprint = self.thumbprint();
        let domains = self
            .names
            .iter()
            .map(|n| {
                Json::Object(vec![
                    ("Address", text(n)),
                    ("IncludeSubDomains", Json::Bool(false)),
                    ("Domain", text(n)),
                    ("SmtpDomain", Json::Object(vec![("Domain", text(n))])),
                    ("IsStar", Json::Bool(false)),
                ])
            })
            .collect();
        Json::Object(vec![
            ("Thumbprint", text(&thumbprint)),
            ("Subject", text(&self.subject)),
            ("Issuer", text(&self.issuer)),
            ("FriendlyName", text(self.friendly_name)),
            ("NotBefore", date(VALID_FROM)),
            ("NotAfter", date(self.not_after)),
            ("HasPrivateKey", Json::Bool(self.has_private_key)),
            ("IsSelfSigned", Json::Bool(self.self_signed)),
            ("Status", Json::Number(1)),
            ("Services", Json::Number(self.services)),
            ("RootCAType", Json::Number(if self.self_signed { 3 } else { 1 })),
            ("CertificateDomains", Json::List(domains)),
            ("PublicKeySize", Json::Number(256)),
            ("SerialNumber", text(&thumbprint[..32])),
            ("Identity", text(format!("{fqdn}\\{thumbprint}"))),
            ("RawData", text(base64(self.der))),
        ])
    }

    /// A `Cert:\LocalMachine\<store>` listing record, as the collector selects it.
    fn store_record(&self, store: &str) -> Json {
        Json::Object(vec![
            ("Store", text(store)),
            ("Thumbprint", text(self.thumbprint())),
            ("Subject", text(&self.subject)),
            ("Issuer", text(&self.issuer)),
            ("FriendlyName", text(self.friendly_name)),
            ("HasPrivateKey", Json::Bool(self.has_private_key)),
            ("NotBefore", date(VALID_FROM)),
            ("NotAfter", date(self.not_after)),
            ("RawData", text(base64(self.der))),
        ])
    }
}

fn base64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

const HYBRID_SUBJECT: &str = "CN=mail.fabrikam.com, O=Fabrikam Inc, C=US";
const HYBRID_ISSUER: &str = "CN=Fabrikam Trust Issuing CA 1, O=\"Fabrikam Trust, Inc.\", C=US";
const ROOT_SUBJECT: &str = "CN=Fabrikam Trust Root CA, O=\"Fabrikam Trust, Inc.\", C=US";
const INTERNAL_CA: &str = "CN=Fabrikam Internal CA";
const AUTH_SUBJECT: &str = "CN=Microsoft Exchange Server Auth Certificate";
/// DigiCert Global Root G2, Exchange Online's root (public): in the Root listing of every server
/// that validates Exchange Online's certificate and fetched it through automatic root update.
const DIGICERT_GLOBAL_ROOT_G2: &[u8] =
    include_bytes!("../../tools/make_examples/digicert-global-root-g2.der");
const G2_SUBJECT: &str = "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US";

/// The eight files of one server's collector folder, as text.
fn server_files(
    server: &str,
    index: usize,
    faults: Faults,
    pki: &Pki,
    templates: &Templates,
) -> Vec<(&'static str, String)> {
    let lower = server.to_ascii_lowercase();
    let fqdn = format!("{lower}.fabrikam.com");
    // Serial numbers unique per issuer across the organisation.
    let serial = |k: u64| 1_000 + index as u64 * 100 + k;
    let server_key = KeyPair::generate().unwrap();
    let self_signed = params(
        name(&[(DnType::CommonName, server)]),
        &[server, &fqdn],
        serial(0),
        false,
    )
    .self_signed(&server_key)
    .unwrap();
    let fillers: Vec<(String, rcgen::Certificate)> = (0..CERTIFICATES_PER_SERVER - 3)
        .map(|k| {
            let host = format!("svc{k}.{fqdn}");
            let certificate = params(
                name(&[(DnType::CommonName, &host)]),
                &[&host],
                serial(1 + k as u64),
                false,
            )
            .signed_by(&server_key, &pki.internal_ca, &pki.internal_ca_key)
            .unwrap();
            (host, certificate)
        })
        .collect();
    let keyless_copy = faults.keyless_duplicate.then(|| {
        let mut copy = params(hybrid_subject(), &[HYBRID_FQDN], serial(99), false);
        copy.not_after = rcgen::date_time_ymd(COPY_VALID_UNTIL.0, COPY_VALID_UNTIL.1, COPY_VALID_UNTIL.2);
        copy.signed_by(&server_key, &pki.intermediate, &pki.intermediate_key)
            .unwrap()
    });

    let mut my = vec![
        Installed {
            der: pki.auth.der(),
            subject: AUTH_SUBJECT.to_owned(),
            issuer: AUTH_SUBJECT.to_owned(),
            names: vec![],
            friendly_name: "Microsoft Exchange Server Auth Certificate",
            has_private_key: true,
            self_signed: true,
            services: 16,
            not_after: VALID_UNTIL,
        },
        Installed {
            der: self_signed.der(),
            subject: format!("CN={server}"),
            issuer: format!("CN={server}"),
            names: vec![server.to_owned(), fqdn.clone()],
            friendly_name: "Microsoft Exchange",
            has_private_key: true,
            self_signed: true,
            services: 27,
            not_after: VALID_UNTIL,
        },
        Installed {
            der: pki.hybrid.der(),
            subject: HYBRID_SUBJECT.to_owned(),
            issuer: HYBRID_ISSUER.to_owned(),
            names: vec![HYBRID_FQDN.to_owned(), "autodiscover.fabrikam.com".to_owned()],
            friendly_name: "mail.fabrikam.com 2026",
            has_private_key: true,
            self_signed: false,
            services: 24,
            not_after: VALID_UNTIL,
        },
    ];
    for (host, certificate) in &fillers {
        my.push(Installed {
            der: certificate.der(),
            subject: format!("CN={host}"),
            issuer: INTERNAL_CA.to_owned(),
            names: vec![host.clone()],
            friendly_name: "",
            has_private_key: true,
            self_signed: false,
            services: 8,
            not_after: VALID_UNTIL,
        });
    }
    if let Some(copy) = &keyless_copy {
        // A later NotAfter than the real one: newer Exchange builds would pick the copy.
        my.push(Installed {
            der: copy.der(),
            subject: HYBRID_SUBJECT.to_owned(),
            issuer: HYBRID_ISSUER.to_owned(),
            names: vec![HYBRID_FQDN.to_owned()],
            friendly_name: "",
            has_private_key: false,
            self_signed: false,
            services: 0,
            not_after: COPY_VALID_UNTIL,
        });
    }
    let ca_certificate = |der, subject: &str, issuer: &str| Installed {
        der,
        subject: subject.to_owned(),
        issuer: issuer.to_owned(),
        names: vec![],
        friendly_name: "",
        has_private_key: false,
        self_signed: subject == issuer,
        services: 0,
        not_after: VALID_UNTIL,
    };
    // The CA listing always holds something, so an empty listing never hides the gap.
    let mut ca = vec![ca_certificate(
        pki.partner_ca.der(),
        "CN=Contoso Partner Issuing CA",
        INTERNAL_CA,
    )];
    if !faults.missing_intermediate {
        ca.push(ca_certificate(
            pki.intermediate.der(),
            HYBRID_ISSUER,
            ROOT_SUBJECT,
        ));
    }
    let root = [
        ca_certificate(pki.root.der(), ROOT_SUBJECT, ROOT_SUBJECT),
        ca_certificate(pki.internal_ca.der(), INTERNAL_CA, INTERNAL_CA),
        ca_certificate(DIGICERT_GLOBAL_ROOT_G2, G2_SUBJECT, G2_SUBJECT),
    ];
    // The internal transport certificate is the self-signed certificate Exchange setup made.
    let transport_service = Json::Object(vec![
        ("Name", text(server)),
        (
            "InternalTransportCertificateThumbprint",
            text(
                Sha1::digest(self_signed.der())
                    .iter()
                    .map(|b| format!("{b:02X}"))
                    .collect::<String>(),
            ),
        ),
    ]);

    let server_record = Json::Object(vec![
        ("HybridTlsCollector", Json::Number(1)),
        ("Name", text(server)),
        ("Fqdn", text(&fqdn)),
        ("ServerRole", text("Mailbox")),
        // Exchange 2019 CU14 with the November 2024 SU, the first that reads
        // EnableEccCertificateSupport.
        ("AdminDisplayVersion", text("Version 15.2 (Build 1544.13)")),
        // The registry values the collector records: no policy against automatic root update,
        // and ECC certificate support on (the organisation's certificates have ECDSA keys).
        ("DisableRootAutoUpdate", Json::Null),
        ("EnableEccCertificateSupport", Json::Number(1)),
    ]);
    let tls_settings = tls_settings_record(server);
    let mut receive = templates.receive_connectors.clone();
    if faults.null_certificate_name {
        receive = receive.replacen(&templates.certificate_name, "\"TlsCertificateName\":  null", 1);
    }
    let rename = |text: &str| {
        text.replace(TEMPLATE_SERVER, server)
            .replace(&TEMPLATE_SERVER.to_ascii_lowercase(), &lower)
    };
    vec![
        ("server.json", document(vec![server_record])),
        (
            "exchange-certificates.json",
            // Get-ExchangeCertificate lists only certificates with a private key.
            document(
                my.iter()
                    .filter(|c| c.has_private_key)
                    .map(|c| c.exchange_record(&fqdn))
                    .collect(),
            ),
        ),
        ("receive-connectors.json", rename(&receive)),
        // Get-SendConnector is organisation-wide: every folder holds the same export.
        ("send-connectors.json", templates.send_connectors.clone()),
        (
            "store-My.json",
            document(my.iter().map(|c| c.store_record("My")).collect()),
        ),
        (
            "store-CA.json",
            document(ca.iter().map(|c| c.store_record("CA")).collect()),
        ),
        (
            "store-Root.json",
            document(root.iter().map(|c| c.store_record("Root")).collect()),
        ),
        ("transport-services.json", document(vec![transport_service])),
        ("tls-settings.json", document(vec![tls_settings])),
        ("exchange-events.json", document(vec![])),
        (QUIET_LOG_NAME, QUIET_LOG.to_owned()),
    ]
}

/// A protocol log with its header and no session, as `hybridtls collect` copies the log of a
/// quiet Front End transport service: HT055 judged, nothing found.
pub const QUIET_LOG: &str = "#Software: Microsoft Exchange Server\r\n#Version: 15.2.1544.4\r\n#Log-type: SMTP Receive Protocol Log\r\n#Date: 2026-11-23T00:00:00.000Z\r\n#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context\r\n";

/// The name the collector gives its copy of a Front End SmtpReceive log.
pub const QUIET_LOG_NAME: &str = "FrontEnd-Receive-RECV2026112300-1.LOG";

/// The collector's TLS settings of a healthy server: TLS 1.2 only, .NET set to strong crypto,
/// TLS 1.3 not set (disabled), Exchange 2019 CU14 on Windows Server 2019.
fn tls_settings_record(server: &str) -> Json {
    let mut properties = vec![
        ("ComputerName", text(server)),
        ("OSVersion", text("10.0.17763.0")),
        ("ExchangeVersion", text("Version 15.2 (Build 1544.4)")),
    ];
    for property in hybridtls::model::SCHANNEL_VALUES {
        let (name, version, _, value) = *property;
        let set = match (version, value) {
            ("1.3", _) => Json::Null,
            ("1.2", "Enabled") | ("1.0" | "1.1", "DisabledByDefault") => Json::Number(1),
            _ => Json::Number(0),
        };
        properties.push((name, set));
    }
    for property in hybridtls::model::NET_VALUES {
        properties.push((property.0, Json::Number(1)));
    }
    properties.push((
        "TlsCipherSuites",
        Json::List(vec![text("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")]),
    ));
    Json::Object(properties)
}
