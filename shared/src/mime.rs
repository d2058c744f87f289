//! MIME header text: RFC 2047 encoded words (`=?ISO-2022-JP?B?...?=`) in subjects and display
//! names, and the split of a From header into display name and address.
//!
//! Japanese mail is the reason this module exists: subjects and names arrive as ISO-2022-JP,
//! Shift_JIS or UTF-8 encoded words, and many mailers cut one character's bytes across two
//! encoded words. Decoding is lenient in the ways real mailers need (encoded words inside
//! quotes or glued to text, missing base64 padding) and never fails: what cannot be decoded is
//! kept as written. RFC 2231 parameter encoding is out of scope.

use std::borrow::Cow;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use encoding_rs::Encoding;

/// Base64 as mailers write it: padding optional, stray trailing bits tolerated.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes the RFC 2047 encoded words in a header value (a subject, a display name).
///
/// Folded lines are unfolded, white space between two adjacent encoded words is dropped
/// (RFC 2047 §6.2), and adjacent words in the same charset are joined as bytes before decoding,
/// so a character whose bytes span two words comes out whole. Words that are malformed or in a
/// charset nobody knows are kept literally. Returns the input unchanged (borrowed) when there is
/// nothing to decode.
pub fn decode_header(value: &str) -> Cow<'_, str> {
    if value.contains('\n') {
        let unfolded = unfold(value);
        let decoded = decode_words(&unfolded).unwrap_or(unfolded);
        return Cow::Owned(decoded);
    }
    match decode_words(value) {
        Some(decoded) => Cow::Owned(decoded),
        None => Cow::Borrowed(value),
    }
}

/// Splits a From header value (one mailbox) into its decoded display name and its address.
///
/// Handles `"=?UTF-8?B?...?=" <a@b.jp>`, `Name <a@b>`, a bare `a@b`, quoted names with `\"`
/// escapes and the old `a@b (Name)` comment form. An empty name is `None`.
pub fn parse_mailbox(value: &str) -> (Option<String>, String) {
    let value = value.trim();
    if let Some(lt) = angle_bracket(value) {
        let inside = &value[lt + 1..];
        // A missing `>` is forgiven: the address runs to the end.
        let address = inside.split('>').next().unwrap_or(inside).trim();
        return (display_name(&value[..lt]), address.to_string());
    }
    // `a@b (Name)`: the RFC 822 comment form some older mailers still write.
    if let (Some(open), Some(body)) = (value.find('('), value.strip_suffix(')'))
        && open < body.len()
    {
        return (
            display_name(&body[open + 1..]),
            value[..open].trim().to_string(),
        );
    }
    (None, value.to_string())
}

/// The byte index of the first `<` that is not inside a quoted string.
fn angle_bracket(value: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Unquotes and decodes a display name; `None` when nothing is left.
fn display_name(raw: &str) -> Option<String> {
    let mut unquoted = String::with_capacity(raw.len());
    let mut quoted = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => unquoted.extend(chars.next()),
            _ => unquoted.push(c),
        }
    }
    // Encoded words inside quotes are forbidden by RFC 2047 yet common; decode them anyway.
    let decoded = decode_header(&unquoted);
    let name = decoded.trim();
    (!name.is_empty()).then(|| name.to_string())
}

/// Removes the line breaks of folded header lines (RFC 5322 §2.2.3).
fn unfold(value: &str) -> String {
    value.replace("\r\n", "").replace('\n', "")
}

/// One piece of a header value: plain text, or an encoded word already turned into bytes.
enum Piece<'a> {
    Text(&'a str),
    Word {
        charset: &'a str,
        bytes: Vec<u8>,
        /// Where the word is in the header value, to keep it literally if the charset is unknown.
        span: (usize, usize),
    },
}

/// Decodes the encoded words of `value`, or `None` when it holds none.
fn decode_words(value: &str) -> Option<String> {
    let pieces = split_words(value);
    if !pieces.iter().any(|p| matches!(p, Piece::Word { .. })) {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    // Adjacent words of one charset, joined as bytes: (charset, bytes, span start, span end).
    let mut pending: Option<(&str, Vec<u8>, usize, usize)> = None;
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Text(text) => {
                let between_words = matches!(pieces.get(i + 1), Some(Piece::Word { .. }))
                    && i > 0
                    && text.chars().all(char::is_whitespace);
                if between_words {
                    continue;
                }
                flush(&mut out, value, pending.take());
                out.push_str(text);
            }
            Piece::Word {
                charset,
                bytes,
                span,
            } => match &mut pending {
                Some((open, joined, _, end)) if open.eq_ignore_ascii_case(charset) => {
                    join_word_bytes(joined, bytes);
                    *end = span.1;
                }
                _ => {
                    flush(&mut out, value, pending.take());
                    pending = Some((charset, bytes.clone(), span.0, span.1));
                }
            },
        }
    }
    flush(&mut out, value, pending);
    Some(out)
}

