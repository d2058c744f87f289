//! Exactly once, with S3 as the arbiter.
//!
//! - **Done marker**: a finished object gets the tag [`DONE_TAG`] (other tags kept); a
//!   redelivered event for it does nothing.
//! - **Lock**: before writing, ingest creates a lock object with a conditional PutObject
//!   (`If-None-Match: *`), so only one invocation works on an object at a time. The lock holds
//!   an expiry time (a lease); a lock whose holder died is taken over (`If-Match` on its ETag)
//!   once the lease has passed. A second invocation waits for the lock, then sees the done
//!   marker; if it waits too long it fails with a retryable error.
//! - **Restart**: the holder empties the object's log stream before writing (delete and
//!   recreate), so a retry after a crash half-way rewrites the object once from the start.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Tag, Tagging};

use crate::route::{LOCK_PREFIX, fnv1a};

/// The tag that marks an object as ingested (its value: when, in Unix milliseconds).
pub const DONE_TAG: &str = "logdesk-ingested";

/// How locks behave.
#[derive(Debug, Clone, Copy)]
pub struct LockPolicy {
    /// How long a lock is valid without its holder finishing (longer than a Lambda can run).
    pub lease: Duration,
    /// How long to wait for another invocation's lock before failing (retryably).
    pub wait: Duration,
    /// How often to look at a held lock while waiting.
    pub poll: Duration,
}

impl Default for LockPolicy {
    fn default() -> Self {
        LockPolicy {
            lease: Duration::from_secs(16 * 60),
            wait: Duration::from_secs(60),
            poll: Duration::from_secs(2),
        }
    }
}

/// Why the exactly-once bookkeeping failed.
#[derive(Debug, thiserror::Error)]
pub enum OnceError {
    /// Another invocation holds the object's lock; retry later.
    #[error(
        "s3://{bucket}/{key} is being ingested by another invocation (lock {lock}); retry later"
    )]
    Busy {
        /// Bucket.
        bucket: String,
        /// Object key.
        key: String,
        /// Lock object key.
        lock: String,
    },
    /// An S3 call failed.
    #[error("S3 {operation} on s3://{bucket}/{key} failed: {message}")]
    S3 {
        /// The API operation.
        operation: &'static str,
        /// Bucket.
        bucket: String,
        /// Key.
        key: String,
        /// The error, with its context.
        message: String,
    },
}

fn s3_error<E: std::error::Error + 'static>(
    operation: &'static str,
    bucket: &str,
    key: &str,
    err: &E,
) -> OnceError {
    OnceError::S3 {
        operation,
        bucket: bucket.to_string(),
        key: key.to_string(),
        message: DisplayErrorContext(err).to_string(),
    }
}

/// The object's tags, if it has been ingested already: `(done, all tags)`.
pub async fn read_tags(
    s3: &Client,
    bucket: &str,
    key: &str,
) -> Result<(bool, Vec<Tag>), OnceError> {
    let out = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| s3_error("GetObjectTagging", bucket, key, &e))?;
    let tags = out.tag_set().to_vec();
    let done = tags.iter().any(|t| t.key() == DONE_TAG);
    Ok((done, tags))
}

