//! `GET /v1/openapi.json`: the OpenAPI document, generated from the annotations here (utoipa),
//! and the API's contract: every operation lists its security (a bearer token, or SigV4 on the
//! Function URL), its 400 and 401 answers in the one error shape, and each parameter's type,
//! bounds and allowed values. Tests keep it true: every documented parameter is accepted, and
//! the contract test (`tests/contract/`, schemathesis) sends requests generated from this
//! document to a local server and fails on any schema-valid request refused or any answer
//! that does not match its schema.

use axum::Json;
use axum::extract::RawQuery;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::error::ApiError;
use crate::params::Params;

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
    #[param(inline)]
    lang: Option<Lang>,
}

/// Language of explanations.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum Lang {
    Ja,
    En,
}

/// Answer format.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum OutputFormat {
    Json,
    Csv,
}

/// Which request logs to read.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum RequestSource {
    Lb,
    Nginx,
    All,
}

/// Listing order.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum Order {
    Asc,
    Desc,
}

/// Mail overview bucket width.
#[derive(ToSchema)]
#[allow(dead_code)]
enum MailInterval {
    #[schema(rename = "1h")]
    OneHour,
    #[schema(rename = "1d")]
    OneDay,
}

/// Read engine.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum Engine {
    Auto,
    Insights,
    Local,
}

/// Stats bucket width.
#[derive(ToSchema)]
#[allow(dead_code)]
enum Interval {
    #[schema(rename = "1m")]
    OneMinute,
    #[schema(rename = "5m")]
    FiveMinutes,
    #[schema(rename = "1h")]
    OneHour,
    #[schema(rename = "1d")]
    OneDay,
}

/// nginx error-log level.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum Level {
    Emerg,
    Alert,
    Crit,
    Error,
    Warn,
    Notice,
    Info,
    Debug,
}

/// Parameters of list endpoints.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Rows per page, 1 to 1000 (default 100); a CSV export takes up to 100000.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// `next_cursor` of the previous answer, with the same other parameters.
    cursor: Option<String>,
    /// `json` (default) or `csv` (UTF-8 with BOM).
    #[param(inline)]
    format: Option<OutputFormat>,
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
    /// Statuses: Send, Delivery, Bounce, Complaint, Reject, DeliveryDelay, Open, Click, Rendering Failure, Subscription (comma-separated, any case); a row matches when any event of its mail has one.
    #[param(
        pattern = "^(Send|Delivery|Bounce|Complaint|Reject|DeliveryDelay|Open|Click|Rendering Failure|Subscription)(,(Send|Delivery|Bounce|Complaint|Reject|DeliveryDelay|Open|Click|Rendering Failure|Subscription))*$"
    )]
    status: Option<String>,
    /// From address, case-insensitive substring.
    from_address: Option<String>,
    /// `desc` (newest first, the default) or `asc` (oldest first). The cursor continues in the
    /// same order.
    #[param(inline)]
    order: Option<Order>,
}

/// Request filters of `/v1/access`, `/v1/stats` and `/v1/visits`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct RequestParams {
    /// `lb`, `nginx` or `all` (default).
    #[param(inline)]
    source: Option<RequestSource>,
    /// Client IP, exact: an IPv4 address or an IPv6 address (a mistyped one is a 400).
    #[param(
        pattern = "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}|([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,6}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:(:[0-9a-fA-F]{1,4}){1,6}|:((:[0-9a-fA-F]{1,4}){1,6}|:))$"
    )]
    ip: Option<String>,
    /// Host, case-insensitive substring.
    host: Option<String>,
    /// Path: prefix when it starts with `/`, else substring.
    path: Option<String>,
    /// Status codes or classes, comma-separated (`500`, `5xx`); matches the ELB or the target status.
    #[param(pattern = "^([1-5][0-9][0-9]|[1-5]xx)(,([1-5][0-9][0-9]|[1-5]xx))*$")]
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
    #[param(inline)]
    order: Option<Order>,
}

/// Options of `/v1/stats`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct StatsParams {
    /// Bucket width: `1m`, `5m` (default up to 2 days), `1h`, `1d`.
    #[param(inline)]
    interval: Option<Interval>,
    /// URL-group regular expressions, space-separated, tried before the default collapsing.
    url_groups: Option<String>,
    /// How many URL groups to list (1 to 500, default 50).
    #[param(minimum = 1, maximum = 500)]
    top: Option<u32>,
    /// `csv` gives the time series (the same columns whichever engine answers; a value the
    /// engine did not compute is an empty cell).
    #[param(inline)]
    format: Option<OutputFormat>,
    /// `auto` (default: Logs Insights for source=lb over 6 h or more, when the filters allow),
    /// `insights` or `local` (FilterLogEvents and exact computation here).
    #[param(inline)]
    engine: Option<Engine>,
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
    /// `asc` (oldest visit first, the default) or `desc` (newest visit first); a visit's pages
    /// stay in time order. The cursor continues in the same order.
    #[param(inline)]
    order: Option<Order>,
    /// `auto` (default: Logs Insights for source=lb over 6 h or more), `insights` or `local`.
    #[param(inline)]
    engine: Option<Engine>,
}

/// Filters of `/v1/errors`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ErrorParams {
    /// Least severe level to include (`warn` gives warn and worse).
    #[param(inline)]
    level: Option<Level>,
    /// Case-insensitive substring of the message and its context.
    text: Option<String>,
    /// `asc` (oldest first, the default) or `desc` (newest first). The cursor continues in the
    /// same order.
    #[param(inline)]
    order: Option<Order>,
}

