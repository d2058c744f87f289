//! The Lambda handler and the per-object work it shares with `backfill`.

use std::time::{Duration, Instant};

use aws_sdk_s3::error::DisplayErrorContext;
use futures_util::StreamExt;
use logdesk_core::source::ParseOptions;
use serde::Serialize;
use serde_json::Value;

use crate::log_writer::{LogWriter, RetryPolicy, WriteError};
use crate::metrics::{self, Metric};
use crate::once::{self, Lock, LockPolicy, OnceError};
use crate::pipeline::{DecodeError, ObjectPipeline, STEP_BYTES, Stats};
use crate::route::{Config, Route, Skip, route, stream_name};
use crate::trigger::{ObjectRef, Trigger, TriggerError, parse_trigger};

/// Test hooks: ways to make a run fail on purpose (tests and the `test-support` feature only).
#[cfg(any(test, feature = "test-support"))]
#[derive(Debug, Clone, Copy, Default)]
pub struct Hooks {
    /// Fail each object after this many batches were written (simulates a crash half-way).
    pub fail_after_batches: Option<u64>,
    /// With `fail_after_batches`: leave the lock behind, as a killed process would.
    pub keep_lock_on_failure: bool,
}

/// What the handler needs, built once per process.
#[derive(Debug, Clone)]
pub struct Deps {
    /// S3 client.
    pub s3: aws_sdk_s3::Client,
    /// CloudWatch Logs client.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Settings from the environment.
    pub config: Config,
    /// Retry around each batch (on top of the SDK's own retries).
    pub retry: RetryPolicy,
    /// Lock lease and waiting.
    pub lock: LockPolicy,
    /// Test hooks (default: none).
    #[cfg(any(test, feature = "test-support"))]
    pub hooks: Hooks,
}

impl Deps {
    /// Dependencies with the default retry and lock policies.
    pub fn new(
        s3: aws_sdk_s3::Client,
        logs: aws_sdk_cloudwatchlogs::Client,
        config: Config,
    ) -> Deps {
        Deps {
            s3,
            logs,
            config,
            retry: RetryPolicy::default(),
            lock: LockPolicy::default(),
            #[cfg(any(test, feature = "test-support"))]
            hooks: Hooks::default(),
        }
    }

    /// Whether a failed run leaves its lock behind (a test hook; never in production).
    fn keeps_lock_on_failure(&self) -> bool {
        #[cfg(any(test, feature = "test-support"))]
        return self.hooks.keep_lock_on_failure;
        #[cfg(not(any(test, feature = "test-support")))]
        false
    }
}

/// Why one object failed.
#[derive(Debug, thiserror::Error)]
#[error("s3://{bucket}/{key}: {kind}")]
pub struct ObjectError {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// What went wrong.
    pub kind: ObjectErrorKind,
}

/// What went wrong with one object.
#[derive(Debug, thiserror::Error)]
pub enum ObjectErrorKind {
    /// Reading the object from S3 failed.
    #[error("S3 {operation} failed: {message}")]
    Read {
        /// The API operation.
        operation: &'static str,
        /// The error, with its context.
        message: String,
    },
    /// The object's gzip data is corrupt or truncated.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Writing to CloudWatch Logs failed.
    #[error(transparent)]
    Write(#[from] Box<WriteError>),
    /// The lock or done marker could not be handled.
    #[error(transparent)]
    Once(Box<OnceError>),
    /// A test hook stopped the run.
    #[cfg(any(test, feature = "test-support"))]
    #[error("stopped by test hook after {batches} batches")]
    Injected {
        /// Batches written before stopping.
        batches: u64,
    },
}

impl From<OnceError> for ObjectErrorKind {
    fn from(e: OnceError) -> ObjectErrorKind {
        ObjectErrorKind::Once(Box::new(e))
    }
}

impl ObjectError {
    fn new(object: &ObjectRef, kind: impl Into<ObjectErrorKind>) -> ObjectError {
        ObjectError {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            kind: kind.into(),
        }
    }
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event was not understood.
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    /// Some objects failed (the others completed).
    #[error("{failed} of {total} objects failed; first: {first}")]
    Objects {
        /// Objects that failed.
        failed: usize,
        /// Objects in the event.
        total: usize,
        /// The first failure.
        first: Box<ObjectError>,
    },
}

/// What happened to one object.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Written to CloudWatch Logs.
    Ingested,
    /// Already carried the done marker.
    AlreadyIngested,
    /// Not ours to ingest (reason given).
    Skipped(String),
}

