//! One object's bytes to PutLogEvents batches, without I/O: push the object's bytes as they
//! arrive (gzip detected by its magic bytes, multi-member gzip read to the end), take the ready
//! batches between pushes, then finish. Memory stays flat: lines are cut at
//! [`MAX_LINE_BYTES`] and the [`Batcher`] holds a few batches' worth.
//!
//! SES objects are the exception: Firehose objects are at most 128 MiB and concatenated JSON
//! need not respect line ends, so they are collected and parsed whole at the end.

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;
use logdesk_core::Record;
use logdesk_core::input::{GZIP_MAGIC, is_gzip};
use logdesk_core::ses;
use logdesk_core::source::{ObjectParser, ParseOptions, SourceKind};

use crate::batch::{Batcher, Event};
use crate::encode::{self, DEFAULT_MAX};
use crate::route::ObjectKind;

/// Lines longer than this are cut (the rest of the line is counted, not kept).
pub const MAX_LINE_BYTES: usize = 2 * 1024 * 1024;

/// Compressed bytes decoded per step, so one step's output stays small.
pub const STEP_BYTES: usize = 16 * 1024;

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

enum Parse {
    Lines(Box<ObjectParser>),
    Ses(Vec<u8>),
    FirehoseErrors(Vec<u8>),
}

struct Sink {
    parse: Parse,
    line: Vec<u8>,
    line_len: u64,
    batcher: Batcher,
    stats: Stats,
    fallback_ms: i64,
    max_event: usize,
}

enum Decode {
    Start(Vec<u8>),
    Gzip(Box<MultiGzDecoder<Sink>>),
    Plain(Box<Sink>),
    Finished,
}

/// Turns one object's bytes into batches.
pub struct ObjectPipeline {
    decode: Decode,
    sink: Option<Sink>,
    consumed: u64,
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
        let parse = match kind {
            ObjectKind::Source(SourceKind::Ses) => Parse::Ses(Vec::new()),
            ObjectKind::FirehoseErrors => Parse::FirehoseErrors(Vec::new()),
            ObjectKind::Source(k) => Parse::Lines(Box::new(ObjectParser::new(k, options))),
        };
        ObjectPipeline {
            decode: Decode::Start(Vec::new()),
            sink: Some(Sink {
                parse,
                line: Vec::with_capacity(4096),
                line_len: 0,
                batcher: Batcher::default(),
                stats: Stats::default(),
                fallback_ms,
                max_event,
            }),
            consumed: 0,
        }
    }

    /// Feeds the next bytes of the object. Take [`ObjectPipeline::pop_ready`] batches between
    /// pushes to keep memory flat (one push of [`STEP_BYTES`] yields a bounded amount).
    pub fn push(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        if let Decode::Start(head) = &mut self.decode {
            head.extend_from_slice(data);
            if head.len() < GZIP_MAGIC.len() {
                return Ok(());
            }
            let head = std::mem::take(head);
            self.start(head.len() >= 2 && is_gzip(&head));
            return self.write(&head);
        }
        self.write(data)
    }

    fn start(&mut self, gzip: bool) {
        let sink = self.sink.take();
        let Some(sink) = sink else { return };
        self.decode = if gzip {
            Decode::Gzip(Box::new(MultiGzDecoder::new(sink)))
        } else {
            Decode::Plain(Box::new(sink))
        };
    }

    fn write(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        match &mut self.decode {
            Decode::Gzip(dec) => {
                let mut pos = 0;
                while pos < data.len() {
                    match dec.write(&data[pos..]) {
                        Ok(0) => {
                            return Err(self.error(
                                pos,
                                io::Error::new(io::ErrorKind::InvalidData, "decoder stalled"),
                            ));
                        }
                        Ok(n) => pos += n,
                        Err(e) => return Err(self.error(pos, e)),
                    }
                }
                self.consumed += data.len() as u64;
                Ok(())
            }
            Decode::Plain(sink) => {
                sink.take_bytes(data);
                self.consumed += data.len() as u64;
                Ok(())
            }
            Decode::Start(_) | Decode::Finished => Ok(()),
        }
    }

    fn error(&mut self, pos: usize, source: io::Error) -> DecodeError {
        let plain = self.sink_mut().map_or(0, |s| s.stats.plain_bytes);
        DecodeError {
            offset: self.consumed + pos as u64,
            plain,
            source,
        }
    }

    fn sink_mut(&mut self) -> Option<&mut Sink> {
        match &mut self.decode {
            Decode::Gzip(dec) => Some(dec.get_mut()),
            Decode::Plain(sink) => Some(sink),
            Decode::Start(_) | Decode::Finished => self.sink.as_mut(),
        }
    }

    /// A full batch, if one is ready.
    pub fn pop_ready(&mut self) -> Option<Vec<Event>> {
        self.sink_mut()?.batcher.pop_ready()
    }

    /// Ends the object: checks the gzip trailer, flushes the last line and parses buffered SES
    /// objects. Then take the rest with [`ObjectPipeline::pop_remaining`].
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        if let Decode::Start(head) = &mut self.decode {
            let head = std::mem::take(head);
            self.start(is_gzip(&head));
            self.write(&head)?;
        }
        let decode = std::mem::replace(&mut self.decode, Decode::Finished);
        let mut sink = match decode {
            Decode::Gzip(mut dec) => {
                if let Err(e) = dec.try_finish() {
                    let plain = dec.get_mut().stats.plain_bytes;
                    self.decode = Decode::Gzip(dec);
                    return Err(DecodeError {
                        offset: self.consumed,
                        plain,
                        source: e,
                    });
                }
                match dec.finish() {
                    Ok(sink) => sink,
                    Err(source) => {
                        return Err(DecodeError {
                            offset: self.consumed,
                            plain: 0,
                            source,
                        });
                    }
                }
            }
            Decode::Plain(sink) => *sink,
            Decode::Start(_) | Decode::Finished => match self.sink.take() {
                Some(s) => s,
                None => return Ok(()),
            },
        };
        sink.finish();
        self.sink = Some(sink);
        Ok(())
    }

    /// After [`ObjectPipeline::finish`]: the remaining batches, earliest first.
    pub fn pop_remaining(&mut self) -> Option<Vec<Event>> {
        self.sink.as_mut()?.batcher.pop_any()
    }

    /// Counts so far (complete after [`ObjectPipeline::finish`]).
    pub fn stats(&mut self) -> Stats {
        let consumed = self.consumed;
        let mut stats = self.sink_mut().map(|s| s.stats).unwrap_or_default();
        stats.bytes = consumed;
        stats
    }
}

