//! Local pipeline throughput (gzip S3 body from memory → gunzip → lines → records → encoded
//! batches, no network) side by side with plain gunzip of the same object, plus the
//! encoded/raw byte ratio and the call count on realistic ALB data.
//!
//! `cargo bench -p logdesk-ingest --bench pipeline` (LINES=… to change the object size).

use std::io::{Read, Write};
use std::time::Instant;

use flate2::read::MultiGzDecoder;
use logdesk_core::source::SourceKind;
use logdesk_ingest::batch::MAX_BATCH_BYTES;
use logdesk_ingest::pipeline::run_in_memory;
use logdesk_ingest::route::ObjectKind;

fn main() {
    let lines: usize = std::env::var("LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut text = String::new();
    logdesk_ingest::sample::alb_lines(&mut text, lines, 1_795_310_100_000, 42);
    let raw = text.len();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).expect("gzip");
    let gz = enc.finish().expect("gzip");
    drop(text);
    println!(
        "object: {lines} ALB lines, {:.1} MB plain, {:.1} MB gzip",
        raw as f64 / 1e6,
        gz.len() as f64 / 1e6
    );

    let mut best_gunzip = f64::MAX;
    let mut best_pipeline = f64::MAX;
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        let mut dec = MultiGzDecoder::new(&gz[..]);
        let mut buf = vec![0u8; 256 * 1024];
        let mut n = 0usize;
        loop {
            match dec.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) => panic!("gunzip: {e}"),
            }
        }
        assert_eq!(n, raw);
        best_gunzip = best_gunzip.min(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let (batches, stats) =
            run_in_memory(ObjectKind::Source(SourceKind::Alb), &gz, 0).expect("pipeline");
        best_pipeline = best_pipeline.min(t.elapsed().as_secs_f64());
        last = Some((batches.len(), stats));
    }
    let Some((calls, stats)) = last else { return };
    let mb = raw as f64 / 1e6;
    println!(
        "plain gunzip: {:.3} s = {:.1} MB/s",
        best_gunzip,
        mb / best_gunzip
    );
    println!(
        "pipeline:     {:.3} s = {:.1} MB/s  ({:.2}x gunzip throughput)",
        best_pipeline,
        mb / best_pipeline,
        best_gunzip / best_pipeline
    );
    let ideal = (stats.encoded_bytes as usize).div_ceil(MAX_BATCH_BYTES);
    println!(
        "records {} bad {}; encoded {:.1} MB incl. 26 B/event = {:.3} x raw; PutLogEvents calls {} (ideal {}, {:.3} x)",
        stats.records,
        stats.bad,
        stats.encoded_bytes as f64 / 1e6,
        stats.encoded_bytes as f64 / raw as f64,
        calls,
        ideal,
        calls as f64 / ideal as f64
    );
}
