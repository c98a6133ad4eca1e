//! A writer of Exchange's `SerializationData` for a certificate: the .NET binary serialization
//! (MS-NRBF) of `ExchangeCertificate`, record by record in the shape Exchange 2016/2019 write
//! (learned from the public CSS-Exchange HealthChecker test data, none of which is copied
//! here): the root class with the members `CertData`, `SelfSigned`, `Status`, `RootCAType`,
//! `Services`, `IISServices`, `PrivateKeyExportable` and `Identity`; the enums as class records
//! with the one member `value__`, in place; `CertData`, a certificate store element
//! (`{u32 id, u32 encoding, u32 length, bytes}` properties, the DER as property 32), written
//! after the root as an array of bytes; `IISServices`, a `List<IisService>` whose items are
//! class records (the later ones ClassWithId) behind a library record for `System`; and, for a
//! signed blob (serialization payload signing), `#sig#`, the length and 32 bytes of signature.
//!
//! The fixtures with SerializationData (tests/fixtures/clixml/) are written by this module:
//! `HYBRIDTLS_BLESS=1 cargo test --test nrbf` writes them again (tests/nrbf.rs).
#![allow(dead_code)]

use base64::Engine;
use sha2::{Digest, Sha256};

const MANAGEMENT: &str =
    "Microsoft.Exchange.Management, Version=15.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35";
const SYSTEM: &str = "System, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089";
const TASKS: &str = "Microsoft.Exchange.Management.SystemConfigurationTasks";

/// What one certificate's blob says.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub identity: String,
    pub friendly_name: Option<String>,
    /// Whether the store element links a private key (the key provider property).
    pub has_key: bool,
    pub self_signed: bool,
    pub status: i32,
    pub root_ca_type: i32,
    pub services: i32,
    pub private_key_exportable: bool,
    /// `IIS://SERVER/W3SVC/1`, one per site the certificate is bound to.
    pub iis_sites: Vec<String>,
    pub signed: bool,
}

#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, byte: u8) -> &mut Self {
        self.0.push(byte);
        self
    }
    fn i32(&mut self, n: i32) -> &mut Self {
        self.0.extend_from_slice(&n.to_le_bytes());
        self
    }
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(bytes);
        self
    }
    /// A LengthPrefixedString: 7-bit encoded length, UTF-8.
    fn string(&mut self, text: &str) -> &mut Self {
        let mut n = text.len();
        loop {
            let low = (n & 0x7F) as u8;
            n >>= 7;
            self.u8(if n > 0 { low | 0x80 } else { low });
            if n == 0 {
                break;
            }
        }
        self.bytes(text.as_bytes())
    }
    fn library(&mut self, id: i32, name: &str) -> &mut Self {
        self.u8(12).i32(id).string(name)
    }
    /// A ClassWithMembersAndTypes for an enum, in place: `value__`, an Int32.
    fn enumeration(&mut self, id: i32, name: &str, value: i32) -> &mut Self {
        self.u8(5)
            .i32(id)
            .string(&format!("{TASKS}.{name}"))
            .i32(1)
            .string("value__");
        self.u8(0).u8(8).i32(2).i32(value)
    }
    fn string_object(&mut self, id: i32, text: &str) -> &mut Self {
        self.u8(6).i32(id).string(text)
    }
}

/// A certificate store element as `X509Certificate.Export(SerializedCert)` writes it.
fn store_element(certificate: &Certificate) -> Vec<u8> {
    let mut properties: Vec<(u32, Vec<u8>)> = Vec::new();
    if let Some(name) = &certificate.friendly_name {
        let utf16 = name
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        properties.push((11, utf16));
    }
    if certificate.has_key {
        // CRYPT_KEY_PROV_INFO as serialized: offsets to the container and provider names,
        // provider type, flags, no parameters, key spec; then the two names.
        let container: Vec<u8> = "te-hybridtls-fixture"
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        let provider: Vec<u8> = "Microsoft Software Key Storage Provider"
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut info = Vec::new();
        for word in [28, 28 + container.len() as u32, 0, 0, 0, 0, 2] {
            info.extend_from_slice(&word.to_le_bytes());
        }
        info.extend_from_slice(&container);
        info.extend_from_slice(&provider);
        properties.push((2, info));
    }
    properties.push((3, sha1::Sha1::digest(&certificate.der).to_vec()));
    properties.push((32, certificate.der.clone()));
    let mut element = Vec::new();
    for (id, value) in properties {
        element.extend_from_slice(&id.to_le_bytes());
        element.extend_from_slice(&1u32.to_le_bytes());
        element.extend_from_slice(&(value.len() as u32).to_le_bytes());
        element.extend_from_slice(&value);
    }
    element
}