impl Sink {
    fn take_bytes(&mut self, mut data: &[u8]) {
        self.stats.plain_bytes += data.len() as u64;
        match &mut self.parse {
            Parse::Ses(buf) | Parse::FirehoseErrors(buf) => {
                buf.extend_from_slice(data);
                return;
            }
            Parse::Lines(_) => {}
        }
        while !data.is_empty() {
            match memchr(b'\n', data) {
                Some(i) => {
                    self.append(&data[..i]);
                    self.end_line();
                    data = &data[i + 1..];
                }
                None => {
                    self.append(data);
                    break;
                }
            }
        }
    }

    fn append(&mut self, part: &[u8]) {
        self.line_len += part.len() as u64;
        let room = MAX_LINE_BYTES.saturating_sub(self.line.len());
        self.line.extend_from_slice(&part[..part.len().min(room)]);
    }

    fn end_line(&mut self) {
        let Sink {
            parse,
            line,
            line_len,
            batcher,
            stats,
            fallback_ms,
            max_event,
        } = self;
        let over = (*line_len > line.len() as u64).then_some(*line_len);
        if let Parse::Lines(parser) = parse {
            parser.push_line(line, &mut |mut record| {
                if let Some(len) = over {
                    mark_cut(&mut record, len);
                }
                push_record(record, batcher, stats, *fallback_ms, *max_event);
            });
        }
        line.clear();
        *line_len = 0;
    }

