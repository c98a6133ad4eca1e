//! `render::ps::literal` is the only way an input value enters a generated script. These tests
//! check it against two independent readers: the tree-sitter-powershell grammar, and a model of
//! PowerShell's own single-quoted string scanner (`support::powershell`), which also sees the
//! typographic quotes the grammar is blind to. They also prove the checkers can fail.

mod support;

use std::panic::{self, AssertUnwindSafe};

use hybridtls::render::ps::literal;
use proptest::prelude::*;
use support::powershell::{
    assert_parses_cleanly, assert_value_only_in_literals, parse, ps_tokenize_single_quoted,
    single_quoted_literals, PS_SINGLE_QUOTES, VERBATIM_STRING_KIND,
};

/// The escaper an author might write first: it doubles only the ASCII apostrophe.
fn naive_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Runs `f`, which must panic, and returns its panic message.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("the checker did not fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Properties

const QUOTES: &[&str] = &[
    "'", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}", "\"", "\u{201C}", "\u{201D}", "\u{201E}",
];

const POWERSHELL_SYNTAX: &[&str] = &[
    "$(Remove-Item C:\\ -Recurse)",
    "$(",
    ")",
    "${x}",
    "$x",
    "@(",
    "@'",
    "'@",
    "@\"",
    "\"@",
    "`",
    "`n",
    "`'",
    "#>",
    "<#",
    "#",
    "--%",
    ";",
    "|",
    "&",
    "{",
    "}",
];

const LINE_BREAKS: &[&str] = &["\r", "\n", "\r\n", "\t"];

const NON_ASCII: &[&str] = &[
    "é",
    "ß",
    "日本",
    "😀",
    "👩‍💻",
    "\u{A0}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{85}",
    "\u{2028}",
];

/// One fragment of a test value: plain ASCII, every quote kind, PowerShell syntax, line breaks,
/// non-ASCII text, or a control character other than NUL.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9 ]{1,8}",
        1 => "[-:,.=+*/!?%~^<>\\[\\]\\\\]{1,3}",
        4 => prop::sample::select(QUOTES).prop_map(String::from),
        3 => prop::sample::select(POWERSHELL_SYNTAX).prop_map(String::from),
        2 => prop::sample::select(LINE_BREAKS).prop_map(String::from),
        2 => prop::sample::select(NON_ASCII).prop_map(String::from),
        1 => prop_oneof![prop::char::range('\u{1}', '\u{1F}'), Just('\u{7F}')].prop_map(String::from),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..12).prop_map(|parts| parts.concat())
}

