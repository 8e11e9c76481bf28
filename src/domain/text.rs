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
    // Imports clean every field of every record: skip normalising text that already is NFC
    // (all ASCII text is), which is nearly all of it.
    if already_nfc(input) {
        clean_line_chars(input.chars(), input.len())
    } else {
        clean_line_chars(input.nfc(), input.len())
    }
}

fn already_nfc(input: &str) -> bool {
    input.is_ascii()
        || unicode_normalization::is_nfc_quick(input.chars())
            == unicode_normalization::IsNormalized::Yes
}

fn clean_line_chars(chars: impl Iterator<Item = char>, capacity: usize) -> String {
    let mut out = String::with_capacity(capacity);
    let mut pending_space = false;
    for c in chars {
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
    let mut push = |c: char| match c {
        '\n' => out.push('\n'),
        '\t' => out.push_str("    "),
        c if is_unwanted(c) => {}
        c => out.push(c),
    };
    if already_nfc(&unified) {
        unified.chars().for_each(&mut push);
    } else {
        unified.nfc().for_each(&mut push);
    }
    out.truncate(out.trim_end().len());
    out
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
    let cleaned = clean_line(input);
    if cleaned.is_ascii() {
        return cleaned.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(cleaned.len());
    for c in cleaned
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
    {
        match c {
            'đ' | 'Đ' => out.push('d'),
            'ß' => out.push_str("ss"),
            'ø' | 'Ø' => out.push('o'),
            'æ' | 'Æ' => out.push_str("ae"),
            'ł' | 'Ł' => out.push('l'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
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