    fn finish(&mut self) {
        if !self.line.is_empty() || self.line_len > 0 {
            self.end_line();
        }
        let Sink {
            parse,
            batcher,
            stats,
            fallback_ms,
            max_event,
            ..
        } = self;
        let parse = std::mem::replace(parse, Parse::Ses(Vec::new()));
        let lines;
        let mut emit = |record| push_record(record, batcher, stats, *fallback_ms, *max_event);
        match parse {
            Parse::Lines(parser) => {
                lines = parser.finish(&mut emit).lines;
            }
            Parse::Ses(buf) => {
                let object = ses::parse_object(&buf);
                lines = object.counts.records_in as u64;
                object.records.into_iter().for_each(&mut emit);
            }
            Parse::FirehoseErrors(buf) => {
                let object = ses::parse_firehose_error_object(&buf);
                lines = object.counts.records_in as u64;
                object.records.into_iter().for_each(&mut emit);
            }
        }
        stats.lines = lines;
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.take_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

/// A line over [`MAX_LINE_BYTES`] was cut before parsing: say so in the record.
fn mark_cut(record: &mut Record, original_len: u64) {
    match record {
        Record::Bad(b) => {
            b.truncated = true;
            b.original_len = Some(original_len);
        }
        Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) => r.truncated = true,
        _ => {}
    }
}

fn push_record(
    record: Record,
    batcher: &mut Batcher,
    stats: &mut Stats,
    fallback_ms: i64,
    max_event: usize,
) {
    stats.records += 1;
    if matches!(record, Record::Bad(_)) {
        stats.bad += 1;
    }
    let cut_before = match &record {
        Record::Bad(b) => b.truncated,
        Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) => r.truncated,
        _ => false,
    };
    let encoded = encode::encode(record, fallback_ms, max_event);
    if encoded.truncated || cut_before {
        stats.truncated += 1;
    }
    stats.encoded_bytes += encoded.event.cost() as u64;
    batcher.push(encoded.event);
}

