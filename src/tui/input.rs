//! A single-line text input: the text and a cursor counted in chars. Owns editing only; it never
//! decides what a key does (the keymap does) and never renders.

use crate::domain::text;

/// The most characters one input holds: enough for any field a contact keeps in one line
/// (see [`crate::domain::limits`]) and a long log summary, small enough that every edit and
/// redraw stays instant. A longer paste is cut here and the status line says so.
pub const MAX_CHARS: usize = 10_000;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextInput {
    text: String,
    /// Cursor position in chars, `0..=len`.
    cursor: usize,
}

impl TextInput {
    pub fn new(initial: &str) -> Self {
        TextInput {
            text: initial.to_string(),
            cursor: initial.chars().count(),
        }
    }
    pub fn text(&self) -> &str {
        &self.text
    }
    pub fn cursor(&self) -> usize {
        self.cursor
    }
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map_or(self.text.len(), |(i, _)| i)
    }
    pub fn insert(&mut self, c: char) {
        if c.is_control() || self.is_full() {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }
    /// Inserts pasted text as one line: control characters are dropped, newlines become spaces.
    /// One splice, linear in the paste (inserting char by char was quadratic: 200k characters
    /// froze the interface for minutes). The field stops at [`MAX_CHARS`]; returns whether the
    /// paste was cut short, so the caller can say so.
    pub fn paste(&mut self, pasted: &str) -> bool {
        let room = MAX_CHARS.saturating_sub(self.text.chars().count());
        // Clean a bounded prefix only: cleaning never lengthens text, so this prefix holds
        // everything that can fit (plus slack for dropped characters).
        let bound = pasted
            .char_indices()
            .nth(room.saturating_mul(4).max(64))
            .map_or(pasted.len(), |(i, _)| i);
        let flat: String = pasted[..bound]
            .chars()
            .map(|c| {
                if c == '\n' || c == '\r' || c == '\t' {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        let clean = text::clean_line(&flat);
        let mut cut = bound < pasted.len();
        let fit = match clean.char_indices().nth(room) {
            Some((i, _)) => {
                cut = true;
                &clean[..i]
            }
            None => clean.as_str(),
        };
        let at = self.byte_at(self.cursor);
        self.text.insert_str(at, fit);
        self.cursor += fit.chars().count();
        cut
    }
    /// Whether the field is full (typing more does nothing).
    pub fn is_full(&self) -> bool {
        self.text.chars().count() >= MAX_CHARS
    }
    pub fn delete_backward(&mut self) {
        if self.cursor == 0 {
            return;
        }
        let start = self.byte_at(self.cursor - 1);
        let end = self.byte_at(self.cursor);
        self.text.replace_range(start..end, "");
        self.cursor -= 1;
    }
    pub fn delete_forward(&mut self) {
        if self.cursor >= self.text.chars().count() {
            return;
        }
        let start = self.byte_at(self.cursor);
        let end = self.byte_at(self.cursor + 1);
        self.text.replace_range(start..end, "");
    }
    pub fn delete_word_backward(&mut self) {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1].is_whitespace() {
            start -= 1;
        }
        while start > 0 && !chars[start - 1].is_whitespace() {
            start -= 1;
        }
        let (a, b) = (self.byte_at(start), self.byte_at(self.cursor));
        self.text.replace_range(a..b, "");
        self.cursor = start;
    }
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }
    pub fn home(&mut self) {
        self.cursor = 0;
    }
    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }
    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_at_the_cursor_by_char() {
        let mut input = TextInput::new("Đức");
        input.left();
        input.insert('x');
        assert_eq!(input.text(), "Đứxc");
        input.delete_backward();
        input.delete_forward();
        assert_eq!(input.text(), "Đứ");
        assert!(!input.paste("a\nb\u{1b}[2J"));
        assert_eq!(input.text(), "Đứa b[2J");
        input.delete_word_backward();
        assert_eq!(input.text(), "Đứa ");
    }

    #[test]
    fn a_huge_paste_is_cut_at_the_limit_in_one_splice() {
        let mut input = TextInput::new("ab");
        input.left();
        assert!(input.paste(&"x\u{1b}".repeat(200_000)));
        assert_eq!(input.text().chars().count(), MAX_CHARS);
        assert!(input.text().starts_with('a') && input.text().ends_with('b'));
        assert_eq!(input.cursor(), MAX_CHARS - 1);
        input.insert('y');
        assert_eq!(input.text().chars().count(), MAX_CHARS);
        assert!(input.paste("z"));
    }
}
