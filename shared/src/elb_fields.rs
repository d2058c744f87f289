//! Splitting an ELB log line into fields, shared by the ALB access and connection logs, the
//! Classic ELB log and the NLB log: fields separated by one space, some enclosed in double
//! quotes, escapes decoded only when a field holds a backslash.
//!
//! The tokenizer borrows from the line and allocates only for a decoded escape; on a line
//! without a backslash it finds every field's end in one pass over a [`LineIndex`] of the
//! line, which also says whether the line can be copied into JSON strings as it is.

use std::borrow::Cow;

use memchr::memchr;

use crate::alb::Endpoint;
use crate::error::ParseError;
use crate::scan::{LineIndex, decimal, json_plain};
use crate::timestamp::parse_iso8601;
use crate::unescape::decode_hex_escapes;

/// Decodes the text of a quoted field: a backslash-escaped `\"` becomes `"`, then `\xNN`
/// escapes are decoded. Borrows when there is no backslash, which is nearly always.
pub(crate) fn unescape_quoted(text: &str) -> Cow<'_, str> {
    if memchr(b'\\', text.as_bytes()).is_none() {
        return Cow::Borrowed(text);
    }
    // `\"` first: ALB never writes it (a quote is `\x22`, a backslash `\x5c`), so doing it
    // first cannot turn a decoded `\x5c` into an escape.
    if memchr::memmem::find(text.as_bytes(), b"\\\"").is_some() {
        let unquoted = text.replace("\\\"", "\"");
        return Cow::Owned(decode_hex_escapes(&unquoted).into_owned());
    }
    decode_hex_escapes(text)
}

/// A field as the tokenizer found it: the text between the separators, without the quotes if
/// it was quoted, escapes not yet decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    /// The raw text.
    pub(crate) text: &'a str,
    /// Whether the text may hold escapes to decode: it was enclosed in double quotes and has a
    /// backslash (the tokenizer sees that on its way to the closing quote).
    pub(crate) quoted: bool,
}

impl<'a> Field<'a> {
    /// An empty field: what a field the line ends before reads as (absent).
    pub(crate) const EMPTY: Field<'static> = Field {
        text: "",
        quoted: false,
    };

    /// The raw text, `None` for `-` or empty.
    pub(crate) fn value(self) -> Option<&'a str> {
        (!self.text.is_empty() && self.text != "-").then_some(self.text)
    }

    /// The text, decoded if the field was quoted; `None` for `-` or empty.
    pub(crate) fn string(self) -> Option<Cow<'a, str>> {
        let text = self.value()?;
        Some(if self.quoted {
            unescape_quoted(text)
        } else {
            Cow::Borrowed(text)
        })
    }

    /// The text, decoded if quoted, with `-` kept (for fields whose meaning is unknown).
    pub(crate) fn decoded(self) -> Cow<'a, str> {
        if self.quoted {
            unescape_quoted(self.text)
        } else {
            Cow::Borrowed(self.text)
        }
    }

    /// A required ISO 8601 time, µs.
    pub(crate) fn time(self, name: &'static str) -> Result<i64, ParseError> {
        parse_iso8601(self.text).ok_or_else(|| ParseError::invalid(name, self.text))
    }

    /// Seconds; `-1` (and `-`) mean "not measured" and are `None`.
    pub(crate) fn seconds(self, name: &'static str) -> Result<Option<f64>, ParseError> {
        let Some(text) = self.value() else {
            return Ok(None);
        };
        if let Some(v) = decimal(text) {
            return Ok(Some(v));
        }
        match text.parse::<f64>() {
            // AWS documents only -1; any negative time is equally meaningless.
            Ok(v) if v < 0.0 => Ok(None),
            Ok(v) if v.is_finite() && text.starts_with(|c: char| c.is_ascii_digit()) => Ok(Some(v)),
            _ => Err(ParseError::invalid(name, self.text)),
        }
    }

    /// A status code, `None` for `-` or empty.
    pub(crate) fn status(self, name: &'static str) -> Result<Option<u16>, ParseError> {
        self.number(name)
    }

    /// A byte count, `None` for `-` or empty.
    pub(crate) fn count(self, name: &'static str) -> Result<Option<u64>, ParseError> {
        self.number(name)
    }

    /// A signed integer, `None` for `-` or empty.
    pub(crate) fn integer(self, name: &'static str) -> Result<Option<i32>, ParseError> {
        let Some(text) = self.value() else {
            return Ok(None);
        };
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::invalid(name, text));
        }
        text.parse()
            .map(Some)
            .map_err(|_| ParseError::invalid(name, text))
    }

    /// An unsigned number, `None` for `-` or empty.
    pub(crate) fn number<T: TryFrom<u64>>(
        self,
        name: &'static str,
    ) -> Result<Option<T>, ParseError> {
        let Some(text) = self.value() else {
            return Ok(None);
        };
        // Digits only (no sign), any number of them while the value fits.
        text.bytes()
            .try_fold(0u64, |n, b| {
                let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
                n.checked_mul(10)?.checked_add(digit)
            })
            .and_then(|n| T::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| ParseError::invalid(name, text))
    }

    /// An `ip:port`, `None` for `-`.
    pub(crate) fn endpoint(self, name: &'static str) -> Result<Option<Endpoint<'a>>, ParseError> {
        match self.value() {
            None => Ok(None),
            Some(text) => Endpoint::parse(text)
                .map(Some)
                .ok_or_else(|| ParseError::invalid(name, text)),
        }
    }
}

