//! One way to answer a list, as JSON or CSV: [`respond`] with a [`Page`] of rows that know
//! their CSV columns ([`CsvRow`]).

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;

use crate::csv;
use crate::csv_header;
use crate::params::{Common, Format};

/// A row of a list endpoint, with its CSV form.
pub trait CsvRow: Serialize + Send + 'static {
    /// The CSV file's name, without `.csv`.
    const NAME: &'static str;
    /// The CSV header.
    const COLUMNS: &'static [&'static str];
    /// The CSV lines of this row (one for most endpoints; a visit gives one per page).
    fn csv_lines(self) -> Vec<Vec<String>>;
}

/// One page of a list answer.
#[derive(Debug)]
pub struct Page<T> {
    /// Which engine answered.
    pub engine: &'static str,
    /// The rows.
    pub rows: Vec<T>,
    /// Cursor of the next page.
    pub next: Option<String>,
    /// The answer stopped early.
    pub partial: bool,
    /// The answer covers `[c.from, covered_to)` only (µs).
    pub covered_to: Option<i64>,
}

/// `page` in the format `c` asks for: the [`ListResponse`] envelope as JSON, or a streamed
/// CSV with the cursor and the partial flag in the `x-next-cursor` and `x-partial` headers.
pub fn respond<T: CsvRow>(c: &Common, page: Page<T>) -> Response {
    respond_counted(c, page, None)
}

/// [`respond`] with the number of rows of the whole answer, when the endpoint counted them
/// (the dashboard shows 全 5,062件中 1–100件).
pub fn respond_counted<T: CsvRow>(c: &Common, page: Page<T>, total: Option<usize>) -> Response {
    match c.format {
        // Column titles in the requested language, times as Excel reads dates.
        Format::Csv => csv::stream_response(
            T::NAME,
            csv_header::titles(T::COLUMNS, c.csv_for),
            {
                let people = c.csv_for.is_some();
                page.rows
                    .into_iter()
                    .flat_map(T::csv_lines)
                    .map(move |row| {
                        row.into_iter()
                            .map(|cell| csv_header::cell(cell, people))
                            .collect()
                    })
            },
            page.next.as_deref(),
            page.partial,
        ),
        Format::Json => axum::Json(ListResponse {
            engine: page.engine,
            partial: page.partial,
            from: c.time(c.from),
            to: c.time(c.to),
            tz: c.tz_name.clone(),
            count: page.rows.len(),
            total,
            covered_to: page.covered_to.map(|t| c.time(t)),
            next_cursor: page.next,
            rows: page.rows,
        })
        .into_response(),
    }
}

/// The envelope of every list response.
#[derive(Debug, Serialize)]
pub struct ListResponse<T: Serialize> {
    /// Which engine answered (`filter_log_events`, `memory`, `logs_insights`).
    pub engine: &'static str,
    /// The answer stopped early (time budget or read cap); `next_cursor` continues it.
    pub partial: bool,
    /// Start of the range, in the display zone.
    pub from: String,
    /// End of the range (exclusive), in the display zone.
    pub to: String,
    /// The display zone.
    pub tz: String,
    /// Rows in this page.
    pub count: usize,
    /// Rows of the whole answer (every page), where the endpoint counts them cheaply
    /// (`/v1/mail` reads the range whole); absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    /// A partial answer of `/v1/mail` or `/v1/visits` covers exactly `[from, covered_to)`
    /// (display zone); `next_cursor` asks for the rest (through Logs Insights, reading the
    /// queries that were still running). Absent when the answer reaches `to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered_to: Option<String>,
    /// Cursor of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The rows.
    pub rows: Vec<T>,
}

/// Sets each of `pairs` on `headers` (replacing what was there): the fixed headers of an
/// answer in one table.
pub(crate) fn set_headers(headers: &mut HeaderMap, pairs: &[(HeaderName, &'static str)]) {
    for (name, value) in pairs {
        headers.insert(name.clone(), HeaderValue::from_static(value));
    }
}
