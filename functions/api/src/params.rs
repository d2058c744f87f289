//! Query parameters: the common ones every endpoint takes, and strict checking of the rest.
//!
//! Every parameter is read by name exactly once; a parameter the endpoint does not know is a
//! 400 naming it (a typo such as `recipent=` must not silently return everything).
//!
//! # Cursors
//!
//! A cursor is base64url JSON of `(tag, position)` ([`encode_cursor`]); the tag names the
//! endpoint and, where an endpoint has several kinds, the kind, so a cursor given to another
//! endpoint or order is a 400 naming `cursor`. The kinds:
//!
//! | tag | position | continues |
//! |---|---|---|
//! | `access`, `errors` | [`crate::group_read::Key`] | oldest first, after the last row shown |
//! | `access:desc` | [`crate::access::newest::LocalDesc`] | newest first, local engine |
//! | `access:desc:insights` | [`crate::access::newest::DescCursor`]: `After` (the last row shown), `Pending` (a Logs Insights query still running, by id, with the parameters' fingerprint) or `Busy` (a second with more rows than a query returns, read through the local engine, with the parameters' fingerprint) | newest first, Logs Insights |
//! | `mail`, `visits`, `stats` | the parameters' [`Params::fingerprint`] and a [`Resume`]: `Page` (the next page of a part; through Insights with its queries), `Rest` (the rest of the range, local engine) or `Pending` (the rest of the range, from Logs Insights queries still running or not started) | a range read in parts |
//!
//! A `Pending` cursor holds query ids ([`insights::Part`]): the request reads those queries'
//! results instead of starting them again; it answers partial again (an updated cursor) while
//! they run, restarts a lost query once, and is read by the local engine when Insights cannot
//! be used (`engine=local`). `/v1/mail` never makes one and refuses it.

use std::collections::BTreeMap;

use base64::Engine as _;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use logdesk_core::bounce::Lang;
use serde::{Serialize, de::DeserializeOwned};

use crate::config::Config;
use crate::error::ApiError;
use crate::insights::{self, Part};

/// The time-zone type of [`format_time`] and [`parse_time`] (jiff's).
pub type Zone = TimeZone;

/// Default number of rows per page.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;
/// Largest `limit` accepted with `format=csv` (an export, streamed).
pub const MAX_CSV_LIMIT: usize = 100_000;
/// Longest accepted parameter value, in bytes.
const MAX_VALUE_LEN: usize = 2048;
/// Longest accepted cursor, in bytes (a newest-first cursor names the rows of one millisecond).
const MAX_CURSOR_LEN: usize = 8192;

/// Order of a list's rows (`order=asc|desc`); each list has its own default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

/// The raw query string, parsed, with each parameter taken at most once.
#[derive(Debug, Default)]
pub struct Params {
    values: BTreeMap<String, String>,
}

impl Params {
    /// Parses `a=1&b=2`. A repeated parameter or an over-long value is a 400.
    pub fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let mut values = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if k.is_empty() {
                continue;
            }
            let max = if k == "cursor" {
                MAX_CURSOR_LEN
            } else {
                MAX_VALUE_LEN
            };
            if v.len() > max {
                return Err(ApiError::bad(&k, "value is too long"));
            }
            if values.insert(k.to_string(), v.to_string()).is_some() {
                return Err(ApiError::bad(&k, "parameter given more than once"));
            }
        }
        Ok(Params { values })
    }

    /// A digest of every parameter but `cursor`, `engine` and `lang` (empty values count as
    /// absent; the engines answer the same rows, and the language only changes explanations, as
    /// when the dashboard's language is switched between pages), taken before any is read: a
    /// cursor remembers it, so that a cursor given with other parameters than the request that
    /// made it is refused instead of continuing a different question.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (k, v) in &self.values {
            if matches!(k.as_str(), "cursor" | "engine" | "lang") || v.is_empty() {
                continue;
            }
            for part in [k.as_bytes(), b"\0", v.as_bytes(), b"\0"] {
                h.update(part);
            }
        }
        hex::encode(&h.finalize()[..12])
    }

    /// Takes a parameter; an empty value counts as absent.
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.values.remove(name).filter(|v| !v.is_empty())
    }

    /// Takes a boolean (`true`/`false`/`1`/`0`), `default` when absent.
    pub fn take_bool(&mut self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.take(name).as_deref() {
            None => Ok(default),
            Some("true" | "1") => Ok(true),
            Some("false" | "0") => Ok(false),
            Some(_) => Err(ApiError::bad(name, "expected true or false")),
        }
    }

    /// Takes `order`: `asc` (oldest first) or `desc` (newest first), `default` when absent.
    pub fn take_order(&mut self, default: Order) -> Result<Order, ApiError> {
        match self.take("order").as_deref() {
            None => Ok(default),
            Some("asc") => Ok(Order::Asc),
            Some("desc") => Ok(Order::Desc),
            Some(_) => Err(ApiError::bad("order", "expected asc or desc")),
        }
    }

    /// Fails with a 400 naming the first parameter nobody took.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.values.into_keys().next() {
            Some(k) => Err(ApiError::bad(&k, format!("unknown parameter {k:?}"))),
            None => Ok(()),
        }
    }
}

