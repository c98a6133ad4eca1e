//! Certificate facts computed from DER, the ground truth behind every export.
//!
//! Exchange exports can lie or be incomplete (deserialized objects, missing properties), but the
//! `RawData` bytes cannot. This module reads certificates from DER, PEM, bare base64 and PKCS#7
//! and recomputes what hybridtls needs, in the exact text forms Windows shows admins, so they can be
//! compared with `TlsCertificateName` and pasted into PowerShell.
//!
//! Distinguished names use the .NET / CryptoAPI form of `X509Certificate2.Subject`
//! (`CertNameToStr(CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG)` on Windows). Sources checked:
//! - dotnet/runtime `System.Security.Cryptography/.../X509Certificates/X500NameEncoder.ManagedDecode.cs`:
//!   RDNs in reverse encoding order joined by `", "`, values of one RDN joined by `" + "` in encoding
//!   order, string types decoded and trailing NULs trimmed, other values as `#` + uppercase hex (only
//!   the contents of an OCTET STRING, the whole TLV otherwise) and never quoted.
//! - dotnet/runtime `.../X509Certificates/X500NameEncoder.cs`: a value is quoted when it is empty,
//!   starts or ends with space/TAB/LF/VT/FF/CR, or contains one of `, + = " \n < > # ;`; an embedded
//!   `"` is doubled. Its parser splits RDNs on `,` or `;`, knows only the `""` escape and trims
//!   whitespace around unquoted values.
//! - dotnet/runtime `.../Cryptography/OidLookup.cs`, whose names "and casing ... come from Windows":
//!   `S` (not `ST`), `E`, `SERIALNUMBER`, `PostalCode`, ..., `sha256RSA`, `sha384ECDSA`, ...
//! - Microsoft Learn `CertNameToStrW` (same quoting list; OIDs without a key name print as
//!   `OID.1.2.3`) and `CertStrToNameW` (`,` or `;` between RDNs, `+` between values of one RDN,
//!   case-insensitive keys, `OID.`-prefixed or bare OIDs, whitespace around keys and values removed).
//! - Wine crypt32 `oid.c` (reactos/reactos `dll/win32/crypt32/oid.c`): the key names CryptoAPI
//!   accepts, including the aliases `ST`, `Email`, `Title`, `GN`, `GivenName`, `Initials`.

use crate::bom::{split_bom, Bom};
use std::borrow::Cow;
use std::fmt::Write as _;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use sha1::{Digest, Sha1};
use time::{OffsetDateTime, UtcOffset};
use x509_parser::asn1_rs::{Any, Class, FromDer, Oid, Tag};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::public_key::PublicKey;

/// Everything hybridtls needs from one certificate, computed from its DER (the ground truth).
///
/// Exports may drop or mangle properties; recomputing them from the bytes keeps every later
/// decision (matching, selection, deletion) independent of how the export was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    /// The certificate's DER encoding, kept so signatures can be verified later ([`issued_by`]).
    pub der: Vec<u8>,
    /// Uppercase hex SHA-1 of the DER (40 chars): the `Thumbprint` Exchange cmdlets take.
    pub thumbprint: String,
    /// Subject in .NET `X500DistinguishedName` form, e.g.
    /// `CN=mail.contoso.com, O="GoDaddy.com, Inc.", S=Arizona, C=US`, as `TlsCertificateName` uses it.
    pub subject: String,
    /// Issuer in the same .NET form, the `<I>` part of `TlsCertificateName`.
    pub issuer: String,
    /// Serial number as .NET's `SerialNumber` shows it: uppercase hex of the encoded big-endian
    /// bytes, a leading `00` kept when encoded, so it matches what admins see in the MMC.
    pub serial_number: String,
    /// Start of validity, UTC.
    pub not_before: OffsetDateTime,
    /// End of validity, UTC.
    pub not_after: OffsetDateTime,
    /// The subject's most specific (last-encoded) CN value: what Exchange's `CN=(.*?)($|,)` finds
    /// first in the .NET form and matches against FQDNs.
    pub common_name: Option<String>,
    /// SAN dNSName entries in certificate order; with the CN they are the names the certificate
    /// can serve.
    pub dns_names: Vec<String>,
    /// Subject DN equals issuer DN (byte comparison) and, when both key ids exist, SKI equals AKI:
    /// self-signed certificates are the ones Exchange only falls back to.
    pub self_signed: bool,
    /// basicConstraints cA: a CA certificate is never a candidate for a connector.
    pub is_ca: bool,
    /// `RSA`, `ECDSA`, or the key algorithm OID text, for reporting weak or unusual keys.
    pub key_algorithm: String,
    /// RSA modulus bits, EC curve bits, 0 when unknown.
    pub key_bits: u32,
    /// .NET friendly signature algorithm name (`sha256RSA`, `sha1RSA`, `sha384ECDSA`, ...) or the
    /// OID, so reports read like `Get-ExchangeCertificate`.
    pub signature_algorithm: String,
    /// Subject key identifier, uppercase hex; links the certificate to what it issued.
    pub subject_key_id: Option<String>,
    /// Authority key identifier (its keyIdentifier field), uppercase hex; links the certificate to
    /// its issuer.
    pub authority_key_id: Option<String>,
}

/// Why certificate bytes could not be read, precise enough for an admin to fix the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    /// The bytes are not a DER X.509 certificate (or PKCS#7 bundle); the text says what failed.
    #[error("not a DER X.509 certificate: {0}")]
    Der(String),
    /// A PEM block is broken; `index` is its 1-based position among all `-----BEGIN` blocks of the
    /// file and `line` the 1-based line where the problem was found.
    #[error("PEM block {index} (line {line}): {reason}")]
    Pem {
        index: usize,
        line: usize,
        reason: String,
    },
    /// Certificate `index` (1-based, in order) of binary data, which starts at byte `offset` of
    /// it, is not a well-formed certificate.
    #[error("certificate {index}, at byte {offset}: {reason}")]
    InBundle {
        index: usize,
        offset: usize,
        reason: String,
    },
    /// Nothing in the input looks like a certificate.
    #[error("no certificate found (expected PEM `-----BEGIN CERTIFICATE-----` blocks, DER or PKCS#7)")]
    Empty,
}

/// Parses exactly one DER X.509 certificate (for example a decoded `RawData`) into its facts.
///
/// # Errors
/// [`CertificateError::Der`] when the bytes are not one well-formed certificate. Trailing bytes are
/// an error too: the thumbprint must be the hash of the certificate and nothing else.
pub fn parse_der(der: &[u8]) -> Result<CertificateFacts, CertificateError> {
    let (facts, rest) = parse_first(der)?;
    if rest.is_empty() {
        Ok(facts)
    } else {
        Err(CertificateError::Der(format!(
            "{} bytes of trailing data after the certificate",
            rest.len()
        )))
    }
}