/// The summary of one object (also logged as one JSON line).
#[derive(Debug, Clone, Serialize)]
pub struct ObjectSummary {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Kind (`alb`, `ses`, …), empty when skipped.
    pub kind: String,
    /// Log group and stream written.
    pub stream: String,
    /// What happened.
    pub outcome: Outcome,
    /// Counts.
    #[serde(flatten)]
    pub stats: Stats,
    /// Events CloudWatch rejected (too old, too new, expired).
    pub rejected: u64,
    /// Of those, the events older than 14 days or than the group's retention: never accepted,
    /// to be queried in Athena instead.
    pub too_old: u64,
    /// PutLogEvents calls.
    pub batches: u64,
    /// Wall time, milliseconds.
    pub duration_ms: u64,
}

/// What an invocation did.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InvocationSummary {
    /// One entry per object, in event order.
    pub objects: Vec<ObjectSummary>,
}

/// The Lambda handler: ingests every object the event names, `config.concurrency` at a time.
/// One failed object fails the invocation, after the others have completed.
pub async fn handler(deps: &Deps, event: Value) -> Result<InvocationSummary, HandlerError> {
    let objects = match parse_trigger(&event)? {
        Trigger::Test => {
            tracing::info!("s3:TestEvent acknowledged");
            return Ok(InvocationSummary::default());
        }
        Trigger::Objects(objects) => objects,
    };
    let total = objects.len();
    let results = ingest_objects(deps, objects).await;
    let mut summary = InvocationSummary::default();
    let mut failed = 0;
    let mut first = None;
    for r in results {
        match r {
            Ok(s) => summary.objects.push(s),
            Err(e) => {
                failed += 1;
                first.get_or_insert(e);
            }
        }
    }
    match first {
        Some(first) => Err(HandlerError::Objects {
            failed,
            total,
            first: Box::new(first),
        }),
        None => Ok(summary),
    }
}

/// Ingests `objects` with bounded concurrency, returning one result per object in order.
pub async fn ingest_objects(
    deps: &Deps,
    objects: Vec<ObjectRef>,
) -> Vec<Result<ObjectSummary, ObjectError>> {
    let mut results: Vec<(usize, Result<ObjectSummary, ObjectError>)> =
        futures_util::stream::iter(objects.into_iter().enumerate())
            .map(|(i, o)| async move { (i, ingest_object(deps, &o).await) })
            .buffer_unordered(deps.config.concurrency.max(1))
            .collect()
            .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Ingests one object exactly once (see [`crate::once`]) and logs its summary line.
pub async fn ingest_object(deps: &Deps, object: &ObjectRef) -> Result<ObjectSummary, ObjectError> {
    let started = Instant::now();
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    let mut summary = ObjectSummary {
        bucket: bucket.to_string(),
        key: key.to_string(),
        kind: String::new(),
        stream: String::new(),
        outcome: Outcome::Ingested,
        stats: Stats::default(),
        rejected: 0,
        too_old: 0,
        batches: 0,
        duration_ms: 0,
    };
    let (kind, log_group) = match route(&deps.config, key) {
        Route::Skip(skip) => {
            summary.outcome = Outcome::Skipped(skip.reason().to_string());
            if !skip.is_expected() {
                warn_skipped(&deps.config, bucket, key, skip);
            }
            log_summary(&summary, started);
            return Ok(summary);
        }
        Route::Ingest { kind, log_group } => (kind, log_group),
    };
    let stream = stream_name(bucket, key);
    summary.kind = kind.name().to_string();
    summary.stream = format!("{log_group}/{stream}");
    let result = async {
        let fail = |e: OnceError| ObjectError::new(object, e);
        if once::read_tags(&deps.s3, bucket, key)
            .await
            .map_err(fail)?
            .0
        {
            summary.outcome = Outcome::AlreadyIngested;
            return Ok(());
        }
        let lock = Lock::acquire(&deps.s3, bucket, key, &stream, deps.lock)
            .await
            .map_err(fail)?;
        let written = write_locked(deps, object, kind, &log_group, &stream, &mut summary).await;
        if (written.is_ok() || !deps.keeps_lock_on_failure())
            && let Err(e) = lock.release(&deps.s3).await
        {
            tracing::warn!(error = %e, "could not release the ingest lock; its lease will expire");
        }
        written
    }
    .await;
    summary.duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(()) => {
            if summary.too_old > 0 {
                let reason = "older than 14 days or than the log group's retention";
                let properties = [("bucket", bucket), ("key", key), ("reason", reason)];
                metrics::emit(
                    &deps.config,
                    Metric::TooOldEvents,
                    summary.too_old,
                    &properties,
                );
            }
            log_summary(&summary, started);
            Ok(summary)
        }
        Err(e) => {
            tracing::error!(
                bucket,
                key,
                kind = %summary.kind,
                batches = summary.batches,
                error = %e,
                "object failed"
            );
            Err(e)
        }
    }
}

