//! One object's bytes to PutLogEvents batches, without I/O: push the object's bytes as they
//! arrive (gzip detected by its magic bytes, multi-member gzip read to the end), take the ready
//! batches between pushes, then finish. Memory stays flat: lines are cut at
//! [`MAX_LINE_BYTES`] and the [`Batcher`] holds a few batches' worth.
//!
//! SES objects are the exception: Firehose objects are at most 128 MiB and concatenated JSON
//! need not respect line ends, so they are collected and parsed whole at the end.

use std::io;
use std::sync::mpsc;
use std::time::Duration;

use logdesk_core::input::{GZIP_MAGIC, is_gzip, line_text, trim_line_end};
use logdesk_core::source::{ObjectParser, ParseOptions, SourceKind, bad_record};
use logdesk_core::{ParseError, Record, alb, ses};
use memchr::{memchr, memchr_iter, memrchr};

use crate::batch::{Batcher, Event};
use crate::encode::{self, DEFAULT_MAX};
use crate::inflate::{Decoder, GzStream, WINDOW};
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
    settings: Settings,
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
    Gzip(Box<Decoder>),
    Finished,
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
/// [`PLAIN_QUEUE`] × ([`WINDOW`] + [`PLAIN_CHUNK`])), so memory stays flat.
pub struct ObjectPipeline {
    decode: Decode,
    sink: Sink,
    consumed: u64,
    help: Help,
    /// Decoded bytes per hand-over ([`PLAIN_CHUNK`]; smaller in tests).
    chunk: usize,
    /// Whether gzip may be decoded on a thread of its own (always, but in tests of the
    /// in-line decoder).
    threads: bool,
}

/// Decoded bytes handed from the gunzip thread to the parser at a time (128 KB measured a
/// little faster than 64 or 256 KB in the pipeline benchmark).
pub const PLAIN_CHUNK: usize = 128 * 1024;
/// Compressed pieces waiting for the gunzip thread.
pub const GUNZIP_QUEUE: usize = 16;
/// Decoded chunks waiting for the parser.
pub const PLAIN_QUEUE: usize = 4;

/// What the gunzip thread sends back.
enum Plain {
    /// Decoded bytes for the parser: the buffer from the given offset on (the bytes before
    /// it are the decoder's history, handed over before).
    Bytes(Vec<u8>, usize),
    /// Whole ALB lines the gunzip thread has parsed itself (see [`Help`]).
    Parsed(Parsed),
    Failed(DecodeError),
    Done,
}

/// A chunk of whole ALB lines parsed on the gunzip thread: its events in line order and what
/// it adds to the counts.
struct Parsed {
    events: Vec<Event>,
    /// Plain bytes, records, bad, truncated and encoded bytes of the chunk.
    stats: Stats,
    /// Lines of the chunk: physical (for line numbers) and non-empty (counted as lines).
    physical: u32,
    lines: u64,
}

/// When the gunzip thread parses a chunk of ALB lines itself instead of handing it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Help {
    /// Never (other kinds of object: their parsers keep state across lines).
    Never,
    /// When the parser is behind (the queue of decoded chunks is full), or when this thread
    /// has nothing to inflate until more compressed bytes arrive: inflating is faster than
    /// parsing, so the gunzip thread would otherwise wait while the parser works.
    WhenIdle,
    /// Every chunk it can (tests: the same events as the parser's, whatever the timing).
    #[cfg(test)]
    Always,
}

/// How records become events: the time of records without one, and the event size limit.
#[derive(Clone, Copy)]
struct Settings {
    fallback_ms: i64,
    max_event: usize,
}

/// The gunzip thread and its queues.
struct Gunzip {
    /// Compressed bytes to the thread; dropped to say the object has ended.
    input: Option<mpsc::SyncSender<Vec<u8>>>,
    output: mpsc::Receiver<Plain>,
    /// Chunks the parser has finished with, back to the thread for reuse.
    spare: mpsc::SyncSender<Vec<u8>>,
    /// Compressed pieces the thread has read, back for the next bytes pushed.
    used: mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<()>>,
    done: bool,
}

