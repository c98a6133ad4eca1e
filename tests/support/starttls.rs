//! A small SMTP server with STARTTLS on loopback, for the `probe` tests and bench: it serves
//! one behaviour (a healthy server, a leaf without its intermediate, no STARTTLS, a banner that
//! never comes...) on 127.0.0.1 or ::1 only, with certificates of its own test CA (rcgen), on
//! rustls like the probe. Every connection is served on a thread of its own with 5 s timeouts,
//! so that no test can hang on it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

/// The name the healthy server's certificate is for.
pub const NAME: &str = "mail.contoso.com";
const TIMEOUT: Duration = Duration::from_secs(5);

/// A test CA: a root and an intermediate it issued, valid 2020 to 2045.
pub struct Pki {
    root: rcgen::Certificate,
    intermediate: rcgen::Certificate,
    intermediate_key: KeyPair,
}

/// A certificate the server presents, with its key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    key: Vec<u8>,
}

fn params(common_name: &str, names: &[&str], from: (i32, u8, u8), until: (i32, u8, u8)) -> CertificateParams {
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::OrganizationName, "Contoso Test");
    subject.push(DnType::CommonName, common_name);
    params.distinguished_name = subject;
    params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
    params.not_after = rcgen::date_time_ymd(until.0, until.1, until.2);
    params.use_authority_key_identifier_extension = true;
    params
}

fn ca(common_name: &str) -> CertificateParams {
    let mut params = params(common_name, &[], (2020, 1, 1), (2045, 1, 1));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl Pki {
    pub fn new() -> Self {
        let root_key = KeyPair::generate().unwrap();
        let root = ca("Contoso Test Root").self_signed(&root_key).unwrap();
        let intermediate_key = KeyPair::generate().unwrap();
        let intermediate = ca("Contoso Test Intermediate")
            .signed_by(&intermediate_key, &root, &root_key)
            .unwrap();
        Pki {
            root,
            intermediate,
            intermediate_key,
        }
    }

    /// The root, PEM, for `--trust-anchors`.
    pub fn root_pem(&self) -> String {
        self.root.pem()
    }

    pub fn root(&self) -> CertificateDer<'static> {
        self.root.der().clone()
    }

    pub fn intermediate(&self) -> CertificateDer<'static> {
        self.intermediate.der().clone()
    }

    /// A server certificate for `names` (the first is the CN), issued by the intermediate.
    pub fn leaf(&self, names: &[&str], from: (i32, u8, u8), until: (i32, u8, u8)) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = params(names[0], names, from, until);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let certificate = params
            .signed_by(&key, &self.intermediate, &self.intermediate_key)
            .unwrap();
        Leaf {
            der: certificate.der().clone(),
            key: key.serialize_der(),
        }
    }

    /// A self-signed certificate for `name`, as Exchange makes its own (`CN=<server>`).
    pub fn self_signed(name: &str) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params = params(name, &[name], (2025, 1, 1), (2045, 1, 1));
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let certificate = params.self_signed(&key).unwrap();
        Leaf {
            der: certificate.der().clone(),
            key: key.serialize_der(),
        }
    }

    /// A healthy certificate for [`NAME`], valid 2025 to 2045.
    pub fn healthy_leaf(&self) -> Leaf {
        self.leaf(&[NAME, "autodiscover.contoso.com"], (2025, 1, 1), (2045, 1, 1))
    }
}

/// What the server does with each connection.
pub enum Behaviour {
    /// Banner, EHLO with STARTTLS, then TLS presenting `chain` (leaf first) with `leaf`'s key.
    StartTls {
        chain: Vec<CertificateDer<'static>>,
        leaf: Leaf,
    },
    /// EHLO without STARTTLS.
    NoStartTls,
    /// STARTTLS offered, then refused with 454.
    RefuseStartTls,
    /// STARTTLS offered and accepted, then the answer to the ClientHello is not TLS.
    NotTls,
    /// STARTTLS offered, and its 220 followed at once by another reply (a response injection).
    InjectAfterStartTls,
    /// Closes the connection on EHLO without answering.
    CloseAfterEhlo,
    /// Accepts and never sends a banner.
    SilentBanner,
    /// Sends these bytes instead of a banner, then waits for the client to go.
    Raw(Vec<u8>),
}

/// A server listening on loopback until the test process ends.
pub struct Server {
    pub address: SocketAddr,
}

