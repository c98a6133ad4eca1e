//! Checks for generated PowerShell, for use from integration tests.
//!
//! PowerShell cannot run here, so scripts are checked two ways:
//!
//! * [`parse`] / [`assert_parses_cleanly`] / [`single_quoted_literals`] use the
//!   tree-sitter-powershell grammar (crate `tree-sitter-powershell` 0.25, `LANGUAGE`). The grammar
//!   only knows the ASCII apostrophe: its `verbatim_string_characters` token is
//!   `'` ( [^']+ | '' )* `'`, so it is blind to the typographic quotes PowerShell also accepts.
//! * [`ps_tokenize_single_quoted`] is a model of PowerShell's own scanner for single-quoted
//!   strings, written from the PowerShell source (see the facts below). It catches what the
//!   grammar cannot; [`single_quoted_literals`] runs it on every literal the grammar finds and
//!   panics when the two disagree about where the literal ends.
//!
//! Facts about PowerShell's tokenizer this module relies on, read in repository
//! PowerShell/PowerShell:
//!
//! * `src/System.Management.Automation/engine/parser/tokenizer.cs` (commit
//!   002015583a445a2796559af8f7787c3934f94b3e):
//!   - `NextToken()` sends `'\''`, `SpecialChars.QuoteSingleLeft`, `QuoteSingleRight`,
//!     `QuoteSingleBase` and `QuoteReversed` to `ScanStringLiteral()`: a single-quoted string may
//!     OPEN with any of the five characters (and `@` followed by any of them opens a verbatim
//!     here-string, which has different rules and is not modelled here).
//!   - `ScanStringLiteral(StringBuilder)` reads characters until end of input. When the character
//!     read is a single quote (`IsSingleQuote()`) it peeks at the next one: if that is not a
//!     single quote the string ends there (so it may CLOSE with any of the five, whatever opened
//!     it); if it is, the scanner reads it and appends THAT second character. So any two
//!     single-quote characters in a row stand for one character, the second of the pair: `’'`
//!     yields `'`, `'’` yields `’`. Nothing else (no `$`, no backtick) is special.
//!   - `GetChar()`/`PeekChar()` return `'\0'` past the end and `AtEof()` is
//!     `_currentIndex > _script.Length`; the loop condition `c != '\0' || !AtEof()` means an
//!     embedded NUL is ordinary content and only the real end of input leaves the string
//!     unterminated (reported as `TerminatorExpectedAtEndOfString`).
//! * `src/System.Management.Automation/engine/parser/CharTraits.cs` (commit
//!   079596eab04eed8fe3a1ab9d6e5549bf08f9dde3): `CharExtensions.IsSingleQuote` is true for
//!   U+0027 and `SpecialChars.QuoteSingleLeft` U+2018, `QuoteSingleRight` U+2019,
//!   `QuoteSingleBase` U+201A, `QuoteReversed` U+201B; `IsDoubleQuote` for U+0022, U+201C,
//!   U+201D, U+201E.
//!
//! The PowerShell scanner works on UTF-16 code units and this model on `char`s; that is the
//! same thing here because all five quotes are single BMP code units and no half of a surrogate
//! pair is ever a quote.
#![allow(dead_code)]

use tree_sitter::{Node, Parser, Tree};

/// `CharExtensions.IsSingleQuote`: U+0027 and U+2018..U+201B. Kept separate from the crate's
/// own `SINGLE_QUOTES` on purpose: the model must not share the code it checks.
pub const PS_SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// `CharExtensions.IsDoubleQuote`: U+0022 and U+201C..U+201E.
pub const PS_DOUBLE_QUOTES: [char; 4] = ['"', '\u{201C}', '\u{201D}', '\u{201E}'];

/// Grammar node kind of a single-quoted (verbatim) string token, from the grammar's
/// `node-types.json` (a child of `string_literal`).
pub const VERBATIM_STRING_KIND: &str = "verbatim_string_characters";

/// How many bad nodes [`assert_parses_cleanly`] describes before summarising the rest.
const MAX_REPORTED: usize = 8;

/// Whether PowerShell treats `c` as a single quote.
pub fn is_ps_single_quote(c: char) -> bool {
    PS_SINGLE_QUOTES.contains(&c)
}

/// Parses `script` with the tree-sitter-powershell grammar.
pub fn parse(script: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("tree-sitter-powershell is not ABI-compatible with this tree-sitter version");
    parser.parse(script, None).expect("tree-sitter returned no tree")
}

