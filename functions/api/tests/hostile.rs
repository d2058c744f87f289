//! Requests a hostile or careless caller sends: each is answered in the one JSON error shape,
//! with the headers personal data needs, and never costs more than an honest request.

use logdesk_e2e::http;
use std::io::Read as _;
use std::sync::Arc;

use axum::http::header;
use logdesk_api::group_read::Key;
use logdesk_api::params::{Params, encode_bound, encode_cursor};
use logdesk_api::synthetic;
use logdesk_api::{AppState, Config, router};
use serde_json::Value;
use tower::ServiceExt;

/// 2026-11-20T00:00:00Z, µs.
const BASE: i64 = 1_795_132_800_000_000;
const RANGE: &str = "from=2026-11-20T00:00:00Z&to=2026-11-20T02:00:00Z";

fn app(extra: &[(&str, &str)]) -> axum::Router {
    let src = synthetic::day_source(BASE, "", 3);
    let mut vars = vec![
        ("LB_LOG_GROUP", "/lb"),
        ("MAIL_LOG_GROUP", "/mail"),
        ("NGINX_ACCESS_LOG_GROUP", "/nginx/access"),
        ("NGINX_ERROR_LOG_GROUP", "/nginx/error"),
    ];
    vars.extend_from_slice(extra);
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    router(AppState::new(config, Arc::new(src)))
}

/// Status, headers and body of `method uri` with `headers`.
async fn send(
    app: &axum::Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let a = http::request(app, method, uri, headers).await;
    (a.status.as_u16(), a.headers, a.body)
}

async fn get(app: &axum::Router, uri: &str) -> (u16, Value) {
    let (status, _, body) = send(app, "GET", uri, &[]).await;
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, v)
}

/// The error shape: a code, a message and a request id (and the parameter when given).
fn assert_error(v: &Value, code: &str, parameter: Option<&str>) {
    let e = &v["error"];
    assert_eq!(e["code"], code, "{v}");
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(
        e["request_id"].as_str().is_some_and(|r| r.len() == 16),
        "{v}"
    );
    match parameter {
        Some(p) => assert_eq!(e["parameter"], p, "{v}"),
        None => assert!(e.get("parameter").is_none(), "{v}"),
    }
}

#[tokio::test]
async fn error_text_matches_inside_one_field() {
    let app = app(&[]);
    let count = |v: &Value| v["count"].as_u64().unwrap();
    let (s, v) = get(&app, &format!("/v1/errors?{RANGE}&text=203.0.113.5")).await;
    assert_eq!(s, 200, "{v}");
    assert!(count(&v) >= 1, "the client field alone matches: {v}");
    // A newline joined nothing: no field holds one.
    let (_, v) = get(&app, &format!("/v1/errors?{RANGE}&text=%0A")).await;
    assert_eq!(count(&v), 0, "{v}");
    // The end of the message and the start of the client are two fields.
    let (_, v) = get(
        &app,
        &format!("/v1/errors?{RANGE}&text=from+upstream%0A203"),
    )
    .await;
    assert_eq!(count(&v), 0, "{v}");
}

#[tokio::test]
async fn recipient_addresses_are_trimmed_like_ip() {
    let app = app(&[]);
    let (s, plain) = get(&app, &format!("/v1/recipients/taro%40example.jp?{RANGE}")).await;
    assert_eq!(s, 200, "{plain}");
    let (s, padded) = get(
        &app,
        &format!("/v1/recipients/%20taro%40example.jp%20?{RANGE}"),
    )
    .await;
    assert_eq!(s, 200, "{padded}");
    assert_eq!(padded["address"], "taro@example.jp");
    assert_eq!(padded["messages"], plain["messages"]);
    let (s, v) = get(&app, &format!("/v1/recipients/%20%20?{RANGE}")).await;
    assert_eq!(s, 400);
    assert_error(&v, "bad_parameter", Some("address"));
}

#[tokio::test]
async fn times_before_1970_are_refused_by_name() {
    let app = app(&[]);
    for (query, name) in [
        ("from=1969-12-31&to=2026-11-20", "from"),
        ("from=1960-01-01T00:00:00Z&to=1969-01-01T00:00:00Z", "to"),
        ("to=1969-12-31T23:59:59Z", "to"),
    ] {
        let (s, v) = get(&app, &format!("/v1/access?{query}")).await;
        assert_eq!(s, 400, "{query}: {v}");
        assert_error(&v, "bad_parameter", Some(name));
    }
    // A default range reaching back past 1970 starts there.
    let (s, v) = get(&app, "/v1/access?to=1970-01-01T10:00:00Z").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["from"], "1970-01-01T09:00:00+09:00");
}