/// Reads certificate files as admins have them, so any export or download can be fed in as is.
///
/// Accepts PEM with one or many `CERTIFICATE` blocks (text or junk between blocks, and non-certificate
/// blocks such as private keys, are ignored; CRLF is fine; a broken block is an error naming its
/// index and line), a bare DER `.cer` (also several concatenated), base64 DER without armour, and
/// certs-only PKCS#7 (`.p7b`, DER or PEM `-----BEGIN PKCS7-----`). Text may carry a UTF-8 or UTF-16
/// byte order mark, as PowerShell writes it.
///
/// # Errors
/// [`CertificateError::Pem`] for a broken PEM block, [`CertificateError::Der`] for binary or base64
/// data that is not a certificate or PKCS#7 bundle, [`CertificateError::Empty`] when nothing in the
/// input looks like a certificate.
pub fn parse_certificate_file(bytes: &[u8]) -> Result<Vec<CertificateFacts>, CertificateError> {
    // PEM first: a text file may start with `0`, the byte that also starts every DER SEQUENCE.
    let text = decode_text(bytes);
    if text.contains("-----BEGIN ") {
        return parse_pem(&text);
    }
    if bytes.first() == Some(&0x30) {
        return parse_binary(bytes);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    match BASE64.decode(compact) {
        // Offsets into the decoded data are no offsets into the file.
        Ok(der) if der.first() == Some(&0x30) => parse_binary(&der).map_err(|e| match e {
            CertificateError::InBundle {
                index,
                offset,
                reason,
            } => CertificateError::Der(format!(
                "certificate {index} of the base64 text, at byte {offset} of what it decodes to: {reason}"
            )),
            other => other,
        }),
        _ => Err(CertificateError::Empty),
    }
}

/// Canonical key for comparing distinguished names the way Exchange does after
/// `X500DistinguishedName.Format(false)`, so a `TlsCertificateName` typed by an admin matches the
/// certificate it means.
///
/// Case-insensitive (per character, like `OrdinalIgnoreCase`), insensitive to spacing around `,`,
/// `;`, `+` and `=`, quoting-insensitive (`O="Contoso"` equals `O=Contoso`; `""` inside quotes is
/// one `"`), RDN order SIGNIFICANT (and value order inside a multi-valued RDN). Key aliases are
/// unified as CryptoAPI does (`ST`→`S`, `EMAIL`/`EMAILADDRESS`→`E`, `TITLE`→`T`, `GN`/`GIVENNAME`→`G`,
/// `INITIALS`→`I`), and `OID.2.5.4.8` or a bare `2.5.4.8` becomes the key name when one exists;
/// other OIDs stay `OID.x`. Backslash is not an escape: .NET and CryptoAPI do not treat it as one.
/// Input is the .NET form (most specific RDN first); malformed input still gets a key (never panics).
#[must_use]
pub fn dn_key(dn: &str) -> String {
    parse_dn_string(dn)
        .iter()
        .map(|rdn| {
            let values: Vec<String> = rdn
                .iter()
                .map(|(key, value)| {
                    format!(
                        "{}=\"{}\"",
                        canonical_key(key),
                        fold_case(value).replace('"', "\"\"")
                    )
                })
                .collect();
            values.join("+")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// True when `child` names `issuer` as its issuer (dn_key equal, and AKI == issuer's SKI when both
/// are present) AND child's signature verifies with issuer's public key, so a chain is only claimed
/// when it cryptographically holds (a same-named rogue or renewed CA does not count).
///
/// Signature checks use x509-parser's `verify` feature (ring): RSA PKCS#1 with SHA-1/256/384/512,
/// RSA-PSS, ECDSA P-256/P-384 with SHA-256/384 and Ed25519. Other algorithms, and RSA keys under
/// 2048 bits with SHA-2, are reported as not issued (false).
#[must_use]
pub fn issued_by(child: &CertificateFacts, issuer: &CertificateFacts) -> bool {
    if dn_key(&child.issuer) != dn_key(&issuer.subject) {
        return false;
    }
    if let (Some(aki), Some(ski)) = (&child.authority_key_id, &issuer.subject_key_id) {
        if aki != ski {
            return false;
        }
    }
    match (
        X509Certificate::from_der(&child.der),
        X509Certificate::from_der(&issuer.der),
    ) {
        (Ok((_, child)), Ok((_, issuer))) => child.verify_signature(Some(issuer.public_key())).is_ok(),
        _ => false,
    }
}

/// PEM and bare base64 bodies; padding optional because hand-copied base64 often loses it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses the first certificate in `input`; returns its facts and the bytes after it.
fn parse_first(input: &[u8]) -> Result<(CertificateFacts, &[u8]), CertificateError> {
    let (rest, cert) = X509Certificate::from_der(input).map_err(|e| {
        // The parser's own words for data that ends early are `Eof` or nothing.
        if let Some(declared) = declared_length(input).filter(|&declared| declared > input.len()) {
            return CertificateError::Der(format!(
                "the data ends after {} of the {declared} bytes the certificate declares: the file is cut off",
                input.len()
            ));
        }
        match e {
            x509_parser::nom::Err::Incomplete(_) => {
                CertificateError::Der("the data ends inside the certificate".into())
            }
            x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => {
                CertificateError::Der(e.to_string())
            }
        }
    })?;
    Ok((facts(&cert)?, rest))
}

/// The length a DER SEQUENCE at the start of `input` declares, header included.
fn declared_length(input: &[u8]) -> Option<usize> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    if tag != 0x30 {
        return None;
    }
    if first < 0x80 {
        return Some(2 + usize::from(first));
    }
    let count = usize::from(first & 0x7F);
    if !(1..=4).contains(&count) || rest.len() < count {
        return None;
    }
    let length = rest[..count]
        .iter()
        .fold(0usize, |n, &b| (n << 8) | usize::from(b));
    Some(2 + count + length)
}

fn facts(cert: &X509Certificate<'_>) -> Result<CertificateFacts, CertificateError> {
    let der = cert.as_raw();
    let subject =
        read_name(cert.subject().as_raw()).map_err(|e| CertificateError::Der(format!("subject: {e}")))?;
    let issuer =
        read_name(cert.issuer().as_raw()).map_err(|e| CertificateError::Der(format!("issuer: {e}")))?;

    // First occurrence wins, as CertFindExtension does; a duplicate must not make the file unreadable.
    let (mut ski, mut aki, mut is_ca, mut san) = (None, None, None, None);
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => {
                ski.get_or_insert_with(|| hex(id.0));
            }
            ParsedExtension::AuthorityKeyIdentifier(id) => {
                aki.get_or_insert_with(|| id.key_identifier.as_ref().map(|k| hex(k.0)));
            }
            ParsedExtension::BasicConstraints(constraints) => {
                is_ca.get_or_insert(constraints.ca);
            }
            ParsedExtension::SubjectAlternativeName(names) => {
                san.get_or_insert(&names.general_names);
            }
            _ => {}
        }
    }
    let dns_names = san
        .into_iter()
        .flatten()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(dns.to_string()),
            _ => None,
        })
        .collect();
    let aki = aki.flatten();
    let self_signed = cert.subject().as_raw() == cert.issuer().as_raw()
        && match (&ski, &aki) {
            (Some(ski), Some(aki)) => ski == aki,
            _ => true,
        };
    let (key_algorithm, key_bits) = key_facts(cert);

    Ok(CertificateFacts {
        der: der.to_vec(),
        thumbprint: hex(&Sha1::digest(der)),
        subject: format_dn(&subject),
        issuer: format_dn(&issuer),
        serial_number: hex(cert.raw_serial()),
        not_before: cert.validity().not_before.to_datetime().to_offset(UtcOffset::UTC),
        not_after: cert.validity().not_after.to_datetime().to_offset(UtcOffset::UTC),
        common_name: subject
            .iter()
            .flatten()
            .rev()
            .find(|a| a.oid == "2.5.4.3")
            .map(|a| a.text.clone()),
        dns_names,
        self_signed,
        is_ca: is_ca.unwrap_or(false),
        key_algorithm,
        key_bits,
        signature_algorithm: signature_algorithm(cert),
        subject_key_id: ski,
        authority_key_id: aki,
    })
}

