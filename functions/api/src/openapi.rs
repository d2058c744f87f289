//! `GET /v1/openapi.json`: the OpenAPI document, generated from the handlers' annotations
//! (utoipa). A test checks that every documented path answers and that every documented query
//! parameter is one the handler accepts.

use axum::Json;
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::access::AccessRow;
use crate::errors::ErrorRow;
use crate::mail::{EventNote, MailEvent, MailRow, Reason, RecipientTimeline, Timeline};
use crate::recipients::RecipientHistory;
use crate::stats::StatsResponse;
use crate::visits::{PageRow, VisitRow};

/// Parameters every endpoint takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CommonParams {
    /// Start of the range: ISO 8601 (`2026-11-23T10:00:00+09:00`, `…Z`, local `2026-11-23T10:00`) or a date. Default: 24 h before `to` (30 days for lookups by id or address).
    from: Option<String>,
    /// End of the range (exclusive; a date includes the whole day). Default: now.
    to: Option<String>,
    /// Display time zone (IANA name). Default: the stack's (`Asia/Tokyo`).
    tz: Option<String>,
    /// Language of explanations: `ja` (default) or `en`.
    lang: Option<String>,
}

/// Parameters of list endpoints.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Rows per page, 1 to 1000 (default 100).
    limit: Option<u32>,
    /// `next_cursor` of the previous answer, with the same other parameters.
    cursor: Option<String>,
    /// `json` (default) or `csv` (UTF-8 with BOM).
    format: Option<String>,
}

/// Filters of `/v1/mail`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MailParams {
    /// Recipient, case-insensitive substring.
    recipient: Option<String>,
    /// Subject, case-insensitive substring (Japanese included).
    subject: Option<String>,
    /// Latest status: Send, Delivery, Bounce, Complaint, Reject, DeliveryDelay, Open, Click, Rendering Failure, Subscription (comma-separated, any case).
    status: Option<String>,
    /// From address, case-insensitive substring.
    from_address: Option<String>,
}

/// Request filters of `/v1/access`, `/v1/stats` and `/v1/visits`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RequestParams {
    /// `lb`, `nginx` or `all` (default).
    source: Option<String>,
    /// Client IP, exact.
    ip: Option<String>,
    /// Host, case-insensitive substring.
    host: Option<String>,
    /// Path: prefix when it starts with `/`, else substring.
    path: Option<String>,
    /// Status codes or classes, comma-separated (`500`, `5xx`); matches the ELB or the target status.
    status: Option<String>,
    /// Trace id (`Root=1-…`) or ALB connection trace id (`TID_…`).
    trace_id: Option<String>,
}

/// Options of `/v1/access`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct AccessParams {
    /// `asc` (default: oldest first, FilterLogEvents) or `desc` (newest first: Logs Insights
    /// for `source=lb` on AWS, `engine: "logs_insights"`; else the local engine reads the range
    /// back from its end). The cursor continues in the same order.
    order: Option<String>,
}

/// Options of `/v1/stats`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatsParams {
    /// Bucket width: `1m`, `5m` (default up to 2 days), `1h`, `1d`.
    interval: Option<String>,
    /// URL-group regular expressions, space-separated, tried before the default collapsing.
    url_groups: Option<String>,
    /// How many URL groups to list (1 to 500, default 50).
    top: Option<u32>,
    /// `csv` gives the time series (the same columns whichever engine answers; a value the
    /// engine did not compute is an empty cell).
    format: Option<String>,
    /// `auto` (default: Logs Insights for source=lb over 6 h or more, when the filters allow),
    /// `insights` or `local` (FilterLogEvents and exact computation here).
    engine: Option<String>,
    /// `next_cursor` of a partial answer (same other parameters): the rest of the range, from
    /// its `covered_to`. When Logs Insights ran out of time (`covered_to` = `from`), the cursor
    /// carries its running queries and the answer to it reads them, instead of starting them
    /// again: ask again with it until the answer is no longer partial.
    cursor: Option<String>,
}

/// Options of `/v1/visits`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct VisitParams {
    /// Include static assets (default false).
    assets: Option<bool>,
    /// Include bots (default false).
    bots: Option<bool>,
    /// `auto` (default: Logs Insights for source=lb over 6 h or more), `insights` or `local`.
    engine: Option<String>,
}

/// Filters of `/v1/errors`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ErrorParams {
    /// Least severe level to include (`warn` gives warn and worse).
    level: Option<String>,
    /// Case-insensitive substring of the message and its context.
    text: Option<String>,
    /// `asc` (oldest first, the default) or `desc` (newest first). The cursor continues in the
    /// same order.
    order: Option<String>,
}

/// Parameters of `/v1/mail/stats`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MailStatsParams {
    /// Time bucket: `1h` or `1d` (default: hours up to three days, days beyond).
    interval: Option<String>,
}

/// The error body.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `bad_parameter`, `unauthorized`, `not_found` or `internal`.
    pub code: String,
    /// In words.
    pub message: String,
    /// The parameter at fault (400 only).
    pub parameter: Option<String>,
    /// Request id to find the failure in the function's log (500 only).
    pub request_id: Option<String>,
}

