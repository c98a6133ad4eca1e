//! The TLS part of a probe: a rustls client (TLS 1.2 and 1.3, `ring`) whose certificate verifier
//! records the chain the server sends and accepts it, so that a chain Exchange Online would
//! reject is seen and judged ([`super::assess`]) instead of ending the handshake. The server's
//! handshake signature is still verified: the server must hold the key of what it presents.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    verify_tls12_signature, verify_tls13_signature, CryptoProvider, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::target::{Host, Target};
use super::{closed, io_error, Deadline, Phase, ProbeError};

/// What the handshake established and the chain the server sent, in its order (leaf first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `TLS 1.2`, `TLS 1.3`.
    pub version: String,
    /// The IANA name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
    pub chain: Vec<Vec<u8>>,
}

/// The roots a chain must reach.
#[derive(Debug, Clone)]
pub enum TrustAnchors {
    /// webpki-roots: the Mozilla root program, the closest public approximation of the roots
    /// Exchange Online trusts.
    Mozilla,
    /// The certificates of a file, for tests (the hidden `--trust-anchors FILE`).
    File { path: PathBuf, roots: Vec<Vec<u8>> },
}

impl TrustAnchors {
    /// The roots in `path` (PEM, DER or PKCS#7, as [`crate::x509::parse_certificate_file`] reads).
    ///
    /// # Errors
    /// The file cannot be read, holds no certificate, or one webpki cannot use as a root.
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", crate::input::display(path)))?;
        let roots = crate::x509::parse_certificate_file(&bytes)
            .map_err(|e| format!("{}: {e}", crate::input::display(path)))?
            .into_iter()
            .map(|facts| facts.der)
            .collect();
        let anchors = TrustAnchors::File {
            path: path.to_path_buf(),
            roots,
        };
        anchors.store()?;
        Ok(anchors)
    }

    /// The roots as rustls takes them.
    ///
    /// # Errors
    /// A certificate of a trust anchor file that webpki cannot use as a root.
    pub fn store(&self) -> Result<RootCertStore, String> {
        match self {
            TrustAnchors::Mozilla => Ok(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            TrustAnchors::File { path, roots } => {
                let mut store = RootCertStore::empty();
                for der in roots {
                    store.add(CertificateDer::from(der.as_slice())).map_err(|e| {
                        format!(
                            "{}: a certificate is no usable root: {e}",
                            crate::input::display(path)
                        )
                    })?;
                }
                Ok(store)
            }
        }
    }

    /// Where the roots come from, in words.
    pub fn describe(&self) -> String {
        match self {
            TrustAnchors::Mozilla => "webpki-roots, the Mozilla root program: the closest public approximation of the roots Exchange Online trusts".to_owned(),
            TrustAnchors::File { path, .. } => format!("{} (--trust-anchors)", crate::input::display(path)),
        }
    }
}

/// The one provider the probe uses: rustls on `ring`, which is already in the build.
///
/// rustls 0.23.48 deprecates it for want of post-quantum key exchange, to steer towards
/// aws-lc-rs, which needs cmake and a C toolchain to build. The probe imitates Exchange Online
/// talking to Exchange Server, where the TLS 1.2 and 1.3 groups `ring` has (X25519, P-256,
/// P-384) are what matters, so `ring` stays.
#[allow(deprecated)]
pub fn provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// Accepts any chain and keeps a copy of it.
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<Vec<u8>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|der| der.as_ref().to_vec())
            .collect();
        if let Ok(mut recorded) = self.chain.lock() {
            *recorded = chain;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Performs the TLS handshake on `stream` (after the 220 to STARTTLS), then ends the session
/// with QUIT and close_notify. SNI is HOST when it is a name, else the `--fqdn` name unless it
/// is a wildcard; none for an address (`address` is the one connected to).
///
/// # Errors
/// The server sent an alert, shares no version or cipher suite, closes the connection, breaks
/// the protocol, or does not finish in time.
pub fn handshake(
    stream: &mut TcpStream,
    target: &Target,
    address: std::net::IpAddr,
    fqdn: Option<&str>,
    deadline: &Deadline,
) -> Result<Handshake, ProbeError> {
    let provider = provider();
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        algorithms: provider.signature_verification_algorithms,
    });
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| ProbeError::new(format!("cannot set up TLS: {e}"), "report this as a bug"))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let sni = match &target.host {
        Host::Name(name) => Some(name.as_str()),
        Host::Address(_) => fqdn.filter(|name| !name.starts_with("*.")),
    };
    let name = sni
        .and_then(|name| ServerName::try_from(name.to_owned()).ok())
        .unwrap_or(ServerName::IpAddress(address.into()));
    let mut connection = ClientConnection::new(Arc::new(config), name)
        .map_err(|e| ProbeError::new(format!("cannot set up TLS: {e}"), "report this as a bug"))?;
    let presented = || recorder.chain.lock().map(|c| c.clone()).unwrap_or_default();
    drive(&mut connection, stream, deadline).map_err(|e| with_presented(e, &presented()))?;
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_owned(),
        other => format!("{other:?}"),
    };
    let cipher_suite = connection
        .negotiated_cipher_suite()
        .map(|suite| format!("{:?}", suite.suite()))
        .unwrap_or_default();
    goodbye(&mut connection, stream);
    Ok(Handshake {
        version,
        cipher_suite,
        chain: presented(),
    })
}

