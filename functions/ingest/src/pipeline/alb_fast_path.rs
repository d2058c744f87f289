//! The ALB fast path. Every other line kind goes through the core's `ObjectParser`, which
//! builds a `Record` and serialises it with serde; for ALB, by far the largest source, the
//! core's [`AlbLines`] writes a good line straight to JSON (byte for byte the same text), so
//! parsing keeps up with gunzip. The same function serves the parser's side and the gunzip
//! thread, which parses whole chunks of lines when it would otherwise wait.

use logdesk_core::alb_lines::{AlbLine, AlbLines, JsonOut};

use super::Stats;
use super::batching::{EventSettings, EventSink, push_record};
use super::line_splitter::each_line;
use crate::batch::Event;
use crate::encode;

/// A chunk of whole ALB lines parsed on the gunzip thread: its events in line order and what
/// it adds to the counts.
pub(super) struct ParsedChunk {
    pub(super) events: Vec<Event>,
    /// Plain bytes, records, bad, truncated and encoded bytes of the chunk.
    pub(super) stats: Stats,
    /// Lines of the chunk: physical (for line numbers) and non-empty (counted as lines).
    pub(super) physical: u32,
    pub(super) lines: u64,
}

/// One ALB line (without its `\n`; `over` is its full length when it was cut) to its event.
pub(super) fn alb_line(
    alb: &mut AlbLines,
    line: &[u8],
    over: Option<u64>,
    sink: &mut impl EventSink,
    stats: &mut Stats,
    settings: EventSettings,
) {
    // The JSON is a little longer than the line; room for it up front saves regrowing.
    let mut json = String::with_capacity(line.len() + line.len() / 8 + 64);
    let out = JsonOut {
        buf: &mut json,
        max_len: settings.max_event,
    };
    match alb.line(line, over, Some(out)) {
        AlbLine::Skipped => {}
        AlbLine::Json(time) => {
            let event = Event {
                timestamp: encode::us_to_ms(time),
                message: json,
            };
            stats.records += 1;
            stats.encoded_bytes += event.cost() as u64;
            sink.emit(event);
        }
        AlbLine::Record(record) => push_record(*record, sink, stats, settings),
    }
}

/// Parses a chunk of whole ALB lines as the parser would; its first line is line
/// `first + 1` of the object and it holds `physical` line ends.
pub(super) fn parse_alb_chunk(
    bytes: &[u8],
    first: u64,
    physical: u64,
    settings: EventSettings,
) -> ParsedChunk {
    let mut alb = AlbLines::after(u32::try_from(first).unwrap_or(u32::MAX));
    let mut stats = Stats {
        plain_bytes: bytes.len() as u64,
        ..Stats::default()
    };
    let mut events = Vec::with_capacity(bytes.len() / 512);
    let rest = each_line(bytes, |line, over| {
        alb_line(&mut alb, line, over, &mut events, &mut stats, settings);
    });
    debug_assert!(rest.is_empty(), "a chunk of whole lines");
    ParsedChunk {
        events,
        stats,
        physical: u32::try_from(physical).unwrap_or(u32::MAX),
        lines: alb.lines(),
    }
}
