//! Streams a generated gzip ALB object of SIZE_MB plain megabytes (default 1024) through the
//! pipeline, feeding it in S3-sized chunks as the handler does and dropping each batch once
//! "sent", then reports the peak RSS (VmHWM from /proc/self/status).
//!
//! `cargo run --release -p logdesk-ingest --example peak_rss` (SIZE_MB=50 for a quick run).
//! The object is generated and compressed on the fly in a background thread (never held
//! whole), so the figure is the pipeline's own footprint.

use std::io::Write;
use std::sync::mpsc;
use std::time::Instant;

use logdesk_core::source::{ParseOptions, SourceKind};
use logdesk_ingest::pipeline::ObjectPipeline;
use logdesk_ingest::route::ObjectKind;

#[global_allocator]
static ALLOC: logdesk_ingest::Allocator = logdesk_ingest::Allocator;

struct ChunkSender(mpsc::SyncSender<Vec<u8>>);

impl Write for ChunkSender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let size_mb: u64 = std::env::var("SIZE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let target = size_mb * 1024 * 1024;
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4);
    let producer = std::thread::spawn(move || {
        let mut gz = flate2::write::GzEncoder::new(ChunkSender(tx), flate2::Compression::fast());
        let mut written = 0u64;
        let mut seed = 0;
        let start = 1_795_310_100_000i64;
        while written < target {
            let mut text = String::with_capacity(8 << 20);
            logdesk_ingest::sample::alb_lines(
                &mut text,
                10_000,
                start + seed as i64 * 300_000,
                seed,
            );
            written += text.len() as u64;
            seed += 1;
            if gz.write_all(text.as_bytes()).is_err() {
                return written;
            }
        }
        let _ = gz.finish();
        written
    });
    let started = Instant::now();
    let mut p = ObjectPipeline::new(
        ObjectKind::Source(SourceKind::Alb),
        ParseOptions::default(),
        0,
    );
    let mut batches = 0u64;
    for chunk in rx {
        for step in chunk.chunks(logdesk_ingest::pipeline::STEP_BYTES) {
            p.push(step).expect("decode");
            while let Some(b) = p.pop_ready() {
                batches += 1;
                drop(b);
            }
        }
    }
    p.finish().expect("finish");
    while let Some(b) = p.pop_remaining() {
        batches += 1;
        drop(b);
    }
    let plain = producer.join().unwrap_or(0);
    let stats = p.stats();
    println!(
        "plain {:.0} MB, gzip {:.0} MB, records {}, batches {batches}, {:.1} s, peak RSS (VmHWM) {:.1} MB",
        plain as f64 / 1048576.0,
        stats.bytes as f64 / 1048576.0,
        stats.records,
        started.elapsed().as_secs_f64(),
        vm_hwm_kb() as f64 / 1024.0
    );
}
