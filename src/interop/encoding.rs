//! Text encodings of import files: BOM sniffing (UTF-8, UTF-16 LE/BE), Windows-1252 guessing for
//! CSV from Outlook on Windows, and a streaming transcoder to UTF-8. Only bytes → UTF-8 bytes;
//! it must not interpret the text (no line splitting, no sanitising).

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

use encoding_rs::{Decoder, Encoding, UTF_8, WINDOWS_1252};

/// How much of a file is looked at before choosing its encoding.
pub const SNIFF_BYTES: usize = 64 * 1024;

const CHUNK: usize = 16 * 1024;

/// The first bytes of a file as text, for format detection: BOM honoured, else lossy UTF-8.
pub fn decode_head(head: &[u8]) -> (Cow<'_, str>, &'static Encoding) {
    match Encoding::for_bom(head) {
        Some((enc, len)) => {
            let (text, _) = enc.decode_without_bom_handling(&head[len..]);
            (text, enc)
        }
        None => (String::from_utf8_lossy(head), UTF_8),
    }
}

/// True when `bytes` are UTF-8, allowing a character cut off at the very end (a sniffed prefix).
fn is_utf8_prefix(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// What the first bytes of a file say about UTF-8: well-formed multi-byte characters versus
/// byte sequences that are not UTF-8.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Utf8Evidence {
    pub multibyte: usize,
    pub invalid: usize,
    pub first_invalid: Option<usize>,
}

impl Utf8Evidence {
    /// Counts over `bytes` (a character cut off at the very end is not held against it).
    pub fn of(bytes: &[u8]) -> Utf8Evidence {
        let mut e = Utf8Evidence::default();
        let mut rest = bytes;
        let mut offset = 0;
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    e.multibyte += text.chars().filter(|c| !c.is_ascii()).count();
                    return e;
                }
                Err(err) => {
                    let good = err.valid_up_to();
                    e.multibyte += std::str::from_utf8(&rest[..good])
                        .map_or(0, |t| t.chars().filter(|c| !c.is_ascii()).count());
                    let Some(bad) = err.error_len() else {
                        return e; // cut off at the end
                    };
                    e.invalid += 1;
                    e.first_invalid.get_or_insert(offset + good);
                    offset += good + bad;
                    rest = &rest[good + bad..];
                }
            }
        }
    }

    /// A legacy 8-bit file (Windows-1252) rather than UTF-8 with a few bad bytes: more bytes
    /// that are not UTF-8 than well-formed UTF-8 characters. A file of valid UTF-8 names with
    /// one stray byte stays UTF-8 (the stray byte is replaced and warned about, with its line).
    pub fn says_legacy(&self) -> bool {
        self.invalid > 0 && self.invalid >= self.multibyte
    }
}

