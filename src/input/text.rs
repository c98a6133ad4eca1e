//! Turns the bytes of an export into text, whatever the shell wrote: UTF-16LE with BOM
//! (Windows PowerShell 5.1 `>` and `Out-File`), UTF-8 with or without BOM (`-Encoding utf8`,
//! PowerShell 7), or the ANSI code page (5.1 `Set-Content`).

use crate::bom::{split_bom, Bom};
use crate::error::{InputError, Position};

/// The encoding an input file was read with, reported so that surprises are visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16LeBom,
    Utf16BeBom,
    Utf16LeNoBom,
    Windows1252,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16LeBom => "UTF-16LE with BOM",
            Encoding::Utf16BeBom => "UTF-16BE with BOM",
            Encoding::Utf16LeNoBom => "UTF-16LE without BOM",
            Encoding::Windows1252 => "Windows-1252",
        }
    }
}

/// Decodes `bytes`; `file` is only used to name the file in errors.
pub fn decode(file: &str, bytes: &[u8]) -> Result<(String, Encoding), InputError> {
    let (text, encoding) = match split_bom(bytes) {
        (Some(Bom::Utf8), rest) => (utf8(file, rest, 3)?, Encoding::Utf8Bom),
        (Some(Bom::Utf16Le), rest) => (utf16(file, rest, 2, Utf16::Le)?, Encoding::Utf16LeBom),
        (Some(Bom::Utf16Be), rest) => (utf16(file, rest, 2, Utf16::Be)?, Encoding::Utf16BeBom),
        (None, _) if looks_like_utf16le(bytes) => (utf16(file, bytes, 0, Utf16::Le)?, Encoding::Utf16LeNoBom),
        (None, _) => match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_owned(), Encoding::Utf8),
            Err(e) if holds_utf8_characters(bytes) => return Err(almost_utf8(file, e.valid_up_to())),
            Err(_) => {
                let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
                (text.into_owned(), Encoding::Windows1252)
            }
        },
    };
    if let Some(offset) = first_binary_character(&text) {
        let character = text[offset..].chars().next().unwrap_or_default();
        return Err(binary_text(file, character, line_column(&text, offset)));
    }
    Ok((text, encoding))
}

/// The error for text that holds `character`, an [`is_binary_character`], at `position`.
pub fn binary_text(file: &str, character: char, position: Position) -> InputError {
    InputError::new(
        file,
        format!(
            "the text holds the invisible character U+{:04X}: binary data or a damaged export, not a text export",
            u32::from(character)
        ),
    )
    .at(position)
    .hint("give hybridtls the JSON written by ConvertTo-Json or by `hybridtls collect`")
}

/// The error for UTF-8 after a byte order mark that stops being valid at file byte `offset`.
pub fn invalid_utf8_after_bom(file: &str, offset: usize) -> InputError {
    InputError::new(file, "invalid UTF-8 after a UTF-8 byte order mark").at(Position::Byte(offset))
}

/// Whether `bytes` hold a character in UTF-8 that is not ASCII: the evidence that a file is
/// UTF-8, so that a byte that is not is damage, not a sign of another code page. Windows-1252
/// text almost never holds one by chance: it takes a capital letter with an accent followed
/// by a symbol such as `‚` or `©`.
pub fn holds_utf8_characters(bytes: &[u8]) -> bool {
    bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii())
}

/// The error for a file that [`holds_utf8_characters`] and is not UTF-8 from byte `offset` on.
pub fn almost_utf8(file: &str, offset: usize) -> InputError {
    InputError::new(
        file,
        "invalid UTF-8 in a file that holds UTF-8 characters elsewhere: the file is damaged (only a file without any UTF-8 character is read as Windows-1252)",
    )
    .at(Position::Byte(offset))
    .hint("export the file again; an export is never UTF-8 in one place and a code page in another")
}

/// Whether `c` marks binary data rather than text: a control character that is not
/// whitespace (NUL and the other C0 controls but tab, line feed, vertical tab, form feed and
/// carriage return; DEL; the C1 controls but NEL).
pub fn is_binary_character(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
}