impl Gunzip {
    fn spawn(help: Help, chunk: usize, settings: Settings) -> io::Result<Gunzip> {
        let (input, compressed) = mpsc::sync_channel(GUNZIP_QUEUE);
        let (plain, output) = mpsc::sync_channel(PLAIN_QUEUE);
        let (spare, spares) = mpsc::sync_channel(PLAIN_QUEUE + 2);
        let (give_back, used) = mpsc::sync_channel(GUNZIP_QUEUE + 2);
        let handover = Handover {
            plain,
            spares,
            buf: vec![0; WINDOW + chunk],
            from: 0,
            filled: 0,
            own: None,
            decoded: 0,
            clean: true,
            newlines: 0,
            help,
            settings,
        };
        let thread = std::thread::Builder::new()
            .name("gunzip".into())
            .spawn(move || gunzip(Pieces::new(compressed, give_back), handover))?;
        Ok(Gunzip {
            input: Some(input),
            output,
            spare,
            used,
            thread: Some(thread),
            done: false,
        })
    }
}

/// The gunzip thread's side of the hand-over. Chunks are cut at line ends (the unfinished
/// last line stays for the next chunk), so that a chunk can be parsed on either side: when
/// the parser is behind or there is nothing to inflate, this thread parses the chunk itself
/// (ALB only, see [`Help`]) and sends its events, in order, in its place. The two threads
/// share the work without a scheduler: whichever would wait parses.
///
/// The decoder writes straight into the buffer, after the output it may refer back to
/// ([`WINDOW`] bytes, copied to the front of each new buffer with the unfinished line).
struct Handover {
    plain: mpsc::SyncSender<Plain>,
    spares: mpsc::Receiver<Vec<u8>>,
    /// The decoder's output: [`WINDOW`] + a chunk's worth of bytes, the first `filled` of
    /// them decoded, those from `from` on not handed over yet.
    buf: Vec<u8>,
    from: usize,
    filled: usize,
    /// A chunk this thread parsed itself, for reuse.
    own: Option<Vec<u8>>,
    /// Plain bytes handed over so far.
    decoded: u64,
    /// Everything handed over so far ends at a line end: the parser holds no part of a line.
    clean: bool,
    /// Line ends handed over so far (the line numbers of bad lines parsed here).
    newlines: u64,
    help: Help,
    settings: Settings,
}

impl Handover {
    /// A buffer for the decoder as long as the current one: one handed back, or a new one.
    fn fresh(&mut self) -> Vec<u8> {
        let len = self.buf.len();
        let mut buf = self
            .own
            .take()
            .or_else(|| self.spares.try_recv().ok())
            .unwrap_or_default();
        // Only what was cut off a handed-back chunk is zeroed again.
        buf.resize(len, 0);
        buf
    }

    /// The buffer the decoder writes to and where it writes next (`filled`); hands over a
    /// full buffer first. `None` once the parser side has gone.
    fn room(&mut self) -> Option<(&mut [u8], usize)> {
        if self.filled >= self.buf.len() && !self.send(Hand::Full) {
            return None;
        }
        Some((&mut self.buf, self.filled))
    }

