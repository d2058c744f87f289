//! Local pipeline throughput (gzip S3 body from memory → gunzip → lines → records → encoded
//! batches, no network) side by side with plain gunzip of the same object, plus the
//! encoded/raw byte ratio and the call count on realistic ALB data.
//!
//! `cargo bench -p logdesk-ingest --bench pipeline` (LINES=… to change the object size,
//! REPEATS=… the rounds; `LOGDESK_BENCH_PIPELINE_ONLY=1` runs the gzip pipeline alone, for a
//! profiler). The pipeline gunzips on a thread of its own (as on Lambda, which gives a
//! function two vCPUs' worth of CPU time from 3,538 MB); plain gunzip is one thread. The
//! target (0.7x) is against flate2's gunzip in the same process; the pipeline's own gunzip
//! alone ([`logdesk_ingest::inflate`]) and the `gunzip` program (GNU gzip) on the same object
//! are printed too, for scale.

use std::io::{Read, Write};
use std::time::Instant;

use flate2::read::MultiGzDecoder;
use logdesk_core::source::SourceKind;
use logdesk_ingest::batch::{EVENT_OVERHEAD, MAX_BATCH_BYTES};
use logdesk_ingest::inflate::Decoder;
use logdesk_ingest::pipeline::{PLAIN_CHUNK, STEP_BYTES, run_with};
use logdesk_ingest::route::ObjectKind;

#[global_allocator]
static ALLOC: logdesk_ingest::Allocator = logdesk_ingest::Allocator;

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
    println!(
        "object: {lines} ALB lines, {:.1} MB plain, {:.1} MB gzip",
        raw as f64 / 1e6,
        gz.len() as f64 / 1e6
    );

    // Best of `REPEATS` (5), wall time and CPU time of the process (all threads), each kind
    // of run once per round, side by side. On a VM the two-thread times swing more than the
    // one-thread ones (the cost of moving data between the two cores varies with where the
    // host runs them), so every round's own ratio is printed too.
    let repeats: usize = std::env::var("REPEATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let mut rounds = Vec::new();
    let mut gunzip = Best::default();
    let mut pipeline = Best::default();
    let mut plain = Best::default();
    let mut lines_only = Best::default();
    let mut direct = Best::default();
    let mut last = None;
    if std::env::var_os("LOGDESK_BENCH_PIPELINE_ONLY").is_some() {
        // The gzip pipeline alone, for a profiler.
        for _ in 0..3 {
            let stats =
                run_with(ObjectKind::Source(SourceKind::Alb), &gz, 0, drop).expect("pipeline");
            assert_eq!(stats.records as usize, lines);
        }
        return;
    }
    for _ in 0..repeats {
        let gunzip_wall = gunzip.time(|| {
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
        });
        direct.time(|| {
            // The pipeline's own gunzip alone (logdesk_ingest::inflate), as its thread feeds it.
            let mut decoder = Decoder::new(PLAIN_CHUNK);
            let mut n = 0usize;
            for mut piece in gz.chunks(STEP_BYTES) {
                while !piece.is_empty() {
                    n += decoder.step(&mut piece).expect("gunzip").len();
                }
            }
            decoder.finish().expect("gunzip");
            assert_eq!(n, raw);
        });
        // Each batch is let go once counted, as the handler lets it go once sent.
        let pipeline_wall = pipeline.time(|| {
            let mut calls = 0;
            let stats = run_with(ObjectKind::Source(SourceKind::Alb), &gz, 0, |batch| {
                calls += 1;
                drop(std::hint::black_box(batch));
            })
            .expect("pipeline");
            last = Some((calls, stats));
        });
        rounds.push(gunzip_wall / pipeline_wall);
        lines_only.time(|| {
            // What the parse thread does per line at least: the line to record JSON.
            let mut out = String::with_capacity(4096);
            let mut bytes = 0;
            for line in text.lines() {
                out.clear();
                let _ = logdesk_core::alb::line_to_json(line, &mut out);
                bytes += out.len();
            }
            assert!(bytes > raw);
        });
        plain.time(|| {
            let mut calls = 0;
            run_with(
                ObjectKind::Source(SourceKind::Alb),
                text.as_bytes(),
                0,
                |batch| {
                    calls += 1;
                    drop(std::hint::black_box(batch));
                },
            )
            .expect("pipeline");
            assert!(calls > 0);
        });
    }
    let Some((calls, stats)) = last else { return };
    rounds.sort_by(f64::total_cmp);
    let mb = raw as f64 / 1e6;
    let program = gunzip_program(&gz);
    println!(
        "plain gunzip (1 thread):           {:.3} s = {:6.1} MB/s; CPU {:.2} s",
        gunzip.wall,
        mb / gunzip.wall,
        gunzip.cpu
    );
    println!(
        "pipeline, gzip object (2 threads): {:.3} s = {:6.1} MB/s ({:.2}x gunzip throughput); CPU {:.2} s",
        pipeline.wall,
        mb / pipeline.wall,
        gunzip.wall / pipeline.wall,
        pipeline.cpu
    );
    println!(
        "  each round's pipeline vs gunzip, sorted: {} (median {:.2}x)",
        rounds
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(" "),
        rounds.get(rounds.len() / 2).copied().unwrap_or(0.0)
    );
    println!(
        "the pipeline's own gunzip alone (straight into its buffers, 1 thread): {:.3} s = {:6.1} MB/s ({:.2}x flate2); pipeline = {:.2}x its throughput",
        direct.wall,
        mb / direct.wall,
        gunzip.wall / direct.wall,
        direct.wall / pipeline.wall
    );
    println!(
        "pipeline, plain object (1 thread): {:.3} s = {:6.1} MB/s ({:.2}x gunzip throughput); CPU {:.2} s",
        plain.wall,
        mb / plain.wall,
        gunzip.wall / plain.wall,
        plain.cpu
    );
    println!(
        "alb::line_to_json alone over the lines:  {:.3} s = {:6.1} MB/s (the rest of the plain-object time is events, batches, line splitting and UTF-8 checks)",
        lines_only.wall,
        mb / lines_only.wall
    );
    match program {
        Some(wall) => println!(
            "the gunzip program (GNU gzip, -c to /dev/null, same object): {wall:.3} s = {:6.1} MB/s; \
             pipeline, gzip object = {:.2}x its throughput",
            mb / wall,
            wall / pipeline.wall
        ),
        None => println!("the gunzip program: not found, not compared"),
    }
    let ideal = (stats.encoded_bytes as usize).div_ceil(MAX_BATCH_BYTES);
    let messages = stats.encoded_bytes - stats.records * EVENT_OVERHEAD as u64;
    println!(
        "records {} bad {}; encoded {:.1} MB incl. 26 B/event = {:.3} x raw, messages alone {:.3} x raw; PutLogEvents calls {} (ideal {}, {:.3} x)",
        stats.records,
        stats.bad,
        stats.encoded_bytes as f64 / 1e6,
        stats.encoded_bytes as f64 / raw as f64,
        messages as f64 / raw as f64,
        calls,
        ideal,
        calls as f64 / ideal as f64
    );
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        println!("load average (1, 5, 15 min): {}", load.trim());
    }
}