/// A page of rows; `rows` holds the endpoint's row type.
#[derive(Serialize, ToSchema)]
pub struct ListEnvelope {
    /// Which engine answered (`filter_log_events`, `memory`, `logs_insights`).
    pub engine: String,
    /// Stopped early (time budget or read cap); `next_cursor` continues.
    pub partial: bool,
    /// Start of the range, display zone.
    pub from: String,
    /// End of the range, display zone.
    pub to: String,
    /// Display zone.
    pub tz: String,
    /// Rows in this page.
    pub count: u32,
    /// `/v1/mail` and `/v1/visits`: a partial answer covers exactly `[from, covered_to)` (what
    /// was read after it is left out, so rows are exact for that part; through Logs Insights,
    /// the parts of the range whose queries completed, from `from` on); absent when the answer
    /// reaches `to`.
    pub covered_to: Option<String>,
    /// Cursor of the next page. `/v1/access` and `/v1/errors`: the next rows after the last one
    /// shown. `/v1/mail` and `/v1/visits`: the next page of the same part, or (after its last
    /// page) the rest of the range, `[covered_to, to)`. Through Logs Insights (`/v1/visits`,
    /// `/v1/access?order=desc`), queries still running when the time ran out are not stopped:
    /// the cursor carries them, and the answer to it reads their results instead of starting
    /// them again (a partial answer may then have no rows yet: follow the cursor). A cursor is
    /// refused (400, `cursor`) with other parameters than those of the request that gave it,
    /// or on another endpoint.
    pub next_cursor: Option<String>,
    /// The rows (see the endpoint).
    pub rows: Vec<serde_json::Value>,
}

#[utoipa::path(get, path = "/v1/mail", params(CommonParams, ListParams, MailParams),
    responses((status = 200, description = "One row per message × recipient, newest first (rows: MailRow)", body = ListEnvelope),
              (status = 400, body = ErrorBody)))]
#[allow(dead_code)]
fn mail() {}

#[utoipa::path(get, path = "/v1/mail/stats", params(CommonParams, MailStatsParams),
    responses((status = 200, description = "The mail overview (default range: the last 7 days): `stats` holds totals (sent, delivered, permanent and temporary bounces, complaints, delays, rejects, opens, clicks), `bounce_rate` (permanent bounces over sends) and `complaint_rate` with SES's review levels (`bounce_rate_review` 0.05, `complaint_rate_review` 0.001), `buckets` over time, `reasons` (code, severity, title, count), `providers` (docomo, au, softbank, gmail, …, with `label`) and `problem_domains`"),
              (status = 400, body = ErrorBody)))]
#[allow(dead_code)]
fn mail_stats() {}

#[utoipa::path(get, path = "/v1/mail/{message_id}", params(("message_id" = String, Path, description = "SES message id"), CommonParams),
    responses((status = 200, body = Timeline), (status = 404, body = ErrorBody)))]
#[allow(dead_code)]
fn mail_timeline() {}

#[utoipa::path(get, path = "/v1/recipients/{address}", params(("address" = String, Path, description = "Recipient address (any case)"), CommonParams, ("limit" = Option<u32>, Query, description = "Most messages listed (default 100)")),
    responses((status = 200, body = RecipientHistory), (status = 400, body = ErrorBody)))]
#[allow(dead_code)]
fn recipient() {}

#[utoipa::path(get, path = "/v1/access", params(CommonParams, ListParams, RequestParams, AccessParams),
    responses((status = 200, description = "Requests, oldest first, or newest first with order=desc (rows: AccessRow)", body = ListEnvelope), (status = 400, body = ErrorBody)))]
#[allow(dead_code)]
fn access() {}

#[utoipa::path(get, path = "/v1/stats", params(CommonParams, RequestParams, StatsParams),
    responses((status = 200, body = StatsResponse), (status = 400, body = ErrorBody)))]
#[allow(dead_code)]
fn stats() {}

#[utoipa::path(get, path = "/v1/visits", params(CommonParams, ListParams, RequestParams, VisitParams),
    responses((status = 200, description = "Visits, oldest first (rows: VisitRow)", body = ListEnvelope), (status = 400, body = ErrorBody)))]
#[allow(dead_code)]
fn visits() {}

#[utoipa::path(get, path = "/v1/errors", params(CommonParams, ListParams, ErrorParams),
    responses((status = 200, description = "nginx error-log entries, oldest first or newest first with order=desc, each with its kind, grouping key and plain explanation (rows: ErrorRow)", body = ListEnvelope), (status = 400, body = ErrorBody)))]
#[allow(dead_code)]
fn errors() {}

#[utoipa::path(get, path = "/v1/openapi.json", responses((status = 200, description = "This document")))]
#[allow(dead_code)]
fn openapi() {}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "logdesk API",
        description = "What happened to mail and web traffic, read from CloudWatch Logs. Auth: AWS_IAM on the Function URL, or `Authorization: Bearer <token>` when AUTH_MODE=token."
    ),
    paths(
        crate::health,
        mail,
        mail_stats,
        mail_timeline,
        recipient,
        access,
        stats,
        visits,
        errors,
        openapi
    ),
    components(schemas(
        MailRow,
        MailEvent,
        Reason,
        EventNote,
        RecipientTimeline,
        AccessRow,
        VisitRow,
        PageRow,
        ErrorRow,
        ErrorBody,
        ErrorDetail,
        ListEnvelope
    ))
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
