//! What the dashboard's second pass asks of the API, over the synthetic day in memory: the mail
//! overview (`/v1/mail/stats`), totals, a status filter that matches any event of a mail,
//! newest-first nginx errors with explanations, named input mistakes, CSV for people and
//! traffic breakdowns.

use logdesk_e2e::http;
use std::sync::Arc;

use axum::http::StatusCode;
use logdesk_api::synthetic;
use logdesk_api::{AppState, Config, router};
use serde_json::Value;

/// 2026-11-20T00:00:00Z, µs.
const BASE: i64 = 1_795_132_800_000_000;
const RANGE: &str = "from=2026-11-20T00:00:00Z&to=2026-11-20T02:00:00Z";

fn app() -> axum::Router {
    let src = synthetic::day_source(BASE, "", 3);
    let vars = [
        ("LB_LOG_GROUP", "/lb"),
        ("MAIL_LOG_GROUP", "/mail"),
        ("NGINX_ACCESS_LOG_GROUP", "/nginx/access"),
        ("NGINX_ERROR_LOG_GROUP", "/nginx/error"),
    ];
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    router(AppState::new(config, Arc::new(src)))
}

async fn body(uri: &str) -> (StatusCode, Vec<u8>) {
    let a = http::get(&app(), uri).await;
    (a.status, a.body)
}

async fn get(uri: &str) -> (StatusCode, Value) {
    http::get_json(&app(), uri).await
}

#[tokio::test]
async fn mail_overview_counts_rates_reasons_and_domains() {
    let (s, v) = get(&format!("/v1/mail/stats?{RANGE}&interval=1h")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["partial"], false);
    let st = &v["stats"];
    let totals = &st["totals"];
    assert_eq!(totals["sent"], 5, "{totals}");
    assert_eq!(totals["delivered"], 3);
    assert_eq!(totals["bounces"], 2);
    assert_eq!(totals["permanent_bounces"], 1);
    assert_eq!(totals["temporary_bounces"], 1);
    assert_eq!(totals["complaints"], 1);
    assert_eq!(totals["delays"], 1);
    assert_eq!(st["bounce_rate"], 0.2);
    assert_eq!(st["complaint_rate"], 0.2);
    assert_eq!(st["bounce_rate_review"], 0.05);
    assert_eq!(st["complaint_rate_review"], 0.001);
    assert_eq!(st["bucket_seconds"], 3600);
    let reasons = st["reasons"].as_array().unwrap();
    let unknown = reasons
        .iter()
        .find(|r| r["code"] == "user_unknown")
        .unwrap();
    assert_eq!(unknown["severity"], "permanent");
    assert!(
        unknown["title"].as_str().unwrap().contains("存在しない"),
        "{unknown}"
    );
    let providers = st["providers"].as_array().unwrap();
    assert_eq!(providers[0]["key"], "other");
    assert_eq!(providers[0]["label"], "その他");
    let domains: Vec<&str> = st["problem_domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["example.com", "example.jp", "example.org"]);
    let (s, v) = get(&format!("/v1/mail/stats?{RANGE}&interval=5m")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["parameter"], "interval");
    let (_, v) = get(&format!("/v1/mail/stats?{RANGE}&lang=en")).await;
    let first = &v["stats"]["reasons"][0]["title"];
    assert!(first.as_str().unwrap().is_ascii(), "{first}");
}

#[tokio::test]
async fn mail_counts_the_total_and_finds_any_event() {
    let (s, v) = get(&format!("/v1/mail?{RANGE}&limit=2")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 2);
    assert_eq!(v["total"], 5);
    // b@example.com was delayed, then bounced: its latest status is Bounce, and a search for
    // delays still finds it.
    let (_, v) = get(&format!("/v1/mail?{RANGE}&status=DeliveryDelay")).await;
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["to"], "b@example.com");
    assert_eq!(rows[0]["status"], "Bounce");
    assert_eq!(v["total"], 1);
}