/// Uppercase hex, as Windows shows thumbprints, serials and key identifiers.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02X}");
            out
        })
}

/// .NET friendly names of signature algorithms (dotnet/runtime `OidLookup.cs`, Windows names).
const SIGNATURE_ALGORITHMS: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.2", "md2RSA"),
    ("1.2.840.113549.1.1.3", "md4RSA"),
    ("1.2.840.113549.1.1.4", "md5RSA"),
    ("1.2.840.113549.1.1.5", "sha1RSA"),
    ("1.3.14.3.2.29", "sha1RSA"),
    ("1.2.840.113549.1.1.10", "RSASSA-PSS"),
    ("1.2.840.113549.1.1.11", "sha256RSA"),
    ("1.2.840.113549.1.1.12", "sha384RSA"),
    ("1.2.840.113549.1.1.13", "sha512RSA"),
    ("1.2.840.10040.4.3", "sha1DSA"),
    ("1.2.840.10045.4.1", "sha1ECDSA"),
    ("1.2.840.10045.4.3", "specifiedECDSA"),
    ("1.2.840.10045.4.3.2", "sha256ECDSA"),
    ("1.2.840.10045.4.3.3", "sha384ECDSA"),
    ("1.2.840.10045.4.3.4", "sha512ECDSA"),
];

/// DN attribute key names with Windows spelling (dotnet/runtime `OidLookup.cs`; CryptoAPI's
/// `CRYPT_RDN_ATTR_OID_GROUP_ID` names). Anything else prints as `OID.x`.
const ATTRIBUTE_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.4", "SN"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "S"),
    ("2.5.4.9", "STREET"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "T"),
    ("2.5.4.13", "Description"),
    ("2.5.4.17", "PostalCode"),
    ("2.5.4.18", "POBox"),
    ("2.5.4.20", "Phone"),
    ("2.5.4.24", "X21Address"),
    ("2.5.4.42", "G"),
    ("2.5.4.43", "I"),
    ("2.5.4.46", "dnQualifier"),
    ("1.2.840.113549.1.9.1", "E"),
    ("0.9.2342.19200300.100.1.25", "DC"),
];

/// Key names CryptoAPI's `CertStrToName` also accepts, mapped to the names it prints (uppercase).
const ATTRIBUTE_ALIASES: &[(&str, &str)] = &[
    ("ST", "S"),
    ("EMAIL", "E"),
    ("EMAILADDRESS", "E"),
    ("TITLE", "T"),
    ("GN", "G"),
    ("GIVENNAME", "G"),
    ("INITIALS", "I"),
];

/// Elliptic curves by OID, with their size in bits.
const CURVE_BITS: &[(&str, u32)] = &[
    ("1.2.840.10045.3.1.1", 192),
    ("1.3.132.0.33", 224),
    ("1.2.840.10045.3.1.7", 256),
    ("1.3.132.0.10", 256),
    ("1.3.132.0.34", 384),
    ("1.3.132.0.35", 521),
    ("1.3.36.3.3.2.8.1.1.7", 256),
    ("1.3.36.3.3.2.8.1.1.11", 384),
    ("1.3.36.3.3.2.8.1.1.13", 512),
];

fn lookup<T: Copy>(table: &[(&str, T)], oid: &str) -> Option<T> {
    table.iter().find(|(key, _)| *key == oid).map(|(_, value)| *value)
}

fn signature_algorithm(cert: &X509Certificate<'_>) -> String {
    let oid = cert.signature_algorithm.algorithm.to_id_string();
    lookup(SIGNATURE_ALGORITHMS, &oid).map_or(oid, str::to_string)
}

fn key_facts(cert: &X509Certificate<'_>) -> (String, u32) {
    let spki = cert.public_key();
    match spki.algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.113549.1.1.1" => {
            // x509-parser's own key_size() returns 0 when the modulus has no leading zero byte.
            let bits = match spki.parsed() {
                Ok(PublicKey::RSA(key)) => unsigned_bits(key.modulus),
                _ => 0,
            };
            ("RSA".into(), bits)
        }
        "1.2.840.10045.2.1" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| Oid::try_from(p.clone()).ok());
            let bits = curve
                .and_then(|oid| lookup(CURVE_BITS, &oid.to_id_string()))
                .unwrap_or(0);
            ("ECDSA".into(), bits)
        }
        other => (other.to_string(), 0),
    }
}

/// Bit length of a big-endian unsigned integer (leading zero bytes and bits ignored).
fn unsigned_bits(bytes: &[u8]) -> u32 {
    let Some(first) = bytes.iter().position(|&b| b != 0) else {
        return 0;
    };
    let bits = (bytes.len() - first) * 8 - bytes[first].leading_zeros() as usize;
    u32::try_from(bits).unwrap_or(0)
}

/// One attribute of a distinguished name, decoded the way Windows displays it.
struct Attribute {
    /// Dotted attribute type OID.
    oid: String,
    /// The value as text, or `#` + hex for values that are not strings.
    text: String,
    /// True for the `#` + hex form, which Windows never quotes.
    binary: bool,
}

/// Reads a DER `Name` (SEQUENCE OF SET OF AttributeTypeAndValue) into RDNs in encoding order.
fn read_name(raw: &[u8]) -> Result<Vec<Vec<Attribute>>, String> {
    let (name, _, _) = read_element(raw)?;
    expect(&name, Tag::Sequence, "Name")?;
    elements(name.data)?
        .into_iter()
        .map(|(set, _)| {
            expect(&set, Tag::Set, "RelativeDistinguishedName")?;
            elements(set.data)?
                .into_iter()
                .map(|(pair, _)| {
                    expect(&pair, Tag::Sequence, "AttributeTypeAndValue")?;
                    match elements(pair.data)?.as_slice() {
                        [(_, oid), (value, value_der)] => {
                            let (_, oid) = Oid::from_der(oid).map_err(|e| format!("attribute type: {e}"))?;
                            let (text, binary) = attribute_text(value, value_der);
                            Ok(Attribute {
                                oid: oid.to_id_string(),
                                text,
                                binary,
                            })
                        }
                        _ => Err("AttributeTypeAndValue must hold a type and a value".to_string()),
                    }
                })
                .collect()
        })
        .collect()
}

