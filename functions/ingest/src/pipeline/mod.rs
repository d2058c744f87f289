//! One object's bytes to PutLogEvents batches, without I/O: push the object's bytes as they
//! arrive (gzip detected by its magic bytes, multi-member gzip read to the end), take the ready
//! batches between pushes, then finish. Memory stays flat: lines are cut at
//! [`MAX_LINE_BYTES`] and the [`crate::batch::Batcher`] holds a few batches' worth.
//!
//! SES objects are the exception: Firehose objects are at most 128 MiB and concatenated JSON
//! need not respect line ends, so they are collected and parsed whole at the end.
//!
//! # Data flow
//!
//! ```text
//! push(bytes) ─► decoding ─┬─ plain ───────────────────────────┐
//!                          ├─ gzip, in line (no thread) ───────┤
//!                          └─ GunzipThread ─► ChunkHandover ───┤ decoded chunks
//!                                  │ (ALB, when idle:          ▼
//!                                  │  alb_fast_path)       LineSplitter ─► RecordBatcher
//!                                  └─ ParsedChunk (events) ───────────────► └► Batcher
//! ```
//!
//! - `decoding`: the state machine of [`ObjectPipeline`]: sniff the first bytes, then hand
//!   them on plain, to the gunzip thread or to the in-line decoder.
//! - `gunzip_thread`: the thread that inflates while the caller parses and waits for S3,
//!   and the queues between the two.
//! - `handover`: how the gunzip thread cuts its output into chunks of whole lines and, when
//!   the parser is behind or nothing is left to inflate, parses a chunk itself.
//! - `line_splitter`: decoded bytes to lines (a line split between two chunks is copied).
//! - `alb_fast_path`: ALB lines straight to event JSON (the core's `AlbLines`), on either
//!   thread.
//! - `batching`: lines to records to events to batches, and the counts.

mod alb_fast_path;
mod batching;
mod decoding;
mod gunzip_thread;
mod handover;
mod line_splitter;
#[cfg(test)]
mod tests;

use std::io;

use logdesk_core::alb_lines::AlbLines;
use logdesk_core::source::{ObjectParser, ParseOptions, SourceKind};

use crate::batch::Event;
use crate::encode::DEFAULT_MAX;
use crate::route::ObjectKind;
use batching::{EventSettings, ObjectReader, RecordBatcher};
use decoding::Decoding;
use handover::ParseOnGunzipThread;
use line_splitter::LineSplitter;

/// Lines longer than this are cut (the rest of the line is counted, not kept).
pub const MAX_LINE_BYTES: usize = 2 * 1024 * 1024;

/// Compressed bytes decoded per step, so one step's output stays small.
pub const STEP_BYTES: usize = 16 * 1024;

/// Decoded bytes handed from the gunzip thread to the parser at a time (128 KB measured a
/// little faster than 64 or 256 KB in the pipeline benchmark).
pub const PLAIN_CHUNK: usize = 128 * 1024;
/// Compressed pieces waiting for the gunzip thread.
pub const GUNZIP_QUEUE: usize = 16;
/// Decoded chunks waiting for the parser.
pub const PLAIN_QUEUE: usize = 4;

/// What one object produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Bytes of the object as stored (compressed).
    pub bytes: u64,
    /// Bytes after gunzip.
    pub plain_bytes: u64,
    /// Lines (SES: JSON records) read.
    pub lines: u64,
    /// Records produced, bad ones included.
    pub records: u64,
    /// Bad records (lines kept raw).
    pub bad: u64,
    /// Records cut to fit one CloudWatch event.
    pub truncated: u64,
    /// Bytes of the encoded events as CloudWatch counts them (message + 26 each).
    pub encoded_bytes: u64,
}

/// The object is not readable to its end.
#[derive(Debug, thiserror::Error)]
#[error(
    "corrupt or truncated gzip at compressed byte {offset} (after {plain} decoded bytes): {source}"
)]
pub struct DecodeError {
    /// Compressed bytes consumed before the failure.
    pub offset: u64,
    /// Plain bytes decoded before the failure.
    pub plain: u64,
    /// The decoder's error.
    pub source: io::Error,
}

/// Turns one object's bytes into batches.
///
/// A gzip object is decoded on a thread of its own, so that gunzip and parsing run on two
/// cores at once; for ALB logs that thread also parses whole chunks of lines whenever it
/// would otherwise wait, which balances the two cores and lets parsing go on while the caller
/// waits for S3. (Lambda shows a function two vCPUs up to 3,008 MB of memory but gives it CPU
/// time in proportion to its memory, one vCPU's worth at 1,769 MB and two at 3,538 MB: the
/// cores run at once in full only from there; below it the threads still overlap parsing with
/// the waits for S3.) The gunzip thread inflates with [`crate::inflate`], straight into the
/// chunk buffers. The queues between the threads are small and bounded ([`GUNZIP_QUEUE`],
/// [`PLAIN_QUEUE`] × ([`crate::inflate::WINDOW`] + [`PLAIN_CHUNK`])), so memory stays flat.
pub struct ObjectPipeline {
    decoding: Decoding,
    lines: LineSplitter,
    /// Compressed bytes pushed so far.
    consumed: u64,
    /// Whether the gunzip thread may parse ALB chunks itself.
    help: ParseOnGunzipThread,
    /// How tests run the pipeline instead of the production way.
    #[cfg(test)]
    test: TestSwitches,
}