/// Output format of a list endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (the default).
    Json,
    /// CSV, UTF-8 with a byte-order mark so Excel reads Japanese correctly.
    Csv,
}

/// The parameters every endpoint shares.
#[derive(Debug, Clone)]
pub struct Common {
    /// Start of the range, inclusive, µs.
    pub from: i64,
    /// End of the range, exclusive, µs.
    pub to: i64,
    /// Display time zone.
    pub tz: TimeZone,
    /// The zone's name as given (for responses).
    pub tz_name: String,
    /// Language of explanations.
    pub lang: Lang,
    /// `lang` as asked for: a CSV for people (column titles in this language, times Excel
    /// reads as dates); without it a CSV keeps the machine column names and RFC 3339 times.
    pub csv_for: Option<Lang>,
    /// Rows per page.
    pub limit: usize,
    /// The raw cursor, decoded by the endpoint with [`decode_cursor`].
    pub cursor: Option<String>,
    /// Output format.
    pub format: Format,
    /// Start of the whole range as first asked (a continuation's `from` is later): what time
    /// buckets are aligned to.
    pub origin: i64,
}

impl Common {
    /// Formats a µs time in the display zone (RFC 3339 with offset).
    pub fn time(&self, us: i64) -> String {
        format_time(us, &self.tz)
    }

    /// Start of the range in ms (for the log reader).
    pub fn from_ms(&self) -> i64 {
        self.from.div_euclid(1000)
    }

    /// End of the range in ms, exclusive, rounded up.
    pub fn to_ms(&self) -> i64 {
        self.to.saturating_add(999).div_euclid(1000)
    }

    /// The whole seconds of the range, first and last, as Logs Insights takes a query's range.
    pub fn seconds(&self) -> (i64, i64) {
        (
            self.from.div_euclid(1_000_000),
            (self.to - 1).div_euclid(1_000_000),
        )
    }
}

/// Formats a µs time in `tz` as RFC 3339 with offset, to the millisecond when needed.
pub fn format_time(us: i64, tz: &TimeZone) -> String {
    match Timestamp::from_microsecond(us) {
        Ok(ts) => ts
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%.f%:z")
            .to_string(),
        Err(_) => us.to_string(),
    }
}

/// The start of a paged list: the query's parameters, their [`Params::fingerprint`] (what
/// its cursors are bound to) and the [`common`] ones (the last `default_hours` by default).
pub fn paged(
    q: Option<&str>,
    cfg: &Config,
    default_hours: i64,
) -> Result<(Params, String, Common), ApiError> {
    let mut p = Params::parse(q)?;
    let fingerprint = p.fingerprint();
    let c = common(&mut p, cfg, crate::now_us(), default_hours)?;
    Ok((p, fingerprint, c))
}

