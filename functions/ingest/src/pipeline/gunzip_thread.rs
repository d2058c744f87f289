//! The gunzip thread and the queues between it and the caller: compressed pieces go to the
//! thread ([`CompressedPieces`]), decoded chunks or parsed ALB chunks come back
//! ([`FromGunzip`]), and buffers go back both ways for reuse.

use std::io;
use std::sync::mpsc;
use std::time::Duration;

use super::alb_fast_path::ParsedChunk;
use super::batching::EventSettings;
use super::decoding::{DRAIN_WAIT, FEED_WAIT};
use super::handover::{ChunkHandover, Handing, ParseOnGunzipThread};
use super::line_splitter::LineSplitter;
use super::{DecodeError, GUNZIP_QUEUE, PLAIN_QUEUE};
use crate::inflate::{GzStream, WINDOW};

/// What the gunzip thread sends back.
pub(super) enum FromGunzip {
    /// Decoded bytes for the parser: the buffer from the given offset on (the bytes before
    /// it are the decoder's history, handed over before).
    Decoded(Vec<u8>, usize),
    /// Whole ALB lines the gunzip thread has parsed itself (see [`ParseOnGunzipThread`]).
    Parsed(ParsedChunk),
    /// The compressed stream is corrupt or truncated.
    Failed(DecodeError),
    /// The object has ended and everything was sent.
    Done,
}

/// The gunzip thread and its queues, as the caller sees them.
pub(super) struct GunzipThread {
    /// Compressed bytes to the thread; dropped to say the object has ended.
    input: Option<mpsc::SyncSender<Vec<u8>>>,
    output: mpsc::Receiver<FromGunzip>,
    /// Chunks the parser has finished with, back to the thread for reuse.
    spare: mpsc::SyncSender<Vec<u8>>,
    /// Compressed pieces the thread has read, back for the next bytes pushed.
    used: mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<()>>,
    done: bool,
}

impl GunzipThread {
    /// Starts the thread; it hands over `chunk` decoded bytes at a time.
    pub(super) fn spawn(
        help: ParseOnGunzipThread,
        chunk: usize,
        settings: EventSettings,
    ) -> io::Result<GunzipThread> {
        let (input, compressed) = mpsc::sync_channel(GUNZIP_QUEUE);
        let (plain, output) = mpsc::sync_channel(PLAIN_QUEUE);
        let (spare, spares) = mpsc::sync_channel(PLAIN_QUEUE + 2);
        let (give_back, used) = mpsc::sync_channel(GUNZIP_QUEUE + 2);
        let handover = ChunkHandover::new(plain, spares, WINDOW + chunk, help, settings);
        let thread = std::thread::Builder::new()
            .name("gunzip".into())
            .spawn(move || gunzip(CompressedPieces::new(compressed, give_back), handover))?;
        Ok(GunzipThread {
            input: Some(input),
            output,
            spare,
            used,
            thread: Some(thread),
            done: false,
        })
    }

    /// Sends compressed bytes to the thread; while its queue is full, takes its output.
    pub(super) fn send(
        &mut self,
        data: &[u8],
        lines: &mut LineSplitter,
    ) -> Result<(), DecodeError> {
        let mut piece = self.used.try_recv().unwrap_or_default();
        piece.clear();
        piece.extend_from_slice(data);
        while let Some(input) = &self.input {
            match input.try_send(piece) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(back)) => {
                    // Gunzip is ahead: parse some of its output first.
                    piece = back;
                    self.receive(lines, Some(FEED_WAIT))?;
                }
                Err(mpsc::TrySendError::Disconnected(back)) => {
                    // The thread has stopped: it says why.
                    piece = back;
                    self.drain(lines)?;
                }
            }
        }
        Ok(())
    }

    /// Says the object has ended, takes the rest of the output and joins the thread.
    pub(super) fn finish(&mut self, lines: &mut LineSplitter) -> Result<(), DecodeError> {
        self.drain(lines)?;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        Ok(())
    }

    /// Closes the input and takes output until the thread is done.
    fn drain(&mut self, lines: &mut LineSplitter) -> Result<(), DecodeError> {
        self.input = None;
        while !self.done {
            self.receive(lines, Some(DRAIN_WAIT))?;
        }
        Ok(())
    }

    /// Takes one thing the thread has sent, if any, after waiting up to `wait` for it when
    /// given. One at a time, so that the caller goes back to feeding the thread between
    /// chunks rather than letting it run dry.
    pub(super) fn receive(
        &mut self,
        lines: &mut LineSplitter,
        wait: Option<Duration>,
    ) -> Result<(), DecodeError> {
        let sent = match wait {
            Some(wait) => match self.output.recv_timeout(wait) {
                Ok(sent) => sent,
                Err(mpsc::RecvTimeoutError::Timeout) => return Ok(()),
                Err(mpsc::RecvTimeoutError::Disconnected) => return self.gone(),
            },
            None => match self.output.try_recv() {
                Ok(sent) => sent,
                Err(mpsc::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::TryRecvError::Disconnected) => return self.gone(),
            },
        };
        match sent {
            FromGunzip::Decoded(bytes, from) => {
                lines.take_bytes(bytes.get(from..).unwrap_or_default());
                // Back to the gunzip thread for reuse (dropped if it has enough).
                let _ = self.spare.try_send(bytes);
            }
            FromGunzip::Parsed(parsed) => lines.take_parsed(parsed),
            FromGunzip::Failed(e) => {
                self.done = true;
                self.input = None;
                return Err(e);
            }
            FromGunzip::Done => self.done = true,
        }
        Ok(())
    }

    /// The thread ended without a word (it panicked): an error, not a hang.
    fn gone(&mut self) -> Result<(), DecodeError> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        self.input = None;
        Err(DecodeError {
            offset: 0,
            plain: 0,
            source: io::Error::other("gunzip thread stopped"),
        })
    }
}

/// The compressed pieces sent to the gunzip thread, read as one stream.
struct CompressedPieces {
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

impl CompressedPieces {
    fn new(queue: mpsc::Receiver<Vec<u8>>, used: mpsc::SyncSender<Vec<u8>>) -> CompressedPieces {
        CompressedPieces {
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
/// over chunks of [`super::PLAIN_CHUNK`] (or less when it has nothing more to decode for now), and
/// at the end checks that the stream ended after a whole member.
fn gunzip(mut compressed: CompressedPieces, mut out: ChunkHandover) {
    let mut stream = GzStream::new();
    let outcome = loop {
        // Nothing to inflate until more arrives: pass on what there is rather than wait.
        if !compressed.refill(false) && !out.send(Handing::NothingToInflate) {
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
            Ok(n) => out.decoded(n),
            Err(e) => break Err(e),
        }
    };
    match outcome {
        Ok(()) => {
            if out.send(Handing::EndOfObject) {
                out.done();
            }
        }
        Err(source) => {
            out.failed(compressed.consumed, source);
        }
    }
}