#[tokio::test]
async fn repeated_authorization_headers_are_refused() {
    // printf %s secret | sha256sum
    let hash = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    let app = app(&[("AUTH_MODE", "token"), ("TOKEN_SHA256", hash)]);
    let uri = format!("/v1/mail?{RANGE}");
    let good = ("authorization", "Bearer secret");
    let (s, _, _) = send(&app, "GET", &uri, &[good]).await;
    assert_eq!(s, 200);
    for other in ["Bearer secret", "Bearer wrong"] {
        let (s, _, body) = send(&app, "GET", &uri, &[good, ("authorization", other)]).await;
        assert_eq!(s, 400);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_error(&v, "bad_parameter", Some("Authorization"));
    }
}

#[tokio::test]
async fn every_refusal_is_the_json_error_shape() {
    let app = app(&[]);
    let (s, h, body) = send(&app, "GET", &format!("/v1/mail/%FF?{RANGE}"), &[]).await;
    assert_eq!(s, 400);
    assert_eq!(h[header::CONTENT_TYPE], "application/json");
    assert_error(
        &serde_json::from_slice(&body).unwrap(),
        "bad_parameter",
        Some("message_id"),
    );
    let (s, _, body) = send(&app, "GET", &format!("/v1/recipients/%C3%28?{RANGE}"), &[]).await;
    assert_eq!(s, 400);
    assert_error(
        &serde_json::from_slice(&body).unwrap(),
        "bad_parameter",
        Some("address"),
    );
    for method in ["POST", "DELETE", "PUT"] {
        let (s, h, body) = send(&app, method, "/v1/mail", &[]).await;
        assert_eq!(s, 405, "{method}");
        assert_eq!(h[header::CONTENT_TYPE], "application/json");
        assert!(h.contains_key(header::ALLOW), "{method}: {h:?}");
        assert_error(
            &serde_json::from_slice(&body).unwrap(),
            "method_not_allowed",
            None,
        );
    }
    let (s, v) = get(&app, "/v1/nothing-here").await;
    assert_eq!(s, 404);
    assert_error(&v, "not_found", None);
    let (s, v) = get(&app, "/v1/access?limit=0").await;
    assert_eq!(s, 400);
    assert_error(&v, "bad_parameter", Some("limit"));
}

#[tokio::test]
async fn answers_carry_no_store_nosniff_and_vary_origin() {
    let plain = app(&[]);
    let cors = app(&[("CORS_ORIGINS", "https://desk.example.jp")]);
    for uri in [
        format!("/v1/access?{RANGE}"),
        format!("/v1/access?{RANGE}&format=csv"),
        format!("/v1/stats?{RANGE}"),
        format!("/v1/mail/nope?{RANGE}"),
        "/v1/health".to_owned(),
        "/v1/nothing-here".to_owned(),
    ] {
        let (_, h, _) = send(&plain, "GET", &uri, &[]).await;
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{uri}");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
        let vary = |h: &axum::http::HeaderMap| {
            h.get_all(header::VARY)
                .iter()
                .any(|v| v.to_str().unwrap().contains("Origin"))
        };
        assert!(!vary(&h), "{uri}: no CORS, no Vary: Origin");
        for origin in [
            None,
            Some("https://desk.example.jp"),
            Some("https://evil.example"),
        ] {
            let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
            let (_, h, _) = send(&cors, "GET", &uri, &headers).await;
            assert!(vary(&h), "{uri} from {origin:?}: {h:?}");
            assert_eq!(h[header::CACHE_CONTROL], "no-store", "{uri}");
        }
    }
}

