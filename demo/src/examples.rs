//! The example requests the demo prints (as `curl` commands) and checks: every endpoint, with
//! parameters that find the generated day's fixed content.

use crate::traffic::{DELIVERED_TO, FixedIds, HARD_BOUNCE_TO, SOFT_BOUNCE_TO, VISITOR_IP};

/// One example request.
#[derive(Debug, Clone)]
pub struct Example {
    /// What it shows.
    pub title: &'static str,
    /// Path and query (no host).
    pub path: String,
    /// What the answer must hold to count as "with data": a JSON pointer to a non-empty
    /// array or a non-null value, or `None` for a non-JSON answer (CSV) that must be non-empty
    /// beyond its header.
    pub data: Option<&'static str>,
}

/// Every endpoint, on the generated day (the API's default range is the last 24 hours).
pub fn examples(fixed: &FixedIds) -> Vec<Example> {
    let e = |title, path: String, data| Example { title, path, data };
    vec![
        e("health (no auth)", "/v1/health".into(), Some("/status")),
        e(
            "bounces today (reasons in Japanese)",
            "/v1/mail?status=bounce".into(),
            Some("/rows"),
        ),
        e(
            "mail to the unknown user (hard bounce)",
            format!("/v1/mail?recipient={HARD_BOUNCE_TO}"),
            Some("/rows"),
        ),
        e(
            "one message's timeline",
            format!("/v1/mail/{}", fixed.hard_bounce),
            Some("/recipients"),
        ),
        e(
            "a recipient's history (mailbox full)",
            format!("/v1/recipients/{SOFT_BOUNCE_TO}"),
            Some("/bounces"),
        ),
        e(
            "a recipient's history (delivered, opened)",
            format!("/v1/recipients/{DELIVERED_TO}"),
            Some("/messages"),
        ),
        e(
            "mail as CSV (English)",
            "/v1/mail?format=csv&lang=en&limit=20".into(),
            None,
        ),
        e(
            "one visitor's requests",
            format!("/v1/access?ip={VISITOR_IP}"),
            Some("/rows"),
        ),
        e(
            "server errors under /api/",
            "/v1/access?path=/api/&status=5xx".into(),
            Some("/rows"),
        ),
        e(
            "one request at the ALB and in nginx (same trace id)",
            format!("/v1/access?trace_id={}", fixed.api_500_trace),
            Some("/rows/1"),
        ),
        e(
            "nginx requests that failed",
            "/v1/access?source=nginx&status=5xx".into(),
            Some("/rows"),
        ),
        e(
            "traffic per hour, slowest URL groups",
            "/v1/stats?interval=1h".into(),
            Some("/stats/buckets"),
        ),
        e(
            "one visitor's page views",
            format!("/v1/visits?ip={VISITOR_IP}"),
            Some("/rows"),
        ),
        e(
            "nginx error log",
            "/v1/errors?level=error".into(),
            Some("/rows"),
        ),
        e(
            "the OpenAPI document",
            "/v1/openapi.json".into(),
            Some("/paths"),
        ),
    ]
}

/// Whether an answer body holds data in the sense of [`Example::data`].
pub fn has_data(example: &Example, body: &[u8]) -> bool {
    match example.data {
        None => String::from_utf8_lossy(body).lines().count() > 1,
        Some(pointer) => match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(v) => match v.pointer(pointer) {
                Some(serde_json::Value::Array(a)) => !a.is_empty(),
                Some(serde_json::Value::Object(o)) => !o.is_empty(),
                Some(serde_json::Value::Null) | None => false,
                Some(_) => true,
            },
            Err(_) => false,
        },
    }
}

/// The `curl` command for an example.
pub fn curl(base: &str, token: Option<&str>, example: &Example) -> String {
    let auth = match token {
        Some(t) if example.path != "/v1/health" => format!("-H 'Authorization: Bearer {t}' "),
        _ => String::new(),
    };
    format!("curl -s {auth}'{base}{}'", example.path)
}
