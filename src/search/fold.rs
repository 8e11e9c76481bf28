//! Accent- and case-folding of text, and mapping folded positions back to the displayed text.
//!
//! Owns the single definition of "what a search key looks like": canonical decomposition,
//! combining marks dropped, a short table of letters that do not decompose (`đ`, `ß`, `ø`, …),
//! lowercase. CJK (Han, kana, Hangul) passes through untouched. Must not know about contacts.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use unicode_normalization::char::{compose, decompose_canonical, is_combining_mark};

/// Folds `text` for matching: `"Nguyễn Văn Ánh"` → `"nguyen van anh"`, `"Straße"` → `"strasse"`.
/// NFC and NFD input fold to the same string.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_each(text, |_, c| out.push(c));
    out
}

/// Folds `text`, returning the folded string and, for every char of it, the index of the char
/// of `text` it came from (so match positions in the folded text can be shown on `text`).
pub fn fold_with_map(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len());
    fold_each(text, |orig, c| {
        out.push(c);
        map.push(orig);
    });
    (out, map)
}

/// Char indices into `display` to highlight for the free-text part of `query` (filters are
/// ignored; an unparsable query highlights nothing). Indices are sorted and unique, and count
/// chars (not bytes, not columns) of `display` exactly as given, NFC or NFD.
pub fn highlight(display: &str, query: &str) -> Vec<usize> {
    let Ok(parsed) = super::query::Query::parse(query) else {
        return Vec::new();
    };
    let (folded, map) = fold_with_map(display);
    let matcher = SkimMatcherV2::default().respect_case();
    let mut marks: Vec<usize> = Vec::new();
    for term in parsed.terms() {
        let found = matcher.fuzzy_indices(&folded, term).or_else(|| {
            // A phone-like term ("555-1234") matches the digits however they are punctuated.
            let digits: String = term.chars().filter(char::is_ascii_digit).collect();
            if digits.is_empty() || digits.len() == term.len() {
                None
            } else {
                matcher.fuzzy_indices(&folded, &digits)
            }
        });
        if let Some((_, indices)) = found {
            marks.extend(indices.into_iter().filter_map(|i| map.get(i).copied()));
        }
    }
    marks.sort_unstable();
    marks.dedup();
    marks
}

/// Han, kana, Hangul and CJK punctuation/compatibility ranges: left exactly as typed.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7FF
        | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Letters that canonical decomposition leaves alone but people type without the mark.
fn special(c: char) -> Option<&'static str> {
    Some(match c {
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'ß' | 'ẞ' => "ss",
        'ø' | 'Ø' => "o",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ł' | 'Ł' => "l",
        'þ' | 'Þ' => "th",
        'ı' => "i",
        'ħ' | 'Ħ' => "h",
        'ŧ' | 'Ŧ' => "t",
        'ŋ' | 'Ŋ' => "n",
        'ĸ' => "k",
        _ => return None,
    })
}

fn fold_each(text: &str, mut emit: impl FnMut(usize, char)) {
    // A CJK char waits here so that a following voicing mark (NFD kana) can be composed back.
    let mut pending_cjk: Option<(usize, char)> = None;
    for (orig, c) in text.chars().enumerate() {
        if let Some((at, base)) = pending_cjk {
            if is_combining_mark(c) {
                match compose(base, c) {
                    Some(composed) => pending_cjk = Some((at, composed)),
                    None => {
                        emit(at, base);
                        pending_cjk = None;
                        emit(orig, c);
                    }
                }
                continue;
            }
            emit(at, base);
            pending_cjk = None;
        }
        if c.is_ascii() {
            emit(orig, c.to_ascii_lowercase());
            continue;
        }
        if is_cjk(c) {
            pending_cjk = Some((orig, c));
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        decompose_canonical(c, |d| {
            if is_combining_mark(d) {
                return;
            }
            if let Some(replacement) = special(d) {
                replacement.chars().for_each(|r| emit(orig, r));
            } else {
                for lower in d.to_lowercase() {
                    if !is_combining_mark(lower) {
                        emit(orig, lower);
                    }
                }
            }
        });
    }
    if let Some((at, base)) = pending_cjk {
        emit(at, base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_nfc_and_nfd_fold_alike() {
        let nfc = "Nguyễn Văn Ánh";
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd(nfc).collect();
        assert_ne!(nfc, nfd);
        assert_eq!(fold(nfc), "nguyen van anh");
        assert_eq!(fold(&nfd), "nguyen van anh");
        assert_eq!(fold("Trần Đức"), "tran duc");
    }

    #[test]
    fn map_points_at_original_chars() {
        let (folded, map) = fold_with_map("Straße");
        assert_eq!(folded, "strasse");
        assert_eq!(map, vec![0, 1, 2, 3, 4, 4, 5]);
    }
}
