//! Decoded bytes to lines: whole lines are handled straight from the chunk they arrive in;
//! only a line split between two chunks is copied, and lines are cut at
//! [`MAX_LINE_BYTES`].

use memchr::{memchr, memchr_iter};

use super::MAX_LINE_BYTES;
use super::alb_fast_path::ParsedChunk;
use super::batching::{ObjectReader, RecordBatcher};

/// Splits the decoded bytes of one object into lines for its [`RecordBatcher`].
pub(super) struct LineSplitter {
    /// The start of a line whose end has not arrived yet (at most [`MAX_LINE_BYTES`]).
    line: Vec<u8>,
    /// The full length of that line so far, cut bytes included.
    line_len: u64,
    /// Where the lines go.
    pub(super) out: RecordBatcher,
}

impl LineSplitter {
    /// Lines for `out`.
    pub(super) fn new(out: RecordBatcher) -> LineSplitter {
        LineSplitter {
            line: Vec::with_capacity(4096),
            line_len: 0,
            out,
        }
    }

    /// Takes decoded bytes: whole lines are handled straight from `data`; only a line split
    /// between two calls is copied (into `line`).
    pub(super) fn take_bytes(&mut self, data: &[u8]) {
        self.out.stats.plain_bytes += data.len() as u64;
        if let ObjectReader::Ses(buf) | ObjectReader::FirehoseErrors(buf) = &mut self.out.reader {
            buf.extend_from_slice(data);
            return;
        }
        let mut rest = data;
        if self.line_len > 0 {
            match memchr(b'\n', rest) {
                Some(i) => {
                    self.append(rest.get(..i).unwrap_or_default());
                    self.end_line();
                    rest = rest.get(i + 1..).unwrap_or_default();
                }
                None => {
                    self.append(rest);
                    return;
                }
            }
        }
        let out = &mut self.out;
        let rest = each_line(rest, |line, over| out.line(line, over));
        self.append(rest);
    }

    /// Takes a chunk of whole lines the gunzip thread has parsed (the chunk before it ended
    /// with a line end, so no line is half read here).
    pub(super) fn take_parsed(&mut self, parsed: ParsedChunk) {
        debug_assert_eq!(self.line_len, 0, "a parsed chunk after a whole line");
        self.out.take_parsed(parsed);
    }

    fn append(&mut self, part: &[u8]) {
        self.line_len += part.len() as u64;
        let room = MAX_LINE_BYTES.saturating_sub(self.line.len());
        self.line
            .extend_from_slice(part.get(..part.len().min(room)).unwrap_or_default());
    }

    fn end_line(&mut self) {
        let over = (self.line_len > self.line.len() as u64).then_some(self.line_len);
        self.out.line(&self.line, over);
        self.line.clear();
        self.line_len = 0;
    }

    /// The object has ended: its last line (if it had no line end) and the reader's end.
    pub(super) fn finish(&mut self) {
        if self.line_len > 0 {
            self.end_line();
        }
        self.out.finish();
    }
}

/// Calls `line` for each line of `data` that ends there, without its `\n` (cut to
/// [`MAX_LINE_BYTES`], with its full length as the second argument when cut); returns the
/// bytes after the last line end.
pub(super) fn each_line(data: &[u8], mut line: impl FnMut(&[u8], Option<u64>)) -> &[u8] {
    let mut start = 0;
    for end in memchr_iter(b'\n', data) {
        let whole = data.get(start..end).unwrap_or_default();
        start = end + 1;
        match whole.get(..MAX_LINE_BYTES) {
            Some(cut) if whole.len() > MAX_LINE_BYTES => line(cut, Some(whole.len() as u64)),
            _ => line(whole, None),
        }
    }
    data.get(start..).unwrap_or_default()
}