/// Reads the common parameters. `default_span_hours` is the range when `from` is absent.
pub fn common(
    p: &mut Params,
    cfg: &Config,
    now_us: i64,
    default_span_hours: i64,
) -> Result<Common, ApiError> {
    let (tz, tz_name) = match p.take("tz") {
        Some(name) => match TimeZone::get(&name) {
            Ok(tz) => (tz, name),
            Err(_) => {
                return Err(ApiError::bad(
                    "tz",
                    "unknown time zone (use an IANA name such as Asia/Tokyo or UTC)",
                ));
            }
        },
        None => (cfg.default_tz.clone(), cfg.default_tz_name.clone()),
    };
    let asked = p
        .take("lang")
        .map(|l| {
            l.parse::<Lang>()
                .map_err(|_| ApiError::bad("lang", "expected ja or en"))
        })
        .transpose()?;
    let lang = asked.unwrap_or(cfg.default_lang);
    let to = match p.take("to") {
        Some(v) => since_1970(
            "to",
            parse_time(&v, &tz, true).ok_or_else(|| bad_time("to"))?,
        )?,
        None => now_us,
    };
    let from = match p.take("from") {
        Some(v) => since_1970(
            "from",
            parse_time(&v, &tz, false).ok_or_else(|| bad_time("from"))?,
        )?,
        // No log is older than 1970: a default range reaching back past it starts there.
        None => to
            .saturating_sub(default_span_hours.saturating_mul(3_600_000_000))
            .max(0),
    };
    if from >= to {
        return Err(ApiError::bad("from", "from must be before to"));
    }
    let format = match p.take("format").as_deref() {
        None | Some("json") => Format::Json,
        Some("csv") => Format::Csv,
        Some(_) => return Err(ApiError::bad("format", "expected json or csv")),
    };
    // CSV is an export: it may ask for more rows, and its body is streamed.
    let max = if format == Format::Csv {
        MAX_CSV_LIMIT
    } else {
        MAX_LIMIT
    };
    let limit = match p.take("limit") {
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                return Err(ApiError::bad(
                    "limit",
                    format!("expected a whole number from 1 to {max}"),
                ));
            }
        },
        None => DEFAULT_LIMIT,
    };
    Ok(Common {
        from,
        to,
        tz,
        tz_name,
        lang,
        csv_for: asked,
        limit,
        cursor: p.take("cursor"),
        format,
        origin: from,
    })
}

/// `us` when it is not before 1970 (no log is, and the Logs APIs take no negative times), else a
/// 400 naming `name`.
fn since_1970(name: &str, us: i64) -> Result<i64, ApiError> {
    if us < 0 {
        return Err(ApiError::bad(name, "times before 1970 are not accepted"));
    }
    Ok(us)
}

fn bad_time(name: &str) -> ApiError {
    ApiError::bad(
        name,
        "expected an ISO 8601 time (2026-11-23T10:00:00+09:00) or a date (2026-11-23)",
    )
}

/// Parses an ISO 8601 instant (with `Z` or an offset), a local date-time (in `tz`) or a date
/// (its start in `tz`; as an `end`, the start of the next day so the whole day is included).
pub fn parse_time(v: &str, tz: &TimeZone, end: bool) -> Option<i64> {
    let v = v.trim();
    if let Ok(ts) = v.parse::<Timestamp>() {
        return Some(ts.as_microsecond());
    }
    if let Ok(dt) = v.parse::<DateTime>()
        && v.len() > 10
    {
        return dt
            .to_zoned(tz.clone())
            .ok()
            .map(|z| z.timestamp().as_microsecond());
    }
    let date: Date = v.parse().ok()?;
    let date = if end {
        date.checked_add(1.day()).ok()?
    } else {
        date
    };
    date.to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp().as_microsecond())
}

/// The 400 of a cursor that no answer of this endpoint gives (another endpoint's, a forged or
/// damaged one).
pub fn bad_cursor() -> ApiError {
    ApiError::bad(
        "cursor",
        "not a cursor from this endpoint (start again without it)",
    )
}

/// The 400 of a cursor given with other parameters than the request that made it.
pub fn other_parameters() -> ApiError {
    ApiError::bad(
        "cursor",
        "this cursor belongs to a request with other parameters (repeat them exactly, or start again without the cursor)",
    )
}

/// Encodes a cursor: the endpoint's position key, as base64url JSON with the endpoint's tag.
pub fn encode_cursor<K: Serialize>(tag: &str, key: &K) -> String {
    let json = serde_json::to_vec(&(tag, key)).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// Decodes a cursor made by [`encode_cursor`] with the same tag; anything else is a 400.
pub fn decode_cursor<K: DeserializeOwned>(
    tag: &str,
    raw: Option<&str>,
) -> Result<Option<K>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw)
        .map_err(|_| bad_cursor())?;
    let (t, key): (String, K) = serde_json::from_slice(&bytes).map_err(|_| bad_cursor())?;
    if t != tag {
        return Err(bad_cursor());
    }
    Ok(Some(key))
}

