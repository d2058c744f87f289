//! Writing a record's JSON straight from borrowed values, byte for byte what serde_json's
//! compact serializer writes for the record (held so by the property tests in `alb.rs`): the
//! ALB fast path writes this way instead of building a [`crate::record::RequestRecord`].

use std::borrow::Cow;

use crate::scan::word_needs_escape;

/// Writes one JSON object the way serde_json's compact serializer does, skipping absent
/// values as `RequestRecord`'s `skip_serializing_if` does.
pub(crate) struct JsonObject<'o> {
    pub(crate) out: &'o mut String,
    /// No value needs an escape.
    plain: bool,
}

impl<'o> JsonObject<'o> {
    /// Opens the object with the record tag, as serde writes an internally tagged enum.
    pub(crate) fn open(out: &'o mut String, kind: &str, plain: bool) -> JsonObject<'o> {
        out.push_str("{\"k\":");
        json_string(out, kind);
        JsonObject { out, plain }
    }

    /// A string value.
    #[inline(always)]
    pub(crate) fn string(&mut self, value: &str) {
        if self.plain {
            self.out.push('"');
            self.out.push_str(value);
            self.out.push('"');
        } else {
            json_string(self.out, value);
        }
    }

    /// Starts a member: `key` is `,"name":` ([`key!`]); names are short ASCII that needs no
    /// escaping.
    pub(crate) fn key(&mut self, key: &str) {
        self.out.push_str(key);
    }

    /// A string member; `key` is `,"name":"` ([`skey!`]).
    #[inline(always)]
    pub(crate) fn str(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.out.push_str(key);
            if self.plain {
                self.out.push_str(value);
                self.out.push('"');
            } else {
                json_string_rest(self.out, value);
            }
        }
    }

    pub(crate) fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        self.out.push_str(itoa::Buffer::new().format(value));
    }

    pub(crate) fn uint(&mut self, key: &str, value: Option<u64>) {
        if let Some(value) = value {
            self.key(key);
            self.out.push_str(itoa::Buffer::new().format(value));
        }
    }

    pub(crate) fn opt_int<T: Into<i64>>(&mut self, key: &str, value: Option<T>) {
        if let Some(value) = value {
            self.int(key, value.into());
        }
    }

    pub(crate) fn float(&mut self, key: &str, value: Option<f64>) {
        if let Some(value) = value {
            self.key(key);
            if write_thousandths(self.out, value) {
                return;
            }
            // serde_json's own float formatting (zmij; `null` for what is not finite), so the
            // bytes match exactly.
            if value.is_finite() {
                self.out.push_str(zmij::Buffer::new().format_finite(value));
            } else {
                self.out.push_str("null");
            }
        }
    }

    pub(crate) fn list(&mut self, key: &str, values: &[Cow<'_, str>]) {
        if values.is_empty() {
            return;
        }
        self.key(key);
        self.out.push('[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.string(value);
        }
        self.out.push(']');
    }

    pub(crate) fn close(self) {
        self.out.push('}');
    }
}

/// Writes `value` as serde_json does (shortest round-trip digits) when it is a whole number of
/// thousandths from 0 to 10^6, which every ALB time is (`0.001`): the integer, a point and
/// the thousandths without trailing zeros (`0.0`, `0.05`, `12.345`). Such a double has no
/// shorter decimal that reads back as it (its neighbours are far closer than 0.001 apart), so
/// these are the digits zmij would print; a test compares the two over the whole range used.
/// Returns false, writing nothing, for any other value.
#[inline]
pub(crate) fn write_thousandths(out: &mut String, value: f64) -> bool {
    if !(value > 0.0 || value.to_bits() == 0) || value >= 1e6 {
        return false;
    }
    // Not `round`, which is a library call on the baseline x86_64: a wrong guess is caught
    // by the check below like any value that is not whole thousandths.
    let n = (value * 1000.0 + 0.5) as u64;
    if n as f64 / 1000.0 != value {
        return false;
    }
    let (int, frac) = (n / 1000, n % 1000);
    // Each is below 10, so the narrowing keeps it.
    let digit = |d: u64| char::from(b'0' + d as u8);
    if int < 10 {
        out.push(digit(int));
    } else {
        out.push_str(itoa::Buffer::new().format(int));
    }
    let (d1, d2, d3) = (frac / 100, frac / 10 % 10, frac % 10);
    out.push('.');
    out.push(digit(d1));
    if (d2, d3) != (0, 0) {
        out.push(digit(d2));
    }
    if d3 != 0 {
        out.push(digit(d3));
    }
    true
}

/// Writes `text` as a JSON string with serde_json's escapes: `\"`, `\\`, `\b \t \n \f \r`,
/// and `\u00xx` for the other control characters.
pub(crate) fn json_string(out: &mut String, text: &str) {
    out.push('"');
    json_string_rest(out, text);
}

/// [`json_string`] after its opening quote: the escaped text and the closing quote.
pub(crate) fn json_string_rest(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        // Nearly all text needs no escape: skip it eight bytes at a time.
        if let Some(Ok(word)) = bytes.get(i..i + 8).map(<[u8; 8]>::try_from)
            && !word_needs_escape(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        i += 1;
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // `b` is ASCII, so the text before it ends on a character boundary.
        out.push_str(text.get(start..i - 1).unwrap_or_default());
        start = i;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x0c => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push_str(text.get(start..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousandths_are_written_as_serde_json_writes_them() {
        let check = |v: f64| {
            let mut fast = String::new();
            if write_thousandths(&mut fast, v) {
                let serde = serde_json::to_string(&v).unwrap();
                assert_eq!(fast, serde, "{v}");
            }
        };
        // Every ALB time up to 2,000 s, then a spread up to the limit.
        for n in 0..2_000_000u64 {
            check(n as f64 / 1000.0);
        }
        for n in (2_000_000..1_000_000_000u64).step_by(999_983) {
            check(n as f64 / 1000.0);
        }
        let mut out = String::new();
        for v in [
            -0.0,
            -1.0,
            0.0001,
            0.0005,
            1e6,
            f64::NAN,
            f64::INFINITY,
            1.0 / 3.0,
        ] {
            assert!(!write_thousandths(&mut out, v), "{v}");
        }
        assert!(out.is_empty());
        for (v, text) in [
            (0.0, "0.0"),
            (0.05, "0.05"),
            (12.345, "12.345"),
            (3.0, "3.0"),
        ] {
            let mut out = String::new();
            assert!(write_thousandths(&mut out, v));
            assert_eq!(out, text);
        }
    }
}
