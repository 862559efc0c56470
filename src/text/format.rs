//! Durations and numbers as people read them.

use std::time::Duration;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The innermost cause of an error as it came: reqwest's own message hides it ("error sending
/// request for url").
pub fn innermost_cause(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        message = inner.to_string();
        source = inner.source();
    }
    message
}

/// A latency: `23 ms`, `1.25 s`, `30.1 s`.
pub fn latency(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 10_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// A span of time: `8.6 s`, `3m 12s`, `2h 05m`.
pub fn span(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let s = d.as_secs();
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        let s = d.as_secs();
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// A short span for tight places: `8s`, `3m12s`, `2h05m`.
pub fn span_compact(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// An interval as given on the command line: `3s`, `500ms`, `1m 30s`.
pub fn interval(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
}

/// `text` cut or padded to exactly `columns` terminal columns: a wide character (CJK, emoji)
/// takes two, so counting characters would push what follows out of line.
pub fn fit_columns(text: &str, columns: usize) -> String {
    let mut fitted = String::with_capacity(columns);
    let mut used = 0;
    for ch in text.chars() {
        let width = UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + width > columns {
            break;
        }
        fitted.push(ch);
        used += width;
    }
    fitted.extend(std::iter::repeat_n(' ', columns - used));
    fitted
}

/// `text` in lines of at most `columns` terminal columns, broken between words; a line break
/// in `text` is a preferred break. A word too long for a line is cut with an ellipsis.
pub fn wrap_words(text: &str, columns: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let needed = if line.is_empty() { 0 } else { line.width() + 1 };
            if !line.is_empty() && needed + word.width() > columns {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            if word.width() > columns {
                line.push_str(&cut_columns(word, columns));
            } else {
                line.push_str(word);
            }
        }
        lines.push(line);
    }
    lines
}

/// A marker as people call it: `M2`, or `M2 "scaled to 0"`.
pub fn marker_name(id: u32, label: Option<&str>) -> String {
    match label {
        Some(label) => format!("M{id} \"{label}\""),
        None => format!("M{id}"),
    }
}

/// `text` wrapped at word boundaries into at most `rows` lines of `columns`; the last line
/// ends with an ellipsis when the text goes on.
pub fn wrap_within(text: &str, columns: usize, rows: usize) -> Vec<String> {
    let mut lines = wrap_words(text, columns);
    if lines.len() > rows {
        let rest = lines.split_off(rows.saturating_sub(1)).join(" ");
        if rows > 0 {
            lines.push(fit_words(&rest, columns));
        }
    }
    lines
}

/// `text` in at most `columns` terminal columns, cut after a whole word with an ellipsis when
/// it does not fit.
pub fn fit_words(text: &str, columns: usize) -> String {
    if text.width() <= columns {
        return text.to_owned();
    }
    let mut fitted = String::new();
    for word in text.split(' ') {
        let joined = if fitted.is_empty() {
            word.to_owned()
        } else {
            format!("{fitted} {word}")
        };
        if joined.width() + 1 > columns {
            break;
        }
        fitted = joined;
    }
    if fitted.is_empty() {
        return cut_columns(text, columns);
    }
    fitted.push('…');
    fitted
}

/// As many of `parts` as fit whole in `columns` terminal columns, `separator` between them,
/// most important first; the first one cut with [`fit_words`] if even it does not fit.
pub fn fit_parts(parts: &[&str], separator: &str, columns: usize) -> String {
    let mut fitted = String::new();
    for part in parts {
        let joined = if fitted.is_empty() {
            (*part).to_owned()
        } else {
            format!("{fitted}{separator}{part}")
        };
        if joined.width() > columns {
            break;
        }
        fitted = joined;
    }
    if fitted.is_empty() {
        return parts
            .first()
            .map_or_else(String::new, |p| fit_words(p, columns));
    }
    fitted
}

/// `text` cut to `columns` terminal columns, an ellipsis marking the cut.
fn cut_columns(text: &str, columns: usize) -> String {
    if text.width() <= columns {
        return text.to_owned();
    }
    let mut cut = fit_columns(text, columns.saturating_sub(1));
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// `count` and its noun, singular or plural as it needs.
pub fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Milliseconds with three decimals, for JSON.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Seconds with three decimals, for JSON.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn fitting_counts_columns_not_characters() {
        assert_eq!(super::fit_columns("llama", 7), "llama  ");
        assert_eq!(super::fit_columns("ollama/llama3", 6), "ollama");
        // Two columns each: three fit in 7, and one space fills the odd column.
        assert_eq!(super::fit_columns("模型模型", 7), "模型模 ");
        assert_eq!(super::fit_columns("", 2), "  ");
    }

    use super::*;

    #[test]
    fn cuts_fall_between_words_and_parts() {
        assert_eq!(fit_words("has not served once", 30), "has not served once");
        assert_eq!(fit_words("has not served once", 12), "has not…");
        assert_eq!(fit_words("unbreakable", 5), "unbr…");
        let parts = ["5 failed in a row", "for 4.1 s", "since #10 at 14:00:09"];
        assert_eq!(
            fit_parts(&parts, " · ", 40),
            "5 failed in a row · for 4.1 s"
        );
        assert_eq!(fit_parts(&parts, " · ", 10), "5 failed…");
        assert_eq!(fit_parts(&parts, " · ", 80), parts.join(" · "));
    }

    #[test]
    fn words_wrap_at_their_boundaries() {
        assert_eq!(
            wrap_words("drop a marker now", 8),
            ["drop a", "marker", "now"]
        );
        assert_eq!(
            wrap_words("first part\nsecond", 40),
            ["first part", "second"]
        );
        assert_eq!(
            wrap_words("a supercalifragilistic word", 6),
            ["a", "super…", "word"]
        );
        assert_eq!(wrap_words("", 5), [""]);
    }

    #[test]
    fn formats() {
        let ms = Duration::from_millis;
        assert_eq!(latency(Duration::from_micros(2_345)), "2.3 ms");
        assert_eq!(latency(ms(23)), "23 ms");
        assert_eq!(latency(ms(1250)), "1.25 s");
        assert_eq!(latency(ms(30_070)), "30.1 s");
        assert_eq!(span(ms(8_600)), "8.6 s");
        assert_eq!(span(ms(192_000)), "3m 12s");
        assert_eq!(span(ms(7_500_000)), "2h 05m");
        assert_eq!(span_compact(ms(8_600)), "8s");
        assert_eq!(span_compact(ms(192_000)), "3m12s");
        assert_eq!(interval(ms(3000)), "3s");
        assert_eq!(interval(ms(1500)), "1s 500ms");
        assert_eq!(millis(Duration::from_micros(12_345_678)), 12345.678);
        assert_eq!(seconds(ms(1234)), 1.234);
    }
}
