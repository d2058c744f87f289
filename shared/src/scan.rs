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