/// The best of three wall times of the `gunzip` program (GNU gzip) decoding `gz` to
/// /dev/null, from a file in the temporary directory; `None` where it cannot run.
fn gunzip_program(gz: &[u8]) -> Option<f64> {
    let path = std::env::temp_dir().join(format!("logdesk-bench-{}.gz", std::process::id()));
    std::fs::write(&path, gz).ok()?;
    let mut best = None::<f64>;
    for _ in 0..3 {
        let t = Instant::now();
        let status = std::process::Command::new("gunzip")
            .arg("-c")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .status();
        if !status.is_ok_and(|s| s.success()) {
            best = None;
            break;
        }
        let wall = t.elapsed().as_secs_f64();
        best = Some(best.map_or(wall, |b| b.min(wall)));
    }
    let _ = std::fs::remove_file(&path);
    best
}

/// The best wall and CPU times seen.
struct Best {
    wall: f64,
    cpu: f64,
}

impl Default for Best {
    fn default() -> Self {
        Best {
            wall: f64::MAX,
            cpu: f64::MAX,
        }
    }
}

impl Best {
    /// Times `run`, keeping the best; returns this run's wall time.
    fn time(&mut self, run: impl FnOnce()) -> f64 {
        let (t, cpu) = (Instant::now(), cpu_seconds());
        run();
        let wall = t.elapsed().as_secs_f64();
        self.wall = self.wall.min(wall);
        self.cpu = self.cpu.min(cpu_seconds() - cpu);
        wall
    }
}

/// User + system CPU time of this process so far (`/proc/self/stat`, clock ticks of 10 ms).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line; the list starts at field 3.
    (ticks(11) + ticks(12)) / 100.0
}
