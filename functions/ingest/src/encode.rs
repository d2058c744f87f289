//! Records to log events: compact JSON, timestamp = the time of the request or mail event, and
//! records too large for one CloudWatch event cut to fit (marked `cut`, with the original
//! length where the record has a place for it).

use logdesk_core::Record;
use logdesk_core::record::{BadRecord, RequestRecord, SCHEMA_VERSION};

use crate::batch::{Event, MAX_EVENT_BYTES};

/// The result of encoding one record.
#[derive(Debug)]
pub struct Encoded {
    /// The event.
    pub event: Event,
    /// The record had to be cut to fit.
    pub truncated: bool,
}

/// Encodes `record` as an event of at most `max` message bytes (normally
/// [`MAX_EVENT_BYTES`]). Records without a time (some bad lines) get `fallback_ms`.
pub fn encode(record: Record, fallback_ms: i64, max: usize) -> Encoded {
    let timestamp = record.time_us().map_or(fallback_ms, us_to_ms);
    let mut buf = Vec::with_capacity(512);
    record.write_json(&mut buf);
    if buf.len() <= max {
        return Encoded {
            event: Event {
                timestamp,
                message: into_string(buf),
            },
            truncated: false,
        };
    }
    let original_len = buf.len() as u64;
    let message = match record {
        Record::Bad(bad) => cut_bad(bad, max),
        Record::Alb(r) => cut_request(r, max, Record::Alb),
        Record::Clb(r) => cut_request(r, max, Record::Clb),
        Record::Nginx(r) => cut_request(r, max, Record::Nginx),
        other => {
            // Connection, error and mail records have no cut marker: keep the JSON text raw
            // in a bad record that says why.
            let source = kind_name(&other).to_string();
            cut_bad(
                BadRecord {
                    v: SCHEMA_VERSION,
                    source,
                    error: "record larger than one CloudWatch event".into(),
                    raw: into_string(buf),
                    t: other.time_us(),
                    original_len: Some(original_len),
                    ..Default::default()
                },
                max,
            )
        }
    };
    Encoded {
        event: Event { timestamp, message },
        truncated: true,
    }
}

/// Microseconds to milliseconds, rounding down (also for times before 1970).
pub fn us_to_ms(us: i64) -> i64 {
    us.div_euclid(1000)
}

fn kind_name(record: &Record) -> &'static str {
    match record {
        Record::Alb(_) => "alb",
        Record::Clb(_) => "clb",
        Record::Nginx(_) => "nginx",
        Record::AlbConnection(_) => "alb-connection",
        Record::Nlb(_) => "nlb",
        Record::NginxError(_) => "nginx-error",
        Record::Mail(_) => "ses",
        Record::Bad(_) => "bad",
    }
}

