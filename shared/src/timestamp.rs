//! Hand-written timestamp parsers for the fixed-shape times that load balancers write.
//!
//! Every ALB line carries two ISO 8601 times, so a general parser (jiff) is a measurable share of
//! the parse cost; these read fixed byte positions instead. All return microseconds since the
//! Unix epoch, UTC, and `None` for anything that is not a valid time (never a panic). Digits
//! beyond microseconds are truncated toward the past (floor), so the result is the µs the
//! instant falls in.
//!
//! The property tests check them against jiff.

/// Parses an ISO 8601 / RFC 3339 time with a zone: `2018-07-02T22:23:00.186641Z`.
///
/// Accepted: `YYYY-MM-DD`, a `T` (or `t` or a space), `HH:MM:SS`, an optional fraction of 1 to 9
/// digits after `.` or `,`, then `Z` (or `z`) or a numeric offset `±HH:MM`, `±HHMM` or `±HH`
/// (hours up to 25, as jiff allows). Returns µs since the epoch, UTC.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let (local, rest) = parse_local(s.as_bytes())?;
    let offset = parse_offset(rest)?;
    Some(local - offset * 1_000_000)
}

/// Parses a zone-less `YYYY-MM-DDTHH:MM:SS` (with an optional fraction) as UTC.
///
/// This is the NLB access log's `time` and `tls_connection_creation_time`
/// (`2018-12-20T02:59:40`), which AWS documents as UTC. A trailing zone is refused: use
/// [`parse_iso8601`] for zoned text.
pub fn parse_naive_utc(s: &str) -> Option<i64> {
    let (local, rest) = parse_local(s.as_bytes())?;
    rest.is_empty().then_some(local)
}

