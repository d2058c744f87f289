//! The demo's set-up and seeding against a fresh emulator, then the API (the router with the
//! CloudWatch reader and the function's environment from names.json) answering every example
//! request the demo prints with data, and the fixed content other tests rely on.

use std::sync::Arc;

use axum::http::StatusCode;
use logdesk_api::source::CloudWatchSource;
use logdesk_api::{AppState, Config, router};
use logdesk_demo::examples::{examples, has_data};
use logdesk_demo::stack::Clients;
use logdesk_demo::traffic::{
    API_500_PATH, DELIVERED_TO, HARD_BOUNCE_TO, SOFT_BOUNCE_TO, VISITOR_IP, VISITOR_PATHS,
};
use logdesk_demo::{now_us, setup_and_seed};
use logdesk_e2e::{Emulator, http};
use serde_json::Value;

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let a = http::get(app, uri).await;
    (a.status, a.body)
}

async fn json(app: &axum::Router, uri: &str) -> Value {
    let (s, b) = get(app, uri).await;
    assert_eq!(s, StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&b));
    serde_json::from_slice(&b).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeded_demo_answers_every_endpoint_with_data() {
    let emulator = Emulator::start().expect("start emulator");
    let seeded = setup_and_seed(&emulator.endpoint(), now_us(), |l| eprintln!("{l}"))
        .await
        .expect("setup and seed");
    assert!(seeded.counts.alb_requests > 3000, "{:?}", seeded.counts);
    assert_eq!(seeded.ingested.failed, 0);
    assert_eq!(seeded.ingested.bad, 0, "{:?}", seeded.ingested);
    assert_eq!(seeded.ingested.objects, seeded.uploaded as u64);
    assert!(
        seeded.alert.message.contains(HARD_BOUNCE_TO),
        "{:?}",
        seeded.alert
    );

    let clients = Clients::new(&emulator.endpoint(), &seeded.names.region).await;
    let api = &seeded.names.functions.api;
    let config = Config::from_lookup(|k| api.env.get(k).cloned()).unwrap();
    let app = router(AppState::new(
        config,
        Arc::new(CloudWatchSource::new(clients.logs.clone())),
    ));

    for e in examples(&seeded.fixed) {
        let (status, body) = get(&app, &e.path).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}: {}",
            e.path,
            String::from_utf8_lossy(&body)
        );
        assert!(
            has_data(&e, &body),
            "{} has no data: {}",
            e.path,
            String::from_utf8_lossy(&body[..body.len().min(2000)])
        );
    }

    // The fixed content.
    let v = json(
        &app,
        &format!("/v1/mail?recipient={HARD_BOUNCE_TO}&status=bounce"),
    )
    .await;
    let row = &v["rows"][0];
    assert_eq!(row["reason"]["code"], "user_unknown", "{row}");
    assert!(row["subject"].as_str().unwrap().contains("ご注文"), "{row}");
    let v = json(
        &app,
        &format!("/v1/mail?recipient={SOFT_BOUNCE_TO}&status=bounce"),
    )
    .await;
    assert_eq!(v["rows"][0]["reason"]["code"], "mailbox_full", "{v}");
    // The list shows each message's latest state: delivered, then opened.
    let v = json(&app, &format!("/v1/mail?recipient={DELIVERED_TO}")).await;
    assert_eq!(v["count"], 1, "{v}");
    assert!(
        ["Delivery", "Open"].contains(&v["rows"][0]["status"].as_str().unwrap_or("")),
        "{v}"
    );
    let v = json(&app, "/v1/mail?status=bounce&limit=500").await;
    let mut reasons: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["reason"]["code"].as_str())
        .collect();
    reasons.sort();
    reasons.dedup();
    for want in [
        "user_unknown",
        "mailbox_full",
        "blocked",
        "spam_detected",
        "suppressed",
        "on_account_suppression",
    ] {
        assert!(reasons.contains(&want), "{want} not in {reasons:?}");
    }
    let v = json(&app, "/v1/mail?status=complaint").await;
    assert!(v["count"].as_u64().unwrap() >= 1, "{v}");

    let v = json(&app, &format!("/v1/access?ip={VISITOR_IP}&limit=500")).await;
    let paths: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["path"].as_str())
        .collect();
    for p in VISITOR_PATHS {
        assert!(paths.contains(&p), "{p} not in {paths:?}");
    }
    let v = json(&app, &format!("/v1/access?path={API_500_PATH}&status=500")).await;
    assert!(v["count"].as_u64().unwrap() >= 1, "{v}");
    // The HTTP 500 at the load balancer and in nginx: one trace id, two linked rows, and the
    // time nginx took next to the time the load balancer waited for its target.
    let v = json(
        &app,
        &format!("/v1/access?trace_id={}", seeded.fixed.api_500_trace),
    )
    .await;
    let rows = v["rows"].as_array().unwrap();
    let mut sources: Vec<&str> = rows.iter().filter_map(|r| r["source"].as_str()).collect();
    sources.sort();
    assert_eq!(sources, ["alb", "nginx"], "{v}");
    for r in rows {
        assert_eq!(r["status"], 500, "{r}");
        assert_eq!(r["linked"].as_array().map(Vec::len), Some(1), "{r}");
    }
    let v = json(&app, &format!("/v1/visits?ip={VISITOR_IP}")).await;
    let pages: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|visit| visit["pages"].as_array().unwrap().iter())
        .filter_map(|p| p["path"].as_str())
        .collect();
    assert!(pages.len() >= 5, "{v}");
    for p in VISITOR_PATHS {
        assert!(pages.contains(&p), "{p} not in {pages:?}");
    }
}
