//! A CSV export past the 6 MB of a buffered Function URL answer is a streamed body: it arrives
//! complete, in many chunks, with one byte-order mark and every row.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic;
use logdesk_api::{AppState, Config, router};
use tower::ServiceExt;

const BASE: i64 = 1_795_132_800_000_000;
const N: usize = 30_000;

#[tokio::test]
async fn a_csv_export_over_6_mb_streams_complete() {
    let mut src = MemorySource::new(1000);
    for e in synthetic::alb_requests(N, BASE, 3600) {
        src.push("/logdesk/lb", e.timestamp, e.message);
    }
    let config = Config::from_lookup(|_| None).unwrap();
    let app = router(AppState::new(config, Arc::new(src)));
    let uri = "/v1/access?from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z&source=lb&format=csv&limit=100000";
    let resp = app
        .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(resp.headers()["x-partial"], "false");
    assert!(resp.headers().get("x-next-cursor").is_none());
    let mut body = resp.into_body();
    let (mut bytes, mut chunks) = (Vec::new(), 0);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            bytes.extend_from_slice(&data);
            chunks += 1;
        }
    }
    assert!(bytes.len() > 6 * 1024 * 1024, "{} bytes", bytes.len());
    assert!(chunks > 50, "streamed in {chunks} chunks");
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("\u{feff}time,source,"));
    assert_eq!(text.matches('\u{feff}').count(), 1, "one BOM");
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), N + 1, "header and every row");
    assert!(lines[1..].iter().all(|l| l.contains(",alb,")));
    // Too many rows for one answer is still a 400, not a truncated file.
    let config = Config::from_lookup(|_| None).unwrap();
    let app = router(AppState::new(config, Arc::new(MemorySource::new(10))));
    let resp = app
        .oneshot(
            Request::builder()
                .uri("/v1/access?format=csv&limit=100001")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
