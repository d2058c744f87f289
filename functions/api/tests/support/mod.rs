//! What the API's integration tests share: an app over a source with a time budget, and
//! requests through the router. (Each test file uses some of these.)
#![allow(dead_code)]

use std::sync::Arc;

use logdesk_api::source::LogSource;
use logdesk_api::{AppState, Config, router};
use logdesk_e2e::http;
use serde_json::Value;

/// The default configuration with `TIME_BUDGET_MS` set.
pub fn budget_config(budget_ms: u64) -> Config {
    let budget = budget_ms.to_string();
    Config::from_lookup(|k| (k == "TIME_BUDGET_MS").then(|| budget.clone()))
        .expect("the default configuration")
}

/// The router over `source`, with a time budget of `budget_ms`.
pub fn app(source: impl LogSource + 'static, budget_ms: u64) -> axum::Router {
    router(AppState::new(budget_config(budget_ms), Arc::new(source)))
}

/// The status, headers and body of `GET uri`.
pub async fn send(app: &axum::Router, uri: &str) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let a = http::get(app, uri).await;
    (a.status.as_u16(), a.headers, a.body)
}

/// The status and the JSON body of `GET uri`.
pub async fn call(app: &axum::Router, uri: &str) -> (u16, Value) {
    let a = http::get(app, uri).await;
    let value = a.json();
    (a.status.as_u16(), value)
}

/// The headers and the text body of `GET uri`, which must answer 200 with CSV.
pub async fn get_csv(app: &axum::Router, uri: &str) -> (axum::http::HeaderMap, String) {
    let (status, headers, body) = send(app, uri).await;
    let text = String::from_utf8(body).expect("UTF-8");
    assert_eq!(status, 200, "{uri}: {text}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8", "{uri}");
    (headers, text)
}

/// The JSON body of `GET uri`, which must answer 200.
pub use http::get_ok as get;

/// Every answer to `uri` and to the cursors that follow it, in order; a partial answer must
/// carry a cursor.
pub async fn follow(app: &axum::Router, uri: &str) -> Vec<Value> {
    follow_until(app, uri, |_| false).await
}

/// [`follow`], stopping after the first answer that `stop` picks (included).
pub async fn follow_until(
    app: &axum::Router,
    uri: &str,
    stop: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let u = match &cursor {
            Some(c) => format!("{uri}&cursor={c}"),
            None => uri.to_owned(),
        };
        let v = get(app, &u).await;
        assert!(out.len() < 500, "no progress");
        if v["partial"] == true {
            assert!(
                v["next_cursor"].is_string(),
                "a partial answer has a cursor: {v}"
            );
        }
        cursor = v["next_cursor"].as_str().map(str::to_owned);
        let stop = stop(&v);
        out.push(v);
        if cursor.is_none() || stop {
            return out;
        }
    }
}

/// Every page view of `/v1/visits` answers: (ip, time, path), sorted.
pub fn page_views(answers: &[Value]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = answers
        .iter()
        .flat_map(|v| v["rows"].as_array().unwrap().iter())
        .flat_map(|visit| {
            visit["pages"].as_array().unwrap().iter().map(|p| {
                (
                    visit["ip"].as_str().unwrap().to_owned(),
                    p["time"].as_str().unwrap().to_owned(),
                    p["path"].as_str().unwrap().to_owned(),
                )
            })
        })
        .collect();
    out.sort();
    out
}