    /// Hands over what is decoded: all of it at the end, otherwise up to its last line end
    /// (or all of it, if the buffer is full without one). False once the parser side has
    /// gone.
    fn send(&mut self, hand: Hand) -> bool {
        let start = self.from;
        let held = self.buf.get(start..self.filled).unwrap_or_default();
        let end = start
            + if hand == Hand::Last {
                held.len()
            } else {
                match memrchr(b'\n', held) {
                    Some(i) => i + 1,
                    None if self.filled >= self.buf.len() => held.len(),
                    None => return true,
                }
            };
        if end == start {
            return true;
        }
        // The new buffer starts with the decoder's history and the unfinished line.
        let keep = end.min(self.filled.saturating_sub(WINDOW));
        let fresh = self.fresh();
        let mut bytes = std::mem::replace(&mut self.buf, fresh);
        let kept = bytes.get(keep..self.filled).unwrap_or_default();
        if let Some(to) = self.buf.get_mut(..kept.len()) {
            to.copy_from_slice(kept);
        }
        self.from = end - keep;
        self.filled -= keep;
        bytes.truncate(end);
        let chunk = bytes.get(start..).unwrap_or_default();
        self.decoded += chunk.len() as u64;
        let whole = chunk.last() == Some(&b'\n');
        let may_help = self.clean && whole && self.help != Help::Never;
        self.clean = whole;
        let first = self.newlines;
        let physical = match self.help {
            Help::Never => 0,
            _ => memchr_iter(b'\n', chunk).count() as u64,
        };
        self.newlines += physical;
        if !may_help {
            return self.plain.send(Plain::Bytes(bytes, start)).is_ok();
        }
        let bytes = match self.help {
            #[cfg(test)]
            Help::Always => bytes,
            // Nothing to inflate until more arrives: parse rather than wait.
            _ if hand == Hand::Idle => bytes,
            _ => match self.plain.try_send(Plain::Bytes(bytes, start)) {
                Ok(()) => return true,
                Err(mpsc::TrySendError::Full(Plain::Bytes(bytes, _))) => bytes,
                Err(_) => return false,
            },
        };
        let chunk = bytes.get(start..).unwrap_or_default();
        let parsed = parse_chunk(chunk, first, physical, self.settings);
        self.own = Some(bytes);
        self.plain.send(Plain::Parsed(parsed)).is_ok()
    }
}

/// Why the gunzip thread hands over what it has decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hand {
    /// The buffer is full.
    Full,
    /// Nothing to inflate until more compressed bytes arrive.
    Idle,
    /// The object has ended.
    Last,
}

/// The compressed pieces sent to the gunzip thread, read as one stream.
struct Pieces {
    queue: mpsc::Receiver<Vec<u8>>,
    /// Pieces read, back to the sender for reuse (copying into a buffer in cache is cheaper
    /// than into a new one).
    used: mpsc::SyncSender<Vec<u8>>,
    piece: Vec<u8>,
    /// Bytes of `piece` already read.
    pos: usize,
    /// Compressed bytes read so far.
    consumed: u64,
    /// The sender has gone: the object has ended.
    ended: bool,
}

impl Pieces {
    fn new(queue: mpsc::Receiver<Vec<u8>>, used: mpsc::SyncSender<Vec<u8>>) -> Pieces {
        Pieces {
            queue,
            used,
            piece: Vec::new(),
            pos: 0,
            consumed: 0,
            ended: false,
        }
    }

    /// The bytes of the current piece not read yet.
    fn unread(&self) -> &[u8] {
        self.piece.get(self.pos..).unwrap_or_default()
    }

    /// Marks `n` more bytes of the current piece read.
    fn consume(&mut self, n: usize) {
        self.pos += n;
        self.consumed += n as u64;
    }

    /// Takes the next piece once this one is read, waiting for it when `wait`; false when
    /// there is none yet (never when waiting). At the end, the piece stays empty.
    fn refill(&mut self, wait: bool) -> bool {
        while self.pos >= self.piece.len() && !self.ended {
            let next = if wait {
                self.queue
                    .recv()
                    .map_err(|_| mpsc::TryRecvError::Disconnected)
            } else {
                self.queue.try_recv()
            };
            match next {
                Ok(piece) => {
                    let read = std::mem::replace(&mut self.piece, piece);
                    self.pos = 0;
                    // Dropped when the sender has enough.
                    let _ = self.used.try_send(read);
                }
                Err(mpsc::TryRecvError::Empty) => return false,
                Err(mpsc::TryRecvError::Disconnected) => self.ended = true,
            }
        }
        true
    }
}