/// The blob: the stream, signed or not.
pub fn serialization_data(certificate: &Certificate) -> Vec<u8> {
    let mut w = Writer::default();
    // SerializationHeader: root 1, header -1, version 1.0.
    w.u8(0).i32(1).i32(-1).i32(1).i32(0);
    w.library(2, MANAGEMENT);
    let members = [
        "CertData",
        "SelfSigned",
        "Status",
        "RootCAType",
        "Services",
        "IISServices",
        "PrivateKeyExportable",
        "Identity",
    ];
    w.u8(5)
        .i32(1)
        .string(&format!("{TASKS}.ExchangeCertificate"))
        .i32(members.len() as i32);
    for member in members {
        w.string(member);
    }
    // PrimitiveArray, Primitive, Class x 3, SystemClass, Primitive, String.
    w.bytes(&[7, 0, 4, 4, 4, 3, 0, 1]);
    w.u8(2).u8(1);
    for name in ["CertificateStatus", "CertificateAuthorityType", "AllowedServices"] {
        w.string(&format!("{TASKS}.{name}")).i32(2);
    }
    let list = format!("System.Collections.Generic.List`1[[{TASKS}.IisService, {MANAGEMENT}]]");
    w.string(&list).u8(1).i32(2);
    // The values: CertData a reference to the array written after the root.
    w.u8(9).i32(3);
    w.u8(u8::from(certificate.self_signed));
    w.enumeration(-4, "CertificateStatus", certificate.status);
    w.enumeration(-5, "CertificateAuthorityType", certificate.root_ca_type);
    w.enumeration(-6, "AllowedServices", certificate.services);
    w.u8(9).i32(7);
    w.u8(u8::from(certificate.private_key_exportable));
    w.string_object(8, &certificate.identity);
    // CertData: ArraySinglePrimitive of Byte.
    let element = store_element(certificate);
    w.u8(15).i32(3).i32(element.len() as i32).u8(2).bytes(&element);
    // IISServices: SystemClassWithMembersAndTypes List`1 (_items, _size, _version).
    w.u8(4).i32(7).string(&list).i32(3);
    w.string("_items").string("_size").string("_version");
    w.bytes(&[4, 0, 0])
        .string(&format!("{TASKS}.IisService[]"))
        .i32(2)
        .u8(8)
        .u8(8);
    let sites = &certificate.iis_sites;
    w.u8(9).i32(9).i32(sites.len() as i32).i32(1);
    // _items: a BinaryArray, single, rank 1, of the class IisService; the list's spare
    // capacity (4 at least, doubling) nulls.
    let capacity = if sites.is_empty() {
        0
    } else {
        sites.len().next_power_of_two().max(4)
    };
    w.u8(7).i32(9).u8(0).i32(1).i32(capacity as i32).u8(4);
    w.string(&format!("{TASKS}.IisService")).i32(2);
    let first_site = 10;
    for index in 0..sites.len() {
        w.u8(9).i32(first_site + index as i32);
    }
    if capacity > sites.len() {
        w.u8(13).u8((capacity - sites.len()) as u8);
    }
    if !sites.is_empty() {
        w.library(12, SYSTEM);
    }
    let (mut next_id, mut url_validation) = (100, None);
    for (index, site) in sites.iter().enumerate() {
        let id = first_site + index as i32;
        if index == 0 {
            let members = [
                "serviceName",
                "internalUrl",
                "internalUrlValid",
                "externalUrl",
                "externalUrlValid",
            ];
            w.u8(5)
                .i32(id)
                .string(&format!("{TASKS}.IisService"))
                .i32(members.len() as i32);
            for member in members {
                w.string(member);
            }
            w.bytes(&[1, 4, 4, 4, 4]);
            w.string("System.Uri").i32(12);
            w.string(&format!("{TASKS}.UrlValidation")).i32(2);
            w.string("System.Uri").i32(12);
            w.string(&format!("{TASKS}.UrlValidation")).i32(2);
            w.i32(2);
        } else {
            w.u8(1).i32(id).i32(first_site);
        }
        // serviceName; internalUrl null, internalUrlValid (the first UrlValidation defines the
        // class, the others name it); externalUrl null, externalUrlValid.
        w.string_object(next_id, site);
        w.u8(10);
        match url_validation {
            None => {
                w.enumeration(-(next_id + 1), "UrlValidation", 0);
                url_validation = Some(-(next_id + 1));
            }
            Some(class) => {
                w.u8(1).i32(-(next_id + 1)).i32(class).i32(0);
            }
        }
        w.u8(10);
        w.u8(1)
            .i32(-(next_id + 2))
            .i32(url_validation.unwrap_or_default())
            .i32(0);
        next_id += 3;
    }
    w.u8(11);
    let stream = w.0;
    if !certificate.signed {
        return stream;
    }
    // Serialization payload signing: `#sig#`, the stream's length, the stream, a signature
    // (here a SHA-256 of the stream: only its length is like the server's).
    let mut blob = b"#sig#".to_vec();
    blob.extend_from_slice(&(stream.len() as u32).to_le_bytes());
    blob.extend_from_slice(&stream);
    blob.extend_from_slice(&Sha256::digest(&stream));
    blob
}

