//! The one PowerShell escaping function. Every value that came from an input file reaches a
//! generated script or a manual command only through [`literal`].

use crate::diagnose::ManualCommand;

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

/// Renders a manual remedy's command: the cmdlet and parameter names are hybridtls's own, and
/// every value is a [`literal`]; a boolean set to `$true` is written `-Name:$true`.
pub fn command(command: &ManualCommand) -> String {
    let mut out = command.cmdlet.to_owned();
    for (name, value) in &command.parameters {
        out.push_str(&format!(" -{name} {}", literal(value)));
    }
    for name in &command.switches {
        out.push_str(&format!(" -{name}:$true"));
    }
    out
}

/// Text hybridtls composed itself (thumbprints, digests, step descriptions, validated server
/// names) for a comment of a generated script. It is the only kind of value a template renders
/// unquoted (`{{{comments.…}}}`), so it is checked once, here: text that could end the comment or
/// break its line (`#`, `<`, `>`, a control character or a Unicode line separator) is replaced
/// by a fixed notice instead of being shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct CommentText(String);

impl CommentText {
    pub const NOT_SHOWN: &'static str = "(not shown: unusual characters)";

    pub fn new(text: impl Into<String>) -> Self {
        let text = text.into();
        let unsafe_char = |c: char| matches!(c, '#' | '<' | '>' | '\u{2028}' | '\u{2029}') || c.is_control();
        if text.chars().any(unsafe_char) {
            CommentText(Self::NOT_SHOWN.to_owned())
        } else {
            CommentText(text)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_text_refuses_what_could_end_or_break_a_comment() {
        assert_eq!(
            CommentText::new("hybridtls-EX01/server.json").0,
            "hybridtls-EX01/server.json"
        );
        assert_eq!(
            CommentText::new("Cert:\\LocalMachine\\My\\AB12").0,
            "Cert:\\LocalMachine\\My\\AB12"
        );
        for hostile in [
            "evil#>.json",
            "a\nb",
            "a\rb",
            "x<#y",
            "tab\there",
            "nul\0",
            "del\u{7f}",
            "ls\u{2028}",
        ] {
            assert_eq!(CommentText::new(hostile).0, CommentText::NOT_SHOWN, "{hostile:?}");
        }
    }

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