/// The gunzip thread: decodes the compressed stream straight into the chunk buffers, hands
/// over chunks of [`PLAIN_CHUNK`] (or less when it has nothing more to decode for now), and
/// at the end checks that the stream ended after a whole member.
fn gunzip(mut compressed: Pieces, mut out: Handover) {
    let mut stream = GzStream::new();
    let outcome = loop {
        // Nothing to inflate until more arrives: pass on what there is rather than wait.
        if !compressed.refill(false) && !out.send(Hand::Idle) {
            return;
        }
        compressed.refill(true);
        let input = compressed.unread();
        if input.is_empty() {
            break stream.finish();
        }
        let Some((buf, at)) = out.room() else { return };
        let mut rest = input;
        let step = stream.inflate(&mut rest, buf, at);
        compressed.consume(input.len() - rest.len());
        match step {
            Ok(n) => out.filled += n,
            Err(e) => break Err(e),
        }
    };
    match outcome {
        Ok(()) => {
            if out.send(Hand::Last) {
                let _ = out.plain.send(Plain::Done);
            }
        }
        Err(source) => {
            let _ = out.plain.send(Plain::Failed(DecodeError {
                offset: compressed.consumed,
                plain: out.decoded + (out.filled - out.from) as u64,
                source,
            }));
        }
    }
}