/// The byte offset of the first [`is_binary_character`] in `text`. Exports are megabytes of
/// ASCII, so the bytes are tested in blocks the compiler vectorises, and a block is looked at
/// character by character only when it holds a suspect: a C0 control, DEL, or 0xC2, the lead
/// byte of every C1 control (U+0080..U+009F).
pub fn first_binary_character(text: &str) -> Option<usize> {
    const BLOCK: usize = 64;
    let bytes = text.as_bytes();
    for (number, block) in bytes.chunks(BLOCK).enumerate() {
        let suspect = block.iter().fold(false, |any, &b| {
            any | (b < 0x09) | ((b > 0x0D) & (b < 0x20)) | (b == 0x7F) | (b == 0xC2)
        });
        if !suspect {
            continue;
        }
        // A suspect may be a C1 control whose 0xC2 ends the block before: start at the
        // character boundary at or before the block.
        let mut start = number * BLOCK;
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let end = (number * BLOCK + block.len()).min(bytes.len());
        if let Some((offset, _)) = text[start..]
            .char_indices()
            .take_while(|(offset, _)| start + offset < end)
            .find(|(_, c)| is_binary_character(*c))
        {
            return Some(start + offset);
        }
    }
    None
}

/// The first character of `value` that would hide or rewrite text where hybridtls shows it (a
/// terminal, report.md, a script), with its 1-based position: C0 and C1 control characters
/// and DEL, the Unicode line and paragraph separators, and the bidirectional embedding,
/// override, isolate and mark characters. Values that hold one are refused, never shown or escaped: no
/// Exchange object name, distinguished name or FQDN contains one.
pub fn hidden_character(value: &str) -> Option<(usize, char)> {
    // Nearly every value is printable ASCII, which holds none of them: tested in blocks without
    // an early exit, which the compiler vectorises (protocol log rows are read through here).
    let printable = |block: &[u8]| block.iter().fold(true, |all, &b| all & (0x20..0x7F).contains(&b));
    if value.as_bytes().chunks(64).all(printable) {
        return None;
    }
    value
        .chars()
        .enumerate()
        .find(|(_, c)| is_hidden_character(*c))
        .map(|(index, c)| (index + 1, c))
}

