//! Logs Insights result rows read into typed values, defensively: a row that lacks a field its
//! query must produce, or holds a value of the wrong shape, is a [`ResultError`] (the request
//! answers 502 and logs why), never a zero. An engine that does not run the query as written
//! (the local emulator ignores `stats` and answers raw rows) is caught here instead of
//! answering an empty day.
//!
//! `@timestamp` is read in both forms seen: AWS's `2026-11-20 00:05:00.000` (UTC) and epoch
//! milliseconds (the emulator's).

use std::collections::BTreeMap;

use jiff::civil::DateTime;

use super::query::{Bins, Breakdown, MAX_ROWS};

/// One result row: field → value.
pub type Row = BTreeMap<String, String>;

/// A result that is not what its query produces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    /// A row lacks a field its query always produces.
    #[error("a Logs Insights result row lacks `{field}`, which its query produces")]
    Missing {
        /// The field.
        field: &'static str,
    },
    /// A field holds a value of the wrong shape.
    #[error("a Logs Insights result has `{field}` = {value:?}, not {expected}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// The value, cut to 64 characters.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An aggregate without `by` answered more than one row.
    #[error("a Logs Insights totals query answered {rows} rows instead of at most one")]
    Rows {
        /// Rows answered.
        rows: usize,
    },
}

/// `@timestamp` as epoch milliseconds, from AWS's `YYYY-MM-DD HH:MM:SS.mmm` (UTC) or from a
/// number of milliseconds (the emulator's form). `None` for anything else.
pub fn timestamp_ms(v: &str) -> Option<i64> {
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse().ok();
    }
    let dt: DateTime = v.replacen(' ', "T", 1).parse().ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

pub(super) fn field<'a>(row: &'a Row, name: &'static str) -> Result<&'a str, ResultError> {
    row.get(name)
        .map(String::as_str)
        .ok_or(ResultError::Missing { field: name })
}

fn malformed(name: &'static str, v: &str, expected: &'static str) -> ResultError {
    ResultError::Malformed {
        field: name,
        value: v.chars().take(64).collect(),
        expected,
    }
}

/// A field that must hold a whole number of at least 0 (Insights may print `8` or `8.0`).
pub(super) fn count(row: &Row, name: &'static str) -> Result<u64, ResultError> {
    let v = field(row, name)?;
    match v.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n < 2f64.powi(53) => Ok(n as u64),
        _ => Err(malformed(name, v, "a whole number")),
    }
}

/// A field that must hold a whole number (a bucket key, which may be negative).
pub(super) fn whole_key(row: &Row, name: &'static str) -> Result<i64, ResultError> {
    let v = field(row, name)?;
    match v.parse::<f64>() {
        Ok(k) if k.is_finite() && k.fract() == 0.0 && k.abs() < 2f64.powi(53) => Ok(k as i64),
        _ => Err(malformed(name, v, "a whole bucket number")),
    }
}

/// A field that may be absent (Insights leaves out a null, e.g. a percentile of no latencies)
/// but, when present, is a number.
fn number(row: &Row, name: &'static str) -> Result<Option<f64>, ResultError> {
    match row.get(name) {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(Some(n)),
            _ => Err(malformed(name, v, "a number")),
        },
    }
}

/// A latency field in seconds, to the microsecond as the local engine gives it: Insights sums
/// the three processing times in floating point (0.0030000000000000005).
fn seconds(row: &Row, name: &'static str) -> Result<Option<f64>, ResultError> {
    Ok(number(row, name)?.map(logdesk_core::record::to_microsecond))
}

/// A raw record row of [`super::newest_query`] / [`super::messages_query`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `@timestamp`, epoch milliseconds.
    pub t_ms: i64,
    /// `@ptr`: the record's unique pointer.
    pub ptr: String,
    /// `@message`: the record as ingest wrote it.
    pub message: String,
}