/// Splits a line into fields: separated by one space; a field that starts with `"` runs to the
/// next `"` that is followed by a space or the end of the line and not escaped by a backslash.
pub(crate) struct Tokens<'a> {
    line: &'a str,
    pos: usize,
    done: bool,
    /// Quoted fields split off so far: the line's `"` that are delimiters are twice this.
    quoted: usize,
    /// Whether the line has a control character or a backslash, and its `"` count, when
    /// [`Tokens::fill`] indexed it.
    indexed: Option<(bool, usize)>,
}

impl<'a> Tokens<'a> {
    /// Starts at the beginning of `line`, ignoring surrounding white space and a line end.
    pub(crate) fn new(line: &'a str) -> Tokens<'a> {
        let line = line
            .trim_start_matches(['\u{feff}', ' ', '\t'])
            .trim_end_matches([' ', '\t', '\r', '\n']);
        Tokens {
            line,
            pos: 0,
            done: line.is_empty(),
            quoted: 0,
            indexed: None,
        }
    }

    /// Whether the line has no fields at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.line.is_empty()
    }

    /// The next field, `None` once the line has ended, `Unterminated(name)` for an open quote.
    #[inline]
    pub(crate) fn next(&mut self, name: &'static str) -> Result<Option<Field<'a>>, ParseError> {
        if self.done {
            return Ok(None);
        }
        let bytes = self.line.as_bytes();
        let start = self.pos;
        if bytes.get(start) != Some(&b'"') {
            let rest = bytes.get(start..).unwrap_or_default();
            let end = match find_byte(b' ', rest) {
                Some(i) => {
                    self.pos = start + i + 1;
                    start + i
                }
                None => {
                    self.done = true;
                    bytes.len()
                }
            };
            return Ok(Some(Field {
                text: self.line.get(start..end).unwrap_or_default(),
                quoted: false,
            }));
        }
        let body = start + 1;
        let mut from = body;
        // Whether the text holds a backslash, found on the way to the closing quote, so that
        // decoding need not look for one again.
        let mut backslash = false;
        loop {
            let Some(at) = bytes
                .get(from..)
                .and_then(find_quote_or_backslash)
                .map(|i| from + i)
            else {
                self.done = true;
                return Err(ParseError::Unterminated(name));
            };
            from = at + 1;
            if bytes.get(at) == Some(&b'\\') {
                backslash = true;
                continue;
            }
            let quote = at;
            if backslash && escaped(bytes, body, quote) {
                continue;
            }
            let closes = match bytes.get(quote + 1) {
                None => {
                    self.done = true;
                    true
                }
                Some(b' ') => {
                    self.pos = quote + 2;
                    true
                }
                // A quote inside the text that was not escaped: keep looking.
                Some(_) => false,
            };
            if closes {
                self.quoted += 1;
                return Ok(Some(Field {
                    text: self.line.get(body..quote).unwrap_or_default(),
                    quoted: backslash,
                }));
            }
        }
    }
}

/// The fields after the defined ones (their meaning unknown), or `Unterminated` for an open
/// quote among them: the entry reports that only after every defined field.
pub(crate) type Extra<'a> = Result<Vec<Field<'a>>, ParseError>;

/// Splits a whole line: the defined fields into `fields` (filled where it lies: for ALB it is
/// some 800 bytes), then the ones after them, returned in order.
#[inline(always)]
pub(crate) fn split<'a, const N: usize>(
    f: &mut Tokens<'a>,
    fields: &mut Fields<'a, N>,
) -> Result<Extra<'a>, ParseError> {
    if f.is_empty() {
        return Err(ParseError::Empty);
    }
    f.fill(fields);
    let mut extra = Vec::new();
    loop {
        match f.next("extra") {
            Ok(Some(field)) => extra.push(field),
            Ok(None) => return Ok(Ok(extra)),
            Err(e) => return Ok(Err(e)),
        }
    }
}