/// Panics unless the grammar parses `script` without any ERROR or MISSING node. The message
/// names every bad node with its kind, line:column (1-based, column counted in characters) and
/// byte range, and shows the source lines around it with a caret.
pub fn assert_parses_cleanly(script: &str) {
    let tree = parse(script);
    let root = tree.root_node();
    let mut bad = Vec::new();
    visit(root, |node| {
        if node.is_error() || node.is_missing() {
            bad.push(node);
        }
        true
    });
    if bad.is_empty() && !root.has_error() {
        return;
    }

    let mut msg = format!(
        "the script does not parse cleanly with tree-sitter-powershell: {} bad node(s)\n",
        bad.len()
    );
    for node in bad.iter().take(MAX_REPORTED) {
        let what = if node.is_missing() {
            format!("MISSING {:?}", node.kind())
        } else {
            node.kind().to_string()
        };
        let (line, col) = line_col(script, node.start_byte());
        msg.push_str(&format!(
            "\n{what} at {line}:{col} (bytes {}..{})",
            node.start_byte(),
            node.end_byte()
        ));
        if !node.is_missing() {
            msg.push_str(&format!(": {}", snippet(&script[node.byte_range()])));
        }
        msg.push('\n');
        msg.push_str(&context(script, node.start_byte()));
    }
    if bad.len() > MAX_REPORTED {
        msg.push_str(&format!("\n... and {} more\n", bad.len() - MAX_REPORTED));
    }
    if bad.is_empty() {
        msg.push_str("\n(the tree reports an error but no ERROR or MISSING node was found)\n");
    }
    let sexp = root.to_sexp();
    msg.push_str(&format!("\ntree: {}\n", snippet_n(&sexp, 1500)));
    panic!("{msg}");
}

/// One single-quoted string literal of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    /// Byte offset of the opening quote.
    pub start: usize,
    /// Byte offset just after the closing quote.
    pub end: usize,
    /// The literal as written, quotes included.
    pub raw: String,
    /// The string PowerShell reads from it.
    pub value: String,
}

/// Every single-quoted string literal (`verbatim_string_characters` node) in `script`, in source
/// order, with its value decoded by PowerShell's rule ([`ps_tokenize_single_quoted`]).
///
/// Verbatim here-strings (`verbatim_here_string_characters`, `@'` ... `'@`) are deliberately not
/// included: they follow other rules and `literal()` never produces one, so a value found in one
/// counts as outside a literal.
///
/// Panics when tree-sitter and the PowerShell model disagree about a literal: when PowerShell
/// would end it elsewhere (a typographic quote inside it, or right after it), or when a
/// single-quote character sits immediately before it (PowerShell would have opened a string
/// there already). Such a script means something other than what the grammar checked.
pub fn single_quoted_literals(script: &str) -> Vec<Literal> {
    let tree = parse(script);
    let mut found = Vec::new();
    visit(tree.root_node(), |node| {
        if node.kind() == VERBATIM_STRING_KIND && !node.is_missing() {
            found.push(decode_literal_node(script, node));
            return false;
        }
        true
    });
    found
}

fn decode_literal_node(script: &str, node: Node<'_>) -> Literal {
    let (start, end) = (node.start_byte(), node.end_byte());
    let raw = &script[start..end];
    let (line, col) = line_col(script, start);
    if let Some(before) = script[..start].chars().next_back() {
        if is_ps_single_quote(before) {
            panic!(
                "the single-quoted literal at {line}:{col} ({}) is preceded by the quote \
                 character {before:?} (U+{:04X}); PowerShell starts a string there, \
                 tree-sitter does not\n{}",
                snippet(raw),
                u32::from(before),
                context(script, start)
            );
        }
    }
    match ps_tokenize_single_quoted(script, start) {
        Some((value, ps_end)) if ps_end == end => Literal {
            start,
            end,
            raw: raw.to_string(),
            value,
        },
        other => {
            let powershell = match other {
                Some((value, ps_end)) => format!(
                    "PowerShell ends it at byte {ps_end} as {} (value {})",
                    snippet(&script[start..ps_end]),
                    snippet(&value)
                ),
                None => "PowerShell finds it unterminated (it runs to the end of the script)".to_string(),
            };
            panic!(
                "tree-sitter and PowerShell disagree about the single-quoted literal at \
                 {line}:{col}: tree-sitter reads bytes {start}..{end} {}, {powershell}\n{}",
                snippet(raw),
                context(script, start)
            );
        }
    }
}

