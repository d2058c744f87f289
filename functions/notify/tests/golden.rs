//! Golden tests: the alert text (e-mail and Slack) for every official SES sample, in Japanese
//! and English, plus a digest of 50 events. `UPDATE_GOLDEN=1 cargo test -p logdesk-notify
//! --test golden` rewrites the files; read the diff before committing it.

use std::path::PathBuf;

use jiff::tz::TimeZone;
use logdesk_core::bounce::{Lang, reason_for};
use logdesk_core::record::MailRecord;
use logdesk_notify::alert::{Alert, AlertEvent};

const EVENTS: &[(&str, &str)] = &[
    (
        "event-bounce",
        include_str!("../../../shared/tests/data/ses-events/bounce.json"),
    ),
    (
        "event-complaint",
        include_str!("../../../shared/tests/data/ses-events/complaint.json"),
    ),
    (
        "event-delivery-delay",
        include_str!("../../../shared/tests/data/ses-events/delivery-delay.json"),
    ),
    (
        "event-reject",
        include_str!("../../../shared/tests/data/ses-events/reject.json"),
    ),
    (
        "event-rendering-failure",
        include_str!("../../../shared/tests/data/ses-events/rendering-failure.json"),
    ),
    (
        "notification-bounce-with-dsn",
        include_str!("../../../shared/tests/data/ses-notifications/bounce-with-dsn.json"),
    ),
    (
        "notification-bounce-without-dsn",
        include_str!("../../../shared/tests/data/ses-notifications/bounce-without-dsn.json"),
    ),
    (
        "notification-complaint-with-feedback-report",
        include_str!(
            "../../../shared/tests/data/ses-notifications/complaint-with-feedback-report.json"
        ),
    ),
    (
        "notification-complaint-without-feedback-report",
        include_str!(
            "../../../shared/tests/data/ses-notifications/complaint-without-feedback-report.json"
        ),
    ),
];

/// Samples that never alert, whatever ALERT_TYPES says.
const QUIET: &[&str] = &[
    include_str!("../../../shared/tests/data/ses-events/send.json"),
    include_str!("../../../shared/tests/data/ses-events/delivery.json"),
    include_str!("../../../shared/tests/data/ses-events/open.json"),
    include_str!("../../../shared/tests/data/ses-events/click.json"),
    include_str!("../../../shared/tests/data/ses-events/subscription.json"),
    include_str!("../../../shared/tests/data/ses-notifications/delivery.json"),
];

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