/// The fields a [`Tokens::fill`] call split off, with how the split ended.
pub(crate) struct Fields<'a, const N: usize> {
    pub(crate) fields: [Field<'a>; N],
    /// How many fields the line had (at most `N`).
    pub(crate) found: usize,
    /// The field at `found` was opened with a quote and never closed.
    pub(crate) unterminated: bool,
    names: &'a [&'static str; N],
}

impl<'a, const N: usize> Fields<'a, N> {
    /// No fields yet; `names` name them in errors.
    pub(crate) fn new(names: &'a [&'static str; N]) -> Fields<'a, N> {
        Fields {
            fields: [Field {
                text: "",
                quoted: false,
            }; N],
            found: 0,
            unterminated: false,
            names,
        }
    }

    /// Field `i`; `MissingField` (or `Unterminated`) when the line ended before it.
    #[inline]
    pub(crate) fn required(&self, i: usize) -> Result<Field<'a>, ParseError> {
        self.optional(i)?
            .ok_or_else(|| ParseError::MissingField(self.name(i)))
    }

    /// Field `i`, `None` when the line ended before it; `Unterminated` for the field whose
    /// quote was never closed.
    #[inline]
    pub(crate) fn optional(&self, i: usize) -> Result<Option<Field<'a>>, ParseError> {
        if i < self.found {
            Ok(self.fields.get(i).copied())
        } else if i == self.found && self.unterminated {
            Err(ParseError::Unterminated(self.name(i)))
        } else {
            Ok(None)
        }
    }

    fn name(&self, i: usize) -> &'static str {
        self.names.get(i).copied().unwrap_or("extra")
    }
}

