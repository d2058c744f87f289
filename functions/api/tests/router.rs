//! The router over an in-memory source: every endpoint, filter, pagination, CSV, errors, auth.

use logdesk_e2e::http;
use std::sync::Arc;

use axum::http::{StatusCode, header};
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, Config, router};
use serde_json::Value;

/// 2026-11-20T00:00:00Z, µs.
const BASE: i64 = 1_795_132_800_000_000;
/// The whole sample day, as query parameters.
const RANGE: &str = "from=2026-11-20T00:00:00Z&to=2026-11-20T02:00:00Z";

fn group_name(g: Group) -> &'static str {
    match g {
        Group::Lb => "/lb",
        Group::Mail => "/mail",
        Group::NginxAccess => "/nginx/access",
        Group::NginxError => "/nginx/error",
    }
}

fn config(extra: &[(&str, &str)]) -> Config {
    let mut vars = vec![
        ("LB_LOG_GROUP", "/lb"),
        ("MAIL_LOG_GROUP", "/mail"),
        ("NGINX_ACCESS_LOG_GROUP", "/nginx/access"),
        ("NGINX_ERROR_LOG_GROUP", "/nginx/error"),
    ];
    vars.extend_from_slice(extra);
    Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap()
}

fn app_with(extra: &[(&str, &str)], page_size: usize) -> axum::Router {
    let mut src = MemorySource::new(page_size);
    for e in synthetic::day(BASE) {
        src.push(group_name(e.group), e.timestamp, e.message);
    }
    router(AppState::new(config(extra), Arc::new(src)))
}

fn app() -> axum::Router {
    app_with(&[], 3)
}

async fn call(
    app: &axum::Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let a = http::request(app, "GET", uri, headers).await;
    (a.status, a.headers, a.body)
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    http::get_json(app, uri).await
}

fn col<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r[key])
        .collect()
}

#[tokio::test]
async fn health_answers() {
    let (s, v) = get(&app(), "/v1/health").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["status"], "ok");
}

