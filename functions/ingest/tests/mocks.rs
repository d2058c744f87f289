//! Exact failure injection with aws-smithy-mocks: throttling then success, server errors until
//! the retries run out, partial rejection counted.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::operation::put_log_events::{PutLogEventsError, PutLogEventsOutput};
use aws_sdk_cloudwatchlogs::types::RejectedLogEventsInfo;
use aws_sdk_cloudwatchlogs::types::error::ServiceUnavailableException;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use logdesk_ingest::batch::Event;
use logdesk_ingest::log_writer::{LogWriter, RetryPolicy};

fn policy() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn batch(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            timestamp: 1_000 + i as i64,
            message: format!("{{\"k\":\"alb\",\"v\":1,\"t\":{i}}}"),
        })
        .collect()
}

#[tokio::test]
async fn throttled_then_success_is_retried() {
    let rule = mock!(Client::put_log_events)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .http_status(503, None)
        .output(|| PutLogEventsOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let writer = LogWriter::new(&client, "/g", "s", policy());
    let rejected = writer.put(batch(3)).await.unwrap();
    assert_eq!(rejected.total(), 0);
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn server_errors_until_retries_run_out_fail() {
    let rule = mock!(Client::put_log_events)
        .sequence()
        .http_status(500, None)
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let writer = LogWriter::new(&client, "/g", "s", policy());
    let err = writer.put(batch(3)).await.unwrap_err();
    assert_eq!(err.attempts, 4);
    assert_eq!(err.operation, "PutLogEvents");
    assert_eq!(rule.num_calls(), 4);
}

#[tokio::test]
async fn modeled_service_unavailable_is_retried() {
    let rule = mock!(Client::put_log_events)
        .sequence()
        .error(|| {
            PutLogEventsError::ServiceUnavailableException(
                ServiceUnavailableException::builder().build(),
            )
        })
        .output(|| PutLogEventsOutput::builder().build())
        .build();
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let writer = LogWriter::new(&client, "/g", "s", policy());
    writer.put(batch(1)).await.unwrap();
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let rule = mock!(Client::put_log_events)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"InvalidParameterException","message":"bad"}"#.into()),
        )
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::Sequential, [&rule], |c| c
        .retry_config(RetryConfig::disabled()));
    let writer = LogWriter::new(&client, "/g", "s", policy());
    let err = writer.put(batch(1)).await.unwrap_err();
    assert_eq!(err.attempts, 1);
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn partial_rejection_is_counted() {
    let rule = mock!(Client::put_log_events).then_output(|| {
        PutLogEventsOutput::builder()
            .rejected_log_events_info(
                RejectedLogEventsInfo::builder()
                    .too_old_log_event_end_index(2)
                    .expired_log_event_end_index(0)
                    .too_new_log_event_start_index(9)
                    .build(),
            )
            .build()
    });
    let client = mock_client!(aws_sdk_cloudwatchlogs, [&rule]);
    let writer = LogWriter::new(&client, "/g", "s", policy());
    let rejected = writer.put(batch(10)).await.unwrap();
    assert_eq!((rejected.too_old, rejected.too_new), (3, 1));
}