/// Marks the object as ingested, keeping its other tags.
pub async fn mark_done(s3: &Client, bucket: &str, key: &str) -> Result<(), OnceError> {
    let (_, mut tags) = read_tags(s3, bucket, key).await?;
    tags.retain(|t| t.key() != DONE_TAG);
    let tag = Tag::builder()
        .key(DONE_TAG)
        .value(now_ms().to_string())
        .build()
        .map_err(|e| s3_error("PutObjectTagging", bucket, key, &e))?;
    tags.push(tag);
    let tagging = Tagging::builder()
        .set_tag_set(Some(tags))
        .build()
        .map_err(|e| s3_error("PutObjectTagging", bucket, key, &e))?;
    s3.put_object_tagging()
        .bucket(bucket)
        .key(key)
        .tagging(tagging)
        .send()
        .await
        .map_err(|e| s3_error("PutObjectTagging", bucket, key, &e))?;
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The lock object's key for a log stream.
pub fn lock_key(stream: &str) -> String {
    format!("{LOCK_PREFIX}{:016x}.json", fnv1a(stream.as_bytes()))
}

/// A held lock. Release it with [`Lock::release`]; if the process dies, the lease runs out.
#[derive(Debug)]
pub struct Lock {
    bucket: String,
    key: String,
    etag: Option<String>,
}

fn owner_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        now_ms(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn is_precondition_failed<E: ProvideErrorMetadata>(
    err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> bool {
    err.code() == Some("PreconditionFailed")
        || err.code() == Some("ConditionalRequestConflict")
        || err
            .raw_response()
            .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412))
}

/// The lock object's body: who holds it and until when.
fn lock_body(stream: &str, lease: Duration) -> String {
    let expires = now_ms() + lease.as_millis() as i64;
    serde_json::json!({
        "stream": stream,
        "owner": owner_id(),
        "expires_ms": expires,
    })
    .to_string()
}

/// How a conditional write of the lock object went.
enum Put {
    /// Written; the new object's ETag.
    Won(Option<String>),
    /// Another holder got there first (or the object changed or went away meanwhile).
    Lost,
}

/// Writes the lock object if there is none (`etag` None) or if it is still the one with
/// `etag` (taking over an expired lease).
async fn put_lock(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: String,
    etag: Option<&str>,
) -> Result<Put, OnceError> {
    let req = s3.put_object().bucket(bucket).key(key);
    let req = match etag {
        None => req.if_none_match("*"),
        Some(etag) => req.if_match(etag),
    };
    let put = req
        .content_type("application/json")
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await;
    match put {
        Ok(out) => Ok(Put::Won(out.e_tag().map(str::to_string))),
        Err(e) if is_precondition_failed(&e) => Ok(Put::Lost),
        Err(e) if etag.is_some() && e.code() == Some("NoSuchKey") => Ok(Put::Lost),
        Err(e) => Err(s3_error("PutObject (lock)", bucket, key, &e)),
    }
}

/// The held lock's ETag and the end of its lease (ms; 0 when unreadable), or `None` when it
/// went away meanwhile.
async fn read_lease(
    s3: &Client,
    bucket: &str,
    key: &str,
) -> Result<Option<(Option<String>, i64)>, OnceError> {
    let held = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out,
        Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
        Err(e) => return Err(s3_error("GetObject (lock)", bucket, key, &e)),
    };
    let etag = held.e_tag().map(str::to_string);
    let bytes = held
        .body
        .collect()
        .await
        .map(|b| b.into_bytes())
        .unwrap_or_default();
    let held_until = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("expires_ms").and_then(serde_json::Value::as_i64))
        .unwrap_or(0);
    Ok(Some((etag, held_until)))
}

impl Lock {
    /// Takes the lock for `stream` in `bucket`, waiting up to `policy.wait` for another holder.
    pub async fn acquire(
        s3: &Client,
        bucket: &str,
        object_key: &str,
        stream: &str,
        policy: LockPolicy,
    ) -> Result<Lock, OnceError> {
        let key = lock_key(stream);
        let started = Instant::now();
        loop {
            let body = lock_body(stream, policy.lease);
            if let Put::Won(etag) = put_lock(s3, bucket, &key, body.clone(), None).await? {
                return Ok(Lock::held(bucket, key, etag));
            }
            // Held: look at its lease.
            let Some((etag, held_until)) = read_lease(s3, bucket, &key).await? else {
                continue;
            };
            if held_until < now_ms()
                && let Some(etag) = etag
            {
                match put_lock(s3, bucket, &key, body, Some(&etag)).await? {
                    Put::Won(etag) => {
                        tracing::warn!(bucket, key = object_key, lock = %key, "took over an expired ingest lock");
                        return Ok(Lock::held(bucket, key, etag));
                    }
                    Put::Lost => continue,
                }
            }
            if started.elapsed() >= policy.wait {
                return Err(OnceError::Busy {
                    bucket: bucket.to_string(),
                    key: object_key.to_string(),
                    lock: key,
                });
            }
            tokio::time::sleep(policy.poll).await;
        }
    }

    /// The lock `key` in `bucket`, written with the given ETag.
    fn held(bucket: &str, key: String, etag: Option<String>) -> Lock {
        Lock {
            bucket: bucket.to_string(),
            key,
            etag,
        }
    }

    /// Releases the lock (only if it is still ours: `If-Match` on our ETag).
    pub async fn release(self, s3: &Client) -> Result<(), OnceError> {
        let mut req = s3.delete_object().bucket(&self.bucket).key(&self.key);
        if let Some(etag) = &self.etag {
            req = req.if_match(etag);
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_precondition_failed(&e) || e.code() == Some("NoSuchKey") => Ok(()),
            Err(e) => Err(s3_error("DeleteObject (lock)", &self.bucket, &self.key, &e)),
        }
    }
}