#[tokio::test]
async fn mail_rows_per_message_and_recipient_newest_first() {
    let (s, v) = get(&app(), &format!("/v1/mail?{RANGE}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["engine"], "memory");
    assert_eq!(v["partial"], false);
    assert_eq!(v["count"], 5);
    assert_eq!(
        col(&v, "message_id"),
        ["m-0004", "m-0003", "m-0003", "m-0002", "m-0001"]
    );
    assert_eq!(
        col(&v, "status"),
        ["Complaint", "Bounce", "Delivery", "Bounce", "Delivery"]
    );
    let row = &v["rows"][3];
    assert_eq!(row["to"], "Hanako@Example.JP");
    assert_eq!(row["time"], "2026-11-20T09:01:00+09:00");
    assert_eq!(row["from_name"], "サンプル大学 入試課");
    assert_eq!(row["reason"]["code"], "user_unknown");
    assert!(
        row["reason"]["explanation"]
            .as_str()
            .unwrap()
            .contains("アドレス"),
        "{row}"
    );
}

#[tokio::test]
async fn mail_filters() {
    let app = app();
    let cases: &[(&str, &[&str])] = &[
        ("recipient=hanako@example.jp", &["m-0002"]),
        ("recipient=EXAMPLE.COM", &["m-0003", "m-0003"]),
        ("subject=出願", &["m-0003", "m-0003", "m-0001"]),
        ("subject=YOUR%20APP", &["m-0002"]),
        ("status=bounce", &["m-0003", "m-0002"]),
        ("status=complaint,delivery", &["m-0004", "m-0003", "m-0001"]),
        (
            "from_address=INFO@",
            &["m-0004", "m-0003", "m-0003", "m-0002", "m-0001"],
        ),
        ("recipient=nobody", &[]),
    ];
    for (q, want) in cases {
        let (s, v) = get(&app, &format!("/v1/mail?{RANGE}&{q}")).await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        assert_eq!(col(&v, "message_id"), *want, "{q}");
    }
}

#[tokio::test]
async fn mail_in_english() {
    let (_, v) = get(
        &app(),
        &format!("/v1/mail?{RANGE}&status=bounce&lang=en&tz=UTC"),
    )
    .await;
    assert_eq!(v["rows"][0]["reason"]["code"], "mailbox_full");
    assert!(v["rows"][0]["reason"]["title"].as_str().unwrap().is_ascii());
    assert_eq!(v["rows"][0]["time"], "2026-11-20T00:02:00+00:00");
}

#[tokio::test]
async fn mail_pages_without_duplicates_or_gaps() {
    let app = app();
    let mut uri = format!("/v1/mail?{RANGE}&limit=2");
    let mut seen = Vec::new();
    for _ in 0..10 {
        let (s, v) = get(&app, &uri).await;
        assert_eq!(s, StatusCode::OK);
        for r in v["rows"].as_array().unwrap() {
            seen.push(format!("{}/{}", r["message_id"], r["to"]));
        }
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/mail?{RANGE}&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 5);
}

#[tokio::test]
async fn message_timeline() {
    let (s, v) = get(&app(), &format!("/v1/mail/m-0003?{RANGE}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["subject"], "出願書類の不備について");
    let r = v["recipients"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[1]["to"], "b@example.com");
    let events: Vec<&Value> = r[1]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["event"])
        .collect();
    assert_eq!(events, ["Send", "DeliveryDelay", "Bounce"]);
    assert_eq!(r[1]["status"], "Bounce");
    assert_eq!(r[1]["reason"]["code"], "mailbox_full");

    let (s, v) = get(&app(), &format!("/v1/mail/no-such-id?{RANGE}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found");
}

#[tokio::test]
async fn recipient_history() {
    let (s, v) = get(&app(), &format!("/v1/recipients/hanako@example.jp?{RANGE}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["latest_status"], "Bounce");
    assert_eq!(v["likely_suppressed"], true);
    assert_eq!(v["bounces"].as_array().unwrap().len(), 1);
    assert_eq!(v["bounces"][0]["reason"]["code"], "user_unknown");
    assert_eq!(v["messages"][0]["message_id"], "m-0002");

    let (_, v) = get(&app(), &format!("/v1/recipients/c@example.org?{RANGE}")).await;
    assert_eq!(v["complaints"].as_array().unwrap().len(), 1);
    assert_eq!(v["likely_suppressed"], true);
    let (_, v) = get(&app(), &format!("/v1/recipients/taro@example.jp?{RANGE}")).await;
    assert_eq!(v["likely_suppressed"], false);
    assert_eq!(v["latest_status"], "Delivery");
}

#[tokio::test]
async fn access_rows_from_both_sources_oldest_first() {
    let (s, v) = get(&app(), &format!("/v1/access?{RANGE}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["count"], 13);
    let times: Vec<&str> = col(&v, "time")
        .into_iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
    // The ALB row and the nginx row of the same request are linked by the trace id.
    let rows = v["rows"].as_array().unwrap();
    let done: Vec<&Value> = rows.iter().filter(|r| r["path"] == "/apply/done").collect();
    assert_eq!(done.len(), 2);
    assert_eq!(done[0]["linked"][0], done[1]["id"]);
    assert_eq!(done[1]["linked"][0], done[0]["id"]);
    // UA summary and full values.
    let first = &rows[0];
    assert_eq!(first["source"], "alb");
    assert_eq!(first["host"], "www.example.jp");
    assert!(
        first["ua"]["label"].as_str().unwrap().contains("iOS"),
        "{first}"
    );
    let ja = rows
        .iter()
        .find(|r| r["client_ip"] == "2001:db8::1")
        .unwrap();
    assert_eq!(ja["path"], "/申込/ガイド");
}

#[tokio::test]
async fn access_filters() {
    let app = app();
    let cases: &[(&str, usize)] = &[
        ("source=lb", 8),
        ("source=nginx", 5),
        ("ip=203.0.113.5", 7),
        ("ip=203.0.113.5&source=nginx", 3),
        ("status=5xx", 4),
        ("status=500", 2),
        ("status=502,503", 2),
        ("path=/apply", 6),
        ("path=confirm", 2),
        ("host=EXAMPLE.JP", 13),
        ("host=other", 0),
        ("trace_id=Root=1-6740a000-000000000000000000000002", 2),
    ];
    for (q, want) in cases {
        let (s, v) = get(&app, &format!("/v1/access?{RANGE}&{q}")).await;
        assert_eq!(s, StatusCode::OK, "{q}: {v}");
        assert_eq!(v["count"], *want, "{q}: {v}");
    }
}

#[tokio::test]
async fn access_pages_without_duplicates_or_gaps() {
    let app = app();
    for limit in [1, 4, 5] {
        let base = format!("/v1/access?{RANGE}&limit={limit}");
        let mut uri = base.clone();
        let mut ids = Vec::new();
        for _ in 0..30 {
            let (_, v) = get(&app, &uri).await;
            ids.extend(
                col(&v, "id")
                    .into_iter()
                    .map(|i| i.as_str().unwrap().to_owned()),
            );
            match v["next_cursor"].as_str() {
                Some(c) => uri = format!("{base}&cursor={c}"),
                None => break,
            }
        }
        let mut dedup = ids.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!((ids.len(), dedup.len()), (13, 13), "limit {limit}: {ids:?}");
    }
}

#[tokio::test]
async fn stats_of_the_day() {
    let (s, v) = get(&app(), &format!("/v1/stats?{RANGE}&source=lb&interval=1h")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st = &v["stats"];
    assert_eq!(st["count"], 8);
    assert_eq!(st["lb"]["server_errors"], 2);
    assert_eq!(st["target"]["server_errors"], 1);
    assert_eq!(st["lb_only_server_errors"], 1);
    assert_eq!(st["bucket_seconds"], 3600);
    assert_eq!(st["buckets"][0]["time"], "2026-11-20T09:00:00+09:00");
    let groups: Vec<&Value> = st["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["group"])
        .collect();
    assert!(groups.contains(&&Value::from("/news/*")), "{groups:?}");

    let (s, v) = get(&app(), &format!("/v1/stats?{RANGE}&interval=2h")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["parameter"], "interval");
}

#[tokio::test]
async fn visits_of_the_day() {
    let (s, v) = get(&app(), &format!("/v1/visits?{RANGE}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The bot is left out; assets are left out.
    assert_eq!(col(&v, "ip"), ["203.0.113.5", "198.51.100.7"]);
    let pages = v["rows"][0]["pages"].as_array().unwrap();
    let paths: Vec<&Value> = pages.iter().map(|p| &p["path"]).collect();
    assert_eq!(
        paths,
        ["/apply/form", "/apply/confirm?id=123", "/apply/done"]
    );
    assert_eq!(pages[0]["dwell_seconds"], 60.0);
    assert_eq!(pages[2]["dwell_seconds"], Value::Null);

    let (_, v) = get(
        &app(),
        &format!("/v1/visits?{RANGE}&bots=true&ip=66.249.66.1&assets=1"),
    )
    .await;
    assert_eq!(col(&v, "ip"), ["66.249.66.1"]);
}

#[tokio::test]
async fn errors_by_level_and_text() {
    let app = app();
    let (s, v) = get(&app, &format!("/v1/errors?{RANGE}")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(col(&v, "level"), ["error", "warn", "notice"]);
    assert_eq!(v["rows"][0]["time"], "2026-11-20T09:06:40+09:00");
    let (_, v) = get(&app, &format!("/v1/errors?{RANGE}&level=warn")).await;
    assert_eq!(col(&v, "level"), ["error", "warn"]);
    let (_, v) = get(&app, &format!("/v1/errors?{RANGE}&text=UPSTREAM")).await;
    assert_eq!(col(&v, "level"), ["error"]);
}

#[tokio::test]
async fn csv_has_bom_header_and_rows() {
    let (s, h, body) = call(
        &app(),
        &format!("/v1/mail?{RANGE}&format=csv&recipient=b@"),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with("\u{feff}time,message_id,"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains("出願書類の不備について"));
    assert!(lines[1].contains("mailbox_full"));
    for ep in ["access", "errors", "visits", "stats"] {
        let (s, h, body) = call(&app(), &format!("/v1/{ep}?{RANGE}&format=csv"), &[]).await;
        assert_eq!(s, StatusCode::OK, "{ep}");
        assert_eq!(h[header::CONTENT_TYPE], "text/csv; charset=utf-8");
        assert!(body.starts_with("\u{feff}".as_bytes()), "{ep}");
    }
}

#[tokio::test]
async fn bad_parameters_are_named() {
    let app = app();
    let cases: &[(&str, &str)] = &[
        ("/v1/mail?from=yesterday", "from"),
        ("/v1/mail?to=2026-02-30", "to"),
        ("/v1/mail?from=2026-11-21&to=2026-11-20", "from"),
        ("/v1/mail?limit=0", "limit"),
        ("/v1/mail?limit=1001", "limit"),
        ("/v1/mail?lang=fr", "lang"),
        ("/v1/mail?tz=Mars/Base", "tz"),
        ("/v1/mail?cursor=xyz", "cursor"),
        ("/v1/mail?status=lost", "status"),
        ("/v1/mail?recipent=a", "recipent"),
        ("/v1/mail?format=xml", "format"),
        ("/v1/access?status=5x", "status"),
        ("/v1/access?status=600", "status"),
        ("/v1/access?source=s3", "source"),
        ("/v1/errors?level=loud", "level"),
        ("/v1/stats?url_groups=(", "url_groups"),
        ("/v1/visits?bots=maybe", "bots"),
        ("/v1/mail?limit=1&limit=2", "limit"),
    ];
    for (uri, param) in cases {
        let (s, v) = get(&app, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert_eq!(v["error"]["code"], "bad_parameter", "{uri}");
        assert_eq!(v["error"]["parameter"], *param, "{uri}");
    }
    // A cursor from another endpoint is refused.
    let (_, v) = get(&app, &format!("/v1/access?{RANGE}&limit=1")).await;
    let c = v["next_cursor"].as_str().unwrap();
    let (s, v) = get(&app, &format!("/v1/mail?{RANGE}&cursor={c}")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["parameter"], "cursor");
}

#[tokio::test]
async fn unknown_routes_are_404_json() {
    let (s, v) = get(&app(), "/v1/nothing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found");
    // `/` is the dashboard; other paths outside /v1 and /assets are not found.
    let (s, _) = get(&app(), "/nothing").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

const TOKEN_HASH: &str = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";

#[tokio::test]
async fn token_auth() {
    let app = app_with(&[("AUTH_MODE", "token"), ("TOKEN_SHA256", TOKEN_HASH)], 100);
    let uri = format!("/v1/mail?{RANGE}");
    let (s, h, _) = call(&app, &uri, &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");
    let (s, _, _) = call(&app, &uri, &[("authorization", "Bearer wrong")]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = call(&app, &uri, &[("authorization", "Bearer secret")]).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&app, &uri, &[("authorization", "bearer secret")]).await;
    assert_eq!(s, StatusCode::OK);
    // Health stays open for load balancers and uptime checks.
    let (s, _, _) = call(&app, "/v1/health", &[]).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn cors_for_listed_origins_only() {
    let app = app_with(
        &[(
            "CORS_ORIGINS",
            "https://dash.example.jp, https://other.example.jp",
        )],
        100,
    );
    let (_, h, _) = call(&app, "/v1/health", &[("origin", "https://dash.example.jp")]).await;
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "https://dash.example.jp"
    );
    let (_, h, _) = call(&app, "/v1/health", &[("origin", "https://evil.example")]).await;
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let (_, h, _) = call(
        &app_with(&[], 100),
        "/v1/health",
        &[("origin", "https://dash.example.jp")],
    )
    .await;
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    assert!(Config::from_lookup(|k| (k == "CORS_ORIGINS").then(|| "*".to_owned())).is_err());
}

#[tokio::test]
async fn a_spent_time_budget_answers_partial_with_a_cursor() {
    let app = app_with(&[("TIME_BUDGET_MS", "0")], 2);
    let (s, v) = get(&app, &format!("/v1/access?{RANGE}&source=lb")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["partial"], true);
    let mut ids: Vec<String> = col(&v, "id")
        .into_iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    let mut cursor = v["next_cursor"].as_str().unwrap().to_owned();
    for _ in 0..20 {
        let (_, v) = get(
            &app,
            &format!("/v1/access?{RANGE}&source=lb&cursor={cursor}"),
        )
        .await;
        ids.extend(
            col(&v, "id")
                .into_iter()
                .map(|i| i.as_str().unwrap().to_owned()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(ids.len(), 8, "{ids:?}");
}
