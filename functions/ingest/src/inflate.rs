//! Gunzip (RFC 1952: one or more members, one after another) straight into the caller's
//! buffer, fed the compressed bytes piece by piece.
//!
//! flate2's readers inflate into a 32 KiB ring of their own and copy every byte out of it;
//! here miniz_oxide's core (the inflater flate2 itself uses) writes into the caller's buffer,
//! whose bytes before the write position are the history that back-references read. The
//! caller keeps the last [`WINDOW`] bytes of output in front of the write position (or all
//! of the output, when there is less). Measured single-threaded beside flate2's
//! `MultiGzDecoder`: 1.12 × its throughput on the pipeline benchmark's ALB object (10 : 1),
//! 2.3 × on a more repetitive log text (22 : 1), where the copy out of the ring weighs more.
//!
//! Header fields (extra, name, comment, header checksum) are read and checked; each member's
//! CRC-32 and length are checked against its trailer; the stream may end only between
//! members.

use std::io;

use logdesk_core::input::GZIP_MAGIC;
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::inflate_flags::{
    TINFL_FLAG_HAS_MORE_INPUT, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
};
use miniz_oxide::inflate::core::{DecompressorOxide, decompress};

/// The farthest a deflate back-reference reaches: the output the caller keeps in front of
/// the write position.
pub const WINDOW: usize = 32 * 1024;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const RESERVED: u8 = 0xe0;

/// A gzip stream being decoded.
pub struct GzStream {
    part: Part,
    inflater: Box<DecompressorOxide>,
    /// CRC-32 and length (mod 2^32) of the current member's output so far.
    crc: crc32fast::Hasher,
    size: u32,
    /// Members begun.
    members: u64,
}

/// Where the decoder is in the stream.
enum Part {
    /// Before a member (or before the first): the stream may end here.
    Between,
    Header(Header),
    Body,
    /// The eight trailer bytes (CRC-32, length), `.1` of them read.
    Trailer([u8; 8], usize),
}

/// A member header being read: which field, and the bytes of the current fixed-size field.
struct Header {
    field: Field,
    bytes: [u8; 10],
    have: usize,
    flags: u8,
    /// The header's bytes so far, for its checksum (FHCRC).
    crc: crc32fast::Hasher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// ID1 ID2 CM FLG MTIME XFL OS.
    Fixed,
    ExtraLen,
    /// Extra bytes still to skip.
    Extra(usize),
    Name,
    Comment,
    HeaderCrc,
}