const HEAD: &str = "Set-Variable -Name x -Value ";
const TAIL: &str = "\r\nWrite-Output 'after'\r\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// PowerShell's scanner reads the literal as exactly one string, ending at its last byte,
    /// whose value is the input.
    #[test]
    fn literal_is_one_powershell_token_with_the_input_as_value(s in value()) {
        let lit = literal(&s);
        prop_assert_eq!(ps_tokenize_single_quoted(&lit, 0), Some((s.clone(), lit.len())));
    }

    /// In a script, the grammar finds exactly our literal and `'after'`, where we put them, the
    /// model agrees with their extents, and the value is nowhere else.
    #[test]
    fn literal_in_a_script_parses_cleanly_and_stays_a_literal(s in value()) {
        let lit = literal(&s);
        let script = format!("{HEAD}{lit}{TAIL}");
        assert_parses_cleanly(&script);

        let literals = single_quoted_literals(&script);
        prop_assert_eq!(literals.len(), 2, "literals: {:?}", literals);
        let ours = (HEAD.len(), HEAD.len() + lit.len());
        prop_assert_eq!((literals[0].start, literals[0].end), ours);
        prop_assert_eq!(&literals[0].value, &s);
        let after_start = ours.1 + TAIL.find('\'').unwrap();
        prop_assert_eq!((literals[1].start, literals[1].end), (after_start, after_start + "'after'".len()));
        prop_assert_eq!(&literals[1].value, "after");

        // `s` may coincide with the fixed text around it ("ite", or "e '" straddling the opening
        // quote); that is not a leak, so the raw-text check runs only when every occurrence of
        // `s` lies inside the literal we inserted (or inside 'after'). The ranges above come from
        // tree-sitter and were just checked against where we inserted them.
        let coincides = script.match_indices(s.as_str()).any(|(at, m)| {
            let inside = |(a, b): (usize, usize)| a <= at && at + m.len() <= b;
            !s.is_empty() && !inside(ours) && !inside((after_start, after_start + "'after'".len()))
        });
        if !coincides {
            assert_value_only_in_literals(&script, &s);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The PowerShell tokenizer model: typographic quotes, which tree-sitter cannot see

#[test]
fn model_reads_ascii_doubling_like_powershell() {
    assert_eq!(
        ps_tokenize_single_quoted("'it''s'", 0),
        Some(("it's".to_string(), 7))
    );
    assert_eq!(ps_tokenize_single_quoted("''", 0), Some((String::new(), 2)));
    assert_eq!(
        ps_tokenize_single_quoted("'a' 'b'", 0),
        Some(("a".to_string(), 3))
    );
    assert_eq!(
        ps_tokenize_single_quoted("x = 'a'", 4),
        Some(("a".to_string(), 7))
    );
    // `$`, backtick and double quotes are inert; NUL is content, not the end.
    assert_eq!(
        ps_tokenize_single_quoted("'$(x) `n \"“\0'", 0),
        Some(("$(x) `n \"“\0".to_string(), "'$(x) `n \"“\0'".len()))
    );
}

#[test]
fn model_reports_unterminated_strings() {
    assert_eq!(ps_tokenize_single_quoted("'abc", 0), None);
    assert_eq!(ps_tokenize_single_quoted("'abc''", 0), None);
    assert_eq!(ps_tokenize_single_quoted("'", 0), None);
    assert_eq!(ps_tokenize_single_quoted("'a’'", 0), None);
}

#[test]
fn model_opens_and_closes_with_any_single_quote_kind() {
    for open in PS_SINGLE_QUOTES {
        for close in PS_SINGLE_QUOTES {
            let src = format!("{open}abc{close} rest");
            assert_eq!(
                ps_tokenize_single_quoted(&src, 0),
                Some(("abc".to_string(), src.len() - " rest".len())),
                "{src:?}"
            );
        }
    }
}

#[test]
fn model_keeps_the_second_quote_of_any_pair() {
    for first in PS_SINGLE_QUOTES {
        for second in PS_SINGLE_QUOTES {
            let src = format!("'a{first}{second}b'");
            assert_eq!(
                ps_tokenize_single_quoted(&src, 0),
                Some((format!("a{second}b"), src.len())),
                "{src:?}"
            );
        }
    }
}

#[test]
fn typographic_quotes_round_trip_through_literal() {
    for q in PS_SINGLE_QUOTES {
        for s in [
            format!("a{q}b"),
            q.to_string(),
            format!("{q}{q}{q}"),
            format!("{q}x{q}"),
        ] {
            let lit = literal(&s);
            assert_eq!(
                ps_tokenize_single_quoted(&lit, 0),
                Some((s.clone(), lit.len())),
                "{s:?}"
            );
        }
    }
    let all: String = PS_SINGLE_QUOTES.iter().collect();
    let lit = literal(&all);
    assert_eq!(ps_tokenize_single_quoted(&lit, 0), Some((all, lit.len())));
    assert_eq!(literal("a’b"), "'a’’b'");
    assert_eq!(
        ps_tokenize_single_quoted(&literal("a’b"), 0),
        Some(("a’b".to_string(), 10))
    );
}

/// The model can fail: a naive escaper that doubles only `'` lets `’` end the string early.
#[test]
fn model_catches_the_naive_escaper() {
    let naive = naive_literal("a’b");
    assert_eq!(naive, "'a’b'");
    // PowerShell reads `'a’` and then `b'...` as code.
    assert_eq!(
        ps_tokenize_single_quoted(&naive, 0),
        Some(("a".to_string(), "'a’".len()))
    );
    for q in &PS_SINGLE_QUOTES[1..] {
        for s in [
            format!("a{q}b"),
            format!("O{q}Brien"),
            format!("x{q}; Remove-Item C:\\ #"),
        ] {
            let naive = naive_literal(&s);
            assert_ne!(
                ps_tokenize_single_quoted(&naive, 0),
                Some((s.clone(), naive.len())),
                "the naive output {naive:?} should not round-trip"
            );
        }
    }
}

/// The grammar is blind to the same bug: it sees one clean string.
#[test]
fn tree_sitter_alone_misses_the_naive_escaper_but_the_literal_check_does_not() {
    let script = format!("Write-Output {}\r\n", naive_literal("a’; Remove-Item C:\\ #"));
    assert_parses_cleanly(&script);
    let sexp = parse(&script).root_node().to_sexp();
    assert!(sexp.contains(VERBATIM_STRING_KIND), "{sexp}");

    let msg = panic_message(|| {
        single_quoted_literals(&script);
    });
    assert!(msg.contains("disagree"), "{msg}");
    assert!(msg.contains("1:14"), "{msg}");
}

/// A literal is self-delimiting only when no quote character touches it from outside: this is
/// a rule for templates, and the checkers enforce it.
#[test]
fn a_quote_right_after_a_literal_changes_its_meaning() {
    // PowerShell pairs the closing `'` with the `’` after it and reads on.
    let src = format!("{}’ rest", literal("x"));
    assert_eq!(ps_tokenize_single_quoted(&src, 0), None);

    let script = format!("Write-Output {}’\r\nWrite-Output 'after'\r\n", literal("x"));
    let msg = panic_message(|| {
        single_quoted_literals(&script);
    });
    assert!(msg.contains("disagree"), "{msg}");
}

// ---------------------------------------------------------------------------------------------
// The checkers can fail

#[test]
fn assert_parses_cleanly_accepts_a_good_script() {
    assert_parses_cleanly("Set-Variable -Name x -Value 'a''b'\r\nWrite-Output 'after'\r\n");
}

#[test]
fn assert_parses_cleanly_fails_on_a_broken_script() {
    let script = "Write-Output 'ok'\r\nif ($x {\r\n    Write-Output 'then'\r\n";
    let msg = panic_message(|| assert_parses_cleanly(script));
    assert!(msg.contains("does not parse cleanly"), "{msg}");
    assert!(msg.contains("ERROR") || msg.contains("MISSING"), "{msg}");
    assert!(
        msg.contains(">     2 | if ($x {"),
        "the report should show the bad line:\n{msg}"
    );
}

#[test]
fn assert_parses_cleanly_fails_on_an_unterminated_string() {
    let msg = panic_message(|| assert_parses_cleanly("Write-Output 'open\r\n"));
    assert!(msg.contains("ERROR") || msg.contains("MISSING"), "{msg}");
}

const VALUE: &str = "CN=mail.contoso.com #> O'Brien";

#[test]
fn assert_value_only_in_literals_accepts_a_literal() {
    let script = format!(
        "<#\r\n.SYNOPSIS\r\nFix the certificate.\r\n#>\r\n$subject = {}\r\n",
        literal(VALUE)
    );
    assert_parses_cleanly(&script);
    assert_value_only_in_literals(&script, VALUE);
}

#[test]
fn assert_value_only_in_literals_fails_when_the_value_is_in_a_comment() {
    let script = format!("# Subject: {VALUE}\r\n$subject = {}\r\n", literal(VALUE));
    let msg = panic_message(|| assert_value_only_in_literals(&script, VALUE));
    assert!(msg.contains("outside single-quoted literals"), "{msg}");
    assert!(msg.contains("at 1:12"), "{msg}");

    // In comment-based help the `#>` inside the value would end the block.
    let script = format!(
        "<#\r\n.NOTES\r\n{VALUE}\r\n#>\r\n$subject = {}\r\n",
        literal(VALUE)
    );
    let msg = panic_message(|| assert_value_only_in_literals(&script, VALUE));
    assert!(msg.contains("at 3:1"), "{msg}");
}

#[test]
fn assert_value_only_in_literals_fails_when_the_value_is_bare_code() {
    let value = "Default Frontend EX1";
    let script = format!("Get-ReceiveConnector {value}\r\n$name = {}\r\n", literal(value));
    let msg = panic_message(|| assert_value_only_in_literals(&script, value));
    assert!(msg.contains("outside single-quoted literals"), "{msg}");
}

#[test]
fn assert_value_only_in_literals_fails_when_the_value_is_in_a_double_quoted_string() {
    let value = "mail.contoso.com";
    let script = format!("Write-Host \"Fixing {value}\"\r\n$fqdn = {}\r\n", literal(value));
    let msg = panic_message(|| assert_value_only_in_literals(&script, value));
    assert!(msg.contains("outside single-quoted literals"), "{msg}");
}

#[test]
fn assert_value_only_in_literals_fails_when_no_literal_holds_the_value() {
    let msg = panic_message(|| assert_value_only_in_literals("Write-Output 'other'\r\n", "wanted"));
    assert!(msg.contains("no single-quoted literal decodes to"), "{msg}");

    // Short values are still required to be a literal, even though their raw text is not traced.
    let msg = panic_message(|| assert_value_only_in_literals("Write-Output ab\r\n", "ab"));
    assert!(msg.contains("no single-quoted literal decodes to"), "{msg}");
}
