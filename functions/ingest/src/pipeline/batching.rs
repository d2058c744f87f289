//! Lines to records to events to batches: the reader each kind of object needs, the encoding
//! of records as CloudWatch events, the [`Batcher`], and the counts.

use logdesk_core::Record;
use logdesk_core::alb_lines::AlbLines;
use logdesk_core::ses;
use logdesk_core::source::ObjectParser;

use super::Stats;
use super::alb_fast_path::{ParsedChunk, alb_line};
use crate::batch::{Batcher, Event};
use crate::encode;

/// How an object's lines are read.
pub(super) enum ObjectReader {
    /// ALB access logs: the fast path (see [`super::alb_fast_path`]).
    Alb(AlbLines),
    /// Every other line-based kind: the core's parser, record by record.
    Records(Box<ObjectParser>),
    /// SES objects, collected and parsed whole at the end.
    Ses(Vec<u8>),
    /// Firehose error objects, collected and parsed whole at the end.
    FirehoseErrors(Vec<u8>),
}

/// How records become events: the time of records without one, and the event size limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct EventSettings {
    pub(super) fallback_ms: i64,
    pub(super) max_event: usize,
}

/// Where encoded events go: the batcher, or a parsed chunk's list.
pub(super) trait EventSink {
    fn emit(&mut self, event: Event);
}

impl EventSink for Batcher {
    fn emit(&mut self, event: Event) {
        self.push(event);
    }
}

impl EventSink for Vec<Event> {
    fn emit(&mut self, event: Event) {
        self.push(event);
    }
}

/// Turns the lines of one object into batches of events, counting as it goes.
pub(super) struct RecordBatcher {
    pub(super) reader: ObjectReader,
    pub(super) batcher: Batcher,
    pub(super) stats: Stats,
    pub(super) settings: EventSettings,
}

impl RecordBatcher {
    pub(super) fn new(reader: ObjectReader, settings: EventSettings) -> RecordBatcher {
        RecordBatcher {
            reader,
            batcher: Batcher::default(),
            stats: Stats::default(),
            settings,
        }
    }

    /// One line without its `\n`; `over` is its full length when it was cut to
    /// [`super::MAX_LINE_BYTES`].
    pub(super) fn line(&mut self, line: &[u8], over: Option<u64>) {
        let RecordBatcher {
            reader,
            batcher,
            stats,
            settings,
        } = self;
        match reader {
            ObjectReader::Alb(alb) => alb_line(alb, line, over, batcher, stats, *settings),
            ObjectReader::Records(parser) => {
                parser.push_line(line, &mut |mut record| {
                    if let Some(len) = over {
                        record.mark_cut(len);
                    }
                    push_record(record, batcher, stats, *settings);
                });
            }
            ObjectReader::Ses(_) | ObjectReader::FirehoseErrors(_) => {}
        }
    }

    /// Takes a chunk of ALB lines the gunzip thread has parsed.
    pub(super) fn take_parsed(&mut self, parsed: ParsedChunk) {
        let ParsedChunk {
            events,
            stats,
            physical,
            lines,
        } = parsed;
        self.stats.add(&stats);
        if let ObjectReader::Alb(alb) = &mut self.reader {
            alb.skip(physical, lines);
        }
        for event in events {
            self.batcher.push(event);
        }
    }

    /// The object has ended: parses what was collected whole, and settles the line count.
    pub(super) fn finish(&mut self) {
        let reader = std::mem::replace(&mut self.reader, ObjectReader::Ses(Vec::new()));
        let RecordBatcher {
            batcher,
            stats,
            settings,
            ..
        } = self;
        let mut emit = |record| push_record(record, batcher, stats, *settings);
        let lines = match reader {
            ObjectReader::Alb(alb) => alb.lines(),
            ObjectReader::Records(parser) => parser.finish(&mut emit).lines,
            ObjectReader::Ses(buf) => {
                let object = ses::parse_object(&buf);
                object.records.into_iter().for_each(&mut emit);
                object.counts.records_in as u64
            }
            ObjectReader::FirehoseErrors(buf) => {
                let object = ses::parse_firehose_error_object(&buf);
                object.records.into_iter().for_each(&mut emit);
                object.counts.records_in as u64
            }
        };
        stats.lines = lines;
    }
}

impl Stats {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: &Stats) {
        self.bytes += other.bytes;
        self.plain_bytes += other.plain_bytes;
        self.lines += other.lines;
        self.records += other.records;
        self.bad += other.bad;
        self.truncated += other.truncated;
        self.encoded_bytes += other.encoded_bytes;
    }
}

/// Encodes one record as an event (cut to the event limit if need be) and counts it.
pub(super) fn push_record(
    record: Record,
    sink: &mut impl EventSink,
    stats: &mut Stats,
    settings: EventSettings,
) {
    stats.records += 1;
    if matches!(record, Record::Bad(_)) {
        stats.bad += 1;
    }
    let cut_before = record.is_cut();
    let encoded = encode::encode(record, settings.fallback_ms, settings.max_event);
    if encoded.truncated || cut_before {
        stats.truncated += 1;
    }
    stats.encoded_bytes += encoded.event.cost() as u64;
    sink.emit(encoded.event);
}
