//! Small byte-level helpers for hot paths that read or write text many times per second:
//! shared by the ALB parser and writer and by the API's reader of record JSON.

/// Whether any of the eight bytes (a little-endian word) is a control character, `"` or `\`:
/// what a JSON string must escape. SWAR; a false positive only sends the word through a
/// byte-by-byte path.
pub fn word_needs_escape(x: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
    (below_space | has_zero(x ^ (ONES * u64::from(b'"'))) | has_zero(x ^ (ONES * u64::from(b'\\'))))
        != 0
}

/// Reads a plain `123.456` (at most 15 digits, no sign, no exponent) exactly as
/// `str::parse::<f64>` and serde_json would, only faster: both parts are exact in an f64 and
/// IEEE division rounds correctly, so `123456 / 1000` is the double nearest to 123.456.
/// `None` for anything else (left to a general parser).
pub fn decimal(text: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let bytes = text.as_bytes();
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut scale = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                digits += 1;
            }
            b'.' if scale.is_none() && i > 0 => scale = Some(bytes.len() - i - 1),
            _ => return None,
        }
        if digits > 15 {
            return None;
        }
    }
    let scale = scale.unwrap_or(0);
    if scale == 0 && bytes.last() == Some(&b'.') {
        return None;
    }
    // At most 15 digits, so the mantissa is below 2^53 and exact.
    Some(mantissa as f64 / *POW10.get(scale)?)
}

/// Whether a JSON string can hold any part of `text` as it is: `text` has no control
/// character, no `\`, and exactly `quotes` double quotes (the delimiters the caller knows of,
/// so none inside any value). One pass, sixteen bytes at a time.
///
/// The ALB writer checks a whole line once with this instead of checking every field it
/// writes: nearly every line is plain, and then every field is copied as it is.
pub fn json_plain(text: &[u8], quotes: usize) -> bool {
    let mut found = 0usize;
    let (blocks, rest) = text.as_chunks::<16>();
    for block in blocks {
        let b = block_bits(block);
        if b.backslash || b.control {
            return false;
        }
        found += ones(b.quotes) as usize;
    }
    for &b in rest {
        if b < 0x20 || b == b'\\' {
            return false;
        }
        found += usize::from(b == b'"');
    }
    found == quotes
}

/// The set bits of `m`, counted one by one: they are few (a line has some twenty `"`), and
/// `count_ones` is a long software routine where the baseline x86_64 has no POPCNT.
#[inline(always)]
fn ones(mut m: u32) -> u32 {
    let mut n = 0;
    while m != 0 {
        m &= m - 1;
        n += 1;
    }
    n
}

/// [`ones`] for 64 bits.
#[inline(always)]
fn ones64(m: u64) -> u32 {
    ones(m as u32) + ones((m >> 32) as u32)
}

/// Where the spaces and double quotes of a line are, one bit per byte, for a line of at most
/// [`LineIndex::MAX`] bytes; and, for [`json_plain`], whether it has a control character or a
/// backslash and how many quotes. Built in one pass, sixteen bytes at a time, so that a
/// tokenizer finds each field's end with a bit search instead of reading the bytes again.
pub(crate) struct LineIndex {
    spaces: [u64; LineIndex::WORDS],
    quotes: [u64; LineIndex::WORDS],
    /// Words in use.
    used: usize,
    /// The line has a `\\`.
    pub(crate) backslash: bool,
    /// The line has a control character.
    pub(crate) control: bool,
    /// The line's `"`.
    pub(crate) quote_count: usize,
}

impl LineIndex {
    const WORDS: usize = 32;
    /// The longest line indexed (longer ones are read byte by byte).
    pub(crate) const MAX: usize = LineIndex::WORDS * 64;