/// Parses a chunk of whole ALB lines as the parser would; its first line is line
/// `first + 1` of the object and it holds `physical` line ends.
fn parse_chunk(bytes: &[u8], first: u64, physical: u64, settings: Settings) -> Parsed {
    let first = u32::try_from(first).unwrap_or(u32::MAX);
    let mut alb = AlbLines {
        line_no: first,
        lines: 0,
    };
    let mut stats = Stats {
        plain_bytes: bytes.len() as u64,
        ..Stats::default()
    };
    let mut events = Vec::with_capacity(bytes.len() / 512);
    let rest = each_line(bytes, |line, over| {
        alb.line(line, over, &mut events, &mut stats, settings);
    });
    debug_assert!(rest.is_empty(), "a chunk of whole lines");
    Parsed {
        events,
        stats,
        physical: u32::try_from(physical).unwrap_or(u32::MAX),
        lines: alb.lines,
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
        let (parse, help) = match kind {
            ObjectKind::Source(SourceKind::Alb) => {
                (Parse::Alb(AlbLines::default()), Help::WhenIdle)
            }
            ObjectKind::Source(SourceKind::Ses) => (Parse::Ses(Vec::new()), Help::Never),
            ObjectKind::FirehoseErrors => (Parse::FirehoseErrors(Vec::new()), Help::Never),
            ObjectKind::Source(k) => (
                Parse::Lines(Box::new(ObjectParser::new(k, options))),
                Help::Never,
            ),
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
                    settings: Settings {
                        fallback_ms,
                        max_event,
                    },
                },
            },
            consumed: 0,
            help,
            chunk: PLAIN_CHUNK,
            threads: true,
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
            let spawned = self
                .threads
                .then(|| Gunzip::spawn(self.help, self.chunk.max(1), self.sink.out.settings).ok())
                .flatten();
            match spawned {
                Some(g) => Decode::Threaded(g),
                None => Decode::Gzip(Box::new(Decoder::new(PLAIN_CHUNK))),
            }
        };
    }

    fn write(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        match &mut self.decode {
            Decode::Threaded(g) => {
                let mut piece = g.used.try_recv().unwrap_or_default();
                piece.clear();
                piece.extend_from_slice(data);
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
                let mut rest = data;
                while !rest.is_empty() {
                    match dec.step(&mut rest) {
                        Ok(new) => self.sink.take_bytes(new),
                        Err(source) => {
                            return Err(DecodeError {
                                offset: self.consumed + (data.len() - rest.len()) as u64,
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
                if let Err(source) = dec.finish() {
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

/// Takes one thing the gunzip thread has sent, if any, after waiting up to `wait` for it
/// when given. One at a time, so that the caller goes back to feeding the gunzip thread
/// between chunks rather than letting it run dry.
fn take_plain(g: &mut Gunzip, sink: &mut Sink, wait: Option<Duration>) -> Result<(), DecodeError> {
    let plain = match wait {
        Some(wait) => match g.output.recv_timeout(wait) {
            Ok(plain) => plain,
            Err(mpsc::RecvTimeoutError::Timeout) => return Ok(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => return gone(g),
        },
        None => match g.output.try_recv() {
            Ok(plain) => plain,
            Err(mpsc::TryRecvError::Empty) => return Ok(()),
            Err(mpsc::TryRecvError::Disconnected) => return gone(g),
        },
    };
    match plain {
        Plain::Bytes(bytes, from) => {
            sink.take_bytes(bytes.get(from..).unwrap_or_default());
            // Back to the gunzip thread for reuse (dropped if it has enough).
            let _ = g.spare.try_send(bytes);
        }
        Plain::Parsed(parsed) => sink.take_parsed(parsed),
        Plain::Failed(e) => {
            g.done = true;
            g.input = None;
            return Err(e);
        }
        Plain::Done => g.done = true,
    }
    Ok(())
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
        let out = &mut self.out;
        let rest = each_line(rest, |line, over| out.line(line, over));
        self.append(rest);
    }

    /// Takes a chunk of whole lines the gunzip thread has parsed (the chunk before it ended
    /// with a line end, so no line is half read here).
    fn take_parsed(&mut self, parsed: Parsed) {
        debug_assert_eq!(self.line_len, 0, "a parsed chunk after a whole line");
        let Parsed {
            events,
            stats,
            physical,
            lines,
        } = parsed;
        let out = &mut self.out;
        out.stats.add(&stats);
        if let Parse::Alb(alb) = &mut out.parse {
            alb.line_no = alb.line_no.saturating_add(physical);
            alb.lines += lines;
        }
        for event in events {
            out.batcher.push(event);
        }
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

/// Calls `line` for each line of `data` that ends there, without its `\n` (cut to
/// [`MAX_LINE_BYTES`], with its full length as the second argument when cut); returns the
/// bytes after the last line end.
fn each_line(data: &[u8], mut line: impl FnMut(&[u8], Option<u64>)) -> &[u8] {
    let mut start = 0;
    for end in memchr_iter(b'\n', data) {
        let whole = data.get(start..end).unwrap_or_default();
        start = end + 1;
        match whole.get(..MAX_LINE_BYTES) {
            Some(cut) if whole.len() > MAX_LINE_BYTES => line(cut, Some(whole.len() as u64)),
            _ => line(whole, None),
        }
    }
    data.get(start..).unwrap_or_default()
}

/// Where encoded events go: the batcher, or a parsed chunk's list.
trait Emit {
    fn emit(&mut self, event: Event);
}

impl Emit for Batcher {
    fn emit(&mut self, event: Event) {
        self.push(event);
    }
}

impl Emit for Vec<Event> {
    fn emit(&mut self, event: Event) {
        self.push(event);
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

impl Lines {
    /// One line without its `\n`; `over` is its full length when it was cut to
    /// [`MAX_LINE_BYTES`].
    fn line(&mut self, line: &[u8], over: Option<u64>) {
        let Lines {
            parse,
            batcher,
            stats,
            settings,
        } = self;
        match parse {
            Parse::Alb(alb) => alb.line(line, over, batcher, stats, *settings),
            Parse::Lines(parser) => {
                parser.push_line(line, &mut |mut record| {
                    if let Some(len) = over {
                        mark_cut(&mut record, len);
                    }
                    push_record(record, batcher, stats, *settings);
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
            settings,
        } = self;
        let parse = std::mem::replace(parse, Parse::Ses(Vec::new()));
        let lines;
        let mut emit = |record| push_record(record, batcher, stats, *settings);
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
        batcher: &mut impl Emit,
        stats: &mut Stats,
        settings: Settings,
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
                Ok(time) if json.len() <= settings.max_event => {
                    let event = Event {
                        timestamp: encode::us_to_ms(time),
                        message: json,
                    };
                    stats.records += 1;
                    stats.encoded_bytes += event.cost() as u64;
                    batcher.emit(event);
                    return;
                }
                // Too long for one event: the record path below knows how to cut it.
                Ok(_) => {}
                Err(e) => {
                    let record = self.bad(&e, &text, None);
                    return push_record(record, batcher, stats, settings);
                }
            }
        }
        let entry = match alb::parse_line(&text) {
            Ok(entry) => entry,
            Err(e) => {
                let record = self.bad(&e, &text, over);
                return push_record(record, batcher, stats, settings);
            }
        };
        let mut record = Record::Alb(entry.to_record());
        if let Some(len) = over {
            mark_cut(&mut record, len);
        }
        push_record(record, batcher, stats, settings);
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

fn push_record(record: Record, batcher: &mut impl Emit, stats: &mut Stats, settings: Settings) {
    stats.records += 1;
    if matches!(record, Record::Bad(_)) {
        stats.bad += 1;
    }
    let cut_before = match &record {
        Record::Bad(b) => b.truncated,
        Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) => r.truncated,
        _ => false,
    };
    let encoded = encode::encode(record, settings.fallback_ms, settings.max_event);
    if encoded.truncated || cut_before {
        stats.truncated += 1;
    }
    stats.encoded_bytes += encoded.event.cost() as u64;
    batcher.emit(encoded.event);
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
    use std::io::Write;

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

    /// Runs `data` with the gunzip thread parsing every chunk of whole lines it can.
    fn run_helped(data: &[u8], step: usize) -> (Vec<Event>, Stats) {
        run_chunked(data, step, Some(Help::Always), PLAIN_CHUNK)
    }

    /// Runs `data` pushed `step` bytes at a time, handing over `chunk` bytes at a time
    /// (`help: None`: gunzip in line, no thread).
    fn run_chunked(
        data: &[u8],
        step: usize,
        help: Option<Help>,
        chunk: usize,
    ) -> (Vec<Event>, Stats) {
        let mut p = ObjectPipeline::new(alb(), ParseOptions::default(), 9);
        p.help = help.unwrap_or(Help::Never);
        p.threads = help.is_some();
        p.chunk = chunk;
        let mut events = Vec::new();
        let mut take = |b: Vec<Event>| {
            assert!(within_limits(&b));
            events.extend(b);
        };
        for piece in data.chunks(step) {
            p.push(piece).unwrap();
            while let Some(b) = p.pop_ready() {
                take(b);
            }
        }
        p.finish().unwrap();
        while let Some(b) = p.pop_remaining() {
            take(b);
        }
        (events, p.stats())
    }

    #[test]
    fn lines_parsed_on_the_gunzip_thread_give_the_same_events() {
        // Good lines, bad ones (numbered in their records), empty and CRLF lines, a control
        // line, lines longer than a chunk and than MAX_LINE_BYTES, and no final line end.
        let mut text = format!("{ALB}\n\n");
        crate::sample::alb_lines(&mut text, 2_500, 1_795_310_100_000, 5);
        text.push_str("not an alb line\r\n\r\n");
        text.push_str("Enable AccessLog for ELB: app/x/y at 2025-05-30T16:47:00.781Z\n");
        text.push_str(&"w".repeat(PLAIN_CHUNK + 10));
        text.push('\n');
        crate::sample::alb_lines(&mut text, 1_500, 1_795_310_200_000, 6);
        text.push_str(&"x".repeat(MAX_LINE_BYTES + 5));
        text.push('\n');
        crate::sample::alb_lines(&mut text, 1_000, 1_795_310_300_000, 7);
        text.push_str("the last line, bad, without a line end");
        let (plain, want) = run_in_memory(alb(), text.as_bytes(), 9).unwrap();
        let plain: Vec<Event> = plain.into_iter().flatten().collect();
        assert_eq!((want.bad, want.truncated), (5, 1));
        let half = text.len() / 2;
        let mut members = gz(&text.as_bytes()[..half]);
        members.extend(gz(&text.as_bytes()[half..]));
        for (data, step) in [
            (gz(text.as_bytes()), STEP_BYTES),
            (gz(text.as_bytes()), 777),
            (members, STEP_BYTES),
        ] {
            let (events, stats) = run_helped(&data, step);
            assert_eq!(sorted(events), sorted(plain.clone()));
            assert_eq!(
                stats,
                Stats {
                    bytes: data.len() as u64,
                    ..want
                }
            );
        }
    }

    /// Events in a fixed order: batches depend on when the batcher is asked (the gunzip
    /// thread's timing); the events do not.
    fn sorted(mut events: Vec<Event>) -> Vec<Event> {
        events.sort_by(|a, b| (a.timestamp, &a.message).cmp(&(b.timestamp, &b.message)));
        events
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Wherever chunks and pushes cut the object (inside a line, a CRLF, a line longer
        /// than a chunk), and whichever thread parses (or with no gunzip thread), the events
        /// and counts are those of the plain object parsed line by line.
        #[test]
        fn any_chunking_gives_the_same_events(
            parts in proptest::collection::vec(0u8..6, 1..30),
            seed: u64,
            chunk in 1usize..3_000,
            step in 1usize..4_000,
            help in 0u8..4,
            end_newline: bool,
        ) {
            let mut text = String::new();
            for (i, part) in parts.iter().enumerate() {
                match part {
                    0 => crate::sample::alb_lines(
                        &mut text,
                        1 + i % 4,
                        1_795_310_100_000 + i as i64 * 1000,
                        seed ^ i as u64,
                    ),
                    1 => text.push_str("not an alb line\n"),
                    2 => text.push('\n'),
                    3 => text.push_str("\r\n"),
                    4 => {
                        text.push_str(&"y".repeat(chunk * 2 + 1));
                        text.push('\n');
                    }
                    _ => text.push_str(
                        "Enable AccessLog for ELB: app/x/y at 2025-05-30T16:47:00.781Z\n",
                    ),
                }
            }
            if !end_newline {
                text.push_str("a last line without its end");
            }
            let help = [Some(Help::Never), Some(Help::WhenIdle), Some(Help::Always), None]
                [usize::from(help)];
            let (plain, want) = run_in_memory(alb(), text.as_bytes(), 9).unwrap();
            let data = gz(text.as_bytes());
            let (events, stats) = run_chunked(&data, step, help, chunk);
            proptest::prop_assert_eq!(sorted(events), sorted(plain.concat()));
            proptest::prop_assert_eq!(
                stats,
                Stats {
                    bytes: data.len() as u64,
                    ..want
                }
            );
        }
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
    fn in_line_gunzip_reports_damage_as_the_thread_does() {
        let in_line = |data: &[u8]| {
            let mut p = ObjectPipeline::new(alb(), ParseOptions::default(), 0);
            p.threads = false;
            for piece in data.chunks(1000) {
                p.push(piece)?;
                while p.pop_ready().is_some() {}
            }
            p.finish().map(|()| p.stats())
        };
        let big: String = ALB.repeat(200);
        let data = gz(big.as_bytes());
        let stats = in_line(&data).unwrap();
        let lines = big.lines().count() as u64;
        assert_eq!(
            (stats.records, stats.plain_bytes),
            (lines, big.len() as u64)
        );
        let cut = &data[..data.len() / 2];
        let (threaded, ours) = (
            run_in_memory(alb(), cut, 0).unwrap_err(),
            in_line(cut).unwrap_err(),
        );
        assert_eq!(
            (ours.offset, threaded.offset),
            (cut.len() as u64, cut.len() as u64)
        );
        assert_eq!(ours.source.kind(), io::ErrorKind::UnexpectedEof);
        let mut corrupt = data.clone();
        for b in &mut corrupt[100..200] {
            *b = 0xff;
        }
        let err = in_line(&corrupt).unwrap_err();
        assert!(err.offset <= 200, "{err}");
        assert!(err.to_string().contains("corrupt"), "{err}");
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