/// Every row of `/v1/mail` for `query`, page after page: (message id, recipient).
async fn mail_pages(query: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let (s, v) = get(&format!("/v1/mail?{RANGE}&limit=2{query}{cursor}")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["total"], 5, "{v}");
        for r in v["rows"].as_array().unwrap() {
            out.push((r["message_id"].to_string(), r["to"].to_string()));
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

#[tokio::test]
async fn mail_lists_oldest_first_on_request() {
    let newest = mail_pages("").await;
    let oldest = mail_pages("&order=asc").await;
    assert_eq!(newest.len(), 5);
    assert_eq!(mail_pages("&order=desc").await, newest);
    let mut reversed = newest.clone();
    reversed.reverse();
    assert_eq!(oldest, reversed);
    let (_, v) = get(&format!("/v1/mail?{RANGE}&limit=1&order=asc")).await;
    let times = |v: &Value| v["rows"][0]["time"].as_str().unwrap().to_owned();
    let (_, w) = get(&format!("/v1/mail?{RANGE}&limit=1")).await;
    assert!(times(&v) < times(&w), "{v} {w}");
    // A cursor continues in its own order only.
    let cursor = v["next_cursor"].as_str().unwrap();
    for order in ["desc", ""] {
        let (s, e) = get(&format!(
            "/v1/mail?{RANGE}&limit=1&order={order}&cursor={cursor}"
        ))
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
        assert_eq!(e["error"]["parameter"], "cursor");
    }
    let (s, e) = get(&format!("/v1/mail?{RANGE}&order=newest")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["error"]["parameter"], "order");
}

#[tokio::test]
async fn visits_list_newest_first_on_request_with_the_total() {
    // (ip, first request) of every visit, page after page.
    let visits = |order: &'static str| async move {
        let mut out = Vec::new();
        let mut cursor = String::new();
        loop {
            let uri = format!("/v1/visits?{RANGE}&limit=1&bots=true&order={order}{cursor}");
            let (s, v) = get(&uri).await;
            assert_eq!(s, StatusCode::OK, "{v}");
            for r in v["rows"].as_array().unwrap() {
                out.push((r["first"].to_string(), r["ip"].to_string()));
                let pages = r["pages"].as_array().unwrap();
                let times = pages.iter().map(|p| p["time"].as_str().unwrap());
                let later = times.clone().skip(1);
                assert!(times.zip(later).all(|(a, b)| a <= b), "{r}");
            }
            let total = v["total"].as_u64().unwrap();
            match v["next_cursor"].as_str() {
                Some(c) => cursor = format!("&cursor={c}"),
                None => return (out, total),
            }
        }
    };
    let (oldest, total) = visits("asc").await;
    let (mut newest, total_desc) = visits("desc").await;
    assert_eq!(oldest.len(), 2, "{oldest:?}");
    assert_eq!(
        (total, total_desc),
        (oldest.len() as u64, oldest.len() as u64)
    );
    assert!(newest.first() > newest.last());
    newest.reverse();
    assert_eq!(newest, oldest);
}

#[tokio::test]
async fn nginx_errors_newest_first_with_explanations() {
    let (s, v) = get(&format!("/v1/errors?{RANGE}&order=desc&limit=2")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rows = v["rows"].as_array().unwrap();
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(v["total"], 3, "{v}");
    assert!(times[0] > times[1], "{times:?}");
    assert_eq!(rows[0]["kind"], "signal");
    assert_eq!(rows[1]["kind"], "rate_limited");
    assert!(
        rows[1]["explanation"]["check"]
            .as_str()
            .unwrap()
            .contains("limit_req")
    );
    assert!(!rows[1]["group"].as_str().unwrap().contains("20.480"));
    let cursor = v["next_cursor"].as_str().unwrap();
    let (_, v) = get(&format!(
        "/v1/errors?{RANGE}&order=desc&limit=2&cursor={cursor}"
    ))
    .await;
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    assert_eq!(rows[0]["kind"], "upstream_premature_close");
    assert!(v.get("next_cursor").is_none());
    // A newest-first cursor is not an oldest-first one.
    let (s, _) = get(&format!("/v1/errors?{RANGE}&limit=2&cursor={cursor}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = get(&format!("/v1/errors?{RANGE}&order=newest")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["parameter"], "order");
}

#[tokio::test]
async fn a_mistyped_ip_is_named() {
    for ep in ["access", "visits", "stats"] {
        let (s, v) = get(&format!("/v1/{ep}?{RANGE}&ip=203.0.113")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{ep}: {v}");
        assert_eq!(v["error"]["parameter"], "ip");
    }
    let (s, _) = get(&format!("/v1/access?{RANGE}&ip=2001:db8::1")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn csv_for_people_when_a_language_is_asked_for() {
    let (s, b) = body(&format!("/v1/mail?{RANGE}&format=csv&lang=ja")).await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(b).unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').split("\r\n");
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("日時,メッセージ ID,差出人,")
    );
    let row = lines.next().unwrap();
    assert!(row.starts_with("2026-11-20 09:20:00,"), "{row}");
    let (_, b) = body(&format!("/v1/mail?{RANGE}&format=csv&lang=en")).await;
    assert!(
        String::from_utf8(b)
            .unwrap()
            .starts_with("\u{feff}Time,Message ID,")
    );
    // Scripts that ask for no language keep the machine names and RFC 3339 times.
    let (_, b) = body(&format!("/v1/mail?{RANGE}&format=csv")).await;
    let text = String::from_utf8(b).unwrap();
    assert!(text.starts_with("\u{feff}time,message_id,"));
    assert!(text.contains("2026-11-20T09:20:00+09:00"));
}

#[tokio::test]
async fn stats_break_down_requests_and_labels_speak_japanese() {
    let (s, v) = get(&format!("/v1/stats?{RANGE}&engine=local")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let b = &v["stats"]["breakdowns"];
    assert!(b["unique_visitors"].as_u64().unwrap() > 0, "{b}");
    let statuses: u64 = b["status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["count"].as_u64().unwrap())
        .sum();
    assert_eq!(statuses, v["stats"]["count"].as_u64().unwrap());
    assert!(!b["browser"].as_array().unwrap().is_empty());
    let (_, v) = get(&format!("/v1/access?{RANGE}&lang=ja&limit=100")).await;
    let labels: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["ua"]["label"].as_str())
        .collect();
    assert!(
        labels
            .iter()
            .all(|l| !l.contains("(bot)") && !l.contains("(or later)")),
        "{labels:?}"
    );
}