/// What the first bytes of a file look like, for a message when a reader found nothing in it
/// (`it looks like UTF-16 text without a byte-order mark …`).
pub fn describe(head: &[u8]) -> String {
    if head.is_empty() {
        return "it is empty".into();
    }
    let zeros_at = |phase: usize, step: usize| {
        let slots: Vec<u8> = head.iter().skip(phase).step_by(step).copied().collect();
        slots.iter().filter(|b| **b == 0).count() * 10 >= slots.len() * 9
    };
    if head.len() >= 8 {
        if zeros_at(1, 4) && zeros_at(2, 4) && zeros_at(3, 4) && !zeros_at(0, 4) {
            return "it looks like UTF-32 (little-endian) text; convert it to UTF-8 first (iconv -f UTF-32LE -t UTF-8)".into();
        }
        if zeros_at(0, 4) && zeros_at(1, 4) && zeros_at(2, 4) && !zeros_at(3, 4) {
            return "it looks like UTF-32 (big-endian) text; convert it to UTF-8 first (iconv -f UTF-32BE -t UTF-8)".into();
        }
        if zeros_at(1, 2) && !zeros_at(0, 2) {
            return "it looks like UTF-16 (little-endian) text without a byte-order mark; import it with --encoding utf-16le".into();
        }
        if zeros_at(0, 2) && !zeros_at(1, 2) {
            return "it looks like UTF-16 (big-endian) text without a byte-order mark; import it with --encoding utf-16be".into();
        }
    }
    let control = head
        .iter()
        .filter(|b| **b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if control * 20 > head.len() || head.contains(&0) {
        return "it looks like binary data, not text".into();
    }
    "it is text, but holds no `BEGIN:VCARD` line".into()
}

/// A reader that hands out UTF-8: transcodes UTF-16 / legacy encodings with encoding_rs (bad
/// sequences become U+FFFD), and passes UTF-8 through untouched — invalid UTF-8 is left for the
/// format reader so it can warn with a line number. A leading BOM is always removed.
pub struct Utf8Reader<R> {
    inner: R,
    /// Bytes read while sniffing, not yet passed on.
    pending: Vec<u8>,
    decoder: Option<Decoder>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
    encoding: &'static Encoding,
    guessed_at: Option<usize>,
}

impl<R: Read> Utf8Reader<R> {
    /// Chooses the encoding: a BOM wins, then `explicit`, then (when `guess_legacy`) Windows-1252
    /// if the first [`SNIFF_BYTES`] are not UTF-8, else UTF-8.
    pub fn new(
        mut inner: R,
        explicit: Option<&'static Encoding>,
        guess_legacy: bool,
    ) -> io::Result<Self> {
        let mut prefix = Vec::with_capacity(4096);
        (&mut inner)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut prefix)?;
        let mut guessed_at = None;
        let (encoding, skip) = match Encoding::for_bom(&prefix) {
            Some((enc, len)) => (enc, len),
            None => match explicit {
                Some(enc) => (enc, 0),
                None if guess_legacy && !is_utf8_prefix(&prefix) => {
                    let evidence = Utf8Evidence::of(&prefix);
                    if evidence.says_legacy() {
                        guessed_at = evidence.first_invalid;
                        (WINDOWS_1252, 0)
                    } else {
                        (UTF_8, 0)
                    }
                }
                None => (UTF_8, 0),
            },
        };
        prefix.drain(..skip);
        let decoder = (encoding != UTF_8).then(|| encoding.new_decoder_without_bom_handling());
        Ok(Utf8Reader {
            inner,
            pending: prefix,
            decoder,
            out: Vec::new(),
            pos: 0,
            done: false,
            encoding,
            guessed_at,
        })
    }

    /// When the encoding was guessed as Windows-1252: the offset (in the source) of the
    /// first byte that is not UTF-8, for a warning with its line.
    pub fn guessed_legacy_at(&self) -> Option<usize> {
        self.guessed_at
    }

    /// The 1-based line of `offset` within the bytes sniffed and not yet handed out (for a
    /// [`Utf8Reader::guessed_legacy_at`] offset, before reading starts).
    pub fn sniffed_line_of(&self, offset: usize) -> u64 {
        let upto = &self.pending[..offset.min(self.pending.len())];
        upto.iter().filter(|b| **b == b'\n').count() as u64 + 1
    }

    /// The encoding chosen for the source bytes.
    pub fn encoding(&self) -> &'static Encoding {
        self.encoding
    }

    /// True when bytes are passed through as they are (the source is taken to be UTF-8).
    pub fn is_passthrough(&self) -> bool {
        self.decoder.is_none()
    }

    fn refill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.pos = 0;
        while self.out.is_empty() && !self.done {
            let input = if self.pending.is_empty() {
                let mut chunk = vec![0u8; CHUNK];
                let n = loop {
                    match self.inner.read(&mut chunk) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    }
                };
                chunk.truncate(n);
                chunk
            } else {
                std::mem::take(&mut self.pending)
            };
            let last = input.is_empty();
            match self.decoder.as_mut() {
                None => {
                    self.out = input;
                    self.done = last;
                }
                Some(decoder) => {
                    let mut consumed = 0;
                    loop {
                        let rest = &input[consumed..];
                        let cap = decoder
                            .max_utf8_buffer_length(rest.len())
                            .unwrap_or(CHUNK * 4)
                            .max(16);
                        let mut buf = vec![0u8; cap];
                        let (result, read, written, _) =
                            decoder.decode_to_utf8(rest, &mut buf, last);
                        consumed += read;
                        self.out.extend_from_slice(&buf[..written]);
                        if result == encoding_rs::CoderResult::InputEmpty {
                            break;
                        }
                    }
                    self.done = last;
                }
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Utf8Reader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.out.len() {
            self.refill()?;
        }
        Ok(&self.out[self.pos..])
    }
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

/// Decodes one value's bytes: with `charset` (a vCard `CHARSET=` label) when given and known,
/// else as UTF-8. Returns the text and whether bytes had to be replaced.
pub fn decode_value(bytes: &[u8], charset: Option<&str>) -> (String, bool) {
    if let Some(enc) = charset.and_then(|c| Encoding::for_label(c.trim().as_bytes())) {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        return (text.into_owned(), had_errors);
    }
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(s) => (s.to_string(), false),
        Cow::Owned(s) => (s, true),
    }
}

/// Reads one line (through `\n`) into `buf`, keeping at most `cap` bytes of it: the rest of an
/// absurdly long line is read and dropped so memory stays bounded. Returns `None` at EOF, else
/// whether the line was cut.
pub fn read_line_capped<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<bool>> {
    buf.clear();
    let mut cut = false;
    let mut any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(cut));
        }
        any = true;
        let (piece, used, found) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..=i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = cap.saturating_sub(buf.len());
        if piece.len() > room {
            cut = true;
            buf.extend_from_slice(&piece[..room]);
            if found && buf.last() != Some(&b'\n') {
                buf.push(b'\n');
            }
        } else {
            buf.extend_from_slice(piece);
        }
        reader.consume(used);
        if found {
            return Ok(Some(cut));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(r: impl Read) -> Vec<u8> {
        let mut v = Vec::new();
        let mut r = r;
        r.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn utf16_with_bom_becomes_utf8() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "Prénom,Nom\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let r = Utf8Reader::new(&bytes[..], None, true).unwrap();
        assert_eq!(all(r), "Prénom,Nom\n".as_bytes());
    }

    #[test]
    fn windows_1252_is_guessed_only_when_asked() {
        let bytes = b"Soci\xe9t\xe9\n";
        let r = Utf8Reader::new(&bytes[..], None, true).unwrap();
        assert_eq!(r.encoding(), WINDOWS_1252);
        assert_eq!(all(r), "Société\n".as_bytes());
        let r = Utf8Reader::new(&bytes[..], None, false).unwrap();
        assert!(r.is_passthrough());
        assert_eq!(all(r), bytes);
    }

    #[test]
    fn utf8_bom_is_removed() {
        let r = Utf8Reader::new(&b"\xEF\xBB\xBFabc"[..], None, true).unwrap();
        assert_eq!(all(r), b"abc");
    }

    #[test]
    fn long_lines_are_capped() {
        let data = format!("{}\nnext\n", "x".repeat(100));
        let mut r = data.as_bytes();
        let mut buf = Vec::new();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), Some(true));
        assert_eq!(buf, b"xxxxxxxxxx\n");
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), Some(false));
        assert_eq!(buf, b"next\n");
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), None);
    }
}