impl Server {
    /// `HOST:PORT` as `probe` takes it.
    pub fn target(&self) -> String {
        self.address.to_string()
    }
}

/// Serves `behaviour` on 127.0.0.1, on a port the system picks.
pub fn serve(behaviour: Behaviour) -> Server {
    serve_on(IpAddr::V4(Ipv4Addr::LOCALHOST), behaviour).unwrap()
}

/// Serves `behaviour` on the loopback address `ip`; an error when it cannot listen there (no
/// IPv6 loopback).
pub fn serve_on(ip: IpAddr, behaviour: Behaviour) -> std::io::Result<Server> {
    assert!(ip.is_loopback(), "the test server listens on loopback only");
    let listener = TcpListener::bind(SocketAddr::new(ip, 0))?;
    let address = listener.local_addr()?;
    let tls = match &behaviour {
        Behaviour::StartTls { chain, leaf } => Some(Arc::new(
            ServerConfig::builder_with_provider(Arc::new(hybridtls::probe::tls::provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    chain.clone(),
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key.clone())),
                )
                .unwrap(),
        )),
        _ => None,
    };
    let behaviour = Arc::new(behaviour);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let behaviour = Arc::clone(&behaviour);
            let tls = tls.clone();
            std::thread::spawn(move || {
                let _ = handle(stream, &behaviour, tls);
            });
        }
    });
    Ok(Server { address })
}

fn handle(
    mut stream: TcpStream,
    behaviour: &Behaviour,
    tls: Option<Arc<ServerConfig>>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    match behaviour {
        Behaviour::SilentBanner => return wait_for_close(&mut stream),
        Behaviour::Raw(bytes) => {
            stream.write_all(bytes)?;
            return wait_for_close(&mut stream);
        }
        _ => {}
    }
    stream
        .write_all(b"220 mail.contoso.com Microsoft ESMTP MAIL Service ready (loopback test server)\r\n")?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let offers_starttls = matches!(
        behaviour,
        Behaviour::StartTls { .. }
            | Behaviour::RefuseStartTls
            | Behaviour::NotTls
            | Behaviour::InjectAfterStartTls
    );
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO ") {
            if matches!(behaviour, Behaviour::CloseAfterEhlo) {
                return Ok(());
            }
            let mut reply = String::from(
                "250-mail.contoso.com Hello [127.0.0.1]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n",
            );
            if offers_starttls {
                reply.push_str("250-STARTTLS\r\n");
            }
            reply.push_str("250 8BITMIME\r\n");
            stream.write_all(reply.as_bytes())?;
        } else if command == "STARTTLS" && offers_starttls {
            match (behaviour, tls) {
                (Behaviour::StartTls { .. }, Some(config)) => {
                    stream.write_all(b"220 2.0.0 SMTP server ready\r\n")?;
                    return serve_tls(stream, config);
                }
                (Behaviour::NotTls, _) => {
                    stream.write_all(b"220 2.0.0 SMTP server ready\r\n")?;
                    let mut hello = [0u8; 512];
                    let _ = stream.read(&mut hello)?;
                    stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")?;
                    return wait_for_close(&mut stream);
                }
                (Behaviour::InjectAfterStartTls, _) => {
                    stream.write_all(b"220 2.0.0 SMTP server ready\r\n250 2.0.0 injected\r\n")?;
                    return wait_for_close(&mut stream);
                }
                _ => return stream.write_all(b"454 4.7.0 Temporary authentication failure\r\n"),
            }
        } else if command == "QUIT" {
            return stream.write_all(b"221 2.0.0 Service closing transmission channel\r\n");
        } else {
            stream.write_all(b"500 5.3.3 Unrecognized command\r\n")?;
        }
    }
}

/// The TLS session after STARTTLS: the handshake, then QUIT answered.
fn serve_tls(stream: TcpStream, config: Arc<ServerConfig>) -> std::io::Result<()> {
    let connection = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(connection, stream);
    let mut buffer = [0u8; 1024];
    loop {
        let read = tls.read(&mut buffer)?;
        if read == 0 {
            return Ok(());
        }
        if buffer[..read].to_ascii_uppercase().starts_with(b"QUIT") {
            tls.write_all(b"221 2.0.0 Service closing transmission channel\r\n")?;
            tls.conn.send_close_notify();
            return tls.flush();
        }
    }
}

fn wait_for_close(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buffer = [0u8; 1024];
    while stream.read(&mut buffer)? > 0 {}
    Ok(())
}
