//! One object's bytes to PutLogEvents batches, without I/O: push the object's bytes as they
//! arrive (gzip detected by its magic bytes, multi-member gzip read to the end), take the ready
//! batches between pushes, then finish. Memory stays flat: lines are cut at
//! [`MAX_LINE_BYTES`] and the [`Batcher`] holds a few batches' worth.
//!
//! SES objects are the exception: Firehose objects are at most 128 MiB and concatenated JSON
//! need not respect line ends, so they are collected and parsed whole at the end.

use std::io::{self, Write};
use std::sync::mpsc;
use std::time::Duration;

use flate2::write::MultiGzDecoder;
use logdesk_core::input::{GZIP_MAGIC, is_gzip, line_text, trim_line_end};
use logdesk_core::source::{ObjectParser, ParseOptions, SourceKind, bad_record};
use logdesk_core::{ParseError, Record, alb, ses};
use memchr::{memchr, memchr_iter};

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
    /// ALB access logs: parsed here and written straight to JSON (see [`AlbLines`]).
    Alb(AlbLines),
    Lines(Box<ObjectParser>),
    Ses(Vec<u8>),
    FirehoseErrors(Vec<u8>),
}

/// The ALB fast path. Every other line kind goes through the core's [`ObjectParser`], which
/// builds a [`Record`] and serialises it with serde; for ALB, by far the largest source, the
/// entry borrowed from the line is written to JSON directly
/// ([`logdesk_core::alb::AlbEntry::write_record_json`], byte for byte the same text), so
/// parsing keeps up with gunzip. Counting and bad-line handling follow `ObjectParser`.
#[derive(Default)]
struct AlbLines {
    /// Physical lines seen (1-based number of the current line, for bad records).
    line_no: u32,
    /// Non-empty lines.
    lines: u64,
}

/// Everything but the partial-line buffer, so that lines can be handed over while it is
/// borrowed.
struct Lines {
    parse: Parse,
    batcher: Batcher,
    stats: Stats,
    fallback_ms: i64,
    max_event: usize,
}

struct Sink {
    /// The start of a line whose end has not arrived yet (at most [`MAX_LINE_BYTES`]).
    line: Vec<u8>,
    /// The full length of that line so far, cut bytes included.
    line_len: u64,
    out: Lines,
}

enum Decode {
    /// The first bytes, until it is clear whether the object is gzip.
    Start(Vec<u8>),
    /// Not gzip: bytes go to the sink as they are.
    Plain,
    /// Gunzip on its own thread (see [`Gunzip`]).
    Threaded(Gunzip),
    /// Gunzip in line, when no thread could be started.
    Gzip(Box<MultiGzDecoder<Vec<u8>>>),
    Finished,
}

/// Turns one object's bytes into batches.
///
/// A gzip object is decoded on a thread of its own, so that gunzip and parsing share the two
/// vCPUs Lambda gives a function from 1,769 MB of memory; the queues between them are small
/// and bounded ([`GUNZIP_QUEUE`], [`PLAIN_QUEUE`] × [`PLAIN_CHUNK`]), so memory stays flat.
pub struct ObjectPipeline {
    decode: Decode,
    sink: Sink,
    consumed: u64,
}

/// Decoded bytes handed from the gunzip thread to the parser at a time.
pub const PLAIN_CHUNK: usize = 256 * 1024;
/// Compressed pieces waiting for the gunzip thread.
pub const GUNZIP_QUEUE: usize = 16;
/// Decoded chunks waiting for the parser.
pub const PLAIN_QUEUE: usize = 4;
/// Compressed bytes written to the decoder at once, so that one write's output is bounded
/// (deflate expands at most about 1,032 times: 4 MiB).
const WRITE_BYTES: usize = 4096;

/// What the gunzip thread sends back.
enum Plain {
    Bytes(Vec<u8>),
    Failed(DecodeError),
    Done,
}