impl Message {
    /// Reads every row; the first that lacks `@timestamp`, `@ptr` or `@message`, or whose
    /// `@timestamp` is in neither known form, is the error.
    pub fn read_all(rows: Vec<Row>) -> Result<Vec<Message>, ResultError> {
        rows.into_iter().map(Message::read).collect()
    }

    /// Reads one row.
    pub fn read(mut row: Row) -> Result<Message, ResultError> {
        let t = field(&row, "@timestamp")?;
        let t_ms = timestamp_ms(t).ok_or_else(|| {
            malformed(
                "@timestamp",
                t,
                "`YYYY-MM-DD HH:MM:SS.mmm` or epoch milliseconds",
            )
        })?;
        let ptr = row
            .remove("@ptr")
            .ok_or(ResultError::Missing { field: "@ptr" })?;
        let message = row
            .remove("@message")
            .ok_or(ResultError::Missing { field: "@message" })?;
        Ok(Message { t_ms, ptr, message })
    }
}

/// Latency statistics of [`super::totals_query`], in seconds (percentiles to the µs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    /// Mean.
    pub mean: Option<f64>,
    /// 50th percentile.
    pub median: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

/// The one row of [`super::totals_query`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// Records.
    pub count: u64,
    /// 4xx answers of the load balancer.
    pub client_errors: u64,
    /// 5xx answers of the load balancer.
    pub server_errors: u64,
    /// 5xx answers of the targets.
    pub target_server_errors: u64,
    /// Latencies; `None` when no record had one.
    pub latency: Option<Latency>,
    /// Distinct (client IP, User-Agent) pairs: `count_distinct`, which AWS documents as an
    /// approximation for fields with many distinct values.
    pub visitors: u64,
}

impl Totals {
    /// Reads the rows of a totals query: none (no record in the range) or one with `count` and
    /// the three error sums.
    pub fn read(rows: &[Row]) -> Result<Totals, ResultError> {
        let row = match rows {
            [] => return Ok(Totals::default()),
            [row] => row,
            _ => return Err(ResultError::Rows { rows: rows.len() }),
        };
        let latency = match seconds(row, "max")? {
            None => None,
            Some(max) => Some(Latency {
                mean: number(row, "mean")?,
                median: seconds(row, "median")?,
                p90: seconds(row, "p90")?,
                p95: seconds(row, "p95")?,
                p99: seconds(row, "p99")?,
                max: Some(max),
            }),
        };
        Ok(Totals {
            count: count(row, "count")?,
            client_errors: count(row, "client_errors")?,
            server_errors: count(row, "server_errors")?,
            target_server_errors: count(row, "target_server_errors")?,
            latency,
            visitors: count(row, "visitors")?,
        })
    }
}

/// The rows of a [`super::breakdown_query`]: each raw value with its count, most first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shares {
    /// (value, records); a row without the value (a record without a status) is left out.
    pub rows: Vec<(String, u64)>,
    /// Insights answered [`MAX_ROWS`] rows: rarer values may be missing.
    pub capped: bool,
}

impl Shares {
    /// Reads the rows of the `which` breakdown: each needs a whole `count`.
    pub fn read(rows: &[Row], which: Breakdown) -> Result<Shares, ResultError> {
        let mut out = Shares {
            rows: Vec::with_capacity(rows.len()),
            capped: rows.len() >= MAX_ROWS,
        };
        for row in rows {
            let n = count(row, "count")?;
            if let Some(v) = row.get(which.key()) {
                out.rows.push((v.clone(), n));
            }
        }
        Ok(out)
    }
}

/// One row of [`super::groups_query`]: the requests of one method and URL (without query).
#[derive(Debug, Clone, PartialEq)]
pub struct PathRow {
    /// The method; `None` for records without one (`-` or absent).
    pub method: Option<String>,
    /// The URL without its query; `None` for records without one (`-` or absent).
    pub url: Option<String>,
    /// Records.
    pub count: u64,
    /// 4xx answers of the load balancer.
    pub client_errors: u64,
    /// 5xx answers of the load balancer.
    pub server_errors: u64,
    /// 5xx answers of the targets.
    pub target_server_errors: u64,
    /// 5xx answers of the load balancer without a 5xx of the target.
    pub lb_only_server_errors: u64,
    /// Latencies; `None` when no record had one.
    pub latency: Option<PathLatency>,
}

