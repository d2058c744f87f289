//! The OpenAPI document stays true to the router, and no query string makes the API fail.

use logdesk_e2e::http;
use std::sync::Arc;

use axum::http::StatusCode;
use logdesk_api::synthetic;
use logdesk_api::{AppState, Config, router};
use proptest::prelude::*;
use serde_json::Value;

const BASE: i64 = 1_795_132_800_000_000;

fn app() -> axum::Router {
    let src = synthetic::day_source(BASE, "/logdesk", 4);
    let config = Config::from_lookup(|_| None).unwrap();
    router(AppState::new(config, Arc::new(src)))
}

async fn call(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let a = http::get(app, uri).await;
    (a.status, a.body)
}

const PATHS: &[&str] = &[
    "/v1/health",
    "/v1/mail",
    "/v1/mail/{message_id}",
    "/v1/recipients/{address}",
    "/v1/access",
    "/v1/stats",
    "/v1/visits",
    "/v1/errors",
    "/v1/openapi.json",
    "/v1/mail/stats",
];

#[tokio::test]
async fn openapi_lists_every_route_and_only_accepted_parameters() {
    let app = app();
    let (s, body) = call(&app, "/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    paths.sort();
    let mut want = PATHS.to_vec();
    want.sort();
    assert_eq!(paths, want);
    for path in PATHS {
        let concrete = path
            .replace("{message_id}", "m-0001")
            .replace("{address}", "taro%40example.jp");
        let params = doc["paths"][*path]["get"]["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for p in params.iter().filter(|p| p["in"] == "query") {
            let name = p["name"].as_str().unwrap();
            let uri = format!("{concrete}?{name}=x");
            let (s, body) = call(&app, &uri).await;
            assert_ne!(s, StatusCode::NOT_FOUND, "{uri}");
            if s == StatusCode::BAD_REQUEST {
                let v: Value = serde_json::from_slice(&body).unwrap();
                assert!(
                    !v["error"]["message"]
                        .as_str()
                        .unwrap()
                        .starts_with("unknown parameter"),
                    "{uri} is documented but refused: {v}"
                );
            }
        }
        let (s, _) = call(&app, &format!("{concrete}?undocumented_parameter=1")).await;
        if *path != "/v1/health" && *path != "/v1/openapi.json" {
            assert_eq!(s, StatusCode::BAD_REQUEST, "{path}");
        }
    }
}

fn query_piece() -> impl Strategy<Value = String> {
    let names = prop_oneof![
        Just("from"),
        Just("to"),
        Just("tz"),
        Just("lang"),
        Just("limit"),
        Just("cursor"),
        Just("format"),
        Just("recipient"),
        Just("subject"),
        Just("status"),
        Just("from_address"),
        Just("source"),
        Just("ip"),
        Just("host"),
        Just("path"),
        Just("trace_id"),
        Just("interval"),
        Just("url_groups"),
        Just("top"),
        Just("assets"),
        Just("bots"),
        Just("level"),
        Just("text"),
    ];
    let values = prop_oneof![
        "[ -~]{0,20}",
        "\\PC{0,12}",
        Just("2026-11-20".to_owned()),
        Just("5xx".to_owned()),
        Just("%FF%FE".to_owned()),
        Just("((((".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("-1".to_owned()),
    ];
    (names, values).prop_map(|(n, v)| format!("{n}={v}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, .. ProptestConfig::default() })]
    #[test]
    fn no_query_string_fails_the_api(
        path in prop::sample::select(vec!["/v1/mail", "/v1/mail/m-0003", "/v1/recipients/a%40b", "/v1/access", "/v1/stats", "/v1/visits", "/v1/errors"]),
        pieces in prop::collection::vec(query_piece(), 0..5),
        raw in "[ -~]{0,30}",
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let app = app();
        for q in [pieces.join("&"), raw.replace(' ', "+")] {
            let uri = format!("{path}?{q}");
            let Ok(uri) = uri.parse::<axum::http::Uri>() else { continue };
            let (s, body) = rt.block_on(call(&app, &uri.to_string()));
            prop_assert!(
                [StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND].contains(&s),
                "{uri}: {s}"
            );
            if s != StatusCode::OK {
                let v: Value = serde_json::from_slice(&body).unwrap();
                prop_assert!(v["error"]["code"].is_string());
            }
        }
    }
}