/// A stand-in for personal data in a cursor (a recipient's address, a visitor's IP and user
/// agent): 64 bits of the SHA-256 of `parts` (an absent part differs from an empty one). Rows
/// that a cursor names by it are ordered by it too, so the cursor needs nothing else.
pub fn digest(parts: &[Option<&str>]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        match p {
            Some(v) => {
                h.update([1]);
                h.update(v.as_bytes());
                h.update([0]);
            }
            None => h.update([2]),
        }
    }
    hex::encode(&h.finalize()[..8])
}

/// Encodes a cursor bound to the parameters of the request that made it (`fingerprint`, see
/// [`Params::fingerprint`]).
pub fn encode_bound<K: Serialize>(tag: &str, fingerprint: &str, key: &K) -> String {
    encode_cursor(tag, &(fingerprint, key))
}

/// Decodes a cursor made by [`encode_bound`] with the same tag; one made with other
/// parameters is a 400 naming `cursor`, as is anything else.
pub fn decode_bound<K: DeserializeOwned>(
    tag: &str,
    fingerprint: &str,
    raw: Option<&str>,
) -> Result<Option<K>, ApiError> {
    match decode_cursor::<(String, K)>(tag, raw)? {
        None => Ok(None),
        Some((fp, _)) if fp != fingerprint => Err(other_parameters()),
        Some((_, key)) => Ok(Some(key)),
    }
}

/// Where the next answer of a range read in parts starts: the cursor of `/v1/mail`,
/// `/v1/visits` and `/v1/stats`.
///
/// An answer that ran out of time (partial) covers exactly `[from, covered_to)`: what was read
/// at or after `covered_to` is dropped, so every row and number is exact for that sub-range.
/// Its cursor asks for `[covered_to, to)`: a [`Resume::Rest`] when the local engine answered,
/// a [`Resume::Pending`] when Logs Insights did (it carries the queries still running, by id,
/// so that they are read instead of started again). An answer with more rows than `limit` has
/// a [`Resume::Page`] cursor: the next page of the same sub-range, after the last row shown
/// (through Insights, with the queries' ids, so a page reads results instead of running
/// queries). The kinds are distinct variants, so none can be taken for another, and all
/// remember the parameters' [`Params::fingerprint`]: given with other parameters, a cursor is a
/// 400 naming `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub enum Resume<K> {
    /// The next page of rows of `[start, end)` (µs), after row `after`.
    Page {
        /// Start of the sub-range, µs.
        start: i64,
        /// End of the sub-range (exclusive), µs.
        end: i64,
        /// End of the whole range, µs (fixed by the first answer, even when `to` was "now").
        to: i64,
        /// Start of the whole range as first asked, µs.
        origin: i64,
        /// The last row shown.
        after: K,
        /// Through Logs Insights: the queries of `[start, to)` (those of `[start, end)`
        /// complete), to read by id. Empty for the local engine.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        parts: Vec<Part>,
    },
    /// The rest of the range, `[start, to)` (µs).
    Rest {
        /// Where the answer continues (the previous answer's `covered_to`), µs.
        start: i64,
        /// End of the whole range, µs.
        to: i64,
        /// Start of the whole range as first asked, µs.
        origin: i64,
    },
    /// The rest of the range, `[start, to)` (µs), read through Logs Insights queries that were
    /// still running (or not started) when the previous answer ran out of time.
    Pending {
        /// Where the answer continues (the previous answer's `covered_to`), µs.
        start: i64,
        /// End of the whole range, µs.
        to: i64,
        /// Start of the whole range as first asked, µs.
        origin: i64,
        /// The queries of `[start, to)`, with their ids once started.
        parts: Vec<Part>,
    },
}

/// Where a request of a range-read endpoint reads, from its cursor (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window<K> {
    /// Start of the part to read, µs (the range's `from` unless continued).
    pub start: i64,
    /// End of the part to read (exclusive), µs: `to` unless this is a later page of a part.
    pub end: i64,
    /// Row to continue after (a later page).
    pub after: Option<K>,
    /// Logs Insights queries of `[start, to)` carried by the cursor (a [`Resume::Pending`], or
    /// a [`Resume::Page`] of an Insights answer): each [`Part::valid`], at most
    /// [`insights::MAX_PARTS`]; how they must split the range is the endpoint's to check.
    /// Empty otherwise.
    pub parts: Vec<Part>,
}