    /// The index of `line`, `None` if it is longer than [`LineIndex::MAX`].
    #[inline]
    pub(crate) fn new(line: &[u8]) -> Option<LineIndex> {
        if line.len() > LineIndex::MAX {
            return None;
        }
        let mut ix = LineIndex {
            spaces: [0; LineIndex::WORDS],
            quotes: [0; LineIndex::WORDS],
            used: line.len().div_ceil(64),
            backslash: false,
            control: false,
            quote_count: 0,
        };
        // Sixty-four bytes (one word of each bitmap) at a time, then sixteen, then bytes.
        let mut words = line.chunks_exact(64);
        let mut at = 0;
        for (w, chunk) in (&mut words).enumerate() {
            let Ok(chunk) = <&[u8; 64]>::try_from(chunk) else {
                return None;
            };
            let b = word_bits(chunk);
            if let (Some(s), Some(q)) = (ix.spaces.get_mut(w), ix.quotes.get_mut(w)) {
                *s = b.spaces;
                *q = b.quotes;
            }
            ix.backslash |= b.backslash;
            ix.control |= b.control;
            ix.quote_count += ones64(b.quotes) as usize;
            at += 64;
        }
        let mut blocks = words.remainder().chunks_exact(16);
        for block in &mut blocks {
            let Ok(block) = <&[u8; 16]>::try_from(block) else {
                return None;
            };
            let b = block_bits(block);
            let shift = at % 64;
            if let (Some(s), Some(q)) = (ix.spaces.get_mut(at / 64), ix.quotes.get_mut(at / 64)) {
                *s |= u64::from(b.spaces) << shift;
                *q |= u64::from(b.quotes) << shift;
            }
            ix.backslash |= b.backslash;
            ix.control |= b.control;
            ix.quote_count += ones(b.quotes) as usize;
            at += 16;
        }
        let base = line.len() - blocks.remainder().len();
        for (k, &byte) in blocks.remainder().iter().enumerate() {
            let at = base + k;
            let bit = 1u64 << (at % 64);
            if let (Some(s), Some(q)) = (ix.spaces.get_mut(at / 64), ix.quotes.get_mut(at / 64)) {
                if byte == b' ' {
                    *s |= bit;
                }
                if byte == b'"' {
                    *q |= bit;
                    ix.quote_count += 1;
                }
            }
            ix.backslash |= byte == b'\\';
            ix.control |= byte < 0x20;
        }
        Some(ix)
    }

    /// The first space at or after `from`.
    #[inline]
    pub(crate) fn next_space(&self, from: usize) -> Option<usize> {
        next_bit(&self.spaces, self.used, from)
    }

    /// The first `"` at or after `from`.
    #[inline]
    pub(crate) fn next_quote(&self, from: usize) -> Option<usize> {
        next_bit(&self.quotes, self.used, from)
    }
}

/// The first set bit at or after `from` in the first `used` words.
#[inline(always)]
fn next_bit(words: &[u64], used: usize, from: usize) -> Option<usize> {
    let mut w = from / 64;
    let mut m = words.get(w)? & (!0u64 << (from % 64));
    loop {
        if m != 0 {
            return Some(w * 64 + m.trailing_zeros() as usize);
        }
        w += 1;
        if w >= used {
            return None;
        }
        m = *words.get(w)?;
    }
}