/// Runs a whole in-memory object through the pipeline (benchmarks and tests): returns the
/// batches and the stats.
pub fn run_in_memory(
    kind: ObjectKind,
    data: &[u8],
    fallback_ms: i64,
) -> Result<(Vec<Vec<Event>>, Stats), DecodeError> {
    let mut p = ObjectPipeline::new(kind, ParseOptions::default(), fallback_ms);
    let mut batches = Vec::new();
    for step in data.chunks(STEP_BYTES) {
        p.push(step)?;
        while let Some(b) = p.pop_ready() {
            batches.push(b);
        }
    }
    p.finish()?;
    while let Some(b) = p.pop_remaining() {
        batches.push(b);
    }
    Ok((batches, p.stats()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::within_limits;
    use flate2::{Compression, write::GzEncoder};

    const ALB: &str = include_str!("../../../events/samples/alb-access.log");

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn messages(batches: &[Vec<Event>]) -> Vec<String> {
        batches
            .iter()
            .flatten()
            .map(|e| e.message.clone())
            .collect()
    }

    fn alb() -> ObjectKind {
        ObjectKind::Source(SourceKind::Alb)
    }

    #[test]
    fn plain_gzip_and_multi_member_give_the_same_events() {
        let (plain, stats) = run_in_memory(alb(), ALB.as_bytes(), 0).unwrap();
        assert!(stats.records > 0);
        assert_eq!(stats.bad, 1, "the sample's deliberately cut line");
        let (zipped, _) = run_in_memory(alb(), &gz(ALB.as_bytes()), 0).unwrap();
        let half = ALB.len() / 2;
        let cut = ALB[..half].rfind('\n').unwrap() + 1;
        let mut multi = gz(&ALB.as_bytes()[..cut]);
        multi.extend(gz(&ALB.as_bytes()[cut..]));
        let (members, _) = run_in_memory(alb(), &multi, 0).unwrap();
        assert_eq!(messages(&plain), messages(&zipped));
        assert_eq!(messages(&plain), messages(&members));
    }

    #[test]
    fn byte_at_a_time_is_the_same() {
        let data = gz(ALB.as_bytes());
        let mut p = ObjectPipeline::new(alb(), ParseOptions::default(), 0);
        for b in &data {
            p.push(std::slice::from_ref(b)).unwrap();
        }
        p.finish().unwrap();
        let mut batches = Vec::new();
        while let Some(b) = p.pop_remaining() {
            batches.push(b);
        }
        let (want, _) = run_in_memory(alb(), ALB.as_bytes(), 0).unwrap();
        assert_eq!(messages(&batches), messages(&want));
        assert_eq!(p.stats().bytes, data.len() as u64);
    }

    #[test]
    fn truncated_gzip_names_the_offset() {
        let big: String = ALB.repeat(200);
        let data = gz(big.as_bytes());
        let cut = &data[..data.len() / 2];
        let err = run_in_memory(alb(), cut, 0).unwrap_err();
        assert_eq!(err.offset, cut.len() as u64);
        assert!(err.plain > 0);
        let mut corrupt = data.clone();
        for b in &mut corrupt[100..200] {
            *b = 0xff;
        }
        let err = run_in_memory(alb(), &corrupt, 0).unwrap_err();
        assert!(err.offset <= corrupt.len() as u64, "{err}");
    }

    #[test]
    fn empty_and_tiny_objects() {
        for data in [&b""[..], b"\n\n", b"\r\n"] {
            let (batches, stats) = run_in_memory(alb(), data, 0).unwrap();
            assert!(batches.is_empty());
            assert_eq!(stats.records, 0);
        }
        // One byte that looks like the start of gzip magic is a (bad) plain line.
        let (_, stats) = run_in_memory(alb(), b"\x1f", 0).unwrap();
        assert_eq!((stats.records, stats.bad), (1, 1));
        // A lone gzip magic is not a gzip stream.
        assert!(run_in_memory(alb(), b"\x1f\x8b", 0).is_err());
    }

    #[test]
    fn huge_line_is_cut_and_kept_as_bad() {
        let mut data = vec![b'z'; MAX_LINE_BYTES * 2];
        data.push(b'\n');
        let (batches, stats) = run_in_memory(alb(), &data, 77).unwrap();
        assert_eq!((stats.records, stats.bad, stats.truncated), (1, 1, 1));
        let event = &batches[0][0];
        assert_eq!(event.timestamp, 77);
        assert!(event.message.len() <= DEFAULT_MAX);
        let Record::Bad(bad) = Record::from_json(&event.message).unwrap() else {
            panic!()
        };
        assert!(bad.truncated);
        assert_eq!(bad.original_len, Some(data.len() as u64 - 1));
    }

    #[test]
    fn every_batch_within_limits() {
        let mut big = String::new();
        crate::sample::alb_lines(&mut big, 30_000, 1_795_310_100_000, 1);
        let (batches, stats) = run_in_memory(alb(), &gz(big.as_bytes()), 0).unwrap();
        assert!(batches.iter().all(|b| within_limits(b)));
        let n: usize = batches.iter().map(Vec::len).sum();
        assert_eq!(n as u64, stats.records);
        let ideal = (stats.encoded_bytes as usize).div_ceil(crate::batch::MAX_BATCH_BYTES);
        assert!(batches.len() as f64 <= 1.1 * ideal as f64);
    }

    #[test]
    fn ses_object_one_record_per_recipient() {
        let data = include_bytes!("../../../events/samples/ses-firehose.json");
        let (batches, stats) =
            run_in_memory(ObjectKind::Source(SourceKind::Ses), &gz(data), 0).unwrap();
        let n: usize = batches.iter().map(Vec::len).sum();
        assert_eq!(n as u64, stats.records);
        assert!(stats.records >= stats.lines);
        for m in messages(&batches) {
            assert!(
                matches!(Record::from_json(&m).unwrap(), Record::Mail(_)),
                "{m}"
            );
        }
    }

    #[test]
    fn firehose_error_object_records_are_kept() {
        use base64::Engine;
        let ses = include_str!("../../../events/samples/ses-firehose.json");
        let first = ses.lines().next().unwrap();
        let raw = base64::engine::general_purpose::STANDARD.encode(first);
        let object = format!(
            "{{\"attemptsMade\":4,\"arrivalTimestamp\":1795310100000,\"errorCode\":\"Lambda.FunctionError\",\"errorMessage\":\"boom\",\"rawData\":\"{raw}\"}}\n{{\"attemptsMade\":1,\"arrivalTimestamp\":1795310100000,\"errorCode\":\"X\",\"errorMessage\":\"y\",\"rawData\":\"bm90IGpzb24=\"}}\n"
        );
        let (batches, stats) =
            run_in_memory(ObjectKind::FirehoseErrors, &gz(object.as_bytes()), 0).unwrap();
        assert_eq!(stats.lines, 2);
        let records: Vec<Record> = messages(&batches)
            .iter()
            .map(|m| Record::from_json(m).unwrap())
            .collect();
        assert!(
            records.iter().any(|r| matches!(r, Record::Mail(_))),
            "{records:?}"
        );
        assert!(
            records.iter().any(|r| matches!(r, Record::Bad(_))),
            "{records:?}"
        );
        assert_eq!(stats.bad, 1);
    }
}
