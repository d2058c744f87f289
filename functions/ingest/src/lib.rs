//! # logdesk-ingest
//!
//! The ingest function: S3 objects (ALB / NLB / Classic ELB logs and SES Firehose objects) into
//! CloudWatch Logs, streamed (S3 body → gunzip → lines → records → batches, memory flat) and
//! exactly once (one log stream per object, a lock and a done marker; see [`once`]).
//!
//! [`handler::handler`] is the Lambda handler; [`backfill`] runs the same per-object code over
//! existing objects; [`file_parser`] backs the `parse` CLI.
//!
//! Environment (see [`route::Config`]): `LB_LOG_GROUP`, `MAIL_LOG_GROUP` (required),
//! `SES_PREFIX` (default `ses/`; `ses/errors/` holds Firehose error objects), `LB_PREFIX`
//! (default `AWSLogs/`), `INGEST_CONCURRENCY` (default 4), `METRICS_NAMESPACE` (default
//! `logdesk`; see [`metrics`]). The binary runs the Lambda runtime
//! when `AWS_LAMBDA_RUNTIME_API` is set and no command is given.

#![forbid(unsafe_code)]

/// The allocator of the ingest binary (and of its benchmark and examples, so that they
/// measure what runs): events are made on the gunzip thread and freed on the other, which
/// glibc's malloc does slowly (about a fifth of the two-thread pipeline's time).
/// `#[global_allocator] static ALLOC: logdesk_ingest::Allocator = logdesk_ingest::Allocator;`
pub use mimalloc::MiMalloc as Allocator;

pub mod backfill;
pub mod batch;
pub mod encode;
pub mod file_parser;
pub mod handler;
pub mod inflate;
pub mod log_writer;
pub mod metrics;
pub mod once;
pub mod pipeline;
pub mod route;
#[cfg(any(test, feature = "test-support"))]
pub mod sample;
pub mod trigger;

pub use file_parser::{JsonLines, ReadError, parse_file};
