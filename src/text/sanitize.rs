//! Untrusted text (model replies, error bodies, header values, a record's lines) made safe to
//! print, in one place for every output.
//!
//! Nothing a model or a proxy sends may reach the terminal as a control: escape sequences are
//! removed whole, other control and bidirectional-override characters are dropped, line breaks
//! and tabs become spaces, runs of spaces collapse. Then every API key the process holds is
//! blanked out (a server may echo the key it was sent, even split by invisible characters that
//! the first step drops), and only then is the result cut to a length, so a cut never leaves
//! part of a key behind.

use crate::sys::secret::redact_known;

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// C1 forms of CSI, OSC, DCS, SOS, PM and APC.
const C1_CSI: char = '\u{9b}';
const C1_STRINGS: [char; 5] = ['\u{9d}', '\u{90}', '\u{98}', '\u{9e}', '\u{9f}'];
const C1_ST: char = '\u{9c}';

/// Returns `text` without controls and without any key the process holds, on one line, at
/// most `max_chars` characters long (an ellipsis marks a cut).
pub fn clean(text: &str, max_chars: usize) -> String {
    // Cut first at a bound far above the length kept (a 100 MB body is not read whole), then
    // blank the keys out of what is left, then cut to the length kept.
    let stripped = strip(text, max_chars.saturating_mul(4).saturating_add(4096));
    cut(&redact_known(&stripped), max_chars)
}

/// `text` at most `max_chars` characters long, an ellipsis marking a cut: for text already
/// clean, cut again to fit a narrower place.
pub fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` without controls, on one line, at most `max_chars` characters long.
fn strip(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars * 4));
    let mut chars = text.chars().peekable();
    let mut count = 0usize;
    let mut pending_space = false;
    while let Some(c) = chars.next() {
        let visible = match c {
            ESC => {
                skip_escape(&mut chars);
                None
            }
            C1_CSI => {
                skip_csi(&mut chars);
                None
            }
            c if C1_STRINGS.contains(&c) => {
                skip_string(&mut chars);
                None
            }
            '\n' | '\r' | '\t' => {
                pending_space = true;
                None
            }
            c if c.is_whitespace() => {
                pending_space = true;
                None
            }
            c if c.is_control() || is_format_control(c) => None,
            c => Some(c),
        };
        let Some(c) = visible else { continue };
        if pending_space && count > 0 {
            if count + 1 >= max_chars {
                out.push('…');
                return out;
            }
            out.push(' ');
            count += 1;
        }
        pending_space = false;
        if count + 1 > max_chars || (count + 1 == max_chars && chars.peek().is_some()) {
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// Bidirectional overrides and isolates, and zero-width characters that can hide text.
fn is_format_control(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // Two-character sequences (ESC c, ESC 7, ESC ( B ...): drop the intermediates too.
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            chars.next();
        }
        _ => {}
    }
}

/// Control Sequence Introducer: parameters and intermediates up to a final byte in `@`..=`~`.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if c.is_control() && c != ESC {
            return;
        }
    }
}

/// OSC/DCS/SOS/PM/APC: everything up to BEL, ST (ESC \) or C1 ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | C1_ST => return,
            ESC => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    /// Asserts what cleaning each `(text, cleaned)` to at most `max` characters gives.
    #[track_caller]
    fn assert_cleans(max: usize, cases: &[(&str, &str)]) {
        for &(text, cleaned) in cases {
            assert_eq!(clean(text, max), cleaned, "{text:?}");
        }
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_cleans(
            50,
            &[
                ("Hello!", "Hello!"),
                ("héllo wörld ✓ 你好", "héllo wörld ✓ 你好"),
            ],
        );
    }

    #[test]
    fn escape_sequences_are_removed_whole() {
        assert_cleans(
            50,
            &[
                ("\u{1b}[31mred\u{1b}[0m", "red"),
                ("a\u{1b}[2J\u{1b}[Hb", "ab"),
                ("\u{1b}]0;pwned title\u{7}ok", "ok"),
                ("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\", "link"),
                ("\u{1b}Pdcs payload\u{1b}\\x", "x"),
                ("\u{9b}1;31mc1\u{9d}osc\u{9c}!", "c1!"),
                ("\u{1b}(Bx\u{1b}7y", "xy"),
            ],
        );
    }

    #[test]
    fn other_controls_are_dropped_and_breaks_become_spaces() {
        assert_cleans(
            50,
            &[
                ("a\u{7}b\u{8}c\u{7f}d\u{0}e", "abcde"),
                ("line one\r\nline\ttwo\n\n", "line one line two"),
                ("  padded   text  ", "padded text"),
                ("evil\u{202e}txt.exe\u{2066}", "eviltxt.exe"),
            ],
        );
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_cleans(5, &[("abcdefghij", "abcd…"), ("abcde", "abcde")]);
        assert_cleans(4, &[("ab cd ef", "ab …")]);
        assert_eq!(clean(&"x".repeat(10_000), 80).chars().count(), 80);
    }

    #[test]
    fn a_key_the_process_holds_is_blanked_out_even_when_split_or_cut() {
        let key = crate::sys::secret::ApiKey::new("sk-sanitize-test-2718").unwrap();
        drop(key);
        assert_eq!(
            clean("token Bearer sk-sanitize-test-2718 refused", 100),
            "token Bearer [API key] refused"
        );
        // Split by invisible characters, which cleaning drops: still blanked.
        assert_eq!(
            clean("sk-sanitize\u{200b}-test\u{1b}[0m-2718", 100),
            "[API key]"
        );
        // A cut that would fall inside the key never leaves part of it.
        let cut = clean("prefix sk-sanitize-test-2718 suffix", 20);
        assert!(!cut.contains("sk-sanitize"), "{cut}");
        assert_eq!(cut, "prefix [API key] su…");
    }

    #[test]
    fn an_unterminated_sequence_swallows_only_itself() {
        assert_cleans(50, &[("ok\u{1b}[", "ok"), ("ok\u{1b}]never ends", "ok")]);
    }
}
