//! The decoding state machine of [`ObjectPipeline`]: the first bytes say whether the object
//! is gzip; then bytes go to the [`LineSplitter`] as they are, through the gunzip thread, or
//! (when no thread could be started) through the in-line decoder.

use std::time::Duration;

use logdesk_core::input::{GZIP_MAGIC, is_gzip};

use super::gunzip_thread::GunzipThread;
use super::{DecodeError, ObjectPipeline, PLAIN_CHUNK};
use crate::inflate::Decoder;

/// Where the object's bytes go.
pub(super) enum Decoding {
    /// The first bytes, until it is clear whether the object is gzip.
    Sniffing(Vec<u8>),
    /// Not gzip: bytes go to the line splitter as they are.
    Plain,
    /// Gunzip on its own thread.
    OnGunzipThread(GunzipThread),
    /// Gunzip in line, when no thread could be started.
    InLine(Box<Decoder>),
    /// [`ObjectPipeline::finish`] has run.
    Finished,
}

impl ObjectPipeline {
    /// Feeds the next bytes of the object. Take [`ObjectPipeline::pop_ready`] batches between
    /// pushes to keep memory flat (one push of [`super::STEP_BYTES`] yields a bounded amount).
    ///
    /// A gzip error may be reported by a later push, or by [`ObjectPipeline::finish`].
    pub fn push(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        if let Decoding::Sniffing(head) = &mut self.decoding {
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

    /// Ends the object: checks the gzip trailer, flushes the last line and parses buffered SES
    /// objects. Then take the rest with [`ObjectPipeline::pop_remaining`].
    pub fn finish(&mut self) -> Result<(), DecodeError> {
        if let Decoding::Sniffing(head) = &mut self.decoding {
            let head = std::mem::take(head);
            self.start(is_gzip(&head));
            self.write(&head)?;
        }
        match &mut self.decoding {
            Decoding::OnGunzipThread(g) => g.finish(&mut self.lines)?,
            Decoding::InLine(dec) => {
                if let Err(source) = dec.finish() {
                    return Err(DecodeError {
                        offset: self.consumed,
                        plain: self.lines.out.stats.plain_bytes,
                        source,
                    });
                }
            }
            Decoding::Plain | Decoding::Sniffing(_) => {}
            Decoding::Finished => return Ok(()),
        }
        self.decoding = Decoding::Finished;
        self.lines.finish();
        Ok(())
    }

    fn start(&mut self, gzip: bool) {
        self.decoding = if !gzip {
            Decoding::Plain
        } else {
            let settings = self.lines.out.settings;
            let spawned = self
                .threads()
                .then(|| GunzipThread::spawn(self.help, self.chunk(), settings).ok())
                .flatten();
            match spawned {
                Some(g) => Decoding::OnGunzipThread(g),
                None => Decoding::InLine(Box::new(Decoder::new(PLAIN_CHUNK))),
            }
        };
    }

    fn write(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        match &mut self.decoding {
            Decoding::OnGunzipThread(g) => {
                g.send(data, &mut self.lines)?;
                g.receive(&mut self.lines, None)?;
            }
            Decoding::InLine(dec) => {
                let mut rest = data;
                while !rest.is_empty() {
                    match dec.step(&mut rest) {
                        Ok(new) => self.lines.take_bytes(new),
                        Err(source) => {
                            return Err(DecodeError {
                                offset: self.consumed + (data.len() - rest.len()) as u64,
                                plain: self.lines.out.stats.plain_bytes,
                                source,
                            });
                        }
                    }
                }
            }
            Decoding::Plain => self.lines.take_bytes(data),
            Decoding::Sniffing(_) | Decoding::Finished => return Ok(()),
        }
        self.consumed += data.len() as u64;
        Ok(())
    }
}

/// How long the caller waits for the gunzip thread when it must (the thread is ahead, or the
/// object has ended): short while feeding it, longer while draining it.
pub(super) const FEED_WAIT: Duration = Duration::from_millis(1);
/// See [`FEED_WAIT`].
pub(super) const DRAIN_WAIT: Duration = Duration::from_secs(1);