/// Reads the cursor of a range-read endpoint tagged `tag`: checks that it was made with the
/// same parameters (`fingerprint`), fixes `c`'s range to the one the cursor carries (`c.from`
/// becomes where this part starts; `c.to` and `c.origin` those of the first answer), and says
/// which part and page to read.
pub fn resume<K: DeserializeOwned>(
    tag: &str,
    fingerprint: &str,
    c: &mut Common,
) -> Result<Window<K>, ApiError> {
    let Some(r) = decode_cursor::<(String, Resume<K>)>(tag, c.cursor.as_deref())? else {
        return Ok(Window {
            start: c.from,
            end: c.to,
            after: None,
            parts: Vec::new(),
        });
    };
    if r.0 != fingerprint {
        return Err(other_parameters());
    }
    let (start, end, to, origin, after, parts) = match r.1 {
        Resume::Page {
            start,
            end,
            to,
            origin,
            after,
            parts,
        } => (start, end, to, origin, Some(after), parts),
        Resume::Rest { start, to, origin } => (start, to, to, origin, None, Vec::new()),
        Resume::Pending {
            start,
            to,
            origin,
            parts,
        } if !parts.is_empty() => (start, to, to, origin, None, parts),
        Resume::Pending { .. } => return Err(bad_cursor()),
    };
    let valid = |us: i64| Timestamp::from_microsecond(us).is_ok();
    if !(valid(origin)
        && valid(to)
        && origin <= start
        && start < end
        && end <= to
        && parts.len() <= insights::MAX_PARTS
        && parts.iter().all(Part::valid))
    {
        return Err(bad_cursor());
    }
    c.from = start;
    c.to = to;
    c.origin = origin;
    Ok(Window {
        start,
        end,
        after,
        parts,
    })
}