/// Decodes an attribute value like CryptoAPI: string types as text (8-bit types as UTF-8, falling
/// back to Latin-1 as `CertNameToStr` documents for T61String), trailing NULs dropped; an OCTET
/// STRING as `#` + hex of its contents; anything else as `#` + hex of the whole encoding.
fn attribute_text(value: &Any<'_>, encoded: &[u8]) -> (String, bool) {
    if value.class() != Class::Universal {
        return (format!("#{}", hex(encoded)), true);
    }
    let text = match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::TeletexString
        | Tag::VideotexString
        | Tag::GraphicString
        | Tag::GeneralString => match std::str::from_utf8(value.data) {
            Ok(text) => text.to_string(),
            Err(_) => value.data.iter().map(|&b| char::from(b)).collect(),
        },
        Tag::BmpString => {
            let units: Vec<u16> = value
                .data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => value
            .data
            .chunks(4)
            .map(|c| {
                let mut word = [0u8; 4];
                word[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(word)).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        Tag::OctetString => return (format!("#{}", hex(value.data)), true),
        _ => return (format!("#{}", hex(encoded)), true),
    };
    (text.trim_end_matches('\0').to_string(), false)
}

/// Formats RDNs (encoding order) in the .NET form: most specific first, `, ` and ` + `.
fn format_dn(rdns: &[Vec<Attribute>]) -> String {
    rdns.iter()
        .rev()
        .map(|rdn| {
            let values: Vec<String> = rdn
                .iter()
                .map(|attribute| {
                    let key = lookup(ATTRIBUTE_NAMES, &attribute.oid)
                        .map_or_else(|| format!("OID.{}", attribute.oid), str::to_string);
                    let value = if attribute.binary {
                        Cow::Borrowed(attribute.text.as_str())
                    } else {
                        quote(&attribute.text)
                    };
                    format!("{key}={value}")
                })
                .collect();
            values.join(" + ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Quotes a value when CryptoAPI/.NET would (`X500NameEncoder.NeedsQuoting`), doubling inner `"`.
fn quote(value: &str) -> Cow<'_, str> {
    let edge_space = |c: Option<char>| c.is_some_and(|c| c == ' ' || ('\t'..='\r').contains(&c));
    let needs_quotes = value.is_empty()
        || edge_space(value.chars().next())
        || edge_space(value.chars().next_back())
        || value.contains([',', '+', '=', '"', '\n', '<', '>', '#', ';']);
    if needs_quotes {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

/// States of the DN string reader (modelled on `X500NameEncoder.ParseDistinguishedName`).
#[derive(Clone, Copy, PartialEq)]
enum DnState {
    Key,
    ValueStart,
    Unquoted,
    Quoted,
    AfterQuote,
}

/// Splits a .NET-form DN into RDNs of (key, value) pairs, in string order, never failing: a value
/// is unquoted (`""` → `"`) and trimmed unless quoted; empty pieces (`,,`, a trailing `,`) vanish.
fn parse_dn_string(dn: &str) -> Vec<Vec<(String, String)>> {
    let mut rdns = Vec::new();
    let mut rdn = Vec::new();
    let (mut key, mut value) = (String::new(), String::new());
    let mut state = DnState::Key;
    // `None` marks the end of the input, which closes the last value even inside open quotes.
    for c in dn.chars().map(Some).chain([None]) {
        let separator = match c {
            Some(',' | ';' | '+') => state != DnState::Quoted,
            Some(_) => false,
            None => true,
        };
        if separator {
            let (key, value) = (std::mem::take(&mut key), std::mem::take(&mut value));
            let value = if state == DnState::Unquoted {
                value.trim_end().to_string()
            } else {
                value
            };
            let key = key.trim().to_string();
            if !key.is_empty() || !value.is_empty() || state != DnState::Key {
                rdn.push((key, value));
            }
            if c != Some('+') && !rdn.is_empty() {
                rdns.push(std::mem::take(&mut rdn));
            }
            state = DnState::Key;
            continue;
        }
        let Some(c) = c else { continue };
        state = match (state, c) {
            (DnState::Key, '=') => DnState::ValueStart,
            (DnState::Key, c) => {
                key.push(c);
                DnState::Key
            }
            (DnState::ValueStart, c) if c.is_whitespace() => DnState::ValueStart,
            (DnState::ValueStart, '"') => DnState::Quoted,
            (DnState::Quoted, '"') => DnState::AfterQuote,
            (DnState::AfterQuote, '"') => {
                value.push('"');
                DnState::Quoted
            }
            (DnState::AfterQuote, c) if c.is_whitespace() => DnState::AfterQuote,
            (DnState::ValueStart, c) => {
                value.push(c);
                DnState::Unquoted
            }
            (state, c) => {
                value.push(c);
                state
            }
        };
    }
    rdns
}

/// Uppercases per character with single-character mappings only, like .NET's `OrdinalIgnoreCase`.
fn fold_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

/// The canonical spelling of a DN key for [`dn_key`].
fn canonical_key(key: &str) -> String {
    let upper = fold_case(key);
    let oid = upper.strip_prefix("OID.").unwrap_or(&upper);
    if !oid.is_empty() && oid.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return lookup(ATTRIBUTE_NAMES, oid).map_or_else(|| format!("OID.{oid}"), fold_case);
    }
    lookup(ATTRIBUTE_ALIASES, &upper).map_or(upper, str::to_string)
}

/// One DER element of `input`: the parsed element, its whole encoding, and the bytes after it.
fn read_element(input: &[u8]) -> Result<(Any<'_>, &[u8], &[u8]), String> {
    let (rest, element) = Any::from_der(input).map_err(|e| match e {
        x509_parser::nom::Err::Incomplete(_) => "the data ends inside a DER element".to_string(),
        x509_parser::nom::Err::Error(e) | x509_parser::nom::Err::Failure(e) => e.to_string(),
    })?;
    Ok((element, &input[..input.len() - rest.len()], rest))
}

/// All DER elements in `content`, each with its whole encoding.
fn elements(mut content: &[u8]) -> Result<Vec<(Any<'_>, &[u8])>, String> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (element, encoded, rest) = read_element(content)?;
        out.push((element, encoded));
        content = rest;
    }
    Ok(out)
}

fn is_universal(element: &Any<'_>, tag: Tag) -> bool {
    element.class() == Class::Universal && element.tag() == tag
}

fn expect(element: &Any<'_>, tag: Tag, what: &str) -> Result<(), String> {
    if is_universal(element, tag) {
        Ok(())
    } else {
        Err(format!("{what}: expected {tag}, found {}", element.tag()))
    }
}

/// Binary input: a certs-only PKCS#7 bundle, or one or more concatenated DER certificates.
fn parse_binary(der: &[u8]) -> Result<Vec<CertificateFacts>, CertificateError> {
    // Which certificate is bad, and where it starts, so that a bundle's damage can be found.
    let in_bundle = |index: usize, offset: usize| {
        move |e: CertificateError| CertificateError::InBundle {
            index: index + 1,
            offset,
            reason: match e {
                CertificateError::Der(reason) => reason,
                other => other.to_string(),
            },
        }
    };
    if let Some(certificates) = pkcs7_certificates(der)? {
        let facts = certificates
            .into_iter()
            .enumerate()
            .map(|(index, certificate)| {
                // Each is a slice of `der`.
                let offset = certificate.as_ptr() as usize - der.as_ptr() as usize;
                parse_der(certificate).map_err(in_bundle(index, offset))
            })
            .collect::<Result<Vec<_>, _>>()?;
        return if facts.is_empty() {
            Err(CertificateError::Empty)
        } else {
            Ok(facts)
        };
    }
    let mut facts = Vec::new();
    let mut rest = der;
    while !rest.is_empty() {
        let offset = der.len() - rest.len();
        let (next, after) = parse_first(rest).map_err(in_bundle(facts.len(), offset))?;
        facts.push(next);
        rest = after;
    }
    Ok(facts)
}

/// `1.2.840.113549.1.7.2`, PKCS#7 / CMS SignedData.
const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";

/// The certificate encodings inside a PKCS#7 SignedData (RFC 5652 `certificates [0] IMPLICIT`),
/// or `None` when `der` is not a ContentInfo of type SignedData.
fn pkcs7_certificates(der: &[u8]) -> Result<Option<Vec<&[u8]>>, CertificateError> {
    let content_info = match read_element(der) {
        Ok((element, _, _)) if is_universal(&element, Tag::Sequence) => element,
        _ => return Ok(None),
    };
    let Ok(parts) = elements(content_info.data) else {
        return Ok(None);
    };
    let is_signed_data = parts
        .first()
        .is_some_and(|(_, oid)| Oid::from_der(oid).is_ok_and(|(_, oid)| oid.to_id_string() == SIGNED_DATA));
    if !is_signed_data {
        return Ok(None);
    }
    let pkcs7 = |reason: String| CertificateError::Der(format!("PKCS#7: {reason}"));
    let explicit = match parts.get(1) {
        Some((content, _)) if content.class() == Class::ContextSpecific && content.tag() == Tag(0) => content,
        _ => return Err(pkcs7("SignedData content is missing".into())),
    };
    let (signed_data, _, _) = read_element(explicit.data).map_err(pkcs7)?;
    expect(&signed_data, Tag::Sequence, "SignedData").map_err(pkcs7)?;
    let fields = elements(signed_data.data).map_err(pkcs7)?;
    let Some((certificates, _)) = fields
        .iter()
        .find(|(f, _)| f.class() == Class::ContextSpecific && f.tag() == Tag(0))
    else {
        return Ok(Some(Vec::new()));
    };
    let choices = elements(certificates.data).map_err(pkcs7)?;
    // CertificateChoices: only plain certificates (a SEQUENCE); attribute certificates are skipped.
    Ok(Some(
        choices
            .into_iter()
            .filter(|(choice, _)| is_universal(choice, Tag::Sequence))
            .map(|(_, encoded)| encoded)
            .collect(),
    ))
}

/// Text of a file: UTF-8 (with or without BOM) or UTF-16 with BOM, as PowerShell writes them.
fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    let utf16 = |bytes: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes.chunks_exact(2).map(|c| from([c[0], c[1]])).collect();
        Cow::Owned(String::from_utf16_lossy(&units))
    };
    match split_bom(bytes) {
        (Some(Bom::Utf16Le), rest) => utf16(rest, u16::from_le_bytes),
        (Some(Bom::Utf16Be), rest) => utf16(rest, u16::from_be_bytes),
        (Some(Bom::Utf8) | None, rest) => String::from_utf8_lossy(rest),
    }
}

/// The label of a `-----BEGIN label-----` / `-----END label-----` line (`kind` is BEGIN or END).
fn pem_label<'a>(line: &'a str, kind: &str) -> Option<&'a str> {
    line.trim()
        .strip_prefix("-----")?
        .strip_prefix(kind)?
        .strip_prefix(' ')?
        .strip_suffix("-----")
        .map(str::trim)
}