impl Field {
    /// Bytes of a fixed-size field.
    fn size(self) -> usize {
        match self {
            Field::Fixed => 10,
            Field::ExtraLen | Field::HeaderCrc => 2,
            _ => 0,
        }
    }
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

impl Default for GzStream {
    fn default() -> Self {
        GzStream::new()
    }
}

impl GzStream {
    /// A stream before its first member.
    pub fn new() -> GzStream {
        GzStream {
            part: Part::Between,
            inflater: Box::default(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            members: 0,
        }
    }

    /// Decodes from the front of `input` (which it advances past what it has read) into
    /// `out[pos..]`; `out[..pos]` must hold the output so far, at least its last [`WINDOW`]
    /// bytes. Returns the bytes written. Stops when `out` is full or `input` is used up (an
    /// empty `input` writes nothing).
    pub fn inflate(&mut self, input: &mut &[u8], out: &mut [u8], pos: usize) -> io::Result<usize> {
        let mut written = 0;
        while !input.is_empty() {
            match &mut self.part {
                Part::Between => {
                    self.part = Part::Header(Header {
                        field: Field::Fixed,
                        bytes: [0; 10],
                        have: 0,
                        flags: 0,
                        crc: crc32fast::Hasher::new(),
                    });
                    self.members += 1;
                }
                Part::Header(header) => {
                    if header.read(input)? {
                        self.part = Part::Body;
                        self.inflater.init();
                        self.crc = crc32fast::Hasher::new();
                        self.size = 0;
                    }
                }
                Part::Body => {
                    let at = pos + written;
                    if at >= out.len() {
                        return Ok(written);
                    }
                    written += self.body(input, out, at)?;
                }
                Part::Trailer(..) => self.trailer(input)?,
            }
        }
        Ok(written)
    }

    /// Inflates deflate data of a member's body into `out[at..]` (not full) and checks it
    /// into the member's CRC and size; moves to the trailer at the end of the deflate stream.
    /// Returns the bytes written.
    fn body(&mut self, input: &mut &[u8], out: &mut [u8], at: usize) -> io::Result<usize> {
        let (status, read, wrote) = decompress(
            &mut self.inflater,
            input,
            out,
            at,
            TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF | TINFL_FLAG_HAS_MORE_INPUT,
        );
        let new = out.get(at..at + wrote).unwrap_or_default();
        self.crc.update(new);
        self.size = self.size.wrapping_add(wrote as u32);
        *input = input.get(read..).unwrap_or_default();
        match status {
            TINFLStatus::Done => self.part = Part::Trailer([0; 8], 0),
            // Out of room, or of input: the caller brings more. Neither read nor
            // written with both at hand would loop for ever.
            TINFLStatus::HasMoreOutput | TINFLStatus::NeedsMoreInput => {
                if read == 0 && wrote == 0 {
                    return Err(invalid("gzip decoder stalled"));
                }
            }
            failed => {
                return Err(invalid(format!(
                    "corrupt deflate data in gzip member {} ({failed:?})",
                    self.members
                )));
            }
        }
        Ok(wrote)
    }

    /// Reads the 8-byte member trailer (CRC-32 and length mod 2^32, little-endian) and checks
    /// it against the data inflated; back between members when it matches.
    fn trailer(&mut self, input: &mut &[u8]) -> io::Result<()> {
        let Part::Trailer(bytes, have) = &mut self.part else {
            return Ok(());
        };
        let take = (8 - *have).min(input.len());
        let (head, rest) = input.split_at(take);
        if let Some(to) = bytes.get_mut(*have..*have + take) {
            to.copy_from_slice(head);
        }
        *have += take;
        *input = rest;
        if *have == 8 {
            let [c0, c1, c2, c3, s0, s1, s2, s3] = *bytes;
            let crc = u32::from_le_bytes([c0, c1, c2, c3]);
            let size = u32::from_le_bytes([s0, s1, s2, s3]);
            let actual = std::mem::take(&mut self.crc).finalize();
            if crc != actual {
                return Err(invalid(format!(
                    "gzip member {} fails its CRC-32 check (trailer {crc:08x}, data {actual:08x})",
                    self.members
                )));
            }
            if size != self.size {
                return Err(invalid(format!(
                    "gzip member {} has the wrong length (trailer {size}, data {} mod 2^32)",
                    self.members, self.size
                )));
            }
            self.part = Part::Between;
        }
        Ok(())
    }

    /// At the end of the input: an error unless the stream ended after a whole member.
    pub fn finish(&self) -> io::Result<()> {
        match self.part {
            Part::Between if self.members > 0 => Ok(()),
            Part::Between => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "empty gzip stream",
            )),
            _ => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("gzip stream ends inside member {}", self.members),
            )),
        }
    }
}

/// A [`GzStream`] with an output buffer of its own, for callers that take each step's new
/// bytes as they come: the last [`WINDOW`] bytes stay in front of the new output.
pub struct Decoder {
    stream: GzStream,
    buf: Vec<u8>,
    /// Where the decoder writes next.
    pos: usize,
}

impl Decoder {
    /// A decoder that writes at most `room` new bytes per step.
    pub fn new(room: usize) -> Decoder {
        Decoder {
            stream: GzStream::new(),
            buf: vec![0; WINDOW + room.max(1)],
            pos: 0,
        }
    }

    /// Decodes from the front of `input` (advancing it) what fits; returns the new bytes.
    pub fn step(&mut self, input: &mut &[u8]) -> io::Result<&[u8]> {
        if self.pos >= self.buf.len() {
            let from = self.pos - WINDOW;
            self.buf.copy_within(from..self.pos, 0);
            self.pos = WINDOW;
        }
        let at = self.pos;
        let n = self.stream.inflate(input, &mut self.buf, at)?;
        self.pos += n;
        Ok(self.buf.get(at..at + n).unwrap_or_default())
    }

    /// At the end of the input: see [`GzStream::finish`].
    pub fn finish(&self) -> io::Result<()> {
        self.stream.finish()
    }
}

