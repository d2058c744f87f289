//! # logdesk-ingest
//!
//! The ingest function: S3 objects (ALB / NLB / Classic ELB logs and SES Firehose objects) into
//! CloudWatch Logs, streamed (S3 body → gunzip → lines → records → batches, memory flat) and
//! exactly once (one log stream per object, a lock and a done marker; see [`once`]).
//!
//! [`handler::handler`] is the Lambda handler; [`backfill`] runs the same per-object code over
//! existing objects; [`parse_file`] and [`JsonLines`] back the `parse` CLI.
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

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use logdesk_core::Record;
use logdesk_core::input;
use logdesk_core::source::{Counts, ObjectParser, ParseOptions, SourceKind};

/// Errors reading a source file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// Reading (or gunzipping) failed part-way; the records before the failure were emitted.
    #[error("cannot read {path} after {offset} decoded bytes: {source}")]
    Read {
        /// The file.
        path: String,
        /// Decoded bytes read before the failure.
        offset: u64,
        /// Why (a truncated or corrupt gzip stream, an I/O error).
        source: io::Error,
    },
}

/// Parses one file (gzip detected by its magic bytes, or plain), calling `emit` for each record
/// in order. Memory stays flat: the file is streamed line by line (SES objects excepted, see
/// [`ObjectParser`]).
pub fn parse_file(
    path: &Path,
    kind: SourceKind,
    options: ParseOptions,
    emit: &mut impl FnMut(Record),
) -> Result<Counts, ReadError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| ReadError::Open {
        path: name.clone(),
        source,
    })?;
    let mut reader =
        input::plain_reader(BufReader::with_capacity(256 * 1024, file)).map_err(|source| {
            ReadError::Read {
                path: name.clone(),
                offset: 0,
                source,
            }
        })?;
    let mut parser = ObjectParser::new(kind, options);
    let mut line = Vec::with_capacity(4096);
    let mut offset = 0u64;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(n) => {
                offset += n as u64;
                parser.push_line(&line, emit);
            }
            Err(source) => {
                // Emit what was complete before the failure, then report it.
                parser.finish(emit);
                return Err(ReadError::Read {
                    path: name,
                    offset,
                    source,
                });
            }
        }
    }
    Ok(parser.finish(emit))
}

/// Writes each record as one line of JSON.
pub struct JsonLines<W: Write> {
    out: W,
    buf: Vec<u8>,
    error: Option<io::Error>,
}

impl<W: Write> JsonLines<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonLines {
            out,
            buf: Vec::with_capacity(4096),
            error: None,
        }
    }

    /// Writes one record (errors are kept and returned by [`JsonLines::finish`]).
    pub fn write(&mut self, record: &Record) {
        if self.error.is_some() {
            return;
        }
        self.buf.clear();
        record.write_json(&mut self.buf);
        self.buf.push(b'\n');
        if let Err(e) = self.out.write_all(&self.buf) {
            self.error = Some(e);
        }
    }

    /// Flushes and returns the first write error, if any.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}