/// Microseconds since the epoch of a UTC civil time, or `None` when a part is out of range
/// (month 1–12, day within the month, hour < 24, minute and second < 60, micros < 1 000 000,
/// year 0–9999).
///
/// For parsers of other shapes (nginx `$time_local`, for example) that split the parts
/// themselves; subtract the zone offset afterwards.
pub fn civil_to_us(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
) -> Option<i64> {
    if !(0..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
        || micros > 999_999
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    Some(secs * 1_000_000 + i64::from(micros))
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fff]` and returns the µs (as if UTC) and the bytes after it.
fn parse_local(b: &[u8]) -> Option<(i64, &[u8])> {
    // Fixed positions: 0123-56-89T12:45:78
    let head = b.get(..19)?;
    if head[4] != b'-' || head[7] != b'-' || head[13] != b':' || head[16] != b':' {
        return None;
    }
    if !matches!(head[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = digits(&head[0..4])?;
    let month = digits(&head[5..7])?;
    let day = digits(&head[8..10])?;
    let hour = digits(&head[11..13])?;
    let minute = digits(&head[14..16])?;
    let second = digits(&head[17..19])?;
    let mut rest = &b[19..];
    let mut micros = 0u32;
    if let Some((&sep, frac)) = rest.split_first()
        && (sep == b'.' || sep == b',')
    {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        // Keep the first six digits, padded: ".5" is 500 000 µs, ".123456789" is 123 456 µs.
        for i in 0..6 {
            let d = frac
                .get(i)
                .filter(|_| i < n)
                .map_or(0, |c| u32::from(c - b'0'));
            micros = micros * 10 + d;
        }
        rest = &frac[n..];
    }
    let us = civil_to_us(year as i32, month, day, hour, minute, second, micros)?;
    Some((us, rest))
}

/// Reads `Z` or `±HH[:]MM` / `±HH` and returns the offset in seconds east of UTC. Nothing may
/// follow it.
fn parse_offset(b: &[u8]) -> Option<i64> {
    let (&sign, rest) = b.split_first()?;
    let sign = match sign {
        b'Z' | b'z' => return rest.is_empty().then_some(0),
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = match rest.len() {
        2 => (digits(rest)?, 0),
        4 => (digits(&rest[..2])?, digits(&rest[2..])?),
        5 if rest[2] == b':' => (digits(&rest[..2])?, digits(&rest[3..])?),
        _ => return None,
    };
    if hours > 25 || minutes > 59 {
        return None;
    }
    Some(sign * (i64::from(hours) * 3600 + i64::from(minutes) * 60))
}

/// The value of a run of ASCII digits (at most 4 here), `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn jiff_us(s: &str) -> Option<i64> {
        let ts: jiff::Timestamp = s.parse().ok()?;
        Some(ts.as_nanosecond().div_euclid(1000) as i64)
    }

    fn jiff_naive_us(s: &str) -> Option<i64> {
        let dt: jiff::civil::DateTime = s.parse().ok()?;
        let ts = dt.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
        Some(ts.as_nanosecond().div_euclid(1000) as i64)
    }

    #[test]
    fn iso8601_table() {
        let cases: &[(&str, &str, Option<i64>)] = &[
            (
                "alb_time",
                "2018-07-02T22:23:00.186641Z",
                Some(1_530_570_180_186_641),
            ),
            (
                "no_fraction",
                "2018-07-02T22:23:00Z",
                Some(1_530_570_180_000_000),
            ),
            (
                "short_fraction",
                "2018-07-02T22:23:00.5Z",
                Some(1_530_570_180_500_000),
            ),
            (
                "nanos_truncated",
                "2018-07-02T22:23:00.123456789Z",
                Some(1_530_570_180_123_456),
            ),
            (
                "colon_offset",
                "2018-07-03T07:23:00+09:00",
                Some(1_530_570_180_000_000),
            ),
            (
                "basic_offset",
                "2018-07-03T07:23:00+0900",
                Some(1_530_570_180_000_000),
            ),
            (
                "hour_offset",
                "2018-07-02T20:23:00-02",
                Some(1_530_570_180_000_000),
            ),
            ("epoch", "1970-01-01T00:00:00Z", Some(0)),
            ("before_epoch", "1969-12-31T23:59:59.5Z", Some(-500_000)),
            (
                "leap_day",
                "2024-02-29T00:00:00Z",
                Some(1_709_164_800_000_000),
            ),
            ("not_leap_day", "2023-02-29T00:00:00Z", None),
            ("century_not_leap", "1900-02-29T00:00:00Z", None),
            ("no_zone", "2018-07-02T22:23:00.186641", None),
            ("empty_fraction", "2018-07-02T22:23:00.Z", None),
            (
                "ten_digit_fraction",
                "2018-07-02T22:23:00.1234567890Z",
                None,
            ),
            ("hour_24", "2018-07-02T24:00:00Z", None),
            ("second_60", "2018-07-02T23:59:60Z", None),
            ("trailing_text", "2018-07-02T22:23:00Zx", None),
            ("cut", "2018-07-02T22:2", None),
            ("empty", "", None),
            ("month_13", "2018-13-02T22:23:00Z", None),
            ("sign_in_digits", "2018-+7-02T22:23:00Z", None),
            ("multibyte", "2018-07-02T22:23:00.1é", None),
        ];
        for (name, input, want) in cases {
            assert_eq!(parse_iso8601(input), *want, "{name}: {input:?}");
            if want.is_some() {
                assert_eq!(jiff_us(input), *want, "{name} agrees with jiff");
            }
        }
    }

    #[test]
    fn naive_table() {
        assert_eq!(
            parse_naive_utc("2018-12-20T02:59:40"),
            Some(1_545_274_780_000_000)
        );
        assert_eq!(parse_naive_utc("2018-12-20T02:59:40Z"), None);
        assert_eq!(parse_naive_utc("2018-12-20"), None);
        assert_eq!(parse_naive_utc("-"), None);
    }

    fn near_valid() -> impl Strategy<Value = String> {
        // Mostly valid-looking text with every part free to be out of range.
        (
            1u32..=9998,
            0u32..=14,
            0u32..=32,
            0u32..=25,
            0u32..=61,
            0u32..=61,
            prop::option::of("[0-9]{0,10}"),
            prop_oneof![
                Just(String::from("Z")),
                Just(String::new()),
                "[+-][0-2][0-9]:[0-6][0-9]",
                "[+-][0-2][0-9][0-6][0-9]",
                "[+-][0-2][0-9]",
            ],
        )
            .prop_map(|(y, mo, d, h, mi, s, frac, zone)| {
                let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}")
            })
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = parse_iso8601(&s);
            let _ = parse_naive_utc(&s);
        }

        #[test]
        fn agrees_with_jiff(s in near_valid()) {
            // jiff reads second 60 as a leap second (clamped); AWS smears leap seconds and
            // never writes one, so we refuse it.
            prop_assume!(s.get(17..19) != Some("60"));
            prop_assert_eq!(parse_iso8601(&s), jiff_us(&s), "{}", s);
            let naive_ok = s.len() >= 19 && !s[19..].contains(['Z', '+', '-']);
            if naive_ok {
                prop_assert_eq!(parse_naive_utc(&s), jiff_naive_us(&s), "{}", s);
            }
        }

        #[test]
        fn valid_times_round_trip(us in -62_135_596_800_000_000i64..253_402_300_799_999_999) {
            let ts = jiff::Timestamp::from_microsecond(us).unwrap();
            let text = ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
            prop_assert_eq!(parse_iso8601(&text), Some(us), "{}", text);
        }
    }
}