/// The gunzip thread and its two queues.
struct Gunzip {
    /// Compressed bytes to the thread; dropped to say the object has ended.
    input: Option<mpsc::SyncSender<Vec<u8>>>,
    output: mpsc::Receiver<Plain>,
    thread: Option<std::thread::JoinHandle<()>>,
    done: bool,
}

impl Gunzip {
    fn spawn() -> io::Result<Gunzip> {
        let (input, compressed) = mpsc::sync_channel(GUNZIP_QUEUE);
        let (plain, output) = mpsc::sync_channel(PLAIN_QUEUE);
        let thread = std::thread::Builder::new()
            .name("gunzip".into())
            .spawn(move || gunzip(&compressed, &plain))?;
        Ok(Gunzip {
            input: Some(input),
            output,
            thread: Some(thread),
            done: false,
        })
    }
}

/// The gunzip thread: decodes what arrives, sends [`PLAIN_CHUNK`]s (or less when it has
/// nothing more to decode for now), and at the end checks the trailer.
fn gunzip(compressed: &mpsc::Receiver<Vec<u8>>, plain: &mpsc::SyncSender<Plain>) {
    let mut dec = MultiGzDecoder::new(Vec::with_capacity(PLAIN_CHUNK));
    let mut consumed = 0u64;
    let mut decoded = 0u64;
    // Hands over what has been decoded; false once the parser side has gone.
    let send = |dec: &mut MultiGzDecoder<Vec<u8>>, decoded: &mut u64| {
        let bytes = std::mem::replace(dec.get_mut(), Vec::with_capacity(PLAIN_CHUNK));
        *decoded += bytes.len() as u64;
        bytes.is_empty() || plain.send(Plain::Bytes(bytes)).is_ok()
    };
    let fail = |offset: u64, decoded: u64, source: io::Error| {
        let _ = plain.send(Plain::Failed(DecodeError {
            offset,
            plain: decoded,
            source,
        }));
    };
    loop {
        let data = match compressed.try_recv() {
            Ok(data) => data,
            Err(mpsc::TryRecvError::Empty) => {
                // Nothing queued: pass on what there is rather than wait with it.
                if !send(&mut dec, &mut decoded) {
                    return;
                }
                match compressed.recv() {
                    Ok(data) => data,
                    Err(_) => break,
                }
            }
            Err(mpsc::TryRecvError::Disconnected) => break,
        };
        let mut pos = 0;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            let piece = rest.get(..WRITE_BYTES).unwrap_or(rest);
            match dec.write(piece) {
                Ok(0) => {
                    let stalled = io::Error::new(io::ErrorKind::InvalidData, "decoder stalled");
                    return fail(consumed + pos as u64, decoded, stalled);
                }
                Ok(n) => pos += n,
                Err(e) => {
                    let buffered = dec.get_ref().len() as u64;
                    return fail(consumed + pos as u64, decoded + buffered, e);
                }
            }
            if dec.get_ref().len() >= PLAIN_CHUNK && !send(&mut dec, &mut decoded) {
                return;
            }
        }
        consumed += data.len() as u64;
    }
    if let Err(e) = dec.try_finish() {
        let buffered = dec.get_ref().len() as u64;
        return fail(consumed, decoded + buffered, e);
    }
    if send(&mut dec, &mut decoded) {
        let _ = plain.send(Plain::Done);
    }
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
            ObjectKind::Source(SourceKind::Alb) => Parse::Alb(AlbLines::default()),
            ObjectKind::Source(SourceKind::Ses) => Parse::Ses(Vec::new()),
            ObjectKind::FirehoseErrors => Parse::FirehoseErrors(Vec::new()),
            ObjectKind::Source(k) => Parse::Lines(Box::new(ObjectParser::new(k, options))),
        };
        ObjectPipeline {
            decode: Decode::Start(Vec::new()),
            sink: Sink {
                line: Vec::with_capacity(4096),
                line_len: 0,
                out: Lines {
                    parse,
                    batcher: Batcher::default(),
                    stats: Stats::default(),
                    fallback_ms,
                    max_event,
                },
            },
            consumed: 0,
        }
    }

    /// Feeds the next bytes of the object. Take [`ObjectPipeline::pop_ready`] batches between
    /// pushes to keep memory flat (one push of [`STEP_BYTES`] yields a bounded amount).
    ///
    /// A gzip error may be reported by a later push, or by [`ObjectPipeline::finish`].
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
        self.decode = if !gzip {
            Decode::Plain
        } else {
            match Gunzip::spawn() {
                Ok(g) => Decode::Threaded(g),
                Err(_) => Decode::Gzip(Box::new(MultiGzDecoder::new(Vec::new()))),
            }
        };
    }

    fn write(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        match &mut self.decode {
            Decode::Threaded(g) => {
                let mut piece = data.to_vec();
                while let Some(input) = &g.input {
                    match input.try_send(piece) {
                        Ok(()) => break,
                        Err(mpsc::TrySendError::Full(back)) => {
                            // Gunzip is ahead: parse some of its output first.
                            piece = back;
                            take_plain(g, &mut self.sink, Some(Duration::from_millis(1)))?;
                        }
                        Err(mpsc::TrySendError::Disconnected(back)) => {
                            // The thread has stopped: it says why.
                            piece = back;
                            g.input = None;
                            while !g.done {
                                take_plain(g, &mut self.sink, Some(Duration::from_secs(1)))?;
                            }
                        }
                    }
                }
                take_plain(g, &mut self.sink, None)?;
                self.consumed += data.len() as u64;
                Ok(())
            }
            Decode::Gzip(dec) => {
                let mut pos = 0;
                while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
                    let piece = rest.get(..WRITE_BYTES).unwrap_or(rest);
                    let written = dec.write(piece);
                    self.sink.take_bytes(dec.get_ref());
                    dec.get_mut().clear();
                    match written {
                        Ok(0) => {
                            let stalled =
                                io::Error::new(io::ErrorKind::InvalidData, "decoder stalled");
                            return Err(DecodeError {
                                offset: self.consumed + pos as u64,
                                plain: self.sink.out.stats.plain_bytes,
                                source: stalled,
                            });
                        }
                        Ok(n) => pos += n,
                        Err(source) => {
                            return Err(DecodeError {
                                offset: self.consumed + pos as u64,
                                plain: self.sink.out.stats.plain_bytes,
                                source,
                            });
                        }
                    }
                }
                self.consumed += data.len() as u64;
                Ok(())
            }
            Decode::Plain => {
                self.sink.take_bytes(data);
                self.consumed += data.len() as u64;
                Ok(())
            }
            Decode::Start(_) | Decode::Finished => Ok(()),
        }
    }

    /// A full batch, if one is ready.
    pub fn pop_ready(&mut self) -> Option<Vec<Event>> {
        self.sink.out.batcher.pop_ready()
    }

    /// Ends the object: checks the gzip trailer, flushes the last line and parses buffered SES
    /// objects. Then take the rest with [`ObjectPipeline::pop_remaining`].
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        if let Decode::Start(head) = &mut self.decode {
            let head = std::mem::take(head);
            self.start(is_gzip(&head));
            self.write(&head)?;
        }
        match &mut self.decode {
            Decode::Threaded(g) => {
                g.input = None;
                while !g.done {
                    take_plain(g, &mut self.sink, Some(Duration::from_secs(1)))?;
                }
                if let Some(thread) = g.thread.take() {
                    let _ = thread.join();
                }
            }
            Decode::Gzip(dec) => {
                let finished = dec.try_finish();
                self.sink.take_bytes(dec.get_ref());
                dec.get_mut().clear();
                if let Err(source) = finished {
                    return Err(DecodeError {
                        offset: self.consumed,
                        plain: self.sink.out.stats.plain_bytes,
                        source,
                    });
                }
            }
            Decode::Plain | Decode::Start(_) => {}
            Decode::Finished => return Ok(()),
        }
        self.decode = Decode::Finished;
        self.sink.finish();
        Ok(())
    }

    /// After [`ObjectPipeline::finish`]: the remaining batches, earliest first.
    pub fn pop_remaining(&mut self) -> Option<Vec<Event>> {
        self.sink.out.batcher.pop_any()
    }

    /// Counts so far (complete after [`ObjectPipeline::finish`]).
    pub fn stats(&mut self) -> Stats {
        let mut stats = self.sink.out.stats;
        stats.bytes = self.consumed;
        stats
    }
}

