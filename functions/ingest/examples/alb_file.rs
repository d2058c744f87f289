//! Writes a synthetic ALB access-log file (every documented field, a realistic mix) for the
//! CLI benchmark in docs/benchmarks.md: `cargo run --release --features test-support
//! --example alb_file -- <path> [megabytes]` (default 500 MB, plain text; gzip it yourself).

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "alb-bench.log".into());
    let megabytes: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(500);
    let mut out = BufWriter::new(std::fs::File::create(&path)?);
    let (mut written, mut seed) = (0usize, 0u64);
    let mut text = String::new();
    while written < megabytes * 1_000_000 {
        text.clear();
        // One ELB node's five-minute object of 10,000 lines, then the next.
        let start_ms = 1_795_310_100_000 + seed as i64 * 300_000;
        logdesk_ingest::sample::alb_lines(&mut text, 10_000, start_ms, seed);
        out.write_all(text.as_bytes())?;
        written += text.len();
        seed += 1;
    }
    out.flush()?;
    eprintln!("{path}: {written} bytes");
    Ok(())
}