fn into_string(buf: Vec<u8>) -> String {
    // serde_json writes UTF-8.
    String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Counts the bytes a value serialises to, without keeping them.
#[derive(Default)]
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn size_of<T: serde::Serialize>(value: &T) -> usize {
    let mut c = Counter::default();
    // Counting cannot fail (see `Record::to_json`).
    let _ = serde_json::to_writer(&mut c, value);
    c.0
}

fn to_json(record: &Record) -> String {
    let mut buf = Vec::new();
    record.write_json(&mut buf);
    into_string(buf)
}

/// Shortens the string `get` points to as little as possible (at least to `min` bytes) until
/// `fits`, by binary search over its length. Returns whether it fits.
fn shrink<T>(
    value: &mut T,
    get: fn(&mut T, usize) -> Option<&mut String>,
    field: usize,
    min: usize,
    fits: impl Fn(&T) -> bool,
) -> bool {
    let set = |value: &mut T, text: String| {
        if let Some(s) = get(value, field) {
            *s = text;
        }
    };
    let Some(full) = get(value, field).map(std::mem::take) else {
        return fits(value);
    };
    let prefix = |len: usize| {
        let mut end = len.min(full.len());
        while !full.is_char_boundary(end) {
            end -= 1;
        }
        full[..end].to_string()
    };
    set(value, prefix(min));
    if !fits(value) {
        return false;
    }
    // Invariant: a prefix of `lo` bytes fits, one of `hi` bytes does not.
    let (mut lo, mut hi) = (min.min(full.len()), full.len());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        set(value, prefix(mid));
        if fits(value) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    set(value, prefix(lo));
    true
}

fn cut_bad(mut bad: BadRecord, max: usize) -> String {
    bad.original_len.get_or_insert(bad.raw.len() as u64);
    bad.truncated = true;
    // The tag `"k":"bad",` adds a fixed number of bytes to the struct's own JSON.
    let tag = to_json(&Record::Bad(BadRecord::default())).len() - size_of(&BadRecord::default());
    let fits = |b: &BadRecord| size_of(b) + tag <= max;
    if !shrink(&mut bad, bad_field, 0, 0, fits) {
        // The error text itself is huge: cut it too.
        shrink(&mut bad, bad_field, 1, 0, fits);
    }
    to_json(&Record::Bad(bad))
}

fn bad_field(b: &mut BadRecord, i: usize) -> Option<&mut String> {
    match i {
        0 => Some(&mut b.raw),
        1 => Some(&mut b.error),
        _ => None,
    }
}

fn request_field(r: &mut RequestRecord, i: usize) -> Option<&mut String> {
    match i {
        0 => r.url.as_mut(),
        1 => r.user_agent.as_mut(),
        2 => r.referrer.as_mut(),
        3 => r.request_raw.as_mut(),
        4 => r.redirect_url.as_mut(),
        5 => r.forwarded_for.as_mut(),
        6 => r.transformed_uri.as_mut(),
        7 => r.error_reason.as_mut(),
        8 => r.transformed_host.as_mut(),
        9 => r.host.as_mut(),
        _ => None,
    }
}

/// Text fields kept at least this long when cut.
const KEEP: usize = 64;

fn cut_request(mut r: RequestRecord, max: usize, wrap: fn(RequestRecord) -> Record) -> String {
    r.truncated = true;
    let tag = to_json(&wrap(RequestRecord::default())).len() - size_of(&RequestRecord::default());
    let fits = |r: &RequestRecord| size_of(r) + tag <= max;
    for _ in 0..12 {
        if fits(&r) {
            return to_json(&wrap(r));
        }
        // Cut the longest text field first.
        let longest = (0..10)
            .filter_map(|i| request_field(&mut r, i).map(|s| (s.len(), i)))
            .filter(|(len, _)| *len > KEEP)
            .max();
        match longest {
            Some((_, i)) => {
                if shrink(&mut r, request_field, i, KEEP, fits) {
                    return to_json(&wrap(r));
                }
            }
            None => {
                r.extra.clear();
                r.vars.clear();
                break;
            }
        }
    }
    if fits(&r) {
        return to_json(&wrap(r));
    }
    // Only the time is left to keep.
    to_json(&wrap(RequestRecord {
        v: r.v,
        t: r.t,
        truncated: true,
        ..Default::default()
    }))
}

/// The default maximum message size.
pub const DEFAULT_MAX: usize = MAX_EVENT_BYTES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_record_unchanged() {
        let r = Record::Alb(RequestRecord {
            v: 1,
            t: 1_530_570_168_364_999,
            ..Default::default()
        });
        let e = encode(r.clone(), 0, DEFAULT_MAX);
        assert!(!e.truncated);
        assert_eq!(e.event.timestamp, 1_530_570_168_364);
        assert_eq!(e.event.message, r.to_json());
    }

    #[test]
    fn huge_url_is_cut_and_flagged() {
        let r = Record::Alb(RequestRecord {
            v: 1,
            t: 5_000,
            url: Some(format!("https://x/{}", "a\"é".repeat(600_000))),
            user_agent: Some("ua".repeat(100)),
            ..Default::default()
        });
        let e = encode(r, 0, DEFAULT_MAX);
        assert!(e.truncated);
        assert!(e.event.message.len() <= DEFAULT_MAX);
        let Record::Alb(back) = Record::from_json(&e.event.message).unwrap() else {
            panic!()
        };
        assert!(back.truncated);
        assert_eq!(back.user_agent.as_deref(), Some("ua".repeat(100).as_str()));
        // Escaped quotes take two bytes in JSON, so the raw URL kept is under 1 MB.
        assert!(back.url.unwrap().len() > 800_000);
        assert!(
            e.event.message.len() > DEFAULT_MAX - 8,
            "filled to the limit"
        );
    }

    #[test]
    fn huge_bad_line_keeps_original_length() {
        let raw = "\u{1}x".repeat(700_000);
        let r = Record::Bad(BadRecord {
            v: 1,
            source: "alb".into(),
            error: "too few fields".into(),
            raw: raw.clone(),
            line: 3,
            ..Default::default()
        });
        let e = encode(r, 42, 10_000);
        assert!(e.truncated);
        assert!(e.event.message.len() <= 10_000);
        assert_eq!(e.event.timestamp, 42);
        let Record::Bad(back) = Record::from_json(&e.event.message).unwrap() else {
            panic!()
        };
        assert!(back.truncated);
        assert_eq!(back.original_len, Some(raw.len() as u64));
        assert!(raw.starts_with(&back.raw));
    }

    #[test]
    fn huge_mail_record_becomes_cut_bad_record() {
        let r = Record::Mail(logdesk_core::record::MailRecord {
            v: 1,
            t: 9_000,
            event: "Bounce".into(),
            message_id: "m".into(),
            diagnostic: Some("d".repeat(50_000)),
            ..Default::default()
        });
        let e = encode(r, 0, 1_000);
        assert!(e.truncated && e.event.message.len() <= 1_000);
        assert_eq!(e.event.timestamp, 9);
        let Record::Bad(back) = Record::from_json(&e.event.message).unwrap() else {
            panic!()
        };
        assert_eq!(back.source, "ses");
        assert_eq!(back.t, Some(9_000));
    }

    #[test]
    fn negative_times_round_down() {
        assert_eq!(us_to_ms(-1), -1);
        assert_eq!(us_to_ms(1999), 1);
    }
}