/// Appends the bytes of the next word of the same charset.
fn join_word_bytes(joined: &mut Vec<u8>, next: &[u8]) {
    // Each ISO-2022-JP word ends by switching back to ASCII (RFC 1468 §2) and the next one
    // switches to JIS again at once; WHATWG decoders treat two adjacent escape sequences as an
    // error, so the switch back is dropped at the joint.
    if next.first() == Some(&0x1b) && (joined.ends_with(b"\x1b(B") || joined.ends_with(b"\x1b(J")) {
        joined.truncate(joined.len() - 3);
    }
    joined.extend_from_slice(next);
}

/// Decodes a run of joined words into `out`, or copies it literally if its charset is unknown.
fn flush(out: &mut String, value: &str, run: Option<(&str, Vec<u8>, usize, usize)>) {
    let Some((charset, bytes, start, end)) = run else {
        return;
    };
    match encoding_for(charset) {
        Some(encoding) => {
            let (text, had_errors) = encoding.decode_without_bom_handling(&bytes);
            // Some mailers label raw UTF-8 as ISO-2022-JP or Shift_JIS; prefer the readable text.
            // (Only for 8-bit bytes: 7-bit ISO-2022-JP is always valid UTF-8.)
            match std::str::from_utf8(&bytes) {
                Ok(utf8) if had_errors && !bytes.is_ascii() => out.push_str(utf8),
                _ => out.push_str(&text),
            }
        }
        None => out.push_str(value.get(start..end).unwrap_or_default()),
    }
}

/// The encoding for a MIME charset name: every WHATWG label, plus the Microsoft and ISO names
/// Japanese mailers use that WHATWG does not list.
fn encoding_for(charset: &str) -> Option<&'static Encoding> {
    // `charset*lang` (RFC 2231 §5) may appear inside encoded words; the language is irrelevant.
    let charset = charset.split('*').next().unwrap_or(charset);
    let encoding = Encoding::for_label(charset.as_bytes()).or_else(|| {
        match charset.to_ascii_lowercase().as_str() {
            "cp932" | "x-ms-cp932" | "windows-932" => Some(encoding_rs::SHIFT_JIS),
            // The -2/-3 extensions are rare; their JIS X 0208 part decodes the same.
            "iso-2022-jp-2" | "iso-2022-jp-3" | "iso-2022-jp-ms" => Some(encoding_rs::ISO_2022_JP),
            "cp936" => Some(encoding_rs::GBK),
            "cp949" => Some(encoding_rs::EUC_KR),
            _ => None,
        }
    })?;
    // WHATWG maps a few dangerous labels (ISO-2022-KR, HZ) to "replacement", which decodes to a
    // single U+FFFD; keeping the word literally says more.
    (encoding != encoding_rs::REPLACEMENT).then_some(encoding)
}

/// Splits `value` into plain text and well-formed encoded words.
fn split_words(value: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut search = 0;
    while let Some(found) = value.get(search..).and_then(|rest| rest.find("=?")) {
        let at = search + found;
        match encoded_word(&value[at..]) {
            Some((charset, bytes, len)) => {
                if at > text_start {
                    pieces.push(Piece::Text(&value[text_start..at]));
                }
                pieces.push(Piece::Word {
                    charset,
                    bytes,
                    span: (at, at + len),
                });
                search = at + len;
                text_start = search;
            }
            // Not a word: `=` is ASCII, so one byte on is still a char boundary.
            None => search = at + 1,
        }
    }
    if text_start < value.len() {
        pieces.push(Piece::Text(&value[text_start..]));
    }
    pieces
}