/// Parses what the gunzip thread has decoded: everything queued, after waiting up to `wait`
/// for the first chunk when given.
fn take_plain(g: &mut Gunzip, sink: &mut Sink, wait: Option<Duration>) -> Result<(), DecodeError> {
    let mut first = match wait {
        Some(wait) => match g.output.recv_timeout(wait) {
            Ok(plain) => Some(plain),
            Err(mpsc::RecvTimeoutError::Timeout) => return Ok(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => return gone(g),
        },
        None => None,
    };
    loop {
        let plain = match first.take() {
            Some(plain) => plain,
            None => match g.output.try_recv() {
                Ok(plain) => plain,
                Err(mpsc::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::TryRecvError::Disconnected) => return gone(g),
            },
        };
        match plain {
            Plain::Bytes(bytes) => sink.take_bytes(&bytes),
            Plain::Failed(e) => {
                g.done = true;
                g.input = None;
                return Err(e);
            }
            Plain::Done => {
                g.done = true;
                return Ok(());
            }
        }
    }
}

/// The gunzip thread ended without a word (it panicked): an error, not a hang.
fn gone(g: &mut Gunzip) -> Result<(), DecodeError> {
    if g.done {
        return Ok(());
    }
    g.done = true;
    g.input = None;
    Err(DecodeError {
        offset: 0,
        plain: 0,
        source: io::Error::other("gunzip thread stopped"),
    })
}

impl Sink {
    /// Takes decoded bytes: whole lines are handled straight from `data`; only a line split
    /// between two calls is copied (into `line`).
    fn take_bytes(&mut self, data: &[u8]) {
        self.out.stats.plain_bytes += data.len() as u64;
        if let Parse::Ses(buf) | Parse::FirehoseErrors(buf) = &mut self.out.parse {
            buf.extend_from_slice(data);
            return;
        }
        let mut rest = data;
        if self.line_len > 0 {
            match memchr(b'\n', rest) {
                Some(i) => {
                    self.append(rest.get(..i).unwrap_or_default());
                    self.end_line();
                    rest = rest.get(i + 1..).unwrap_or_default();
                }
                None => {
                    self.append(rest);
                    return;
                }
            }
        }
        let mut start = 0;
        for end in memchr_iter(b'\n', rest) {
            let line = rest.get(start..end).unwrap_or_default();
            start = end + 1;
            match line.get(..MAX_LINE_BYTES) {
                Some(cut) if line.len() > MAX_LINE_BYTES => {
                    self.out.line(cut, Some(line.len() as u64));
                }
                _ => self.out.line(line, None),
            }
        }
        self.append(rest.get(start..).unwrap_or_default());
    }

    fn append(&mut self, part: &[u8]) {
        self.line_len += part.len() as u64;
        let room = MAX_LINE_BYTES.saturating_sub(self.line.len());
        self.line
            .extend_from_slice(part.get(..part.len().min(room)).unwrap_or_default());
    }

    fn end_line(&mut self) {
        let over = (self.line_len > self.line.len() as u64).then_some(self.line_len);
        self.out.line(&self.line, over);
        self.line.clear();
        self.line_len = 0;
    }

    fn finish(&mut self) {
        if self.line_len > 0 {
            self.end_line();
        }
        self.out.finish();
    }
}

impl Lines {
    /// One line without its `\n`; `over` is its full length when it was cut to
    /// [`MAX_LINE_BYTES`].
    fn line(&mut self, line: &[u8], over: Option<u64>) {
        let Lines {
            parse,
            batcher,
            stats,
            fallback_ms,
            max_event,
        } = self;
        match parse {
            Parse::Alb(alb) => {
                alb.line(line, over, batcher, stats, *fallback_ms, *max_event);
            }
            Parse::Lines(parser) => {
                parser.push_line(line, &mut |mut record| {
                    if let Some(len) = over {
                        mark_cut(&mut record, len);
                    }
                    push_record(record, batcher, stats, *fallback_ms, *max_event);
                });
            }
            Parse::Ses(_) | Parse::FirehoseErrors(_) => {}
        }
    }

    fn finish(&mut self) {
        let Lines {
            parse,
            batcher,
            stats,
            fallback_ms,
            max_event,
        } = self;
        let parse = std::mem::replace(parse, Parse::Ses(Vec::new()));
        let lines;
        let mut emit = |record| push_record(record, batcher, stats, *fallback_ms, *max_event);
        match parse {
            Parse::Alb(alb) => lines = alb.lines,
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

impl AlbLines {
    /// As `ObjectParser::push_line` for ALB, but without building a [`Record`] for a good
    /// line.
    fn line(
        &mut self,
        line: &[u8],
        over: Option<u64>,
        batcher: &mut Batcher,
        stats: &mut Stats,
        fallback_ms: i64,
        max_event: usize,
    ) {
        self.line_no = self.line_no.saturating_add(1);
        let line = trim_line_end(line);
        if line.is_empty() {
            return;
        }
        self.lines += 1;
        let text = line_text(line);
        if alb::is_control_line(&text) {
            return;
        }
        if over.is_none() {
            // The JSON is a little longer than the line; room for it up front saves regrowing.
            let mut json = String::with_capacity(text.len() + text.len() / 8 + 64);
            match alb::line_to_json(&text, &mut json) {
                Ok(time) if json.len() <= max_event => {
                    let event = Event {
                        timestamp: encode::us_to_ms(time),
                        message: json,
                    };
                    stats.records += 1;
                    stats.encoded_bytes += event.cost() as u64;
                    batcher.push(event);
                    return;
                }
                // Too long for one event: the record path below knows how to cut it.
                Ok(_) => {}
                Err(e) => {
                    let record = self.bad(&e, &text, None);
                    return push_record(record, batcher, stats, fallback_ms, max_event);
                }
            }
        }
        let entry = match alb::parse_line(&text) {
            Ok(entry) => entry,
            Err(e) => {
                let record = self.bad(&e, &text, over);
                return push_record(record, batcher, stats, fallback_ms, max_event);
            }
        };
        let mut record = Record::Alb(entry.to_record());
        if let Some(len) = over {
            mark_cut(&mut record, len);
        }
        push_record(record, batcher, stats, fallback_ms, max_event);
    }

    /// The record of a line that does not parse: kept raw, marked bad.
    fn bad(&self, e: &ParseError, text: &str, over: Option<u64>) -> Record {
        let mut record = bad_record(SourceKind::Alb, &e.to_string(), text, self.line_no);
        if let Some(len) = over {
            mark_cut(&mut record, len);
        }
        record
    }
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
    fn alb_fast_path_equals_the_record_path() {
        let mut text = format!("{ALB}\n");
        crate::sample::alb_lines(&mut text, 300, 1_795_310_100_000, 3);
        text.push_str(
            "\r\nnot an alb line\nEnable AccessLog for ELB: app/x/y at 2025-05-30T16:47:00.781Z\n",
        );
        let (batches, stats) = run_in_memory(alb(), &gz(text.as_bytes()), 5).unwrap();
        let (records, counts) = logdesk_core::source::parse_bytes(
            SourceKind::Alb,
            ParseOptions::default(),
            text.as_bytes(),
        )
        .unwrap();
        let mut want: Vec<Event> = records
            .into_iter()
            .map(|r| encode::encode(r, 5, DEFAULT_MAX).event)
            .collect();
        want.sort_by_key(|e| e.timestamp);
        let got: Vec<Event> = batches.into_iter().flatten().collect();
        assert_eq!(got, want);
        assert_eq!(
            (stats.lines, stats.records, stats.bad),
            (counts.lines, counts.records, counts.bad)
        );
        assert_eq!(stats.bad, 2);
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
