//! Reasons are computed when read: records stored in CloudWatch Logs by an older classifier
//! (with its reason code inside) are put into the emulator with PutLogEvents, and the API,
//! reading them back with the real FilterLogEvents reader, explains them with today's rules:
//! the reason, the provider and its advice, and the translated SES codes.

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use logdesk_api::source::CloudWatchSource;
use logdesk_api::{AppState, Config, router};
use logdesk_core::Record;
use logdesk_core::record::MailRecord;
use logdesk_e2e::{Emulator, http};
use serde_json::Value;

const GROUP: &str = "/logdesk/mail";

async fn logs_client(emulator: &Emulator) -> aws_sdk_cloudwatchlogs::Client {
    let config = emulator.sdk_config().await;
    aws_sdk_cloudwatchlogs::Client::new(&config)
}

/// A bounce as an older version stored it: `stored_reason` is what its classifier said.
fn old_bounce(t: i64, id: &str, to: &str, diagnostic: &str, stored_reason: &str) -> MailRecord {
    MailRecord {
        v: 1,
        t,
        event: "Bounce".to_owned(),
        message_id: id.to_owned(),
        sent: Some(t),
        recipient: Some(to.to_owned()),
        from: Some("info@example.jp".to_owned()),
        subject: Some("ご予約の確認".to_owned()),
        bounce_type: Some("Permanent".to_owned()),
        bounce_subtype: Some("General".to_owned()),
        status: Some("5.0.0".to_owned()),
        diagnostic: Some(diagnostic.to_owned()),
        reason: Some(stored_reason.to_owned()),
        ..MailRecord::default()
    }
}

/// Two minutes ago on a whole second (PutLogEvents refuses events older than 14 days).
fn now_us() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (now - 120) * 1_000_000
}

async fn get(app: &axum::Router, uri: &str) -> Value {
    http::get_ok(app, uri).await
}

#[tokio::test]
async fn old_records_are_explained_with_todays_rules() {
    let emulator = Emulator::start().expect("emulator");
    let logs = logs_client(&emulator).await;
    logs.create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("s1")
        .send()
        .await
        .unwrap();
    let t = now_us();
    // Real diagnostics (shared/tests/data/bounces/): docomo's answer after DATA, which the old
    // classifier called a missing address, and an au filter reply it called a policy.
    let records = [
        old_bounce(
            t,
            "old-0001",
            "keitai.taro@docomo.ne.jp",
            "smtp; 550 Unknown user keitai.taro@docomo.ne.jp (in reply to end of DATA command)",
            "user_unknown",
        ),
        old_bounce(
            t + 1_000_000,
            "old-0002",
            "hanako@ezweb.ne.jp",
            "smtp; 550 : User unknown",
            "undetermined",
        ),
    ];
    let batch: Vec<InputLogEvent> = records
        .iter()
        .map(|r| {
            InputLogEvent::builder()
                .timestamp(r.t / 1000)
                .message(Record::Mail(r.clone()).to_json())
                .build()
                .unwrap()
        })
        .collect();
    let out = logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name("s1")
        .set_log_events(Some(batch))
        .send()
        .await
        .unwrap();
    assert!(out.rejected_log_events_info().is_none(), "{out:?}");

    let config =
        Config::from_lookup(|k| (k == "MAIL_LOG_GROUP").then(|| GROUP.to_owned())).unwrap();
    let app = router(AppState::new(config, Arc::new(CloudWatchSource::new(logs))));
    let iso = |us: i64| {
        logdesk_api::params::format_time(us, &logdesk_api::params::Zone::UTC)
            .replace('+', "%2B")
            .replace(':', "%3A")
    };
    let (from, to) = (iso(t - 600_000_000), iso(t + 600_000_000));
    let v = get(&app, &format!("/v1/mail?from={from}&to={to}&lang=ja")).await;
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{v}");
    for row in rows {
        let reason = &row["reason"];
        assert_eq!(reason["code"], "filtered", "{row}");
        assert_eq!(reason["severity"], "needs_fix");
        assert_eq!(reason["severity_label"], "要対応");
        assert_eq!(row["status_label"], "不達（Bounce）");
    }
    let docomo = rows
        .iter()
        .find(|r| r["message_id"] == "old-0001")
        .expect("docomo row");
    assert_eq!(docomo["reason"]["provider"], "docomo のメールアドレス");
    assert!(
        docomo["reason"]["provider_advice"]
            .as_str()
            .unwrap()
            .contains("My docomo"),
        "{docomo}"
    );

    let v = get(
        &app,
        &format!("/v1/mail/old-0001?from={from}&to={to}&lang=ja"),
    )
    .await;
    let events = &v["recipients"][0]["events"];
    let bounce = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "Bounce")
        .expect("bounce event");
    assert_eq!(bounce["reason"]["code"], "filtered");
    assert_eq!(bounce["event_label"], "不達（Bounce）");
    assert_eq!(bounce["bounce_type_label"], "恒久的（Permanent）");
    assert_eq!(bounce["bounce_subtype_label"], "一般（General）");

    let v = get(&app, &format!("/v1/mail?from={from}&to={to}&lang=en")).await;
    assert_eq!(v["rows"][0]["reason"]["code"], "filtered");
    assert_eq!(v["rows"][0]["status_label"], "Bounced");
}
