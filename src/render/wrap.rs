//! Folding text to a width: the text plan on a terminal (so that a long evidence line does not
//! run past the window and break in the middle of a word), and the lines of the boxes of the
//! HTML report's diagram, which SVG does not wrap.

/// The labels after which a folded line hangs, so that its continuation lines stand under the
/// value and not under the label.
const LABELS: &[&str] = &[
    "evidence: ",
    "presents: ",
    "protocol log: ",
    "fix (manual): ",
    "fix: ",
    "PS> ",
    "--> ",
];

/// Folds every line of `text` wider than `width` columns (colour codes take none, a wide
/// character two) at spaces, with a hanging indent; see [`fold_line`].
pub fn fold(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.lines() {
        for folded in fold_line(line, width) {
            out.push_str(&folded);
            out.push('\n');
        }
    }
    out
}

/// `line` as lines of at most `width` columns, broken at spaces. Continuation lines are
/// indented as the line is, and further by its label (`evidence: `) or else by two columns. A
/// word wider than the room on a line of its own (a long path) is cut where the room ends.
pub fn fold_line(line: &str, width: usize) -> Vec<String> {
    if console::measure_text_width(line) <= width {
        return vec![line.to_owned()];
    }
    let content = line.trim_start_matches(' ');
    let indent = line.len() - content.len();
    let label = LABELS
        .iter()
        .find(|label| content.starts_with(*label))
        .map_or(2, |label| label.len());
    // At least a third of the width is left for the text.
    let hang = (indent + label).min(width - width.div_ceil(3));
    let mut lines = Vec::new();
    let mut current = " ".repeat(indent.min(hang));
    let mut used = current.len();
    let mut empty = true;
    for word in content.split(' ') {
        let word_width = console::measure_text_width(word);
        if empty && word_width == 0 {
            continue;
        }
        if !empty && used + 1 + word_width > width {
            lines.push(std::mem::replace(&mut current, " ".repeat(hang)));
            used = hang;
            empty = true;
            if word_width == 0 {
                continue;
            }
        }
        if !empty {
            current.push(' ');
            used += 1;
        }
        let mut rest = word;
        while used + console::measure_text_width(rest) > width {
            let (head, tail) = split_at_width(rest, width - used);
            current.push_str(head);
            lines.push(std::mem::replace(&mut current, " ".repeat(hang)));
            used = hang;
            rest = tail;
        }
        current.push_str(rest);
        used += console::measure_text_width(rest);
        empty = false;
    }
    if !empty {
        lines.push(current);
    }
    lines
}

/// Splits `word` where `room` columns end, never inside a colour code nor before at least one
/// character (so that a line always makes progress).
fn split_at_width(word: &str, room: usize) -> (&str, &str) {
    let mut used = 0;
    let mut chars = word.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        if c == '\x1b' {
            // A colour code (`ESC [ ... m`) takes no column.
            for (_, c) in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
            continue;
        }
        let char_width = console::measure_text_width(c.encode_utf8(&mut [0; 4]));
        if used + char_width > room && used > 0 {
            return word.split_at(index);
        }
        used += char_width;
    }
    (word, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widths(lines: &[String]) -> Vec<usize> {
        lines.iter().map(|l| console::measure_text_width(l)).collect()
    }

    #[test]
    fn a_short_line_is_left_as_it_is() {
        assert_eq!(fold_line("    fix: set it", 80), ["    fix: set it"]);
        assert_eq!(fold("a\n\nb  c\n", 10), "a\n\nb  c\n");
    }

    #[test]
    fn an_evidence_line_folds_at_spaces_and_hangs_under_its_value() {
        let line = "    evidence: examples/seed000/receive-connectors.json, record 3 (\"Default Frontend SERVER1\"): TlsCertificateName = null";
        let folded = fold_line(line, 60);
        assert_eq!(
            folded,
            [
                "    evidence: examples/seed000/receive-connectors.json,",
                "              record 3 (\"Default Frontend SERVER1\"):",
                "              TlsCertificateName = null",
            ]
        );
        assert!(widths(&folded).iter().all(|w| *w <= 60));
    }

    #[test]
    fn a_line_without_a_label_hangs_two_columns_deeper() {
        assert_eq!(
            fold_line("  one two three four", 12),
            ["  one two", "    three", "    four"]
        );
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut_and_nothing_is_lost() {
        let line = "  PS> Get-ChildItem Cert:\\LocalMachine\\My\\E5ECC21C18F61AF84A284743867858C1B722E156";
        let folded = fold_line(line, 30);
        assert!(widths(&folded).iter().all(|w| *w <= 30), "{folded:#?}");
        let joined: String = folded.concat().split_whitespace().collect();
        let expected: String = line.split_whitespace().collect();
        assert_eq!(joined, expected);
    }

    #[test]
    fn colour_codes_take_no_width_and_are_never_cut() {
        let red = "\x1b[31merror[HT001]\x1b[0m";
        let line = format!("  {red}: Hybrid receive connector has no TlsCertificateName");
        let folded = fold_line(&line, 40);
        assert_eq!(folded[0], format!("  {red}: Hybrid receive connector"));
        assert!(widths(&folded).iter().all(|w| *w <= 40), "{folded:#?}");
        let (head, tail) = split_at_width(red, 3);
        assert_eq!((head, tail), ("\x1b[31merr", "or[HT001]\x1b[0m"));
    }

    #[test]
    fn wide_characters_take_two_columns() {
        let folded = fold_line("  451 5.7.3 STARTTLS が必要です", 20);
        assert!(widths(&folded).iter().all(|w| *w <= 20), "{folded:#?}");
        assert_eq!(folded[1], "    が必要です");
    }
}