/// One Get-ExchangeCertificate object as `Export-Clixml` writes it in the Exchange Management
/// Shell: the type names, `ToString`, `Props` with only `RawData`, and `MS` with the remote
/// session's properties and the blob. `ref_id` numbers the object; the first one defines the
/// type names (`TN`), the others refer to them (`TNRef`).
pub fn clixml_object(
    certificate: &Certificate,
    ref_id: usize,
    computer: &str,
    subject: &str,
    thumbprint: &str,
) -> String {
    let base64 = base64::engine::general_purpose::STANDARD;
    let types = if ref_id == 0 {
        format!(
            "    <TN RefId=\"0\">\r\n      <T>{TASKS}.ExchangeCertificate</T>\r\n      <T>System.Security.Cryptography.X509Certificates.X509Certificate2</T>\r\n      <T>System.Security.Cryptography.X509Certificates.X509Certificate</T>\r\n      <T>System.Object</T>\r\n    </TN>\r\n"
        )
    } else {
        "    <TNRef RefId=\"0\" />\r\n".to_owned()
    };
    format!(
        "  <Obj RefId=\"{ref_id}\">\r\n{types}    <ToString>[Subject]_x000D__x000A_  {subject}_x000D__x000A__x000D__x000A_[Thumbprint]_x000D__x000A_  {thumbprint}_x000D__x000A_</ToString>\r\n    <Props>\r\n      <BA N=\"RawData\">{}</BA>\r\n    </Props>\r\n    <MS>\r\n      <S N=\"PSComputerName\">{computer}</S>\r\n      <G N=\"RunspaceId\">0f5d3c1e-7a2b-4c6d-9e8f-1a2b3c4d5e6f</G>\r\n      <B N=\"PSShowComputerName\">false</B>\r\n      <BA N=\"SerializationData\">{}</BA>\r\n    </MS>\r\n  </Obj>\r\n",
        base64.encode(&certificate.der),
        base64.encode(serialization_data(certificate)),
    )
}

/// A whole `Export-Clixml` document of `objects` (from [`clixml_object`]).
pub fn clixml_document(objects: &[String]) -> String {
    format!(
        "<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\">\r\n{}</Objs>",
        objects.concat()
    )
}