/// How the DER of a PEM block is read, by label; other labels (keys, requests) are skipped.
#[derive(Clone, Copy)]
enum PemKind {
    /// Exactly one certificate.
    Certificate,
    /// OpenSSL `TRUSTED CERTIFICATE`: a certificate followed by trust settings.
    Trusted,
    /// PKCS#7 / CMS bundle.
    Bundle,
}

fn pem_kind(label: &str) -> Option<PemKind> {
    match label {
        "CERTIFICATE" | "X509 CERTIFICATE" => Some(PemKind::Certificate),
        "TRUSTED CERTIFICATE" => Some(PemKind::Trusted),
        "PKCS7" | "PKCS #7 SIGNED DATA" | "CMS" => Some(PemKind::Bundle),
        _ => None,
    }
}

fn parse_pem(text: &str) -> Result<Vec<CertificateFacts>, CertificateError> {
    let mut facts = Vec::new();
    let mut index = 0;
    let mut lines = text.lines().zip(1..);
    while let Some((line, begin_line)) = lines.next() {
        let Some(label) = pem_label(line, "BEGIN") else {
            continue;
        };
        index += 1;
        let error = |line: usize, reason: String| CertificateError::Pem { index, line, reason };
        let kind = pem_kind(label);
        // Base64 body, and where each line starts in it, to report decoding errors by line.
        let (mut body, mut starts) = (String::new(), Vec::new());
        let mut end_found = false;
        for (line, number) in lines.by_ref() {
            if let Some(end) = pem_label(line, "END") {
                if end != label {
                    return Err(error(
                        number,
                        format!("`-----END {end}-----` closes `-----BEGIN {label}-----`"),
                    ));
                }
                end_found = true;
                break;
            }
            if pem_label(line, "BEGIN").is_some() {
                return Err(error(
                    number,
                    format!("new BEGIN line before `-----END {label}-----`"),
                ));
            }
            if kind.is_none() {
                continue;
            }
            let line = line.trim();
            if let Some(bad) = line
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')))
            {
                return Err(error(number, format!("unexpected character {bad:?} in base64")));
            }
            starts.push((body.len(), number));
            body.push_str(line);
        }
        if !end_found {
            return Err(error(begin_line, format!("no `-----END {label}-----` line")));
        }
        let Some(kind) = kind else { continue };
        let der = BASE64.decode(&body).map_err(|e| {
            let offset = match e {
                base64::DecodeError::InvalidByte(offset, _)
                | base64::DecodeError::InvalidLastSymbol(offset, _) => offset,
                _ => body.len(),
            };
            let line = starts
                .iter()
                .rev()
                .find(|(start, _)| *start <= offset)
                .map_or(begin_line, |&(_, n)| n);
            error(line, format!("invalid base64: {e}"))
        })?;
        let block = match kind {
            PemKind::Certificate => parse_der(&der).map(|f| vec![f]),
            PemKind::Trusted => parse_first(&der).map(|(f, _)| vec![f]),
            PemKind::Bundle => parse_binary(&der),
        };
        facts.extend(block.map_err(|e| error(begin_line, e.to_string()))?);
    }
    if facts.is_empty() {
        Err(CertificateError::Empty)
    } else {
        Ok(facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/fixtures/der/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn facts(name: &str) -> CertificateFacts {
        parse_der(&fixture(name)).unwrap()
    }

    fn pem(der: &[u8], label: &str) -> String {
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
        )
    }

    /// What `openssl x509 -inform der -noout -text -fingerprint -sha1` and the reference (§7) say.
    struct Expected {
        file: &'static str,
        subject: &'static str,
        thumbprint: &'static str,
        serial: &'static str,
        validity: (OffsetDateTime, OffsetDateTime),
        sans: &'static [&'static str],
    }

    #[test]
    fn exchange_fixtures_match_openssl_and_reference() {
        let cases = [
            Expected {
                file: "broken_0.der",
                subject: "DC=Windows Azure CRP Certificate Generator",
                thumbprint: "8BFE845E6DCA42BBDC8F872672CDA1A4E0C3EBF1",
                serial: "530CBB574B5E8BBA47E7A3BC99D1355D",
                validity: (
                    datetime!(2023-01-05 07:56:58 UTC),
                    datetime!(2024-01-05 07:56:58 UTC),
                ),
                sans: &[],
            },
            Expected {
                file: "broken_1.der",
                subject: "CN=E2k16-1",
                thumbprint: "D003810EBE1624145889D031FBB77ED2BD280FD3",
                serial: "69FC45493FF2248140DD9D53B4D92957",
                validity: (
                    datetime!(2022-12-30 14:39:08 UTC),
                    datetime!(2027-12-30 14:39:08 UTC),
                ),
                sans: &["E2k16-1", "E2k16-1.Contoso.lab"],
            },
            Expected {
                file: "broken_2.der",
                subject: "CN=mail.contoso.lab",
                thumbprint: "2759456DC53C76E3DED093B567B6D8DAA42C0ADD",
                serial: "114127F15159879440EC068324801D00",
                validity: (
                    datetime!(2022-09-05 14:41:02 UTC),
                    datetime!(2027-09-05 14:41:02 UTC),
                ),
                sans: &[
                    "mail.contoso.lab",
                    "autodiscover.contoso.lab",
                    "e2k16-1.contoso.lab",
                    "e2k16-2.contoso.lab",
                ],
            },
            Expected {
                file: "broken_3.der",
                subject: "CN=domain.com, OU=IT, O=Contoso, L=Cologne, S=NRW, C=Germany",
                thumbprint: "63F480EA98F26E6F8AE7BB5311B33BB2C692D3CA",
                serial: "2361B027785B17B249BF692CB1E1A097",
                validity: (
                    datetime!(2022-05-31 14:52:33 UTC),
                    datetime!(2027-05-31 14:52:33 UTC),
                ),
                sans: &["domain.com", "sub.domain.com"],
            },
            Expected {
                file: "broken_4.der",
                subject: "CN=WMSvc-SHA2-E2k16-1",
                thumbprint: "FE0FAE9305F294F49DD2426AB214CC17853A7E87",
                serial: "306B900B4592B6A045E4B124A889E26D",
                validity: (
                    datetime!(2021-07-29 05:24:40 UTC),
                    datetime!(2031-07-27 05:24:40 UTC),
                ),
                sans: &[],
            },
        ];
        for Expected {
            file,
            subject,
            thumbprint,
            serial,
            validity,
            sans,
        } in cases
        {
            let f = facts(file);
            assert_eq!(f.subject, subject, "{file}");
            assert_eq!(f.issuer, subject, "{file}");
            assert_eq!(f.thumbprint, thumbprint, "{file}");
            assert_eq!(f.serial_number, serial, "{file}");
            assert_eq!((f.not_before, f.not_after), validity, "{file}");
            assert_eq!(f.dns_names, sans, "{file}");
            assert!(f.self_signed && !f.is_ca, "{file}");
            assert_eq!((f.key_algorithm.as_str(), f.key_bits), ("RSA", 2048), "{file}");
            assert_eq!(f.signature_algorithm, "sha256RSA", "{file}");
            assert_eq!(
                (f.subject_key_id.as_deref(), f.authority_key_id.as_deref()),
                (None, None),
                "{file}"
            );
            assert_eq!(f.der, fixture(file), "{file}");
            assert!(
                issued_by(&f, &f),
                "{file} is self-signed, so it verifies with its own key"
            );
        }
        assert_eq!(facts("broken_0.der").common_name, None);
        assert_eq!(facts("broken_3.der").common_name.as_deref(), Some("domain.com"));
    }

    #[test]
    fn ca_with_comma_state_quotes_and_leading_zero_serial() {
        let ca = facts("x509_ca.der");
        let subject = r#"E=pki@contoso.com, CN=Contoso Test Issuing CA, OU="R&D ""Labs""", O="Contoso, Ltd", L=Köln, S=Nordrhein-Westfalen, C=DE"#;
        assert_eq!(ca.subject, subject);
        assert_eq!(ca.issuer, subject);
        assert_eq!(ca.thumbprint, "177D93C9F26B6CCFAE7562C98B808A115BFBF094");
        assert_eq!(ca.serial_number, "00C0FFEE01");
        assert_eq!(ca.common_name.as_deref(), Some("Contoso Test Issuing CA"));
        assert_eq!((ca.key_algorithm.as_str(), ca.key_bits), ("ECDSA", 384));
        assert_eq!(ca.signature_algorithm, "sha384ECDSA");
        assert_eq!(
            ca.subject_key_id.as_deref(),
            Some("499D54DB457C46CDB740500BF4EEC0FA5EDA702B")
        );
        assert_eq!(ca.authority_key_id, None);
        assert!(ca.is_ca && ca.self_signed);
        assert!(ca.dns_names.is_empty());
        assert_eq!(
            (ca.not_before, ca.not_after),
            (
                datetime!(2026-11-24 11:21:45 UTC),
                datetime!(2046-11-19 11:21:45 UTC)
            )
        );
    }

    #[test]
    fn leaf_with_multi_valued_rdn_and_ip_in_san() {
        let leaf = facts("x509_leaf.der");
        assert_eq!(
            leaf.subject,
            r#"CN=mail.contoso.com, OU=Mail + OU=Hybrid, O="Contoso, Ltd", S=NRW, C=DE"#
        );
        assert_eq!(leaf.issuer, facts("x509_ca.der").subject);
        assert_eq!(leaf.thumbprint, "C56D700ECB08BF62FEE0A5025BC3EED6121B552A");
        assert_eq!(leaf.serial_number, "7A11");
        assert_eq!(
            leaf.dns_names,
            ["mail.contoso.com", "autodiscover.contoso.com", "*.contoso.com"]
        );
        assert_eq!((leaf.key_algorithm.as_str(), leaf.key_bits), ("RSA", 2048));
        assert_eq!(leaf.signature_algorithm, "sha256ECDSA");
        assert_eq!(
            leaf.subject_key_id.as_deref(),
            Some("584B983FEDE13E497DD604EB756B0CC26665C428")
        );
        assert_eq!(
            leaf.authority_key_id.as_deref(),
            Some("499D54DB457C46CDB740500BF4EEC0FA5EDA702B")
        );
        assert!(!leaf.is_ca && !leaf.self_signed);
        assert_eq!(leaf.not_after, datetime!(2029-02-26 11:21:45 UTC));
    }

    #[test]
    fn issued_by_needs_name_key_id_and_signature() {
        let (ca, rogue, leaf) = (
            facts("x509_ca.der"),
            facts("x509_rogue.der"),
            facts("x509_leaf.der"),
        );
        assert!(issued_by(&leaf, &ca));
        assert!(issued_by(&ca, &ca));
        // Same subject and same SKI: only the signature tells them apart.
        assert_eq!(
            (&rogue.subject, &rogue.subject_key_id),
            (&ca.subject, &ca.subject_key_id)
        );
        assert!(!issued_by(&leaf, &rogue));
        assert!(!issued_by(&leaf, &facts("broken_3.der")));
        assert!(!issued_by(&ca, &leaf));
        let mut wrong_key_id = ca.clone();
        wrong_key_id.subject_key_id = Some("00".into());
        assert!(!issued_by(&leaf, &wrong_key_id));
        let mut garbage = ca.clone();
        garbage.der = vec![0x30, 0x00];
        assert!(!issued_by(&leaf, &garbage));
    }

    #[test]
    fn quoting_follows_x500_name_encoder() {
        assert_eq!(quote("Contoso"), "Contoso");
        assert_eq!(quote("a  b"), "a  b");
        assert_eq!(quote(""), r#""""#);
        assert_eq!(quote(" a"), r#"" a""#);
        assert_eq!(quote("a\t"), "\"a\t\"");
        assert_eq!(quote("a\rb"), "a\rb");
        for special in [",", "+", "=", "\"", "\n", "<", ">", "#", ";"] {
            assert!(quote(&format!("a{special}b")).starts_with('"'), "{special:?}");
        }
        assert_eq!(quote(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(quote("R&D/IT's"), "R&D/IT's");
    }

    #[test]
    fn attribute_values_decode_like_windows() {
        const INT: &[u8] = &[0x02, 0x01, 0x05];
        let any = |der: &'static [u8]| Any::from_der(der).unwrap().1;
        assert_eq!(
            attribute_text(&any(&[0x1E, 0x04, 0x00, 0x4B, 0x00, 0xF6]), &[]),
            ("Kö".to_string(), false)
        );
        assert_eq!(
            attribute_text(&any(&[0x1C, 0x04, 0, 0, 0, 0x41]), &[]),
            ("A".to_string(), false)
        );
        assert_eq!(
            attribute_text(&any(&[0x14, 0x02, 0x4B, 0xF6]), &[]),
            ("Kö".to_string(), false)
        );
        assert_eq!(
            attribute_text(&any(&[0x0C, 0x03, 0x61, 0x00, 0x00]), &[]),
            ("a".to_string(), false)
        );
        assert_eq!(
            attribute_text(&any(&[0x04, 0x02, 0xAB, 0x01]), &[]),
            ("#AB01".to_string(), true)
        );
        assert_eq!(attribute_text(&any(INT), INT), ("#020105".to_string(), true));
    }

    #[test]
    fn unknown_attribute_types_print_as_oid() {
        // Name: SET { 2.5.4.15 (businessCategory) = "Private Organization" }, SET { CN = "x" }
        let mut name = vec![
            0x30, 0x2A, 0x31, 0x1F, 0x30, 0x1D, 0x06, 0x03, 0x55, 0x04, 0x0F, 0x0C, 0x16,
        ];
        name.extend_from_slice(b"Private Organization+1");
        name.extend_from_slice(&[0x31, 0x07, 0x30, 0x05, 0x06, 0x03, 0x55, 0x04, 0x03]);
        let short = read_name(&name);
        assert!(
            short.is_err(),
            "the CN value is missing, so the name is malformed"
        );
        name.truncate(name.len() - 9);
        name[1] = 0x21;
        assert_eq!(
            format_dn(&read_name(&name).unwrap()),
            r#"OID.2.5.4.15="Private Organization+1""#
        );
        assert_eq!(format_dn(&read_name(&[0x30, 0x00]).unwrap()), "");
    }

    #[test]
    fn dn_key_ignores_case_spacing_quotes_and_aliases() {
        let reference = "CN=mail.contoso.com, O=\"GoDaddy.com, Inc.\", S=Arizona, C=US";
        for same in [
            "cn=MAIL.contoso.com,o=\"godaddy.com, inc.\",s=arizona,c=us",
            "CN = mail.contoso.com ,  O = \"GoDaddy.com, Inc.\" , ST=Arizona; C=US",
            "CN=\"mail.contoso.com\", O=\"GoDaddy.com, Inc.\", OID.2.5.4.8=Arizona, 2.5.4.6=US",
            "CN=mail.contoso.com, O=\"GoDaddy.com, Inc.\", S=Arizona, C=US,",
        ] {
            assert_eq!(dn_key(same), dn_key(reference), "{same}");
        }
        for different in [
            "O=\"GoDaddy.com, Inc.\", CN=mail.contoso.com, S=Arizona, C=US",
            "CN=mail.contoso.com, O=GoDaddy.com, Inc., S=Arizona, C=US",
            "CN=mail.contoso.com, O=\"GoDaddy.com,Inc.\", S=Arizona, C=US",
            "CN=mail.contoso.com, O=\"GoDaddy.com, Inc.\", S=Arizona",
            "CN=mail.contoso.com + O=\"GoDaddy.com, Inc.\", S=Arizona, C=US",
            "CN=mail.contoso.com, O=\"GoDaddy.com, Inc.\", L=Arizona, C=US",
        ] {
            assert_ne!(dn_key(different), dn_key(reference), "{different}");
        }
        assert_eq!(dn_key("E=a@b.c"), dn_key("EmailAddress=A@B.C"));
        assert_eq!(dn_key("E=a@b.c"), dn_key("Email=a@b.c"));
        assert_eq!(
            dn_key("OU=\"R&D \"\"Labs\"\"\""),
            dn_key("ou = \"r&d \"\"labs\"\"\" ")
        );
        assert_ne!(
            dn_key("CN=\" a\""),
            dn_key("CN=a"),
            "spaces inside quotes are part of the value"
        );
        assert_ne!(
            dn_key("CN=a  b"),
            dn_key("CN=a b"),
            "inner spacing is part of the value"
        );
        assert_eq!(dn_key("OID.1.2.3=x"), dn_key("1.2.3 = X"));
        assert_eq!(dn_key(""), "");
        assert_eq!(dn_key(" , ,"), "");
    }

    #[test]
    fn dn_key_matches_formatted_certificate_names() {
        for file in ["broken_3.der", "x509_ca.der", "x509_leaf.der"] {
            let f = facts(file);
            assert_eq!(
                dn_key(&f.subject),
                dn_key(&f.subject.to_lowercase().replace('=', " = ")),
                "{file}"
            );
        }
        let leaf = facts("x509_leaf.der");
        assert_eq!(
            dn_key(&leaf.subject),
            "CN=\"MAIL.CONTOSO.COM\",OU=\"MAIL\"+OU=\"HYBRID\",O=\"CONTOSO, LTD\",S=\"NRW\",C=\"DE\""
        );
        assert_eq!(
            dn_key("cn=Contoso Test Issuing CA,OU=\"R&D \"\"Labs\"\"\",O=\"Contoso, Ltd\";L=KÖLN; ST = Nordrhein-Westfalen, C=de"),
            dn_key(&facts("x509_ca.der").subject.replace("E=pki@contoso.com, ", "")),
        );
    }

    #[test]
    fn dn_key_survives_malformed_input() {
        for odd in [
            "CN",
            "=",
            "\"",
            "CN=\"unterminated, O=x",
            "CN=\"a\"b, O=c",
            "+,;=\"\"\"",
            "ÿ=ß, İ=x",
        ] {
            let _ = dn_key(odd);
        }
        assert_ne!(dn_key("CN=\"a, O=b"), dn_key("CN=a, O=b"));
    }

    #[test]
    fn pem_bundle_with_junk_crlf_and_other_blocks() {
        let (leaf, ca) = (fixture("x509_leaf.der"), fixture("x509_ca.der"));
        let text = format!(
            "Bag Attributes\r\n    friendlyName: mail\r\nsubject=CN = mail.contoso.com\r\n{}\r\n{}junk\r\n{}",
            pem(&leaf, "CERTIFICATE").replace('\n', "\r\n"),
            pem(b"not a key", "PRIVATE KEY"),
            pem(&ca, "CERTIFICATE"),
        );
        let certificates = parse_certificate_file(text.as_bytes()).unwrap();
        assert_eq!(certificates, [parse_der(&leaf).unwrap(), parse_der(&ca).unwrap()]);

        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(parse_certificate_file(&utf16).unwrap().len(), 2);
        let with_bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
        assert_eq!(parse_certificate_file(&with_bom).unwrap().len(), 2);
    }

    #[test]
    fn pem_errors_name_block_and_line() {
        let (leaf, ca) = (
            pem(&fixture("x509_leaf.der"), "CERTIFICATE"),
            pem(&fixture("x509_ca.der"), "CERTIFICATE"),
        );
        let pem_error = |text: String| match parse_certificate_file(text.as_bytes()) {
            Err(CertificateError::Pem { index, line, reason }) => (index, line, reason),
            other => panic!("{other:?}"),
        };
        let leaf_lines = leaf.lines().count();

        let broken = ca.replacen("MII", "MI*", 1);
        let (index, line, reason) = pem_error(format!("{leaf}{broken}"));
        assert_eq!((index, line), (2, leaf_lines + 2));
        assert!(reason.contains("'*'"), "{reason}");

        let truncated: String = ca
            .lines()
            .take(3)
            .chain(ca.lines().last())
            .map(|l| format!("{l}\n"))
            .collect();
        let (index, line, reason) = pem_error(format!("{leaf}{truncated}"));
        assert_eq!((index, line), (2, leaf_lines + 1));
        assert!(reason.starts_with("not a DER X.509 certificate"), "{reason}");

        let (index, line, reason) = pem_error(format!(
            "{leaf}\n{}",
            ca.replace("-----END CERTIFICATE-----\n", "")
        ));
        assert_eq!((index, line), (2, leaf_lines + 2));
        assert!(reason.contains("no `-----END CERTIFICATE-----`"), "{reason}");

        let (index, line, _) = pem_error(ca.replace("END CERTIFICATE", "END PKCS7"));
        assert_eq!((index, line), (1, ca.lines().count()));

        let (_, line, reason) = pem_error(ca.replacen('\n', "\n====\n", 1));
        assert_eq!(line, 2);
        assert!(reason.contains("invalid base64"), "{reason}");

        let message = CertificateError::Pem {
            index: 2,
            line: 9,
            reason: "x".into(),
        }
        .to_string();
        assert_eq!(message, "PEM block 2 (line 9): x");
    }

    #[test]
    fn der_base64_and_pkcs7_inputs() {
        let (leaf, ca) = (fixture("x509_leaf.der"), fixture("x509_ca.der"));
        let expected = [parse_der(&leaf).unwrap(), parse_der(&ca).unwrap()];
        assert_eq!(parse_certificate_file(&leaf).unwrap(), expected[..1]);
        assert_eq!(
            parse_certificate_file(&[leaf.clone(), ca.clone()].concat()).unwrap(),
            expected
        );

        let bare = base64::engine::general_purpose::STANDARD.encode(&leaf);
        let wrapped: Vec<&str> = bare
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        assert_eq!(
            parse_certificate_file(wrapped.join("\r\n").as_bytes()).unwrap(),
            expected[..1]
        );

        let p7b = fixture("x509_chain.p7b");
        assert_eq!(parse_certificate_file(&p7b).unwrap(), expected);
        assert_eq!(
            parse_certificate_file(pem(&p7b, "PKCS7").as_bytes()).unwrap(),
            expected
        );
        assert!(matches!(parse_der(&p7b), Err(CertificateError::Der(_))));
    }

    #[test]
    fn empty_and_wrong_inputs() {
        for nothing in [
            &b""[..],
            b"   \r\n",
            b"hello world",
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ] {
            assert_eq!(
                parse_certificate_file(nothing),
                Err(CertificateError::Empty),
                "{nothing:?}"
            );
        }
        let leaf = fixture("x509_leaf.der");
        let trailing = [leaf.clone(), vec![0]].concat();
        assert_eq!(
            parse_der(&trailing),
            Err(CertificateError::Der(
                "1 bytes of trailing data after the certificate".into()
            ))
        );
        // The zero byte is where a second certificate would start.
        assert!(matches!(
            parse_certificate_file(&trailing),
            Err(CertificateError::InBundle { index: 2, offset, .. }) if offset == leaf.len()
        ));
        assert_eq!(
            parse_der(&leaf[..leaf.len() - 1]),
            Err(CertificateError::Der(format!(
                "the data ends after {} of the {} bytes the certificate declares: the file is cut off",
                leaf.len() - 1,
                leaf.len()
            )))
        );
        // A SignedData without certificates, and one whose content is not [0].
        let oid = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02];
        let empty_signed_data = [
            &[0x30, 0x14][..],
            &oid,
            &[0xA0, 0x07, 0x30, 0x05, 0x02, 0x01, 0x01, 0x31, 0x00][..],
        ]
        .concat();
        assert_eq!(
            parse_certificate_file(&empty_signed_data),
            Err(CertificateError::Empty)
        );
        let no_content = [&[0x30, 0x0B][..], &oid].concat();
        assert_eq!(
            parse_certificate_file(&no_content),
            Err(CertificateError::Der(
                "PKCS#7: SignedData content is missing".into()
            ))
        );
    }

    #[test]
    fn key_bit_lengths() {
        assert_eq!(unsigned_bits(&[]), 0);
        assert_eq!(unsigned_bits(&[0, 0]), 0);
        assert_eq!(unsigned_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(unsigned_bits(&[0x01, 0xFF]), 9);
    }

    /// Deterministic xorshift, so a failure can be replayed.
    fn random_bytes(seed: &mut u64, len: usize) -> Vec<u8> {
        (0..len)
            .map(|_| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                (*seed >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn random_input_is_an_error_not_a_panic() {
        let mut seed = 0x9E37_79B9_7F4A_7C15;
        for round in 0..3000 {
            let len = (round % 300) + 1;
            let mut bytes = random_bytes(&mut seed, len);
            if round % 3 == 0 {
                bytes[0] = 0x30; // reach the DER and PKCS#7 readers, not only the text path
            }
            assert!(parse_der(&bytes).is_err());
            assert!(parse_certificate_file(&bytes).is_err(), "round {round}");
            let _ = dn_key(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn mutated_certificates_never_panic() {
        let mut seed = 42;
        for file in ["broken_3.der", "x509_leaf.der", "x509_chain.p7b"] {
            let original = fixture(file);
            for round in 0..400 {
                let mut bytes = original.clone();
                let noise = random_bytes(&mut seed, 8);
                for pair in noise.chunks(2) {
                    let at = (usize::from(pair[0]) * 7 + round * 13) % bytes.len();
                    bytes[at] ^= pair[1] | 1;
                }
                bytes.truncate(bytes.len() - (round % 5) * (round % 37));
                if let Ok(all) = parse_certificate_file(&bytes) {
                    for f in &all {
                        let _ = (dn_key(&f.subject), issued_by(f, f));
                    }
                }
                let _ = parse_certificate_file(pem(&bytes, "CERTIFICATE").as_bytes());
            }
        }
    }
}