/// What one block of sixteen bytes holds, one bit per byte.
struct BlockBits {
    spaces: u32,
    quotes: u32,
    backslash: bool,
    control: bool,
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn block_bits(block: &[u8; 16]) -> BlockBits {
    use safe_arch::{
        cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i, max_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i as splat,
    };
    let v = load_unaligned_m128i(block);
    BlockBits {
        spaces: move_mask_i8_m128i(eq(v, splat(b' ' as i8))) as u32,
        quotes: move_mask_i8_m128i(eq(v, splat(b'"' as i8))) as u32,
        backslash: move_mask_i8_m128i(eq(v, splat(b'\\' as i8))) != 0,
        control: move_mask_i8_m128i(eq(max_u8_m128i(v, splat(0x1f)), splat(0x1f))) != 0,
    }
}

/// What sixty-four bytes hold, one bit per byte.
struct WordBits {
    spaces: u64,
    quotes: u64,
    backslash: bool,
    control: bool,
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn word_bits(chunk: &[u8; 64]) -> WordBits {
    use safe_arch::{
        cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i, m128i, max_u8_m128i,
        move_mask_i8_m128i as mask, set_splat_i8_m128i as splat,
    };
    let (space, quote, backslash, low) = (
        splat(b' ' as i8),
        splat(b'"' as i8),
        splat(b'\\' as i8),
        splat(0x1f),
    );
    let mut w = WordBits {
        spaces: 0,
        quotes: 0,
        backslash: false,
        control: false,
    };
    let mut escapes = m128i::default();
    // Four blocks, unrolled (a fixed-size array: no bounds to check).
    let (blocks, _) = chunk.as_chunks::<16>();
    for (i, block) in blocks.iter().enumerate() {
        let v = load_unaligned_m128i(block);
        w.spaces |= u64::from(mask(eq(v, space)) as u16) << (i * 16);
        w.quotes |= u64::from(mask(eq(v, quote)) as u16) << (i * 16);
        escapes = escapes | eq(v, backslash) | eq(max_u8_m128i(v, low), low);
    }
    // One mask at the end says whether any block had either; which of the two is told apart
    // only then (rare).
    if mask(escapes) != 0 {
        w.backslash = chunk.contains(&b'\\');
        w.control = chunk.iter().any(|&b| b < 0x20);
    }
    w
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn word_bits(chunk: &[u8; 64]) -> WordBits {
    bits_bytewise(chunk)
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn block_bits(block: &[u8; 16]) -> BlockBits {
    let w = bits_bytewise(block);
    BlockBits {
        spaces: w.spaces as u32,
        quotes: w.quotes as u32,
        backslash: w.backslash,
        control: w.control,
    }
}

/// [`word_bits`] and [`block_bits`] a byte at a time, for up to sixty-four bytes.
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
fn bits_bytewise(bytes: &[u8]) -> WordBits {
    let mut w = WordBits {
        spaces: 0,
        quotes: 0,
        backslash: false,
        control: false,
    };
    for (i, &byte) in bytes.iter().take(64).enumerate() {
        w.spaces |= u64::from(byte == b' ') << i;
        w.quotes |= u64::from(byte == b'"') << i;
        w.backslash |= byte == b'\\';
        w.control |= byte < 0x20;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `json_plain` must say, byte by byte.
    fn plain_slowly(text: &[u8], quotes: usize) -> bool {
        !text.iter().any(|&b| b < 0x20 || b == b'\\')
            && text.iter().filter(|&&b| b == b'"').count() == quotes
    }

    #[test]
    fn line_index_of_long_and_edge_lines() {
        assert!(LineIndex::new(&[b'a'; LineIndex::MAX + 1]).is_none());
        let mut line = vec![b'a'; LineIndex::MAX];
        line[LineIndex::MAX - 1] = b' ';
        let ix = LineIndex::new(&line).unwrap();
        assert_eq!(ix.next_space(0), Some(LineIndex::MAX - 1));
        assert_eq!(ix.next_space(LineIndex::MAX), None);
        assert_eq!(ix.next_quote(0), None);
        let empty = LineIndex::new(b"").unwrap();
        assert_eq!(empty.next_space(0), None);
    }

    #[test]
    fn plain_text_and_each_kind_of_escape() {
        let line = br#"https 2026-11-23T10:00:00.000Z app/web "GET https://example.com:443/ HTTP/1.1" "curl/8.5.0" -"#;
        assert!(json_plain(line, 4));
        assert!(!json_plain(line, 2), "a quote inside a value");
        for bad in [b'\\', b'\t', 0x00, 0x1f, b'\n'] {
            let mut with = line.to_vec();
            with[40] = bad;
            assert!(!json_plain(&with, 4), "{bad:#x}");
        }
        // 0x7f and bytes of UTF-8 text need no escape.
        let text = "\u{7f}日本語のテキスト、エスケープ不要です。".as_bytes();
        assert!(json_plain(text, 0));
    }

    #[test]
    fn both_block_readers_agree_byte_for_byte() {
        for b in 0..=255u8 {
            for at in 0..16 {
                let mut block = [b'a'; 16];
                block[at] = b;
                assert_eq!(
                    json_plain(&block, usize::from(b == b'"')),
                    plain_slowly(&block, usize::from(b == b'"')),
                    "{b:#x} at {at}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn line_index_finds_every_space_and_quote(
            line in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b' '), 0u8..0x21, any::<u8>()], 0..300),
            from in 0usize..320,
        ) {
            let ix = LineIndex::new(&line).unwrap();
            let find = |c: u8| line.iter().skip(from).position(|&b| b == c).map(|p| p + from);
            prop_assert_eq!(ix.next_space(from), find(b' '));
            prop_assert_eq!(ix.next_quote(from), find(b'"'));
            prop_assert_eq!(ix.backslash, line.contains(&b'\\'));
            prop_assert_eq!(ix.control, line.iter().any(|&b| b < 0x20));
            prop_assert_eq!(ix.quote_count, line.iter().filter(|&&b| b == b'"').count());
        }

        #[test]
        fn word_bits_equal_the_bytewise_reading(chunk in prop::collection::vec(any::<u8>(), 64), marks in prop::collection::vec((0usize..64, prop_oneof![Just(b'"'), Just(b'\\'), Just(b' '), 0u8..0x21]), 0..6)) {
            let mut chunk: [u8; 64] = chunk.try_into().unwrap();
            for (at, b) in marks {
                chunk[at] = b;
            }
            let (fast, slow) = (word_bits(&chunk), bits_bytewise(&chunk));
            prop_assert_eq!((fast.spaces, fast.quotes, fast.backslash, fast.control), (slow.spaces, slow.quotes, slow.backslash, slow.control));
        }

        #[test]
        fn block_bits_equal_the_bytewise_reading(block in any::<[u8; 16]>(), at in 0usize..16, b in prop_oneof![Just(b'"'), Just(b'\\'), Just(b' '), 0u8..0x21]) {
            let mut block = block;
            block[at] = b;
            let (fast, slow) = (block_bits(&block), bits_bytewise(&block));
            prop_assert_eq!((u64::from(fast.spaces), u64::from(fast.quotes), fast.backslash, fast.control), (slow.spaces, slow.quotes, slow.backslash, slow.control));
        }

        #[test]
        fn json_plain_equals_the_byte_by_byte_rule(
            text in prop::collection::vec(prop_oneof![Just(b'"'), Just(b'\\'), Just(b' '), 0u8..0x21, any::<u8>()], 0..100),
            quotes in 0usize..6,
        ) {
            prop_assert_eq!(json_plain(&text, quotes), plain_slowly(&text, quotes));
        }
    }
}
