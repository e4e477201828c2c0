//! Escaping for HTML, SVG and XML text and attribute values. Every string that comes from a
//! history or a check report goes through [`esc`] before it reaches markup.

/// Escape text for HTML/SVG element content and attribute values (XSS-safe in both).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0; show them as U+FFFD.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Escape and cut long text to `max` characters (values can be huge).
pub fn esc_short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        esc(s)
    } else {
        let cut: String = s.chars().take(max).collect();
        esc(&format!("{cut}…"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn esc_neutralises_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert('x')</script> & "q""#),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(esc("a\u{1}b"), "a\u{FFFD}b");
    }
}
