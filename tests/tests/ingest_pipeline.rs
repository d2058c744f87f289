//! The ingest handler end to end against the emulator: real S3 objects in, real CloudWatch
//! Logs events out, counted.

mod ingest_common;

use ingest_common::*;
use logdesk_core::Record;
use logdesk_ingest::handler::{HandlerError, ObjectErrorKind, Outcome, handler};
use logdesk_ingest::route::stream_name;

#[tokio::test]
async fn alb_object_becomes_one_event_per_line() {
    let env = env().await;
    let deps = &env.deps;
    let key = alb_key("plain one");
    put(deps, &key, alb_object(3_000, 1)).await;
    let summary = handler(deps, s3_event(&[&key])).await.unwrap();
    let s = &summary.objects[0];
    assert_eq!(s.outcome, Outcome::Ingested);
    assert_eq!(s.kind, "alb");
    assert_eq!(
        (s.stats.lines, s.stats.records, s.stats.bad),
        (3_000, 3_000, 0)
    );
    assert_eq!(s.rejected, 0);
    let messages = stream_messages(deps, LB_GROUP, &stream_name(BUCKET, &key)).await;
    assert_eq!(messages.len(), 3_000);
    assert!(matches!(
        Record::from_json(&messages[0]).unwrap(),
        Record::Alb(_)
    ));
    assert!(is_tagged(deps, &key).await);
    // ~2 MB of events: two or three filled calls.
    assert!(s.batches <= 3, "{}", s.batches);
}

#[tokio::test]
async fn test_event_skipped_keys_and_ses_objects() {
    let env = env().await;
    let deps = &env.deps;
    let test_event: serde_json::Value = serde_json::from_str(
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"b","RequestId":"r","HostId":"h"}"#,
    )
    .unwrap();
    assert!(handler(deps, test_event).await.unwrap().objects.is_empty());

    let test_file = "AWSLogs/123456789012/ELBAccessLogTestFile";
    put(
        deps,
        test_file,
        b"Enable AccessLog for ELB: app/x/1 at 2026-01-01T00:00:00Z\n".to_vec(),
    )
    .await;
    let unknown = "other/notes.txt";
    put(deps, unknown, b"hello\n".to_vec()).await;
    let ses_key = "ses/Bounce/2026/11/22/01/logdesk-ses-1-2026-11-22-01-15-00-abc.gz";
    let ses = include_str!("../../events/samples/ses-firehose.json");
    put(deps, ses_key, gz(ses.as_bytes())).await;
    let summary = handler(deps, s3_event(&[test_file, unknown, ses_key]))
        .await
        .unwrap();
    let outcomes: Vec<&Outcome> = summary.objects.iter().map(|s| &s.outcome).collect();
    assert!(matches!(outcomes[0], Outcome::Skipped(_)));
    assert!(matches!(outcomes[1], Outcome::Skipped(_)));
    assert_eq!(outcomes[2], &Outcome::Ingested);
    let mail = &summary.objects[2];
    assert_eq!(mail.kind, "ses");
    let messages = stream_messages(deps, MAIL_GROUP, &stream_name(BUCKET, ses_key)).await;
    // Written, rejected (sample times may be older than 14 days) or both: nothing vanishes.
    assert_eq!(messages.len() as u64 + mail.rejected, mail.stats.records);
    assert!(mail.stats.records >= mail.stats.lines);
    assert_eq!(group_event_count(deps, LB_GROUP).await, 0);
}

#[tokio::test]
async fn corrupt_gzip_fails_its_object_only() {
    let env = env().await;
    let deps = &env.deps;
    let good = alb_key("good");
    let bad = alb_key("cut short");
    put(deps, &good, alb_object(500, 2)).await;
    let whole = alb_object(5_000, 3);
    put(deps, &bad, whole[..whole.len() / 2].to_vec()).await;
    let err = handler(deps, s3_event(&[&bad, &good])).await.unwrap_err();
    let HandlerError::Objects {
        failed,
        total,
        first,
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!((failed, total), (1, 2));
    assert_eq!(first.key, bad);
    assert!(matches!(first.kind, ObjectErrorKind::Decode(_)), "{first}");
    let first = first.to_string();
    assert!(first.contains(&bad), "{first}");
    assert!(
        first.contains(&format!("compressed byte {}", whole.len() / 2)),
        "{first}"
    );
    assert_eq!(
        stream_messages(deps, LB_GROUP, &stream_name(BUCKET, &good))
            .await
            .len(),
        500
    );
    assert!(is_tagged(deps, &good).await);
    assert!(!is_tagged(deps, &bad).await);
}

#[tokio::test]
async fn old_events_are_counted_as_rejected() {
    let env = env().await;
    let deps = &env.deps;
    let key = alb_key("old");
    let mut text = String::new();
    // 30 days ago: older than CloudWatch accepts.
    logdesk_ingest::sample::alb_lines(&mut text, 200, now_ms() - 30 * 86_400_000, 4);
    logdesk_ingest::sample::alb_lines(&mut text, 100, now_ms() - 60_000, 5);
    put(deps, &key, gz(text.as_bytes())).await;
    let summary = handler(deps, s3_event(&[&key])).await.unwrap();
    assert_eq!(summary.objects[0].rejected, 200);
    assert_eq!(summary.objects[0].too_old, 200);
    assert_eq!(
        stream_messages(deps, LB_GROUP, &stream_name(BUCKET, &key))
            .await
            .len(),
        100
    );
}

#[tokio::test]
async fn prefixed_elb_keys_are_routed_by_their_awslogs_part() {
    let env = env().await;
    let deps = &env.deps;
    // What a load balancer configured with the log prefix `alb/prod` writes (the
    // `ExistingLbLogPrefix` case), beside an object that is no load-balancer log.
    let key = prefixed_alb_key("alb/prod/", "prefixed");
    put(deps, &key, alb_object(400, 6)).await;
    let stray = "alb/prod/notes/readme.txt";
    put(deps, stray, b"not a log\n".to_vec()).await;
    let summary = handler(deps, s3_event(&[&key, stray])).await.unwrap();
    let s = &summary.objects[0];
    assert_eq!(s.outcome, Outcome::Ingested);
    assert_eq!(s.kind, "alb");
    assert_eq!((s.stats.records, s.stats.bad), (400, 0));
    let messages = stream_messages(deps, LB_GROUP, &stream_name(BUCKET, &key)).await;
    assert_eq!(messages.len(), 400);
    assert!(is_tagged(deps, &key).await);
    assert_eq!(
        summary.objects[1].outcome,
        Outcome::Skipped("key outside the configured prefixes".into())
    );
    assert_eq!(group_event_count(deps, LB_GROUP).await, 400);
}