/// The latency summary of a [`PathRow`], seconds (to the µs but for the mean).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathLatency {
    /// Records with a latency.
    pub count: u64,
    /// Mean.
    pub mean: f64,
    /// Smallest, 50th, 90th, 95th and 99th percentile, largest.
    pub knots: [f64; 6],
}

impl PathRow {
    /// Reads every row of a groups query.
    pub fn read_all(rows: &[Row]) -> Result<Vec<PathRow>, ResultError> {
        rows.iter().map(PathRow::read).collect()
    }

    fn read(row: &Row) -> Result<PathRow, ResultError> {
        // Absent (a group of null values) or `-`: the record had none.
        let named = |name: &'static str| row.get(name).filter(|v| *v != "-").cloned();
        let server_errors = count(row, "server_errors")?;
        let both = count(row, "both_server_errors")?;
        let timed = count(row, "timed")?;
        let latency = if timed == 0 {
            None
        } else {
            let need = |name: &'static str| {
                seconds(row, name)?.ok_or(ResultError::Missing { field: name })
            };
            Some(PathLatency {
                count: timed,
                mean: number(row, "mean")?.ok_or(ResultError::Missing { field: "mean" })?,
                knots: [
                    need("min")?,
                    need("p50")?,
                    need("p90")?,
                    need("p95")?,
                    need("p99")?,
                    need("max")?,
                ],
            })
        };
        Ok(PathRow {
            method: named("gm"),
            url: named("gu"),
            count: count(row, "count")?,
            client_errors: count(row, "client_errors")?,
            server_errors,
            target_server_errors: count(row, "target_server_errors")?,
            lb_only_server_errors: server_errors.saturating_sub(both),
            latency,
        })
    }
}

/// One row of [`super::series_query`]: a bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesBin {
    /// Start of the bucket, µs.
    pub start_us: i64,
    /// Records.
    pub count: u64,
    /// 4xx answers of the load balancer.
    pub client_errors: u64,
    /// 5xx answers of the load balancer.
    pub server_errors: u64,
    /// Median latency, seconds.
    pub p50: Option<f64>,
    /// 95th percentile latency, seconds.
    pub p95: Option<f64>,
    /// Largest latency, seconds.
    pub max: Option<f64>,
}