/// Whether `c` is one of the characters [`hidden_character`] looks for. The bidirectional
/// marks (U+061C, U+200E, U+200F) count too: they move the text around them as the overrides
/// do.
pub fn is_hidden_character(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// The 1-based line and column (in characters) of byte `offset` of decoded `text`: a position
/// that means the same in the file whatever its encoding, unlike an offset into the decoded text.
pub fn line_column(text: &str, offset: usize) -> Position {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    Position::LineColumn {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

/// A BOM-less UTF-16LE file of ASCII-range JSON has a NUL in every odd byte.
fn looks_like_utf16le(bytes: &[u8]) -> bool {
    starts_like_utf16le(bytes, bytes.len() as u64)
}

/// [`looks_like_utf16le`] for a file of `size` bytes that starts with `head`, so a reader can
/// decide from the first bytes what a whole-file read would decide.
pub fn starts_like_utf16le(head: &[u8], size: u64) -> bool {
    size >= 4
        && size % 2 == 0
        && head
            .chunks_exact(2)
            .take(64)
            .all(|pair| pair[1] == 0 && pair[0] != 0)
}

fn utf8(file: &str, bytes: &[u8], offset: usize) -> Result<String, InputError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|e| invalid_utf8_after_bom(file, offset + e.utf8_error().valid_up_to()))
}

#[derive(Clone, Copy)]
enum Utf16 {
    Le,
    Be,
}

/// Decodes UTF-16 `bytes` that start `offset` bytes into the file (after the BOM, if any), so
/// errors give the byte position in the file itself.
fn utf16(file: &str, bytes: &[u8], offset: usize, order: Utf16) -> Result<String, InputError> {
    if bytes.len() % 2 != 0 {
        return Err(InputError::new(
            file,
            "UTF-16 text with an odd number of bytes: the file is cut off",
        )
        .at(Position::Byte(offset + bytes.len() - 1)));
    }
    // encoding_rs decodes in bulk (SIMD on ASCII); only damaged text, which it refuses, is
    // decoded again unit by unit to find where the damage is.
    let (encoding, unit): (_, fn([u8; 2]) -> u16) = match order {
        Utf16::Le => (encoding_rs::UTF_16LE, u16::from_le_bytes),
        Utf16::Be => (encoding_rs::UTF_16BE, u16::from_be_bytes),
    };
    if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        return Ok(text.into_owned());
    }
    let units = bytes.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut units_read = 0;
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok(c) => {
                units_read += c.len_utf16();
                text.push(c);
            }
            Err(_) => {
                return Err(InputError::new(file, "invalid UTF-16: unpaired surrogate")
                    .at(Position::Byte(offset + units_read * 2)))
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le_bom(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        bytes
    }

    #[test]
    fn reads_every_encoding_powershell_writes() {
        let json = "{\r\n    \"Subject\":  \"CN=Société\"\r\n}";
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(json.as_bytes());
        let ansi = encoding_rs::WINDOWS_1252.encode(json).0.into_owned();
        let nobom16: Vec<u8> = json.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let cases = [
            (utf16le_bom(json), Encoding::Utf16LeBom),
            (bom8, Encoding::Utf8Bom),
            (json.as_bytes().to_vec(), Encoding::Utf8),
            (ansi, Encoding::Windows1252),
            (nobom16, Encoding::Utf16LeNoBom),
        ];
        for (bytes, expected) in cases {
            assert_eq!(decode("f", &bytes).unwrap(), (json.to_owned(), expected));
        }
    }

    #[test]
    fn the_bulk_binary_scan_finds_what_a_character_scan_finds() {
        // Above U+00FF no character is a control, so this range covers every case.
        for code in 0..=0x2FFF_u32 {
            let Some(c) = char::from_u32(code) else { continue };
            // Every position within a block, and across a block's edge.
            for prefix in [0, 1, 62, 63, 64, 127] {
                let text = format!("{}{c}é", "a".repeat(prefix));
                let expected = text.find(is_binary_character);
                assert_eq!(
                    first_binary_character(&text),
                    expected,
                    "U+{code:04X} after {prefix}"
                );
            }
        }
        assert_eq!(first_binary_character("é\u{85}\u{86}"), Some(4));
    }

    #[test]
    fn hidden_characters_are_found_with_their_position() {
        assert_eq!(hidden_character("Default Frontend EX1"), None);
        assert_eq!(
            hidden_character("O'Brien\u{2019}s \u{201C}tenant\u{201D} é"),
            None
        );
        for (value, expected) in [
            ("a\u{0}b", '\u{0}'),
            ("a\u{1b}[31mb", '\u{1b}'),
            ("a\u{7}b", '\u{7}'),
            ("a\u{7f}b", '\u{7f}'),
            ("a\u{85}b", '\u{85}'),
            ("a\nb", '\n'),
            ("a\tb", '\t'),
            ("a\u{2028}b", '\u{2028}'),
            ("a\u{202E}b", '\u{202E}'),
            ("a\u{2066}b", '\u{2066}'),
            ("a\u{200F}b", '\u{200F}'),
            ("a\u{61C}b", '\u{61C}'),
        ] {
            assert_eq!(hidden_character(value), Some((2, expected)), "{value:?}");
        }
    }

    #[test]
    fn truncated_utf16_and_binary_are_errors_with_a_position() {
        let mut bytes = utf16le_bom("{}");
        bytes.push(b'x');
        let err = decode("f.json", &bytes).unwrap_err();
        assert!(err.message.contains("cut off"));
        assert_eq!(
            err.position,
            Some(Position::Byte(6)),
            "the odd byte is the file's last"
        );
        // An unpaired surrogate after a surrogate pair: its byte offset in the file counts
        // the BOM and both units of the pair.
        let mut bytes = utf16le_bom("{\u{1F600}");
        bytes.extend([0x00, 0xD8, b'}', 0]);
        let err = decode("f.json", &bytes).unwrap_err();
        assert!(err.message.contains("surrogate"), "{err}");
        assert_eq!(err.position, Some(Position::Byte(8)));
        let err = decode("junk.json", b"{\x00\x01\x02garbage").unwrap_err();
        assert!(err.message.contains("binary"), "{err}");
        assert!(err.message.contains("U+0000"), "{err}");
        assert_eq!(err.position, Some(Position::LineColumn { line: 1, column: 2 }));
        // The same damage after a BOM, in UTF-16 and on a later line, is at the same place.
        let err = decode("junk.json", &utf16le_bom("{\r\n  \"é\": \u{7}}")).unwrap_err();
        assert_eq!(err.position, Some(Position::LineColumn { line: 2, column: 8 }));
    }
}