/// Test switches: the gunzip thread's chunk size, and the in-line decoder instead of the
/// thread.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
struct TestSwitches {
    chunk: usize,
    threads: bool,
}

impl ObjectPipeline {
    /// A pipeline for an object of `kind`. Records without a time of their own (some bad lines)
    /// get `fallback_ms` (the object's last-modified time keeps re-runs identical).
    pub fn new(kind: ObjectKind, options: ParseOptions, fallback_ms: i64) -> ObjectPipeline {
        ObjectPipeline::with_limits(kind, options, fallback_ms, DEFAULT_MAX)
    }

    /// As [`ObjectPipeline::new`], with a smaller event size limit (for tests).
    pub fn with_limits(
        kind: ObjectKind,
        options: ParseOptions,
        fallback_ms: i64,
        max_event: usize,
    ) -> ObjectPipeline {
        let (reader, help) = match kind {
            ObjectKind::Source(SourceKind::Alb) => (
                ObjectReader::Alb(AlbLines::default()),
                ParseOnGunzipThread::WhenIdle,
            ),
            ObjectKind::Source(SourceKind::Ses) => {
                (ObjectReader::Ses(Vec::new()), ParseOnGunzipThread::Never)
            }
            ObjectKind::FirehoseErrors => (
                ObjectReader::FirehoseErrors(Vec::new()),
                ParseOnGunzipThread::Never,
            ),
            ObjectKind::Source(k) => (
                ObjectReader::Records(Box::new(ObjectParser::new(k, options))),
                ParseOnGunzipThread::Never,
            ),
        };
        let settings = EventSettings {
            fallback_ms,
            max_event,
        };
        ObjectPipeline {
            decoding: Decoding::Sniffing(Vec::new()),
            lines: LineSplitter::new(RecordBatcher::new(reader, settings)),
            consumed: 0,
            help,
            #[cfg(test)]
            test: TestSwitches {
                chunk: PLAIN_CHUNK,
                threads: true,
            },
        }
    }

    /// A full batch, if one is ready.
    pub fn pop_ready(&mut self) -> Option<Vec<Event>> {
        self.lines.out.batcher.pop_ready()
    }

    /// After [`ObjectPipeline::finish`]: the remaining batches, earliest first.
    pub fn pop_remaining(&mut self) -> Option<Vec<Event>> {
        self.lines.out.batcher.pop_any()
    }

    /// Counts so far (complete after [`ObjectPipeline::finish`]).
    pub fn stats(&mut self) -> Stats {
        let mut stats = self.lines.out.stats;
        stats.bytes = self.consumed;
        stats
    }

    /// Decoded bytes per hand-over from the gunzip thread.
    fn chunk(&self) -> usize {
        #[cfg(test)]
        return self.test.chunk.max(1);
        #[cfg(not(test))]
        PLAIN_CHUNK
    }

    /// Whether gzip may be decoded on a thread of its own (always, but in tests of the
    /// in-line decoder).
    fn threads(&self) -> bool {
        #[cfg(test)]
        return self.test.threads;
        #[cfg(not(test))]
        true
    }
}

/// Runs a whole in-memory object through the pipeline (benchmarks and tests): returns the
/// batches and the stats.
pub fn run_in_memory(
    kind: ObjectKind,
    data: &[u8],
    fallback_ms: i64,
) -> Result<(Vec<Vec<Event>>, Stats), DecodeError> {
    let mut batches = Vec::new();
    let stats = run_with(kind, data, fallback_ms, |b| batches.push(b))?;
    Ok((batches, stats))
}

/// Runs a whole in-memory object through the pipeline, handing each batch to `each` as soon
/// as it is ready (as the handler sends it and lets it go); returns the stats.
pub fn run_with(
    kind: ObjectKind,
    data: &[u8],
    fallback_ms: i64,
    mut each: impl FnMut(Vec<Event>),
) -> Result<Stats, DecodeError> {
    let mut p = ObjectPipeline::new(kind, ParseOptions::default(), fallback_ms);
    for step in data.chunks(STEP_BYTES) {
        p.push(step)?;
        while let Some(b) = p.pop_ready() {
            each(b);
        }
    }
    p.finish()?;
    while let Some(b) = p.pop_remaining() {
        each(b);
    }
    Ok(p.stats())
}
