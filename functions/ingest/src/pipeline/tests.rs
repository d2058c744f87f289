//! The pipeline's tests: every way of cutting and decoding an object gives the events of the
//! plain object read line by line.

use super::*;
use crate::batch::within_limits;
use crate::encode;
use flate2::{Compression, write::GzEncoder};
use handover::ParseOnGunzipThread;
use logdesk_core::Record;
use std::io::Write;

const ALB: &str = include_str!("../../../../events/samples/alb-access.log");

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
    run_chunked(data, step, Some(ParseOnGunzipThread::Always), PLAIN_CHUNK)
}

/// Runs `data` pushed `step` bytes at a time, handing over `chunk` bytes at a time
/// (`help: None`: gunzip in line, no thread).
fn run_chunked(
    data: &[u8],
    step: usize,
    help: Option<ParseOnGunzipThread>,
    chunk: usize,
) -> (Vec<Event>, Stats) {
    let mut p = ObjectPipeline::new(alb(), ParseOptions::default(), 9);
    p.help = help.unwrap_or(ParseOnGunzipThread::Never);
    p.test = TestSwitches {
        threads: help.is_some(),
        chunk,
    };
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
        let help = [Some(ParseOnGunzipThread::Never), Some(ParseOnGunzipThread::WhenIdle), Some(ParseOnGunzipThread::Always), None]
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
        p.test.threads = false;
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
    let data = include_bytes!("../../../../events/samples/ses-firehose.json");
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
    let ses = include_str!("../../../../events/samples/ses-firehose.json");
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