/// Asserts that `value` reaches `script` only as single-quoted literals: at least one literal
/// must decode to exactly `value`, and (when `value` has at least 3 characters and is not all
/// whitespace) its raw text must occur nowhere outside the byte ranges of single-quoted
/// literals, comments included: a `#>` in a comment-based help block would end it.
pub fn assert_value_only_in_literals(script: &str, value: &str) {
    let literals = single_quoted_literals(script);
    if !literals.iter().any(|l| l.value == value) {
        let values: Vec<&str> = literals.iter().map(|l| l.value.as_str()).collect();
        panic!(
            "no single-quoted literal decodes to {}; the script's literals decode to {values:?}\n\
             --- script ---\n{script}",
            snippet(value)
        );
    }
    if value.chars().count() < 3 || value.trim().is_empty() {
        return;
    }
    let stray = occurrences_outside(script, value, &literals);
    if stray.is_empty() {
        return;
    }
    let mut msg = format!(
        "the value {} occurs {} time(s) outside single-quoted literals (in code, a comment or a \
         here-string):\n",
        snippet(value),
        stray.len()
    );
    for at in stray.iter().take(MAX_REPORTED) {
        let (line, col) = line_col(script, *at);
        msg.push_str(&format!(
            "\nat {line}:{col} (byte {at})\n{}",
            context(script, *at)
        ));
    }
    panic!("{msg}");
}

/// Byte offsets of every occurrence (overlapping ones included) of `value` in `script` that is
/// not entirely inside one of `literals`.
fn occurrences_outside(script: &str, value: &str, literals: &[Literal]) -> Vec<usize> {
    let mut stray = Vec::new();
    let mut from = 0;
    while let Some(i) = script[from..].find(value) {
        let at = from + i;
        let inside = literals
            .iter()
            .any(|l| l.start <= at && at + value.len() <= l.end);
        if !inside {
            stray.push(at);
        }
        // Step one character, not the whole match, so overlapping occurrences are seen too.
        from = at + script[at..].chars().next().map_or(1, char::len_utf8);
    }
    stray
}

/// Model of PowerShell's `ScanStringLiteral`: `src[start..]` must begin with one of the five
/// single-quote characters. Returns the string's value and the byte offset just after its
/// closing quote, or `None` when the input ends before the string does.
///
/// Rule (see the module docs): after the opening quote, any single-quote character followed by
/// another one stands for the second of the two; a single-quote character followed by anything
/// else, or by the end of input, closes the string. Every other character, NUL included, is
/// taken as it is.
pub fn ps_tokenize_single_quoted(src: &str, start: usize) -> Option<(String, usize)> {
    let rest = src.get(start..).unwrap_or_else(|| {
        panic!(
            "byte {start} is not a character boundary of the source ({} bytes)",
            src.len()
        )
    });
    let mut chars = rest.char_indices().peekable();
    match chars.next() {
        Some((_, open)) if is_ps_single_quote(open) => {}
        other => panic!(
            "ps_tokenize_single_quoted: byte {start} holds {:?}, not one of the five single quotes",
            other.map(|(_, c)| c)
        ),
    }
    let mut value = String::new();
    while let Some((offset, c)) = chars.next() {
        if !is_ps_single_quote(c) {
            value.push(c);
            continue;
        }
        match chars.peek() {
            // A pair: the first quote escapes, the second is the content.
            Some(&(_, second)) if is_ps_single_quote(second) => {
                value.push(second);
                chars.next();
            }
            // A lone quote closes the string.
            _ => return Some((value, start + offset + c.len_utf8())),
        }
    }
    None
}

/// Pre-order walk of the subtree at `root`; `f` returns whether to descend into the node.
fn visit<'t>(root: Node<'t>, mut f: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = root.walk();
    loop {
        if f(cursor.node()) && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at`. Lines are counted at `\n`, like
/// tree-sitter does.
fn line_col(script: &str, at: usize) -> (usize, usize) {
    let before = prefix(script, at);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The longest prefix of `script` ending at or before byte `at` on a character boundary.
fn prefix(script: &str, at: usize) -> &str {
    let mut end = at.min(script.len());
    while !script.is_char_boundary(end) {
        end -= 1;
    }
    &script[..end]
}

/// The two lines before and after the one holding byte `at`, numbered, with a caret under `at`.
fn context(script: &str, at: usize) -> String {
    let (line, _) = line_col(script, at);
    let before = prefix(script, at);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let lines: Vec<&str> = script.split('\n').collect();
    let first = line.saturating_sub(3);
    let last = (line + 2).min(lines.len());
    let mut out = String::new();
    for (i, text) in lines.iter().enumerate().take(last).skip(first) {
        let number = i + 1;
        let marker = if number == line { '>' } else { ' ' };
        let text = text.strip_suffix('\r').unwrap_or(text);
        out.push_str(&format!("{marker} {number:>5} | {}\n", printable(text)));
        if number == line {
            let pad: String = printable(&before[line_start..])
                .chars()
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("  {:>5} | {pad}^\n", ""));
        }
    }
    out
}

/// `text` with control characters other than tab escaped, so a stray CR or escape sequence in a
/// value cannot garble the report.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\t' {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn snippet(text: &str) -> String {
    snippet_n(text, 120)
}

/// `text` Debug-quoted, cut to about `max` characters.
fn snippet_n(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(max).collect();
        format!("{cut:?}... ({} chars in all)", text.chars().count())
    }
}
