//! Exactly once, proven by counting events in the emulator: a redelivered event does nothing, a
//! retry after a crash half-way leaves one copy of every event, and two concurrent invocations
//! for the same object leave one copy.

mod ingest_common;

use std::time::Duration;

use ingest_common::*;
use logdesk_ingest::handler::{Hooks, Outcome, handler};
use logdesk_ingest::route::stream_name;

/// Enough lines for several PutLogEvents calls (~4 MB of events).
const LINES: usize = 6_000;

async fn count(deps: &logdesk_ingest::handler::Deps, key: &str) -> usize {
    stream_messages(deps, LB_GROUP, &stream_name(BUCKET, key))
        .await
        .len()
}

#[tokio::test]
async fn redelivered_event_does_nothing() {
    let env = env().await;
    let deps = &env.deps;
    let key = alb_key("redelivered");
    put(deps, &key, alb_object(LINES, 10)).await;
    let first = handler(deps, s3_event(&[&key])).await.unwrap();
    assert_eq!(first.objects[0].outcome, Outcome::Ingested);
    let second = handler(deps, s3_event(&[&key])).await.unwrap();
    assert_eq!(second.objects[0].outcome, Outcome::AlreadyIngested);
    assert_eq!(second.objects[0].batches, 0);
    assert_eq!(count(deps, &key).await, LINES);
    assert_eq!(group_event_count(deps, LB_GROUP).await, LINES);
}

#[tokio::test]
async fn retry_after_crash_half_way_leaves_one_copy() {
    let env = env().await;
    let key = alb_key("crashed");
    put(&env.deps, &key, alb_object(LINES, 11)).await;
    let mut crashing = env.deps.clone();
    crashing.hooks = Hooks {
        fail_after_batches: Some(2),
        keep_lock_on_failure: false,
    };
    let err = handler(&crashing, s3_event(&[&key])).await.unwrap_err();
    assert!(err.to_string().contains("test hook"), "{err}");
    let partial = count(&env.deps, &key).await;
    assert!(partial > 0 && partial < LINES, "{partial}");
    assert!(!is_tagged(&env.deps, &key).await);
    // Lambda retries the event.
    let retry = handler(&env.deps, s3_event(&[&key])).await.unwrap();
    assert_eq!(retry.objects[0].outcome, Outcome::Ingested);
    assert_eq!(count(&env.deps, &key).await, LINES);
    assert_eq!(group_event_count(&env.deps, LB_GROUP).await, LINES);
}

#[tokio::test]
async fn killed_holder_lock_is_taken_over_after_its_lease() {
    let env = env().await;
    let key = alb_key("killed");
    put(&env.deps, &key, alb_object(LINES, 12)).await;
    let mut killed = env.deps.clone();
    killed.lock.lease = Duration::from_secs(1);
    killed.hooks = Hooks {
        fail_after_batches: Some(1),
        keep_lock_on_failure: true,
    };
    handler(&killed, s3_event(&[&key])).await.unwrap_err();
    // A retry within the lease waits (here: gives up quickly with a retryable error)...
    let mut impatient = env.deps.clone();
    impatient.lock.wait = Duration::from_millis(0);
    impatient.lock.lease = Duration::from_secs(1);
    let busy = handler(&impatient, s3_event(&[&key])).await;
    // ...unless the lease has already run out, in which case it takes over.
    if let Err(e) = &busy {
        assert!(e.to_string().contains("another invocation"), "{e}");
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        handler(&env.deps, s3_event(&[&key])).await.unwrap();
    }
    assert_eq!(count(&env.deps, &key).await, LINES);
    assert!(is_tagged(&env.deps, &key).await);
}

#[tokio::test]
async fn concurrent_invocations_leave_one_copy() {
    let env = env().await;
    let deps = &env.deps;
    let key = alb_key("concurrent");
    put(deps, &key, alb_object(LINES, 13)).await;
    let (a, b) = tokio::join!(
        handler(deps, s3_event(&[&key])),
        handler(deps, s3_event(&[&key]))
    );
    let mut outcomes = vec![
        a.unwrap().objects[0].outcome.clone(),
        b.unwrap().objects[0].outcome.clone(),
    ];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, vec![Outcome::AlreadyIngested, Outcome::Ingested]);
    assert_eq!(count(deps, &key).await, LINES);
    assert_eq!(group_event_count(deps, LB_GROUP).await, LINES);
}