/// Parses an encoded word at the start of `s` (`=?charset?B?text?=`): its charset, its decoded
/// bytes and its length in `s`. `None` if it is malformed.
fn encoded_word(s: &str) -> Option<(&str, Vec<u8>, usize)> {
    let rest = s.strip_prefix("=?")?;
    let q1 = rest.find('?')?;
    let charset = &rest[..q1];
    let token = |b: u8| b.is_ascii_graphic() && !matches!(b, b'?' | b'=' | b'"' | b'(' | b')');
    if charset.is_empty() || charset.len() > 64 || !charset.bytes().all(token) {
        return None;
    }
    let after = &rest.as_bytes()[q1 + 1..];
    let (encoding, sep) = (*after.first()?, *after.get(1)?);
    if sep != b'?' {
        return None;
    }
    // Both checked bytes are ASCII, so q1 + 3 is a char boundary.
    let text_and_end = &rest[q1 + 3..];
    let end = text_and_end.find("?=")?;
    let text = &text_and_end[..end];
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let bytes = match encoding {
        b'B' | b'b' => BASE64.decode(text).ok()?,
        b'Q' | b'q' => decode_q(text),
        _ => return None,
    };
    Some((charset, bytes, 2 + q1 + 3 + end + 2))
}

/// The Q encoding (RFC 2047 §4.2): `_` is a space, `=XX` a byte; a stray `=` is kept.
fn decode_q(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'_', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Encodes `text` in `charset` as one B word, for building ISO-2022-JP / Shift_JIS cases.
    fn b_word(charset: &str, bytes: &[u8]) -> String {
        format!("=?{charset}?B?{}?=", BASE64.encode(bytes))
    }

    fn encode(label: &str, text: &str) -> Vec<u8> {
        let encoding = Encoding::for_label(label.as_bytes()).unwrap();
        encoding.encode(text).0.into_owned()
    }

    #[test]
    fn decode_table() {
        let cases: &[(&str, &str, &str)] = &[
            ("plain_text_is_unchanged", "Hello world", "Hello world"),
            ("utf8_b", "=?UTF-8?B?44GT44KT44Gr44Gh44Gv?=", "こんにちは"),
            (
                "utf8_b_lowercase_marker",
                "=?utf-8?b?44GT44KT44Gr44Gh44Gv?=",
                "こんにちは",
            ),
            (
                "utf8_q_with_underscore_space",
                "=?UTF-8?Q?caf=C3=A9_au_lait?=",
                "café au lait",
            ),
            (
                "iso2022jp_b",
                "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=",
                "こんにちは",
            ),
            ("base64_without_padding", "=?UTF-8?B?YWI?=", "ab"),
            (
                "iso8859_1_q",
                "=?ISO-8859-1?Q?Andr=E9?= Pirard",
                "André Pirard",
            ),
            (
                "whitespace_between_words_is_dropped",
                "=?UTF-8?Q?a?= \r\n =?UTF-8?Q?b?=",
                "ab",
            ),
            (
                "whitespace_around_words_is_kept",
                "x =?UTF-8?Q?a?= y",
                "x a y",
            ),
            (
                "mixed_plain_and_encoded",
                "【重要】=?UTF-8?B?44GK55+l44KJ44Gb?= です",
                "【重要】お知らせ です",
            ),
            (
                "different_charsets_adjacent",
                "=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?=",
                "aé",
            ),
            (
                "malformed_no_end_is_literal",
                "=?UTF-8?B?44GT",
                "=?UTF-8?B?44GT",
            ),
            (
                "malformed_bad_encoding_letter",
                "=?UTF-8?X?abc?=",
                "=?UTF-8?X?abc?=",
            ),
            (
                "malformed_bad_base64_is_literal",
                "=?UTF-8?B?***?=",
                "=?UTF-8?B?***?=",
            ),
            (
                "unknown_charset_is_literal",
                "=?x-klingon?Q?abc?= d",
                "=?x-klingon?Q?abc?= d",
            ),
            (
                "replacement_charset_is_literal",
                "=?ISO-2022-KR?Q?a?=",
                "=?ISO-2022-KR?Q?a?=",
            ),
            ("empty_word", "a=?UTF-8?B??=b", "ab"),
            ("stray_equals_in_q", "=?UTF-8?Q?1=2?=", "1=2"),
            ("rfc2231_language_suffix", "=?UTF-8*ja?Q?a?=", "a"),
            ("cp932_alias", "=?CP932?Q?=82=A0?=", "あ"),
            (
                "utf8_mislabelled_as_sjis",
                "=?Shift_JIS?Q?=E3=81=82?=",
                "あ",
            ),
            ("word_start_inside_garbage", "=?=?UTF-8?Q?x?=", "=?x"),
            ("folded_plain_text", "Hello\r\n World", "Hello World"),
        ];
        for (name, input, want) in cases {
            assert_eq!(decode_header(input), *want, "{name}");
        }
    }

    #[test]
    fn shift_jis_and_euc_jp_words() {
        let sjis = b_word("Shift_JIS", &encode("shift_jis", "請求書のご案内"));
        assert_eq!(decode_header(&sjis), "請求書のご案内");
        let euc = b_word("EUC-JP", &encode("euc-jp", "納品書"));
        assert_eq!(decode_header(&euc), "納品書");
    }

    #[test]
    fn character_split_across_two_words() {
        // "あいう" in UTF-8 is 9 bytes; cut after byte 4, inside "い".
        let bytes = "あいう".as_bytes();
        let split = format!(
            "{} {}",
            b_word("UTF-8", &bytes[..4]),
            b_word("utf-8", &bytes[4..])
        );
        assert_eq!(decode_header(&split), "あいう");

        // Shift_JIS "漢字" cut between the lead and trail byte of the first character.
        let sjis = encode("shift_jis", "漢字");
        let split = format!(
            "{}\r\n\t{}",
            b_word("SHIFT_JIS", &sjis[..1]),
            b_word("SHIFT_JIS", &sjis[1..])
        );
        assert_eq!(decode_header(&split), "漢字");
    }

    #[test]
    fn iso2022jp_words_each_with_their_own_escapes() {
        let first = encode("iso-2022-jp", "ご注文");
        let second = encode("iso-2022-jp", "ありがとう");
        let header = format!(
            "{} {}",
            b_word("ISO-2022-JP", &first),
            b_word("ISO-2022-JP", &second)
        );
        assert_eq!(decode_header(&header), "ご注文ありがとう");

        // Some mailers cut the JIS bytes anywhere, even between the two bytes of one character.
        let whole = encode("iso-2022-jp", "ご注文");
        let header = format!(
            "{}\r\n {}",
            b_word("ISO-2022-JP", &whole[..6]),
            b_word("iso-2022-jp", &whole[6..])
        );
        assert_eq!(decode_header(&header), "ご注文");
    }

    #[test]
    fn plain_input_is_borrowed() {
        assert!(matches!(decode_header("no words here"), Cow::Borrowed(_)));
    }

    #[test]
    fn mailbox_table() {
        let cases: &[(&str, &str, Option<&str>, &str)] = &[
            ("bare_address", "a@b.jp", None, "a@b.jp"),
            (
                "name_and_address",
                "Sender Name <sender@example.com>",
                Some("Sender Name"),
                "sender@example.com",
            ),
            (
                "quoted_name",
                "\"John Doe\" <john@example.com>",
                Some("John Doe"),
                "john@example.com",
            ),
            (
                "quoted_name_with_escaped_quote",
                r#""Taro \"T\" Yamada" <t@y.jp>"#,
                Some(r#"Taro "T" Yamada"#),
                "t@y.jp",
            ),
            (
                "angle_bracket_in_quoted_name",
                r#""a<b" <c@d>"#,
                Some("a<b"),
                "c@d",
            ),
            (
                "quoted_encoded_word",
                "\"=?UTF-8?B?5bGx55Sw5aSq6YOO?=\" <taro@example.jp>",
                Some("山田太郎"),
                "taro@example.jp",
            ),
            (
                "unquoted_iso2022jp_name",
                "=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?= <a@b.jp>",
                Some("こんにちは"),
                "a@b.jp",
            ),
            ("address_only_in_brackets", "<a@b>", None, "a@b"),
            ("missing_closing_bracket", "Name <a@b", Some("Name"), "a@b"),
            ("comment_form", "a@b.jp (Taro)", Some("Taro"), "a@b.jp"),
            ("surrounding_space", "  a@b  ", None, "a@b"),
            ("empty", "", None, ""),
        ];
        for (name, input, want_name, want_addr) in cases {
            let (got_name, got_addr) = parse_mailbox(input);
            assert_eq!(
                (got_name.as_deref(), got_addr.as_str()),
                (*want_name, *want_addr),
                "{name}"
            );
        }
    }

    proptest! {
        #[test]
        fn decode_header_never_panics(s in ".*") {
            let _ = decode_header(&s);
        }

        #[test]
        fn decode_header_never_panics_on_word_like_input(
            s in r"(=\?[A-Za-z0-9_*-]{0,12}\?[BbQqX]?\?[A-Za-z0-9+/=_?]{0,12}\?=|[ \r\n\t]|[あ-ん]|=|\?|[a-z]){0,12}"
        ) {
            let _ = decode_header(&s);
        }

        #[test]
        fn parse_mailbox_never_panics(s in r#"([<>"\\() @]|.){0,40}"#) {
            let _ = parse_mailbox(&s);
        }
    }
}