async fn write_locked(
    deps: &Deps,
    object: &ObjectRef,
    kind: crate::route::ObjectKind,
    log_group: &str,
    stream: &str,
    summary: &mut ObjectSummary,
) -> Result<(), ObjectError> {
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    let fail = |kind: ObjectErrorKind| ObjectError::new(object, kind);
    let read_error =
        |operation, message: String| fail(ObjectErrorKind::Read { operation, message });
    // The winner of a race may have finished while we waited for the lock.
    if once::read_tags(&deps.s3, bucket, key)
        .await
        .map_err(|e| fail(e.into()))?
        .0
    {
        summary.outcome = Outcome::AlreadyIngested;
        return Ok(());
    }
    let got = deps
        .s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| read_error("GetObject", DisplayErrorContext(&e).to_string()))?;
    let fallback_ms = got
        .last_modified()
        .and_then(|t| t.to_millis().ok())
        .unwrap_or(0);
    let mut body = got.body;
    let writer = LogWriter::new(&deps.logs, log_group, stream, deps.retry);
    writer
        .reset_stream()
        .await
        .map_err(|e| fail(Box::new(e).into()))?;
    let mut pipeline = ObjectPipeline::new(kind, ParseOptions::default(), fallback_ms);
    loop {
        let chunk = body
            .try_next()
            .await
            .map_err(|e| read_error("GetObject (body)", DisplayErrorContext(&e).to_string()))?;
        let Some(chunk) = chunk else { break };
        for step in chunk.chunks(STEP_BYTES) {
            pipeline.push(step).map_err(|e| fail(e.into()))?;
            while let Some(batch) = pipeline.pop_ready() {
                put(deps, &writer, batch, object, summary).await?;
            }
        }
    }
    pipeline.finish().map_err(|e| fail(e.into()))?;
    while let Some(batch) = pipeline.pop_remaining() {
        put(deps, &writer, batch, object, summary).await?;
    }
    summary.stats = pipeline.stats();
    once::mark_done(&deps.s3, bucket, key)
        .await
        .map_err(|e| fail(e.into()))?;
    Ok(())
}

async fn put(
    deps: &Deps,
    writer: &LogWriter<'_>,
    batch: Vec<crate::batch::Event>,
    object: &ObjectRef,
    summary: &mut ObjectSummary,
) -> Result<(), ObjectError> {
    let rejected = writer
        .put(batch)
        .await
        .map_err(|e| ObjectError::new(object, Box::new(e)))?;
    summary.rejected += rejected.total();
    summary.too_old += rejected.too_old;
    summary.batches += 1;
    #[cfg(any(test, feature = "test-support"))]
    if deps.hooks.fail_after_batches == Some(summary.batches) {
        let batches = summary.batches;
        return Err(ObjectError::new(
            object,
            ObjectErrorKind::Injected { batches },
        ));
    }
    #[cfg(not(any(test, feature = "test-support")))]
    let _ = deps;
    Ok(())
}

/// An object skipped for a reason that may mean lost records: a warning and a metric, so
/// that an alarm hears it (a misconfigured prefix would otherwise skip every object quietly).
fn warn_skipped(config: &Config, bucket: &str, key: &str, skip: Skip) {
    tracing::warn!(bucket, key, reason = skip.reason(), "object skipped");
    let properties = [("bucket", bucket), ("key", key), ("reason", skip.reason())];
    metrics::emit(config, Metric::SkippedObjects, 1, &properties);
}

fn log_summary(s: &ObjectSummary, started: Instant) {
    let duration_ms = Duration::as_millis(&started.elapsed()) as u64;
    let outcome = match &s.outcome {
        Outcome::Ingested => "ingested",
        Outcome::AlreadyIngested => "already-ingested",
        Outcome::Skipped(_) => "skipped",
    };
    let reason = match &s.outcome {
        Outcome::Skipped(r) => r.as_str(),
        _ => "",
    };
    if s.too_old > 0 {
        tracing::warn!(key = %s.key, too_old = s.too_old, "CloudWatch refused events older than 14 days or than the log group's retention; query them in Athena");
    }
    if s.rejected > s.too_old {
        tracing::warn!(key = %s.key, too_new = s.rejected - s.too_old, "CloudWatch refused events more than two hours in the future");
    }
    tracing::info!(
        bucket = %s.bucket,
        key = %s.key,
        kind = %s.kind,
        stream = %s.stream,
        outcome,
        reason,
        bytes = s.stats.bytes,
        plain_bytes = s.stats.plain_bytes,
        lines = s.stats.lines,
        records = s.stats.records,
        bad = s.stats.bad,
        truncated = s.stats.truncated,
        rejected = s.rejected,
        too_old = s.too_old,
        batches = s.batches,
        duration_ms,
        "object summary"
    );
}