impl<'a> Tokens<'a> {
    /// Splits off the next fields into `into` (as many as it holds, fewer if the line ends),
    /// in one loop; reading them through [`Fields`] gives what as many calls of
    /// [`Tokens::next`] would, error for error.
    ///
    /// From the start of a line of at most [`LineIndex::MAX`] bytes, it finds the fields'
    /// ends in a [`LineIndex`] of the line (and keeps what that says for
    /// [`Tokens::json_plain`]); a quoted field of a line with a backslash is read by
    /// [`Tokens::next`], which knows escapes.
    pub(crate) fn fill<const N: usize>(&mut self, into: &mut Fields<'a, N>) {
        into.found = 0;
        into.unterminated = false;
        let index = if self.pos == 0 && !self.done {
            LineIndex::new(self.line.as_bytes())
        } else {
            None
        };
        let Some(ix) = index else {
            return self.fill_bytewise(into);
        };
        self.indexed = Some((ix.backslash || ix.control, ix.quote_count));
        let line = self.line;
        let bytes = line.as_bytes();
        for slot in into.fields.iter_mut() {
            if self.done {
                return;
            }
            let start = self.pos;
            if bytes.get(start) != Some(&b'"') {
                let end = match ix.next_space(start) {
                    Some(i) => {
                        self.pos = i + 1;
                        i
                    }
                    None => {
                        self.done = true;
                        bytes.len()
                    }
                };
                *slot = Field {
                    text: line.get(start..end).unwrap_or_default(),
                    quoted: false,
                };
            } else if ix.backslash {
                if !self.next_into(slot, &mut into.unterminated) {
                    return;
                }
            } else {
                // No backslash in the line, so no escaped quote: the field ends at the first
                // quote followed by a space or the end of the line.
                let mut from = start + 1;
                let quote = loop {
                    let Some(q) = ix.next_quote(from) else {
                        self.done = true;
                        into.unterminated = true;
                        return;
                    };
                    match bytes.get(q + 1) {
                        None => {
                            self.done = true;
                            break q;
                        }
                        Some(b' ') => {
                            self.pos = q + 2;
                            break q;
                        }
                        Some(_) => from = q + 1,
                    }
                };
                self.quoted += 1;
                *slot = Field {
                    text: line.get(start + 1..quote).unwrap_or_default(),
                    quoted: false,
                };
            }
            into.found += 1;
        }
    }

    /// Whether a JSON string can hold every field of the line as it is (see
    /// [`crate::scan::json_plain`]): call after the last field was split off.
    pub(crate) fn json_plain(&self) -> bool {
        match self.indexed {
            Some((escapes, quotes)) => !escapes && quotes == 2 * self.quoted,
            None => json_plain(self.line.as_bytes(), 2 * self.quoted),
        }
    }

    /// The next field into `slot` ([`Tokens::next`]); false once the line has ended, or at a
    /// quote never closed (then `unterminated` is set).
    #[inline]
    fn next_into(&mut self, slot: &mut Field<'a>, unterminated: &mut bool) -> bool {
        match self.next("") {
            Ok(Some(field)) => {
                *slot = field;
                true
            }
            Ok(None) => false,
            Err(_) => {
                *unterminated = true;
                false
            }
        }
    }

    /// [`Tokens::fill`] by calls of [`Tokens::next`].
    fn fill_bytewise<const N: usize>(&mut self, into: &mut Fields<'a, N>) {
        for slot in into.fields.iter_mut() {
            if !self.next_into(slot, &mut into.unterminated) {
                return;
            }
            into.found += 1;
        }
    }
}

/// The first `"` or `\` in `bytes`: as [`find_byte`], for two needles.
#[inline]
fn find_quote_or_backslash(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let quote = ONES * u64::from(b'"');
    let backslash = ONES * u64::from(b'\\');
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = 0;
    while i < 32 {
        let Some(Ok(chunk)) = bytes.get(i..i + 8).map(<[u8; 8]>::try_from) else {
            let rest = bytes.get(i..).unwrap_or_default();
            return rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\')
                .map(|p| i + p);
        };
        let word = u64::from_le_bytes(chunk);
        // Each half is exact at its lowest flagged byte, so the lower of the two is too.
        let (q, b) = (zero(word ^ quote), zero(word ^ backslash));
        let first = match (q, b) {
            (0, 0) => None,
            (0, b) => Some(b.trailing_zeros()),
            (q, 0) => Some(q.trailing_zeros()),
            (q, b) => Some(q.trailing_zeros().min(b.trailing_zeros())),
        };
        if let Some(bit) = first {
            return Some(i + (bit / 8) as usize);
        }
        i += 8;
    }
    memchr::memchr2(b'"', b'\\', bytes.get(i..)?).map(|p| i + p)
}