impl SeriesBin {
    /// Reads every row of a series query cut by `bins`, oldest bucket first.
    pub fn read_all(rows: &[Row], bins: Bins) -> Result<Vec<SeriesBin>, ResultError> {
        let mut out = rows
            .iter()
            .map(|r| SeriesBin::read(r, bins))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|b| b.start_us);
        Ok(out)
    }

    fn read(row: &Row, bins: Bins) -> Result<SeriesBin, ResultError> {
        Ok(SeriesBin {
            start_us: bins.start_us(whole_key(row, "bucket")?),
            count: count(row, "count")?,
            client_errors: count(row, "client_errors")?,
            server_errors: count(row, "server_errors")?,
            p50: seconds(row, "p50")?,
            p95: seconds(row, "p95")?,
            max: seconds(row, "max")?,
        })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A row of `(field, value)` pairs.
    pub(in crate::insights) fn row(pairs: &[(&str, &str)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn timestamps_in_both_forms() {
        let cases = [
            (
                "aws_form",
                "2026-11-20 00:05:00.000",
                Some(1_795_133_100_000),
            ),
            (
                "aws_form_with_ms",
                "2026-11-20 00:05:00.123",
                Some(1_795_133_100_123),
            ),
            (
                "epoch_ms_emulator_form",
                "1795133100123",
                Some(1_795_133_100_123),
            ),
            (
                "iso_t_form",
                "2026-11-20T00:05:00.000",
                Some(1_795_133_100_000),
            ),
            ("empty", "", None),
            ("words", "soon", None),
            ("negative_number", "-5", None),
            ("number_too_big", "99999999999999999999999", None),
        ];
        for (name, v, want) in cases {
            assert_eq!(timestamp_ms(v), want, "{name}");
        }
    }

    #[test]
    fn message_rows_need_their_three_fields() {
        let ok = row(&[
            ("@timestamp", "1795133100123"),
            ("@ptr", "p1"),
            ("@message", "{}"),
        ]);
        assert_eq!(
            Message::read(ok.clone()),
            Ok(Message {
                t_ms: 1_795_133_100_123,
                ptr: "p1".to_owned(),
                message: "{}".to_owned()
            })
        );
        for missing in ["@timestamp", "@ptr", "@message"] {
            let mut r = ok.clone();
            r.remove(missing);
            assert_eq!(
                Message::read(r),
                Err(ResultError::Missing { field: missing })
            );
        }
        let mut r = ok;
        r.insert("@timestamp".to_owned(), "yesterday".to_owned());
        assert!(matches!(
            Message::read(r),
            Err(ResultError::Malformed {
                field: "@timestamp",
                ..
            })
        ));
    }

    #[test]
    fn totals_are_read_or_refused_never_zeroed() {
        let full = row(&[
            ("count", "12"),
            ("client_errors", "1"),
            ("server_errors", "2.0"),
            ("target_server_errors", "0"),
            ("mean", "0.04"),
            ("p95", "0.0030000000000000005"),
            ("max", "0.05"),
            ("visitors", "7"),
        ]);
        let t = Totals::read(std::slice::from_ref(&full)).unwrap();
        assert_eq!((t.count, t.server_errors), (12, 2));
        let lat = t.latency.unwrap();
        assert_eq!(
            (lat.p95, lat.max, lat.median),
            (Some(0.003), Some(0.05), None)
        );
        assert_eq!(Totals::read(&[]), Ok(Totals::default()));
        // The emulator's shape: raw rows instead of the aggregate.
        let raw = row(&[("@timestamp", "1795133100123"), ("@message", "{}")]);
        assert_eq!(
            Totals::read(std::slice::from_ref(&raw)),
            Err(ResultError::Missing { field: "count" })
        );
        assert_eq!(
            Totals::read(&[raw.clone(), raw]),
            Err(ResultError::Rows { rows: 2 })
        );
        let mut bad = full;
        bad.insert("count".to_owned(), "-1".to_owned());
        assert!(matches!(
            Totals::read(&[bad]),
            Err(ResultError::Malformed { field: "count", .. })
        ));
    }

    #[test]
    fn series_rows_need_a_bucket_and_counts() {
        let hours = Bins {
            width_s: 3600,
            offset_s: 32_400,
        };
        let r = |bucket: &str| {
            row(&[
                ("bucket", bucket),
                ("count", "3"),
                ("client_errors", "0"),
                ("server_errors", "1"),
            ])
        };
        // Key 498657 = (2026-11-20T00:00:00Z + 9 h) / 1 h.
        let got = SeriesBin::read_all(&[r("498658"), r("4.98657E5")], hours).unwrap();
        assert_eq!(
            got.iter().map(|b| b.start_us).collect::<Vec<_>>(),
            [1_795_132_800_000_000, 1_795_136_400_000_000]
        );
        assert_eq!(got[0].p50, None);
        assert!(matches!(
            SeriesBin::read_all(&[r("1.5")], hours),
            Err(ResultError::Malformed {
                field: "bucket",
                ..
            })
        ));
        let raw = row(&[
            ("@timestamp", "2026-11-20 00:05:00.000"),
            ("@message", "{}"),
        ]);
        assert_eq!(
            SeriesBin::read_all(&[raw], hours),
            Err(ResultError::Missing { field: "bucket" })
        );
    }
}
