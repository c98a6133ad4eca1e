//! Byte order marks. Both readers of files sniff them: the text decoder of the exports
//! ([`crate::input::text`]) and the certificate file reader ([`crate::x509`]), which the model
//! uses and so sits below [`crate::input`]. Here, below both, BOM sniffing lives in one place
//! without making the certificate reader depend on the export reader.

/// The byte order marks PowerShell writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bom {
    Utf8,
    Utf16Le,
    Utf16Be,
}

/// Splits a leading byte order mark off `bytes`.
pub fn split_bom(bytes: &[u8]) -> (Option<Bom>, &[u8]) {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        (Some(Bom::Utf8), rest)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        (Some(Bom::Utf16Le), rest)
    } else if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        (Some(Bom::Utf16Be), rest)
    } else {
        (None, bytes)
    }
}
