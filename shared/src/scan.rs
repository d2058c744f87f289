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
    let mut blocks = text.chunks_exact(16);
    for block in &mut blocks {
        let Ok(block) = <&[u8; 16]>::try_from(block) else {
            return false;
        };
        let (escapes, q) = block_masks(block);
        if escapes {
            return false;
        }
        found += q as usize;
    }
    for &b in blocks.remainder() {
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
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn ones64(m: u64) -> u32 {
    ones(m as u32) + ones((m >> 32) as u32)
}

/// For sixteen bytes: whether any is a control character or `\\`, and how many are `"`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn block_masks(block: &[u8; 16]) -> (bool, u32) {
    // SSE2 (part of every x86_64), through safe_arch's safe wrappers.
    use safe_arch::{
        cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i, max_u8_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i as splat,
    };
    let v = load_unaligned_m128i(block);
    let control = eq(max_u8_m128i(v, splat(0x1f)), splat(0x1f));
    let backslash = eq(v, splat(b'\\' as i8));
    let quote = eq(v, splat(b'"' as i8));
    (
        move_mask_i8_m128i(control | backslash) != 0,
        ones(move_mask_i8_m128i(quote) as u32),
    )
}

/// For sixteen bytes: as the SSE2 version, where there is none.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn block_masks(block: &[u8; 16]) -> (bool, u32) {
    block_masks_swar(block)
}

/// For sixteen bytes: whether any is a control character or `\`, and how many are `"`
/// (SWAR on two words, exact per byte).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
#[inline(always)]
fn block_masks_swar(block: &[u8; 16]) -> (bool, u32) {
    const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // The high bit of each byte that is zero, exactly.
    let zero = |y: u64| !(((y & LOWS) + LOWS) | y) & HIGHS;
    // The high bit of each byte below 0x20, exactly.
    let control = |x: u64| !(((x & LOWS) + ONES * 0x60) | x) & HIGHS;
    let word = |x: u64| {
        let escapes = control(x) | zero(x ^ (ONES * u64::from(b'\\')));
        (escapes != 0, ones64(zero(x ^ (ONES * u64::from(b'"')))))
    };
    let (lo, hi) = block.split_at(8);
    let read = |half: &[u8]| <[u8; 8]>::try_from(half).map_or(0, u64::from_le_bytes);
    let ((e0, q0), (e1, q1)) = (word(read(lo)), word(read(hi)));
    (e0 || e1, q0 + q1)
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
        fn both_block_readers_agree(mut block in any::<[u8; 16]>(), at in 0usize..16, b in prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x21]) {
            // One byte set to something that matters, anywhere in the block.
            block[at] = b;
            prop_assert_eq!(block_masks(&block), block_masks_swar(&block));
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