/// The cursor of the answer to `c` (whose part started at `c.from`) that covered
/// `[c.from, covered)` and showed rows up to `last` when more rows of that part remain:
/// the next page of the part, else the rest of the range when `covered` is short of `c.to`,
/// else none. `parts`: the Logs Insights queries of `[c.from, c.to)` when Insights answered
/// (a page cursor carries them all, a continuation those from `covered` on), else empty.
pub fn next_cursor<K: Serialize>(
    tag: &str,
    fingerprint: &str,
    c: &Common,
    covered: i64,
    more_after: Option<K>,
    parts: Vec<Part>,
) -> Option<String> {
    let first = covered.div_euclid(1_000_000);
    let r = match more_after {
        Some(after) => Resume::Page {
            start: c.from,
            end: covered,
            to: c.to,
            origin: c.origin,
            after,
            parts: insights::cap(parts),
        },
        None if covered < c.to => {
            let parts: Vec<Part> = parts.into_iter().filter(|p| p.e >= first).collect();
            if parts.is_empty() {
                Resume::Rest {
                    start: covered,
                    to: c.to,
                    origin: c.origin,
                }
            } else {
                Resume::Pending {
                    start: covered,
                    to: c.to,
                    origin: c.origin,
                    parts: insights::cap(parts),
                }
            }
        }
        None => return None,
    };
    Some(encode_cursor(tag, &(fingerprint, r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> TimeZone {
        TimeZone::get("Asia/Tokyo").unwrap()
    }

    #[test]
    fn times_in_every_accepted_shape() {
        let tz = tokyo();
        let cases: &[(&str, bool, Option<&str>)] = &[
            ("2026-11-23T10:00:00Z", false, Some("2026-11-23T10:00:00Z")),
            (
                "2026-11-23T19:00:00+09:00",
                false,
                Some("2026-11-23T10:00:00Z"),
            ),
            ("2026-11-23T19:00:00", false, Some("2026-11-23T10:00:00Z")),
            ("2026-11-23", false, Some("2026-11-22T15:00:00Z")),
            ("2026-11-23", true, Some("2026-11-23T15:00:00Z")),
            ("2026-13-01", false, None),
            ("yesterday", false, None),
            ("", false, None),
        ];
        for (input, end, want) in cases {
            let got = parse_time(input, &tz, *end);
            let want = want.map(|w| w.parse::<Timestamp>().unwrap().as_microsecond());
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn formats_times_in_the_display_zone() {
        let us = "2026-11-23T10:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_microsecond();
        assert_eq!(format_time(us, &tokyo()), "2026-11-23T19:00:00+09:00");
        assert_eq!(
            format_time(us + 1500, &tokyo()),
            "2026-11-23T19:00:00.0015+09:00"
        );
    }

    #[test]
    fn cursors_round_trip_and_reject_other_endpoints() {
        let c = encode_cursor("mail", &(5_i64, "x".to_owned()));
        let back: Option<(i64, String)> = decode_cursor("mail", Some(&c)).unwrap();
        assert_eq!(back, Some((5, "x".to_owned())));
        assert!(decode_cursor::<(i64, String)>("access", Some(&c)).is_err());
        assert!(decode_cursor::<(i64, String)>("mail", Some("!!")).is_err());
    }

    #[test]
    fn fingerprints_ignore_cursor_engine_lang_and_parameter_order() {
        let fp = |q: &str| Params::parse(Some(q)).unwrap().fingerprint();
        let base = fp("from=2026-11-20&to=2026-11-21&status=5xx");
        assert_eq!(base, fp("status=5xx&to=2026-11-21&from=2026-11-20"));
        assert_eq!(
            base,
            fp("from=2026-11-20&to=2026-11-21&status=5xx&cursor=x&engine=local&lang=en&ip=")
        );
        assert_ne!(base, fp("from=2026-11-20&to=2026-11-21&status=4xx"));
        assert_ne!(base, fp("from=2026-11-20&to=2026-11-21&status=5xx&limit=5"));
        // Keys and values cannot run into each other.
        assert_ne!(fp("a=bc"), fp("ab=c"));
    }

    #[test]
    fn continuations_are_rest_locally_and_pending_with_insights_queries() {
        let cfg = Config::from_lookup(|_| None).unwrap();
        let mut p =
            Params::parse(Some("from=2026-11-20T00:00:00Z&to=2026-11-20T00:00:10Z")).unwrap();
        let c = common(&mut p, &cfg, 0, 24).unwrap();
        let base = c.from;
        let s0 = base / 1_000_000;
        let decode = |cursor: Option<String>| {
            decode_cursor::<(String, Resume<()>)>("stats", cursor.as_deref())
                .unwrap()
                .map(|r| r.1)
        };
        let half = base + 5_000_000;
        assert_eq!(
            decode(next_cursor::<()>("stats", "fp", &c, half, None, Vec::new())),
            Some(Resume::Rest {
                start: half,
                to: c.to,
                origin: base
            })
        );
        let parts = vec![
            Part {
                q: Some("q0".to_owned()),
                ..Part::new(s0, s0 + 4)
            },
            Part {
                q: Some("q1".to_owned()),
                ..Part::new(s0 + 5, s0 + 9)
            },
        ];
        // The queries of the rest only.
        assert_eq!(
            decode(next_cursor::<()>(
                "stats",
                "fp",
                &c,
                half,
                None,
                parts.clone()
            )),
            Some(Resume::Pending {
                start: half,
                to: c.to,
                origin: base,
                parts: parts[1..].to_vec()
            })
        );
        assert_eq!(
            next_cursor::<()>("stats", "fp", &c, c.to, None, parts),
            None
        );
        // Read back: a Pending cursor names its queries; one with none is refused.
        let mut c2 = c.clone();
        c2.cursor = next_cursor::<()>("stats", "fp", &c, c.from, None, vec![Part::new(s0, s0 + 9)]);
        let w = resume::<()>("stats", "fp", &mut c2).unwrap();
        assert_eq!(w.parts, vec![Part::new(s0, s0 + 9)]);
        assert!(
            resume::<()>("stats", "other", &mut c.clone()).is_ok(),
            "no cursor"
        );
        let mut c3 = c.clone();
        c3.cursor = Some(encode_cursor(
            "stats",
            &(
                "fp",
                Resume::<()>::Pending {
                    start: base,
                    to: c.to,
                    origin: base,
                    parts: Vec::new(),
                },
            ),
        ));
        assert!(resume::<()>("stats", "fp", &mut c3).is_err());
    }

    #[test]
    fn repeated_and_unknown_parameters_are_named() {
        let e = Params::parse(Some("a=1&a=2")).unwrap_err();
        assert!(matches!(e, ApiError::BadParameter { ref parameter, .. } if parameter == "a"));
        let mut p = Params::parse(Some("limit=5&recipent=x")).unwrap();
        assert_eq!(p.take("limit").as_deref(), Some("5"));
        let e = p.finish().unwrap_err();
        assert!(
            matches!(e, ApiError::BadParameter { ref parameter, .. } if parameter == "recipent")
        );
    }
}