/// The first `needle` in `bytes`. Most fields are short (a status, a time, `"-"`), where
/// memchr's set-up costs more than the search, so the first 32 bytes are read eight at a time
/// as a word (SWAR); longer text (ARNs, URLs, user agents) goes to memchr.
#[inline]
fn find_byte(needle: u8, bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(needle);
    let mut i = 0;
    while i < 32 {
        let Some(Ok(chunk)) = bytes.get(i..i + 8).map(<[u8; 8]>::try_from) else {
            // Fewer than eight bytes left.
            let rest = bytes.get(i..).unwrap_or_default();
            return rest.iter().position(|&b| b == needle).map(|p| i + p);
        };
        // A zero byte in `x` is a match; the lowest flagged byte is exact (a borrow can only
        // flag bytes above a real zero).
        let x = u64::from_le_bytes(chunk) ^ pattern;
        let found = x.wrapping_sub(ONES) & !x & HIGHS;
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    memchr(needle, bytes.get(i..)?).map(|p| i + p)
}

/// Whether the byte at `at` is preceded (after `start`) by an odd number of backslashes.
fn escaped(bytes: &[u8], start: usize, at: usize) -> bool {
    let before = bytes.get(start..at).unwrap_or_default();
    before.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Names for a line's first 33 fields (the tests look at the split, not the names).
    const NAMES: [&str; 33] = [""; 33];

    proptest! {
        #[test]
        fn find_quote_or_backslash_equals_position(bytes in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b'a'), any::<u8>()], 0..80)) {
            prop_assert_eq!(
                find_quote_or_backslash(&bytes),
                bytes.iter().position(|&b| b == b'"' || b == b'\\')
            );
        }

        #[test]
        fn find_byte_equals_position(bytes in prop::collection::vec(prop_oneof![Just(b' '), Just(b'"'), any::<u8>()], 0..80)) {
            for needle in [b' ', b'"', 0, 0xff] {
                prop_assert_eq!(find_byte(needle, &bytes), bytes.iter().position(|&b| b == needle));
            }
        }

        #[test]
        fn indexed_fill_splits_as_bytewise_fill(
            parts in prop::collection::vec(prop_oneof![Just("\"".to_owned()), Just(" ".to_owned()), Just("\\".to_owned()), Just("\\\"".to_owned()), Just("-".to_owned()), "[a-z]{1,3}", "\\PC{1,3}", "[\\x00-\\x1f]"], 0..80),
        ) {
            let line = parts.concat();
            let (mut a, mut b) = (Tokens::new(&line), Tokens::new(&line));
            let (mut fa, mut fb) = (Fields::new(&NAMES), Fields::new(&NAMES));
            a.fill(&mut fa);
            b.fill_bytewise(&mut fb);
            fn seen(f: &Fields<'_, 33>) -> (Vec<(String, bool)>, bool) {
                let texts = f.fields[..f.found].iter().map(|x| (x.text.to_owned(), x.quoted)).collect();
                (texts, f.unterminated)
            }
            prop_assert_eq!(seen(&fa), seen(&fb), "{:?}", line);
            prop_assert_eq!((a.pos, a.done, a.quoted), (b.pos, b.done, b.quoted));
            // The fields after the first 33 come the same way too, and so does the verdict on
            // escapes.
            loop {
                let pair = |r: Result<Option<Field<'_>>, ParseError>| r.map(|f| f.map(|f| (f.text.to_owned(), f.quoted)));
                let (x, y) = (pair(a.next("extra")), pair(b.next("extra")));
                prop_assert_eq!(&x, &y);
                if x.map_or(true, |f| f.is_none()) {
                    break;
                }
            }
            prop_assert_eq!(a.json_plain(), b.json_plain(), "{:?}", line);
        }

    }
}
