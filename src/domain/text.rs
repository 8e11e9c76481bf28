//! The one sanitiser: cleans user text on the way in and makes any survivor visible on the way
//! out. Nothing else in rolo decides what a "safe" string is.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Characters that reorder text on screen (Trojan-Source style spoofing); never stored.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn is_unwanted(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || c == '\u{FEFF}'
}

/// A single-line field: NFC, no control characters (tabs and newlines become spaces), runs of
/// whitespace collapsed, trimmed.
pub fn clean_line(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    for c in input.nfc() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if is_unwanted(c) {
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// A multi-line note: NFC, `\r\n` and `\r` become `\n`, tabs become four spaces, every other
/// control character is dropped, trailing whitespace trimmed.
pub fn clean_multiline(input: &str) -> String {
    let unified = input.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unified.len());
    for c in unified.nfc() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push_str("    "),
            c if is_unwanted(c) => {}
            c => out.push(c),
        }
    }
    out.trim_end().to_string()
}

/// Makes every control character visible (`ESC` → `␛`, `DEL` → `␡`, C1 → `�`) so stored or
/// imported text can never drive the terminal. Newlines survive only when `keep_newlines`.
pub fn visible(input: &str, keep_newlines: bool) -> Cow<'_, str> {
    if !input
        .chars()
        .any(|c| is_unwanted(c) && !(keep_newlines && c == '\n'))
    {
        return Cow::Borrowed(input);
    }
    Cow::Owned(
        input
            .chars()
            .map(|c| match c {
                '\n' if keep_newlines => '\n',
                c @ '\0'..='\u{1F}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{FFFD}'),
                '\u{7F}' => '\u{2421}',
                c if is_unwanted(c) => '\u{FFFD}',
                c => c,
            })
            .collect(),
    )
}

/// A tag as stored: cleaned, lowercase, spaces to dashes, no leading `#`.
pub fn clean_tag(input: &str) -> String {
    clean_line(input)
        .trim_start_matches('#')
        .to_lowercase()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// The key an email is looked up by: cleaned and lowercased.
pub fn email_key(email: &str) -> String {
    clean_line(email).to_lowercase()
}

/// The key a phone number is looked up by: its digits only (a leading `+` is dropped too).
pub fn phone_key(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// The key names sort and organisations match by: decomposed, combining marks dropped, lowercased
/// (`Đức` → `duc`, `Müller` → `muller`). Search keeps its own richer folding.
pub fn sort_key(input: &str) -> String {
    clean_line(input)
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(|c| match c {
            'đ' | 'Đ' => "d".chars().collect::<Vec<_>>(),
            'ß' => "ss".chars().collect(),
            'ø' | 'Ø' => "o".chars().collect(),
            'æ' | 'Æ' => "ae".chars().collect(),
            'ł' | 'Ł' => "l".chars().collect(),
            c => c.to_lowercase().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_drops_escape_sequences_and_collapses_space() {
        assert_eq!(clean_line("  Evil\u{1b}[2J  Name\t\n"), "Evil[2J Name");
        assert_eq!(clean_line("a\u{202E}b\u{7f}c"), "abc");
    }

    #[test]
    fn line_composes_to_nfc() {
        let nfd = "Nguye\u{302}\u{303}n";
        assert_eq!(clean_line(nfd), "Nguyễn");
    }

    #[test]
    fn multiline_keeps_newlines_only() {
        assert_eq!(
            clean_multiline("one\r\ntwo\rthree\u{7}\tx  \n"),
            "one\ntwo\nthree    x"
        );
    }

    #[test]
    fn visible_shows_controls() {
        assert_eq!(visible("Evil\u{1b}[2JName", false), "Evil␛[2JName");
        assert_eq!(visible("a\nb", false), "a␊b");
        assert_eq!(visible("a\nb", true), "a\nb");
        assert!(matches!(
            visible("plain Ünïcode 漢字", false),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn keys_normalise() {
        assert_eq!(clean_tag("  #VIP Customer "), "vip-customer");
        assert_eq!(email_key(" Ana@Example.COM "), "ana@example.com");
        assert_eq!(phone_key("+1 (555) 123-4567"), "15551234567");
        assert_eq!(sort_key(" Trần Đức "), "tran duc");
        assert_eq!(sort_key("Müller"), "muller");
    }
}