/// Runs the handshake to its end, every read and write within the deadline.
fn drive(
    connection: &mut ClientConnection,
    stream: &mut TcpStream,
    deadline: &Deadline,
) -> Result<(), ProbeError> {
    let io = |e: std::io::Error| io_error(e, Phase::Handshake, deadline);
    loop {
        while connection.wants_write() {
            stream
                .set_write_timeout(Some(deadline.remaining(Phase::Handshake)?))
                .and_then(|()| connection.write_tls(stream))
                .map_err(io)?;
        }
        if !connection.is_handshaking() {
            return Ok(());
        }
        stream
            .set_read_timeout(Some(deadline.remaining(Phase::Handshake)?))
            .map_err(io)?;
        if connection.read_tls(stream).map_err(io)? == 0 {
            return Err(closed(Phase::Handshake));
        }
        if let Err(error) = connection.process_new_packets() {
            // The alert that says why, for the server's log.
            let _ = connection.write_tls(stream);
            return Err(tls_error(&error));
        }
    }
}

/// QUIT through TLS and close_notify, so the server logs an orderly end; best effort.
fn goodbye(connection: &mut ClientConnection, stream: &mut TcpStream) {
    use std::io::Write;
    let _ = connection.writer().write_all(b"QUIT\r\n");
    connection.send_close_notify();
    let _ = stream.set_write_timeout(Some(std::time::Duration::from_millis(100)));
    while connection.wants_write() {
        if connection.write_tls(stream).is_err() {
            break;
        }
    }
}

fn tls_error(error: &rustls::Error) -> ProbeError {
    let no_common = "the probe speaks TLS 1.2 and 1.3 with ECDHE and AES-GCM or ChaCha20-Poly1305, and Exchange Online requires TLS 1.2; enable TLS 1.2 and its ECDHE AES-GCM cipher suites on the server (Microsoft's Exchange Server TLS configuration guidance)";
    match error {
        rustls::Error::AlertReceived(
            alert @ (AlertDescription::HandshakeFailure | AlertDescription::ProtocolVersion | AlertDescription::InsufficientSecurity),
        ) => ProbeError::new(
            format!("the server ended the TLS handshake with the alert {alert:?}: it shares no TLS version or cipher suite with the probe"),
            no_common,
        ),
        rustls::Error::AlertReceived(alert) => ProbeError::new(
            format!("the server ended the TLS handshake with the alert {alert:?}"),
            "look in the server's SmtpReceive protocol log and its Application event log (MSExchangeFrontEndTransport, MSExchangeTransport) for the reason",
        ),
        rustls::Error::PeerIncompatible(why) => ProbeError::new(
            format!("the server's TLS is incompatible with the probe's: {why:?}"),
            no_common,
        ),
        other => ProbeError::new(
            format!("the TLS handshake failed: {other}"),
            "an SMTP proxy or inspecting firewall between you and the server can break TLS; probe from closer to the server, and look in its SmtpReceive protocol log",
        ),
    }
}

/// Adds to a handshake error which certificate the server had presented, when it had.
fn with_presented(mut error: ProbeError, chain: &[Vec<u8>]) -> ProbeError {
    if let Some(leaf) = chain.first().and_then(|der| crate::x509::parse_der(der).ok()) {
        error.message.push_str(&format!(
            " (after presenting the certificate {}, {})",
            leaf.thumbprint, leaf.subject
        ));
    }
    error
}
