//! A single-line text input: the text and a cursor counted in chars. Owns editing only; it never
//! decides what a key does (the keymap does) and never renders.

use crate::domain::text;

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
        if c.is_control() {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }
    /// Inserts pasted text as one line: control characters are dropped, newlines become spaces.
    pub fn paste(&mut self, pasted: &str) {
        let flat: String = pasted
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
        for c in clean.chars() {
            self.insert(c);
        }
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
        input.paste("a\nb\u{1b}[2J");
        assert_eq!(input.text(), "Đứa b[2J");
        input.delete_word_backward();
        assert_eq!(input.text(), "Đứa ");
    }
}