/// Parameters of `/v1/mail/stats`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MailStatsParams {
    /// Time bucket: `1h` or `1d` (default: hours up to three days, days beyond).
    #[param(inline)]
    interval: Option<MailInterval>,
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
    /// `bad_parameter`, `unauthorized`, `not_found`, `bad_gateway` or `internal`.
    pub code: String,
    /// In words.
    pub message: String,
    /// The parameter at fault (400 only).
    pub parameter: Option<String>,
    /// Request id to find the failure in the function's log (500 and 502).
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

// Every operation but health: the token or SigV4 (either), and the one error shape for a bad
// parameter (400) and a missing or wrong token (401).
#[utoipa::path(get, path = "/v1/mail", params(CommonParams, ListParams, MailParams),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, description = "One row per message × recipient, newest first or oldest first with order=asc (rows: MailRow); CSV with format=csv",
                content((ListEnvelope = "application/json"), (String = "text/csv"))),
              (status = 400, description = "A bad parameter (named)", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody)))]
#[allow(dead_code)]
fn mail() {}

#[utoipa::path(get, path = "/v1/mail/stats", params(CommonParams, MailStatsParams),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, description = "The mail overview (default range: the last 7 days): `stats` holds totals (sent, delivered, permanent and temporary bounces, complaints, delays, rejects, opens, clicks), `bounce_rate` (permanent bounces over sends) and `complaint_rate` with SES's review levels (`bounce_rate_review` 0.05, `complaint_rate_review` 0.001), `buckets` over time, `reasons` (code, severity, title, count), `providers` (docomo, au, softbank, gmail, …, with `label`) and `problem_domains`"),
              (status = 400, description = "A bad parameter (named)", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody)))]
#[allow(dead_code)]
fn mail_stats() {}

#[utoipa::path(get, path = "/v1/mail/{message_id}", params(("message_id" = String, Path, min_length = 1, max_length = 80, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$", description = "SES message id (no control characters, at most 320 bytes)"), CommonParams),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, body = Timeline),
              (status = 400, description = "A bad parameter, or a path parameter that is not UTF-8", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
              (status = 404, description = "No such message in the range", body = ErrorBody)))]
#[allow(dead_code)]
fn mail_timeline() {}

#[utoipa::path(get, path = "/v1/recipients/{address}", params(("address" = String, Path, min_length = 1, max_length = 80, pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$", description = "Recipient address (any case; no control characters, at most 320 bytes)"), CommonParams, ("limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Most messages listed, 1 to 1000 (default 100)")),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, body = RecipientHistory),
              (status = 400, description = "A bad parameter, or a path parameter that is not UTF-8", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody)))]
#[allow(dead_code)]
fn recipient() {}

#[utoipa::path(get, path = "/v1/access", params(CommonParams, ListParams, RequestParams, AccessParams),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, description = "Requests, oldest first, or newest first with order=desc (rows: AccessRow); CSV with format=csv",
                content((ListEnvelope = "application/json"), (String = "text/csv"))),
              (status = 400, description = "A bad parameter (named)", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody)))]
#[allow(dead_code)]
fn access() {}

#[utoipa::path(get, path = "/v1/stats", params(CommonParams, RequestParams, StatsParams),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, description = "Totals, percentiles and the time series; the series as CSV with format=csv",
                content((StatsResponse = "application/json"), (String = "text/csv"))),
              (status = 400, description = "A bad parameter (named)", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
              (status = 502, description = "Logs Insights answered rows its query cannot produce", body = ErrorBody)))]
#[allow(dead_code)]
fn stats() {}

#[utoipa::path(get, path = "/v1/visits", params(CommonParams, ListParams, RequestParams, VisitParams),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, description = "Visits, oldest first or newest first with order=desc (rows: VisitRow); CSV with format=csv",
                content((ListEnvelope = "application/json"), (String = "text/csv"))),
              (status = 400, description = "A bad parameter (named)", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
              (status = 502, description = "Logs Insights answered rows its query cannot produce", body = ErrorBody)))]
#[allow(dead_code)]
fn visits() {}

#[utoipa::path(get, path = "/v1/errors", params(CommonParams, ListParams, ErrorParams),
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, description = "nginx error-log entries, oldest first or newest first with order=desc, each with its kind, grouping key and plain explanation (rows: ErrorRow); CSV with format=csv",
                content((ListEnvelope = "application/json"), (String = "text/csv"))),
              (status = 400, description = "A bad parameter (named)", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody)))]
#[allow(dead_code)]
fn errors() {}

#[utoipa::path(get, path = "/v1/openapi.json",
    security(("bearer" = []), ("sigv4" = [])),
    responses((status = 200, description = "This document"),
              (status = 400, description = "Any query parameter (it takes none)", body = ErrorBody),
              (status = 401, description = "Missing or wrong bearer token", body = ErrorBody)))]
#[allow(dead_code)]
fn openapi() {}

/// The two ways in: `Authorization: Bearer <token>` (AUTH_MODE=token) or, with AWS_IAM on the
/// Function URL, a SigV4-signed request (OpenAPI has no SigV4 scheme: an API key in the
/// `Authorization` header is how the signature travels).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("AUTH_MODE=token: the stack's token"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "sigv4",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "Authorization",
                    "AWS_IAM on the Function URL: an AWS Signature Version 4 signed request \
                     (service `lambda`)",
                ),
            )),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "logdesk API",
        description = "What happened to mail and web traffic, read from CloudWatch Logs. Auth: AWS_IAM on the Function URL, or `Authorization: Bearer <token>` when AUTH_MODE=token."
    ),
    modifiers(&Security),
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

/// `GET /v1/openapi.json`. It takes no parameters, and refuses unknown ones like every other
/// endpoint.
pub async fn document(RawQuery(q): RawQuery) -> Result<Json<utoipa::openapi::OpenApi>, ApiError> {
    Params::parse(q.as_deref())?.finish()?;
    Ok(Json(ApiDoc::openapi()))
}