impl Header {
    /// Reads header bytes from `input`; true once the header is complete.
    fn read(&mut self, input: &mut &[u8]) -> io::Result<bool> {
        loop {
            let field = self.field;
            let next = match field {
                Field::Fixed | Field::ExtraLen | Field::HeaderCrc => {
                    let want = field.size();
                    let take = (want - self.have).min(input.len());
                    let (head, rest) = input.split_at(take);
                    if let Some(to) = self.bytes.get_mut(self.have..self.have + take) {
                        to.copy_from_slice(head);
                    }
                    if field != Field::HeaderCrc {
                        self.crc.update(head);
                    }
                    self.have += take;
                    *input = rest;
                    if self.have < want {
                        return Ok(false);
                    }
                    self.have = 0;
                    self.complete(field)?
                }
                Field::Extra(left) => {
                    let take = left.min(input.len());
                    let (head, rest) = input.split_at(take);
                    self.crc.update(head);
                    *input = rest;
                    if take < left {
                        self.field = Field::Extra(left - take);
                        return Ok(false);
                    }
                    self.after(FEXTRA)
                }
                Field::Name | Field::Comment => {
                    let end = memchr::memchr(0, input);
                    let take = end.map_or(input.len(), |i| i + 1);
                    let (head, rest) = input.split_at(take);
                    self.crc.update(head);
                    *input = rest;
                    if end.is_none() {
                        return Ok(false);
                    }
                    self.after(if field == Field::Name {
                        FNAME
                    } else {
                        FCOMMENT
                    })
                }
            };
            match next {
                Some(f) => self.field = f,
                None => return Ok(true),
            }
        }
    }

    /// A fixed-size field has been read: checks it; the next field, `None` at the end.
    fn complete(&mut self, field: Field) -> io::Result<Option<Field>> {
        let [b0, b1, b2, b3, ..] = self.bytes;
        match field {
            Field::Fixed => {
                if [b0, b1] != GZIP_MAGIC {
                    return Err(invalid(format!(
                        "not a gzip member: starts with {b0:02x} {b1:02x}, not 1f 8b"
                    )));
                }
                if b2 != 8 {
                    return Err(invalid(format!(
                        "gzip compression method {b2} (only 8, deflate, exists)"
                    )));
                }
                if b3 & RESERVED != 0 {
                    return Err(invalid(format!(
                        "gzip header flags {b3:02x} set reserved bits"
                    )));
                }
                self.flags = b3;
                Ok(self.after(0))
            }
            Field::ExtraLen => {
                let len = usize::from(u16::from_le_bytes([b0, b1]));
                Ok(Some(Field::Extra(len)))
            }
            Field::HeaderCrc => {
                let want = u16::from_le_bytes([b0, b1]);
                let actual = std::mem::take(&mut self.crc).finalize() as u16;
                if want != actual {
                    return Err(invalid(format!(
                        "gzip header checksum {want:04x} does not match the header ({actual:04x})"
                    )));
                }
                Ok(None)
            }
            _ => Ok(self.after(0)),
        }
    }

    /// The field after the one that `done` flags (0: after the fixed part).
    fn after(&self, done: u8) -> Option<Field> {
        let order = [
            (FEXTRA, Field::ExtraLen),
            (FNAME, Field::Name),
            (FCOMMENT, Field::Comment),
            (FHCRC, Field::HeaderCrc),
        ];
        let from = order
            .iter()
            .position(|&(flag, _)| flag == done)
            .map_or(0, |i| i + 1);
        order
            .iter()
            .skip(from)
            .find(|&&(flag, _)| self.flags & flag != 0)
            .map(|&(_, field)| field)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use proptest::prelude::*;

    use super::*;

    fn gz(data: &[u8], level: u32) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// Decodes `data` fed `step` bytes at a time, at most `room` new bytes per step.
    fn gunzip(data: &[u8], step: usize, room: usize) -> io::Result<Vec<u8>> {
        let mut decoder = Decoder::new(room);
        let mut all = Vec::new();
        for mut piece in data.chunks(step.max(1)) {
            while !piece.is_empty() {
                all.extend_from_slice(decoder.step(&mut piece)?);
            }
        }
        decoder.finish()?;
        Ok(all)
    }

    fn flate2(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(data).read_to_end(&mut out)?;
        Ok(out)
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| format!("line {i} {}\n", "abc".repeat(i % 17)).into_bytes())
            .collect()
    }

