//! Decoding of the `\xNN` escapes that ALB and nginx (`escape=default`) write for quotes,
//! backslashes, control characters and every non-ASCII byte.

use std::borrow::Cow;

/// Decodes `\xNN` (either hex case) into the byte it stands for and returns the text as UTF-8,
/// borrowing when there is nothing to decode.
///
/// Byte sequences that are not valid UTF-8 after decoding (a client sending Latin-1, a cut
/// sequence) become U+FFFD, so the result is always valid text. A backslash not followed by
/// `x` and two hex digits is kept as it is.
pub fn decode_hex_escapes(input: &str) -> Cow<'_, str> {
    let bytes = input.as_bytes();
    let Some(first) = memchr::memmem::find(bytes, b"\\x") else {
        return Cow::Borrowed(input);
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1] == b'x'
            && let (Some(h), Some(l)) = (hex(bytes[i + 2]), hex(bytes[i + 3]))
        {
            out.push(h << 4 | l);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// Decodes the escapes of nginx `escape=json`: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` and
/// `\u00XX`. Anything else after a backslash is kept as it is.
pub fn decode_json_escapes(input: &str) -> Cow<'_, str> {
    if !input.contains('\\') {
        return Cow::Borrowed(input);
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let rest = chars.as_str();
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let code = rest.get(1..5).and_then(|h| u32::from_str_radix(h, 16).ok());
                match code.and_then(char::from_u32) {
                    Some(ch) => {
                        out.push(ch);
                        for _ in 0..4 {
                            chars.next();
                        }
                    }
                    None => out.push_str("\\u"),
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hex_escape_table() {
        let cases = [
            ("plain", "plain"),
            ("quote \\x22 inside", "quote \" inside"),
            ("backslash \\x5c", "backslash \\"),
            (
                "utf8 \\xC3\\x88 \\xD0\\x81 \\xf0\\x9f\\x98\\x80",
                "utf8 È Ё 😀",
            ),
            ("cut utf8 \\xE3\\x81", "cut utf8 \u{fffd}"),
            ("latin1 caf\\xE9!", "latin1 caf\u{fffd}!"),
            ("not hex \\xZZ", "not hex \\xZZ"),
            ("short \\x4", "short \\x4"),
            ("trailing \\", "trailing \\"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_hex_escapes(input), want, "input {input:?}");
        }
    }

    #[test]
    fn json_escape_table() {
        let cases = [
            ("a\\\"b", "a\"b"),
            ("a\\\\b", "a\\b"),
            ("line\\nnext\\t", "line\nnext\t"),
            ("\\u0001x", "\u{1}x"),
            ("bad \\u12", "bad \\u12"),
            ("end\\", "end\\"),
        ];
        for (input, want) in cases {
            assert_eq!(decode_json_escapes(input), want, "input {input:?}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = decode_hex_escapes(&s);
            let _ = decode_json_escapes(&s);
        }
    }
}
