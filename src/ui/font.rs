//! A five-row block font for the NOW SERVING banner, readable from the back of a room.

/// Rows of the big letters.
pub const HEIGHT: usize = 5;

fn glyph(c: char) -> [&'static str; HEIGHT] {
    match c {
        'A' => [" ███ ", "█   █", "█████", "█   █", "█   █"],
        'B' => ["████ ", "█   █", "████ ", "█   █", "████ "],
        'C' => [" ████", "█    ", "█    ", "█    ", " ████"],
        'D' => ["████ ", "█   █", "█   █", "█   █", "████ "],
        'F' => ["█████", "█    ", "████ ", "█    ", "█    "],
        'G' => [" ████", "█    ", "█  ██", "█   █", " ████"],
        'I' => ["███", " █ ", " █ ", " █ ", "███"],
        'K' => ["█   █", "█  █ ", "███  ", "█  █ ", "█   █"],
        'L' => ["█    ", "█    ", "█    ", "█    ", "█████"],
        'M' => ["█   █", "██ ██", "█ █ █", "█   █", "█   █"],
        'N' => ["█   █", "██  █", "█ █ █", "█  ██", "█   █"],
        'O' => [" ███ ", "█   █", "█   █", "█   █", " ███ "],
        'P' => ["████ ", "█   █", "████ ", "█    ", "█    "],
        'R' => ["████ ", "█   █", "████ ", "█  █ ", "█   █"],
        'T' => ["█████", "  █  ", "  █  ", "  █  ", "  █  "],
        'W' => ["█   █", "█   █", "█ █ █", "██ ██", "█   █"],
        'Y' => ["█   █", " █ █ ", "  █  ", "  █  ", "  █  "],
        _ => ["   ", "   ", "   ", "   ", "   "],
    }
}

/// The word in big letters, one string per row, letters one column apart.
pub fn render(word: &str) -> [String; HEIGHT] {
    let mut rows: [String; HEIGHT] = Default::default();
    for (i, c) in word.chars().enumerate() {
        for (row, part) in rows.iter_mut().zip(glyph(c.to_ascii_uppercase())) {
            if i > 0 {
                row.push(' ');
            }
            row.push_str(part);
        }
    }
    rows
}

/// Columns the word takes in big letters.
pub fn width(word: &str) -> usize {
    render(word)[0].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_banner_word_has_all_its_letters() {
        for word in ["PRIMARY", "FALLBACK", "DOWN", "WAITING"] {
            let rows = render(word);
            assert!(rows.iter().all(|r| r.chars().count() == width(word)));
            // No letter fell back to the blank glyph.
            for c in word.chars() {
                assert!(glyph(c).iter().any(|r| r.contains('█')), "{c}");
            }
        }
        assert_eq!(width("PRIMARY"), 39);
        assert_eq!(width("FALLBACK"), 47);
    }
}