    #[test]
    fn one_member_any_feeding() {
        let plain = text(20_000);
        let data = gz(&plain, 6);
        for (step, room) in [(1, 1), (7, 300), (4096, 128 * 1024), (data.len(), 1 << 20)] {
            assert_eq!(gunzip(&data, step, room).unwrap(), plain, "{step} {room}");
        }
    }

    #[test]
    fn members_one_after_another() {
        let (a, b) = (text(3_000), text(50));
        let mut data = gz(&a, 1);
        data.extend(gz(b"", 6));
        data.extend(gz(&b, 9));
        let want = [a, b].concat();
        assert_eq!(flate2(&data).unwrap(), want);
        for step in [1, 3, 1000, data.len()] {
            assert_eq!(gunzip(&data, step, 4000).unwrap(), want);
        }
    }

    #[test]
    fn header_fields_are_read_and_checked() {
        let plain = text(500);
        let mut with_fields = flate2::GzBuilder::new()
            .filename("access.log")
            .comment("a comment")
            .extra(vec![1, 2, 3, 4, 5])
            .write(Vec::new(), flate2::Compression::default());
        with_fields.write_all(&plain).unwrap();
        let data = with_fields.finish().unwrap();
        for step in [1, 2, 5, data.len()] {
            assert_eq!(gunzip(&data, step, 1000).unwrap(), plain);
        }
        // A header checksum (FHCRC): right, then wrong.
        let mut hcrc = gz(&plain, 6);
        hcrc[3] |= FHCRC;
        let check = crc32fast::hash(&hcrc[..10]) as u16;
        hcrc.splice(10..10, check.to_le_bytes());
        assert_eq!(gunzip(&hcrc, 3, 1000).unwrap(), plain);
        hcrc[10] ^= 1;
        let err = gunzip(&hcrc, 3, 1000).unwrap_err();
        assert!(err.to_string().contains("header checksum"), "{err}");
    }

    #[test]
    fn damage_is_an_error_never_wrong_output() {
        let plain = text(5_000);
        let data = gz(&plain, 6);
        // A byte of the trailer's CRC-32, then of its length.
        for (from_end, what) in [(8, "CRC-32"), (1, "length")] {
            let mut bad = data.clone();
            let at = bad.len() - from_end;
            bad[at] ^= 0xff;
            let err = gunzip(&bad, 4096, 8192).unwrap_err();
            assert!(err.to_string().contains(what), "{err}");
        }
        for cut in [0, 1, 5, 10, data.len() / 2, data.len() - 3] {
            let err = gunzip(&data[..cut], 100, 8192).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{cut}: {err}");
        }
        let mut method = data.clone();
        method[2] = 7;
        assert!(gunzip(&method, 100, 8192).is_err());
        let mut reserved = data.clone();
        reserved[3] = 0x20;
        assert!(gunzip(&reserved, 100, 8192).is_err());
        let mut trailing = data.clone();
        trailing.extend_from_slice(b"garbage after the last member");
        assert!(
            gunzip(&trailing, 100, 8192)
                .unwrap_err()
                .to_string()
                .contains("not a gzip member")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever the data, the members, the pieces and the room: flate2's output, or an
        /// error wherever flate2 has one.
        #[test]
        fn same_as_flate2(
            parts in prop::collection::vec((prop::collection::vec(any::<u8>(), 0..3000), 0u32..10, 1usize..60), 1..4),
            step in 1usize..5000,
            room in 1usize..70_000,
            damage in prop::option::of((any::<prop::sample::Index>(), 1u8..=255)),
        ) {
            let mut data = Vec::new();
            for (bytes, level, repeat) in &parts {
                data.extend(gz(&bytes.repeat(*repeat), *level));
            }
            if let Some((at, xor)) = damage {
                let i = at.index(data.len());
                data[i] ^= xor;
            }
            match (flate2(&data), gunzip(&data, step, room)) {
                (Ok(want), Ok(got)) => prop_assert_eq!(want, got),
                (Err(_), Err(_)) => {}
                // Only damage may make this one stricter than flate2 (it checks more of the
                // header); it must never accept what flate2 rejects.
                (Ok(_), Err(e)) => prop_assert!(damage.is_some(), "{}", e),
                (Err(e), Ok(_)) => prop_assert!(false, "flate2 fails ({}) but we do not", e),
            }
        }
    }
}
