//! The gunzip thread's side of the hand-over: its output is cut into chunks of whole lines,
//! and a chunk is either sent to the parser or, when the parser is behind or there is nothing
//! to inflate, parsed on this thread ([`super::alb_fast_path`]) and sent as events.

use std::io;
use std::sync::mpsc;

use memchr::{memchr_iter, memrchr};

use super::DecodeError;
use super::alb_fast_path::parse_alb_chunk;
use super::batching::EventSettings;
use super::gunzip_thread::FromGunzip;
use crate::inflate::WINDOW;

/// When the gunzip thread parses a chunk of ALB lines itself instead of handing it over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ParseOnGunzipThread {
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

/// The gunzip thread's side of the hand-over. Chunks are cut at line ends (the unfinished
/// last line stays for the next chunk), so that a chunk can be parsed on either side: when
/// the parser is behind or there is nothing to inflate, this thread parses the chunk itself
/// (ALB only, see [`ParseOnGunzipThread`]) and sends its events, in order, in its place. The two threads
/// share the work without a scheduler: whichever would wait parses.
///
/// The decoder writes straight into the buffer, after the output it may refer back to
/// ([`WINDOW`] bytes, copied to the front of each new buffer with the unfinished line).
pub(super) struct ChunkHandover {
    plain: mpsc::SyncSender<FromGunzip>,
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
    help: ParseOnGunzipThread,
    settings: EventSettings,
}

impl ChunkHandover {
    /// The hand-over of a gunzip thread writing into buffers of `len` bytes.
    pub(super) fn new(
        plain: mpsc::SyncSender<FromGunzip>,
        spares: mpsc::Receiver<Vec<u8>>,
        len: usize,
        help: ParseOnGunzipThread,
        settings: EventSettings,
    ) -> ChunkHandover {
        ChunkHandover {
            plain,
            spares,
            buf: vec![0; len],
            from: 0,
            filled: 0,
            own: None,
            decoded: 0,
            clean: true,
            newlines: 0,
            help,
            settings,
        }
    }

    /// The decoder wrote `n` more bytes into the buffer [`ChunkHandover::room`] gave.
    pub(super) fn decoded(&mut self, n: usize) {
        self.filled += n;
    }

    /// Says everything was sent.
    pub(super) fn done(&self) {
        let _ = self.plain.send(FromGunzip::Done);
    }

    /// Reports the stream's damage, found after `consumed` compressed bytes.
    pub(super) fn failed(&self, consumed: u64, source: io::Error) {
        let _ = self.plain.send(FromGunzip::Failed(DecodeError {
            offset: consumed,
            plain: self.decoded + (self.filled - self.from) as u64,
            source,
        }));
    }

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
    pub(super) fn room(&mut self) -> Option<(&mut [u8], usize)> {
        if self.filled >= self.buf.len() && !self.send(Handing::BufferFull) {
            return None;
        }
        Some((&mut self.buf, self.filled))
    }

    /// Hands over what is decoded: all of it at the end, otherwise up to its last line end
    /// (or all of it, if the buffer is full without one). False once the parser side has
    /// gone.
    pub(super) fn send(&mut self, hand: Handing) -> bool {
        let start = self.from;
        let held = self.buf.get(start..self.filled).unwrap_or_default();
        let end = start
            + if hand == Handing::EndOfObject {
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
        let may_help = self.clean && whole && self.help != ParseOnGunzipThread::Never;
        self.clean = whole;
        let first = self.newlines;
        let physical = match self.help {
            ParseOnGunzipThread::Never => 0,
            _ => memchr_iter(b'\n', chunk).count() as u64,
        };
        self.newlines += physical;
        if !may_help {
            return self.plain.send(FromGunzip::Decoded(bytes, start)).is_ok();
        }
        let bytes = match self.help {
            #[cfg(test)]
            ParseOnGunzipThread::Always => bytes,
            // Nothing to inflate until more arrives: parse rather than wait.
            _ if hand == Handing::NothingToInflate => bytes,
            _ => match self.plain.try_send(FromGunzip::Decoded(bytes, start)) {
                Ok(()) => return true,
                Err(mpsc::TrySendError::Full(FromGunzip::Decoded(bytes, _))) => bytes,
                Err(_) => return false,
            },
        };
        let chunk = bytes.get(start..).unwrap_or_default();
        let parsed = parse_alb_chunk(chunk, first, physical, self.settings);
        self.own = Some(bytes);
        self.plain.send(FromGunzip::Parsed(parsed)).is_ok()
    }
}

/// Why the gunzip thread hands over what it has decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handing {
    /// The buffer is full.
    BufferFull,
    /// Nothing to inflate until more compressed bytes arrive.
    NothingToInflate,
    /// The object has ended.
    EndOfObject,
}
