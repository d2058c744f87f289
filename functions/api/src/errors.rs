//! Errors: nginx error-log entries by level and text.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use jiff::tz::TimeZone;
use logdesk_core::Record;
use logdesk_core::nginx_error;
use logdesk_core::nginx_error_explain::{self, ErrorExplanation, ErrorKind};
use logdesk_core::record::ErrorRecord;
use serde::Serialize;

use crate::AppState;
use crate::csv;
use crate::error::ApiError;
use crate::group_read::{self, Key, read_group};
use crate::params::{self, Common, Order, Params};
use crate::pattern;
use crate::respond::{CsvRow, Page, respond_counted};
use crate::source::{FetchRequest, LogEvent};

/// nginx levels, most severe first.
const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
];

/// Severity rank of a level (`stderr` ranks as `error`); unknown levels rank last.
fn rank(level: &str) -> usize {
    if level == "stderr" {
        return 3;
    }
    LEVELS
        .iter()
        .position(|l| *l == level)
        .unwrap_or(LEVELS.len())
}

/// One row of `/v1/errors`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorRow {
    /// When nginx wrote it, display zone.
    pub time: String,
    /// Level.
    pub level: String,
    /// The message (may contain newlines).
    pub message: String,
    /// Client.
    pub client: Option<String>,
    /// Server name.
    pub server: Option<String>,
    /// Request line.
    pub request: Option<String>,
    /// Upstream.
    pub upstream: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// Referrer.
    pub referrer: Option<String>,
    /// Worker pid.
    pub pid: Option<u32>,
    /// What kind of problem it is (`upstream_timeout`, `body_too_large`, …, `other`).
    #[schema(value_type = String)]
    pub kind: ErrorKind,
    /// The message without what changes between occurrences: identical messages share it.
    pub group: String,
    /// The message in plain words with what an engineer checks, for the common kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<ErrorExplanation>,
}

/// Whether one field of the entry contains `needle` (lowercase), case-insensitively: a phrase
/// never matches across two fields, and a newline matches only a field that holds one.
fn text_matches(r: &ErrorRecord, needle: &str) -> bool {
    [
        Some(r.message.as_str()),
        r.client.as_deref(),
        r.server.as_deref(),
        r.request.as_deref(),
        r.upstream.as_deref(),
        r.host.as_deref(),
        r.referrer.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|field| field.to_lowercase().contains(needle))
}

/// Reads `level`: the rank of the least severe level to include.
fn take_level(p: &mut Params) -> Result<Option<usize>, ApiError> {
    let Some(l) = p.take("level") else {
        return Ok(None);
    };
    let l = l.to_ascii_lowercase();
    if !LEVELS.contains(&l.as_str()) {
        return Err(ApiError::bad(
            "level",
            "expected emerg, alert, crit, error, warn, notice, info or debug",
        ));
    }
    Ok(Some(rank(&l)))
}

/// One error-log entry: a logdesk record (a backfill through ingest) or a raw nginx line.
fn entry_of(e: &LogEvent, tz: &TimeZone) -> Option<ErrorRecord> {
    if e.message.starts_with('{') {
        match Record::from_json(&e.message) {
            Ok(Record::NginxError(r)) => Some(r),
            _ => None,
        }
    } else {
        nginx_error::parse_line(&e.message, tz).ok()
    }
}

/// `GET /v1/errors`: entries, oldest first (`order=desc`: newest first). `level` is the least
/// severe level to include (`warn` gives warn, error, crit, alert and emerg); `text` is a
/// case-insensitive substring. Each row carries its `kind`, a `group` key shared by identical
/// messages and, for the common messages, an `explanation` in the requested language.
pub async fn list(State(st): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let (mut p, fingerprint, c) = params::paged(q.as_deref(), &st.config, 24)?;
    let level = take_level(&mut p)?;
    let text = p.take("text");
    let desc = p.take_order(Order::Asc)? == Order::Desc;
    p.finish()?;
    let tag = if desc { "errors:desc" } else { "errors" };
    let after: Option<Key> = params::decode_bound(tag, &fingerprint, c.cursor.as_deref())?;
    if after.as_ref().is_some_and(|k| !k.fits(c.to_ms(), 1)) {
        return Err(params::bad_cursor());
    }
    let needle = text.as_deref().map(str::to_lowercase);
    let req = FetchRequest {
        group: st.config.nginx_error_group.clone(),
        start_ms: c.from_ms(),
        end_ms: c.to_ms(),
        pattern: text.as_deref().and_then(pattern::contains_ignore_case),
        next: None,
    };
    let (from, to) = (c.from, c.to);
    let tz = st.config.default_tz.clone();
    // Newest first reads the whole range (error logs are short) and pages backwards by key.
    let (start_after, want) = if desc {
        (None, None)
    } else {
        (after.as_ref(), Some(c.limit))
    };
    let read = read_group(&*st.source, req, 0, start_after, want, st.limits(), |e| {
        let r = entry_of(e, &tz)?;
        let ok = r.t >= from
            && r.t < to
            && level.is_none_or(|max| rank(&r.level) <= max)
            && needle.as_deref().is_none_or(|n| text_matches(&r, n));
        ok.then_some(r)
    })
    .await?;
    // Newest first holds every entry of the range: the total is free when the read finished.
    let total = (desc && !read.cut).then_some(read.rows.len());
    let (rows, next, partial) = if desc {
        newest_first(read, after.as_ref(), c.limit)
    } else {
        let merged = group_read::merge(vec![read], c.limit);
        (merged.rows, merged.next, merged.partial)
    };
    let page = Page {
        engine: st.source.engine(),
        rows: rows.into_iter().map(|(_, r)| ErrorRow::of(&c, r)).collect(),
        next: next.map(|k| params::encode_bound(tag, &fingerprint, &k)),
        partial,
        covered_to: None,
    };
    Ok(respond_counted(&c, page, total))
}

type Found = (Vec<(Key, ErrorRecord)>, Option<Key>, bool);

/// The page of `read` (the whole range) before `after`, newest first.
fn newest_first(
    read: group_read::GroupRows<ErrorRecord>,
    after: Option<&Key>,
    limit: usize,
) -> Found {
    let partial = read.cut;
    let mut rows: Vec<(Key, ErrorRecord)> = read
        .rows
        .into_iter()
        .filter(|(k, _)| after.is_none_or(|a| k < a))
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| r.0.clone())
    } else {
        None
    };
    (rows, next, partial)
}

impl ErrorRow {
    fn of(c: &Common, r: ErrorRecord) -> ErrorRow {
        let kind = nginx_error_explain::kind_of(&r.message);
        ErrorRow {
            kind,
            group: nginx_error_explain::group_key(&r.message),
            explanation: kind.explain(c.lang),
            time: c.time(r.t),
            level: r.level,
            message: r.message,
            client: r.client,
            server: r.server,
            request: r.request,
            upstream: r.upstream,
            host: r.host,
            referrer: r.referrer,
            pid: r.pid,
        }
    }
}

impl CsvRow for ErrorRow {
    const NAME: &'static str = "errors";
    const COLUMNS: &'static [&'static str] = &[
        "time", "level", "message", "client", "server", "request", "upstream", "host", "referrer",
    ];

    fn csv_lines(self) -> Vec<Vec<String>> {
        let r = self;
        vec![vec![
            r.time,
            r.level,
            r.message,
            csv::opt(r.client),
            csv::opt(r.server),
            csv::opt(r.request),
            csv::opt(r.upstream),
            csv::opt(r.host),
            csv::opt(r.referrer),
        ]]
    }
}
