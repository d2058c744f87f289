//! `logdesk-ingest backfill`: the per-object code of the handler over objects already in S3.

use aws_sdk_s3::error::DisplayErrorContext;

use crate::handler::{Deps, ObjectError, ObjectSummary, Outcome, ingest_objects};
use crate::trigger::ObjectRef;

/// Listing the bucket failed.
#[derive(Debug, thiserror::Error)]
#[error("S3 ListObjectsV2 on s3://{bucket}/{prefix} failed: {message}")]
pub struct ListError {
    /// Bucket.
    pub bucket: String,
    /// Prefix.
    pub prefix: String,
    /// The error, with its context.
    pub message: String,
}

/// Totals over a backfill run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Objects listed.
    pub objects: u64,
    /// Objects written now.
    pub ingested: u64,
    /// Objects that were done already.
    pub already: u64,
    /// Objects not ours to ingest.
    pub skipped: u64,
    /// Objects that failed.
    pub failed: u64,
    /// Records written.
    pub records: u64,
    /// Bad records.
    pub bad: u64,
    /// Events CloudWatch rejected.
    pub rejected: u64,
    /// Of those, events older than 14 days or than the log group's retention
    /// ([`TOO_OLD_ADVICE`]).
    pub too_old: u64,
    /// PutLogEvents calls.
    pub batches: u64,
}

/// What the summary says about events CloudWatch refused as too old: why, and where they can
/// be read instead.
pub const TOO_OLD_ADVICE: &str = "CloudWatch Logs refuses events older than 14 days or than the \
log group's retention; they stay in the S3 objects: query them with Athena instead";

/// Lists the keys under `prefix` (all pages), keeping objects modified at or after `since`.
pub async fn list(
    deps: &Deps,
    bucket: &str,
    prefix: &str,
    since: Option<jiff::Timestamp>,
) -> Result<Vec<ObjectRef>, ListError> {
    let mut pages = deps
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ListError {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            if let (Some(since), Some(modified)) = (since, o.last_modified()) {
                let ms = modified.to_millis().unwrap_or(i64::MAX);
                if ms < since.as_millisecond() {
                    continue;
                }
            }
            out.push(ObjectRef {
                bucket: bucket.to_string(),
                key: key.to_string(),
            });
        }
    }
    Ok(out)
}

/// Ingests `objects` in groups (`config.concurrency` at a time), calling `progress` after each
/// group with the totals so far and that group's results.
pub async fn run(
    deps: &Deps,
    objects: Vec<ObjectRef>,
    mut progress: impl FnMut(&Totals, &[Result<ObjectSummary, ObjectError>]),
) -> Totals {
    let mut totals = Totals {
        objects: objects.len() as u64,
        ..Totals::default()
    };
    let group = deps.config.concurrency.max(1) * 4;
    let mut rest = objects;
    while !rest.is_empty() {
        let tail = rest.split_off(group.min(rest.len()));
        let results = ingest_objects(deps, rest).await;
        for r in &results {
            match r {
                Ok(s) => {
                    match s.outcome {
                        Outcome::Ingested => totals.ingested += 1,
                        Outcome::AlreadyIngested => totals.already += 1,
                        Outcome::Skipped(_) => totals.skipped += 1,
                    }
                    totals.records += s.stats.records;
                    totals.bad += s.stats.bad;
                    totals.rejected += s.rejected;
                    totals.too_old += s.too_old;
                    totals.batches += s.batches;
                }
                Err(_) => totals.failed += 1,
            }
        }
        progress(&totals, &results);
        rest = tail;
    }
    totals
}
