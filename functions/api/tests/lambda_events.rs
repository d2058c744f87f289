//! The sample Function URL events in `events/api/` (payload 2.0, as `sam local invoke -e`
//! sends them) decode through `lambda_http` and the router answers each with 200.

use std::sync::Arc;

use http_body_util::BodyExt;
use logdesk_api::synthetic;
use logdesk_api::{AppState, Config, router};
use tower::ServiceExt;

const BASE: i64 = 1_795_132_800_000_000;

const EVENTS: &[(&str, &str)] = &[
    ("health", include_str!("../../../events/api/health.json")),
    ("mail", include_str!("../../../events/api/mail.json")),
    (
        "mail-message",
        include_str!("../../../events/api/mail-message.json"),
    ),
    (
        "recipient",
        include_str!("../../../events/api/recipient.json"),
    ),
    ("access", include_str!("../../../events/api/access.json")),
    (
        "access-csv",
        include_str!("../../../events/api/access-csv.json"),
    ),
    ("stats", include_str!("../../../events/api/stats.json")),
    ("visits", include_str!("../../../events/api/visits.json")),
    ("errors", include_str!("../../../events/api/errors.json")),
];

#[tokio::test]
async fn sample_function_url_events_get_answers() {
    let src = synthetic::day_source(BASE, "/logdesk", 100);
    let app = router(AppState::new(
        Config::from_lookup(|_| None).unwrap(),
        Arc::new(src),
    ));
    for (name, text) in EVENTS {
        let req = lambda_http::request::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let resp = app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "{name}: {text}");
        assert!(
            !text.contains("\"count\":0"),
            "{name} found nothing: {text}"
        );
    }
}
