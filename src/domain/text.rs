//! The one sanitiser: cleans user text on the way in and makes any survivor visible on the way
//! out. Nothing else in rolo decides what a "safe" string is.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// Characters that reorder text on screen (Trojan-Source style spoofing); never stored.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Characters that draw nothing yet change what text means or how it compares: the Arabic
/// letter mark, zero-width space and word joiner, the invisible math operators, the soft
/// hyphen, the Mongolian vowel separator, interlinear annotation marks and the tag characters.
/// A name holding one looks like another and evades duplicate checks. (Zero-width joiner and
/// non-joiner are kept: emoji sequences and Persian or Indic spellings need them.)
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{2060}'..='\u{2064}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

fn is_unwanted(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || is_invisible(c) || c == '\u{FEFF}'
}

/// A serde_json formatter that writes every character [`clean_line`] would drop (C1 controls
/// such as U+009B, bidi overrides, invisible characters) as a `\uXXXX` escape: JSON output
/// stays valid and equal in meaning, but no such character reaches a terminal or a viewer raw.
/// (serde_json itself escapes only U+0000–U+001F.)
#[derive(Clone, Debug, Default)]
pub struct EscapingFormatter<F = serde_json::ser::CompactFormatter>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for EscapingFormatter<F> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(is_unwanted) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let c = rest[at..].chars().next().unwrap_or('\u{FFFD}');
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as pretty JSON with [`EscapingFormatter`].
pub fn to_safe_json_pretty(value: &impl serde::Serialize) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let formatter = EscapingFormatter(serde_json::ser::PrettyFormatter::new());
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out, formatter,
    ))?;
    // The serializer writes only UTF-8 (and the escapes are ASCII).
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A single-line field: NFC, no control characters (tabs and newlines become spaces), runs of
/// whitespace collapsed, trimmed.
pub fn clean_line(input: &str) -> String {
    // Unwanted characters go before normalising: one between a letter and a combining mark
    // (`z`, NUL, U+0301) would otherwise keep them apart, and the text stored would not be NFC
    // (cleaning it again would change it, and a lookalike would evade the duplicate checks).
    let wanted = without_unwanted(input, |c| c.is_whitespace());
    // Imports clean every field of every record: skip normalising text that already is NFC
    // (all ASCII text is), which is nearly all of it.
    if already_nfc(&wanted) {
        clean_line_chars(wanted.chars(), wanted.len())
    } else {
        clean_line_chars(wanted.nfc(), wanted.len())
    }
}

/// `input` without the characters [`is_unwanted`] names, except those `keep` keeps.
fn without_unwanted(input: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if input.chars().any(|c| is_unwanted(c) && !keep(c)) {
        Cow::Owned(
            input
                .chars()
                .filter(|c| !is_unwanted(*c) || keep(*c))
                .collect(),
        )
    } else {
        Cow::Borrowed(input)
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
    // As in [`clean_line`]: drop first, then normalise.
    let unified = without_unwanted(&unified, |c| matches!(c, '\n' | '\t')).into_owned();
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
    let line = clean_line(input).to_lowercase();
    // Lowercasing can leave text that is not NFC (`İ̱` becomes `i` + U+0307 + U+0331, marks
    // out of canonical order).
    let line = if already_nfc(&line) {
        line
    } else {
        line.nfc().collect()
    };
    // Words of nothing but `#` go too (`# #vip` is `vip`, not `#vip`): a stored tag never
    // starts with `#`, so cleaning it again leaves it as it is.
    let words = line
        .split(' ')
        .filter(|w| !w.trim_start_matches('#').is_empty());
    let mut out = String::with_capacity(line.len());
    for (i, word) in words.enumerate() {
        if i == 0 {
            out.push_str(word.trim_start_matches('#'));
        } else {
            out.push('-');
            out.push_str(word);
        }
    }
    out
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

    /// Found by the `text` fuzz target: a control character between a letter and its
    /// combining mark left the stored text un-normalised (`z` + U+0301 instead of `ź`), so a
    /// second clean changed it and the two spellings compared unequal.
    #[test]
    fn dropped_characters_do_not_block_composition() {
        assert_eq!(clean_line("z\u{0}\u{0}\u{301}"), "\u{17a}");
        assert_eq!(clean_line("e\u{200b}\u{301}"), "\u{e9}");
        assert_eq!(clean_multiline("z\u{1b}\u{301}\nx"), "\u{17a}\nx");
        let odd = "e\u{301}\u{fffd}\t\u{0}z\u{0}\u{0}\u{301}";
        assert_eq!(clean_line(&clean_line(odd)), clean_line(odd));
        assert_eq!(clean_multiline(&clean_multiline(odd)), clean_multiline(odd));
    }

    /// Found by the `text` fuzz target: `#` after a space survived, so a stored tag could
    /// start with `#` and change when cleaned again.
    #[test]
    fn tags_never_start_with_a_hash() {
        assert_eq!(clean_tag("# #vip"), "vip");
        assert_eq!(clean_tag("## ### Big Fish"), "big-fish");
        assert_eq!(clean_tag("#a #b"), "a-#b");
        assert_eq!(clean_tag(&clean_tag("# #vip")), clean_tag("# #vip"));
        assert_eq!(clean_tag("#"), "");
        // Lowercase İ is i + U+0307, which must come after U+0331 in NFC.
        assert_eq!(clean_tag("\u{130}\u{331}"), "i\u{331}\u{307}");
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
    fn invisible_and_c1_characters_are_dropped_on_the_way_in() {
        for sneaky in [
            "Ana\u{061C}Horvat",
            "Ana\u{200B}Horvat",
            "Ana\u{00AD}Horvat",
            "Ana\u{2060}Horvat",
            "Ana\u{E0041}Horvat",
            "Ana\u{009B}Horvat",
            "Ana\u{202E}Horvat",
        ] {
            assert_eq!(clean_line(sneaky), "AnaHorvat", "{sneaky:?}");
        }
        // Joiners that real spellings and emoji need stay.
        assert_eq!(clean_line("می\u{200C}خواهم"), "می\u{200C}خواهم");
        assert_eq!(clean_line("👩\u{200D}💻"), "👩\u{200D}💻");
    }

    #[test]
    fn json_output_escapes_what_a_terminal_would_act_on() {
        let json = to_safe_json_pretty(&serde_json::json!({
            "name": "a\u{009B}b\u{202E}c\u{E0041}d ok"
        }))
        .unwrap();
        assert!(
            json.contains("a\\u009bb\\u202ec\\udb40\\udc41d ok"),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], "a\u{009B}b\u{202E}c\u{E0041}d ok");
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