fn check(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

fn tokyo() -> TimeZone {
    TimeZone::get("Asia/Tokyo").unwrap()
}

fn events_of(json: &str) -> Vec<AlertEvent> {
    logdesk_core::ses::parse_event(json)
        .unwrap()
        .into_iter()
        .map(|record| AlertEvent { source: 0, record })
        .collect()
}

fn check_alert(name: &str, alert: &Alert, lang: Lang) {
    let email = alert.email();
    check(
        &format!("{name}.{lang}.email.txt"),
        &format!("Subject: {}\n\n{}", email.subject, email.body),
    );
    let slack: Vec<_> = alert.slack().into_iter().map(|m| m.payload).collect();
    check(
        &format!("{name}.{lang}.slack.json"),
        &(serde_json::to_string_pretty(&slack).unwrap() + "\n"),
    );
}

#[test]
fn every_alerting_sample_in_both_languages() {
    for (name, json) in EVENTS {
        let events = events_of(json);
        assert!(!events.is_empty(), "{name}");
        for lang in [Lang::Ja, Lang::En] {
            let alert = Alert::new(events.clone(), lang, tokyo());
            check_alert(name, &alert, lang);
        }
    }
}

#[test]
fn quiet_samples_do_not_alert_even_with_every_type_enabled() {
    let config = logdesk_notify::Config::from_lookup(|k| {
        (k == "ALERT_TYPES")
            .then(|| "Bounce,Complaint,Reject,DeliveryDelay,Rendering Failure".to_owned())
    })
    .unwrap();
    for json in QUIET {
        let message = logdesk_notify::SourceMessage {
            id: "m".into(),
            sns_id: None,
            body: json.to_string(),
        };
        assert!(logdesk_notify::alert_events(&config, &[message]).is_empty());
    }
}

/// 50 events of one storm: user-unknown and suppressed permanent bounces, full mailboxes,
/// and complaints, arriving out of order.
pub fn storm() -> Vec<AlertEvent> {
    let bounce = logdesk_core::ses::parse_event(EVENTS[0].1)
        .unwrap()
        .remove(0);
    let complaint = logdesk_core::ses::parse_event(EVENTS[1].1)
        .unwrap()
        .remove(0);
    let base_t = "2026-11-22T01:15:00Z"
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_microsecond();
    (0..50)
        .map(|i: i64| {
            let mut r: MailRecord = if i % 5 == 4 { complaint.clone() } else { bounce.clone() };
            r.recipient = Some(format!("student{i:02}@example.jp"));
            r.message_id = format!("0100019a4c2f{i:04}-storm-000000");
            r.subject = Some("【受付完了】オープンキャンパスお申し込みありがとうございます".into());
            r.from = Some("info@example.ac.jp".into());
            r.from_name = Some("〇〇大学 入試課".into());
            r.sent = Some(base_t + (49 - i) * 60_000_000);
            r.t = r.sent.unwrap() + 30_000_000;
            match i % 5 {
                1 => {
                    r.bounce_type = Some("Transient".into());
                    r.bounce_subtype = Some("MailboxFull".into());
                    r.status = Some("4.2.2".into());
                    r.diagnostic = Some("smtp; 452 4.2.2 The email account that you tried to reach is over quota.".into());
                }
                2 => {
                    r.bounce_subtype = Some("Suppressed".into());
                    r.status = Some("5.1.1".into());
                    r.diagnostic = Some("Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.".into());
                }
                _ => {}
            }
            r.reason = reason_for(&r).map(|c| c.as_str().to_owned());
            AlertEvent { source: i as usize / 3, record: r }
        })
        .collect()
}

#[test]
fn digest_of_fifty_events() {
    for lang in [Lang::Ja, Lang::En] {
        let alert = Alert::new(storm(), lang, tokyo());
        assert_eq!(alert.slack().len(), 3, "50 events at 20 per message");
        check_alert("digest-50", &alert, lang);
    }
    let alert = Alert::new(storm(), Lang::Ja, tokyo());
    assert_eq!(alert.title(), "不達 40件・迷惑メール報告 10件");
    assert_eq!(alert.email().subject, "[logdesk] 40 bounces, 10 complaints");
}

/// The sample Lambda events under `events/notify/` (for `sam local invoke -e` and the demo)
/// deserialize as Lambda's own types and render as pinned here.
#[test]
fn sample_lambda_events() {
    let config = logdesk_notify::Config::from_lookup(|_| None).unwrap();
    let sqs: aws_lambda_events::event::sqs::SqsEvent =
        serde_json::from_str(include_str!("../../../events/notify/sqs-sns-bounces.json")).unwrap();
    let sns: aws_lambda_events::event::sns::SnsEvent =
        serde_json::from_str(include_str!("../../../events/notify/sns-bounce.json")).unwrap();
    let from_sqs = logdesk_notify::SourceMessage::from_sqs(&sqs);
    assert_eq!(
        from_sqs[0].sns_id.as_deref(),
        Some("5d6e0c6b-1c3e-5c1a-9a7e-0f5e3c2b1a01")
    );
    let events = logdesk_notify::alert_events(&config, &from_sqs);
    assert_eq!(events.len(), 2);
    for lang in [Lang::Ja, Lang::En] {
        let alert = Alert::new(events.clone(), lang, tokyo());
        check_alert("sample-sqs-sns-bounces", &alert, lang);
    }
    let events =
        logdesk_notify::alert_events(&config, &logdesk_notify::SourceMessage::from_sns(&sns));
    assert_eq!(events.len(), 1);
    check_alert(
        "sample-sns-bounce",
        &Alert::new(events, Lang::Ja, tokyo()),
        Lang::Ja,
    );
}

/// Japanese carriers and the severities side by side: docomo's "Unknown user" after DATA
/// (stored with the old classifier's `user_unknown`, re-explained when read as the customer's
/// reception filter, with docomo's own advice), an au mailbox full, and Gmail refusing an
/// unauthenticated sender. The diagnostics are real (see `shared/tests/data/bounces/`).
#[test]
fn carriers_and_severities() {
    let bounce = logdesk_core::ses::parse_event(EVENTS[0].1)
        .unwrap()
        .remove(0);
    let cases: [(&str, &str, &str, &str, Option<&str>); 3] = [
        (
            "keitai.taro@docomo.ne.jp",
            "Permanent",
            "5.0.0",
            "smtp; 550 Unknown user keitai.taro@docomo.ne.jp (in reply to end of DATA command)",
            Some("user_unknown"),
        ),
        (
            "hanako@ezweb.ne.jp",
            "Transient",
            "4.2.2",
            "smtp; 452 4.2.2 <hanako@ezweb.ne.jp>... Mailbox full",
            None,
        ),
        (
            "sakura@gmail.com",
            "Permanent",
            "5.7.26",
            "smtp; 550-5.7.26 This mail has been blocked because the sender is unauthenticated. Gmail requires all senders to authenticate with either SPF or DKIM. - gsmtp",
            None,
        ),
    ];
    let events: Vec<AlertEvent> = cases
        .iter()
        .enumerate()
        .map(|(i, (to, bounce_type, status, diagnostic, stored))| {
            let mut r = bounce.clone();
            r.recipient = Some((*to).to_owned());
            r.bounce_type = Some((*bounce_type).to_owned());
            r.bounce_subtype = Some("General".to_owned());
            r.status = Some((*status).to_owned());
            r.diagnostic = Some((*diagnostic).to_owned());
            r.reason = stored.map(str::to_owned);
            r.t += i as i64;
            AlertEvent {
                source: i,
                record: r,
            }
        })
        .collect();
    for lang in [Lang::Ja, Lang::En] {
        let alert = Alert::new(events.clone(), lang, tokyo());
        check_alert("carriers", &alert, lang);
    }
    let body = Alert::new(events, Lang::Ja, tokyo()).email().body;
    assert!(body.contains("docomo のメールアドレス"), "{body}");
    assert!(
        body.contains("【不達（恒久的）】お客様の受信設定で拒否"),
        "{body}"
    );
    assert!(body.contains("要対応＝"), "{body}");
}