#[tokio::test]
async fn json_answers_are_gzipped_when_accepted_and_lambda_sends_them_as_binary() {
    let app = app(&[]);
    let uri = format!("/v1/access?{RANGE}&limit=200");
    let (_, h, plain) = send(&app, "GET", &uri, &[]).await;
    assert!(!h.contains_key(header::CONTENT_ENCODING));
    let (s, h, packed) = send(&app, "GET", &uri, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(s, 200);
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    assert!(
        packed.len() * 3 < plain.len(),
        "{} of {}",
        packed.len(),
        plain.len()
    );
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&packed[..])
        .read_to_end(&mut text)
        .unwrap();
    let (a, b): (Value, Value) = (
        serde_json::from_slice(&plain).unwrap(),
        serde_json::from_slice(&text).unwrap(),
    );
    // The same answer but for the request id-free fields that name the time of the answer.
    assert_eq!(a["rows"], b["rows"]);
    // CSV is streamed as it is.
    let (_, h, _) = send(
        &app,
        "GET",
        &format!("{uri}&format=csv"),
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert!(!h.contains_key(header::CONTENT_ENCODING));

    // Through lambda_http's conversion (a Function URL event in, its response out): a
    // compressed body is binary (base64 in the Function URL answer), byte for byte.
    let event = include_str!("../../../events/api/access.json");
    let mut req = lambda_http::request::from_str(event).unwrap();
    req.headers_mut()
        .insert(header::ACCEPT_ENCODING, "gzip".parse().unwrap());
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
    let resp = lambda_http::IntoResponse::into_response(resp).await;
    match resp.body() {
        lambda_http::Body::Binary(bytes) => {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut text)
                .unwrap();
            let v: Value = serde_json::from_slice(&text).unwrap();
            assert!(v["rows"].is_array(), "{v}");
        }
        other => panic!("a gzipped answer must be binary, got {other:?}"),
    }
}

#[tokio::test]
async fn cursors_are_bound_to_their_request_and_range() {
    let app = app(&[]);
    // Access and errors cursors given with other parameters: refused by name.
    for (path, extra) in [("access", "&source=lb"), ("errors", "&level=warn")] {
        let uri = format!("/v1/{path}?{RANGE}&limit=1");
        let (s, v) = get(&app, &uri).await;
        assert_eq!(s, 200, "{v}");
        let cursor = v["next_cursor"].as_str().unwrap().to_owned();
        let (s, v) = get(&app, &format!("{uri}&cursor={cursor}")).await;
        assert_eq!(s, 200, "{path}: {v}");
        let (s, v) = get(&app, &format!("{uri}{extra}&cursor={cursor}")).await;
        assert_eq!(s, 400, "{path}: {v}");
        assert_error(&v, "bad_parameter", Some("cursor"));
    }
    // Positions no answer to this request gives: refused at once, not read.
    let query = format!("{RANGE}&order=desc");
    let fp = Params::parse(Some(&query)).unwrap().fingerprint();
    let forged = encode_bound(
        "access:desc",
        &fp,
        &serde_json::json!({"hi_ms": i64::MAX, "before": null, "width_ms": 1}),
    );
    let (s, v) = get(&app, &format!("/v1/access?{query}&cursor={forged}")).await;
    assert_eq!(s, 400, "{v}");
    assert_error(&v, "bad_parameter", Some("cursor"));
    let fp = Params::parse(Some(RANGE)).unwrap().fingerprint();
    let beyond = Key {
        t: i64::MAX,
        g: 0,
        id: String::new(),
    };
    for (path, key) in [
        ("access", beyond.clone()),
        (
            "access",
            Key {
                g: 9,
                ..beyond.clone()
            },
        ),
        ("errors", beyond.clone()),
    ] {
        let cursor = encode_bound(path, &fp, &key);
        let (s, v) = get(&app, &format!("/v1/{path}?{RANGE}&cursor={cursor}")).await;
        assert_eq!(s, 400, "{path} {key:?}: {v}");
    }
    // The cursor of the old, unbound shape is refused, not misread.
    let old = encode_cursor("errors", &beyond);
    let (s, _) = get(&app, &format!("/v1/errors?{RANGE}&cursor={old}")).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn cursors_hold_no_address_ip_or_user_agent() {
    use base64::Engine as _;
    let app = app(&[]);
    let decoded = |c: &str| {
        String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .unwrap(),
        )
        .unwrap()
    };
    for uri in [
        format!("/v1/mail?{RANGE}&limit=1"),
        format!("/v1/mail?{RANGE}&limit=1&recipient=example"),
        format!("/v1/visits?{RANGE}&limit=1&source=lb"),
    ] {
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let u = match &cursor {
                Some(c) => format!("{uri}&cursor={c}"),
                None => uri.clone(),
            };
            let (s, v) = get(&app, &u).await;
            assert_eq!(s, 200, "{v}");
            pages += 1;
            let Some(c) = v["next_cursor"].as_str() else {
                break;
            };
            let text = decoded(c);
            assert!(!text.contains('@'), "{uri}: {text}");
            assert!(!text.contains("Mozilla"), "{uri}: {text}");
            assert!(!text.contains("203.0.113"), "{uri}: {text}");
            assert!(!text.contains("198.51.100"), "{uri}: {text}");
            cursor = Some(c.to_owned());
        }
        assert!(pages > 1, "{uri}: pages to follow");
    }
}
