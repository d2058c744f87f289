//! # logdesk-core
//!
//! Everything logdesk knows about the logs and events it reads, with no I/O: the parsers for
//! load-balancer access and connection logs (ALB, NLB, Classic ELB), nginx access and error logs
//! and Amazon SES events; the [`record`] types written to CloudWatch Logs; and the analysis
//! that turns records into answers (bounce explanations, user-agent summaries, request
//! statistics, URL groups and visits).
//!
//! What it promises:
//! - No parser panics, whatever the input bytes (each entry point has a property test).
//! - A line that cannot be parsed becomes an error value that says why, never a silent default;
//!   callers keep it raw as a [`record::BadRecord`].
//! - Unknown trailing fields are kept in order, never a reason to reject a line.
//! - No tokio, no AWS SDK, no files or network: callers hand in bytes and get values back.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod input;
pub mod record;
pub(crate) mod record_json;
pub mod scan;
pub mod unescape;

pub mod timestamp;

pub mod alb;
pub mod alb_connection;
pub mod alb_lines;
pub mod alb_native;
pub mod clb;
pub(crate) mod elb_fields;
pub(crate) mod elb_format;
pub mod nlb;

pub mod nginx;
pub mod nginx_error;
pub mod nginx_error_explain;

pub mod mime;
pub mod ses;

pub mod bounce;
pub mod mail_stats;
pub mod provider;

pub mod stats;
pub mod urlgroup;
pub mod useragent;
pub mod visits;

pub mod source;

#[cfg(feature = "telemetry")]
pub mod telemetry;

pub use error::ParseError;
pub use record::{Record, SCHEMA_VERSION};
