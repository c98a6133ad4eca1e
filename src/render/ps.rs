//! The one PowerShell escaping function. Every value that came from an input file reaches a
//! generated script only through [`literal`].

/// Characters PowerShell's tokenizer treats as a single quote inside a single-quoted string:
/// the ASCII apostrophe and the typographic quotes U+2018..U+201B
/// (`CharExtensions.IsSingleQuote` in the PowerShell tokenizer).
pub const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// Renders `value` as one PowerShell single-quoted string literal whose value is exactly `value`.
///
/// Single-quoted strings do no `$` or backtick expansion, so the only character class that needs
/// care is the quote itself: each of the five single-quote characters is doubled, and PowerShell
/// reads a doubled quote back as one. Double quotes (including U+201C..U+201E) are inert inside a
/// single-quoted string. Newlines are kept verbatim: the script is rendered with CRLF line endings
/// from its template, never by rewriting the rendered text, so a value's own line breaks survive.
pub fn literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_wrapped_in_single_quotes() {
        assert_eq!(literal("Default Frontend EX1"), "'Default Frontend EX1'");
        assert_eq!(literal(""), "''");
    }

    #[test]
    fn every_single_quote_kind_is_doubled() {
        for q in SINGLE_QUOTES {
            assert_eq!(literal(&format!("a{q}b")), format!("'a{q}{q}b'"));
        }
        assert_eq!(literal("O'Brien’s"), "'O''Brien’’s'");
    }

    #[test]
    fn expansion_characters_and_double_quotes_are_left_alone() {
        assert_eq!(
            literal("$(Remove-Item x) `n \"“”„"),
            "'$(Remove-Item x) `n \"“”„'"
        );
    }
}
